"""Governance views: segment fairness, adverse-action reason stability, out-of-time robustness.

Pruning a production credit model is a model change, and model-risk and fair-lending reviewers
ask three questions that the headline metrics do not answer:

* **Does the pruned model treat groups of applicants differently?** Per segment (a raw column,
  numeric ones banded) original vs pruned: rows, bad rate, AUC, approval rate, flipped decisions,
  and the adverse impact ratio (AIR: a group's approval rate over the best-approved group's in
  the same column). An AIR below 0.8 is flagged under the four-fifths rule of thumb (US EEOC
  Uniform Guidelines, used in fair-lending reviews as a screening test, not a verdict).
* **Would declined applicants be told the same reasons?** US ECOA / Regulation B require the
  principal reasons for a denial. Taking them as the top-k variables with the largest positive
  attributions on the logit of P(bad) (those pushing the applicant toward *bad*), we compare the
  reasons of the original and the pruned model for the same declined applicants.
* **Does it hold up on later data?** On an out-of-time sample with the same columns: every risk
  metric for both models, score PSI between the two samples for each model, and PSI per input
  variable (characteristic analysis).

Everything here is computed from core.metrics and core.explain results; every result has
``to_frame`` for charts and CSV. Inputs (frames, arrays, models) are never modified.
"""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Mapping, Sequence

import numpy as np
import pandas as pd

from .data import Dataset, prepare_dataset
from .errors import DataError, ExplainError, SpecError
from .explain import Attributions, _same_sample
from .metrics import (
    METRIC_LABELS,
    PSI_SIGNIFICANT,
    PSIResult,
    RiskMetrics,
    as_labels,
    as_scores,
    auc,
    check_cutoff,
    decline,
    psi,
    psi_band,
    psi_from_counts,
    risk_metrics,
)
from .model import predict_pbad
from .workspace import Workspace

DEFAULT_BANDS = 4
FOUR_FIFTHS = 0.8  # AIR below this is flagged (four-fifths rule)
SMALL_SEGMENT_ROWS = 30  # segments smaller than this are shown, with a note that numbers are noisy
DEFAULT_REASONS = 4  # principal reasons for a denial: Regulation B sample forms list up to four
CHARACTERISTIC_BINS = 10
MISSING = "(missing)"
UNSEEN = "(unseen in reference)"
NUMERIC = "numeric"
CATEGORICAL = "categorical"


def _fmt(x: float) -> str:
    return f"{x:g}"


# =========================================================================== segments


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


@dataclass(frozen=True)
class Segmentation:
    """Each applicant's group label for one column, the groups in display order, and how they were made."""

    column: str
    kind: str  # "numeric bands", "numeric values" or "categorical"
    labels: np.ndarray = field(repr=False)  # object array, one label per applicant
    groups: tuple[str, ...]
    edges: tuple[float, ...] = ()


def _band_labels(edges: Sequence[float]) -> list[str]:
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
            names = _band_labels(edges)
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
        cols = [f for f in SegmentRow.__dataclass_fields__]
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
    return auc(s, y)


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
    original_scores: Any,
    pruned_scores: Any,
    labels: Any,
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
    so = as_scores(original_scores, "original scores")
    sp = as_scores(pruned_scores, "pruned scores")
    y = as_labels(labels, len(so))
    if len(sp) != len(so):
        raise DataError(f"There are {len(so)} original scores but {len(sp)} pruned scores.", "Score the same applicants with both models.")
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


def eval_frame(ws: Workspace) -> pd.DataFrame:
    """The raw columns of the workspace's evaluation rows (``Dataset.frame`` is row-aligned with X)."""
    return ws.data.frame.iloc[ws.eval_idx].reset_index(drop=True)


def segment_fairness_for(ws: Workspace, pruned_scores: Any, cutoff: float, columns: Sequence[str | SegmentSpec],
                         bands: int = DEFAULT_BANDS, edges: Mapping[str, Sequence[float]] | None = None) -> SegmentFairness:
    """``segment_fairness`` on a workspace's evaluation rows."""
    return segment_fairness(eval_frame(ws), ws.original_scores, pruned_scores, ws.y_eval, cutoff, columns, bands, edges)


# =========================================================================== adverse-action reasons


