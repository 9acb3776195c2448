"""Segment fairness: approval parity of groups of applicants under the original and the pruned model.

Per segment (a raw column, numeric ones banded) original vs pruned: rows, bad rate, AUC,
approval rate, flipped decisions, and the adverse impact ratio (AIR: a group's approval rate
over the best-approved group's in the same column). An AIR below 0.8 is flagged under the
four-fifths rule of thumb (US EEOC Uniform Guidelines, 29 CFR 1607.4(D), used in fair-lending
reviews as a screening test, not a verdict).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import DataError, SpecError
from core.metrics._validation import check_cutoff, check_paired
from core.metrics.decisions import decline
from core.metrics.ranking import auc

DEFAULT_BANDS = 4
# Characteristics fair-lending reviews ask about, as the sample (German Credit) names them.
SAMPLE_SEGMENTS = ("age_in_years", "personal_status_and_sex", "foreign_worker", "housing")
MAX_DEFAULT_GROUPS = 12
FOUR_FIFTHS = 0.8  # AIR below this is flagged (four-fifths rule)
SMALL_SEGMENT_ROWS = 30  # segments smaller than this are shown, with a note that numbers are noisy
MISSING = "(missing)"
CATEGORICAL = "categorical"


def _fmt(x: float) -> str:
    return f"{x:g}"


@dataclass(frozen=True)
class SegmentSpec:
    """How one raw column splits applicants: numeric columns into bands, categorical ones as-is.

    ``edges`` are user cut points for a numeric column (values below the first edge and from the
    last edge upward form bands of their own); without them the column is cut at its quantiles
    into ``bands`` bands. A numeric column with no more distinct values than ``bands`` keeps its
    values as groups (banding 1/2/3/4 into quartiles would only blur it).
    """

    column: str
    edges: tuple[float, ...] | None = None
    bands: int = DEFAULT_BANDS

    def __post_init__(self) -> None:
        object.__setattr__(self, "column", str(self.column))
        if self.edges is not None:
            try:
                e = tuple(sorted({float(x) for x in self.edges}))
            except (TypeError, ValueError) as exc:
                raise SpecError(f"The band edges for '{self.column}' are not numbers.", "Give edges such as 25, 35, 50.") from exc
            if not e or not all(np.isfinite(e)):
                raise SpecError(f"The band edges for '{self.column}' must be finite numbers.", "Give edges such as 25, 35, 50.")
            object.__setattr__(self, "edges", e)
        if int(self.bands) < 2:
            raise SpecError(f"'{self.column}' needs at least 2 bands, got {self.bands}.", f"Use e.g. {DEFAULT_BANDS} bands.")
        object.__setattr__(self, "bands", int(self.bands))

    @property
    def key(self) -> str:
        return f"segment|{self.column}|{self.edges!r}|{self.bands}"


@dataclass(frozen=True)
class Segmentation:
    """Each applicant's group label for one column, the groups in display order, and how they were made."""

    column: str
    kind: str  # "numeric bands", "numeric values" or "categorical"
    labels: np.ndarray = field(repr=False)  # object array, one label per applicant
    groups: tuple[str, ...]
    edges: tuple[float, ...] = ()


def band_labels(edges: Sequence[float]) -> list[str]:
    if not len(edges):
        return ["all"]
    out = [f"< {_fmt(edges[0])}"]
    out += [f"{_fmt(lo)} to < {_fmt(hi)}" for lo, hi in zip(edges[:-1], edges[1:])]
    out.append(f"≥ {_fmt(edges[-1])}")
    return out


def segment(frame: pd.DataFrame, spec: SegmentSpec | str) -> Segmentation:
    """Group labels of every row of ``frame`` for one segment column (missing values: their own group)."""
    spec = spec if isinstance(spec, SegmentSpec) else SegmentSpec(spec)
    if spec.column not in frame.columns:
        shown = ", ".join(map(str, list(frame.columns)[:12]))
        raise DataError(f"The dataset has no column '{spec.column}' to segment by.", f"Pick one of its columns ({shown}…).")
    col = frame[spec.column]
    missing = col.isna().to_numpy()
    labels = np.empty(len(col), dtype=object)
    labels[missing] = MISSING
    numeric = pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col)
    if numeric:
        values = col.to_numpy(dtype=np.float64)
        present = values[~missing]
        distinct = np.unique(present)
        if spec.edges is None and len(distinct) <= spec.bands:
            for v in distinct:
                labels[(values == v) & ~missing] = _fmt(v)
            groups = [_fmt(v) for v in distinct]
            kind, edges = "numeric values", ()
        else:
            if spec.edges is not None:
                edges = np.asarray(spec.edges, dtype=np.float64)
            elif len(present):
                edges = np.unique(np.quantile(present, np.linspace(0, 1, spec.bands + 1)[1:-1]))
                edges = edges[edges > present.min()]  # a band below the minimum would always be empty
            else:
                edges = np.zeros(0)
            names = band_labels(edges)
            band = np.searchsorted(edges, present, side="right")
            labels[~missing] = np.asarray(names, dtype=object)[band]
            used = set(band.tolist())
            groups = [n for i, n in enumerate(names) if i in used]
            kind, edges = "numeric bands", tuple(float(e) for e in edges)
    else:
        text = col[~missing].astype(str).to_numpy(dtype=object)
        labels[~missing] = text
        groups = sorted(set(text.tolist()))
        kind, edges = CATEGORICAL, ()
    if missing.any():
        groups.append(MISSING)
    return Segmentation(spec.column, kind, labels, tuple(groups), edges)


