"""What a model does to the lending book at a cutoff: approvals, bad rates, flips and expected loss.

Decisions here always mean: *decline* when P(bad) >= cutoff, *approve* otherwise.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import MetricError, SpecError
from core.metrics._validation import (
    _CONVERSION_ERRORS,
    _as_count,
    _as_number,
    _both_classes,
    as_scores,
    check_cutoff,
    check_paired,
    check_rate,
    check_y_score,
)

DEFAULT_LGD = 0.45  # Basel foundation IRB LGD for senior unsecured exposures


def decline(scores: np.ndarray, cutoff: float) -> np.ndarray:
    """True where the model declines: P(bad) at or above the cutoff."""
    return scores >= cutoff


def cutoff_for_approval(scores: Any, approval_rate: float) -> float:
    """The cutoff at which these scores approve (as nearly as ties allow) the given share.

    The cutoff sits halfway between the last approved and the first declined score, so a tiny
    change in a score does not flip the boundary applicant. Ties at the boundary are decided
    together (all declined), and since a cutoff lies strictly inside (0, 1), applicants scored
    P(bad) = 1 are always declined and P(bad) = 0 always approved, whatever the target.
    """
    s = np.sort(as_scores(scores))
    r = check_rate(approval_rate)
    if len(s) == 0:
        raise MetricError("There are no scores to set a cutoff on.", "Score some applicants first.")
    k = int(round(r * len(s)))
    lo = 0.0 if k <= 0 else s[k - 1]  # last approved score (0 when nobody is approved)
    hi = 1.0 if k >= len(s) else s[k]  # first declined score (1 when everybody is approved)
    c = (lo + hi) / 2.0
    if c <= lo and hi > lo:  # adjacent floats (or tiny scores): the midpoint rounds onto lo
        c = float(np.nextafter(lo, np.inf))
    # stay strictly inside (0, 1) without jumping over scores: the smallest step from each end
    return float(min(max(c, np.nextafter(0.0, 1.0)), np.nextafter(1.0, 0.0)))


@dataclass(frozen=True)
class CutoffChoice:
    """The cutoff in force and why: shown next to every decision number."""

    cutoff: float
    how: str
    approval_rate: float | None = None

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([{"cutoff": self.cutoff, "how": self.how, "approval_rate": self.approval_rate}])


def default_cutoff(y_true: Any, original_scores: Any) -> CutoffChoice:
    """Decline as many applicants as the data has bad ones: the original's cutoff at 1 − bad rate.

    A silent 0.5 would approve nearly everyone on imbalanced credit data; this default keeps the
    original model's decline volume equal to the observed default volume, which a committee can
    check on the data in one line.
    """
    y, s = check_y_score(y_true, original_scores, "original scores")
    _both_classes(y)
    rate = 1.0 - float(y.mean())
    return CutoffChoice(
        cutoff_for_approval(s, rate),
        f"original model approves {rate:.1%} of applicants (declines as many as the {y.mean():.1%} observed bad rate)",
        rate,
    )


def resolve_cutoff(y_true: Any, original_scores: Any, *, cutoff: float | None = None, approval_rate: float | None = None) -> CutoffChoice:
    """A user cutoff, or the cutoff hitting a target approval rate for the original, or the default."""
    if cutoff is not None and approval_rate is not None:
        raise SpecError("Give either a cutoff or a target approval rate, not both.", "Pick one way to set decisions.")
    if cutoff is not None:
        return CutoffChoice(check_cutoff(cutoff), "set by the user")
    if approval_rate is not None:
        r = check_rate(approval_rate)
        return CutoffChoice(cutoff_for_approval(original_scores, r), f"original model approves {r:.1%} of applicants", r)
    return default_cutoff(y_true, original_scores)


@dataclass(frozen=True)
class DecisionRule:
    """How decisions are made, as the user set it: a fixed cutoff, a target approval rate, or the default.

    The rule is resolved against the *original* model's scores on the evaluation rows, so both
    models are always judged at the same cutoff.
    """

    cutoff: float | None = None
    approval_rate: float | None = None

    def __post_init__(self) -> None:
        if self.cutoff is not None and self.approval_rate is not None:
            raise SpecError("Give either a cutoff or a target approval rate, not both.", "Pick one way to set decisions.")

    @property
    def key(self) -> str:
        return f"cutoff={self.cutoff!r}|approval={self.approval_rate!r}"

    def resolve(self, y_true: Any, original_scores: Any) -> CutoffChoice:
        return resolve_cutoff(y_true, original_scores, cutoff=self.cutoff, approval_rate=self.approval_rate)

    def to_dict(self) -> dict:
        return {"cutoff": self.cutoff, "approval_rate": self.approval_rate}


@dataclass(frozen=True)
class Confusion:
    cutoff: float
    true_positive: int  # bad and declined
    false_positive: int  # good and declined
    true_negative: int  # good and approved
    false_negative: int  # bad and approved

    @property
    def n(self) -> int:
        return self.true_positive + self.false_positive + self.true_negative + self.false_negative

    @property
    def accuracy(self) -> float:
        return (self.true_positive + self.true_negative) / self.n if self.n else float("nan")

    @property
    def precision(self) -> float:
        d = self.true_positive + self.false_positive
        return self.true_positive / d if d else float("nan")

    @property
    def recall(self) -> float:
        d = self.true_positive + self.false_negative
        return self.true_positive / d if d else float("nan")

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if (p + r) > 0 else float("nan")

    @property
    def approval_rate(self) -> float:
        return (self.true_negative + self.false_negative) / self.n if self.n else float("nan")

    @property
    def approved_bad_rate(self) -> float:
        approved = self.true_negative + self.false_negative
        return self.false_negative / approved if approved else float("nan")


def confusion(y_true: Any, y_score: Any, *, cutoff: float) -> Confusion:
    """Declined bads (TP), declined goods (FP), approved goods (TN), approved bads (FN) at ``cutoff``."""
    y, s = check_y_score(y_true, y_score)
    return _confusion_kernel(y, s, check_cutoff(cutoff))


def _confusion_kernel(y: np.ndarray, s: np.ndarray, c: float) -> Confusion:
    d = decline(s, c)
    bad = y == 1
    return Confusion(c, int((d & bad).sum()), int((d & ~bad).sum()), int((~d & ~bad).sum()), int((~d & bad).sum()))


def strategy_curve(y_true: Any, y_score: Any, points: int = 101) -> pd.DataFrame:
    """Approval rate vs bad rate of the approved, approving the safest applicants first."""
    y, s = check_y_score(y_true, y_score)
    if len(s) == 0:
        raise MetricError("There are no applicants for a strategy curve.", "Pass at least one applicant.")
    points = _as_count(points, "number of curve points", "Use e.g. 101 points.")
    if points < 2:
        raise SpecError(f"A strategy curve needs at least 2 points, got {points}.", "Use e.g. 101 points.")
    order = np.argsort(s, kind="mergesort")
    s_sorted = s[order]
    cum_bad = np.concatenate([[0], np.cumsum(y[order])])
    ks_ = np.unique(np.round(np.linspace(1, len(s), min(points, len(s)))).astype(int))
    return pd.DataFrame({
        "approval_rate": ks_ / len(s),
        "approved": ks_,
        "approved_bad_rate": cum_bad[ks_] / ks_,
        "cutoff": [float(s_sorted[k]) if k < len(s) else 1.0 for k in ks_],
    })


@dataclass(frozen=True)
class Flips:
    """Applicants whose decision differs between the two models at the same cutoff.

    With no applicants at all the result is defined as nothing flipped (count 0, share 0).
    """

    cutoff: float
    n: int
    count: int
    good_declined: int  # good applicants the original approved and the pruned model declines
    bad_approved: int  # bad applicants the original declined and the pruned model approves
    good_approved: int  # good applicants newly approved (a gain)
    bad_declined: int  # bad applicants newly declined (a gain)
    rows: pd.DataFrame = field(repr=False)

    @property
    def share(self) -> float:
        return self.count / self.n if self.n else 0.0

    def to_frame(self) -> pd.DataFrame:
        """The flipped applicants with both scores and both decisions, largest score change first."""
        return self.rows.copy()

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"change": "good applicant newly declined", "applicants": self.good_declined, "effect": "lost business"},
            {"change": "bad applicant newly approved", "applicants": self.bad_approved, "effect": "new losses"},
            {"change": "good applicant newly approved", "applicants": self.good_approved, "effect": "gained business"},
            {"change": "bad applicant newly declined", "applicants": self.bad_declined, "effect": "avoided losses"},
        ])


def flips(y_true: Any, original: Any, pruned: Any, *, cutoff: float, row_ids: Any = None) -> Flips:
    """Applicants the two models decide differently at the same cutoff, by outcome."""
    y, so, sp = check_paired(y_true, original, pruned)
    c = check_cutoff(cutoff)
    do, dp = decline(so, c), decline(sp, c)
    changed = do != dp
    bad = y == 1
    try:
        ids = np.arange(len(so)) if row_ids is None else np.asarray(row_ids).reshape(-1)
    except _CONVERSION_ERRORS as exc:
        raise MetricError("The row ids are not a flat list.", "Pass one id per applicant.") from exc
    if len(ids) != len(so):
        raise MetricError(f"{len(ids)} row ids were given for {len(so)} applicants.", "Pass one id per applicant.")
    label_text = np.where(bad, "bad", "good")
    rows = pd.DataFrame({
        "row": ids[changed],
        "outcome": label_text[changed],
        "pd_original": so[changed],
        "pd_pruned": sp[changed],
        "decision_original": np.where(do[changed], "decline", "approve"),
        "decision_pruned": np.where(dp[changed], "decline", "approve"),
    })
    rows["pd_change"] = rows["pd_pruned"] - rows["pd_original"]
    rows = rows.reindex(rows["pd_change"].abs().sort_values(ascending=False).index).reset_index(drop=True)
    return Flips(
        cutoff=c, n=len(so), count=int(changed.sum()),
        good_declined=int((~do & dp & ~bad).sum()), bad_approved=int((do & ~dp & bad).sum()),
        good_approved=int((do & ~dp & ~bad).sum()), bad_declined=int((~do & dp & bad).sum()),
        rows=rows,
    )


@dataclass(frozen=True)
class ExpectedLoss:
    """Loss of the book each model approves: estimated (its own PD × LGD × EAD) and observed."""

    lgd: float
    exposure_column: str
    approved_exposure_original: float
    approved_exposure_pruned: float
    expected_loss_original: float
    expected_loss_pruned: float
    observed_loss_original: float
    observed_loss_pruned: float

    def to_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"quantity": "approved exposure", "original": self.approved_exposure_original, "pruned": self.approved_exposure_pruned},
            {"quantity": "expected loss (PD × LGD × EAD)", "original": self.expected_loss_original, "pruned": self.expected_loss_pruned},
            {"quantity": "observed loss (bads × LGD × EAD)", "original": self.observed_loss_original, "pruned": self.observed_loss_pruned},
        ]).assign(change=lambda f: f["pruned"] - f["original"])


def expected_loss(
    y_true: Any, original: Any, pruned: Any, exposure: Any, *, cutoff: float, lgd: float = DEFAULT_LGD,
    exposure_column: str = "exposure",
) -> ExpectedLoss:
    """Expected loss (PD × LGD × EAD, Basel II IRB, BCBS 2006 ¶272) of the book each model approves."""
    y, so, sp = check_paired(y_true, original, pruned)
    try:
        ead = np.asarray(pd.to_numeric(pd.Series(np.asarray(exposure).reshape(-1)), errors="raise"), dtype=np.float64)
    except _CONVERSION_ERRORS as exc:
        raise MetricError(f"The exposure column '{exposure_column}' is not numeric.", "Pick the loan amount column.") from exc
    if len(ead) != len(so):
        raise MetricError(f"There are {len(so)} scores but {len(ead)} exposures.", "Pick an exposure column of the evaluated rows.")
    if not np.isfinite(ead).all() or (ead < 0).any():
        raise MetricError(f"The exposure column '{exposure_column}' has missing, infinite or negative amounts.", "Pick the loan amount column.")
    lgd = _as_number(lgd, "LGD", f"Use a loss-given-default share such as {DEFAULT_LGD:.0%}.")
    if not (0 < lgd <= 1):
        raise SpecError(f"LGD {lgd} is outside (0, 1].", f"Use a loss-given-default share such as {DEFAULT_LGD:.0%}.")
    c = check_cutoff(cutoff)
    ao, ap = ~decline(so, c), ~decline(sp, c)
    return ExpectedLoss(
        lgd=lgd, exposure_column=exposure_column,
        approved_exposure_original=float(ead[ao].sum()), approved_exposure_pruned=float(ead[ap].sum()),
        expected_loss_original=float((so * lgd * ead)[ao].sum()), expected_loss_pruned=float((sp * lgd * ead)[ap].sum()),
        observed_loss_original=float((y * lgd * ead)[ao].sum()), observed_loss_pruned=float((y * lgd * ead)[ap].sum()),
    )
