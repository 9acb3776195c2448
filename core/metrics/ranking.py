"""How well scores rank bad applicants above good ones: AUC, Gini, KS."""
from __future__ import annotations

from typing import Any

import numpy as np
from scipy import stats

from core.metrics._validation import _both_classes, as_labels, as_scores


def auc(scores: Any, labels: Any) -> float:
    """Area under the ROC curve (Mann–Whitney U with average ranks for ties)."""
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    n_bad, n_good = _both_classes(y)
    ranks = stats.rankdata(s)
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good))


def gini(scores: Any, labels: Any) -> float:
    return 2.0 * auc(scores, labels) - 1.0


def ks(scores: Any, labels: Any) -> tuple[float, float]:
    """Kolmogorov–Smirnov distance between the bad and good score distributions, and where it peaks."""
    s = as_scores(scores)
    y = as_labels(labels, len(s))
    n_bad, n_good = _both_classes(y)
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    cdf_bad = np.cumsum(y_sorted) / n_bad
    cdf_good = np.cumsum(1 - y_sorted) / n_good
    last_of_tie = np.append(s_sorted[1:] != s_sorted[:-1], True)
    gap = np.abs(cdf_bad - cdf_good)[last_of_tie]
    i = int(np.argmax(gap))
    return float(gap[i]), float(s_sorted[last_of_tie][i])


def _fast_auc(s: np.ndarray, y: np.ndarray) -> float:
    n_bad = int(y.sum())
    n_good = len(y) - n_bad
    ranks = stats.rankdata(s)
    return float((ranks[y == 1].sum() - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good))


def _fast_ks(s: np.ndarray, y: np.ndarray) -> float:
    n_bad = int(y.sum())
    order = np.argsort(s, kind="mergesort")
    s_sorted, y_sorted = s[order], y[order]
    last = np.append(s_sorted[1:] != s_sorted[:-1], True)
    gap = np.abs(np.cumsum(y_sorted) / n_bad - np.cumsum(1 - y_sorted) / (len(y) - n_bad))
    return float(gap[last].max())
