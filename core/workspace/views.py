"""One function per dashboard page: everything a page draws, computed from the session's settings.

Streamlit's multipage pattern: the entry point owns navigation and session state, and each page is a
short script that reads its settings, calls *one* of these functions and draws what it returns. The
functions compose the memoised operations of ``core.workspace.operations`` and
``core.workspace.governance``, so a page rerun recomputes only what its settings changed, and the
CLI, the report and the Python API see exactly the numbers the pages show.
"""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import RiskPruneError
from core.explain.attributions import Attributions, fast_path_applies
from core.explain.sample import ExplainSample, ExplainSettings
from core.explain.shift import ImportanceShift, importance_shift
from core.governance.drift import OutOfTime
from core.governance.reasons import DEFAULT_REASONS, ReasonStability
from core.governance.segments import SegmentFairness, SegmentSpec
from core.metrics.comparison import Comparison
from core.metrics.decisions import DEFAULT_LGD, DecisionRule, ExpectedLoss, expected_loss
from core.metrics.intervals import DEFAULT_BOOTSTRAP
from core.metrics.ranking import auc, gini, ks
from core.model.loading import LayerInfo
from core.progress import Progress
from core.prune.structure import PrunableLayer, linear_weights, prunable_layers
from core.prune.sweep import SweepResult
from core.workspace.binding import EVAL_HOLDOUT, Workspace
from core.workspace.exposure import PER_APPLICANT, ExposureColumn, exposure_columns, exposure_guess, exposure_values
from core.workspace.governance import OutOfTimeSample, out_of_time_for, reasons_for, segment_fairness_for
from core.workspace.operations import (
    PrunedModel,
    Setting,
    attributions_for,
    compare_workspace,
    decision_curves,
    evaluation_workspace,
    is_computed,
    prune_workspace,
    sweep_workspace,
)

# --------------------------------------------------------------------------- overview


@dataclass(frozen=True)
class Overview:
    """What is loaded and how good the original model is on the evaluation rows."""

    n_parameters: int
    n_inputs: int
    layers: tuple[LayerInfo, ...]
    output_label: str
    n_rows: int
    bad_rate: float
    n_eval: int
    auc_label: str
    auc: float
    gini: float
    ks: float
    split_note: str

    @property
    def n_linear(self) -> int:
        return sum(1 for layer in self.layers if layer.kind == "Linear")

    @property
    def layer_text(self) -> str:
        return " → ".join(layer.kind + (f"({layer.in_features}→{layer.out_features})" if layer.kind == "Linear" else "")
                          for layer in self.layers)


def overview(ws: Workspace) -> Overview:
    return Overview(
        n_parameters=ws.model.n_parameters, n_inputs=ws.model.n_inputs, layers=ws.model.layers, output_label=ws.output.label,
        n_rows=ws.data.n_rows, bad_rate=ws.data.bad_rate, n_eval=len(ws.eval_idx),
        auc_label="Test AUC" if ws.eval_mode == EVAL_HOLDOUT else "AUC",
        auc=auc(ws.y_eval, ws.original_scores), gini=gini(ws.y_eval, ws.original_scores), ks=ks(ws.y_eval, ws.original_scores),
        split_note=ws.split_note,
    )


# --------------------------------------------------------------------------- prune


@dataclass(frozen=True, eq=False)
class PruneView:
    """The shown model, its comparison with the original (with bootstrap CIs) and its per-layer picture.

    ``base`` is the same setting without fine-tuning: its masked twin shows where weights were removed.
    """

    pruned: PrunedModel
    base: PrunedModel
    comparison: Comparison
    prunable: tuple[PrunableLayer, ...]

    @property
    def layers(self) -> pd.DataFrame:
        return self.pruned.result.layer_frame()

    @property
    def size(self) -> pd.DataFrame:
        return self.pruned.result.size_frame()

    def mask(self, layer: str) -> np.ndarray:
        """The weights of one Linear layer with zeros where pruning removed them (original shape)."""
        names = [l.name for l in self.prunable]
        return linear_weights(self.base.result.masked_module)[names.index(layer)]


