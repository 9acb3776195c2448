"""Missing values in the model's inputs and the target: a visible, recorded choice — never a dead end, never silent.

Missing values are normal in credit data (thin files, ratios with a zero denominator). When the
rows a model must score have missing (empty, NaN) or infinite inputs, the user chooses one of:

* ``drop`` — leave out the affected rows. The choice states how many, their share, and the bad
  rate of the dropped rows against the rest, because dropping is not neutral when missingness is
  informative (Little & Rubin, *Statistical Analysis with Missing Data*, 3rd ed., 2019, §1.3:
  complete-case analysis is biased unless data are missing completely at random). The original
  row numbers of the kept rows stay on the ``Dataset`` so flips still point at file rows.
* ``impute`` — fill each missing value with one number: the training statistic the model's schema
  records when it has one (a numeric variable's training mean, which its standardisation maps
  to 0; a categorical variable's training mode), else the median (numbers) or the most frequent
  category of this data's rows — single imputation by a central value (Little & Rubin §4.2), which
  narrows the spread of the variable; the values used are recorded.
* ``pass_through`` — give the model NaN where a value is missing (±inf becomes NaN too), for
  models that handle missing values themselves. Accepted only after a probe: the model must
  return finite scores on rows with NaN (``probe_pass_through``).

Rows without an outcome (target empty) cannot be imputed: every choice leaves them out, counted.
With nothing chosen and something missing, ``MissingValuesError`` carries the counts per column
and the three choices with their consequences, so the dashboard shows choices and the CLI names
its flag. Infinite values count as missing everywhere.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError

DROP = "drop"
IMPUTE = "impute"
PASS_THROUGH = "pass_through"
STRATEGIES = (DROP, IMPUTE, PASS_THROUGH)
STRATEGY_LABELS = {
    DROP: "Drop the affected rows",
    IMPUTE: "Impute the missing values",
    PASS_THROUGH: "Pass them through to the model (it handles NaN itself)",
}
PROBE_ROWS = 256
_SHOWN_COLUMNS = 8


@dataclass(frozen=True)
class MissingValues:
    """The user's choice for missing or infinite inputs: ``drop``, ``impute`` or ``pass_through``."""

    strategy: str

    def __post_init__(self) -> None:
        if self.strategy not in STRATEGIES:
            raise DataError(f"Unknown missing-value handling '{self.strategy}'.", "Use drop, impute or pass-through.")

    @classmethod
    def of(cls, value: MissingValues | str | None) -> MissingValues | None:
        """Accept a policy, its name (``pass-through`` as typed on a command line too) or None (no choice)."""
        if value is None or isinstance(value, MissingValues):
            return value
        return cls(str(value).strip().lower().replace("-", "_").replace(" ", "_"))

    @property
    def label(self) -> str:
        return STRATEGY_LABELS[self.strategy]


@dataclass(frozen=True)
class ColumnMissing:
    """Missing (empty or NaN) and infinite values of one input variable, among the rows read."""

    column: str
    kind: str  # "numeric" | "categorical"
    n_missing: int  # empty, NaN or ±inf
    n_infinite: int
    n_rows: int

    @property
    def share(self) -> float:
        return self.n_missing / self.n_rows if self.n_rows else float("nan")

    def describe(self) -> str:
        if self.kind == "categorical":
            return f"'{self.column}' has {self.n_missing:,} missing value(s)"
        inf = f", {self.n_infinite:,} of them infinite" if self.n_infinite else ""
        return f"'{self.column}' has {self.n_missing:,} missing or infinite value(s){inf}"


@dataclass(frozen=True)
class Imputation:
    """The value that replaced the missing entries of one variable, and where it came from."""

    column: str
    value: float | str
    source: str
    n_filled: int


@dataclass(frozen=True)
class MissingChoice:
    """One way out of a missing-value error, with what it does to the rows (shown next to its button)."""

    strategy: str
    label: str
    consequence: str


def _rate(y: np.ndarray) -> float:
    return float(y.mean()) if len(y) else float("nan")


def _pct(x: float) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:.1%}"


