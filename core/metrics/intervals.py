"""Sampling noise of a change: paired confidence intervals for ΔAUC and ΔKS.

Reference: Efron & Tibshirani (1993), *An Introduction to the Bootstrap*, ch. 13 (percentile
intervals); pairing as in DeLong, DeLong & Clarke-Pearson (1988), Biometrics 44 (correlated AUCs).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

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
        draws["auc"].append(_auc_kernel(yb, sp[idx]) - _auc_kernel(yb, so[idx]))
        draws["ks"].append(_ks_kernel(yb, sp[idx])[0] - _ks_kernel(yb, so[idx])[0])
    point = {"auc": _auc_kernel(y, sp) - _auc_kernel(y, so), "ks": _ks_kernel(y, sp)[0] - _ks_kernel(y, so)[0]}
    alpha = (1 - level) / 2
    out = {}
    for m, vals in draws.items():
        lo, hi = np.quantile(np.asarray(vals), [alpha, 1 - alpha])
        out[m] = DeltaCI(m, float(point[m]), float(lo), float(hi), level, resamples, int(seed))
    return out