def prune_view(ws: Workspace, setting: Setting, rule: DecisionRule, progress: Progress | None = None) -> PruneView:
    ws = evaluation_workspace(ws, setting)
    pruned = prune_workspace(ws, setting, progress=progress)
    base = prune_workspace(ws, setting.prune)
    cmp = compare_workspace(ws, pruned, rule, bootstrap=DEFAULT_BOOTSTRAP, seed=setting.prune.seed)
    return PruneView(pruned, base, cmp, tuple(prunable_layers(ws.model)))


# --------------------------------------------------------------------------- trade-offs


@dataclass(frozen=True, eq=False)
class TradeoffView:
    """Every method × ratio on the evaluation rows, with the original and the current setting as points."""

    sweep: SweepResult
    pruned: PrunedModel
    comparison: Comparison

    def point(self, which: str) -> dict:
        """The original's or the current setting's size and metrics, in the sweep table's columns."""
        r, cmp = self.pruned.result, self.comparison
        size, m = (r.original_size, cmp.original) if which == "original" else (r.size, cmp.pruned)
        flips, psi = (0.0, 0.0) if which == "original" else (cmp.flips.share, cmp.psi.value)
        return {**size.to_dict(), **{k: getattr(m, k) for k in ("auc", "ks", "gini", "brier", "log_loss", "accuracy", "approved_bad_rate")},
                "flip_share": flips, "psi": psi}


def tradeoff_view(ws: Workspace, setting: Setting, rule: DecisionRule, progress: Progress | None = None) -> TradeoffView:
    ws = evaluation_workspace(ws, setting)
    pruned = prune_workspace(ws, setting)
    cmp = compare_workspace(ws, pruned, rule)
    return TradeoffView(sweep_workspace(ws, rule, setting.prune.seed, progress=progress, alignment=setting.alignment), pruned, cmp)


# --------------------------------------------------------------------------- explain


@dataclass(frozen=True, eq=False)
class ExplainView:
    """SHAP attributions of both models on the same sampled applicants, and how importance moved."""

    pruned: PrunedModel
    sample: ExplainSample
    original: Attributions
    attributions: Attributions  # the pruned model's
    shift: ImportanceShift
    groups: tuple[str, ...] | None  # input → variable, when the importance is per variable
    has_variables: bool  # the model's inputs group into variables (one-hot dummies)


def explain_ready(ws: Workspace, setting: Setting, settings: ExplainSettings) -> bool:
    """True when both models' attributions on this sample are in memory: the page then draws at once, with no progress bar."""
    ws = evaluation_workspace(ws, setting)
    if not is_computed(ws, setting):
        return False
    sample = settings.draw(len(ws.eval_idx))
    return attributions_for.cached(ws, None, sample) and attributions_for.cached(ws, prune_workspace(ws, setting), sample)


def explains_fast(ws: Workspace, setting: Setting) -> bool:
    """True when both models take the fast exact DeepSHAP path; otherwise shap's sampled fallback runs (can take minutes)."""
    ws = evaluation_workspace(ws, setting)
    kind, m = ws.output.kind, ws.model.n_inputs
    return fast_path_applies(ws.model, kind, m) and fast_path_applies(prune_workspace(ws, setting).result.module, kind, m)


QUICK_EXPLAIN_MULTIPLY_ADDS = 1e9  # about 50 ms of exact DeepSHAP on two cores: no progress bar is worth drawing