def top_reasons(values: np.ndarray, names: Sequence[str], k: int = DEFAULT_REASONS) -> list[list[str]]:
    """Per row, up to k variables with the largest *positive* attributions, largest first.

    Only contributions pushing toward bad are reasons for a denial, so a row with fewer than k
    positive values gets fewer reasons. Ties keep the variables' order (deterministic).
    """
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(-v, axis=1, kind="stable")[:, :k]
    out = []
    for i in range(len(v)):
        out.append([str(names[j]) for j in order[i] if v[i, j] > 0])
    return out


@dataclass(frozen=True)
class ReasonStability:
    """Principal reasons for the declined applicants, original vs pruned model, and how stable they are.

    Reasons come from each model's own attributions of the same applicant. The compared
    applicants are those the *original* model declines among the explained rows (today's
    adverse-action population); whether the pruned model still declines them is a column.
    Shares are NaN when no explained applicant is declined.
    """

    k: int
    cutoff: float
    n_explained: int
    n_declined_original: int  # among the explained rows
    n_declined_pruned: int
    n_declined_both: int
    n_declined_total: int | None  # declined by the original among all evaluated rows, when known
    same_top1_share: float
    same_set_share: float
    applicants: pd.DataFrame = field(repr=False)  # one row per compared applicant
    reasons: pd.DataFrame = field(repr=False)  # per variable: times in top-k and as top-1, both models
    explainer_original: str = ""
    explainer_pruned: str = ""
    note: str = ""

    @property
    def n_assessed(self) -> int:
        return int(len(self.applicants))

    @property
    def n_changed(self) -> int:
        return int((~self.applicants["same_list"]).sum()) if len(self.applicants) else 0

    def to_frame(self) -> pd.DataFrame:
        return self.applicants.copy()

    def changed_frame(self) -> pd.DataFrame:
        """Applicants whose ordered reason list differs between the models."""
        a = self.applicants
        return a[~a["same_list"]].reset_index(drop=True) if len(a) else a.copy()

    def reason_frame(self) -> pd.DataFrame:
        return self.reasons.copy()

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"quantity": "explained applicants", "value": self.n_explained},
            {"quantity": "declined by the original (explained)", "value": self.n_declined_original},
            {"quantity": "declined by the pruned model (explained)", "value": self.n_declined_pruned},
            {"quantity": "declined by both (explained)", "value": self.n_declined_both},
            {"quantity": "declined by the original (all evaluated rows)",
             "value": float("nan") if self.n_declined_total is None else self.n_declined_total},
            {"quantity": "same top reason", "value": self.same_top1_share},
            {"quantity": f"same top-{self.k} set", "value": self.same_set_share},
            {"quantity": "applicants whose reasons changed", "value": self.n_changed},
        ])


_APPLICANT_COLUMNS = [
    "row", "pd_original", "pd_pruned", "decision_pruned", "reasons_original", "reasons_pruned",
    "top1_original", "top1_pruned", "same_top1", "same_set", "same_list", "n_reasons_original", "n_reasons_pruned",
]
_REASON_COLUMNS = ["variable", "in_top_k_original", "in_top_k_pruned", "change", "top1_original", "top1_pruned"]


def _variable_level(attr: Attributions, groups: Sequence[str] | None) -> Attributions:
    if attr.level == "variable":
        if groups is not None:
            raise ExplainError("These attributions are already grouped by variable.", "Pass groups=None for grouped attributions.")
        return attr
    return attr.grouped(groups)


def _scores_for(scores: Any, attr: Attributions, what: str) -> np.ndarray:
    if scores is None:  # the explained model outputs are the logit of P(bad)
        return 1.0 / (1.0 + np.exp(-np.asarray(attr.outputs, dtype=np.float64)))
    s = as_scores(scores, what)
    if len(s) != attr.n_rows:
        raise ExplainError(
            f"{len(s)} {what} were given for {attr.n_rows} explained applicants.",
            "Pass the scores of the explained rows, in the attributions' row order.",
        )
    return s


