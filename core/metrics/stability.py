"""Population stability index (PSI) and its bands: the one owner of the stable / monitor / shift rule.

References: Siddiqi (2017), *Intelligent Credit Scoring*, 2nd ed., ch. 14 (PSI and the 0.10 / 0.25
rules of thumb); Yurdakul & Naranjo (2020), "Statistical properties of the population stability
index", Journal of Risk Model Validation 14(4) (the bands depend on bins and sample size).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import MetricError, SpecError
from core.metrics._validation import _as_count, _as_numbers

PSI_BANDS = ((0.10, "stable"), (0.25, "monitor"))  # above the last edge: "significant shift"
PSI_SIGNIFICANT = "significant shift"


def psi_bands_text() -> str:
    """The bands in words, as every page, chart and report states them."""
    (lo, a), (hi, b) = PSI_BANDS
    return f"< {lo:.2f} {a}, {lo:.2f}–{hi:.2f} {b}, ≥ {hi:.2f} {PSI_SIGNIFICANT}"


@dataclass(frozen=True)
class PSIResult:
    """Population stability index of ``actual`` against ``expected`` on the expected's quantile bins."""

    value: float
    band: str
    table: pd.DataFrame = field(repr=False)

    def to_frame(self) -> pd.DataFrame:
        """The per-bin table (bin, edges, shares, contribution); the value is its contribution sum."""
        return self.table.copy()


def psi_band(value: float) -> str:
    """< 0.10 stable, 0.10–0.25 monitor, above: significant shift (the usual credit-scoring bands)."""
    v = float(value)
    if not np.isfinite(v) or v < 0:
        raise MetricError(f"PSI {value} is not a valid stability index.", "PSI is a non-negative finite number.")
    for edge, name in PSI_BANDS:
        if value < edge:
            return name
    return PSI_SIGNIFICANT


def _quantile_edges(expected: np.ndarray, bins: int) -> np.ndarray:
    qs = np.quantile(expected, np.linspace(0, 1, bins + 1)[1:-1])
    return np.unique(qs)


def psi_from_counts(expected_counts: np.ndarray, actual_counts: np.ndarray, floor: float = 1e-4) -> tuple[float, np.ndarray, np.ndarray, np.ndarray]:
    """PSI = Σ (a − e)·ln(a / e) over bins; empty bins get a small floor share so PSI stays finite."""
    e = _as_numbers(expected_counts, "expected counts", "Pass one applicant count per bin.")
    a = _as_numbers(actual_counts, "actual counts", "Pass one applicant count per bin.")
    if len(e) != len(a):
        raise MetricError(f"There are {len(e)} expected bins but {len(a)} actual bins.", "Count both samples in the same bins.")
    if not (np.isfinite(e).all() and np.isfinite(a).all()) or (e < 0).any() or (a < 0).any():
        raise MetricError("Bin counts must be finite and non-negative.", "Pass one applicant count per bin.")
    if e.sum() <= 0 or a.sum() <= 0:
        raise MetricError("PSI needs applicants in both samples.", "Pass two non-empty samples.")
    e_share = np.maximum(e / e.sum(), floor)
    a_share = np.maximum(a / a.sum(), floor)
    contrib = (a_share - e_share) * np.log(a_share / e_share)
    return float(contrib.sum()), e / e.sum(), a / a.sum(), contrib


def psi(expected: Any, actual: Any, bins: int = 10) -> PSIResult:
    """Score PSI with bins at the expected scores' deciles (ties merge bins rather than split them)."""
    e = _as_numbers(expected, "expected scores", "Pass the original model's scores.")
    a = _as_numbers(actual, "actual scores", "Pass the pruned model's scores.")
    bins = _as_count(bins, "number of PSI bins", "Use the usual 10 bins.")
    for arr, what in ((e, "expected"), (a, "actual")):
        if len(arr) == 0:
            raise MetricError(f"The {what} sample is empty.", "PSI needs applicants in both samples.")
        if not np.isfinite(arr).all():
            raise MetricError(f"The {what} sample contains NaN or infinite values.", "Remove them before measuring stability.")
    if bins < 2:
        raise SpecError(f"PSI needs at least 2 bins, got {bins}.", "Use the usual 10 bins.")
    edges = _quantile_edges(e, bins)
    e_bin = np.searchsorted(edges, e, side="right")
    a_bin = np.searchsorted(edges, a, side="right")
    k = len(edges) + 1
    value, e_share, a_share, contrib = psi_from_counts(np.bincount(e_bin, minlength=k), np.bincount(a_bin, minlength=k))
    lower = np.concatenate([[-np.inf], edges])
    upper = np.concatenate([edges, [np.inf]])
    table = pd.DataFrame({
        "bin": np.arange(1, k + 1), "lower": lower, "upper": upper,
        "expected_share": e_share, "actual_share": a_share, "contribution": contrib,
    })
    return PSIResult(value, psi_band(value), table)
