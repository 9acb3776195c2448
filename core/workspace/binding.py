"""A model bound to a dataset: the one object every page, the CLI and the report start from.

Binding decides, once and visibly, which rows evaluate the model and which (if any) may be used
to fine-tune a pruned model, what the output means, and the original model's scores. Every
later computation is keyed by ``Workspace.key`` (model hash + data fingerprint + choices).
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.dataset import Dataset, prepare_dataset, stratified_split
from core.errors import DataError
from core.model.loading import LoadedModel
from core.model.outputs import OutputSpec, predict_pbad, resolve_output
from core.model.twins import bind_rows

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
    def can_fine_tune(self) -> bool:
        return len(self.train_idx) > 0

    @property
    def key(self) -> str:
        h = hashlib.sha256()
        for part in (self.model.content_hash, self.data.fingerprint, self.output.kind, self.eval_mode, str(self.split_seed)):
            h.update(part.encode())
        return h.hexdigest()[:32]


def is_training_data(model: LoadedModel, data_sha256: str | None) -> bool:
    """True when the uploaded file is the exact file the model's schema says it was trained on."""
    if model.schema is None or data_sha256 is None:
        return False
    return model.schema.extra.get("training", {}).get("data_sha256") == data_sha256


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
) -> Workspace:
    """Validate model × data and fix the evaluation rows.

    ``eval_mode`` "all" evaluates on every row (nothing left to fine-tune on); "holdout" splits
    60/20/20 stratified and seeded, evaluates on the test part and fine-tunes on the train part.
    On the model's own training file the holdout split is the training split (the schema records
    its seed), so the test AUC matches the one reported at training time.
    """
    schema = model.schema
    data = prepare_dataset(
        frame, target, bad_value,
        schema=schema, feature_columns=None if schema is not None else feature_columns,
        n_inputs=model.n_inputs,
    )
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
    # The input width is what the model runs on: probed on these rows (time-limited, in a child
    # process), never read off a layer; the eager twin is verified on the same real rows.
    model = bind_rows(model, data.X)
    output = resolve_output(model, data.X, output_override)
    scores = predict_pbad(model.module, data.X[eval_idx], output.kind)
    return Workspace(model, data, output, eval_idx, train_idx, eval_mode, split_seed, note, scores)

