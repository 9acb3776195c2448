"""How honest the probabilities are: Brier score, log-loss, expected calibration error, and
observed vs predicted by score decile.

References: Brier (1950), "Verification of forecasts expressed in terms of probability", Monthly
Weather Review 78; scikit-learn's ``log_loss`` (probabilities clipped to [eps, 1 − eps]);
Naeini, Cooper & Hauskrecht (2015), "Obtaining well calibrated probabilities using Bayesian
binning", AAAI (expected calibration error).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from core.errors import MetricError, SpecError
from core.metrics._sorted import sort_scores
from core.metrics._validation import _as_count, check_y_score

_EPS = np.finfo(np.float64).eps


def _brier_kernel(y: np.ndarray, s: np.ndarray) -> float:
    return float(np.mean((s - y) ** 2))


def _log_loss_kernel(y: np.ndarray, s: np.ndarray) -> float:
    s = np.clip(s, _EPS, 1 - _EPS)
    return float(-np.mean(y * np.log(s) + (1 - y) * np.log1p(-s)))


def _non_empty(y: np.ndarray) -> None:
    if len(y) == 0:
        raise MetricError("There are no applicants to measure.", "Pass at least one applicant.")


def brier(y_true: Any, y_score: Any) -> float:
    """Mean squared difference between P(bad) and the outcome (0 is perfect, 0.25 is a coin)."""
    y, s = check_y_score(y_true, y_score)
    _non_empty(y)
    return _brier_kernel(y, s)


def log_loss(y_true: Any, y_score: Any) -> float:
    """Mean negative log-likelihood; probabilities are clipped to [eps, 1 − eps] like scikit-learn."""
    y, s = check_y_score(y_true, y_score)
    _non_empty(y)
    return _log_loss_kernel(y, s)


def _equal_count_bins(s: np.ndarray, bins: int) -> np.ndarray:
    """Bin of each score (0 = safest) in ``bins`` equal-count bins; tied scores share one bin.

    Ties take their lowest rank, so a cutoff never splits applicants with the same score and the
    assignment does not depend on row order (a bin may hold more or fewer rows than n / bins).
    """
    return _bins_of_ranks(sort_scores(s).min_ranks0(), bins, len(s))


def _bins_of_ranks(min_ranks0: np.ndarray, bins: int, n: int) -> np.ndarray:
    return np.minimum((min_ranks0 * bins) // n, bins - 1).astype(np.int64)


def _check_bins(bins: Any) -> int:
    bins = _as_count(bins, "number of score bins", "Use the usual 10 bins.")
    if bins < 1:
        raise SpecError(f"Score bands need at least 1 bin, got {bins}.", "Use the usual 10 bins.")
    return bins


def _ece_kernel(y: np.ndarray, s: np.ndarray, bins: int) -> float:
    b = _equal_count_bins(s, bins)
    observed = np.bincount(b, weights=y.astype(np.float64), minlength=bins)
    predicted = np.bincount(b, weights=s, minlength=bins)
    return float(np.abs(observed - predicted).sum() / len(s))  # Σ (n_b / n) · |ȳ_b − s̄_b|


def expected_calibration_error(y_true: Any, y_score: Any, *, bins: int = 10) -> float:
    """Expected calibration error: Σ_b (n_b / n) · |observed bad rate_b − mean P(bad)_b|.

    The bins are equal-count bins of the score (Naeini, Cooper & Hauskrecht 2015, AAAI: "ECE"
    with equal-frequency bins), so every bin rests on about n / bins applicants; tied scores are
    never split. 0 means the predicted PDs match the observed default rates bin by bin; the
    value is in probability units (0.02 = two points of default rate off on average).
    """
    y, s = check_y_score(y_true, y_score)
    bins = _check_bins(bins)
    _non_empty(y)
    return _ece_kernel(y, s, bins)


def score_deciles(y_true: Any, y_score: Any, bins: int = 10) -> pd.DataFrame:
    """Applicants in score deciles (1 = safest): count, bads, observed bad rate, mean predicted PD.

    This single table is both the calibration curve (mean predicted vs observed) and the bad rate
    by decile; ties never split across deciles, so a decile can hold more or fewer rows.
    """
    y, s = check_y_score(y_true, y_score)
    bins = _check_bins(bins)
    if len(s) == 0:
        raise MetricError("There are no applicants to put into deciles.", "Pass at least one applicant.")
    ss = sort_scores(s, y)
    decile_sorted = _bins_of_ranks(np.repeat(ss.run_start, ss.run_size), bins, len(s))  # non-decreasing
    used, first = np.unique(decile_sorted, return_index=True)
    last = np.append(first[1:], len(s)) - 1
    applicants = np.diff(np.append(first, len(s)))
    bads = np.add.reduceat(y[ss.order].astype(np.int64), first)
    out = pd.DataFrame({
        "decile": used + 1, "applicants": applicants, "bads": bads,
        "mean_pd": np.add.reduceat(ss.s_sorted.astype(np.float64), first) / applicants,
        "min_score": ss.s_sorted[first], "max_score": ss.s_sorted[last],
    })
    out["observed_bad_rate"] = out["bads"] / out["applicants"]
    return out
