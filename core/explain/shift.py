"""How global importance (mean |φ|) moves from the original to the pruned model, and which moves matter.

A variable is flagged only when its move is both real and large enough to care about:

* **beyond sampling noise** — the change of its share of total importance exceeds ``z`` standard
  errors. Both models are explained on the same applicants, so the rows are paired: the standard
  error comes from the per-applicant contributions to each share (the delta method for a ratio of
  means, Cochran 1977, *Sampling Techniques*, §6.3), differenced row by row;
* **practical** — the share moves by at least ``share_threshold`` (1 point), or the variable moves
  at least ``rank_threshold`` (3) places while it is among the ``top_rank`` (10) most important of
  either model.

Rank moves alone flagged most variables of a real file (ranks among many small, similar importances
reshuffle with the sample); the noise test removes those, the floor removes tiny but precise shifts.
"""
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
    ``share_change`` is in fraction points, 0.05 = 5 percentage points) with its paired standard
    error ``share_change_se``, rank (1 = most important, ties share the best rank),
    ``rank_change = rank_original − rank_pruned`` (positive = moved up), ``beyond_noise``
    (|share change| > ``z`` × its standard error) and whether it is flagged (beyond noise, and
    |share change| ≥ ``share_threshold`` or |rank change| ≥ ``rank_threshold`` within the top
    ``top_rank`` of either model; ``rule`` says it in words). Spearman's ρ and Kendall's τ-b compare
    the importance vectors; top-k overlap is the share of the original top k that is also in the
    pruned top k.
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
    z: float = 1.96
    top_rank: int = 10

    @property
    def rule(self) -> str:
        """The flag rule in words, as the Explain page and the report state it."""
        return (f"a {self.level} is flagged when the change of its share of total importance is larger than sampling noise "
                f"({self.z:g} standard errors of the paired difference over the {self.n_rows:,} explained applicants) and "
                f"large enough to matter: at least {self.share_threshold * 100:g} point(s) of share, or a move of at least "
                f"{self.rank_threshold} ranks while among the top {self.top_rank} of either model")

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


def _share_influence(abs_values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Shares of mean |φ| and each row's linearised contribution to them (delta method for a ratio of means).

    share_j = mean_i a_ij / mean_i t_i with t_i = Σ_j a_ij; row i contributes (a_ij − share_j · t_i) / mean t.
    """
    n, m = abs_values.shape
    if n == 0:
        return np.zeros(m), np.zeros((0, m))
    mean_total = abs_values.sum(axis=1).mean()
    if mean_total <= 0:
        return np.zeros(m), np.zeros((n, m))
    share = abs_values.mean(axis=0) / mean_total
    return share, (abs_values - np.outer(abs_values.sum(axis=1), share)) / mean_total


def importance_shift(
    original: Attributions,
    pruned: Attributions,
    groups: Sequence[str] | None = None,
    *,
    rank_threshold: int = 3,
    share_threshold: float = 0.01,
    top_rank: int = 10,
    z: float = 1.96,
    top_k: Sequence[int] = (5, 10),
) -> ImportanceShift:
    """Compare mean |φ| of the two models per feature, or per variable when ``groups`` is given.

    Flags: see the module docstring (beyond ``z`` paired standard errors, and a share move of at least
    ``share_threshold`` or a rank move of at least ``rank_threshold`` within the top ``top_rank``).
    """
    check_same_sample(original, pruned)
    if rank_threshold < 1 or not (0 < share_threshold <= 1) or top_rank < 1 or not (z >= 0 and np.isfinite(z)):
        raise ExplainError("Flag thresholds are out of range.",
                           "Use a rank move of at least 1, a share between 0 and 1, a top of at least 1 and z ≥ 0.")
    if groups is not None:
        original, pruned = original.grouped(groups), pruned.grouped(groups)
    names = list(original.feature_names)
    abs_o, abs_p = np.abs(original.values), np.abs(pruned.values)
    imp_o = original.mean_abs().to_numpy()
    imp_p = pruned.mean_abs().to_numpy()
    share_o, infl_o = _share_influence(abs_o)
    share_p, infl_p = _share_influence(abs_p)
    n = original.n_rows
    # paired: the same applicants under both models, so the row-by-row differences carry the noise
    se = (np.std(infl_p - infl_o, axis=0, ddof=1) / np.sqrt(n)) if n >= 2 else np.full(len(names), np.nan)  # one row: no noise estimate
    rank_o, rank_p = _ranks(imp_o), _ranks(imp_p)
    with np.errstate(divide="ignore", invalid="ignore"):
        rel = np.where(imp_o > 0, (imp_p - imp_o) / np.where(imp_o > 0, imp_o, 1.0), np.nan)
    rank_change = rank_o - rank_p
    share_change = share_p - share_o
    eps = 1e-12
    beyond_noise = np.abs(share_change) > z * se + eps
    moved_share = np.abs(share_change) >= share_threshold - eps
    moved_rank = (np.abs(rank_change) >= rank_threshold) & (np.minimum(rank_o, rank_p) <= top_rank)
    flagged = beyond_noise & (moved_share | moved_rank)
    reasons = []
    for f, r, s, rc, sc, e in zip(flagged, moved_rank, moved_share, rank_change, share_change, se):
        parts = []
        if f and s:
            parts.append(f"share {'+' if sc > 0 else '−'}{abs(sc) * 100:.1f} pp")
        if f and r:
            parts.append(f"rank {'up' if rc > 0 else 'down'} {abs(int(rc))}")
        if f:
            parts.append(f"noise ± {z * e * 100:.1f} pp")
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
        "share_change_se": se,
        "rank_original": rank_o,
        "rank_pruned": rank_p,
        "rank_change": rank_change,
        "beyond_noise": beyond_noise,
        "flagged": flagged,
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
        z=float(z),
        top_rank=int(top_rank),
    )
