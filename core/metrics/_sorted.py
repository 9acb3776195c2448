"""One model's scores sorted once, read by every rank-based number (AUC, Gini, KS, deciles, Spearman, cutoffs).

On a million applicants a sort costs a few hundred milliseconds and the rank-based metrics each
used to sort (or rank) again; a comparison sorted the same scores seven times. ``SortedScores``
sorts once and keeps the runs of tied scores, because every metric here treats ties the same
way: a cutoff cannot split applicants with equal scores.

Definitions follow the kernels they replace: AUC as the Mann–Whitney statistic with average ranks
for ties (Hanley & McNeil 1982), KS read at the last applicant of each tied run (Siddiqi 2017,
ch. 10), equal-count bins with ties at their lowest rank.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True, eq=False)
class SortedScores:
    """Scores in ascending order, their tied runs and (when outcomes are given) bads per run."""

    order: np.ndarray  # argsort of the scores (ties in arbitrary order: nothing below depends on it)
    s_sorted: np.ndarray
    run_start: np.ndarray  # sorted position where each run of equal scores starts
    run_size: np.ndarray
    run_bad: np.ndarray | None  # bads in each run (int64), None when sorted without outcomes

    @property
    def n(self) -> int:
        return len(self.s_sorted)

    @property
    def run_end(self) -> np.ndarray:
        return self.run_start + self.run_size

    def run_of_sorted(self) -> np.ndarray:
        """Run index of each sorted position."""
        return np.repeat(np.arange(len(self.run_start)), self.run_size)

    def average_ranks(self) -> np.ndarray:
        """1-based average ranks in the original row order (``scipy.stats.rankdata``'s default)."""
        avg = self.run_start + (self.run_size + 1) / 2.0
        ranks = np.empty(self.n, dtype=np.float64)
        ranks[self.order] = np.repeat(avg, self.run_size)
        return ranks

    def min_ranks0(self) -> np.ndarray:
        """0-based lowest rank of each score's tied run, in the original row order."""
        ranks = np.empty(self.n, dtype=np.int64)
        ranks[self.order] = np.repeat(self.run_start, self.run_size)
        return ranks


def sort_scores(s: np.ndarray, y: np.ndarray | None = None) -> SortedScores:
    """Sort ``s`` once; with outcomes ``y`` (0/1) also count the bads of every tied run."""
    order = np.argsort(s)
    s_sorted = s[order]
    n = len(s_sorted)
    new_run = np.ones(n, dtype=bool)
    if n > 1:
        np.not_equal(s_sorted[1:], s_sorted[:-1], out=new_run[1:])
    run_start = np.flatnonzero(new_run)
    run_size = np.diff(np.append(run_start, n))
    run_bad = None
    if y is not None:
        cum = np.concatenate([[0], np.cumsum(y[order], dtype=np.int64)])
        run_bad = cum[run_start + run_size] - cum[run_start]
    return SortedScores(order, s_sorted, run_start, run_size, run_bad)


def auc_sorted(ss: SortedScores) -> float:
    """AUC: each bad counts the goods scored below it plus half the goods tied with it."""
    bad = ss.run_bad.astype(np.float64)
    good = ss.run_size - bad
    goods_below = np.cumsum(good) - good
    n_bad, n_good = bad.sum(), good.sum()
    return float((bad * (goods_below + 0.5 * good)).sum() / (n_bad * n_good))


def ks_sorted(ss: SortedScores) -> tuple[float, float]:
    """KS and the score where the gap between the cumulative bad and good shares peaks (first such score)."""
    bad = ss.run_bad
    good = ss.run_size - bad
    n_bad, n_good = int(bad.sum()), int(good.sum())
    gap = np.abs(np.cumsum(bad) / n_bad - np.cumsum(good) / n_good)
    i = int(np.argmax(gap))
    return float(gap[i]), float(ss.s_sorted[ss.run_start[i] + ss.run_size[i] - 1])


def declined_counts(ss: SortedScores, cutoff: float) -> tuple[int, int]:
    """(declined applicants, declined bads) at ``cutoff``: scores at or above it are declined."""
    first = int(np.searchsorted(ss.s_sorted, cutoff, side="left"))
    run = int(np.searchsorted(ss.run_start, first, side="left"))  # runs at or after ``first``
    return ss.n - first, int(ss.run_bad[run:].sum())
