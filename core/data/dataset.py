"""A labelled evaluation set: the target encoded as 1 = bad, the model's input matrix, and provenance.

Target values are compared as text (1, 1.0, '1' and True mean what users expect), the default
column mapping of a schema-less model skips identifier columns and says which text columns it
cannot feed, missing or infinite inputs are handled only as the user chose (``MissingValues``)
and recorded on the dataset, and the split that separates training from evaluation rows is
seeded and stratified so a validator can rebuild it.

Built for portfolio-sized books: each input column is fetched once (float64 columns as views),
the input matrix is encoded a chunk of rows at a time straight into float32 (no float64 copy of
the whole frame), the caller's frame is never copied or modified (a shallow copy-on-write view
is kept), and the target is encoded in one vectorised pass.
"""
from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property

import numpy as np
import pandas as pd

from core.data.cleaning import DROP, IMPUTE, ColumnMissing, Imputation, MissingReport, MissingValues, missing_values_error
from core.data.columns import (
    ColumnValues,
    _identifier_reason,
    column_roles,
    default_inputs,
    looks_like_identifier,
    numeric_columns,
    resolve_columns,
    text_columns_note,
)
from core.data.schema import FeatureSchema, FeatureSpec
from core.data.target import _target_column, check_target, encode_target, guess_bad_value, label_text, resolve_bad_value, target_labels, target_values
from core.errors import DataError

MIN_ROWS = 10

__all__ = [
    "MIN_ROWS",
    "Dataset",
    # re-exported from their own modules (their historical home was this one)
    "default_inputs",
    "encode_target",
    "guess_bad_value",
    "label_text",
    "looks_like_identifier",
    "numeric_columns",
    "prepare_dataset",
    "resolve_bad_value",
    "stratified_split",
    "target_values",
]


def _frame_digest(frame: pd.DataFrame) -> str:
    """Content hash of a frame: column names, dtypes and values, row by row (the index is positional, left out)."""
    h = hashlib.sha256()
    h.update("\x1f".join(f"{c}:{t}" for c, t in zip(map(str, frame.columns), map(str, frame.dtypes))).encode())
    try:
        rows = pd.util.hash_pandas_object(frame, index=False).to_numpy()
    except TypeError:  # unhashable cells (e.g. lists from a Parquet file): hash their text
        rows = pd.util.hash_pandas_object(frame.astype(str), index=False).to_numpy()
    h.update(np.ascontiguousarray(rows).tobytes())
    return h.hexdigest()


@dataclass(frozen=True)
class Dataset:
    """Model-ready evaluation data: inputs X (float32), labels y (1 = bad) and provenance.

    ``row_ids`` are the 0-based positions in the file of the rows kept (so a flipped applicant is
    still found in the file after rows were dropped); ``frame`` holds exactly those rows, in the
    same order as X. ``missing`` records what was missing and what was done about it.
    """

    X: np.ndarray
    y: np.ndarray
    input_names: tuple[str, ...]
    groups: tuple[str, ...]
    target: str
    bad_value: str
    frame: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()
    row_ids: np.ndarray | None = field(default=None, repr=False, compare=False)
    missing: MissingReport | None = None
    one_vs_rest: bool = False

    def __post_init__(self) -> None:
        n = len(self.y)
        if self.row_ids is None:
            object.__setattr__(self, "row_ids", np.arange(n, dtype=np.int64))
        if self.missing is None:
            object.__setattr__(self, "missing", MissingReport(None, n, n, 0, 0))

    @property
    def n_rows(self) -> int:
        return len(self.y)

    @property
    def bad_rate(self) -> float:
        return float(self.y.mean()) if len(self.y) else float("nan")

    @property
    def target_rule(self) -> str:
        """How the outcome was read, in words (for the report)."""
        rest = "every other value" if self.one_vs_rest else "the other value"
        return f"'{self.target}' = '{self.bad_value}' is bad, {rest} is good"

    @cached_property
    def fingerprint(self) -> str:
        """Hash of what the model sees and of every column the pages read beside it; the cache key for every computation.

        The columns the model does not use count too: a second file with the same inputs but another loan amount or
        segment column must not be served the first file's results (exposure, fairness, an applicant's raw values).
        Computed once per dataset.
        """
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        h.update("\x1f".join(self.input_names).encode())
        h.update(_frame_digest(self.frame).encode())
        return h.hexdigest()

    def with_missing(self, report: MissingReport) -> Dataset:
        """The same data with an updated missing-value record (e.g. after the pass-through probe)."""
        return replace(self, missing=report)


