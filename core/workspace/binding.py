"""A model bound to a dataset: the one object every page, the CLI and the report start from.

Binding decides, once and visibly, which rows evaluate the model and which (if any) may be used
to fine-tune a pruned model, what the output means, and the original model's scores. Every
later computation is keyed by ``Workspace.key`` (model hash + data fingerprint + choices).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd

from core.data.cleaning import PASS_THROUGH, MissingReport, MissingValues, probe_pass_through
from core.data.dataset import Dataset, prepare_dataset, stratified_split
from core.errors import DataError
from core.model.loading import LoadedModel
from core.model.outputs import OutputSpec, predict_pbad, raw_outputs, resolve_output

EVAL_ALL = "all"
EVAL_HOLDOUT = "holdout"
DEFAULT_SPLIT_SEED = 42


@dataclass(frozen=True)
class Workspace:
    model: LoadedModel
    data: Dataset
    output: OutputSpec
    eval_idx: np.ndarray
    train_idx: np.ndarray
    eval_mode: str
    split_seed: int
    split_note: str
    original_scores: np.ndarray  # P(bad) of the original model on the evaluation rows
    view: str = ""  # "" for the rows as bound; else what narrowed them (part of the key)
    sampled_from: int = 0  # evaluation rows an interactive sample was drawn from (0: not a sample)

    @property
    def is_sample(self) -> bool:
        return self.sampled_from > 0

    @property
    def rows_label(self) -> str:
        """Which rows the figures computed on this workspace rest on, in words a validator can check."""
        n = len(self.eval_idx)
        if self.is_sample:
            return f"a stratified sample of {n:,} of the {self.sampled_from:,} evaluation rows"
        if self.eval_mode == EVAL_ALL and not self.view:
            return f"all {n:,} rows"
        return f"{n:,} evaluation rows"

    @property
    def X_eval(self) -> np.ndarray:
        return self.data.X[self.eval_idx]

    @property
    def y_eval(self) -> np.ndarray:
        return self.data.y[self.eval_idx]

    @property
    def X_train(self) -> np.ndarray:
        return self.data.X[self.train_idx]

    @property
    def y_train(self) -> np.ndarray:
        return self.data.y[self.train_idx]

    @property
    def missing_values(self) -> MissingReport:
        """What was missing in the data and what was done about it (for the manifest and the report)."""
        return self.data.missing

    @property
    def eval_row_ids(self) -> np.ndarray:
        """File row numbers (0-based) of the evaluation rows: the ids a flips table shows after rows were dropped."""
        return self.data.row_ids[self.eval_idx]

    @property
    def can_fine_tune(self) -> bool:
        return len(self.train_idx) > 0

    @property
    def key(self) -> str:
        h = hashlib.sha256()
        for part in (self.model.content_hash, self.data.fingerprint, self.output.kind, self.eval_mode, str(self.split_seed), self.view):
            h.update(part.encode())
        return h.hexdigest()[:32]

    def restricted(self, eval_idx: np.ndarray, train_idx: np.ndarray | None = None, *, view: str, note: str) -> Workspace:
        """The same model and data judged on a subset of the evaluation rows (dataset row indices).

        Used when rows are set aside after binding (a calibration split for score alignment) or
        sampled for interactive views; the original's scores are taken from the bound ones, so
        both models are always compared on exactly the same rows.
        """
        eval_idx = np.asarray(eval_idx, dtype=np.int64)
        pos = np.searchsorted(self.eval_idx, eval_idx)
        if len(eval_idx) and (pos.max() >= len(self.eval_idx) or not np.array_equal(self.eval_idx[pos], eval_idx)):
            raise DataError("The rows to keep are not evaluation rows of this workspace.", "Pass a subset of its eval_idx.")
        return replace(self, eval_idx=eval_idx, original_scores=self.original_scores[pos],
                       train_idx=self.train_idx if train_idx is None else np.asarray(train_idx, dtype=np.int64),
                       view=f"{self.view}|{view}" if self.view else view, split_note=f"{self.split_note} {note}".strip())


def is_training_data(model: LoadedModel, data_sha256: str | None) -> bool:
    """True when the uploaded file is the exact file the model's schema says it was trained on."""
    if model.schema is None or data_sha256 is None:
        return False
    return model.schema.extra.get("training", {}).get("data_sha256") == data_sha256


