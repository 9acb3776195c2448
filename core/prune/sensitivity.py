"""Per-layer sensitivity: prune one layer at a time and see where size is cheap to cut."""
from __future__ import annotations

from collections.abc import Sequence

import pandas as pd

from core.errors import SpecError
from core.metrics.comparison import risk_metrics
from core.model.loading import LoadedModel
from core.progress import Progress, report
from core.prune.methods import get_method
from core.prune.pruner import prune
from core.prune.spec import PruneSpec
from core.prune.structure import prunable_layers
from core.prune.sweep import EvalContext, check_ratios


def layer_sensitivity(
    model: LoadedModel,
    ctx: EvalContext,
    method: str = "magnitude_layer",
    ratios: Sequence[float] = (0.25, 0.5, 0.75, 0.9),
    seed: int = 0,
    progress: Progress | None = None,
) -> pd.DataFrame:
    """Prune one layer at a time (all others intact) and record how far AUC and KS fall.

    Layers whose AUC barely moves at 90 % are where size can be cut cheaply; a layer that hurts
    at 25 % should get a low per-layer override.
    """
    ratios = check_ratios(ratios)
    pruning = get_method(method)
    layers = [l for l in prunable_layers(model) if not (pruning.removes_neurons and l.is_output)]
    if not pruning.per_layer:
        raise SpecError(f"Per-layer sensitivity needs a weight or neuron method, not '{method}'.", "Use e.g. magnitude_layer.")
    base = risk_metrics(ctx.y, ctx.original_scores, cutoff=ctx.cutoff.cutoff)
    rows, total = [], len(layers) * len(ratios)
    for l in layers:
        for r in ratios:
            spec = PruneSpec.make(method, 0.0, {l.name: r}, seed)
            res = prune(model, spec)
            m = risk_metrics(ctx.y, res.score(ctx.X, ctx.kind), cutoff=ctx.cutoff.cutoff)
            rows.append({"layer": l.name, "ratio": r, "auc": m.auc, "ks": m.ks,
                         "auc_drop": base.auc - m.auc, "ks_drop": base.ks - m.ks, "sparsity": res.sparsity})
            report(progress, len(rows), total, f"layer {l.name} at {r:.0%}")
    return pd.DataFrame(rows)
