"""Many prunings at once: the size-vs-risk trade-off table and its Pareto front.

A committee does not choose "50 % sparsity"; it chooses the smallest model whose AUC, KS and
decisions are still acceptable. The sweep gives every (method, ratio) point with its real size
and risk numbers; the Pareto front shows which points are worth considering at all.
"""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from core.errors import SpecError
from core.metrics._validation import check_cutoff
from core.metrics.comparison import HIGHER_IS_BETTER, RiskMetrics, risk_metrics
from core.metrics.decisions import CutoffChoice, default_cutoff, flips
from core.metrics.stability import psi
from core.model.loading import LoadedModel
from core.model.outputs import predict_pbad
from core.progress import Progress, report
from core.prune.methods import get_method, method_keys, method_label
from core.prune.pruner import prune
from core.prune.result import PruneResult
from core.prune.size import original_size_of
from core.prune.spec import MAX_RATIO, PruneSpec

DEFAULT_RATIOS = (0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95)
SIZE_COLUMNS = {
    "nonzeros": "Non-zero parameters",
    "parameters": "Stored parameters",
    "file_bytes": "File size (bytes)",
    "multiply_adds": "Multiply-adds per applicant",
}


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
    choice = CutoffChoice(check_cutoff(cutoff), "set by the user") if cutoff is not None else default_cutoff(y, scores)
    return EvalContext(np.asarray(X), np.asarray(y), kind, scores, choice)


def evaluate_row(result: PruneResult, ctx: EvalContext, base: RiskMetrics | None = None) -> dict:
    """One tidy row: size and risk of a pruned model next to the original on the same rows.

    ``base`` (the original's RiskMetrics on ``ctx``) can be passed in so a sweep computes it once.
    """
    scores = result.score(ctx.X, ctx.kind)
    m = risk_metrics(ctx.y, scores, cutoff=ctx.cutoff.cutoff)
    base = base if base is not None else risk_metrics(ctx.y, ctx.original_scores, cutoff=ctx.cutoff.cutoff)
    f = flips(ctx.y, ctx.original_scores, scores, cutoff=ctx.cutoff.cutoff)
    return {
        "method": result.spec.method, "method_label": result.spec.label, "ratio": result.spec.ratio,
        "state": result.state, "sparsity": result.sparsity, **result.size.to_dict(),
        "auc": m.auc, "gini": m.gini, "ks": m.ks, "brier": m.brier, "log_loss": m.log_loss,
        "accuracy": m.accuracy, "f1": m.f1, "approval_rate": m.approval_rate, "approved_bad_rate": m.approved_bad_rate,
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
    rows: str = ""  # which rows every point was evaluated on (e.g. "a stratified sample of 10,000 of …")

    def with_front(self, size: str = "nonzeros", metric: str = "auc") -> pd.DataFrame:
        t = self.table.copy()
        t["pareto"] = pareto_front(t, size, metric)
        return t


def check_ratios(ratios: Sequence[float]) -> tuple[float, ...]:
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
    methods: Sequence[str] | None = None,
    ratios: Sequence[float] = DEFAULT_RATIOS,
    seed: int = 0,
    X_reference: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    progress: Progress | None = None,
    transform: Callable[[PruneResult], PruneResult] | None = None,
) -> SweepResult:
    """Every method at every ratio on the same rows; ratio 0 of each method is the original itself.

    ``transform`` is applied to every pruned model before it is judged (e.g. a score map fitted to
    it); the table then also says what the PSI was before it (``psi_unaligned``).
    """
    methods = method_keys() if methods is None else tuple(methods)
    for m in methods:
        get_method(m)  # unknown names are refused before any work is done
    ratios = check_ratios(ratios)
    original_size = original_size_of(model)
    total = len(methods) * len(ratios)
    base = risk_metrics(ctx.y, ctx.original_scores, cutoff=ctx.cutoff.cutoff)
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
                if transform is None:
                    rows.append(evaluate_row(res, ctx, base))
                else:
                    raw_psi = psi(ctx.original_scores, res.score(ctx.X, ctx.kind)).value
                    rows.append({**evaluate_row(transform(res), ctx, base), "psi_unaligned": raw_psi})
            report(progress, done, total, f"{method_label(method)} at {r:.0%}")
    table = pd.DataFrame(rows)
    table["pareto"] = pareto_front(table) if len(table) else pd.Series(dtype=bool)
    original = {**original_size.to_dict(), "auc": base.auc, "ks": base.ks, "gini": base.gini, "brier": base.brier}
    return SweepResult(table, original, ctx.cutoff.cutoff, int(seed), skipped)


def combine_sweeps(parts: Sequence[SweepResult]) -> SweepResult:
    """One sweep from sweeps of single points run as separate tasks (``core.execution``), in the order given.

    Every part was judged on the same rows at the same cutoff, so the rows simply stack; the
    Pareto front is drawn again over all of them.
    """
    if not parts:
        raise SpecError("The sweep has no points.", "Pick at least one method and one ratio.")
    tables = [p.table for p in parts if len(p.table)]
    table = pd.concat(tables, ignore_index=True) if tables else pd.DataFrame()
    table["pareto"] = pareto_front(table) if len(table) else pd.Series(dtype=bool)
    skipped: dict[str, str] = {}
    for p in parts:
        skipped.update(p.skipped)
    return SweepResult(table, parts[0].original, parts[0].cutoff, parts[0].seed, skipped)
