"""Sampling noise of a change: paired confidence intervals for ΔAUC and ΔKS.

On up to ``BOOTSTRAP_MAX_ROWS`` applicants both intervals come from the paired bootstrap. Above,
200 resamples of a million rows take minutes, so ΔAUC gets DeLong's interval on all rows (the
exact variance of correlated AUCs, O(n log n)) and ΔKS a paired bootstrap on a seeded stratified
sample of the rows (a wider, conservative interval), and each interval says which it is.

References: Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13 (percentile
intervals); DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44 (correlated AUCs); Sun & Xu
(2014), IEEE Signal Processing Letters 21(11) (the fast algorithm, ``core.metrics.delong``).
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
BOOTSTRAP_MAX_ROWS = 50_000  # above: DeLong for ΔAUC, the bootstrap of ΔKS on a stratified sample of this size
BOOTSTRAP, DELONG = "paired bootstrap", "DeLong"


@dataclass(frozen=True)
class DeltaCI:
    """Interval for pruned − original of one metric, and how it was obtained."""

    metric: str
    delta: float
    low: float
    high: float
    level: float
    resamples: int  # 0 for DeLong
    seed: int
    method: str = BOOTSTRAP
    rows: int | None = None  # rows the interval rests on, when fewer than the evaluation rows

    @property
    def excludes_zero(self) -> bool:
        return self.high < 0 or self.low > 0

    @property
    def describe(self) -> str:
        """How the interval was made, in words (pages and reports print it beside the interval)."""
        if self.method == DELONG:
            return "DeLong's exact variance of correlated AUCs (normal interval)"
        on = f" on a stratified sample of {self.rows:,} rows" if self.rows else ""
        return f"paired bootstrap, {self.resamples:,} resamples, seed {self.seed}{on}"


def bootstrap_deltas(
    y_true: Any, original: Any, pruned: Any, *, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0, level: float = 0.95,
    metrics: tuple[str, ...] = ("auc", "ks"),
) -> dict[str, DeltaCI]:
    """Percentile CIs for ΔAUC and ΔKS (or those of ``metrics``), resampling applicants with the *same* draw for both models.

    Pairing matters: the two models score the same applicants, so most sampling noise cancels in
    the difference; unpaired intervals would be far too wide. Resamples with one class only are
    redrawn (they have no AUC), so every interval rests on ``resamples`` valid draws.
    """
    y, so, sp = check_paired(y_true, original, pruned)
    _both_classes(y)
    if not metrics or set(metrics) - {"auc", "ks"}:
        raise SpecError(f"Bootstrap intervals exist for 'auc' and 'ks', not {list(metrics)}.", "Pass metrics=('auc', 'ks').")
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
    draws = _paired_draws(y, so, sp, np.stack(rows), metrics)
    kernels = {"auc": _auc_kernel, "ks": lambda yy, ss: _ks_kernel(yy, ss)[0]}
    point = {m: kernels[m](y, sp) - kernels[m](y, so) for m in metrics}
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
    order = np.argsort(sb, axis=1)  # the order within tied runs does not matter: the gap is read at their ends
    s_sorted = np.take_along_axis(sb, order, axis=1)
    y_sorted = np.take_along_axis(yb, order, axis=1)
    last_of_tie = np.concatenate([s_sorted[:, 1:] != s_sorted[:, :-1], np.ones((len(sb), 1), dtype=bool)], axis=1)
    gap = np.abs(np.cumsum(y_sorted, axis=1) / n_bad - np.cumsum(1 - y_sorted, axis=1) / (yb.shape[1] - n_bad))
    return np.where(last_of_tie, gap, -np.inf).max(axis=1)


def _paired_draws(y: np.ndarray, so: np.ndarray, sp: np.ndarray, idx: np.ndarray, metrics: tuple[str, ...] = ("auc", "ks"),
                  chunk: int = 1 << 20) -> dict[str, np.ndarray]:
    """Pruned − original AUC and KS on each resample (rows of ``idx``), computed a block of rows at a
    time (about ``chunk`` cells per block, so memory stays bounded on large evaluation sets)."""
    per = max(1, chunk // max(idx.shape[1], 1))
    rows_of = {"auc": _auc_rows, "ks": _ks_rows}
    out: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for start in range(0, len(idx), per):
        block = idx[start:start + per]
        yb, ob, pb = y[block], so[block], sp[block]
        for m in metrics:
            out[m].append(rows_of[m](yb, pb) - rows_of[m](yb, ob))
    return {m: np.concatenate(v) for m, v in out.items()}


def paired_intervals(y_true: Any, original: Any, pruned: Any, *, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0,
                     level: float = 0.95, max_bootstrap_rows: int = BOOTSTRAP_MAX_ROWS) -> dict[str, DeltaCI]:
    """ΔAUC and ΔKS intervals: the paired bootstrap up to ``max_bootstrap_rows`` applicants, else DeLong for ΔAUC
    on every row and the bootstrap of ΔKS on a seeded stratified sample of ``max_bootstrap_rows`` rows."""
    y, so, sp = check_paired(y_true, original, pruned)
    if len(y) <= max_bootstrap_rows:
        return bootstrap_deltas(y, so, sp, resamples=resamples, seed=seed, level=level)
    from core.data.dataset import stratified_sample
    from core.metrics.delong import delong_test

    d = delong_test(y, so, sp, level=level)
    auc_ci = DeltaCI("auc", float(d.delta), float(d.low), float(d.high), level, 0, int(seed), DELONG)
    rows = stratified_sample(y, max_bootstrap_rows, seed)
    ks = bootstrap_deltas(y[rows], so[rows], sp[rows], resamples=resamples, seed=seed, level=level, metrics=("ks",))["ks"]
    delta_ks = _ks_kernel(y, sp)[0] - _ks_kernel(y, so)[0]
    # the sample's spread, centred on the all-rows change (a smaller sample only widens it: conservative)
    ks_ci = DeltaCI("ks", delta_ks, delta_ks + (ks.low - ks.delta), delta_ks + (ks.high - ks.delta), level, ks.resamples,
                    ks.seed, BOOTSTRAP, len(rows))
    return {"auc": auc_ci, "ks": ks_ci}
