"""Sampling noise of a change: paired confidence intervals for ΔAUC and ΔKS.

Reference: Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13 (percentile
intervals); pairing as in DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44 (correlated AUCs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy import stats

from core.errors import MetricError, SpecError
from core.metrics._validation import _as_count, _as_number, _both_classes, check_paired
from core.metrics.ranking import _auc_kernel, _ks_kernel

DEFAULT_BOOTSTRAP = 200


@dataclass(frozen=True)
class DeltaCI:
    """Paired bootstrap interval for pruned − original of one metric."""

    metric: str
    delta: float
    low: float
    high: float
    level: float
    resamples: int
    seed: int

    @property
    def excludes_zero(self) -> bool:
        return self.high < 0 or self.low > 0


def bootstrap_deltas(
    y_true: Any, original: Any, pruned: Any, *, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0, level: float = 0.95
) -> dict[str, DeltaCI]:
    """Percentile CIs for ΔAUC and ΔKS, resampling applicants with the *same* draw for both models.

    Pairing matters: the two models score the same applicants, so most sampling noise cancels in
    the difference; unpaired intervals would be far too wide. Resamples with one class only are
    redrawn (they have no AUC), so every interval rests on ``resamples`` valid draws.
    """
    y, so, sp = check_paired(y_true, original, pruned)
    _both_classes(y)
    resamples = _as_count(resamples, "number of bootstrap resamples", f"Use the default {DEFAULT_BOOTSTRAP}.")
    if resamples < 10:
        raise SpecError(f"{resamples} bootstrap resamples are too few for an interval.", f"Use the default {DEFAULT_BOOTSTRAP}.")
    seed = _as_count(seed, "bootstrap seed", "Use a whole number such as 0.")
    if seed < 0:
        raise SpecError(f"The bootstrap seed {seed} is negative.", "Use a whole number such as 0.")
    level = _as_number(level, "confidence level", "Use e.g. 0.95.")
    if not (0.5 < level < 1):
        raise SpecError(f"Confidence level {level} is out of range.", "Use e.g. 0.95.")
    rng = np.random.default_rng(seed)
    n = len(y)
    rows: list[np.ndarray] = []
    attempts = 0
    while len(rows) < resamples:  # draw exactly as one resample at a time, skipping one-class draws
        attempts += 1
        if attempts > resamples * 20:
            raise MetricError("Too few applicants of one outcome for a bootstrap interval.", "Evaluate on more rows.")
        idx = rng.integers(0, n, n)
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        rows.append(idx)
    draws = _paired_draws(y, so, sp, np.stack(rows))
    point = {"auc": _auc_kernel(y, sp) - _auc_kernel(y, so), "ks": _ks_kernel(y, sp)[0] - _ks_kernel(y, so)[0]}
    alpha = (1 - level) / 2
    out = {}
    for m, vals in draws.items():
        lo, hi = np.quantile(vals, [alpha, 1 - alpha])
        out[m] = DeltaCI(m, float(point[m]), float(lo), float(hi), level, resamples, int(seed))
    return out


def _auc_rows(yb: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """``_auc_kernel`` of every row at once (each row holds both classes).

    Average ranks are multiples of 0.5, so their sums are exact in float64 and every row's AUC
    equals the one-row kernel's bit for bit.
    """
    n_bad = yb.sum(axis=1).astype(np.float64)
    n_good = yb.shape[1] - n_bad
    ranks = stats.rankdata(sb, axis=1)
    return (np.where(yb == 1, ranks, 0.0).sum(axis=1) - n_bad * (n_bad + 1) / 2.0) / (n_bad * n_good)


def _ks_rows(yb: np.ndarray, sb: np.ndarray) -> np.ndarray:
    """``_ks_kernel``'s statistic of every row at once: the gap read only at the last of tied scores."""
    n_bad = yb.sum(axis=1, keepdims=True).astype(np.float64)
    order = np.argsort(sb, axis=1, kind="mergesort")
    s_sorted = np.take_along_axis(sb, order, axis=1)
    y_sorted = np.take_along_axis(yb, order, axis=1)
    last_of_tie = np.concatenate([s_sorted[:, 1:] != s_sorted[:, :-1], np.ones((len(sb), 1), dtype=bool)], axis=1)
    gap = np.abs(np.cumsum(y_sorted, axis=1) / n_bad - np.cumsum(1 - y_sorted, axis=1) / (yb.shape[1] - n_bad))
    return np.where(last_of_tie, gap, -np.inf).max(axis=1)


def _paired_draws(y: np.ndarray, so: np.ndarray, sp: np.ndarray, idx: np.ndarray, chunk: int = 1 << 20) -> dict[str, np.ndarray]:
    """Pruned − original AUC and KS on each resample (rows of ``idx``), computed a block of rows at a
    time (about ``chunk`` cells per block, so memory stays bounded on large evaluation sets)."""
    per = max(1, chunk // max(idx.shape[1], 1))
    auc_d, ks_d = [], []
    for start in range(0, len(idx), per):
        block = idx[start:start + per]
        yb, ob, pb = y[block], so[block], sp[block]
        auc_d.append(_auc_rows(yb, pb) - _auc_rows(yb, ob))
        ks_d.append(_ks_rows(yb, pb) - _ks_rows(yb, ob))
    return {"auc": np.concatenate(auc_d), "ks": np.concatenate(ks_d)}
