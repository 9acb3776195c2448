"""How honest the probabilities are: Brier score, log-loss, and observed vs predicted by score decile."""
from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import MetricError, SpecError
from core.metrics._validation import _as_count, as_labels, as_scores

_EPS = np.finfo(np.float64).eps


def brier(scores: Any, labels: Any) -> float:
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    if len(s) == 0:
        raise MetricError("There are no applicants to measure.", "Pass at least one applicant.")
    return float(np.mean((s - y) ** 2))


def log_loss(scores: Any, labels: Any) -> float:
    """Mean negative log-likelihood; probabilities are clipped to [eps, 1 − eps] like scikit-learn."""
    s = np.clip(as_scores(scores), _EPS, 1 - _EPS)
    y = as_labels(labels, len(s))
    if len(s) == 0:
        raise MetricError("There are no applicants to measure.", "Pass at least one applicant.")
    return float(-np.mean(y * np.log(s) + (1 - y) * np.log1p(-s)))


def score_deciles(scores: Any, labels: Any, bins: int = 10) -> pd.DataFrame:
    """Applicants in score deciles (1 = safest): count, bads, observed bad rate, mean predicted PD.

    This single table is both the calibration curve (mean predicted vs observed) and the bad rate
    by decile; ties never split across deciles, so a decile can hold more or fewer rows.
    """
    s = as_scores(scores)
    y = as_labels(labels, len(s))
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