@dataclass
class _Input:
    """One raw variable feeding one model input (numeric, code) or one per category (one-hot)."""

    name: str
    kind: str  # "numeric" | "categorical" (one-hot or a schema ``code``: read as category codes)
    width: int
    read: Callable[[], np.ndarray]  # numeric: float, NaN/±inf where missing; categorical: int32 codes, -1 missing
    spec: FeatureSpec | None = None  # the schema's variable (scaling, categories, training statistics)
    exact: Callable[[], np.ndarray] | None = None  # float64 values when ``read`` narrows to float32 (for statistics)


def _schema_inputs(frame: pd.DataFrame, schema: FeatureSchema) -> list[_Input]:
    schema.check_columns(frame.columns)
    out = []
    for f in schema.features:
        col = frame[f.name]
        if f.kind == "numeric":
            out.append(_Input(f.name, "numeric", 1, lambda f=f, col=col: f.numeric_values(col), f))
        else:
            out.append(_Input(f.name, "categorical", f.width, lambda f=f, col=col: f.category_codes(col), f))
    return out


def _plain_inputs(frame: pd.DataFrame, target: str, feature_columns: Sequence[str] | None, notes: list[str]) -> list[_Input]:
    dtypes = dict(zip(frame.columns, frame.dtypes))
    if feature_columns is None:
        cols = numeric_columns(frame, exclude=target)
    else:
        cols = resolve_columns(frame.columns, feature_columns, "input column")
    if target in cols:
        raise DataError(
            f"The target '{target}' is also selected as a model input.",
            "Remove it from the inputs: a model must not see the outcome.",
        )
    text = [c for c in cols if not pd.api.types.is_numeric_dtype(dtypes[c])]
    if text:
        example = frame[text[0]].dropna()
        eg = f" (e.g. '{example.iloc[0]}')" if len(example) else ""
        raise DataError(
            "Without an embedded schema only numeric columns can be fed to the model; "
            f"{', '.join(repr(c) for c in text)} hold text{eg}, and the encoding the model was trained with is unknown.",
            "Pick numeric columns, or export the model with its feature schema (which records the encoding).",
        )
    values = ColumnValues(frame, cols)
    if feature_columns is None:
        roles = column_roles(frame, exclude=target, values=values)
        cols = roles.inputs
        numeric = set(roles.numeric)
        numeric_ids = [f for f in roles.identifiers if f.column in numeric]
        if numeric_ids:
            notes.append("Not fed to the model by default, as identifiers: "
                         + "; ".join(f"'{f.column}' ({f.reason})" for f in numeric_ids) + ".")
        note = text_columns_note(list(roles.text))
        if note:
            notes.append(note)
    else:
        for c in dict.fromkeys(cols):
            reason = _identifier_reason(values(c), lambda c=c: frame[c], str(c))
            if reason:
                notes.append(f"Column '{c}' is fed to the model but looks like an identifier ({reason}).")
    def read(c: str) -> np.ndarray:
        if values.holds(c) or dtypes[c] == np.float64:
            return values(c)  # a view: no copy
        return frame[c].to_numpy(dtype="float32", na_value=np.nan)  # ints/flags: half the memory, same float32 input

    return [_Input(c, "numeric", 1, lambda c=c: read(c), exact=lambda c=c: values(c)) for c in cols]


def _fill_value(inp: _Input, values: np.ndarray) -> Imputation:
    """The single value imputed for one variable: the schema's training statistic, else this data's centre."""
    spec = inp.spec
    if inp.kind == "numeric":
        if spec is not None:
            return Imputation(inp.name, float(spec.mean), "training mean recorded in the model's schema", 0)
        finite = values[np.isfinite(values)]
        if len(finite) == 0:
            raise DataError(f"Column '{inp.name}' has no value in any row, so there is nothing to impute it from.",
                            "Remove it from the inputs, or choose drop or pass-through.")
        return Imputation(inp.name, float(np.median(finite)), f"median of the {len(finite):,} rows of this data that have a value", 0)
    assert spec is not None
    if spec.mode is not None and spec.mode in spec.categories:
        return Imputation(inp.name, spec.mode, "most frequent training category recorded in the model's schema", 0)
    present = values[values >= 0]
    if len(present) == 0:
        raise DataError(f"Column '{inp.name}' has no value in any row, so there is nothing to impute it from.",
                        "Choose drop, or fill the column before uploading.")
    code = int(np.argmax(np.bincount(present, minlength=len(spec.categories))))  # ties: first category in order
    return Imputation(inp.name, spec.categories[code], f"most frequent category among the {len(present):,} rows of this data "
                      "that have one (the schema records no training mode)", 0)


FILL_ROWS = 65_536  # rows encoded per chunk: columns are written into a small buffer, then rows into X


