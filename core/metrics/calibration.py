"""How honest the probabilities are: Brier score, log-loss, and observed vs predicted by score decile.

References: Brier (1950), "Verification of forecasts expressed in terms of probability", Monthly
Weather Review 78; scikit-learn's ``log_loss`` (probabilities clipped to [eps, 1 − eps]).
"""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import MetricError, SpecError
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


def score_deciles(y_true: Any, y_score: Any, bins: int = 10) -> pd.DataFrame:
    """Applicants in score deciles (1 = safest): count, bads, observed bad rate, mean predicted PD.

    This single table is both the calibration curve (mean predicted vs observed) and the bad rate
    by decile; ties never split across deciles, so a decile can hold more or fewer rows.
    """
    y, s = check_y_score(y_true, y_score)
    bins = _as_count(bins, "number of score bins", "Use the usual 10 bins.")
    if bins < 1:
        raise SpecError(f"Score bands need at least 1 bin, got {bins}.", "Use the usual 10 bins.")
    if len(s) == 0:
        raise MetricError("There are no applicants to put into deciles.", "Pass at least one applicant.")
    ranks = stats.rankdata(s, method="min") - 1  # ties share the lowest rank → same decile
    decile = np.minimum((ranks * bins) // len(s), bins - 1).astype(int) + 1
    frame = pd.DataFrame({"decile": decile, "score": s, "bad": y})
    out = frame.groupby("decile").agg(
        applicants=("bad", "size"), bads=("bad", "sum"), mean_pd=("score", "mean"),
        min_score=("score", "min"), max_score=("score", "max"),
    ).reset_index()
    out["observed_bad_rate"] = out["bads"] / out["applicants"]
    return out