def adverse_action_reasons(
    attr_original: Attributions,
    attr_pruned: Attributions,
    original_scores: Any,
    pruned_scores: Any,
    cutoff: float,
    groups: Sequence[str] | None = None,
    k: int = DEFAULT_REASONS,
    n_declined_total: int | None = None,
) -> ReasonStability:
    """Compare the top-k adverse-action reasons of both models for the original's declined applicants.

    ``original_scores``/``pruned_scores`` are P(bad) of the *explained* rows in the attributions'
    row order (None: taken from the attributions' outputs). ``groups`` maps inputs to variables
    (``Dataset.groups``) so a one-hot variable is one reason. ``n_declined_total`` (declines among
    all evaluated rows) only feeds the note on how many declines could be assessed.
    """
    if int(k) < 1:
        raise SpecError(f"At least one reason per applicant is needed, got k = {k}.", f"Use the usual {DEFAULT_REASONS}.")
    k = int(k)
    c = check_cutoff(cutoff)
    _same_sample(attr_original, attr_pruned)
    vo, vp = _variable_level(attr_original, groups), _variable_level(attr_pruned, groups)
    so = _scores_for(original_scores, attr_original, "original scores")
    sp = _scores_for(pruned_scores, attr_pruned, "pruned scores")
    do, dp = decline(so, c), decline(sp, c)
    names = vo.feature_names
    idx = np.flatnonzero(do)
    ro = top_reasons(vo.values[idx], names, k)
    rp = top_reasons(vp.values[idx], names, k)
    first = lambda r: r[0] if r else ""  # noqa: E731
    applicants = pd.DataFrame({
        "row": vo.row_index[idx].astype(np.int64),
        "pd_original": so[idx],
        "pd_pruned": sp[idx],
        "decision_pruned": np.where(dp[idx], "decline", "approve").astype(object),
        "reasons_original": [", ".join(r) for r in ro],
        "reasons_pruned": [", ".join(r) for r in rp],
        "top1_original": [first(r) for r in ro],
        "top1_pruned": [first(r) for r in rp],
        "same_top1": np.array([first(a) == first(b) for a, b in zip(ro, rp)], dtype=bool),
        "same_set": np.array([set(a) == set(b) for a, b in zip(ro, rp)], dtype=bool),
        "same_list": np.array([a == b for a, b in zip(ro, rp)], dtype=bool),
        "n_reasons_original": np.array([len(r) for r in ro], dtype=np.int64),
        "n_reasons_pruned": np.array([len(r) for r in rp], dtype=np.int64),
    }, columns=_APPLICANT_COLUMNS)
    count = lambda lists: pd.Series([v for r in lists for v in r], dtype=object).value_counts()  # noqa: E731
    top1 = lambda lists: pd.Series([r[0] for r in lists if r], dtype=object).value_counts()  # noqa: E731
    reasons = pd.DataFrame({"variable": list(names)})
    for col, counts in (("in_top_k_original", count(ro)), ("in_top_k_pruned", count(rp)),
                        ("top1_original", top1(ro)), ("top1_pruned", top1(rp))):
        reasons[col] = reasons["variable"].map(counts).fillna(0).astype(np.int64)
    reasons["change"] = reasons["in_top_k_pruned"] - reasons["in_top_k_original"]
    reasons = reasons[(reasons["in_top_k_original"] > 0) | (reasons["in_top_k_pruned"] > 0)]
    reasons = reasons.assign(_abs=reasons["change"].abs()).sort_values(
        ["_abs", "in_top_k_original"], ascending=[False, False], kind="stable").drop(columns="_abs")
    reasons = reasons[_REASON_COLUMNS].reset_index(drop=True)

    n = len(idx)
    notes = [f"Only explained applicants can be assessed: {n} of the {attr_original.n_rows} explained rows are declined by the original model"]
    if n_declined_total is not None:
        notes[-1] += f" ({n_declined_total} declined among all evaluated rows)"
    notes[-1] += "."
    if n == 0:
        notes.append("No explained applicant is declined at this cutoff, so there are no reasons to compare.")
    no_reason = int(((applicants["n_reasons_original"] == 0) | (applicants["n_reasons_pruned"] == 0)).sum())
    if no_reason:
        notes.append(f"{no_reason} declined applicant(s) have no variable pushing toward bad under one model (score driven by the base rate).")
    return ReasonStability(
        k=k, cutoff=c, n_explained=attr_original.n_rows,
        n_declined_original=n, n_declined_pruned=int(dp.sum()), n_declined_both=int((do & dp).sum()),
        n_declined_total=None if n_declined_total is None else int(n_declined_total),
        same_top1_share=float(applicants["same_top1"].mean()) if n else float("nan"),
        same_set_share=float(applicants["same_set"].mean()) if n else float("nan"),
        applicants=applicants, reasons=reasons,
        explainer_original=attr_original.explainer, explainer_pruned=attr_pruned.explainer,
        note=" ".join(notes),
    )


