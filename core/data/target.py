"""The target (outcome) column: its values as the user reads them, with counts, and its encoding as 1 = bad.

Files spell a default flag in many ways — 1/0, Y/N, yes/no, True/False, "default"/"non-default",
numbers stored as text ("1", "1.0", " 1 "). Values are compared by one canonical text
(``label_text``) so 1, 1.0, "1" and "1.0" are one outcome, offered as choices with their counts.
A target must have two outcomes; one outcome is refused, more than two are refused unless the
user explicitly picks "this value is bad, every other value is good" (``one_vs_rest``).
Rows without an outcome (empty, NaN, ±inf) are counted, never guessed.
"""
from __future__ import annotations

import math
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.data.columns import resolve_column
from core.errors import DataError

_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")
_BAD_WORDS = ("bad", "1", "true", "yes", "y", "default", "defaulted", "charged off")
_SHOWN_VALUES = 6


def label_text(value: object) -> str:
    """Canonical text of a target value, so 1, 1.0, '1', ' 1.0 ' and True/'True' compare as users expect."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (int, np.integer)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return str(int(f)) if f.is_integer() else str(value).strip()
    text = str(value).strip()
    if _NUMBER.fullmatch(text):
        f = float(text)
        if math.isfinite(f):
            return label_text(f)
    return text


def _is_missing_label(text: str) -> bool:
    return text == "" or text.lower() in ("nan", "inf", "-inf", "+inf", "infinity", "-infinity")


def target_labels(series: pd.Series) -> tuple[np.ndarray, tuple[str, ...]]:
    """Vectorised labels of a target column: codes into the sorted distinct labels, -1 where the outcome
    is missing (empty, NaN, ±inf). One pass over the rows, so a million applicants take milliseconds."""
    codes, uniques = pd.factorize(series, use_na_sentinel=True)
    texts = [label_text(u) for u in uniques]
    labels = tuple(sorted({t for t in texts if not _is_missing_label(t)}))
    index = {t: i for i, t in enumerate(labels)}
    remap = np.array([index.get(t, -1) for t in texts] + [-1], dtype=np.int32)  # last entry serves code -1
    return remap[codes], labels


@dataclass(frozen=True)
class TargetValue:
    value: str
    count: int


@dataclass(frozen=True)
class TargetSummary:
    """The outcomes found in a target column, with counts, and the value suggested as bad."""

    column: str
    values: tuple[TargetValue, ...]
    n_rows: int
    n_missing: int
    suggested_bad: str | None

    @property
    def labels(self) -> list[str]:
        return [v.value for v in self.values]

    @property
    def is_binary(self) -> bool:
        return len(self.values) == 2

    @property
    def problem(self) -> str | None:
        """Why this column cannot be used as a target as it stands (None when it can)."""
        if not self.values:
            return f"The column '{self.column}' has no outcome in any row."
        if len(self.values) == 1:
            return (f"The column '{self.column}' holds only one outcome ('{self.values[0].value}'), so good and bad "
                    "applicants cannot be told apart.")
        if len(self.values) > 2:
            return (f"The column '{self.column}' has {len(self.values)} outcomes ({_shown_counts(self.values)}); "
                    "pick a binary column, or pick the value meaning bad and count every other value as good.")
        return None

    def to_frame(self) -> pd.DataFrame:
        """One row per outcome (and one for rows without an outcome): value, rows, share."""
        rows = [{"value": v.value, "rows": v.count} for v in self.values]
        if self.n_missing:
            rows.append({"value": "(no outcome)", "rows": self.n_missing})
        out = pd.DataFrame(rows, columns=["value", "rows"])
        out["share"] = out["rows"] / max(self.n_rows, 1)
        out["suggested bad"] = out["value"] == self.suggested_bad
        return out


def _shown_counts(values: tuple[TargetValue, ...]) -> str:
    shown = ", ".join(f"'{v.value}' ({v.count:,})" for v in values[:_SHOWN_VALUES])
    return shown + (f" and {len(values) - _SHOWN_VALUES} more" if len(values) > _SHOWN_VALUES else "")


def _target_column(frame: pd.DataFrame, target: str) -> str:
    try:
        return resolve_column(frame.columns, target, "target column")
    except DataError as err:
        raise DataError(err.message, f"Pick the column that says whether the applicant defaulted. {err.hint}") from None


def target_summary(frame: pd.DataFrame, target: str) -> TargetSummary:
    """The target's outcomes with counts (what the data page offers as the choice of the bad value)."""
    column = _target_column(frame, target)
    codes, labels = target_labels(frame[column])
    counts = np.bincount(codes[codes >= 0], minlength=len(labels)) if len(labels) else np.zeros(0, dtype=int)
    values = tuple(TargetValue(v, int(n)) for v, n in zip(labels, counts))
    return TargetSummary(column, values, len(frame), int((codes < 0).sum()), guess_bad_value(list(labels)))


