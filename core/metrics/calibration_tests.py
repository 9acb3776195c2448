"""Are the PDs right in level? Calibration-in-the-large, Hosmer–Lemeshow, and per-grade binomial / Jeffreys tests.

Pruning can leave the ranking intact and still shift every probability up or down; a bank that
prices or provisions with the PD needs the level right, grade by grade. These are the standard
back-tests of a PD model, each with its null hypothesis "the PDs are correct".

References: Basel Committee on Banking Supervision (2005), Working Paper No. 14, "Studies on the
validation of internal rating systems", §5 (binomial test and its independence assumption,
Hosmer–Lemeshow chi-square test); Hosmer, Lemeshow & Sturdivant (2013), *Applied Logistic
Regression*, 3rd ed., §5.2.2 (the Ĉ statistic on deciles of risk) and §5.6 (external validation); ECB (2019), "Instructions for
reporting the validation results of internal models — IRB Pillar I models for credit risk", §2.5.3.1
(Jeffreys test); Brown, Cai & DasGupta (2001), "Interval estimation for a binomial proportion",
Statistical Science 16(2) (Jeffreys interval).

All three tests treat defaults as independent given the PD. Correlated defaults (one economic
cycle) make real p-values larger than shown, so a rejection is a prompt to look, not a verdict
(BCBS WP 14, §5).
"""
from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import MetricError, SpecError
from core.metrics._validation import _as_number, check_y_score
from core.metrics.rank_ordering import _band_table, _bands, _check_bins, _plain, _score_bands

EXACT_MAX = 100_000  # above this many applicants the binomial test may use its normal approximation …
NORMAL_MIN_VARIANCE = 1_000.0  # … if n·PD·(1 − PD) is at least this (else the normal curve is crude)


def _non_empty(y: np.ndarray) -> None:
    if len(y) == 0:
        raise MetricError("There are no applicants to test.", "Pass at least one applicant.")


def _level(level: Any) -> float:
    lv = _as_number(level, "confidence level", "Use e.g. 0.95.")
    if not (0.5 < lv < 1):
        raise SpecError(f"Confidence level {level} is out of range.", "Use a level between 0.5 and 1, e.g. 0.95.")
    return lv


@dataclass(frozen=True)
class CalibrationInTheLarge:
    """Observed default rate against the mean PD of the same applicants, with a two-sided binomial test."""

    n: int
    bads: int
    observed_bad_rate: float
    mean_pd: float
    difference: float  # observed − mean PD: > 0 means the PDs are too low
    expected_bads: float
    p_value: float
    method: str  # "exact binomial" or "normal approximation"

    @property
    def direction(self) -> str:
        if self.difference > 0:
            return "PDs too low"
        return "PDs too high" if self.difference < 0 else "on target"

    def to_dict(self) -> dict[str, Any]:
        return {**asdict(self), "direction": self.direction}

    def to_frame(self) -> pd.DataFrame:
        """One row per number: statistic, value."""
        return pd.DataFrame([{"statistic": k, "value": v} for k, v in self.to_dict().items()])


def calibration_in_the_large(y_true: Any, y_score: Any) -> CalibrationInTheLarge:
    """Is the overall default rate what the PDs promise? Binomial test of bads ~ Bin(n, mean PD).

    Two-sided p-value (BCBS WP 14, 2005, §5), ``method`` says which: exact (``scipy.stats.binomtest``,
    which sums the outcomes no more likely than the observed one) up to ``EXACT_MAX`` applicants;
    above that the normal approximation z = (bads − n·PD) / √(n·PD·(1 − PD)), unless the binomial
    variance n·PD·(1 − PD) is below ``NORMAL_MIN_VARIANCE`` (low-default portfolios, where the normal
    curve is crude and the exact test stays cheap). Measured at n = 10⁵ and PDs of 0.1–30 %: wherever
    the exact p-value is below 0.2, the approximation is then within about 0.006 of it.
    """
    y, s = check_y_score(y_true, y_score)
    _non_empty(y)
    n, d = len(y), int(y.sum())
    pd_mean = float(np.clip(s.mean(), 0.0, 1.0))
    expected = n * pd_mean
    if n <= EXACT_MAX or expected * (1.0 - pd_mean) < NORMAL_MIN_VARIANCE:
        p, method = float(stats.binomtest(d, n, pd_mean).pvalue), "exact binomial"
    else:
        z = (d - expected) / np.sqrt(expected * (1.0 - pd_mean))
        p, method = float(2.0 * stats.norm.sf(abs(z))), "normal approximation"
    return CalibrationInTheLarge(n, d, d / n, pd_mean, d / n - pd_mean, expected, min(p, 1.0), method)


@dataclass(frozen=True)
class HosmerLemeshow:
    """Hosmer–Lemeshow Ĉ: observed vs expected bads and goods over groups of similar PD."""

    statistic: float
    df: int
    p_value: float
    groups: int  # groups actually formed (ties are never split, so there can be fewer than requested)
    groups_requested: int
    n: int
    in_sample: bool  # True: df = G − 2 (PDs fitted on these rows); False: df = G (external PDs)
    table: pd.DataFrame = field(repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name != "table"}

    def to_frame(self) -> pd.DataFrame:
        """The per-group table; the statistic is the sum of its ``contribution`` column."""
        return self.table.copy()


