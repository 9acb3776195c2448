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

from core.errors import MetricError, SpecError
from core.metrics._sorted import SortedScores, sort_scores
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


def _resample_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """How many times each applicant appears in each resample (rows of ``idx``): a (resamples × n) count matrix."""
    flat = (idx + (np.arange(len(idx), dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=len(idx) * n).reshape(len(idx), n)


def _weighted_runs(ss: SortedScores, y: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Bads and goods of every tied run of ``ss`` in every resample, each applicant counted as often as drawn."""
    w = counts[:, ss.order]
    bad_sorted = y[ss.order].astype(bool)
    bad = np.add.reduceat(np.where(bad_sorted, w, 0), ss.run_start, axis=1)
    good = np.add.reduceat(np.where(bad_sorted, 0, w), ss.run_start, axis=1)
    return bad, good


def _auc_draws(bad: np.ndarray, good: np.ndarray) -> np.ndarray:
    """AUC of each resample from its per-run counts (Mann–Whitney U with half credit for ties).

    U is accumulated in integers (twice U, to keep the half credits whole) and divided once, so
    every value equals the one-sample kernel's on the drawn rows bit for bit: that kernel's rank
    sums are exact multiples of one half as well.
    """
    goods_below = np.cumsum(good, axis=1) - good
    twice_u = (bad * (2 * goods_below + good)).sum(axis=1)
    return twice_u / (2.0 * bad.sum(axis=1) * good.sum(axis=1))


def _ks_draws(bad: np.ndarray, good: np.ndarray) -> np.ndarray:
    """KS of each resample: the largest gap of the cumulative bad and good shares, read at the end of each tied run."""
    n_bad = bad.sum(axis=1, keepdims=True).astype(np.float64)
    n_good = good.sum(axis=1, keepdims=True).astype(np.float64)
    return np.abs(np.cumsum(bad, axis=1) / n_bad - np.cumsum(good, axis=1) / n_good).max(axis=1)


def _paired_draws(y: np.ndarray, so: np.ndarray, sp: np.ndarray, idx: np.ndarray, metrics: tuple[str, ...] = ("auc", "ks"),
                  chunk: int = 1 << 21) -> dict[str, np.ndarray]:
    """Pruned − original AUC and KS on each resample (rows of ``idx``).

    Each model's scores are sorted once (``sort_scores``); a resample is a count per applicant, so
    its AUC and KS are weighted sums over the runs of that one order — O(resamples × n) instead of
    a sort per resample and model (10× faster on 6,000 rows). Blocks of about ``chunk`` cells keep
    memory bounded on large evaluation sets.
    """
    n = len(y)
    order = {"original": sort_scores(so), "pruned": sort_scores(sp)}
    per = max(1, chunk // max(n, 1))
    draws_of = {"auc": _auc_draws, "ks": _ks_draws}
    out: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for start in range(0, len(idx), per):
        counts = _resample_counts(idx[start:start + per], n)
        runs = {k: _weighted_runs(ss, y, counts) for k, ss in order.items()}
        for m in metrics:
            out[m].append(draws_of[m](*runs["pruned"]) - draws_of[m](*runs["original"]))
    return {m: np.concatenate(v) for m, v in out.items()}


def paired_intervals(y_true: Any, original: Any, pruned: Any, *, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0,
                     level: float = 0.95, max_bootstrap_rows: int = BOOTSTRAP_MAX_ROWS) -> dict[str, DeltaCI]:
    """ΔAUC and ΔKS intervals: the paired bootstrap up to ``max_bootstrap_rows`` applicants, else DeLong for ΔAUC
    on every row and the bootstrap of ΔKS on a seeded stratified sample of ``max_bootstrap_rows`` rows."""
    y, so, sp = check_paired(y_true, original, pruned)
    if len(y) <= max_bootstrap_rows:
        return bootstrap_deltas(y, so, sp, resamples=resamples, seed=seed, level=level)
    from core.metrics.delong import delong_test

    d = delong_test(y, so, sp, level=level)
    auc_ci = DeltaCI("auc", float(d.delta), float(d.low), float(d.high), level, 0, int(seed), DELONG)
    return {"auc": auc_ci, "ks": ks_delta_interval(y, so, sp, resamples=resamples, seed=seed, level=level,
                                                   max_bootstrap_rows=max_bootstrap_rows)}


def ks_delta_interval(y_true: Any, original: Any, pruned: Any, *, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0,
                      level: float = 0.95, max_bootstrap_rows: int = BOOTSTRAP_MAX_ROWS) -> DeltaCI:
    """The paired bootstrap interval of ΔKS alone; above ``max_bootstrap_rows`` applicants it resamples a seeded
    stratified sample of that many rows and centres the sample's spread on the all-rows change (a smaller sample
    only widens it: conservative)."""
    y, so, sp = check_paired(y_true, original, pruned)
    if len(y) <= max_bootstrap_rows:
        return bootstrap_deltas(y, so, sp, resamples=resamples, seed=seed, level=level, metrics=("ks",))["ks"]
    from core.data.dataset import stratified_sample

    rows = stratified_sample(y, max_bootstrap_rows, seed)
    ks = bootstrap_deltas(y[rows], so[rows], sp[rows], resamples=resamples, seed=seed, level=level, metrics=("ks",))["ks"]
    delta_ks = _ks_kernel(y, sp)[0] - _ks_kernel(y, so)[0]
    return DeltaCI("ks", delta_ks, delta_ks + (ks.low - ks.delta), delta_ks + (ks.high - ks.delta), level, ks.resamples,
                   ks.seed, BOOTSTRAP, len(rows))
