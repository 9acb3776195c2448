"""Which column holds the exposure (loan amount) for expected loss, whether it can, and the constant fallback.

Expected loss is PD × LGD × EAD summed over the approved book (BCBS 2006 ¶272). A real file often
has no amount column, or has one that was standardised for the model (negative values, mean zero):
summing it as money would print a meaningless, even negative, "loss". So a column is offered as a
guess only when it can be an amount on the evaluation rows — finite, never negative, not all zero —
and its name says so (exposure, EAD, amount, balance, limit, loan, principal). When no column
qualifies, or the user prefers, every applicant counts for one unit (``PER_APPLICANT``): the
expected loss is then the expected number of defaults among the approved times LGD, which is
always defined. The Decision impact page and the report make the same choice through these functions.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import SpecError
from core.formatting import first_upper, fmt_num
from core.workspace.binding import Workspace

# Checked in this order; "ead" only as a whole word (it hides in "head", "lead", "ready").
EXPOSURE_WORDS = ("exposure", "ead", "amount", "balance", "limit", "loan", "principal")
PER_APPLICANT = "1 unit per applicant"  # the constant exposure: expected loss counts expected defaults × LGD
PER_APPLICANT_NOTE = "every applicant counts for one unit of exposure, so expected loss is the expected number of defaults × LGD"


@dataclass(frozen=True)
class ExposureColumn:
    """A numeric column of the data as a candidate exposure: why it cannot be one (None when it can), and its name's hint."""

    name: str
    problem: str | None
    name_rank: int | None  # position of the first exposure word in its name (lower = likelier), None without one

    @property
    def usable(self) -> bool:
        return self.problem is None


def _name_rank(name: str) -> int | None:
    text = str(name)
    tokens = {t.lower() for t in re.split(r"[^A-Za-z0-9]+|(?<=[a-z])(?=[A-Z])", text) if t}
    lower = text.lower()
    for i, word in enumerate(EXPOSURE_WORDS):
        if (word in tokens) if word == "ead" else (word in lower):
            return i
    return None


def exposure_problem(values, column: str) -> str | None:
    """Why ``values`` cannot be loan amounts (missing, infinite, negative or all zero), or None when they can."""
    v = pd.to_numeric(pd.Series(np.asarray(values).reshape(-1)), errors="coerce").to_numpy(dtype=np.float64)
    if len(v) == 0:
        return f"'{column}' has no value on the evaluation rows"
    bad = ~np.isfinite(v)
    if bad.any():
        return f"'{column}' is missing or not a number for {int(bad.sum()):,} of {len(v):,} evaluated applicants"
    if (v < 0).any():
        return (f"'{column}' has negative values (down to {fmt_num(v.min(), 2)}), so it is not an amount of money — "
                "perhaps it was standardised for the model")
    if not (v > 0).any():
        return f"'{column}' is zero for every evaluated applicant"
    return None


def exposure_columns(ws: Workspace) -> tuple[ExposureColumn, ...]:
    """Every numeric column other than the target, judged on the evaluation rows, in file order."""
    frame = ws.data.frame
    out = []
    for c in frame.columns:
        if c == ws.data.target or not pd.api.types.is_numeric_dtype(frame[c]) or pd.api.types.is_bool_dtype(frame[c]):
            continue
        out.append(ExposureColumn(str(c), exposure_problem(frame[c].to_numpy()[ws.eval_idx], str(c)), _name_rank(str(c))))
    return tuple(out)


def exposure_guess(columns: tuple[ExposureColumn, ...]) -> str | None:
    """The usable column whose name most clearly says exposure (exposure, EAD, amount, …), or None: then 1 unit per applicant.

    A usable column without such a name is never guessed: "age" is finite and positive too.
    """
    named = [c for c in columns if c.usable and c.name_rank is not None]
    return min(named, key=lambda c: c.name_rank).name if named else None


def exposure_values(ws: Workspace, column: str) -> np.ndarray:
    """The exposure of each evaluated applicant: the column's values, or ones for ``PER_APPLICANT``.

    Raises SpecError (a sentence for the page) when the column is not in the data or cannot be an amount.
    """
    if column == PER_APPLICANT:
        return np.ones(len(ws.eval_idx), dtype=np.float64)
    if column not in ws.data.frame.columns:
        raise SpecError(f"The data has no column '{column}' to use as exposure.", f"Pick the loan amount column or '{PER_APPLICANT}'.")
    values = ws.data.frame[column].to_numpy()[ws.eval_idx]
    problem = exposure_problem(values, column)
    if problem is not None:
        raise SpecError(f"{first_upper(problem)}.", f"Pick the loan amount column or '{PER_APPLICANT}'.")
    return np.asarray(values, dtype=np.float64)
