"""The data profile: what was loaded, column by column, before anything is pruned.

Per column: its type as a risk analyst reads it (number, whole number, flag, text, date), the
missing share (empty, NaN and ±inf — infinite values count as missing everywhere), the number of
distinct values and the range; flags for identifiers, constants, empty columns and the target;
and the target's class balance. Every number is computed on all rows (a million rows take
about a second), nothing is sampled.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.columns import IdentifierFlag, clean_name, identifier_columns, is_number_column, text_columns_note
from core.data.schema import FeatureSchema
from core.data.target import TargetSummary, target_summary
from core.errors import DataError

NUMBER, WHOLE, FLAG, TEXT, DATE = "number", "whole number", "flag", "text", "date"


@dataclass(frozen=True)
class ColumnProfile:
    name: str
    kind: str  # number | whole number | flag | text | date
    n_rows: int
    n_missing: int  # empty, NaN or ±inf
    n_infinite: int
    n_distinct: int  # among values present
    minimum: float | None  # numbers only, over finite values
    maximum: float | None
    flags: tuple[str, ...] = ()

    @property
    def missing_share(self) -> float:
        return self.n_missing / self.n_rows if self.n_rows else float("nan")


@dataclass(frozen=True)
class DataProfile:
    """Every column's profile, the identifier columns, the text columns and the target's balance."""

    n_rows: int
    columns: tuple[ColumnProfile, ...]
    identifiers: tuple[IdentifierFlag, ...]
    text_columns: tuple[str, ...]  # text columns other than the target
    target: TargetSummary | None = None

    @property
    def n_columns(self) -> int:
        return len(self.columns)

    @property
    def text_note(self) -> str | None:
        """Why the text columns cannot feed a model without an embedded schema (None if there are none)."""
        ids = {f.column for f in self.identifiers}
        return text_columns_note([c for c in self.text_columns if c not in ids])

    def column(self, name: str) -> ColumnProfile:
        wanted = clean_name(name)
        for c in self.columns:
            if c.name == wanted:
                return c
        raise DataError(f"The profile has no column '{wanted}'.", "Use a name from the data's header.")

    def to_frame(self) -> pd.DataFrame:
        """One row per column: type, missing, missing share, distinct values, min, max, flags."""
        return pd.DataFrame(
            [{"column": c.name, "type": c.kind, "missing": c.n_missing, "missing share": c.missing_share,
              "distinct": c.n_distinct, "min": c.minimum, "max": c.maximum, "flags": "; ".join(c.flags)}
             for c in self.columns],
            columns=["column", "type", "missing", "missing share", "distinct", "min", "max", "flags"],
        )


def _profile_column(series: pd.Series, name: str, flags: list[str]) -> ColumnProfile:
    n = len(series)
    present = series.notna()
    n_missing = int(n - present.sum())
    if pd.api.types.is_bool_dtype(series):
        kind = FLAG
    elif pd.api.types.is_datetime64_any_dtype(series):
        kind = DATE
    elif is_number_column(series):
        kind = NUMBER
    else:
        kind = TEXT
    n_inf, lo, hi = 0, None, None
    if kind == NUMBER:
        values = series.to_numpy(dtype="float64", na_value=np.nan)
        finite = np.isfinite(values)
        n_inf = int(np.isinf(values).sum())
        n_missing += n_inf
        if finite.any():
            v = values[finite]
            lo, hi = float(v.min()), float(v.max())
            if pd.api.types.is_integer_dtype(series) or bool(np.all(np.mod(v, 1) == 0)):
                kind = WHOLE
        n_distinct = int(pd.unique(values[finite]).size)
    else:
        n_distinct = int(series.nunique(dropna=True))
    if n_missing == n:
        flags.append("empty: no value in any row")
    elif n_distinct == 1:
        flags.append("constant: one value in every row")
    return ColumnProfile(name, kind, n, n_missing, n_inf, n_distinct, lo, hi, tuple(flags))


def data_profile(frame: pd.DataFrame, target: str | None = None, schema: FeatureSchema | None = None) -> DataProfile:
    """Profile every column of ``frame``; with ``target`` its class balance, with ``schema`` which
    columns are the model's variables. Column names go through the header normalisation."""
    if not isinstance(frame, pd.DataFrame):
        raise DataError("The data is not a table.", "Read the file with read_table and pass its frame.")
    summary = target_summary(frame, target) if target is not None else None
    target_col = summary.column if summary is not None else None
    ids = identifier_columns(frame, exclude=target_col)
    reasons = {f.column: f.reason for f in ids}
    model_vars = {f.name: f.kind for f in schema.features} if schema is not None else {}
    columns = []
    for c in frame.columns:
        name = str(c)
        flags: list[str] = []
        if name == target_col:
            flags.append("target")
        if name in reasons:
            flags.append(f"identifier: {reasons[name]}")
        if name in model_vars:
            flags.append(f"model variable ({model_vars[name]})")
        columns.append(_profile_column(frame[c], name, flags))
    text = tuple(p.name for p in columns if p.kind == TEXT and p.name != target_col)
    return DataProfile(len(frame), tuple(columns), ids, text, summary)


def profile_columns(profile: DataProfile, names: Sequence[str]) -> tuple[ColumnProfile, ...]:
    """The profiles of ``names`` in that order (e.g. the model's inputs)."""
    return tuple(profile.column(n) for n in names)
