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
import torch

from core.cache import named_memo
from core.errors import MetricError, SpecError
from core.hashing import digest
from core.metrics._sorted import SortedScores, sort_scores
from core.metrics._validation import _as_count, _as_number, _both_classes, check_paired
from core.metrics.ranking import _auc_kernel, _ks_kernel

DEFAULT_BOOTSTRAP = 200
BOOTSTRAP_MAX_ROWS = 50_000  # above: DeLong for ΔAUC, the bootstrap of ΔKS on a stratified sample of this size
BOOTSTRAP, DELONG = "paired bootstrap", "DeLong"
CHUNK_CELLS = 1 << 21  # resamples × applicants per block of counts


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
    draws = _paired_draws_seeded(y, so, sp, resamples, seed, tuple(metrics))
    kernels = {"auc": _auc_kernel, "ks": lambda yy, ss: _ks_kernel(yy, ss)[0]}
    point = {m: kernels[m](y, sp) - kernels[m](y, so) for m in metrics}
    alpha = (1 - level) / 2
    out = {}
    for m, vals in draws.items():
        lo, hi = np.quantile(vals, [alpha, 1 - alpha])
        out[m] = DeltaCI(m, float(point[m]), float(lo), float(hi), level, resamples, int(seed))
    return out


def _resample_rows(y: np.ndarray, resamples: int, seed: int) -> np.ndarray:
    """The seeded resamples (rows of applicant indices), drawn one at a time, redrawing any with one class only."""
    rng = np.random.default_rng(seed)
    n = len(y)
    rows: list[np.ndarray] = []
    attempts = 0
    while len(rows) < resamples:
        attempts += 1
        if attempts > resamples * 20:
            raise MetricError("Too few applicants of one outcome for a bootstrap interval.", "Evaluate on more rows.")
        idx = rng.integers(0, n, n)
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        rows.append(idx)
    return np.stack(rows)


def _resample_counts(idx: np.ndarray, n: int) -> np.ndarray:
    """How many times each applicant appears in each resample (rows of ``idx``): a (resamples × n) count matrix.

    Counts are stored as float64 (exact: they are whole numbers far below 2**53), the type the
    cumulative sums below run in.
    """
    flat = (idx + (np.arange(len(idx), dtype=np.int64) * n)[:, None]).ravel()
    return np.bincount(flat, minlength=len(idx) * n).reshape(len(idx), n).astype(np.float64)


