"""A model bound to a dataset: the one object every page, the CLI and the report start from.

Binding decides, once and visibly, which rows evaluate the model and which (if any) may be used
to fine-tune a pruned model, what the output means, and the original model's scores. Every
later computation is keyed by ``Workspace.key`` (model hash + data fingerprint + choices).

Evaluation rows are an explicit, recorded choice (``EvaluationRows``): a split column in the file
(``sample`` = train/test), a separate evaluation file, a seeded hold-out, or all rows. Metrics on
rows the model was trained on are optimistic (Hastie, Tibshirani & Friedman, *The Elements of
Statistical Learning*, 2nd ed., 2009, §7.2: training error underestimates test error), so
evaluating on all rows of a file that may hold training rows carries a visible warning
(``Workspace.evaluation_warning``) on every page and in the report.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
import pandas as pd

from core.data.cleaning import PASS_THROUGH, MissingReport, MissingValues, probe_pass_through
from core.data.columns import clean_name, resolve_column, resolve_columns
from core.data.dataset import Dataset, prepare_dataset, stratified_sample, stratified_split
from core.data.guess import guess_eval_value
from core.data.target import resolve_bad_value, target_labels
from core.errors import DataError
from core.model.loading import LoadedModel
from core.model.outputs import OutputSpec, predict_pbad, raw_outputs, resolve_output
from core.model.twins import bind_rows

EVAL_ALL = "all"
EVAL_HOLDOUT = "holdout"
EVAL_SPLIT_COLUMN = "split_column"
EVAL_SEPARATE_FILE = "separate_file"
EVAL_MODES = (EVAL_SPLIT_COLUMN, EVAL_SEPARATE_FILE, EVAL_HOLDOUT, EVAL_ALL)
EVAL_MODE_LABELS = {
    EVAL_SPLIT_COLUMN: "A split column in the file (e.g. sample = train / test)",
    EVAL_SEPARATE_FILE: "A separate evaluation file",
    EVAL_HOLDOUT: "A seeded hold-out of this file (20 %, stratified)",
    EVAL_ALL: "All rows",
}
DEFAULT_SPLIT_SEED = 42
# An uploaded file gets a seeded hold-out by default only when its 20 % test part can measure
# something: with fewer rows or bad outcomes the hold-out is too noisy, so all rows are used (with the warning).
AUTO_HOLDOUT_ROWS = 500
AUTO_HOLDOUT_PER_CLASS = 50


class EvaluationRowsError(DataError):
    """The chosen evaluation rows cannot be used (the data page shows it at the evaluation-rows choice)."""


@dataclass(frozen=True)
class EvaluationRows:
    """Which rows evaluate the model; the rest (if any) are training rows for fine-tuning.

    ``mode``: ``split_column`` (rows whose ``column`` equals ``value`` evaluate), ``separate_file``
    (every row of another file evaluates, the main file trains; ``file_sha256`` names it),
    ``holdout`` (a stratified 60/20/20 split with ``seed``; the 20 % test part evaluates, the 60 %
    trains) or ``all``.
    """

    mode: str = EVAL_HOLDOUT
    column: str | None = None
    value: str | None = None
    seed: int | None = None
    file_sha256: str | None = None
    file_name: str | None = None

    def __post_init__(self) -> None:
        if self.mode not in EVAL_MODES:
            raise EvaluationRowsError(f"Unknown evaluation mode '{self.mode}'.",
                                      "Use split-column, separate-file, holdout or all.")
        if self.mode == EVAL_SPLIT_COLUMN and not self.column:
            raise EvaluationRowsError("Evaluation rows from a split column need the column's name.",
                                      "Pick the column that marks training and evaluation rows (e.g. sample).")

    @staticmethod
    def mode_name(value: str) -> str:
        """A mode as typed (``split-column``, ``Separate file``) in its stored form (``split_column``)."""
        return str(value).strip().lower().replace("-", "_").replace(" ", "_")

    @classmethod
    def of(cls, value: EvaluationRows | str | None) -> EvaluationRows | None:
        """Accept rows, a mode name (``split-column`` as typed on a command line too) or None (the default)."""
        if value is None or isinstance(value, EvaluationRows):
            return value
        return cls(cls.mode_name(value))

    @property
    def label(self) -> str:
        return EVAL_MODE_LABELS[self.mode]

    @property
    def key(self) -> str:
        return "|".join(str(x) for x in (self.mode, self.column, self.value, self.seed, self.file_sha256))

    def to_dict(self) -> dict[str, Any]:
        return {"mode": self.mode, "column": self.column, "value": self.value, "seed": self.seed,
                "file_sha256": self.file_sha256, "file_name": self.file_name}


REFERENCE_ROWS = 20_000  # rows a data-driven pruning criterion reads at most


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
    rows: EvaluationRows = EvaluationRows(EVAL_ALL)
    evaluation_warning: str | None = None  # shown beside headline metrics on every page and in the report
    eval_row_offset: int = 0  # separate evaluation file: its rows follow the main file's in ``data``
    view: str = ""  # "" for the rows as bound; else what narrowed them (part of the key)
    sampled_from: int = 0  # evaluation rows an interactive sample was drawn from (0: not a sample)
    reference_idx: np.ndarray | None = None  # rows pruning decisions look at, fixed by the bound workspace for its samples

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
        """File row numbers (0-based) of the evaluation rows: the ids a flips table shows after rows were dropped
        (rows of the evaluation file when it is a separate file)."""
        return self.data.row_ids[self.eval_idx] - self.eval_row_offset

    @property
    def can_fine_tune(self) -> bool:
        return len(self.train_idx) > 0

    @property
    def reference_rows(self) -> np.ndarray:
        """Dataset rows a data-driven pruning decision may look at (e.g. the spread of each input).

        The training rows when they are held out, else the evaluation rows; at most
        ``REFERENCE_ROWS`` of them, a seeded stratified sample, so that a million-row book costs
        no more than a small one. An interactive sample keeps the rows of the workspace it was
        drawn from: the model pruned on a page is the model the full-row report exports.
        """
        if self.reference_idx is not None:
            return self.reference_idx
        base = self.train_idx if self.can_fine_tune else self.eval_idx
        if len(base) <= REFERENCE_ROWS:
            return base
        return base[stratified_sample(self.data.y[base], REFERENCE_ROWS, 0)]

    @property
    def key(self) -> str:
        h = hashlib.sha256()
        for part in (self.model.content_hash, self.data.fingerprint, self.output.kind, self.eval_mode, str(self.split_seed),
                     self.rows.key, str(self.eval_row_offset), str(self.data.missing.strategy), self.view):
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


def default_rows(data: Dataset, own_training_file: bool, seed: int) -> EvaluationRows:
    """The evaluation rows used when none were chosen.

    The model's own training file: its recorded hold-out split (the test AUC matches the one
    reported at training time). Any other file: a seeded hold-out when it has at least
    ``AUTO_HOLDOUT_ROWS`` rows and ``AUTO_HOLDOUT_PER_CLASS`` of each outcome, else all rows (with
    the warning that they may include training rows).
    """
    if own_training_file:
        return EvaluationRows(EVAL_HOLDOUT, seed=seed)
    n_bad = int(data.y.sum())
    if data.n_rows >= AUTO_HOLDOUT_ROWS and min(n_bad, data.n_rows - n_bad) >= AUTO_HOLDOUT_PER_CLASS:
        return EvaluationRows(EVAL_HOLDOUT, seed=seed)
    return EvaluationRows(EVAL_ALL)


def _with_evaluation_file(frame: pd.DataFrame, eval_data: pd.DataFrame, target: str, model: LoadedModel,
                          feature_columns: list[str] | None) -> pd.DataFrame:
    """The main file's rows followed by the evaluation file's, on the columns both files have.

    Both go through one ``prepare_dataset`` so they get exactly the same mapping, target reading
    and missing-value handling; the columns the model needs must be in both.
    """
    if not isinstance(eval_data, pd.DataFrame):
        raise EvaluationRowsError("The evaluation data is not a table.", "Upload it as CSV, Parquet or Excel.")
    target_col = resolve_column(frame.columns, target, "target column")
    need = [target_col, *(model.schema.raw_columns if model.schema is not None else
                          resolve_columns(frame.columns, feature_columns, "input column") if feature_columns else [])]
    try:
        resolve_columns(eval_data.columns, need, "column")
    except DataError as err:
        raise EvaluationRowsError(f"The evaluation file does not fit the data file: {err.message}", err.hint) from None
    shared = set(map(str, eval_data.columns))
    common = [c for c in frame.columns if str(c) in shared]
    return pd.concat([frame[common], eval_data[common]], ignore_index=True)


def _check_eval_rows(y_eval: np.ndarray, what: str) -> None:
    n_bad = int(y_eval.sum())
    if len(y_eval) == 0:
        raise EvaluationRowsError(f"{what} holds no rows, so the model cannot be evaluated.",
                                  "Choose other evaluation rows.")
    if min(n_bad, len(y_eval) - n_bad) == 0:
        raise EvaluationRowsError(
            f"{what} contain{'s' if what.startswith('The evaluation file') else ''} only one outcome "
            f"({len(y_eval):,} row(s)), so the model cannot be evaluated on them.",
            "Choose evaluation rows with both good and bad outcomes, or upload more applicants of the rarer outcome.",
        )


def _split_column_rows(frame: pd.DataFrame, data: Dataset, rows: EvaluationRows, target: str) -> tuple[EvaluationRows, np.ndarray]:
    """Which kept rows the split column marks as evaluation rows (rows with another or no value train)."""
    column = rows.column
    codes, labels = target_labels(frame[column])
    counts = np.bincount(codes[codes >= 0], minlength=len(labels)) if labels else np.zeros(0, dtype=int)
    shown = ", ".join(f"'{v}' ({int(n):,})" for v, n in zip(labels[:10], counts[:10])) + (" …" if len(labels) > 10 else "")
    value = rows.value if rows.value is not None else guess_eval_value(labels)
    if value is None:
        raise EvaluationRowsError(f"Which value of the split column '{column}' marks the evaluation rows? It holds {shown or 'no value'}.",
                                  "Pick the value that marks evaluation rows (e.g. test).")
    value = resolve_bad_value(list(labels), value)
    if value not in labels:
        raise EvaluationRowsError(f"The split column '{column}' has no value '{value}'; it holds {shown or 'no value'}.",
                                  "Pick the value that marks evaluation rows (e.g. test).")
    if len(labels) < 2:
        raise EvaluationRowsError(f"The split column '{column}' holds only '{value}', so it leaves no training rows apart.",
                                  "Pick a column with training and evaluation values, or evaluate on all rows.")
    in_file = codes == labels.index(value)
    return replace(rows, column=column, value=value), in_file[data.row_ids]


def bind(
    model: LoadedModel,
    frame: pd.DataFrame,
    target: str,
    bad_value: str,
    feature_columns: list[str] | None = None,
    output_override: str | None = None,
    eval_mode: EvaluationRows | str | None = None,
    data_sha256: str | None = None,
    split_seed: int | None = None,
    missing: MissingValues | str | None = None,
    one_vs_rest: bool = False,
    eval_data: pd.DataFrame | None = None,
) -> Workspace:
    """Validate model × data and fix the evaluation rows.

    ``eval_mode`` is an ``EvaluationRows`` or a mode name: "split_column" (rows of a column such as
    ``sample`` equal to a value such as ``test`` evaluate, the other rows train), "separate_file"
    (``eval_data`` evaluates, every row of ``frame`` trains), "holdout" (stratified, seeded 60/20/20:
    the test part evaluates, the train part fine-tunes) or "all" (nothing left to fine-tune on,
    and ``Workspace.evaluation_warning`` says the rows may include the model's training rows).
    None picks ``default_rows``. On the model's own training file the hold-out is the training
    split (the schema records its seed), so the test AUC matches the one reported at training time.

    ``missing`` is the user's handling of missing or infinite inputs ("drop", "impute",
    "pass_through"; see ``core.data.cleaning``), recorded on ``Workspace.missing_values``;
    pass-through is accepted only if the model returns finite scores on rows with NaN.
    ``one_vs_rest`` reads a target with more than two outcomes as ``bad_value`` vs the rest.
    """
    schema = model.schema
    rows = EvaluationRows.of(eval_mode)
    if rows is None and eval_data is not None:
        rows = EvaluationRows(EVAL_SEPARATE_FILE)
    if rows is not None and (rows.mode == EVAL_SEPARATE_FILE) != (eval_data is not None):
        raise EvaluationRowsError(
            "A separate evaluation file was chosen but none was given." if eval_data is None else
            f"An evaluation file was given, but the evaluation rows are '{rows.mode}'.",
            "Upload the evaluation file, or choose other evaluation rows." if eval_data is None else
            "Choose 'separate evaluation file', or leave the evaluation file out.",
        )
    features = None if schema is not None else feature_columns
    prep_frame, offset = frame, 0
    if rows is not None and rows.mode == EVAL_SPLIT_COLUMN:
        column = resolve_column(frame.columns, rows.column, "split column")
        if column == clean_name(target):
            raise EvaluationRowsError(f"The split column '{column}' is the target.", "Pick the column that marks evaluation rows.")
        if features is not None and column in {clean_name(f) for f in features}:
            raise EvaluationRowsError(f"The split column '{column}' is also selected as a model input.",
                                      "Remove it from the inputs: it marks rows, it does not describe applicants.")
        rows = replace(rows, column=column)
        if schema is None:  # never a default input of a schema-less model
            prep_frame = frame.drop(columns=[column])
    elif rows is not None and rows.mode == EVAL_SEPARATE_FILE:
        prep_frame, offset = _with_evaluation_file(frame, eval_data, target, model, features), len(frame)
    data = prepare_dataset(
        prep_frame, target, bad_value,
        schema=schema, feature_columns=features,
        n_inputs=model.n_inputs, missing=missing, one_vs_rest=one_vs_rest,
    )
    # The input width is what the model runs on: probed on these rows (time-limited, in a child
    # process), never read off a layer; the eager twin is verified on the same real rows (the
    # complete ones: rows passed through with missing inputs are the pass-through probe's).
    rows_for_twin = data.X
    if data.missing.strategy == PASS_THROUGH:  # only pass-through leaves NaN in the inputs
        complete = np.isfinite(data.X).all(axis=1)
        rows_for_twin = data.X[complete] if complete.any() else data.X
    model = bind_rows(model, rows_for_twin)
    if data.missing.strategy == PASS_THROUGH:
        data = data.with_missing(_probe(model, data))
    own_training_file = is_training_data(model, data_sha256)
    if split_seed is None:
        split_seed = int(schema.split_seed) if (schema is not None and schema.split_seed is not None) else DEFAULT_SPLIT_SEED
    chosen = rows is not None
    if rows is None:
        rows = default_rows(data, own_training_file, split_seed)
    warning = None
    if rows.mode == EVAL_HOLDOUT:
        seed = int(rows.seed) if rows.seed is not None else split_seed
        rows, split_seed = replace(rows, seed=seed), seed
        split = stratified_split(data.y, seed)
        eval_idx, train_idx = split["test"], split["train"]
        _check_eval_rows(data.y[eval_idx], "The held-out rows")
        recorded = schema.split_seed if schema is not None else None
        own_split = own_training_file and recorded is not None and seed == int(recorded)
        note = (
            f"Evaluated on the held-out test split ({len(eval_idx):,} rows, stratified, seed {seed})"
            + ("; this is the model's own training split." if own_split else ".")
            + f" Fine-tuning uses the {len(train_idx):,} training rows."
        )
        if own_training_file and not own_split:
            warning = (f"This hold-out (seed {seed}) is not the split the model was trained with"
                       + (f" (seed {int(recorded)})" if recorded is not None else "")
                       + ": on its own training file, many held-out rows were training rows, so AUC, Gini and KS are "
                       "optimistic. Use the recorded seed.")
    elif rows.mode == EVAL_SPLIT_COLUMN:
        rows, is_eval = _split_column_rows(frame, data, rows, data.target)
        eval_idx, train_idx = np.flatnonzero(is_eval), np.flatnonzero(~is_eval)
        _check_eval_rows(data.y[eval_idx], f"The rows with {rows.column} = '{rows.value}'")
        note = (f"Evaluated on the {len(eval_idx):,} rows with {rows.column} = '{rows.value}'; "
                + (f"fine-tuning uses the other {len(train_idx):,} rows." if len(train_idx) else "no rows are left to fine-tune on."))
    elif rows.mode == EVAL_SEPARATE_FILE:
        from_eval_file = data.row_ids >= offset
        eval_idx, train_idx = np.flatnonzero(from_eval_file), np.flatnonzero(~from_eval_file)
        name = f" '{rows.file_name}'" if rows.file_name else ""
        _check_eval_rows(data.y[eval_idx], f"The evaluation file{name}")
        note = (f"Evaluated on the {len(eval_idx):,} rows of the separate evaluation file{name}; "
                f"fine-tuning uses the {len(train_idx):,} rows of the data file.")
    else:
        eval_idx, train_idx = np.arange(data.n_rows), np.arange(0)
        _check_eval_rows(data.y, "The data")
        note = f"Evaluated on all {data.n_rows:,} rows; choose rows the model never saw to enable fine-tuning."
        if own_training_file:
            warning = (f"Evaluated on all {data.n_rows:,} rows of the model's own training file: the model was fitted on "
                       "most of them, so AUC, Gini and KS are optimistic. Use its recorded hold-out split instead.")
        else:
            warning = (f"Evaluated on all {data.n_rows:,} rows: if the model was trained on any of them, AUC, Gini and KS "
                       "are optimistic. Evaluate on rows it never saw: a split column, a separate evaluation file or a "
                       "seeded hold-out.")
    if not chosen:
        why = ("it is the model's own training file" if own_training_file else
               f"the file has at least {AUTO_HOLDOUT_ROWS} rows and {AUTO_HOLDOUT_PER_CLASS} of each outcome"
               if rows.mode == EVAL_HOLDOUT else
               f"the file has fewer than {AUTO_HOLDOUT_ROWS} rows or {AUTO_HOLDOUT_PER_CLASS} of an outcome for a hold-out")
        note += f" (Chosen by default: {why}.)"
    output = resolve_output(model, data.X, output_override)
    scores = predict_pbad(model.module, data.X[eval_idx], output.kind)
    if data.missing.strategy == PASS_THROUGH and not np.isfinite(scores).all():
        n_bad = int((~np.isfinite(scores)).sum())
        raise DataError(
            f"With missing values passed through, the model returns no finite score for {n_bad:,} evaluation row(s).",
            "Choose drop or impute instead of pass-through.",
        )
    return Workspace(model, data, output, eval_idx, train_idx, rows.mode, split_seed, note, scores,
                     rows=rows, evaluation_warning=warning, eval_row_offset=offset)
