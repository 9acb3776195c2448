"""How well scores rank bad applicants above good ones: AUC, Gini, KS.

Public functions validate their inputs once (``core.metrics._validation``) and call the kernels
below, which the bootstrap also calls directly on resampled, already-valid arrays.

References: Hanley & McNeil (1982), "The meaning and use of the area under a ROC curve",
Radiology 143 (AUC as the Mann–Whitney U statistic); Engelmann, Hayden & Tasche (2003),
"Testing rating accuracy", Risk 16 (Gini / accuracy ratio = 2·AUC − 1); Siddiqi (2017), *Intelligent
Credit Scoring*, 2nd ed., ch. 10 (the KS statistic of a scorecard).
"""
from __future__ import annotations

from typing import Any

import numpy as np

from core.metrics._sorted import auc_sorted, ks_sorted, sort_scores
from core.metrics._validation import _both_classes, check_y_score


def _auc_kernel(y: np.ndarray, s: np.ndarray) -> float:
    """AUC of valid arrays with both classes: Mann–Whitney U with average ranks for ties."""
    return auc_sorted(sort_scores(s, y))


def _ks_kernel(y: np.ndarray, s: np.ndarray) -> tuple[float, float]:
    """KS of valid arrays with both classes, and the score at which the gap peaks.

    The gap is read only at the last applicant of each run of tied scores: a cutoff cannot split
    applicants with the same score.
    """
    return ks_sorted(sort_scores(s, y))


def auc(y_true: Any, y_score: Any) -> float:
    """Area under the ROC curve: the probability that a random bad applicant scores above a random good one."""
    y, s = check_y_score(y_true, y_score)
    _both_classes(y)
    return _auc_kernel(y, s)


def gini(y_true: Any, y_score: Any) -> float:
    """Gini coefficient (accuracy ratio) = 2 · AUC − 1."""
    return 2.0 * auc(y_true, y_score) - 1.0


def ks(y_true: Any, y_score: Any) -> float:
    """Kolmogorov–Smirnov statistic: the largest gap between the bad and good score distributions."""
    y, s = check_y_score(y_true, y_score)
    _both_classes(y)
    return _ks_kernel(y, s)[0]


def ks_threshold(y_true: Any, y_score: Any) -> float:
    """The score (P(bad)) at which the KS gap peaks (ties: the first such score)."""
    y, s = check_y_score(y_true, y_score)
    _both_classes(y)
    return _ks_kernel(y, s)[1]