def explains_quickly(ws: Workspace, setting: Setting, settings: ExplainSettings) -> bool:
    """True when the explanation still to compute takes the fast exact path and costs at most
    ``QUICK_EXPLAIN_MULTIPLY_ADDS`` (applicants × background rows × the network's multiply-adds,
    for each model not yet explained on this sample): the page then redraws without a progress bar."""
    if not explains_fast(ws, setting):
        return False
    ws = evaluation_workspace(ws, setting)
    sample = settings.draw(len(ws.eval_idx))
    pruned = prune_workspace(ws, setting)
    models = [(None, pruned.result.original_size), (pruned, pruned.result.size)]
    cost = sum(len(sample.rows) * len(sample.background) * size.multiply_adds
               for which, size in models if not attributions_for.cached(ws, which, sample))
    return cost <= QUICK_EXPLAIN_MULTIPLY_ADDS


def explain_view(ws: Workspace, setting: Setting, settings: ExplainSettings, level: str = "variable",
                 progress: Progress | None = None) -> ExplainView:
    """Both models explained on the same sampled applicants; ``progress`` counts the applicants of each model in turn."""
    ws = evaluation_workspace(ws, setting)
    pruned = prune_workspace(ws, setting)
    sample = settings.draw(len(ws.eval_idx))

    def stage(which: str) -> Progress | None:
        return None if progress is None else (lambda done, total, what: progress(done, total, f"{which}: {what}"))

    att_o = attributions_for(ws, None, sample, progress=stage("original model"))
    att_p = attributions_for(ws, pruned, sample, progress=stage("pruned model"))
    has_variables = tuple(ws.data.groups) != tuple(ws.data.input_names)
    groups = tuple(ws.data.groups) if (has_variables and level == "variable") else None
    shift = importance_shift(att_o, att_p, list(groups) if groups else None)
    return ExplainView(pruned, sample, att_o, att_p, shift, groups, has_variables)


# --------------------------------------------------------------------------- decisions


@dataclass(frozen=True, eq=False)
class DecisionView:
    """Decisions of both models at the same cutoff: flips, stability, calibration, strategy, expected loss."""

    ws: Workspace
    pruned: PrunedModel
    comparison: Comparison
    deciles_original: pd.DataFrame
    deciles_pruned: pd.DataFrame
    strategy_original: pd.DataFrame
    strategy_pruned: pd.DataFrame
    exposures: tuple[ExposureColumn, ...]  # numeric columns, each with why it cannot be an amount (if it cannot)
    exposure_guess: str  # a usable amount column named like one, else PER_APPLICANT
    unaligned: Comparison | None = None  # the same pruning without its score map (when one is applied)

    @property
    def exposure_columns(self) -> tuple[str, ...]:
        """Every numeric column the user may pick as exposure (usable or not: the page says why not)."""
        return tuple(c.name for c in self.exposures)

    def exposure_problem(self, column: str) -> str | None:
        """Why ``column`` cannot be the exposure (negative, missing, all zero), or None when it can."""
        if column == PER_APPLICANT:
            return None
        found = next((c for c in self.exposures if c.name == column), None)
        return f"'{column}' is not a numeric column of the data" if found is None else found.problem

    def alignment_effect(self) -> pd.DataFrame | None:
        """PSI, flips and approval / bad rates before and after the score map, side by side (None without a map)."""
        if self.unaligned is None:
            return None
        raw, al = self.unaligned, self.comparison
        rows = [("Score PSI vs original", raw.psi.value, al.psi.value), ("Share of decisions flipped", raw.flips.share, al.flips.share),
                ("Approval rate", raw.pruned.approval_rate, al.pruned.approval_rate),
                ("Bad rate of approved", raw.pruned.approved_bad_rate, al.pruned.approved_bad_rate),
                ("AUC", raw.pruned.auc, al.pruned.auc)]
        original = {"Score PSI vs original": 0.0, "Share of decisions flipped": 0.0, "Approval rate": al.original.approval_rate,
                    "Bad rate of approved": al.original.approved_bad_rate, "AUC": al.original.auc}
        return pd.DataFrame([{"quantity": q, "original": original[q], "pruned, scores as pruned": a, "pruned, scores aligned": b}
                             for q, a, b in rows])

    def expected_loss(self, exposure_column: str = PER_APPLICANT, lgd: float = DEFAULT_LGD) -> ExpectedLoss:
        """Expected and observed loss of each model's approved book, with the chosen exposure column or 1 unit per applicant.

        Raises SpecError when the column cannot be an amount (``exposure_problem`` says why first).
        """
        ws = self.ws
        return expected_loss(ws.y_eval, ws.original_scores, self.pruned.scores, exposure_values(ws, exposure_column),
                             cutoff=self.comparison.cutoff.cutoff, lgd=lgd, exposure_column=exposure_column)