@dataclass(frozen=True)
class SegmentRow:
    """Original vs pruned on one group of one segment column, at the common cutoff."""

    column: str
    segment: str
    rows: int
    bads: int
    bad_rate: float
    auc_original: float
    auc_pruned: float
    approval_rate_original: float
    approval_rate_pruned: float
    air_original: float
    air_pruned: float
    flagged_original: bool
    flagged_pruned: bool
    flips: int
    good_declined: int  # good applicants the pruned model newly declines
    bad_approved: int  # bad applicants the pruned model newly approves
    note: str = ""

    @property
    def air_change(self) -> float:
        return self.air_pruned - self.air_original

    @property
    def newly_flagged(self) -> bool:
        return self.flagged_pruned and not self.flagged_original


@dataclass(frozen=True)
class SegmentTable:
    """All groups of one segment column; AIR is relative to the best-approved group of this column."""

    column: str
    kind: str
    edges: tuple[float, ...]
    rows: tuple[SegmentRow, ...]
    reference_original: str  # group with the highest approval rate under the original model
    reference_pruned: str

    @property
    def n_rows(self) -> int:
        return sum(r.rows for r in self.rows)

    @property
    def flagged(self) -> tuple[SegmentRow, ...]:
        return tuple(r for r in self.rows if r.flagged_original or r.flagged_pruned)

    def to_frame(self) -> pd.DataFrame:
        cols = list(SegmentRow.__dataclass_fields__)
        frame = pd.DataFrame([{f: getattr(r, f) for f in cols} for r in self.rows], columns=cols)
        frame.insert(2, "order", np.arange(len(frame)))
        frame["air_change"] = frame["air_pruned"] - frame["air_original"]
        frame["newly_flagged"] = frame["flagged_pruned"] & ~frame["flagged_original"]
        frame["approval_rate_change"] = frame["approval_rate_pruned"] - frame["approval_rate_original"]
        frame["auc_change"] = frame["auc_pruned"] - frame["auc_original"]
        frame.insert(1, "kind", self.kind)
        return frame


@dataclass(frozen=True)
class SegmentFairness:
    """Segment tables for every chosen column, at one cutoff."""

    cutoff: float
    n_rows: int
    tables: tuple[SegmentTable, ...]
    threshold: float = FOUR_FIFTHS

    def table(self, column: str) -> SegmentTable:
        for t in self.tables:
            if t.column == column:
                return t
        raise SpecError(f"No segment table for column '{column}'.", f"Pick one of {', '.join(t.column for t in self.tables)}.")

    def to_frame(self) -> pd.DataFrame:
        frames = [t.to_frame() for t in self.tables]
        if not frames:
            return SegmentTable("", "", (), (), "", "").to_frame()
        return pd.concat(frames, ignore_index=True)

    def flagged_frame(self) -> pd.DataFrame:
        """Groups below the four-fifths line under either model."""
        f = self.to_frame()
        return f[f["flagged_original"] | f["flagged_pruned"]].reset_index(drop=True)

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"column": t.column, "kind": t.kind, "groups": len(t.rows),
             "flagged_original": sum(r.flagged_original for r in t.rows),
             "flagged_pruned": sum(r.flagged_pruned for r in t.rows),
             "newly_flagged": sum(r.newly_flagged for r in t.rows),
             "min_air_original": min((r.air_original for r in t.rows), default=float("nan")),
             "min_air_pruned": min((r.air_pruned for r in t.rows), default=float("nan")),
             "reference_original": t.reference_original, "reference_pruned": t.reference_pruned}
            for t in self.tables
        ])


def adverse_impact_ratios(approval_rates: Sequence[float]) -> tuple[np.ndarray, int]:
    """Each group's approval rate over the highest one, and which group that is (NaN if nobody is approved)."""
    rates = np.asarray(approval_rates, dtype=np.float64)
    if not len(rates):
        return rates, -1
    best = int(np.nanargmax(rates)) if np.isfinite(rates).any() else -1
    top = rates[best] if best >= 0 else float("nan")
    if not np.isfinite(top) or top <= 0:
        return np.full(len(rates), np.nan), best
    return rates / top, best


