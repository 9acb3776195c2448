"""The operations on a workspace that pages, the CLI, the report and the Python API share, memoised.

Each is a pure function of the workspace (content-hashed model, data and binding choices) and of
small keyed specs, so ``core.cache`` can store its result: a slider move recomputes only the
pruning it changed, and the report reuses what the pages already computed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from core.alignment.fit import aligned_result, fit_for
from core.alignment.rows import rows_for
from core.alignment.spec import NO_ALIGNMENT, AlignmentSpec
from core.cache import memoized
from core.execution import Executor, InProcessExecutor
from core.explain.attributions import Attributions, explain_rows
from core.explain.sample import ExplainSample
from core.hashing import digest
from core.metrics.calibration import score_deciles
from core.metrics.comparison import Comparison, compare
from core.metrics.decisions import CutoffChoice, DecisionRule, strategy_curve
from core.progress import Progress
from core.prune.blocks import prunable_units
from core.prune.finetune import FineTuneSpec, fine_tune
from core.prune.methods import get_method, method_keys, method_label
from core.prune.pruner import prune
from core.prune.result import COMPACTED, PruneResult
from core.prune.sensitivity import layer_sensitivity
from core.prune.spec import PruneSpec
from core.prune.sweep import DEFAULT_RATIOS, EvalContext, SweepResult, check_ratios, combine_sweeps, make_context, sweep
from core.workspace.binding import Workspace
from core.workspace.evaluation_sample import interactive_workspace
from core.workspace.shipping import WorkspacePayload, local, workspace_from, workspace_payload


@dataclass(frozen=True)
class Setting:
    """The model a page shows: how it is pruned, optionally fine-tuned, optionally aligned to a score scale."""

    prune: PruneSpec
    fine_tune: FineTuneSpec | None = None
    alignment: AlignmentSpec = NO_ALIGNMENT

    @property
    def key(self) -> str:
        return f"{self.prune.key}|{self.fine_tune.key if self.fine_tune else 'no fine-tuning'}|{self.alignment.key}"

    def to_dict(self) -> dict:
        return {"prune": self.prune.to_dict(), "fine_tune": None if self.fine_tune is None else self.fine_tune.to_dict(),
                "alignment": self.alignment.to_dict()}

    def without_alignment(self) -> Setting:
        return replace(self, alignment=NO_ALIGNMENT)


def as_setting(setting: Setting | PruneSpec) -> Setting:
    return setting if isinstance(setting, Setting) else Setting(setting)


@dataclass(frozen=True, eq=False)
class PrunedModel:
    """A pruned (optionally fine-tuned) model with its P(bad) on the workspace's evaluation rows."""

    result: PruneResult
    scores: np.ndarray
    key: str = field(init=False)  # the result's key and the scores' digest: equal key ⇔ equal model and scores

    def __post_init__(self) -> None:
        object.__setattr__(self, "key", digest([self.result.key, np.ascontiguousarray(self.scores)], length=32))

    @property
    def fine_tuned(self) -> bool:
        return self.result.fine_tuned is not None

    @property
    def description(self) -> str:
        r = self.result
        ft = (f", fine-tuned {r.fine_tuned['epochs']} epochs (seed {r.fine_tuned['seed']})" if r.fine_tuned else ", not fine-tuned")
        aligned = f", scores aligned ({r.alignment['spec']['label']}, fitted on {r.alignment['fitted_on']})" if r.alignment else ""
        return f"{r.spec.label} at {r.spec.ratio:.0%} (seed {r.spec.seed}) — {r.state}{ft}{aligned}"

    @property
    def state_badge(self) -> str:
        return "COMPACTED — parameters removed" if self.result.state == COMPACTED else "MASKED — zeros kept in place"


def reference_inputs(ws: Workspace) -> np.ndarray:
    """Inputs that may inform a pruning decision (``Workspace.reference_rows``)."""
    return ws.data.X[ws.reference_rows]


@memoized(8)
def blocks_for(ws: Workspace) -> pd.DataFrame:
    """What can be pruned in the workspace's model, per weight layer and structured group (``prunable_units``).

    Tracing the groups runs torch-pruning on the model's twin, so it is computed once per model ×
    reference rows (the same rows pruning decisions read), not per slider move.
    """
    return prunable_units(ws.model, reference_inputs(ws))


