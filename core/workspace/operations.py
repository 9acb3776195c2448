"""The operations on a workspace that pages, the CLI, the report and the Python API share, memoised.

Each is a pure function of the workspace (content-hashed model, data and binding choices) and of
small keyed specs, so ``core.cache`` can store its result: a slider move recomputes only the
pruning it changed, and the report reuses what the pages already computed.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.cache import memoized
from core.explain.attributions import Attributions, explain_rows
from core.explain.sample import ExplainSample
from core.metrics.calibration import score_deciles
from core.metrics.comparison import Comparison, compare
from core.metrics.decisions import DecisionRule, strategy_curve
from core.model.outputs import predict_pbad
from core.progress import Progress
from core.prune.finetune import FineTuneSpec, fine_tune
from core.prune.pruner import prune
from core.prune.result import COMPACTED, PruneResult
from core.prune.sensitivity import layer_sensitivity
from core.prune.spec import PruneSpec
from core.prune.sweep import DEFAULT_RATIOS, SweepResult, make_context, sweep
from core.workspace.binding import Workspace


@dataclass(frozen=True)
class Setting:
    """The model a page shows: how it is pruned and, optionally, how it is fine-tuned afterwards."""

    prune: PruneSpec
    fine_tune: FineTuneSpec | None = None

    @property
    def key(self) -> str:
        return f"{self.prune.key}|{self.fine_tune.key if self.fine_tune else 'no fine-tuning'}"

    def to_dict(self) -> dict:
        return {"prune": self.prune.to_dict(), "fine_tune": None if self.fine_tune is None else self.fine_tune.to_dict()}


def as_setting(setting: Setting | PruneSpec) -> Setting:
    return setting if isinstance(setting, Setting) else Setting(setting)


@dataclass(frozen=True, eq=False)
class PrunedModel:
    """A pruned (optionally fine-tuned) model with its P(bad) on the workspace's evaluation rows."""

    result: PruneResult
    scores: np.ndarray

    @property
    def fine_tuned(self) -> bool:
        return self.result.fine_tuned is not None

    @property
    def key(self) -> str:
        return self.result.key

    @property
    def description(self) -> str:
        r = self.result
        ft = (f", fine-tuned {r.fine_tuned['epochs']} epochs (seed {r.fine_tuned['seed']})" if r.fine_tuned else ", not fine-tuned")
        return f"{r.spec.label} at {r.spec.ratio:.0%} (seed {r.spec.seed}) — {r.state}{ft}"

    @property
    def state_badge(self) -> str:
        return "COMPACTED — parameters removed" if self.result.state == COMPACTED else "MASKED — zeros kept in place"


def reference_inputs(ws: Workspace) -> np.ndarray:
    """Rows that may inform a pruning decision: the training rows when held out, else the evaluation rows."""
    return ws.X_train if ws.can_fine_tune else ws.X_eval


def scored(ws: Workspace, result: PruneResult) -> PrunedModel:
    return PrunedModel(result, predict_pbad(result.module, ws.X_eval, ws.output.kind))


@memoized(64)
def _pruned(ws: Workspace, spec: PruneSpec) -> PrunedModel:
    result = prune(ws.model, spec, X_reference=reference_inputs(ws), groups=ws.data.groups, input_names=ws.data.input_names)
    return scored(ws, result)


@memoized(16)
def _fine_tuned(ws: Workspace, spec: PruneSpec, ft: FineTuneSpec, progress: Progress | None = None) -> PrunedModel:
    from core.errors import SpecError

    if not ws.can_fine_tune:
        raise SpecError("Fine-tuning needs training rows, but every row is used for evaluation.",
                        "Choose a held-out evaluation split so training rows are kept apart.")
    base = _pruned(ws, spec)
    return scored(ws, fine_tune(base.result, ws.X_train, ws.y_train, ws.output.kind, ft, progress=progress))


def prune_workspace(ws: Workspace, setting: Setting | PruneSpec, progress: Progress | None = None) -> PrunedModel:
    """The pruned (and, when the setting says so, fine-tuned) model with its scores on the evaluation rows."""
    setting = as_setting(setting)
    if setting.fine_tune is None:
        return _pruned(ws, setting.prune)
    return _fine_tuned(ws, setting.prune, setting.fine_tune, progress=progress)


def is_computed(ws: Workspace, setting: Setting | PruneSpec) -> bool:
    """True when the model for ``setting`` is already in memory (pages show a progress bar otherwise)."""
    setting = as_setting(setting)
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
def attributions_for(ws: Workspace, pruned: PrunedModel | None, sample: ExplainSample) -> Attributions:
    """SHAP attributions of the original (``pruned=None``) or a pruned model on the sampled rows."""
    module = ws.model if pruned is None else pruned.result.module
    return explain_rows(module, ws.X_eval, ws.output.kind, sample, feature_names=ws.data.input_names)


@memoized(8)
def sweep_workspace(ws: Workspace, rule: DecisionRule = DecisionRule(), seed: int = 0, methods: Sequence[str] | None = None,
                    ratios: Sequence[float] = DEFAULT_RATIOS, progress: Progress | None = None) -> SweepResult:
    """Every method at every ratio on the evaluation rows, judged at the rule's cutoff."""
    cutoff = rule.resolve(ws.y_eval, ws.original_scores).cutoff
    ctx = make_context(ws.model, ws.X_eval, ws.y_eval, ws.output.kind, cutoff)
    return sweep(ws.model, ctx, methods=None if methods is None else tuple(methods), ratios=tuple(ratios), seed=seed,
                 X_reference=reference_inputs(ws), groups=ws.data.groups, progress=progress)


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