def target_values(frame: pd.DataFrame, target: str) -> list[str]:
    """The distinct outcomes of the target column as canonical text, sorted."""
    column = _target_column(frame, target)
    return list(target_labels(frame[column])[1])


def guess_bad_value(values: list[str]) -> str | None:
    lowered = {v.lower(): v for v in values}
    for word in _BAD_WORDS:
        if word in lowered:
            return lowered[word]
    return None


def resolve_bad_value(values: list[str], bad_value: object) -> str:
    """The target value meant by ``bad_value``: exact text first, then the same word in another case."""
    bad = label_text(bad_value)
    if bad not in values:  # 'yes' for Yes/No, 'true' for True/False
        same = [v for v in values if v.lower() == bad.lower()]
        if len(same) == 1:
            return same[0]
    return bad


def check_target(column: str, labels: tuple[str, ...], counts: np.ndarray, bad_value: object,
                 one_vs_rest: bool = False) -> str:
    """The bad label, after refusing a target that cannot separate good from bad (one sentence + a hint)."""
    values = tuple(TargetValue(v, int(n)) for v, n in zip(labels, counts))
    if not values:
        raise DataError(f"The target column '{column}' has no outcome in any row.",
                        "Pick the column that says whether the applicant defaulted.")
    if len(values) == 1:
        raise DataError(
            f"The target column '{column}' holds only one outcome ('{values[0].value}'), so good and bad "
            "applicants cannot be told apart.",
            "Upload data with both good and bad outcomes, or pick the column that flags defaults.",
        )
    if len(values) != 2 and not one_vs_rest:
        raise DataError(
            f"The target column '{column}' must have exactly two outcomes, but has {len(values)}: {_shown_counts(values)}.",
            "Pick a binary default flag (e.g. good/bad or 0/1), recode the column, or choose the value meaning bad "
            "and count every other value as good (one-vs-rest).",
        )
    bad = resolve_bad_value(list(labels), bad_value)
    if bad not in labels:
        raise DataError(
            f"'{bad_value}' does not occur in the target column '{column}' (values: {', '.join(labels)}).",
            "Pick the value that marks a default (bad outcome).",
        )
    return bad


def encode_target(frame: pd.DataFrame, target: str, bad_value: str, one_vs_rest: bool = False) -> np.ndarray:
    """1 where the outcome is ``bad_value``, 0 elsewhere (int8); refuses rows without an outcome."""
    column = _target_column(frame, target)
    codes, labels = target_labels(frame[column])
    n_missing = int((codes < 0).sum())
    if n_missing:
        raise DataError(
            f"The target column '{column}' is empty in {n_missing} row(s).",
            "Remove rows without an outcome; they cannot be used to validate a model.",
        )
    counts = np.bincount(codes, minlength=len(labels))
    bad = check_target(column, labels, counts, bad_value, one_vs_rest)
    return (codes == labels.index(bad)).astype(np.int8)