def scored(ws: Workspace, result: PruneResult) -> PrunedModel:
    """The pruned model's P(bad) on the evaluation rows, scored as shipped: a model that no longer
    reads some variables is fed only the columns it keeps (``PruneResult.score``)."""
    return PrunedModel(result, result.score(ws.X_eval, ws.output.kind))


@memoized(64)
def _pruned(ws: Workspace, spec: PruneSpec) -> PrunedModel:
    result = prune(ws.model, spec, X_reference=reference_inputs(ws), groups=ws.data.groups, input_names=ws.data.input_names,
                   reference_label="training rows" if ws.can_fine_tune else "evaluation rows")
    return scored(ws, result)


@memoized(16)
def _fine_tuned(ws: Workspace, spec: PruneSpec, ft: FineTuneSpec, progress: Progress | None = None) -> PrunedModel:
    from core.errors import SpecError

    if not ws.can_fine_tune:
        raise SpecError("Fine-tuning needs training rows, but every row is used for evaluation.",
                        "Choose a held-out evaluation split so training rows are kept apart.")
    base = _pruned(ws, spec)
    return scored(ws, fine_tune(base.result, ws.X_train, ws.y_train, ws.output.kind, ft, progress=progress))


def evaluation_workspace(ws: Workspace, setting: Setting | PruneSpec) -> Workspace:
    """The rows a setting is judged on: the workspace's, or fewer when a score map needs calibration rows.

    A map is never fitted on evaluation rows. When the workspace has no training split, a seeded
    calibration split is carved out of its evaluation rows: those rows fit the map (and are the
    training rows of the returned workspace), the rest evaluate both models — every page and the
    report then compare the original and the pruned model on exactly those rows.
    """
    setting = as_setting(setting)
    if not setting.alignment.active:
        return ws
    rows = rows_for(ws, setting.alignment)
    if not rows.shrinks_eval:
        return ws
    return ws.restricted(rows.eval_idx, rows.fit_idx, view=f"calibration split {rows.key}", note=rows.note)


def _unaligned(ws: Workspace, setting: Setting, progress: Progress | None = None) -> PrunedModel:
    if setting.fine_tune is None:
        return _pruned(ws, setting.prune)
    return _fine_tuned(ws, setting.prune, setting.fine_tune, progress=progress)


@memoized(32)
def _aligned(ws: Workspace, setting: Setting, progress: Progress | None = None) -> PrunedModel:
    base = _unaligned(ws, setting.without_alignment(), progress=progress)
    fitted, _ = fit_for(ws, setting.alignment, base.result.module)
    fit_rows = ("a calibration split carved out of the evaluation rows" if "calibration split" in ws.view
                else "the training split")
    result = replace(aligned_result(base.result, fitted),
                     alignment={**fitted.to_dict(), "key": fitted.key, "fitted_on": f"{len(ws.train_idx):,} rows of {fit_rows}"})
    return scored(ws, result)


def prune_workspace(ws: Workspace, setting: Setting | PruneSpec, progress: Progress | None = None) -> PrunedModel:
    """The pruned (fine-tuned, aligned, as the setting says) model with its scores on the evaluation rows.

    With an alignment that needs calibration rows, pass ``evaluation_workspace(ws, setting)``: the
    map is fitted on that workspace's training rows, never on its evaluation rows.
    """
    setting = as_setting(setting)
    if setting.alignment.active:
        return _aligned(ws, setting, progress=progress)
    return _unaligned(ws, setting, progress=progress)


def is_computed(ws: Workspace, setting: Setting | PruneSpec) -> bool:
    """True when the model for ``setting`` is already in memory (pages show a progress bar otherwise)."""
    setting = as_setting(setting)
    if setting.alignment.active:
        return _aligned.cached(ws, setting)
    if setting.fine_tune is None:
        return _pruned.cached(ws, setting.prune)
    return _fine_tuned.cached(ws, setting.prune, setting.fine_tune)


@memoized(64)
def compare_workspace(ws: Workspace, pruned: PrunedModel, rule: DecisionRule = DecisionRule(), *, bootstrap: int = 0,
                      seed: int = 0) -> Comparison:
    """Original vs pruned on the evaluation rows, at the cutoff the rule gives for the original."""
    return compare(ws.y_eval, ws.original_scores, pruned.scores, cutoff=rule.cutoff, approval_rate=rule.approval_rate,
                   bootstrap=bootstrap, seed=seed, row_ids=ws.eval_row_ids)


