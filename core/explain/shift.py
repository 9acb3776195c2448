"""How global importance (mean |φ|) moves from the original to the pruned model."""
from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from core.errors import ExplainError
from core.explain.attributions import Attributions


@dataclass(frozen=True, eq=False)
class ImportanceShift:
    """How global importance (mean |φ|) moved from the original to the pruned model.

    ``table`` has one row per feature (or variable), ordered by original rank: importance of
    each model, absolute and relative change, share of total importance (fractions; the change in
    ``share_change`` is in fraction points, 0.05 = 5 percentage points), rank (1 = most important,
    ties share the best rank), ``rank_change = rank_original − rank_pruned`` (positive = moved up),
    and whether it is flagged (|rank change| ≥ ``rank_threshold`` or |share change| ≥
    ``share_threshold``). Spearman's ρ and Kendall's τ-b compare the importance vectors; top-k
    overlap is the share of the original top k that is also in the pruned top k.
    """

    table: pd.DataFrame
    spearman: float
    kendall: float
    top_overlap: dict[int, float]
    flagged: tuple[str, ...]
    level: str
    rank_threshold: int
    share_threshold: float
    n_rows: int
    explainer_original: str = ""
    explainer_pruned: str = ""

    def to_frame(self) -> pd.DataFrame:
        return self.table.copy()

    def long_frame(self) -> pd.DataFrame:
        """Tidy (feature, model, importance, share, rank) rows for grouped bar charts."""
        parts = []
        for model in ("original", "pruned"):
            parts.append(pd.DataFrame({
                self.level: self.table[self.level],
                "model": model,
                "importance": self.table[f"importance_{model}"],
                "share": self.table[f"share_{model}"],
                "rank": self.table[f"rank_{model}"],
            }))
        return pd.concat(parts, ignore_index=True)

    def summary(self) -> dict[str, float | int]:
        out: dict[str, float | int] = {"spearman": self.spearman, "kendall": self.kendall}
        for k, v in sorted(self.top_overlap.items()):
            out[f"top{k}_overlap"] = v
        out["n_flagged"] = len(self.flagged)
        out["n_features"] = int(len(self.table))
        out["n_rows"] = self.n_rows
        return out

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame({"statistic": list(self.summary()), "value": [float(v) for v in self.summary().values()]})


def check_same_sample(a: Attributions, b: Attributions) -> None:
    if a.feature_names != b.feature_names:
        raise ExplainError(
            "The two attribution sets describe different inputs.",
            "Explain the original and the pruned model on the same dataset.",
        )
    if a.n_rows != b.n_rows or not np.array_equal(a.row_index, b.row_index):
        raise ExplainError(
            "The original and the pruned model were explained on different applicants.",
            "Explain both on the same sample (same seed and sizes).",
        )
    if a.background_index is not None and b.background_index is not None and not np.array_equal(a.background_index, b.background_index):
        raise ExplainError(
            "The original and the pruned model were explained against different background rows.",
            "Explain both with the same sample so their base values are comparable.",
        )


def _ranks(importance: np.ndarray) -> np.ndarray:
    """1 = most important; tied features share the best rank (so ties never look like moves)."""
    return stats.rankdata(-importance, method="min").astype(np.int64)


def _top(importance: np.ndarray, k: int) -> set[int]:
    order = np.argsort(-importance, kind="stable")  # ties broken by input order: deterministic
    return set(order[:k].tolist())


def _corr(fn, a: np.ndarray, b: np.ndarray) -> float:
    if len(a) < 2 or np.ptp(a) == 0 or np.ptp(b) == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return float(fn(a, b)[0])


def importance_shift(
    original: Attributions,
    pruned: Attributions,
    groups: Sequence[str] | None = None,
    *,
    rank_threshold: int = 3,
    share_threshold: float = 0.05,
    top_k: Sequence[int] = (5, 10),
) -> ImportanceShift:
    """Compare mean |φ| of the two models per feature, or per variable when ``groups`` is given."""
    check_same_sample(original, pruned)
    if rank_threshold < 1 or not (0 < share_threshold <= 1):
        raise ExplainError("Flag thresholds are out of range.", "Use a rank move of at least 1 and a share between 0 and 1.")
    if groups is not None:
        original, pruned = original.grouped(groups), pruned.grouped(groups)
    names = list(original.feature_names)
    imp_o = original.mean_abs().to_numpy()
    imp_p = pruned.mean_abs().to_numpy()
    tot_o, tot_p = imp_o.sum(), imp_p.sum()
    share_o = imp_o / tot_o if tot_o > 0 else np.zeros_like(imp_o)
    share_p = imp_p / tot_p if tot_p > 0 else np.zeros_like(imp_p)
    rank_o, rank_p = _ranks(imp_o), _ranks(imp_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(imp_o > 0, (imp_p - imp_o) / np.where(imp_o > 0, imp_o, 1.0), np.nan)
    rank_change = rank_o - rank_p
    share_change = share_p - share_o
    eps = 1e-12
    moved_rank = np.abs(rank_change) >= rank_threshold
    moved_share = np.abs(share_change) >= share_threshold - eps
    reasons = []
    for r, s, rc, sc in zip(moved_rank, moved_share, rank_change, share_change):
        parts = []
        if r:
            parts.append(f"rank {'up' if rc > 0 else 'down'} {abs(int(rc))}")
        if s:
            parts.append(f"share {'+' if sc > 0 else '−'}{abs(sc) * 100:.1f} pp")
        reasons.append(", ".join(parts))
    level = original.level
    table = pd.DataFrame({
        level: names,
        "importance_original": imp_o,
        "importance_pruned": imp_p,
        "abs_change": imp_p - imp_o,
        "rel_change": rel,
        "share_original": share_o,
        "share_pruned": share_p,
        "share_change": share_change,
        "rank_original": rank_o,
        "rank_pruned": rank_p,
        "rank_change": rank_change,
        "flagged": moved_rank | moved_share,
        "flag_reason": reasons,
    })
    table = table.iloc[np.lexsort((np.arange(len(names)), rank_o))].reset_index(drop=True)
    overlap = {}
    for k in top_k:
        k_eff = min(int(k), len(names))
        overlap[int(k)] = len(_top(imp_o, k_eff) & _top(imp_p, k_eff)) / k_eff if k_eff else float("nan")
    return ImportanceShift(
        table=table,
        spearman=_corr(stats.spearmanr, imp_o, imp_p),
        kendall=_corr(stats.kendalltau, imp_o, imp_p),
        top_overlap=overlap,
        flagged=tuple(table.loc[table["flagged"], level].tolist()),
        level=level,
        rank_threshold=int(rank_threshold),
        share_threshold=float(share_threshold),
        n_rows=original.n_rows,
        explainer_original=original.explainer,
        explainer_pruned=pruned.explainer,
    )
