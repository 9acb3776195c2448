"""Adverse-action reasons: would declined applicants be told the same principal reasons after pruning?

US ECOA / Regulation B (12 CFR 1002.9) require the principal reasons for a denial, and CFPB
Circular 2023-03 requires them to stay specific and accurate for complex models. Taking them as
the top-k variables with the largest positive attributions on the logit of P(bad), the reasons
of the original and the pruned model are compared for the same declined applicants.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import ExplainError, SpecError
from core.explain.attributions import Attributions
from core.explain.shift import check_same_sample
from core.metrics._validation import as_scores, check_cutoff
from core.metrics.decisions import decline

DEFAULT_REASONS = 4  # principal reasons for a denial: Regulation B sample forms list up to four


def top_reasons(values: np.ndarray, names: Sequence[str], k: int = DEFAULT_REASONS) -> list[list[str]]:
    """Per row, up to k variables with the largest *positive* attributions, largest first.

    Only contributions pushing toward bad are reasons for a denial, so a row with fewer than k
    positive values gets fewer reasons. Ties keep the variables' order (deterministic).
    """
    v = np.asarray(values, dtype=np.float64)
    order = np.argsort(-v, axis=1, kind="stable")[:, :k]
    out = []
    for i in range(len(v)):
        out.append([str(names[j]) for j in order[i] if v[i, j] > 0])
    return out


def reason_overlap(original: Sequence[str], pruned: Sequence[str]) -> float:
    """Share of one applicant's reasons both models give: |A ∩ B| / max(|A|, |B|) (1 when both are empty).

    Order is ignored: a committee asks whether the declined applicant is told the same principal
    reasons, and Regulation B does not require them ranked. Dividing by the longer list counts a
    reason one model gives and the other drops as a miss on either side.
    """
    a, b = set(original), set(pruned)
    longest = max(len(a), len(b))
    return len(a & b) / longest if longest else 1.0


@dataclass(frozen=True)
class ReasonStability:
    """Principal reasons for the declined applicants, original vs pruned model, and how stable they are.

    Reasons come from each model's own attributions of the same applicant. The compared
    applicants are those the *original* model declines among the explained rows (today's
    adverse-action population); whether the pruned model still declines them is a column.
    Shares are NaN when no explained applicant is declined. ``top_k_overlap_share`` is the mean,
    over those applicants, of the share of their top-k reasons both models give (``reason_overlap``).
    """

    k: int
    cutoff: float
    n_explained: int
    n_declined_original: int  # among the explained rows
    n_declined_pruned: int
    n_declined_both: int
    n_declined_total: int | None  # declined by the original among all evaluated rows, when known
    same_top1_share: float
    same_set_share: float
    applicants: pd.DataFrame = field(repr=False)  # one row per compared applicant
    reasons: pd.DataFrame = field(repr=False)  # per variable: times in top-k and as top-1, both models
    explainer_original: str = ""
    explainer_pruned: str = ""
    note: str = ""
    top_k_overlap_share: float = float("nan")

    @property
    def n_assessed(self) -> int:
        return int(len(self.applicants))

    @property
    def n_changed(self) -> int:
        return int((~self.applicants["same_list"]).sum()) if len(self.applicants) else 0

    def to_frame(self) -> pd.DataFrame:
        return self.applicants.copy()

    def changed_frame(self) -> pd.DataFrame:
        """Applicants whose ordered reason list differs between the models."""
        a = self.applicants
        return a[~a["same_list"]].reset_index(drop=True) if len(a) else a.copy()

    def reason_frame(self) -> pd.DataFrame:
        return self.reasons.copy()

    def summary_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"quantity": "explained applicants", "value": self.n_explained},
            {"quantity": "declined by the original (explained)", "value": self.n_declined_original},
            {"quantity": "declined by the pruned model (explained)", "value": self.n_declined_pruned},
            {"quantity": "declined by both (explained)", "value": self.n_declined_both},
            {"quantity": "declined by the original (all evaluated rows)",
             "value": float("nan") if self.n_declined_total is None else self.n_declined_total},
            {"quantity": "same top reason", "value": self.same_top1_share},
            {"quantity": f"same top-{self.k} set", "value": self.same_set_share},
            {"quantity": "applicants whose reasons changed", "value": self.n_changed},
        ])


_APPLICANT_COLUMNS = [
    "row", "pd_original", "pd_pruned", "decision_pruned", "reasons_original", "reasons_pruned",
    "top1_original", "top1_pruned", "same_top1", "same_set", "same_list", "overlap", "n_reasons_original", "n_reasons_pruned",
]
_REASON_COLUMNS = ["variable", "in_top_k_original", "in_top_k_pruned", "change", "top1_original", "top1_pruned"]


def _variable_level(attr: Attributions, groups: Sequence[str] | None) -> Attributions:
    if attr.level == "variable":
        if groups is not None:
            raise ExplainError("These attributions are already grouped by variable.", "Pass groups=None for grouped attributions.")
        return attr
    return attr.grouped(groups)


def _scores_for(scores: Any, attr: Attributions, what: str) -> np.ndarray:
    if scores is None:  # the explained model outputs are the logit of P(bad)
        return 1.0 / (1.0 + np.exp(-np.asarray(attr.outputs, dtype=np.float64)))
    s = as_scores(scores, what)
    if len(s) != attr.n_rows:
        raise ExplainError(
            f"{len(s)} {what} were given for {attr.n_rows} explained applicants.",
            "Pass the scores of the explained rows, in the attributions' row order.",
        )
    return s


def adverse_action_reasons(
    attr_original: Attributions,
    attr_pruned: Attributions,
    original_scores: Any,
    pruned_scores: Any,
    cutoff: float,
    groups: Sequence[str] | None = None,
    k: int = DEFAULT_REASONS,
    n_declined_total: int | None = None,
) -> ReasonStability:
    """Compare the top-k adverse-action reasons of both models for the original's declined applicants.

    ``original_scores``/``pruned_scores`` are P(bad) of the *explained* rows in the attributions'
    row order (None: taken from the attributions' outputs). ``groups`` maps inputs to variables
    (``Dataset.groups``) so a one-hot variable is one reason. ``n_declined_total`` (declines among
    all evaluated rows) only feeds the note on how many declines could be assessed.
    """
    if int(k) < 1:
        raise SpecError(f"At least one reason per applicant is needed, got k = {k}.", f"Use the usual {DEFAULT_REASONS}.")
    k = int(k)
    c = check_cutoff(cutoff)
    check_same_sample(attr_original, attr_pruned)
    vo, vp = _variable_level(attr_original, groups), _variable_level(attr_pruned, groups)
    so = _scores_for(original_scores, attr_original, "original scores")
    sp = _scores_for(pruned_scores, attr_pruned, "pruned scores")
    do, dp = decline(so, c), decline(sp, c)
    names = vo.feature_names
    idx = np.flatnonzero(do)
    ro = top_reasons(vo.values[idx], names, k)
    rp = top_reasons(vp.values[idx], names, k)
    first = lambda r: r[0] if r else ""  # noqa: E731
    applicants = pd.DataFrame({
        "row": vo.row_index[idx].astype(np.int64),
        "pd_original": so[idx],
        "pd_pruned": sp[idx],
        "decision_pruned": np.where(dp[idx], "decline", "approve").astype(object),
        "reasons_original": [", ".join(r) for r in ro],
        "reasons_pruned": [", ".join(r) for r in rp],
        "top1_original": [first(r) for r in ro],
        "top1_pruned": [first(r) for r in rp],
        "same_top1": np.array([first(a) == first(b) for a, b in zip(ro, rp)], dtype=bool),
        "same_set": np.array([set(a) == set(b) for a, b in zip(ro, rp)], dtype=bool),
        "same_list": np.array([a == b for a, b in zip(ro, rp)], dtype=bool),
        "overlap": np.array([reason_overlap(a, b) for a, b in zip(ro, rp)], dtype=np.float64),
        "n_reasons_original": np.array([len(r) for r in ro], dtype=np.int64),
        "n_reasons_pruned": np.array([len(r) for r in rp], dtype=np.int64),
    }, columns=_APPLICANT_COLUMNS)
    count = lambda lists: pd.Series([v for r in lists for v in r], dtype=object).value_counts()  # noqa: E731
    top1 = lambda lists: pd.Series([r[0] for r in lists if r], dtype=object).value_counts()  # noqa: E731
    reasons = pd.DataFrame({"variable": list(names)})
    for col, counts in (("in_top_k_original", count(ro)), ("in_top_k_pruned", count(rp)),
                        ("top1_original", top1(ro)), ("top1_pruned", top1(rp))):
        reasons[col] = reasons["variable"].map(counts).fillna(0).astype(np.int64)
    reasons["change"] = reasons["in_top_k_pruned"] - reasons["in_top_k_original"]
    reasons = reasons[(reasons["in_top_k_original"] > 0) | (reasons["in_top_k_pruned"] > 0)]
    reasons = reasons.assign(_abs=reasons["change"].abs()).sort_values(
        ["_abs", "in_top_k_original"], ascending=[False, False], kind="stable").drop(columns="_abs")
    reasons = reasons[_REASON_COLUMNS].reset_index(drop=True)

    n = len(idx)
    notes = [f"Only explained applicants can be assessed: {n} of the {attr_original.n_rows} explained rows are declined by the original model"]
    if n_declined_total is not None:
        notes[-1] += f" ({n_declined_total} declined among all evaluated rows)"
    notes[-1] += "."
    if n == 0:
        notes.append("No explained applicant is declined at this cutoff, so there are no reasons to compare.")
    no_reason = int(((applicants["n_reasons_original"] == 0) | (applicants["n_reasons_pruned"] == 0)).sum())
    if no_reason:
        notes.append(f"{no_reason} declined applicant(s) have no variable pushing toward bad under one model (score driven by the base rate).")
    return ReasonStability(
        k=k, cutoff=c, n_explained=attr_original.n_rows,
        n_declined_original=n, n_declined_pruned=int(dp.sum()), n_declined_both=int((do & dp).sum()),
        n_declined_total=None if n_declined_total is None else int(n_declined_total),
        same_top1_share=float(applicants["same_top1"].mean()) if n else float("nan"),
        same_set_share=float(applicants["same_set"].mean()) if n else float("nan"),
        top_k_overlap_share=float(applicants["overlap"].mean()) if n else float("nan"),
        applicants=applicants, reasons=reasons,
        explainer_original=attr_original.explainer, explainer_pruned=attr_pruned.explainer,
        note=" ".join(notes),
    )