@memoized(32)
def attributions_for(ws: Workspace, pruned: PrunedModel | None, sample: ExplainSample,
                     progress: Progress | None = None) -> Attributions:
    """SHAP attributions of the original (``pruned=None``) or a pruned model on the sampled rows.

    Per variable (``ws.data.groups``) when the model is explained by sampling on the raw columns;
    ``progress`` drives a progress bar.
    """
    module = ws.model if pruned is None else pruned.result.module
    return explain_rows(module, ws.X_eval, ws.output.kind, sample, feature_names=ws.data.input_names,
                        groups=ws.data.groups, progress=progress)


@dataclass(frozen=True, eq=False)
class SweepPayload:
    """What a worker needs for sweep points: the shipped workspace, the cutoff, the seed and the score map."""

    workspace: WorkspacePayload
    cutoff: CutoffChoice
    seed: int
    alignment: AlignmentSpec


def sweep_point(shared: SweepPayload, task: tuple[str, float]) -> SweepResult:
    """The executor's task function: one (method, ratio) point of a sweep, as a one-row sweep."""
    ws = workspace_from(shared.workspace)
    ctx = EvalContext(ws.X_eval, ws.y_eval, ws.output.kind, ws.original_scores, shared.cutoff)

    def align(result: PruneResult) -> PruneResult:
        fitted, _ = fit_for(ws, shared.alignment, result.module)
        return aligned_result(result, fitted)

    method, ratio = task
    return sweep(ws.model, ctx, methods=(method,), ratios=(ratio,), seed=shared.seed, X_reference=reference_inputs(ws),
                 groups=ws.data.groups, transform=align if shared.alignment.active else None)


@memoized(8, ignore=("progress", "executor", "model_bytes"))
def sweep_workspace(ws: Workspace, rule: DecisionRule = DecisionRule(), seed: int = 0, methods: Sequence[str] | None = None,
                    ratios: Sequence[float] = DEFAULT_RATIOS, progress: Progress | None = None,
                    alignment: AlignmentSpec = NO_ALIGNMENT, executor: Executor | None = None,
                    model_bytes: bytes | None = None) -> SweepResult:
    """Every method at every ratio on the evaluation rows, judged at the rule's cutoff.

    A large book is swept on its interactive sample (``interactive_workspace``): a sweep scores
    every candidate, and ``SweepResult.rows`` says which rows the points rest on.

    With an active ``alignment`` every candidate gets its own score map (fitted on the rows
    ``evaluation_workspace`` sets aside) before it is judged, so a setting that fails on PSI only
    because of its scale shows that it passes once aligned (``psi_unaligned`` beside ``psi``).

    The points run as tasks of ``executor`` (in-process by default; a process pool or a Ray
    cluster from ``core.execution.make_executor``); every backend gives the same table.
    ``model_bytes`` (the uploaded file) spares re-serialising the model for the workers.
    """
    ws = interactive_workspace(ws)
    ws = evaluation_workspace(ws, Setting(PruneSpec(), alignment=alignment)) if alignment.active else ws
    methods = method_keys() if methods is None else tuple(methods)
    for m in methods:
        get_method(m)  # unknown names are refused before any work is shipped
    tasks = [(m, r) for m in methods for r in check_ratios(ratios)]
    payload = SweepPayload(workspace_payload(ws, model_bytes), rule.resolve(ws.y_eval, ws.original_scores), int(seed),
                           alignment)
    with local(payload.workspace, ws):
        parts = (executor or InProcessExecutor()).map(sweep_point, tasks, shared=payload, progress=progress,
                                                      label=lambda t: f"{method_label(t[0])} at {t[1]:.0%}")
    return replace(combine_sweeps(parts), rows=ws.rows_label)


@memoized(64)
def decision_curves(ws: Workspace, pruned: PrunedModel | None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(calibration by score decile, approval-rate vs bad-rate curve) of the original (None) or a pruned model."""
    scores = ws.original_scores if pruned is None else pruned.scores
    return score_deciles(ws.y_eval, scores), strategy_curve(ws.y_eval, scores)


@memoized(16)
def layer_sensitivity_for(ws: Workspace, method: str, seed: int = 0, rule: DecisionRule = DecisionRule()) -> pd.DataFrame:
    """Per-layer sensitivity on the evaluation rows (one layer pruned at a time), at the rule's cutoff."""
    cutoff = rule.resolve(ws.y_eval, ws.original_scores).cutoff
    ctx = make_context(ws.model, ws.X_eval, ws.y_eval, ws.output.kind, cutoff)
    return layer_sensitivity(ws.model, ctx, method, seed=seed)
