"""Many prunings at once: the size-vs-risk trade-off table, its Pareto front, per-layer sensitivity.

A committee does not choose "50 % sparsity"; it chooses the smallest model whose AUC, KS and
decisions are still acceptable. The sweep gives every (method, ratio) point with its real size
and risk numbers; the Pareto front shows which points are worth considering at all.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Sequence

import numpy as np
import pandas as pd

from .errors import SpecError
from .metrics import CutoffChoice, HIGHER_IS_BETTER, RiskMetrics, check_cutoff, default_cutoff, flips, psi, risk_metrics
from .model import LoadedModel, predict_pbad
from .prune import MAX_RATIO, METHOD_LABELS, METHODS, NEURON_L1, NEURON_L2, PruneResult, PruneSpec, original_size_of, prunable_layers, prune

DEFAULT_RATIOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
SIZE_COLUMNS = {
    "nonzeros": "Non-zero parameters",
    "parameters": "Stored parameters",
    "file_bytes": "File size (bytes)",
    "multiply_adds": "Multiply-adds per applicant",
}
Progress = Callable[[int, int, str], None]  # (points done, total, what just finished)


@dataclass(frozen=True)
class EvalContext:
    """What every pruned model is judged on: the same rows, labels, output kind and cutoff."""

    X: np.ndarray
    y: np.ndarray
    kind: str
    original_scores: np.ndarray
    cutoff: CutoffChoice


def make_context(model: LoadedModel, X: np.ndarray, y: np.ndarray, kind: str, cutoff: float | None = None) -> EvalContext:
    scores = predict_pbad(model.module, X, kind)
    choice = CutoffChoice(check_cutoff(cutoff), "set by the user") if cutoff is not None else default_cutoff(scores, y)
    return EvalContext(np.asarray(X), np.asarray(y), kind, scores, choice)


def evaluate_row(result: PruneResult, ctx: EvalContext, base: RiskMetrics | None = None) -> dict:
    """One tidy row: size and risk of a pruned model next to the original on the same rows.

    ``base`` (the original's RiskMetrics on ``ctx``) can be passed in so a sweep computes it once.
    """
    scores = predict_pbad(result.module, ctx.X, ctx.kind)
    m = risk_metrics(scores, ctx.y, ctx.cutoff.cutoff)
    base = base if base is not None else risk_metrics(ctx.original_scores, ctx.y, ctx.cutoff.cutoff)
    f = flips(ctx.original_scores, scores, ctx.y, ctx.cutoff.cutoff)
    return {
        "method": result.spec.method, "method_label": result.spec.label, "ratio": result.spec.ratio,
        "state": result.state, "sparsity": result.sparsity, **result.size.to_dict(),
        "auc": m.auc, "gini": m.gini, "ks": m.ks, "brier": m.brier, "log_loss": m.log_loss,
        "accuracy": m.accuracy, "f1": m.f1, "approved_bad_rate": m.approved_bad_rate,
        "delta_auc": m.auc - base.auc, "delta_ks": m.ks - base.ks,
        "flips": f.count, "flip_share": f.share, "psi": psi(ctx.original_scores, scores).value,
    }


def pareto_front(frame: pd.DataFrame, size: str = "nonzeros", metric: str = "auc", higher_is_better: bool | None = None) -> pd.Series:
    """True for points no other point beats on both size (smaller) and metric (better).

    Equal-size points keep only the best metric; a point must improve on every smaller one.
    """
    if size not in frame or metric not in frame:
        raise SpecError(f"The sweep table has no column '{size if size not in frame else metric}'.", "Pick a size and a metric from the table.")
    better_high = HIGHER_IS_BETTER.get(metric, True) if higher_is_better is None else higher_is_better
    value = frame[metric].to_numpy(dtype=np.float64) * (1 if better_high else -1)
    order = np.lexsort((-value, frame[size].to_numpy()))
    on_front = np.zeros(len(frame), dtype=bool)
    best = -np.inf
    for i in order:
        if np.isfinite(value[i]) and value[i] > best:
            on_front[i] = True
            best = value[i]
    return pd.Series(on_front, index=frame.index, name="pareto")


@dataclass(frozen=True)
class SweepResult:
    table: pd.DataFrame = field(repr=False)
    original: dict = field(default_factory=dict)
    cutoff: float = 0.5
    seed: int = 0
    skipped: dict[str, str] = field(default_factory=dict)  # method → why it could not run

    def with_front(self, size: str = "nonzeros", metric: str = "auc") -> pd.DataFrame:
        t = self.table.copy()
        t["pareto"] = pareto_front(t, size, metric)
        return t


def _check_ratios(ratios: Sequence[float]) -> tuple[float, ...]:
    out = tuple(float(r) for r in ratios)
    if not out:
        raise SpecError("The sweep has no ratios.", "Use e.g. 0, 0.1, …, 0.9, 0.95.")
    for r in out:
        if not np.isfinite(r) or r < 0 or r > MAX_RATIO:
            raise SpecError(f"Sweep ratio {r} is outside [0, {MAX_RATIO}].", "Use shares between 0 and 0.99.")
    return out


def sweep(
    model: LoadedModel,
    ctx: EvalContext,
    methods: Sequence[str] = METHODS,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = 0,
    X_reference: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    progress: Progress | None = None,
) -> SweepResult:
    """Every method at every ratio on the same rows; ratio 0 of each method is the original itself."""
    for m in methods:
        if m not in METHOD_LABELS:
            raise SpecError(f"Unknown pruning method '{m}'.", f"Use one of: {', '.join(METHODS)}.")
    ratios = _check_ratios(ratios)
    original_size = original_size_of(model)
    total = len(methods) * len(ratios)
    base = risk_metrics(ctx.original_scores, ctx.y, ctx.cutoff.cutoff)
    rows, skipped, done = [], {}, 0
    for method in methods:
        for r in ratios:
            done += 1
            try:
                res = prune(model, PruneSpec.make(method, r, seed=seed), X_reference=X_reference, groups=groups,
                            original_size=original_size)
            except SpecError as exc:  # e.g. neuron methods on a model without hidden layers
                skipped[method] = str(exc)
            else:
                rows.append(evaluate_row(res, ctx, base))
            if progress is not None:
                progress(done, total, f"{METHOD_LABELS[method]} at {r:.0%}")
    table = pd.DataFrame(rows)
    table["pareto"] = pareto_front(table) if len(table) else pd.Series(dtype=bool)
    original = {**original_size.to_dict(), "auc": base.auc, "ks": base.ks, "gini": base.gini, "brier": base.brier}
    return SweepResult(table, original, ctx.cutoff.cutoff, int(seed), skipped)


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
    ratios = _check_ratios(ratios)
    layers = [l for l in prunable_layers(model) if not (method in (NEURON_L1, NEURON_L2) and l.is_output)]
    if method not in METHOD_LABELS or method == "input_features":
        raise SpecError(f"Per-layer sensitivity needs a weight or neuron method, not '{method}'.", "Use e.g. magnitude_layer.")
    base = risk_metrics(ctx.original_scores, ctx.y, ctx.cutoff.cutoff)
    rows, total = [], len(layers) * len(ratios)
    for l in layers:
        for r in ratios:
            spec = PruneSpec.make(method, 0.0, {l.name: r}, seed)
            res = prune(model, spec)
            m = risk_metrics(predict_pbad(res.module, ctx.X, ctx.kind), ctx.y, ctx.cutoff.cutoff)
            rows.append({"layer": l.name, "ratio": r, "auc": m.auc, "ks": m.ks,
                         "auc_drop": base.auc - m.auc, "ks_drop": base.ks - m.ks, "sparsity": res.sparsity})
            if progress is not None:
                progress(len(rows), total, f"layer {l.name} at {r:.0%}")
    return pd.DataFrame(rows)
