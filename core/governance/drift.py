"""Robustness on later data: PSI per input variable (characteristic analysis) and out-of-time metrics."""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError, SpecError
from core.governance.segments import CATEGORICAL, MISSING, band_labels
from core.metrics.comparison import METRIC_LABELS, RiskMetrics
from core.metrics.stability import PSI_SIGNIFICANT, PSIResult, psi_band, psi_from_counts

CHARACTERISTIC_BINS = 10
UNSEEN = "(unseen in reference)"
NUMERIC = "numeric"




@dataclass(frozen=True)
class CharacteristicPSI:
    """PSI of each input variable between a reference sample and a later one (characteristic analysis)."""

    summary: pd.DataFrame  # variable, kind, bins, psi, band, unseen_share, missing_share_reference, missing_share_actual
    bins: pd.DataFrame = field(repr=False)  # variable, bin, label, expected_share, actual_share, contribution

    def to_frame(self) -> pd.DataFrame:
        return self.summary.copy()

    def bins_frame(self, variable: str | None = None) -> pd.DataFrame:
        b = self.bins if variable is None else self.bins[self.bins["variable"] == variable]
        return b.reset_index(drop=True)

    @property
    def shifted(self) -> list[str]:
        """Variables with a significant shift (PSI ≥ 0.25), worst first."""
        s = self.summary
        return s[s["band"] == PSI_SIGNIFICANT].sort_values("psi", ascending=False)["variable"].tolist()


def _as_frame(data: Any, names: Sequence[str] | None, what: str) -> pd.DataFrame:
    if isinstance(data, pd.DataFrame):
        return data
    arr = np.asarray(data)
    if arr.ndim != 2:
        raise DataError(f"The {what} must be a table (rows × variables).", "Pass a DataFrame or a 2-D array.")
    cols = list(names) if names is not None else [f"x{j}" for j in range(arr.shape[1])]
    if len(cols) != arr.shape[1]:
        raise DataError(f"{len(cols)} names were given for {arr.shape[1]} columns of the {what}.", "Pass one name per column.")
    return pd.DataFrame(arr, columns=cols)


def _numeric_values(col: pd.Series, variable: str, what: str) -> np.ndarray:
    values = pd.to_numeric(col, errors="coerce")
    bad = values.isna() & col.notna()
    if bad.any():
        raise DataError(
            f"Column '{variable}' of the {what} should hold numbers but has text such as '{col[bad].iloc[0]}'.",
            "Use the same columns and formats in both datasets.",
        )
    arr = np.array(values.to_numpy(dtype=np.float64), copy=True)  # own copy: never write into the caller's frame
    arr[~np.isfinite(arr)] = np.nan
    return arr


def _variable_psi(ref: pd.Series, act: pd.Series, variable: str, kind: str, bins: int) -> tuple[dict, pd.DataFrame]:
    if kind == NUMERIC:
        e = _numeric_values(ref, variable, "reference data")
        a = _numeric_values(act, variable, "out-of-time data")
        e_ok, a_ok = e[np.isfinite(e)], a[np.isfinite(a)]
        edges = np.unique(np.quantile(e_ok, np.linspace(0, 1, bins + 1)[1:-1])) if len(e_ok) else np.zeros(0)
        k = len(edges) + 1
        e_counts = np.bincount(np.searchsorted(edges, e_ok, side="right"), minlength=k)
        a_counts = np.bincount(np.searchsorted(edges, a_ok, side="right"), minlength=k)
        labels = band_labels(edges) if len(edges) else ["all"]
        e_missing, a_missing = int(np.isnan(e).sum()), int(np.isnan(a).sum())
        unseen = 0
    else:
        e_text = ref[ref.notna()].astype(str)
        a_text = act[act.notna()].astype(str)
        cats = sorted(set(e_text.tolist()))
        e_vc, a_vc = e_text.value_counts(), a_text.value_counts()
        e_counts = np.array([int(e_vc.get(c, 0)) for c in cats], dtype=np.int64)
        a_counts = np.array([int(a_vc.get(c, 0)) for c in cats], dtype=np.int64)
        labels = list(cats)
        unseen = int(len(a_text) - a_counts.sum())
        if unseen:
            labels.append(UNSEEN)
            e_counts = np.append(e_counts, 0)
            a_counts = np.append(a_counts, unseen)
        e_missing, a_missing = int(ref.isna().sum()), int(act.isna().sum())
    if e_missing or a_missing:
        labels = list(labels) + [MISSING]
        e_counts = np.append(e_counts, e_missing)
        a_counts = np.append(a_counts, a_missing)
    value, e_share, a_share, contrib = psi_from_counts(e_counts, a_counts)
    table = pd.DataFrame({
        "variable": variable, "bin": np.arange(1, len(labels) + 1), "label": labels,
        "expected_count": e_counts, "actual_count": a_counts,
        "expected_share": e_share, "actual_share": a_share, "contribution": contrib,
    })
    n_act = max(len(act), 1)
    row = {
        "variable": variable, "kind": kind, "bins": len(labels), "psi": value, "band": psi_band(value),
        "unseen_share": unseen / n_act,
        "missing_share_reference": e_missing / max(len(ref), 1), "missing_share_actual": a_missing / n_act,
    }
    return row, table


