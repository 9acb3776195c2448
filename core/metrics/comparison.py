"""Every headline number of one model, and original vs pruned on the same applicants at the same cutoff."""
from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import MetricError
from core.formatting import fmt_signed, shown
from core.metrics._sorted import SortedScores, auc_sorted, declined_counts, ks_sorted, sort_scores
from core.metrics._validation import _both_classes, as_scores, check_cutoff, check_paired, check_y_score
from core.metrics.calibration import _brier_kernel, _log_loss_kernel
from core.metrics.decisions import Confusion, CutoffChoice, Flips, flips, resolve_cutoff
from core.metrics.intervals import DeltaCI, paired_intervals
from core.metrics.stability import PSIResult, psi


@dataclass(frozen=True)
class RiskMetrics:
    """Every headline number of one model on one set of applicants."""

    n: int
    n_bad: int
    bad_rate: float
    auc: float
    gini: float
    ks: float
    ks_score: float
    brier: float
    log_loss: float
    cutoff: float
    accuracy: float
    precision: float
    recall: float
    f1: float
    approval_rate: float
    approved_bad_rate: float
    mean_pd: float

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    def to_frame(self) -> pd.DataFrame:
        """One row per number: metric, label, value."""
        return metrics_frame(self)


METRIC_LABELS = {
    "auc": "AUC", "gini": "Gini", "ks": "KS", "ks_score": "KS at score", "brier": "Brier score",
    "log_loss": "Log-loss", "accuracy": "Accuracy", "precision": "Precision (bad)", "recall": "Recall (bad)",
    "f1": "F1 (bad)", "approval_rate": "Approval rate", "approved_bad_rate": "Bad rate of approved",
    "mean_pd": "Mean P(bad)",
}
HIGHER_IS_BETTER = {
    "auc": True, "gini": True, "ks": True, "brier": False, "log_loss": False, "accuracy": True,
    "precision": True, "recall": True, "f1": True, "approved_bad_rate": False,
}


def risk_metrics(y_true: Any, y_score: Any, *, cutoff: float) -> RiskMetrics:
    """Every headline number of one model; inputs validated once, the scores sorted once."""
    y, s = check_y_score(y_true, y_score)
    _both_classes(y)
    return _risk_metrics_sorted(y, s, sort_scores(s, y), check_cutoff(cutoff))


def _risk_metrics_sorted(y: np.ndarray, s: np.ndarray, ss: SortedScores, cutoff: float) -> RiskMetrics:
    n_bad = int(ss.run_bad.sum())
    ks_stat, ks_at = ks_sorted(ss)
    a = auc_sorted(ss)
    declined, declined_bad = declined_counts(ss, cutoff)
    cm = Confusion(cutoff, declined_bad, declined - declined_bad, len(s) - n_bad - (declined - declined_bad), n_bad - declined_bad)
    return RiskMetrics(
        n=len(s), n_bad=n_bad, bad_rate=n_bad / len(s), auc=a, gini=2 * a - 1, ks=ks_stat, ks_score=ks_at,
        brier=_brier_kernel(y, s), log_loss=_log_loss_kernel(y, s), cutoff=cm.cutoff, accuracy=cm.accuracy,
        precision=cm.precision, recall=cm.recall, f1=cm.f1, approval_rate=cm.approval_rate,
        approved_bad_rate=cm.approved_bad_rate, mean_pd=float(s.mean()),
    )


def metrics_frame(metrics: RiskMetrics) -> pd.DataFrame:
    return pd.DataFrame([{"metric": k, "label": METRIC_LABELS.get(k, k), "value": v} for k, v in metrics.to_dict().items()])


@dataclass(frozen=True)
class Comparison:
    """Original vs pruned on the same applicants at the same cutoff."""

    original: RiskMetrics
    pruned: RiskMetrics
    cutoff: CutoffChoice
    psi: PSIResult
    flips: Flips
    spearman: float
    ci: dict[str, DeltaCI] = field(default_factory=dict)

    def delta(self, metric: str) -> float:
        return float(getattr(self.pruned, metric) - getattr(self.original, metric))

    def to_frame(self) -> pd.DataFrame:
        """One row per metric: original, pruned, change, and whether the change is a loss."""
        rows = []
        for key, label in METRIC_LABELS.items():
            o, p = getattr(self.original, key), getattr(self.pruned, key)
            better = HIGHER_IS_BETTER.get(key)
            d = p - o
            worse = None if better is None or not np.isfinite(d) else (d < 0 if better else d > 0)
            rows.append({"metric": key, "label": label, "original": o, "pruned": p, "change": d, "worse": worse})
        return pd.DataFrame(rows)

    def display_frame(self) -> pd.DataFrame:
        """``to_frame`` as printed: numbers as text, an undefined one as its reason ("undefined: nobody approved")."""
        rows = []
        for r in self.to_frame().itertuples(index=False):
            rows.append({"metric": r.label, "original": shown(r.metric, r.original), "pruned": shown(r.metric, r.pruned),
                         "change": shown(r.metric, r.change, fmt_signed),
                         "worse after pruning": "—" if r.worse is None else "yes" if r.worse else "no"})
        return pd.DataFrame(rows)

    def ci_frame(self) -> pd.DataFrame:
        return pd.DataFrame([
            {"metric": m, "delta": c.delta, "low": c.low, "high": c.high, "level": c.level,
             "resamples": c.resamples, "seed": c.seed, "excludes_zero": c.excludes_zero}
            for m, c in self.ci.items()
        ])


def spearman(a: Any, b: Any) -> float:
    x = as_scores(a, "original scores")
    z = as_scores(b, "pruned scores")
    if len(x) != len(z):
        raise MetricError(f"Cannot correlate {len(x)} scores with {len(z)}.", "Score the same applicants with both models.")
    return _spearman_sorted(sort_scores(x), sort_scores(z))


def _spearman_sorted(a: SortedScores, b: SortedScores) -> float:
    """Spearman's rho: Pearson's correlation of the average ranks (``scipy.stats.spearmanr``)."""
    if a.n < 2 or len(a.run_start) == 1 or len(b.run_start) == 1:
        return float("nan")  # undefined for constant scores; shown as "n/a"
    return float(np.corrcoef(a.average_ranks(), b.average_ranks())[0, 1])


def compare(
    y_true: Any,
    original: Any,
    pruned: Any,
    *,
    cutoff: float | None = None,
    approval_rate: float | None = None,
    bootstrap: int = 0,
    seed: int = 0,
    row_ids: Any = None,
) -> Comparison:
    """All original-vs-pruned numbers in one call; ``bootstrap`` > 0 adds paired CIs (slower)."""
    y, so, sp = check_paired(y_true, original, pruned)
    choice = resolve_cutoff(y, so, cutoff=cutoff, approval_rate=approval_rate)
    ci = paired_intervals(y, so, sp, resamples=bootstrap, seed=seed) if bootstrap else {}
    _both_classes(y)
    sorted_o, sorted_p = sort_scores(so, y), sort_scores(sp, y)
    return Comparison(
        original=_risk_metrics_sorted(y, so, sorted_o, choice.cutoff),
        pruned=_risk_metrics_sorted(y, sp, sorted_p, choice.cutoff),
        cutoff=choice,
        psi=psi(so, sp),
        flips=flips(y, so, sp, cutoff=choice.cutoff, row_ids=row_ids),
        spearman=_spearman_sorted(sorted_o, sorted_p),
        ci=ci,
    )
