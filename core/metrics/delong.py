"""Is a change in AUC more than sampling noise? DeLong's variance of (correlated) AUCs and the paired test.

Both models score the *same* applicants, so their AUCs are correlated and an unpaired comparison
(two separate intervals) would be far too conservative. DeLong, DeLong & Clarke-Pearson (1988),
"Comparing the areas under two or more correlated receiver operating characteristic curves: a
nonparametric approach", Biometrics 44(3), 837–845, estimate the covariance of AUCs from each
applicant's *structural component* (placement value):

* for a bad applicant i:  V10(i) = share of goods it outranks (ties count ½),
* for a good applicant j: V01(j) = share of bads that outrank it (ties count ½),

AUC = mean V10 = mean V01, and Var(AUC) = S10 / m + S01 / n, where m, n are the numbers of bads and
goods and S10, S01 the sample variances (ddof = 1) of V10 and V01. For a difference of AUCs the
same formula applies to the differences of the components, which is never negative and exactly 0
when both models rank applicants identically.

Sun & Xu (2014), "Fast implementation of DeLong's algorithm for comparing the areas under correlated
receiver operating characteristic curves", IEEE Signal Processing Letters 21(11), 1389–1393, show
(Theorem 1) that the components follow from midranks — combined, among bads, among goods — so the
O(m·n) pairwise comparison becomes a sort. Here one sort per model suffices: within a run of tied
scores, the midrank differences reduce to "goods strictly below + ½ goods tied" (and the mirror for
goods), read off cumulative counts of the sorted scores.
"""
from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import MetricError, SpecError
from core.metrics._validation import _as_number, _both_classes, check_paired, check_y_score

_LABELS = {
    "auc_a": "AUC, model A (original)", "auc_b": "AUC, model B (pruned)", "delta": "ΔAUC (B − A)",
    "se": "Standard error of ΔAUC", "z": "z statistic", "p_value": "p-value (two-sided)",
    "low": "CI low (ΔAUC)", "high": "CI high (ΔAUC)", "level": "Confidence level",
    "se_a": "Standard error of AUC A", "se_b": "Standard error of AUC B",
    "correlation": "Correlation of the two AUCs", "n": "Applicants", "n_bad": "Bad applicants",
}


def _placements(y: np.ndarray, s: np.ndarray, n_bad: int, n_good: int) -> np.ndarray:
    """Each applicant's structural component, in row order: V10 for bads, V01 for goods (one sort).

    Equivalent to Sun & Xu's (2014) Theorem 1: for a bad, (midrank among all − midrank among bads) / n
    = (goods strictly below + ½ goods tied) / n; for a good, 1 − (midrank among all − midrank among
    goods) / m = (bads strictly above + ½ bads tied) / m. Counts are exact integers in float64.
    """
    order = np.argsort(s)  # the order within a run of ties does not matter
    s_sorted = s[order]
    y_sorted = y[order].astype(np.float64)
    new_run = np.empty(len(s), dtype=bool)
    new_run[0] = True
    np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_run[1:])
    run = np.cumsum(new_run) - 1
    bad_in = np.bincount(run, weights=y_sorted)
    good_in = np.bincount(run).astype(np.float64) - bad_in
    good_below = np.cumsum(good_in) - good_in
    bad_above = n_bad - np.cumsum(bad_in)
    v_bad = ((good_below + 0.5 * good_in) / n_good)[run]
    v_good = ((bad_above + 0.5 * bad_in) / n_bad)[run]
    out = np.empty(len(s), dtype=np.float64)
    out[order] = np.where(y_sorted == 1.0, v_bad, v_good)
    return out


def _variance_of(v10: np.ndarray, v01: np.ndarray) -> float:
    """DeLong's Var = S10 / m + S01 / n with unbiased (ddof = 1) sample variances."""
    return float(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))


def _enough_of_each(y: np.ndarray) -> tuple[int, int]:
    n_bad, n_good = _both_classes(y)
    if n_bad < 2 or n_good < 2:
        raise MetricError(
            f"DeLong's variance needs at least two bad and two good applicants (found {n_bad} bad, {n_good} good).",
            "Evaluate on more rows.",
        )
    return n_bad, n_good


