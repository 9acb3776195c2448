"""Sampling noise of a change: paired confidence intervals for ΔAUC and ΔKS."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from core.errors import MetricError, SpecError
from core.metrics._validation import (
    _as_count,
    _as_number,
    _both_classes,
    as_labels,
    as_scores,
)
from core.metrics.ranking import _fast_auc, _fast_ks

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
    original: Any, pruned: Any, labels: Any, resamples: int = DEFAULT_BOOTSTRAP, seed: int = 0, level: float = 0.95
) -> dict[str, DeltaCI]:
    """Percentile CIs for ΔAUC and ΔKS, resampling applicants with the *same* draw for both models.

    Pairing matters: the two models score the same applicants, so most sampling noise cancels in
    the difference; unpaired intervals would be far too wide. Resamples with one class only are
    redrawn (they have no AUC), so every interval rests on ``resamples`` valid draws.
    """
    so = as_scores(original, "original scores")
    sp = as_scores(pruned, "pruned scores")
    if len(so) != len(sp):
        raise MetricError(f"There are {len(so)} original scores but {len(sp)} pruned scores.", "Score the same applicants with both models.")
    y = as_labels(labels, len(so))
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
    draws: dict[str, list[float]] = {"auc": [], "ks": []}
    attempts = 0
    while len(draws["auc"]) < resamples:
        attempts += 1
        if attempts > resamples * 20:
            raise MetricError("Too few applicants of one outcome for a bootstrap interval.", "Evaluate on more rows.")
        idx = rng.integers(0, n, n)
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        draws["auc"].append(_fast_auc(sp[idx], yb) - _fast_auc(so[idx], yb))
        draws["ks"].append(_fast_ks(sp[idx], yb) - _fast_ks(so[idx], yb))
    point = {"auc": _fast_auc(sp, y) - _fast_auc(so, y), "ks": _fast_ks(sp, y) - _fast_ks(so, y)}
    alpha = (1 - level) / 2
    out = {}
    for m, vals in draws.items():
        lo, hi = np.quantile(np.asarray(vals), [alpha, 1 - alpha])
        out[m] = DeltaCI(m, float(point[m]), float(lo), float(hi), level, resamples, int(seed))
    return out