def _count_blocks(idx: np.ndarray, n: int, chunk: int = CHUNK_CELLS) -> tuple[np.ndarray, ...]:
    """The count matrix of ``idx`` in blocks of about ``chunk`` cells (memory stays bounded on large evaluation sets)."""
    per = max(1, chunk // max(n, 1))
    return tuple(_resample_counts(idx[start:start + per], n) for start in range(0, len(idx), per))


def _model_draws(ss: SortedScores, y: np.ndarray, blocks: tuple[np.ndarray, ...], metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """AUC and KS of one model on each resample, from its one sort: a resample is a count per applicant.

    The counts are cumulated along the sorted scores and read at the end of each tied run (a cutoff
    cannot split a tie), giving the bads ``B_r`` and goods ``G_r`` scored at or below run ``r``.
    AUC is Mann–Whitney U with half credit for ties, twice U = Σ_r bads_r · (G_{r−1} + G_r) — summed
    over the bad applicants, each with its run's two G — divided once; KS is
    max_r |B_r / B − G_r / G|, as the one-sample kernels compute them. Every partial sum
    is a whole number below 2**53, so float64 holds it exactly and each draw equals the kernel's on
    the drawn rows bit for bit. The sums run in torch, whose cumulative sum along a row is several
    times faster than numpy's (a slider move bootstraps a new pruned model every time).
    """
    order = ss.order
    bad_sorted = y[order].astype(bool)
    bad_at = torch.from_numpy(np.flatnonzero(bad_sorted))
    run_of = ss.run_of_sorted()[bad_at.numpy()]  # the tied run of each bad applicant
    # G before and at the end of each bad's run, read from the goods cumulated with a leading zero column
    before_run = torch.from_numpy(ss.run_start[run_of])
    end_of_run = torch.from_numpy(ss.run_end[run_of])
    run_ends = None if len(ss.run_start) == ss.n else torch.from_numpy(np.isin(np.arange(ss.n), ss.run_end - 1))
    bad_sorted = torch.from_numpy(bad_sorted)
    out: dict[str, list[np.ndarray]] = {m: [] for m in metrics}
    for counts in blocks:
        w = torch.from_numpy(np.take(counts, order, axis=1))
        w_bad = w * bad_sorted
        cum_bad = torch.cumsum(w_bad, 1)
        cum_good = torch.cumsum(w, 1).sub_(cum_bad)
        n_bad, n_good = cum_bad[:, -1:], cum_good[:, -1:]
        if "auc" in metrics:
            goods = torch.nn.functional.pad(cum_good, (1, 0))
            twice_u = (w_bad.index_select(1, bad_at) * (goods.index_select(1, before_run) + goods.index_select(1, end_of_run))).sum(1)
            out["auc"].append((twice_u / (2.0 * n_bad[:, 0] * n_good[:, 0])).numpy())
        if "ks" in metrics:
            gap = (cum_bad / n_bad).sub_(cum_good / n_good).abs_()
            if run_ends is not None:  # a cutoff cannot split a tie: read the gap at the end of each run only
                gap.mul_(run_ends)
            out["ks"].append(gap.amax(1).numpy())
    return {m: np.concatenate(v) for m, v in out.items()}


def _paired_draws(y: np.ndarray, so: np.ndarray, sp: np.ndarray, idx: np.ndarray, metrics: tuple[str, ...] = ("auc", "ks"),
                  chunk: int = CHUNK_CELLS) -> dict[str, np.ndarray]:
    """Pruned − original AUC and KS on each resample (rows of ``idx``), each model sorted once (``_model_draws``)."""
    blocks = _count_blocks(idx, len(y), chunk)
    original = _model_draws(sort_scores(so), y, blocks, metrics)
    pruned = _model_draws(sort_scores(sp), y, blocks, metrics)
    return {m: pruned[m] - original[m] for m in metrics}


# A slider move compares a new pruned model with the same original on the same seeded resamples:
# the resamples' counts and the original's draws are kept (bounded, keyed by content), so a move
# sorts and cumulates the pruned model's scores only.
_COUNTS = named_memo("core.metrics.intervals.resample_counts", 2)
_DRAWS = named_memo("core.metrics.intervals.model_draws", 16)
CACHED_COUNT_CELLS = 4_000_000  # resamples × applicants kept in memory at most (32 MB of float64 per entry)


def _paired_draws_seeded(y: np.ndarray, so: np.ndarray, sp: np.ndarray, resamples: int, seed: int,
                         metrics: tuple[str, ...]) -> dict[str, np.ndarray]:
    """``_paired_draws`` on the seeded resamples of ``_resample_rows``, reusing counts and the original's draws."""
    y_key = digest([np.ascontiguousarray(y, dtype=np.int8)], length=32)

    def blocks() -> tuple[np.ndarray, ...]:
        return _count_blocks(_resample_rows(y, resamples, seed), len(y))

    counts_key = (y_key, int(resamples), int(seed))
    fits = resamples * len(y) <= CACHED_COUNT_CELLS
    count_blocks = _COUNTS.get_or_compute(counts_key, blocks) if fits else blocks()

    def draws(s: np.ndarray) -> dict[str, np.ndarray]:
        return _DRAWS.get_or_compute((counts_key, digest([s], length=32), metrics),
                                     lambda: _model_draws(sort_scores(s), y, count_blocks, metrics))

    original, pruned = draws(so), draws(sp)
    return {m: pruned[m] - original[m] for m in metrics}


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