def decision_view(ws: Workspace, setting: Setting, rule: DecisionRule) -> DecisionView:
    ws = evaluation_workspace(ws, setting)
    pruned = prune_workspace(ws, setting)
    cmp = compare_workspace(ws, pruned, rule)
    (dec_o, st_o), (dec_p, st_p) = decision_curves(ws, None), decision_curves(ws, pruned)
    exposures = exposure_columns(ws)
    unaligned = compare_workspace(ws, prune_workspace(ws, setting.without_alignment()), rule) if setting.alignment.active else None
    return DecisionView(ws, pruned, cmp, dec_o, dec_p, st_o, st_p, exposures, exposure_guess(exposures) or PER_APPLICANT, unaligned)


# --------------------------------------------------------------------------- governance


@dataclass(frozen=True, eq=False)
class GovernanceView:
    """Segment fairness, adverse-action reason stability and out-of-time robustness, each with its own error."""

    pruned: PrunedModel
    comparison: Comparison
    fairness: SegmentFairness | None = None
    reasons: ReasonStability | None = None
    out_of_time: OutOfTime | None = None
    errors: dict[str, str] = field(default_factory=dict)  # section → why it could not be computed


def governance_view(ws: Workspace, setting: Setting, rule: DecisionRule, segments: tuple[SegmentSpec, ...] = (),
                    explain: ExplainSettings = ExplainSettings(), reasons_k: int = DEFAULT_REASONS,
                    oot: OutOfTimeSample | None = None) -> GovernanceView:
    ws = evaluation_workspace(ws, setting)
    pruned = prune_workspace(ws, setting)
    cmp = compare_workspace(ws, pruned, rule)
    cutoff = cmp.cutoff.cutoff
    out: dict = {}
    errors: dict[str, str] = {}
    sections = (("fairness", (lambda: segment_fairness_for(ws, pruned, cutoff, tuple(segments))) if segments else None),
                ("reasons", lambda: reasons_for(ws, pruned, explain.draw(len(ws.eval_idx)), cutoff, int(reasons_k))),
                ("out_of_time", (lambda: out_of_time_for(ws, pruned, oot, cutoff)) if oot is not None else None))
    for name, compute in sections:
        if compute is None:
            continue
        try:
            out[name] = compute()
        except RiskPruneError as err:
            errors[name] = str(err)
    return GovernanceView(pruned, cmp, errors=errors, **out)


# --------------------------------------------------------------------------- report & export


@dataclass(frozen=True, eq=False)
class ReportView:
    """The model to ship (its TorchScript bytes, or why it cannot be saved) and its comparison with the original."""

    pruned: PrunedModel
    comparison: Comparison
    model_file: bytes | None
    model_file_error: str | None = None


def report_view(ws: Workspace, setting: Setting, rule: DecisionRule) -> ReportView:
    from core.report.export import torchscript_bytes

    ws = evaluation_workspace(ws, setting)

    pruned = prune_workspace(ws, setting)
    cmp = compare_workspace(ws, pruned, rule, bootstrap=DEFAULT_BOOTSTRAP, seed=setting.prune.seed)
    try:
        return ReportView(pruned, cmp, torchscript_bytes(pruned.result))
    except RiskPruneError as err:
        return ReportView(pruned, cmp, None, str(err))