def delong_auc_variance(y_true: Any, y_score: Any) -> float:
    """DeLong's (1988) nonparametric variance of one model's AUC (fast midrank form of Sun & Xu, 2014).

    The square root is the AUC's standard error; it needs no distributional assumption and, unlike
    Hanley & McNeil's (1982) formula, no assumed shape of the score distributions.
    """
    y, s = check_y_score(y_true, y_score)
    n_bad, n_good = _enough_of_each(y)
    v = _placements(y, s, n_bad, n_good)
    bad = y == 1
    return _variance_of(v[bad], v[~bad])


@dataclass(frozen=True)
class DeLongResult:
    """DeLong's paired test of AUC(B) − AUC(A) on the same applicants; A is the original, B the pruned model."""

    auc_a: float
    auc_b: float
    delta: float
    se: float
    z: float
    p_value: float
    low: float
    high: float
    level: float
    se_a: float
    se_b: float
    correlation: float
    n: int
    n_bad: int

    @property
    def significant(self) -> bool:
        """True when the change is unlikely to be noise at ``1 − level`` (the interval excludes 0)."""
        return bool(self.p_value < 1.0 - self.level)

    def to_dict(self) -> dict[str, float | int | bool]:
        return {**asdict(self), "significant": self.significant}

    def to_frame(self) -> pd.DataFrame:
        """One row per number: statistic, label, value."""
        return pd.DataFrame([{"statistic": k, "label": _LABELS[k], "value": v} for k, v in asdict(self).items()])


def delong_test(y_true: Any, score_a: Any, score_b: Any, *, level: float = 0.95) -> DeLongResult:
    """DeLong, DeLong & Clarke-Pearson (1988) test that two correlated AUCs are equal.

    ``delta`` is AUC(b) − AUC(a), so with a = original and b = pruned a negative delta is a loss.
    z = delta / se is compared with the standard normal (two-sided p-value) and the interval is
    delta ± z₍₁₊level₎/₂ · se, clipped to [−1, 1] (a difference of AUCs cannot leave it). If both
    models rank every applicant identically the standard error is exactly 0 and so is delta: z = 0,
    p = 1 (no evidence of a change). A zero standard error with a non-zero delta — every applicant's
    components shift by the same amount — gives z = ±inf and p = 0.
    """
    y, a, b = check_paired(y_true, score_a, score_b)
    level = _as_number(level, "confidence level", "Use e.g. 0.95.")
    if not (0.5 < level < 1):
        raise SpecError(f"Confidence level {level} is out of range.", "Use a level between 0.5 and 1, e.g. 0.95.")
    n_bad, n_good = _enough_of_each(y)
    va = _placements(y, a, n_bad, n_good)
    vb = _placements(y, b, n_bad, n_good)
    bad = y == 1
    auc_a, auc_b = float(va[bad].mean()), float(vb[bad].mean())
    var_a = _variance_of(va[bad], va[~bad])
    var_b = _variance_of(vb[bad], vb[~bad])
    d10, d01 = vb[bad] - va[bad], vb[~bad] - va[~bad]
    var_d = max(_variance_of(d10, d01), 0.0)
    se = float(np.sqrt(var_d))
    # the point estimate from the same components: exact 0 when rankings agree
    delta = float(d10.mean())
    if se > 0:
        z = delta / se
        p = float(2.0 * stats.norm.sf(abs(z)))
    elif delta == 0:
        z, p = 0.0, 1.0
    else:
        z, p = float(np.copysign(np.inf, delta)), 0.0
    half = float(stats.norm.ppf(0.5 + level / 2.0)) * se
    cov = 0.5 * (var_a + var_b - var_d)
    corr = cov / np.sqrt(var_a * var_b) if var_a > 0 and var_b > 0 else float("nan")
    return DeLongResult(
        auc_a=auc_a, auc_b=auc_b, delta=delta, se=se, z=float(z), p_value=min(p, 1.0),
        low=max(delta - half, -1.0), high=min(delta + half, 1.0), level=level,
        se_a=float(np.sqrt(var_a)), se_b=float(np.sqrt(var_b)), correlation=float(np.clip(corr, -1, 1)) if np.isfinite(corr) else corr,
        n=len(y), n_bad=n_bad,
    )