def _fill_matrix(inputs: list[_Input], arrays: list[np.ndarray], gaps: list[bool], fills: list[float | int | None],
                 rows: np.ndarray | None, n_rows: int, width: int) -> np.ndarray:
    """Encode every input into one C-ordered float32 matrix, a chunk of rows at a time.

    Writing a million-row column into a row-major matrix strides through memory; filling a
    (width × chunk) buffer column by column and copying its transpose is ~3× faster, and no
    float64 copy of the whole matrix ever exists. A gap gets its fill (impute) or NaN (pass-through).
    """
    X = np.empty((n_rows, width), dtype=np.float32)
    buf = np.empty((width, min(FILL_ROWS, max(n_rows, 1))), dtype=np.float32)
    for a in range(0, n_rows, FILL_ROWS):
        b = min(a + FILL_ROWS, n_rows)
        take = slice(a, b) if rows is None else rows[a:b]
        chunk = buf[:, : b - a]
        j = 0
        for inp, values, gap_in_column, fill in zip(inputs, arrays, gaps, fills):
            v = values[take]
            if inp.kind == "numeric":
                spec = inp.spec
                chunk[j] = v if spec is None else (v - spec.mean) / spec.std
                if gap_in_column:
                    gap = ~np.isfinite(v)
                    chunk[j, gap] = np.nan if fill is None else fill  # ±inf counts as missing too
            elif inp.spec.kind == "code":  # one input holding the category's position
                chunk[j] = v
                if gap_in_column:
                    chunk[j, v < 0] = np.nan if fill is None else fill
            else:
                block = chunk[j:j + inp.width]
                block[:] = 0.0
                ok = v >= 0
                block[v[ok], np.flatnonzero(ok)] = 1.0
                if gap_in_column:
                    gap = ~ok
                    if fill is None:
                        block[:, gap] = np.nan
                    else:
                        block[int(fill), gap] = 1.0
            j += inp.width
        X[a:b] = chunk.T
    return X