def _safe_auc(s: np.ndarray, y: np.ndarray) -> float:
    if len(y) == 0 or y.min() == y.max():
        return float("nan")
    return auc(y, s)


def _segment_table(seg: Segmentation, so: np.ndarray, sp: np.ndarray, y: np.ndarray, cutoff: float, threshold: float) -> SegmentTable:
    stats: list[dict[str, Any]] = []
    # decisions once for all groups (the same rule core.metrics.flips applies), counted per group
    dec_o, dec_p = decline(so, cutoff), decline(sp, cutoff)
    for g in seg.groups:
        m = seg.labels == g
        ys, a, b = y[m], so[m], sp[m]
        do, dp = dec_o[m], dec_p[m]
        n, bads = int(m.sum()), int(ys.sum())
        notes = []
        if bads in (0, n):
            notes.append(f"only {'bad' if bads == n else 'good'} applicants: AUC undefined")
        if n < SMALL_SEGMENT_ROWS:
            notes.append(f"only {n} rows (< {SMALL_SEGMENT_ROWS}): rates are noisy")
        bad = ys == 1
        stats.append(dict(
            column=seg.column, segment=g, rows=n, bads=bads, bad_rate=bads / n,
            auc_original=_safe_auc(a, ys), auc_pruned=_safe_auc(b, ys),
            approval_rate_original=float((~do).mean()),
            approval_rate_pruned=float((~dp).mean()),
            flips=int((do != dp).sum()), good_declined=int((~do & dp & ~bad).sum()),
            bad_approved=int((do & ~dp & bad).sum()), note="; ".join(notes),
        ))
    air_o, ref_o = adverse_impact_ratios([s["approval_rate_original"] for s in stats])
    air_p, ref_p = adverse_impact_ratios([s["approval_rate_pruned"] for s in stats])
    rows = tuple(
        SegmentRow(**s, air_original=float(ao), air_pruned=float(ap),
                   flagged_original=bool(np.isfinite(ao) and ao < threshold),
                   flagged_pruned=bool(np.isfinite(ap) and ap < threshold))
        for s, ao, ap in zip(stats, air_o, air_p)
    )
    name = lambda i: seg.groups[i] if i >= 0 else ""  # noqa: E731
    return SegmentTable(seg.column, seg.kind, seg.edges, rows, name(ref_o), name(ref_p))


def segment_fairness(
    frame: pd.DataFrame,
    y_true: Any,
    original: Any,
    pruned: Any,
    *,
    cutoff: float,
    columns: Sequence[str | SegmentSpec],
    bands: int = DEFAULT_BANDS,
    edges: Mapping[str, Sequence[float]] | None = None,
    threshold: float = FOUR_FIFTHS,
) -> SegmentFairness:
    """Original vs pruned per segment; ``frame`` holds the raw columns of exactly the scored rows, in order.

    ``columns`` are column names (banded with ``bands`` quantile bands, or ``edges[column]``) or
    ready ``SegmentSpec``s. Rows are matched by position, never by the frame's index.
    """
    y, so, sp = check_paired(y_true, original, pruned)
    if len(frame) != len(so):
        raise DataError(
            f"The segment data has {len(frame)} rows but {len(so)} applicants were scored.",
            "Pass the raw columns of exactly the evaluated rows (e.g. frame.iloc[eval_idx]).",
        )
    if len(so) == 0:
        raise DataError("There are no applicants to segment.", "Evaluate the model on some rows first.")
    c = check_cutoff(cutoff)
    if isinstance(columns, (str, SegmentSpec)):
        columns = [columns]
    if not columns:
        raise SpecError("No segment columns were chosen.", "Pick at least one column, e.g. age or housing.")
    edges = dict(edges or {})
    specs = [col if isinstance(col, SegmentSpec) else SegmentSpec(col, edges.get(str(col)), bands) for col in columns]
    return SegmentFairness(c, len(so), tuple(_segment_table(segment(frame, s), so, sp, y, c, threshold) for s in specs), threshold)


def segment_candidates(frame: pd.DataFrame, target: str) -> list[str]:
    """Every raw column but the target can segment applicants."""
    return [c for c in frame.columns if c != target]


def default_segment_columns(frame: pd.DataFrame, target: str) -> list[str]:
    """The columns a review segments by unless the user picks others (dashboard, CLI and report alike).

    The sample's protected-characteristic proxies when present, else up to three short
    categorical columns (2 to 12 groups), which is where approval parity is usually asked about.
    """
    candidates = segment_candidates(frame, target)
    chosen = [c for c in SAMPLE_SEGMENTS if c in candidates]
    if chosen:
        return chosen
    return [c for c in candidates
            if not pd.api.types.is_numeric_dtype(frame[c]) and 1 < frame[c].nunique() <= MAX_DEFAULT_GROUPS][:3]
