"""Before and after alignment, side by side: what the map changed on the evaluation rows.

A committee needs one table: the original, the pruned model as pruned, and the pruned model with
its score map, on the same applicants at the same cutoff — ranking (AUC, KS), calibration
(Brier, log-loss, mean PD), stability (score PSI against the original, with its band) and
decisions (flips, approval rate, bad rate of the approved). Both comparisons are ``compare`` from
``core.metrics`` (references there); nothing is recomputed differently here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from core.metrics.comparison import Comparison, compare
from core.metrics.stability import psi_band

EFFECT_ROWS = (
    ("auc", "AUC"), ("gini", "Gini"), ("ks", "KS"), ("brier", "Brier score"), ("log_loss", "Log-loss"),
    ("mean_pd", "Mean P(bad)"), ("approval_rate", "Approval rate"), ("approved_bad_rate", "Bad rate of approved"),
)


@dataclass(frozen=True, eq=False)
class AlignmentEffect:
    """Original vs pruned-as-pruned (``raw``) vs pruned-and-aligned (``aligned``) on the same rows and cutoff."""

    raw: Comparison
    aligned: Comparison

    @property
    def cutoff(self) -> float:
        return self.raw.cutoff.cutoff

    @property
    def psi_raw(self) -> float:
        return self.raw.psi.value

    @property
    def psi_aligned(self) -> float:
        return self.aligned.psi.value

    @property
    def flip_share_raw(self) -> float:
        return self.raw.flips.share

    @property
    def flip_share_aligned(self) -> float:
        return self.aligned.flips.share

    def to_frame(self) -> pd.DataFrame:
        """One row per number: original, pruned, pruned + alignment, and the change alignment made."""
        rows = [{"metric": k, "label": label, "original": getattr(self.raw.original, k),
                 "pruned": getattr(self.raw.pruned, k), "aligned": getattr(self.aligned.pruned, k)}
                for k, label in EFFECT_ROWS]
        rows += [
            {"metric": "psi", "label": "Score PSI against the original", "original": 0.0,
             "pruned": self.psi_raw, "aligned": self.psi_aligned},
            {"metric": "flips", "label": "Flipped decisions", "original": 0,
             "pruned": self.raw.flips.count, "aligned": self.aligned.flips.count},
            {"metric": "flip_share", "label": "Share of decisions flipped", "original": 0.0,
             "pruned": self.flip_share_raw, "aligned": self.flip_share_aligned},
        ]
        frame = pd.DataFrame(rows)
        frame["change_by_alignment"] = frame["aligned"] - frame["pruned"]
        return frame

    def summary(self) -> str:
        """One sentence for a caption or the report."""
        return (f"On {self.raw.original.n} evaluation rows at cutoff {self.cutoff:.3g}: score PSI "
                f"{self.psi_raw:.3g} ({psi_band(self.psi_raw)}) → {self.psi_aligned:.3g} ({psi_band(self.psi_aligned)}), "
                f"flipped decisions {self.raw.flips.count} ({self.flip_share_raw:.1%}) → "
                f"{self.aligned.flips.count} ({self.flip_share_aligned:.1%}), AUC {self.raw.pruned.auc:.4f} → "
                f"{self.aligned.pruned.auc:.4f}.")


def alignment_effect(
    y_true: Any, original: Any, raw: Any, aligned: Any, *, cutoff: float | None = None,
    approval_rate: float | None = None, row_ids: Any = None,
) -> AlignmentEffect:
    """Compare the original's P(bad) with the pruned model's before (``raw``) and after (``aligned``) alignment.

    All three score the same applicants — the evaluation rows left after the fit rows were set
    aside. The cutoff rule is resolved once on the original's scores, so both comparisons use the
    same cutoff.
    """
    first = compare(y_true, original, raw, cutoff=cutoff, approval_rate=approval_rate, row_ids=row_ids)
    second = compare(y_true, original, aligned, cutoff=first.cutoff.cutoff, row_ids=row_ids)
    second = Comparison(second.original, second.pruned, first.cutoff, second.psi, second.flips, second.spearman, second.ci)
    return AlignmentEffect(first, second)
