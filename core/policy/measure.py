"""Every number a verdict reads, computed once from a workspace and a pruned model.

The numbers come from the functions every page already shows (``compare_workspace`` with its
paired bootstrap, ``expected_calibration_error``, ``segment_fairness_for``,
``adverse_action_reasons_for`` on SHAP attributions, the out-of-time rows prepared by
``prepare_oot``), so the verdict strip can never disagree with the page under it.

Whatever is the same for every candidate (the cutoff, the original's calibration, which declined
applicants are explained and the original's attributions of them, the out-of-time rows) is
computed once in a ``Baseline``; ``measure`` then costs one comparison per pruned model.
Numbers an enabled criterion does not read and that are expensive (bootstrap, SHAP, segments,
out-of-time) are skipped and marked as not computed.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from torch import nn

from core.data.dataset import Dataset
from core.errors import DataError, MetricError, SpecError
from core.explain.attributions import Attributions
from core.explain.sample import ExplainSample, draw_sample
from core.governance.segments import SegmentSpec
from core.hashing import digest
from core.metrics.calibration import expected_calibration_error
from core.metrics.comparison import compare
from core.metrics.decisions import CutoffChoice, DecisionRule, decline
from core.model.eager import PER_INPUT_KINDS
from core.model.layers import SelectInputs
from core.model.outputs import predict_pbad
from core.policy.criteria import DELTA, METRICS, NEEDS_OOT, NEEDS_SEGMENTS, Policy, format_value
from core.prune.result import PruneResult
from core.prune.size import original_size_of
from core.prune.structure import is_linear
from core.workspace.binding import Workspace
from core.workspace.governance import adverse_action_reasons_for, prepare_oot, segment_fairness_for
from core.workspace.operations import PrunedModel, attributions_for, compare_workspace

NONZEROS, PARAMETERS, FILE_BYTES, INPUT_VARIABLES = "nonzeros", "parameters", "file_bytes", "input_variables"
SIZE_AXES = {
    NONZEROS: "Non-zero parameters",
    PARAMETERS: "Stored parameters",
    FILE_BYTES: "File size (bytes)",
    INPUT_VARIABLES: "Input variables used (data cost)",
}


def check_axis(axis: str) -> str:
    if axis not in SIZE_AXES:
        raise SpecError(f"Unknown size axis '{axis}'.", f"Use one of: {', '.join(SIZE_AXES)}.")
    return axis


# --------------------------------------------------------------------------- what a model still uses


def _leaves(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if not list(m.children())]


def inputs_used(module: nn.Module, n_inputs: int) -> np.ndarray:
    """Which model inputs can still change the score: a first-layer column with a non-zero weight.

    An input-selector layer (left by input compaction) maps the first Linear's columns back to
    the model's inputs; per-input layers ahead of the first Linear (e.g. a BatchNorm1d on the raw
    inputs) do not mix inputs, so they do not change the answer. When anything else comes first
    (an embedding lookup, attention, a custom module) or the first Linear does not read the inputs
    themselves, the weights cannot tell, and every input counts as used.
    """
    everything = np.ones(int(n_inputs), dtype=bool)
    used = np.zeros(int(n_inputs), dtype=bool)
    select: np.ndarray | None = None
    for m in _leaves(module):
        kind = getattr(m, "original_name", type(m).__name__)
        if isinstance(m, SelectInputs) or kind == "SelectInputs":
            select = m.index.detach().cpu().numpy().astype(np.int64)
        elif is_linear(m):
            cols = (m.weight.detach() != 0).any(dim=0).cpu().numpy()
            if len(cols) != (int(n_inputs) if select is None else len(select)):
                return everything
            if select is None:
                used[: len(cols)] = cols
            else:
                used[select[cols]] = True
            return used
        elif kind not in PER_INPUT_KINDS:
            return everything
    return everything  # no Linear layer found: assume every input is used


def variables_used(result: PruneResult, groups: Sequence[str], n_inputs: int) -> int:
    """How many input variables (one-hot dummies count as their variable) the pruned model still reads.

    An input no longer in the model's interface (``PruneResult.input_keep``) is not read, whatever the architecture.
    """
    module = result.masked_module if result.masked_module is not None else result.module
    used = inputs_used(module, n_inputs)
    if result.input_keep is not None:
        kept = np.zeros(int(n_inputs), dtype=bool)
        kept[list(result.input_keep)] = True
        used &= kept
    return len({g for g, u in zip(groups, used) if u})


# --------------------------------------------------------------------------- baseline


@dataclass(frozen=True, eq=False)
class Baseline:
    """What every candidate is compared against: computed once per workspace × policy × choices."""

    policy: Policy
    decision: DecisionRule
    cutoff: CutoffChoice
    segments: tuple[SegmentSpec, ...]
    ece_original: float
    n_variables: int
    explain: ExplainSample | None  # the declined applicants explained for adverse-action reasons
    attributions_original: Attributions | None
    explain_note: str
    oot: Dataset | None
    oot_scores_original: np.ndarray | None
    key: str


MIN_EXPLAINED, MIN_BACKGROUND = 50, 20  # the budget never shrinks the reasons sample below these


def explain_sizes(policy: Policy, multiply_adds: int) -> tuple[int, int]:
    """(declined applicants, background rows) the reasons criterion explains on a network of this cost.

    Explaining one applicant against one background row costs about one pass through the network
    (DeepSHAP back-propagates every pair). When the policy's ``explain_rows × explain_background``
    pairs exceed ``explain_budget`` multiply-adds, both shrink by the same factor (the square root
    of budget / cost), never below ``MIN_EXPLAINED`` applicants and ``MIN_BACKGROUND`` rows; a
    network of a few thousand weights is always explained at the policy's full sizes.
    """
    rows, background = policy.explain_rows, policy.explain_background
    cost = rows * background * max(int(multiply_adds), 1)
    if cost <= policy.explain_budget:
        return rows, background
    shrink = math.sqrt(policy.explain_budget / cost)
    return max(min(rows, MIN_EXPLAINED), int(rows * shrink)), max(min(background, MIN_BACKGROUND), int(background * shrink))


def _explain_sample(ws: Workspace, cutoff: float, policy: Policy) -> tuple[ExplainSample | None, str]:
    """The original's declined applicants (all, or a seeded sample) and a seeded background, sized by ``explain_sizes``.

    Only declined applicants receive adverse-action notices, so only they are explained; the
    background is the standard seeded background of the evaluation rows (``draw_sample``).
    """
    n = len(ws.eval_idx)
    declined = np.flatnonzero(decline(ws.original_scores, cutoff)).astype(np.int64)
    if len(declined) == 0:
        return None, "the original model declines nobody at this cutoff, so there are no adverse-action reasons to compare"
    macs = original_size_of(ws.model).multiply_adds
    rows, n_background = explain_sizes(policy, macs)
    if len(declined) > rows:
        rng = np.random.default_rng([policy.explain_seed, 2])
        declined = np.sort(rng.choice(declined, size=rows, replace=False)).astype(np.int64)
        note = f"{len(declined)} of the declined applicants explained (seeded sample, seed {policy.explain_seed})"
    else:
        note = f"all {len(declined)} declined applicants explained"
    background = draw_sample(n, 1, n_background, policy.explain_seed).background
    note += f" against {len(background)} background rows"
    if (rows, n_background) != (policy.explain_rows, policy.explain_background):
        note += (f" (the policy's {policy.explain_rows} × {policy.explain_background} would cost "
                 f"{policy.explain_rows * policy.explain_background * macs:.2g} multiply-adds on this network of {macs:,} per "
                 f"applicant, above its explanation budget of {policy.explain_budget:.2g}: both reduced in proportion)")
    return ExplainSample(rows=declined, background=background, seed=policy.explain_seed, n_available=n), note


def check_segments(ws: Workspace, segments: Sequence[str | SegmentSpec]) -> tuple[SegmentSpec, ...]:
    """Segment columns as ``SegmentSpec``s (a bare name gets the default quantile bands), checked against the data."""
    if isinstance(segments, (str, SegmentSpec)):
        segments = [segments]
    specs = tuple(dict.fromkeys(s if isinstance(s, SegmentSpec) else SegmentSpec(str(s)) for s in segments))
    cols = [s.column for s in specs]
    missing = [c for c in cols if c not in ws.data.frame.columns]
    if missing:
        raise DataError(f"The data has no column '{missing[0]}' to segment by.",
                        f"Pick segment columns of the evaluation data ({', '.join(map(str, list(ws.data.frame.columns)[:12]))}…).")
    if ws.data.target in cols:
        raise DataError(f"'{ws.data.target}' is the target, not a segment of applicants.", "Pick another column to segment by.")
    return specs


def baseline_for(ws: Workspace, policy: Policy, *, decision: DecisionRule | None = None,
                 segments: Sequence[str | SegmentSpec] = (),
                 oot: pd.DataFrame | Dataset | None = None) -> Baseline:
    """Everything about the original model a verdict needs, for this policy and these choices.

    ``decision`` is the cutoff rule (default: decline as many as the data has bad ones),
    ``segments`` the raw columns fairness is judged on, by name (default quantile bands) or as
    ``SegmentSpec`` with the Governance page's bands (none: fairness is not applicable),
    ``oot`` a later sample as a raw table (prepared like the evaluation data) or an already
    prepared ``Dataset`` (none: the out-of-time criteria are not applicable).
    """
    if not isinstance(policy, Policy):
        raise SpecError("The acceptance policy is missing.", "Pass a core.policy.Policy (default_policy()).")
    decision = decision if decision is not None else DecisionRule()
    cutoff = decision.resolve(ws.y_eval, ws.original_scores)
    segs = check_segments(ws, segments)
    explain, attr, note = None, None, ""
    if policy.needs_metric("reason_overlap"):
        explain, note = _explain_sample(ws, cutoff.cutoff, policy)
        if explain is not None:
            attr = attributions_for(ws, None, explain)
    oot_data, oot_scores = None, None
    if oot is not None:
        oot_data = oot if isinstance(oot, Dataset) else prepare_oot(ws, oot)
        if oot_data.X.shape[1] != ws.data.X.shape[1]:
            raise DataError(f"The out-of-time rows have {oot_data.X.shape[1]} inputs, the model {ws.data.X.shape[1]}.",
                            "Prepare them with core.workspace.prepare_oot.")
        oot_scores = predict_pbad(ws.model.module, oot_data.X, ws.output.kind)
    key = digest([ws.key, policy.key, decision.key, repr(segs),
                  "" if oot_data is None else oot_data.fingerprint], length=32)
    return Baseline(
        policy=policy, decision=decision, cutoff=cutoff, segments=segs,
        ece_original=expected_calibration_error(ws.y_eval, ws.original_scores, bins=policy.ece_bins),
        n_variables=len(set(ws.data.groups)), explain=explain, attributions_original=attr, explain_note=note,
        oot=oot_data, oot_scores_original=oot_scores, key=key,
    )


# --------------------------------------------------------------------------- measurements

_CRITERION_METRICS = tuple(METRICS)


@dataclass(frozen=True)
class Measurements:
    """Every number a criterion can read, for one pruned model against the original.

    A criterion metric is ``None`` when it does not apply (no segment columns chosen, no
    out-of-time data) or was not computed (no enabled criterion reads it), and NaN when it is
    undefined on these applicants (e.g. nobody is approved); ``notes[metric]`` says which, in
    words, and carries details such as the worst segment.
    """

    subject: str
    state: str  # masked or compacted
    fine_tuned: bool
    cutoff: float
    cutoff_how: str
    n_rows: int
    auc_original: float
    auc_pruned: float
    ks_original: float
    ks_pruned: float
    brier_original: float
    brier_pruned: float
    ece_original: float
    ece_pruned: float
    approval_rate_original: float
    approval_rate_pruned: float
    approved_bad_rate_original: float
    approved_bad_rate_pruned: float
    n_flips: int
    size: dict
    original_size: dict
    n_variables: int
    n_variables_original: int
    bootstrap_resamples: int
    bootstrap_seed: int
    delta_auc: float | None = None
    delta_auc_low: float | None = None
    delta_auc_high: float | None = None
    delta_ks: float | None = None
    psi: float | None = None
    delta_brier: float | None = None
    delta_ece: float | None = None
    flip_share: float | None = None
    approval_rate_change: float | None = None
    delta_approved_bad_rate: float | None = None
    min_air: float | None = None
    max_air_drop: float | None = None
    reason_overlap: float | None = None
    n_reasons_assessed: int = 0
    oot_delta_auc_low: float | None = None
    oot_delta_ks: float | None = None
    oot_psi: float | None = None
    n_oot: int = 0
    notes: dict = field(default_factory=dict)

    def value(self, metric: str) -> float | None:
        if metric not in METRICS:
            raise SpecError(f"Unknown metric '{metric}'.", f"Use one of: {', '.join(METRICS)}.")
        return getattr(self, metric)

    def note(self, metric: str) -> str:
        return str(self.notes.get(metric, ""))

    def size_on(self, axis: str) -> int:
        """The pruned model's size on one axis (non-zeros, stored parameters, file bytes, input variables)."""
        return int(self.n_variables if check_axis(axis) == INPUT_VARIABLES else self.size[axis])

    def original_size_on(self, axis: str) -> int:
        return int(self.n_variables_original if check_axis(axis) == INPUT_VARIABLES else self.original_size[axis])

    def to_dict(self) -> dict:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion metric: label, value, note."""
        return pd.DataFrame([{"metric": k, "label": METRICS[k].label, "value": getattr(self, k), "note": self.note(k)}
                             for k in _CRITERION_METRICS], columns=["metric", "label", "value", "note"])


def _interval_note(ci, where: str) -> str:
    return (f"ΔAUC {format_value(ci.delta, DELTA)}, 95 % interval {format_value(ci.low, DELTA)} to "
            f"{format_value(ci.high, DELTA)} from {ci.resamples} paired resamples, seed {ci.seed}, {where}")


def _nan_note(value: float, why: str, notes: dict, metric: str) -> float:
    if not math.isfinite(value):
        notes[metric] = why
    return value


def _fairness(ws: Workspace, pruned: PrunedModel, base: Baseline, notes: dict) -> tuple[float, float]:
    sf = segment_fairness_for(ws, pruned, base.cutoff.cutoff, tuple(base.segments))
    f = sf.to_frame()
    label = lambda r: f"{r['column']} = {r['segment']}"
    undefined = [t.column for t in sf.tables if not all(math.isfinite(r.air_pruned) for r in t.rows)]
    if undefined:
        notes["min_air"] = (f"nobody in any '{undefined[0]}' group is approved by the pruned model, "
                            "so adverse impact ratios are undefined")
        min_air = float("nan")
    else:
        worst = f.loc[f["air_pruned"].idxmin()]
        min_air = float(worst["air_pruned"])
        notes["min_air"] = f"lowest: {label(worst)} at {min_air:.3f}, original {float(worst['air_original']):.3f}"
    undefined_o = [t.column for t in sf.tables if not all(math.isfinite(r.air_original) for r in t.rows)]
    if undefined or undefined_o:
        col = (undefined or undefined_o)[0]
        who = "pruned" if undefined else "original"
        notes["max_air_drop"] = f"nobody in any '{col}' group is approved by the {who} model, so the change is undefined"
        drop = float("nan")
    else:
        change = f["air_original"] - f["air_pruned"]
        worst = f.loc[change.idxmax()]
        drop = float(change.max())
        notes["max_air_drop"] = (f"largest fall: {label(worst)}, {float(worst['air_original']):.3f} → "
                                 f"{float(worst['air_pruned']):.3f}")
    return min_air, drop


def _reasons(ws: Workspace, pruned: PrunedModel, base: Baseline, notes: dict) -> tuple[float, int]:
    if base.explain is None or base.attributions_original is None:
        notes["reason_overlap"] = base.explain_note or "no declined applicants to explain"
        return float("nan"), 0
    attr_p = attributions_for(ws, pruned, base.explain)
    rs = adverse_action_reasons_for(ws, pruned.scores, base.attributions_original, attr_p, base.cutoff.cutoff,
                                    k=base.policy.reason_k)
    notes["reason_overlap"] = (f"top-{rs.k} reasons of {rs.n_assessed} declined applicants, {base.explain_note}; "
                               f"same top reason for {rs.same_top1_share:.0%}; explainer: {attr_p.label}")
    return float(rs.top_k_overlap_share), rs.n_assessed


def _oot(pruned: PrunedModel, ws: Workspace, base: Baseline, notes: dict) -> dict[str, float]:
    oot = base.oot
    scores = predict_pbad(pruned.result.module, oot.X, ws.output.kind)
    need_ci = base.policy.needs_metric("oot_delta_auc_low")
    out = {"oot_delta_auc_low": None, "oot_delta_ks": float("nan"), "oot_psi": float("nan")}
    try:
        c = compare(oot.y, base.oot_scores_original, scores, cutoff=base.cutoff.cutoff,
                    bootstrap=base.policy.bootstrap_resamples if need_ci else 0, seed=base.policy.bootstrap_seed)
    except MetricError as err:
        for k in out:
            notes[k] = f"undefined on the out-of-time rows: {err.message}"
        return {k: float("nan") for k in out}
    out["oot_delta_ks"] = c.delta("ks")
    out["oot_psi"] = float(c.psi.value)
    if need_ci:
        out["oot_delta_auc_low"] = float(c.ci["auc"].low)
        notes["oot_delta_auc_low"] = _interval_note(c.ci["auc"], f"on {oot.n_rows} out-of-time rows")
    else:
        notes["oot_delta_auc_low"] = "not computed: no enabled criterion reads it"
    return out


def measure(ws: Workspace, pruned: PrunedModel, base: Baseline) -> Measurements:
    """All criterion metrics of ``pruned`` against the original on the workspace's evaluation rows."""
    if not isinstance(pruned, PrunedModel):
        raise SpecError("The pruned model is missing.", "Pass the PrunedModel that prune_workspace returned.")
    if len(pruned.scores) != len(ws.eval_idx):
        raise SpecError("The pruned model was scored on other rows than this workspace's evaluation rows.",
                        "Score it with core.workspace.scored(ws, result).")
    policy = base.policy
    notes: dict[str, str] = {}
    need_ci = policy.needs_metric("delta_auc_low")
    # the baseline's own rule (it resolves to base.cutoff on these rows): with the default policy the
    # comparison is the very one the Prune page draws, so a slider move computes it (and its bootstrap) once
    comp = compare_workspace(ws, pruned, base.decision, bootstrap=policy.bootstrap_resamples if need_ci else 0,
                             seed=policy.bootstrap_seed)
    o, p = comp.original, comp.pruned
    ece_p = expected_calibration_error(ws.y_eval, pruned.scores, bins=policy.ece_bins)
    values: dict[str, Any] = {
        "delta_auc": comp.delta("auc"), "delta_ks": comp.delta("ks"), "psi": float(comp.psi.value),
        "delta_brier": comp.delta("brier"), "delta_ece": ece_p - base.ece_original, "flip_share": comp.flips.share,
        "approval_rate_change": abs(comp.delta("approval_rate")),
    }
    if need_ci:
        ci = comp.ci["auc"]
        values.update(delta_auc_low=ci.low, delta_auc_high=ci.high)
        notes["delta_auc_low"] = _interval_note(ci, f"on {o.n} evaluation rows")
    else:
        notes["delta_auc_low"] = "not computed: no enabled criterion reads it"
    notes["delta_ece"] = f"ECE {base.ece_original:.4f} → {ece_p:.4f} over {policy.ece_bins} equal-count bins"
    notes["approval_rate_change"] = f"approval rate {o.approval_rate:.1%} → {p.approval_rate:.1%}"
    f = comp.flips
    notes["flip_share"] = (f"{f.count} of {f.n} decisions change: {f.good_declined} goods and {f.bad_declined} bads newly "
                           f"declined, {f.good_approved} goods and {f.bad_approved} bads newly approved")
    abr = p.approved_bad_rate - o.approved_bad_rate
    who = "pruned" if not math.isfinite(p.approved_bad_rate) else "original"
    values["delta_approved_bad_rate"] = _nan_note(
        abr, f"nobody is approved by the {who} model at cutoff {base.cutoff.cutoff:.4f}, so the bad rate of approved "
             "applicants is undefined", notes, "delta_approved_bad_rate")
    if math.isfinite(abr):
        notes["delta_approved_bad_rate"] = f"bad rate of approved {o.approved_bad_rate:.2%} → {p.approved_bad_rate:.2%}"

    needs = {k: m.needs for k, m in METRICS.items()}
    fairness_wanted = policy.needs_metric("min_air") or policy.needs_metric("max_air_drop")
    if base.segments and fairness_wanted:
        values["min_air"], values["max_air_drop"] = _fairness(ws, pruned, base, notes)
    n_reasons = 0
    if policy.needs_metric("reason_overlap"):
        values["reason_overlap"], n_reasons = _reasons(ws, pruned, base, notes)
    oot_wanted = any(policy.needs_metric(k) for k, n in needs.items() if n == NEEDS_OOT)
    if base.oot is not None and oot_wanted:
        values.update(_oot(pruned, ws, base, notes))
    for k, need in needs.items():
        if values.get(k) is None and k not in notes:
            if need == NEEDS_SEGMENTS and not base.segments:
                notes[k] = "not applicable: no segment columns chosen"
            elif need == NEEDS_OOT and base.oot is None:
                notes[k] = "not applicable: no out-of-time data given"
            else:
                notes[k] = "not computed: no enabled criterion reads it"
    r = pruned.result
    return Measurements(
        subject=pruned.description, state=r.state, fine_tuned=pruned.fine_tuned, cutoff=base.cutoff.cutoff,
        cutoff_how=base.cutoff.how, n_rows=o.n,
        auc_original=o.auc, auc_pruned=p.auc, ks_original=o.ks, ks_pruned=p.ks, brier_original=o.brier,
        brier_pruned=p.brier, ece_original=base.ece_original, ece_pruned=ece_p,
        approval_rate_original=o.approval_rate, approval_rate_pruned=p.approval_rate,
        approved_bad_rate_original=o.approved_bad_rate, approved_bad_rate_pruned=p.approved_bad_rate,
        n_flips=comp.flips.count, size=r.size.to_dict(), original_size=r.original_size.to_dict(),
        n_variables=variables_used(r, ws.data.groups, ws.model.n_inputs), n_variables_original=base.n_variables,
        bootstrap_resamples=policy.bootstrap_resamples if need_ci else 0, bootstrap_seed=policy.bootstrap_seed,
        n_reasons_assessed=n_reasons, n_oot=0 if base.oot is None else base.oot.n_rows, notes=notes,
        **{k: (None if v is None else float(v)) for k, v in values.items()},
    )
