"""The computations one dashboard interaction (or one CLI run) performs, as plain functions.

Pages and the CLI call these so both show the same numbers; the dashboard adds caching around
them, the benchmark times them directly.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from core.explain.attributions import Attributions, explain_sample
from core.explain.sample import ExplainSample, draw_sample
from core.metrics.comparison import Comparison, compare
from core.progress import Progress
from core.prune.pruner import prune
from core.prune.result import COMPACTED, PruneResult
from core.prune.spec import PruneSpec
from core.workspace.binding import Workspace


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


def prune_workspace(ws: Workspace, spec: PruneSpec) -> PrunedModel:
    result = prune(ws.model, spec, X_reference=reference_inputs(ws), groups=ws.data.groups, input_names=ws.data.input_names,
                   reference_label="training rows" if ws.can_fine_tune else "evaluation rows")
    return scored(ws, result)


def scored(ws: Workspace, result: PruneResult) -> PrunedModel:
    """The pruned model's P(bad) on the evaluation rows, scored as shipped: a model that no longer
    reads some variables is fed only the columns it keeps (``PruneResult.score``)."""
    return PrunedModel(result, result.score(ws.X_eval, ws.output.kind))


def compare_workspace(ws: Workspace, pruned: PrunedModel, cutoff: float | None = None, approval_rate: float | None = None,
                      bootstrap: int = 0, seed: int = 0) -> Comparison:
    return compare(ws.y_eval, ws.original_scores, pruned.scores, cutoff=cutoff, approval_rate=approval_rate,
                   bootstrap=bootstrap, seed=seed, row_ids=ws.eval_idx)


def sample_for(ws: Workspace, n_rows: int = 500, n_background: int = 100, seed: int = 0) -> ExplainSample:
    return draw_sample(len(ws.eval_idx), n_rows, n_background, seed)


def attributions_for(ws: Workspace, pruned: PrunedModel | None, sample: ExplainSample,
                     progress: Progress | None = None) -> Attributions:
    """SHAP values of the original (None) or a pruned model on the sample; ``progress`` drives a progress bar."""
    module = ws.model if pruned is None else pruned.result.module
    return explain_sample(module, ws.X_eval, ws.output.kind, sample, feature_names=ws.data.input_names,
                          groups=ws.data.groups, progress=progress)