def hosmer_lemeshow(y_true: Any, y_score: Any, *, groups: int = 10, in_sample: bool = False) -> HosmerLemeshow:
    """Hosmer–Lemeshow goodness-of-fit statistic on quantile groups of the score (ties never split).

    Ĉ = Σ_g (O_g − E_g)² / (E_g · (1 − E_g / n_g)), the bad and good cells of each group together.
    Degrees of freedom depend on where the PDs come from (Hosmer, Lemeshow & Sturdivant, 2013):

    * ``in_sample=False`` (default): the PDs were *not* estimated on these rows — a trained model,
      original or pruned, scored on evaluation data. Nothing is fitted, so Ĉ ~ χ²(G), G = groups
      formed (§5.6, external validation). Using G − 2 here would double the false-alarm rate of a
      5 % test (about 10 % in simulation).
    * ``in_sample=True``: a logistic regression fitted on these same rows: χ²(G − 2) (§5.2.2).

    A group whose expected bads are 0 or all of it adds 0 if observed = expected and makes Ĉ
    infinite otherwise. With very many applicants the test rejects even trivial miscalibration
    (Paul, Pennell & Lemeshow, 2013, Statistics in Medicine 32): read the table too.
    """
    groups = _check_bins(groups, "number of Hosmer–Lemeshow groups", 3, "Use the usual 10 groups.")
    if not isinstance(in_sample, (bool, np.bool_)):
        raise SpecError(f"in_sample must be True or False (got {in_sample!r}).",
                        "Use True only when the PDs were fitted on these same rows.")
    y, s = check_y_score(y_true, y_score)
    _non_empty(y)
    band = _score_bands(s, groups)
    used = np.unique(band)
    if len(used) < 3:  # G − 2 ≥ 1 in sample; fewer groups say nothing about calibration anyway
        raise MetricError(
            f"The scores take too few distinct values to form 3 groups (formed {len(used)}).",
            "Hosmer–Lemeshow needs at least 3 groups of different PD.",
        )
    base = _band_table(y, s, np.searchsorted(used, band), [int(b) for b in used])
    n_g = base["applicants"].to_numpy().astype(np.float64)
    o_bad = base["bads"].to_numpy().astype(np.float64)
    e_bad = base["mean_pd"].to_numpy() * n_g
    denom = e_bad * (1.0 - e_bad / n_g)
    with np.errstate(divide="ignore", invalid="ignore"):
        contrib = np.where(denom > 0, (o_bad - e_bad) ** 2 / denom, np.where(np.isclose(o_bad, e_bad), 0.0, np.inf))
    table = pd.DataFrame({
        "group": base["band"], "applicants": base["applicants"], "min_score": base["min_score"],
        "max_score": base["max_score"], "mean_pd": base["mean_pd"], "observed_bads": base["bads"],
        "expected_bads": e_bad, "observed_goods": n_g - o_bad, "expected_goods": n_g - e_bad,
        "contribution": contrib,
    })
    stat = float(contrib.sum())
    df = len(used) - (2 if in_sample else 0)
    return HosmerLemeshow(stat, df, float(stats.chi2.sf(stat, df)), len(used), groups, len(y), bool(in_sample), table)


@dataclass(frozen=True)
class GradeTests:
    """Per grade: is the PD too low? One-sided binomial and Jeffreys tests, and the Jeffreys interval."""

    table: pd.DataFrame = field(repr=False)
    level: float
    source: str  # "score bands" or "grades"

    @property
    def flagged(self) -> list:
        """Grades whose Jeffreys p-value is below 1 − level: the observed bad rate is too high for the PD."""
        t = self.table
        return [_plain(g) for g in t.loc[t["pd_too_low"], "grade"]]

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "grades": len(self.table), "level": self.level, "flagged": self.flagged}

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()


def binomial_test_per_grade(
    y_true: Any, y_score: Any, *, grades: Any = None, bins: int = 10, level: float = 0.95
) -> GradeTests:
    """Per grade (user labels aligned with rows, else score bands with ties never split) a PD back-test.

    For a grade with n applicants, d bads and PD = their mean P(bad):

    * ``binomial_p`` = P(X ≥ d), X ~ Bin(n, PD): one-sided, small when there are too many bads for
      the PD (BCBS WP 14, 2005, §5);
    * ``jeffreys_p`` = F(PD) of Beta(d + ½, n − d + ½), the posterior of the default rate under the
      Jeffreys prior: small when the PD sits in the lower tail of what the data support (ECB, 2019,
      §2.5.3.1); ``pd_too_low`` marks ``jeffreys_p < 1 − level``;
    * ``jeffreys_low`` / ``jeffreys_high``: the central ``level`` Jeffreys interval for the default
      rate, the Beta quantiles without boundary adjustment (as statsmodels' ``proportion_confint``;
      Brown, Cai & DasGupta, 2001, also give a version that sets the bound to 0 or 1 when d = 0 or n).

    User grades keep the order of an ordered Categorical, otherwise run from lowest to highest mean PD.
    """
    level = _level(level)
    y, s = check_y_score(y_true, y_score)
    _non_empty(y)
    codes, labels, source = _bands(s, bins, grades)
    base = _band_table(y, s, codes, labels)
    n = base["applicants"].to_numpy()
    d = base["bads"].to_numpy()
    p = np.clip(base["mean_pd"].to_numpy(), 0.0, 1.0)
    a, b = d + 0.5, n - d + 0.5
    alpha = 1.0 - level
    jeffreys_p = stats.beta.cdf(p, a, b)
    table = pd.DataFrame({
        "grade": base["band"], "applicants": n, "bads": d, "observed_bad_rate": base["bad_rate"], "mean_pd": p,
        "binomial_p": stats.binom.sf(d - 1, n, p), "jeffreys_p": jeffreys_p,
        "jeffreys_low": stats.beta.ppf(alpha / 2, a, b), "jeffreys_high": stats.beta.isf(alpha / 2, a, b),
        "pd_too_low": jeffreys_p < alpha,
    })
    return GradeTests(table, level, source)