def _probe(model: LoadedModel, data: Dataset) -> MissingReport:
    """Pass-through is probed on the module RiskPrune computes with; if only the uploaded TorchScript
    handles NaN (its rebuilt eager twin was verified on finite inputs only), say exactly that."""
    try:
        return probe_pass_through(lambda X: raw_outputs(model.module, X), data.X, data.missing)
    except DataError:
        if model.module is model.scripted:
            raise
        probe_pass_through(lambda X: raw_outputs(model.scripted, X), data.X, data.missing)  # raises if it fails too
        raise DataError(
            "The uploaded model handles missing values itself, but the rebuilt copy RiskPrune prunes and scores with "
            "does not (it returns NaN on rows with missing inputs).",
            "Choose drop or impute for this model.",
        ) from None


def bind(
    model: LoadedModel,
    frame: pd.DataFrame,
    target: str,
    bad_value: str,
    feature_columns: list[str] | None = None,
    output_override: str | None = None,
    eval_mode: str | None = None,
    data_sha256: str | None = None,
    split_seed: int | None = None,
    missing: MissingValues | str | None = None,
    one_vs_rest: bool = False,
) -> Workspace:
    """Validate model × data and fix the evaluation rows.

    ``eval_mode`` "all" evaluates on every row (nothing left to fine-tune on); "holdout" splits
    60/20/20 stratified and seeded, evaluates on the test part and fine-tunes on the train part.
    On the model's own training file the holdout split is the training split (the schema records
    its seed), so the test AUC matches the one reported at training time.

    ``missing`` is the user's handling of missing or infinite inputs ("drop", "impute",
    "pass_through"; see ``core.data.cleaning``), recorded on ``Workspace.missing_values``;
    pass-through is accepted only if the model returns finite scores on rows with NaN.
    ``one_vs_rest`` reads a target with more than two outcomes as ``bad_value`` vs the rest.
    """
    schema = model.schema
    data = prepare_dataset(
        frame, target, bad_value,
        schema=schema, feature_columns=None if schema is not None else feature_columns,
        n_inputs=model.n_inputs, missing=missing, one_vs_rest=one_vs_rest,
    )
    if data.missing.strategy == PASS_THROUGH:
        data = data.with_missing(_probe(model, data))
    own_training_file = is_training_data(model, data_sha256)
    if eval_mode is None:
        eval_mode = EVAL_HOLDOUT if own_training_file else EVAL_ALL
    if eval_mode not in (EVAL_ALL, EVAL_HOLDOUT):
        raise DataError(f"Unknown evaluation mode '{eval_mode}'.", "Use 'all' or 'holdout'.")
    if split_seed is None:
        split_seed = int(schema.split_seed) if (schema is not None and schema.split_seed is not None) else DEFAULT_SPLIT_SEED
    if eval_mode == EVAL_HOLDOUT:
        split = stratified_split(data.y, split_seed)
        eval_idx, train_idx = split["test"], split["train"]
        if min(data.y[eval_idx].sum(), (1 - data.y[eval_idx]).sum()) == 0:
            raise DataError(
                "The held-out rows contain only one outcome, so the model cannot be evaluated on them.",
                "Evaluate on all rows, or upload more applicants of the rarer outcome.",
            )
        note = (
            f"Evaluated on the held-out test split ({len(eval_idx)} rows, stratified, seed {split_seed})"
            + ("; this is the model's own training split." if own_training_file else ".")
            + f" Fine-tuning uses the {len(train_idx)} training rows."
        )
    else:
        eval_idx, train_idx = np.arange(data.n_rows), np.arange(0)
        note = f"Evaluated on all {data.n_rows} rows; choose a held-out split to enable fine-tuning."
    output = resolve_output(model, data.X, output_override)
    scores = predict_pbad(model.module, data.X[eval_idx], output.kind)
    if data.missing.strategy == PASS_THROUGH and not np.isfinite(scores).all():
        n_bad = int((~np.isfinite(scores)).sum())
        raise DataError(
            f"With missing values passed through, the model returns no finite score for {n_bad:,} evaluation row(s).",
            "Choose drop or impute instead of pass-through.",
        )
    return Workspace(model, data, output, eval_idx, train_idx, eval_mode, split_seed, note, scores)