@dataclass(frozen=True)
class MissingReport:
    """What was missing and what was done about it: the record the manifest and the report print."""

    strategy: str | None  # None: nothing chosen (and nothing was missing)
    n_rows_read: int
    n_rows_used: int
    n_rows_affected: int  # rows with at least one missing or infinite input (among rows with an outcome)
    n_rows_without_target: int
    columns: tuple[ColumnMissing, ...] = ()
    imputations: tuple[Imputation, ...] = ()
    bad_rate_affected: float = float("nan")  # among rows with missing inputs and a known outcome
    bad_rate_complete: float = float("nan")  # among complete rows
    probe: str | None = None  # what the pass-through probe found
    dropped_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64), repr=False, compare=False)

    @property
    def n_rows_dropped(self) -> int:
        return self.n_rows_read - self.n_rows_used

    @property
    def share_dropped(self) -> float:
        return self.n_rows_dropped / self.n_rows_read if self.n_rows_read else 0.0

    @property
    def anything_missing(self) -> bool:
        return bool(self.n_rows_affected or self.n_rows_without_target)

    @property
    def summary(self) -> str:
        """One paragraph for the report: what was missing, what was chosen, what it did to the rows."""
        if not self.anything_missing:
            return "No missing or infinite values in the model's inputs or the target."
        parts = []
        if self.n_rows_affected:
            cols = ", ".join(c.describe() for c in self.columns[:_SHOWN_COLUMNS])
            more = f" and {len(self.columns) - _SHOWN_COLUMNS} more column(s)" if len(self.columns) > _SHOWN_COLUMNS else ""
            parts.append(f"{self.n_rows_affected:,} of {self.n_rows_read:,} row(s) had missing or infinite inputs ({cols}{more}).")
            rates = (f"bad rate {_pct(self.bad_rate_affected)} in those rows against {_pct(self.bad_rate_complete)} "
                     "in the complete rows")
            if self.strategy == DROP:
                parts.append(f"Chosen: drop them — {self.n_rows_affected:,} row(s) left out ({rates}).")
            elif self.strategy == IMPUTE:
                fills = "; ".join(f"'{i.column}' ← {_value(i.value)} ({i.source}, {i.n_filled:,} value(s))" for i in self.imputations)
                parts.append(f"Chosen: impute ({rates}): {fills}.")
            elif self.strategy == PASS_THROUGH:
                parts.append(f"Chosen: pass them to the model as NaN ({rates}). {self.probe or ''}".strip())
        if self.n_rows_without_target:
            parts.append(f"{self.n_rows_without_target:,} row(s) without an outcome in the target were left out.")
        parts.append(f"{self.n_rows_used:,} row(s) used.")
        return " ".join(parts)

    def to_dict(self, max_rows: int = 1000) -> dict[str, Any]:
        """JSON-ready record for the manifest (at most ``max_rows`` dropped row numbers are listed)."""
        def num(x: float) -> float | None:
            return None if not np.isfinite(x) else round(float(x), 6)

        return {
            "strategy": self.strategy,
            "rows_read": self.n_rows_read,
            "rows_used": self.n_rows_used,
            "rows_with_missing_inputs": self.n_rows_affected,
            "rows_without_target": self.n_rows_without_target,
            "rows_dropped": self.n_rows_dropped,
            "share_dropped": num(self.share_dropped),
            "bad_rate_rows_with_missing": num(self.bad_rate_affected),
            "bad_rate_complete_rows": num(self.bad_rate_complete),
            "columns": [{**asdict(c), "share": num(c.share)} for c in self.columns],
            "imputations": [asdict(i) for i in self.imputations],
            "pass_through_probe": self.probe,
            "dropped_rows": [int(r) for r in self.dropped_rows[:max_rows]],
            "dropped_rows_listed": int(min(len(self.dropped_rows), max_rows)),
            "summary": self.summary,
        }

    def to_frame(self) -> pd.DataFrame:
        """One row per input variable with missing values: counts, share, and the value imputed (if any)."""
        fills = {i.column: i for i in self.imputations}
        rows = [{
            "variable": c.column, "kind": c.kind, "missing": c.n_missing, "of which infinite": c.n_infinite,
            "share": c.share, "imputed with": _value(fills[c.column].value) if c.column in fills else "",
            "source": fills[c.column].source if c.column in fills else "",
        } for c in self.columns]
        return pd.DataFrame(rows, columns=["variable", "kind", "missing", "of which infinite", "share", "imputed with", "source"])


def _value(v: float | str) -> str:
    return f"'{v}'" if isinstance(v, str) else f"{v:.6g}"


class MissingValuesError(DataError):
    """Missing or infinite values were found and no handling was chosen.

    Carries what a page needs to offer the choice instead of a dead end: the counts per column,
    the rows affected and their bad rate against the complete rows, and the three choices with
    their consequences (``choices``).
    """

    def __init__(self, message: str, hint: str, *, columns: Sequence[ColumnMissing], n_rows: int, n_rows_affected: int,
                 n_rows_without_target: int, bad_rate_affected: float, bad_rate_complete: float,
                 choices: Sequence[MissingChoice]) -> None:
        super().__init__(message, hint)
        self.columns = tuple(columns)
        self.n_rows = n_rows
        self.n_rows_affected = n_rows_affected
        self.n_rows_without_target = n_rows_without_target
        self.bad_rate_affected = bad_rate_affected
        self.bad_rate_complete = bad_rate_complete
        self.choices = tuple(choices)

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"variable": c.column, "kind": c.kind, "missing": c.n_missing, "of which infinite": c.n_infinite,
                              "share": c.share} for c in self.columns],
                            columns=["variable", "kind", "missing", "of which infinite", "share"])