def adverse_action_reasons_for(ws: Workspace, pruned_scores: Any, attr_original: Attributions, attr_pruned: Attributions,
                               cutoff: float, k: int = DEFAULT_REASONS) -> ReasonStability:
    """``adverse_action_reasons`` on a workspace: attributions' ``row_index`` are positions among its evaluation rows."""
    sp = as_scores(pruned_scores, "pruned scores")
    rows = np.asarray(attr_original.row_index, dtype=np.int64)
    if len(rows) and (rows.min() < 0 or rows.max() >= len(ws.original_scores)):
        raise ExplainError("The attributions refer to rows outside the evaluation data.", "Explain a sample of this workspace's rows.")
    groups = ws.data.groups if attr_original.level == "feature" else None
    c = check_cutoff(cutoff)
    result = adverse_action_reasons(attr_original, attr_pruned, ws.original_scores[rows], sp[rows], c, groups, k,
                                    n_declined_total=int(decline(ws.original_scores, c).sum()))
    # report dataset rows (the ids the flips table uses), not positions among the evaluation rows
    applicants = result.applicants.copy()
    applicants["row"] = ws.eval_idx[applicants["row"].to_numpy(dtype=np.int64)].astype(np.int64)
    return replace(result, applicants=applicants)


# =========================================================================== characteristic PSI


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
        labels = _band_labels(edges) if len(edges) else ["all"]
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


# =========================================================================== out-of-time


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


def prepare_oot(ws: Workspace, oot_frame: pd.DataFrame) -> Dataset:
    """The out-of-time rows through exactly the workspace's mapping (schema, or the same numeric columns)."""
    if not isinstance(oot_frame, pd.DataFrame):
        raise DataError("The out-of-time data is not a table.", "Upload it as CSV, Parquet or Excel.")
    schema = ws.model.schema
    try:
        return prepare_dataset(
            oot_frame, ws.data.target, ws.data.bad_value,
            schema=schema, feature_columns=None if schema is not None else list(ws.data.input_names),
            n_inputs=ws.model.n_inputs,
        )
    except DataError as err:
        raise DataError(f"The out-of-time dataset does not fit the model: {err.message}",
                        err.hint or "Use the same columns and target as the evaluation data.") from err


def _raw_variables(ws: Workspace) -> tuple[list[str], dict[str, str]]:
    schema = ws.model.schema
    if schema is not None:
        return schema.raw_columns, {f.name: f.kind for f in schema.features}
    return list(ws.data.input_names), {n: NUMERIC for n in ws.data.input_names}


def out_of_time(ws: Workspace, pruned_module: Any, oot_frame: pd.DataFrame, cutoff: float) -> OutOfTime:
    """Every risk metric on the out-of-time data for both models, score PSI and characteristic PSI.

    The reference is the workspace's evaluation rows (the sample the committee already sees);
    ``pruned_module`` is the pruned network (or a ``PrunedModel``), which keeps the original's
    input interface.
    """
    module = getattr(getattr(pruned_module, "result", None), "module", pruned_module)
    c = check_cutoff(cutoff)
    oot = prepare_oot(ws, oot_frame)
    kind = ws.output.kind
    ref_o = ws.original_scores
    ref_p = predict_pbad(module, ws.X_eval, kind)
    oot_o = predict_pbad(ws.model.module, oot.X, kind)
    oot_p = predict_pbad(module, oot.X, kind)
    variables, kinds = _raw_variables(ws)
    chars = characteristic_psi(eval_frame(ws), oot.frame, columns=variables, kinds=kinds)
    notes = [f"Reference: the {len(ref_o)} evaluation rows; out-of-time: {oot.n_rows} rows, same {'schema' if ws.model.schema else 'input columns'}."]
    if oot.n_rows < 100:
        notes.append(f"Only {oot.n_rows} out-of-time rows: PSI and metrics are noisy.")
    return OutOfTime(
        cutoff=c, n_reference=len(ref_o), n_oot=oot.n_rows,
        reference_original=risk_metrics(ref_o, ws.y_eval, c), reference_pruned=risk_metrics(ref_p, ws.y_eval, c),
        oot_original=risk_metrics(oot_o, oot.y, c), oot_pruned=risk_metrics(oot_p, oot.y, c),
        score_psi_original=psi(ref_o, oot_o), score_psi_pruned=psi(ref_p, oot_p),
        characteristics=chars, oot_scores_original=oot_o, oot_scores_pruned=oot_p, notes=tuple(notes),
    )