def prepare_dataset(
    frame: pd.DataFrame,
    target: str,
    bad_value: str,
    schema: FeatureSchema | None = None,
    feature_columns: list[str] | None = None,
    n_inputs: int | None = None,
    *,
    missing: MissingValues | str | None = None,
    one_vs_rest: bool = False,
) -> Dataset:
    """Build inputs and labels: via the model's schema, or from named numeric columns in order.

    Column names given here (``target``, ``feature_columns``) go through the same normalisation
    as the file's header. ``missing`` is the handling of missing or infinite inputs
    (``MissingValues`` or "drop" / "impute" / "pass_through"); when something is missing and
    none was chosen, ``MissingValuesError`` says what and offers the three choices.
    ``one_vs_rest`` accepts a target with more than two outcomes: ``bad_value`` is bad, every
    other value good. The caller's frame is never modified.
    """
    if not isinstance(frame, pd.DataFrame):
        raise DataError("The data is not a table.", "Read the file with read_table and pass its frame.")
    policy = MissingValues.of(missing)
    n = len(frame)
    if n < MIN_ROWS:
        raise DataError(
            f"The dataset has {n} row(s); at least {MIN_ROWS} are needed to measure anything.",
            "Upload more applicants (validation usually uses hundreds or more).",
        )
    if not frame.columns.is_unique:
        counts = pd.Series(frame.columns).value_counts()
        shown = ", ".join(f"'{c}' ({k}×)" for c, k in counts[counts > 1].head(5).items())
        raise DataError(f"Column names repeat: {shown}.",
                        "Rename the columns so each name is unique (read_table does this for files and says so).")
    target_col = _target_column(frame, target)
    codes, labels = target_labels(frame[target_col])
    known = codes >= 0
    bad = check_target(target_col, labels, np.bincount(codes[known], minlength=len(labels)), bad_value, one_vs_rest)
    y_all = np.where(known, codes == labels.index(bad), -1).astype(np.int8)

    notes: list[str] = []
    inputs = _schema_inputs(frame, schema) if schema is not None else _plain_inputs(frame, target_col, feature_columns, notes)
    width = sum(i.width for i in inputs)
    if n_inputs is not None and width != n_inputs:
        raise DataError(
            f"The model expects {n_inputs} inputs but the dataset provides {width}.",
            "Select exactly the columns the model was trained on, in training order.",
        )

    # Each input's values are fetched once (float64 columns as views, codes cached); what is
    # missing is counted among the rows that have an outcome (the others are left out anyway).
    arrays = [inp.read() for inp in inputs]
    affected = np.zeros(n, dtype=bool)
    gaps = [False] * len(inputs)
    columns: list[ColumnMissing] = []
    first_row, first_column = n, None
    n_known = int(known.sum())
    for i, (inp, values) in enumerate(zip(inputs, arrays)):
        mask = (values < 0 if inp.kind == "categorical" else ~np.isfinite(values)) & known
        k = int(mask.sum())
        if k:
            gaps[i] = True
            affected |= mask
            n_inf = 0 if inp.kind == "categorical" else int(np.isinf(values[mask]).sum())
            columns.append(ColumnMissing(inp.name, inp.kind, k, n_inf, n_known))
            row = int(np.argmax(mask))
            if row < first_row:
                first_row, first_column = row, inp.name
    without_target = ~known
    if (affected.any() or without_target.any()) and policy is None:
        raise missing_values_error(columns, first_column, target_col, n, affected, without_target, y_all, schema is not None)
    strategy = policy.strategy if policy is not None else None
    keep = known & ~affected if strategy == DROP else known
    rows = None if keep.all() else np.flatnonzero(keep)
    n_keep = n if rows is None else len(rows)
    if n_keep < MIN_ROWS or y_all[keep].min() == y_all[keep].max():
        left = f"{n_keep} row(s) are left" if n_keep < MIN_ROWS else "only one outcome is left in the target"
        raise DataError(
            f"After leaving out {n - n_keep:,} row(s) with missing values or no outcome, {left}, so the model cannot be evaluated.",
            "Choose impute (or pass-through) instead of drop, or upload more rows with complete inputs and an outcome.",
        )
    fills: list[float | int | None] = [None] * len(inputs)  # per input: the encoded fill (scaled number / category index)
    imputations: list[Imputation] = []
    if strategy == IMPUTE:
        for i, (inp, values) in enumerate(zip(inputs, arrays)):
            if not gaps[i]:
                continue
            fill = _fill_value(inp, (values if inp.exact is None else inp.exact())[known])
            kept = values if rows is None else values[rows]
            n_filled = int((kept < 0).sum() if inp.kind == "categorical" else (~np.isfinite(kept)).sum())
            imputations.append(replace(fill, n_filled=n_filled))
            if inp.kind == "categorical":
                fills[i] = inp.spec.categories.index(fill.value)
            else:
                fills[i] = float(fill.value) if inp.spec is None else (float(fill.value) - inp.spec.mean) / inp.spec.std
    X = _fill_matrix(inputs, arrays, gaps, fills, rows, n_keep, width)

    affected_known = affected & known
    report = MissingReport(
        strategy=strategy, n_rows_read=n, n_rows_used=n_keep, n_rows_affected=int(affected_known.sum()),
        n_rows_without_target=int(without_target.sum()), columns=tuple(columns), imputations=tuple(imputations),
        bad_rate_affected=float(y_all[affected_known].mean()) if affected_known.any() else float("nan"),
        bad_rate_complete=float(y_all[known & ~affected].mean()) if (known & ~affected).any() else float("nan"),
        dropped_rows=np.flatnonzero(~keep).astype(np.int64),
    )
    if report.anything_missing:
        notes.append(report.summary)
    return Dataset(
        X=X, y=(y_all if rows is None else y_all[rows]).astype(np.int8, copy=False),
        input_names=tuple(n for i in inputs for n in (i.spec.input_names() if i.spec is not None else [i.name])),
        groups=tuple(i.name for i in inputs for _ in range(i.width)), target=target_col, bad_value=bad,
        frame=frame.copy(deep=False) if rows is None else frame.iloc[rows],
        notes=tuple(notes), row_ids=np.arange(n, dtype=np.int64) if rows is None else rows.astype(np.int64),
        missing=report, one_vs_rest=bool(one_vs_rest),
    )


def stratified_split(y: np.ndarray, seed: int, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> dict[str, np.ndarray]:
    """Seeded stratified train/validation/test row indices, so validators can rebuild the split."""
    if not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise DataError("Split fractions must be positive and sum to 1.", "Use e.g. (0.6, 0.2, 0.2).")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "validation": [], "test": []}
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_train = round(fractions[0] * len(idx))
        n_val = round(fractions[1] * len(idx))
        parts["train"].append(idx[:n_train])
        parts["validation"].append(idx[n_train:n_train + n_val])
        parts["test"].append(idx[n_train + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}


def stratified_sample(y: np.ndarray, size: int, seed: int) -> np.ndarray:
    """A seeded sample of ``size`` row indices (sorted) with the classes in the proportions of ``y``.

    Used where every row would cost too much (interactive views and bootstrap intervals on large
    files); each class keeps at least one row so ranking metrics stay defined.
    """
    y = np.asarray(y)
    n = len(y)
    if size >= n:
        return np.arange(n)
    rng = np.random.default_rng([int(seed), 7])
    parts = []
    classes = np.unique(y)
    for cls in classes:
        idx = np.flatnonzero(y == cls)
        k = max(1, int(round(size * len(idx) / n)))
        parts.append(rng.choice(idx, size=min(k, len(idx)), replace=False))
    return np.sort(np.concatenate(parts)).astype(np.int64)
