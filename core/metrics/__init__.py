"""Metrics: ranking, calibration, decisions at a cutoff, stability, intervals, original-vs-pruned comparison.

Shaped like scikit-learn's ``sklearn.metrics``: pure functions taking ``(y_true, y_score, *, …)``,
inputs validated once at the door (``core.metrics._validation``), references in docstrings. The
validation statistics of a model change (DeLong, calibration tests, rank ordering) live beside them.
"""
from core.metrics._validation import as_labels, as_scores, check_cutoff, check_rate
from core.metrics.calibration import brier, expected_calibration_error, log_loss, score_deciles
from core.metrics.calibration_tests import (
    CalibrationInTheLarge,
    GradeTests,
    HosmerLemeshow,
    binomial_test_per_grade,
    calibration_in_the_large,
    hosmer_lemeshow,
)
from core.metrics.comparison import HIGHER_IS_BETTER, METRIC_LABELS, Comparison, RiskMetrics, compare, metrics_frame, risk_metrics, spearman
from core.metrics.decisions import (
    DEFAULT_LGD,
    Confusion,
    CutoffChoice,
    DecisionRule,
    ExpectedLoss,
    Flips,
    confusion,
    cutoff_for_approval,
    decline,
    default_cutoff,
    expected_loss,
    flips,
    resolve_cutoff,
    strategy_curve,
)
from core.metrics.delong import DeLongResult, delong_auc_variance, delong_test
from core.metrics.intervals import DEFAULT_BOOTSTRAP, DeltaCI, bootstrap_deltas
from core.metrics.rank_ordering import Inversion, RankOrdering, cumulative_capture, rank_ordering
from core.metrics.ranking import auc, gini, ks, ks_threshold
from core.metrics.stability import PSI_BANDS, PSI_SIGNIFICANT, PSIResult, psi, psi_band, psi_bands_text, psi_from_counts

__all__ = [
    "as_labels", "as_scores", "check_cutoff", "check_rate", "brier", "expected_calibration_error", "log_loss", "score_deciles", "HIGHER_IS_BETTER",
    "METRIC_LABELS", "Comparison", "RiskMetrics", "compare", "metrics_frame", "risk_metrics", "spearman", "DEFAULT_LGD",
    "Confusion", "CutoffChoice", "DecisionRule", "ExpectedLoss", "Flips", "confusion", "cutoff_for_approval", "decline",
    "default_cutoff", "expected_loss", "flips", "resolve_cutoff", "strategy_curve", "DEFAULT_BOOTSTRAP", "DeltaCI",
    "bootstrap_deltas", "auc", "gini", "ks", "ks_threshold", "PSI_BANDS", "PSI_SIGNIFICANT", "PSIResult", "psi",
    "psi_band", "psi_bands_text", "psi_from_counts",
    # validation statistics of a model change
    "DeLongResult", "delong_auc_variance", "delong_test", "CalibrationInTheLarge", "HosmerLemeshow", "GradeTests",
    "calibration_in_the_large", "hosmer_lemeshow", "binomial_test_per_grade", "Inversion", "RankOrdering", "rank_ordering",
    "cumulative_capture",
]