def characteristic_psi(
    reference: Any,
    actual: Any,
    columns: Sequence[str] | None = None,
    kinds: Mapping[str, str] | None = None,
    bins: int = CHARACTERISTIC_BINS,
    names: Sequence[str] | None = None,
) -> CharacteristicPSI:
    """PSI per variable of ``actual`` against ``reference`` (DataFrames, or 2-D arrays with ``names``).

    Numeric variables use ``bins`` quantile bins of the reference (ties merge bins); categorical
    ones use the reference's categories as bins, with categories never seen in the reference
    pooled into one bin of their own. Missing values form a bin when present. ``kinds`` forces
    "numeric"/"categorical" per variable (e.g. from the model's schema); otherwise it is read from
    the reference's dtype.
    """
    ref = _as_frame(reference, names, "reference data")
    act = _as_frame(actual, names, "out-of-time data")
    if len(ref) == 0 or len(act) == 0:
        raise DataError("PSI needs applicants in both datasets.", "Pass two non-empty datasets.")
    if int(bins) < 2:
        raise SpecError(f"PSI needs at least 2 bins, got {bins}.", f"Use the usual {CHARACTERISTIC_BINS} bins.")
    cols = [str(c) for c in (columns if columns is not None else ref.columns)]
    for frame, what in ((ref, "reference data"), (act, "out-of-time data")):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(
                f"The {what} lacks column(s) {', '.join(repr(c) for c in missing[:8])}.",
                "Both datasets need the same columns, with the same names.",
            )
    kinds = dict(kinds or {})
    rows, tables = [], []
    for c in cols:
        kind = kinds.get(c)
        if kind is None:
            s = ref[c]
            kind = NUMERIC if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s) else CATEGORICAL
        if kind not in (NUMERIC, CATEGORICAL):
            raise SpecError(f"Unknown kind '{kind}' for variable '{c}'.", "Use 'numeric' or 'categorical'.")
        row, table = _variable_psi(ref[c], act[c], c, kind, int(bins))
        rows.append(row)
        tables.append(table)
    return CharacteristicPSI(pd.DataFrame(rows), pd.concat(tables, ignore_index=True) if tables else pd.DataFrame())


@dataclass(frozen=True)
class OutOfTime:
    """Both models on an out-of-time sample, against the reference (the workspace's evaluation rows)."""

    cutoff: float
    n_reference: int
    n_oot: int
    reference_original: RiskMetrics
    reference_pruned: RiskMetrics
    oot_original: RiskMetrics
    oot_pruned: RiskMetrics
    score_psi_original: PSIResult
    score_psi_pruned: PSIResult
    characteristics: CharacteristicPSI
    oot_scores_original: np.ndarray = field(repr=False)
    oot_scores_pruned: np.ndarray = field(repr=False)
    notes: tuple[str, ...] = ()

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: both models on the reference and out-of-time data, and the changes."""
        rows = []
        for key, label in METRIC_LABELS.items():
            ro, rp = getattr(self.reference_original, key), getattr(self.reference_pruned, key)
            oo, op = getattr(self.oot_original, key), getattr(self.oot_pruned, key)
            rows.append({
                "metric": key, "label": label,
                "reference_original": ro, "reference_pruned": rp, "oot_original": oo, "oot_pruned": op,
                "drift_original": oo - ro, "drift_pruned": op - rp, "oot_pruned_minus_original": op - oo,
            })
        for key, label in (("n", "Applicants"), ("bad_rate", "Bad rate")):
            rows.append({
                "metric": key, "label": label,
                "reference_original": getattr(self.reference_original, key), "reference_pruned": getattr(self.reference_pruned, key),
                "oot_original": getattr(self.oot_original, key), "oot_pruned": getattr(self.oot_pruned, key),
                "drift_original": getattr(self.oot_original, key) - getattr(self.reference_original, key),
                "drift_pruned": getattr(self.oot_pruned, key) - getattr(self.reference_pruned, key),
                "oot_pruned_minus_original": 0.0,
            })
        return pd.DataFrame(rows)

    def psi_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"model": "original", "psi": self.score_psi_original.value, "band": self.score_psi_original.band},
            {"model": "pruned", "psi": self.score_psi_pruned.value, "band": self.score_psi_pruned.band},
        ])