def missing_values_error(
    columns: Sequence[ColumnMissing], first_column: str | None, target: str, n_rows: int,
    affected: np.ndarray, without_target: np.ndarray, y: np.ndarray, has_schema: bool,
) -> MissingValuesError:
    """The error that replaces a dead end: counts, consequences of each choice, one sentence + a hint.

    ``affected`` / ``without_target`` are row masks; ``y`` is 1 = bad, 0 = good, -1 = no outcome.
    """
    known = ~without_target
    n_aff = int((affected & known).sum())
    n_nt = int(without_target.sum())
    br_aff, br_rest = _rate(y[affected & known]), _rate(y[~affected & known])
    parts = []
    if n_nt:
        parts.append(f"The target column '{target}' is empty in {n_nt:,} row(s).")
    if n_aff:
        listed = [c for c in columns if c.n_missing]
        shown = "; ".join(c.describe() for c in listed[:_SHOWN_COLUMNS])
        more = f"; and {len(listed) - _SHOWN_COLUMNS} more column(s)" if len(listed) > _SHOWN_COLUMNS else ""
        parts.append(f"{n_aff:,} row(s) have missing or infinite inputs (first in column '{first_column}'): {shown}{more}.")
    share = n_aff / n_rows if n_rows else 0.0
    how = ("numbers with the training mean in the model's schema, categories with the most frequent of the "
           "categories the model knows" if has_schema else "each column's median in this data")
    rates = f"bad rate {_pct(br_aff)} against {_pct(br_rest)} in the other rows"
    choices = (
        MissingChoice(DROP, STRATEGY_LABELS[DROP],
                      f"Leaves out {n_aff:,} row(s) ({share:.2%} of the data; {rates})."),
        MissingChoice(IMPUTE, STRATEGY_LABELS[IMPUTE],
                      f"Keeps every row; fills {sum(c.n_missing for c in columns):,} value(s) with {how} (recorded)."),
        MissingChoice(PASS_THROUGH, STRATEGY_LABELS[PASS_THROUGH],
                      "Keeps every row and gives the model NaN; accepted only if the model returns finite scores "
                      "on rows with NaN (checked)."),
    )
    note = f"every choice leaves out the {n_nt:,} row(s) without an outcome and records it"
    if n_nt:
        choices = tuple(replace(c, consequence=f"{c.consequence} Also {note}.") for c in choices)
    if n_aff:
        hint = (f"Impute them ({how}), drop the {n_aff:,} affected row(s) ({share:.2%}; {rates}), or pass them "
                "through if the model handles missing values itself; nothing is changed until one is chosen.")
        if n_nt:
            hint += f" Rows without an outcome are left out under every choice ({n_nt:,})."
    else:
        hint = (f"Remove rows without an outcome, or choose a missing-value handling (drop, impute or pass-through): "
                f"{note}.")
    return MissingValuesError(
        " ".join(parts), hint, columns=columns, n_rows=n_rows, n_rows_affected=n_aff, n_rows_without_target=n_nt,
        bad_rate_affected=br_aff, bad_rate_complete=br_rest, choices=choices,
    )


def probe_pass_through(score: Callable[[np.ndarray], np.ndarray], X: np.ndarray, report: MissingReport,
                       max_rows: int = PROBE_ROWS) -> MissingReport:
    """Accept pass-through only if the model returns finite scores on rows with NaN inputs.

    ``score`` maps input rows to the model's raw outputs. Up to ``max_rows`` rows with NaN, spread
    evenly over the data (deterministic), are scored; any NaN/inf output, or an exception, refuses
    pass-through with the other two choices as the way out. Returns the report with the finding.
    """
    rows = np.flatnonzero(np.isnan(X).any(axis=1)) if X.size else np.zeros(0, dtype=np.int64)
    if len(rows) == 0:
        return replace(report, probe="No missing value reaches the model.")
    pick = np.unique(rows[np.linspace(0, len(rows) - 1, min(max_rows, len(rows))).round().astype(np.int64)])
    try:
        out = np.asarray(score(X[pick]), dtype=np.float64).reshape(len(pick), -1)
    except DataError:
        raise
    except Exception as exc:  # a model may assert on NaN: that is a refusal, not a crash
        raise DataError(
            f"The model fails on rows with missing inputs ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}), "
            "so it does not handle missing values itself.",
            "Choose drop or impute instead of pass-through.",
        ) from exc
    bad = int((~np.isfinite(out)).any(axis=1).sum())
    if bad:
        raise DataError(
            f"The model does not handle missing values itself: it returns NaN or infinite scores for {bad} of "
            f"{len(pick)} probed row(s) with missing inputs.",
            "Choose drop or impute instead of pass-through.",
        )
    return replace(report, probe=f"The model returned finite scores on all {len(pick)} probed row(s) with missing inputs "
                                 f"({len(rows):,} such row(s) in all).")
