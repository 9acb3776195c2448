"""Explain: SHAP attributions of both models on the same rows, the fast exact DeepSHAP kernel, importance shift."""
from core.explain.applicant import ApplicantComparison, compare_applicant
from core.explain.attributions import (
    EXPLAINER_LABELS,
    EXPLAINERS,
    FAST_PATH,
    SAMPLED,
    SHAP_DEEP,
    SHAP_PERMUTATION,
    Attributions,
    explain,
    explain_rows,
)
from core.explain.deepshap import UnsupportedNetwork, build_chain, deepshap
from core.explain.sample import DEFAULT_BACKGROUND, DEFAULT_ROWS, ExplainSample, draw_sample
from core.explain.sampling import SampledShapley, exact_shapley, sampled_shapley
from core.explain.shift import ImportanceShift, importance_shift

__all__ = [
    "ApplicantComparison", "compare_applicant", "EXPLAINER_LABELS", "EXPLAINERS", "FAST_PATH", "SHAP_DEEP",
    "SAMPLED", "SampledShapley", "exact_shapley", "sampled_shapley", "SHAP_PERMUTATION", "Attributions", "explain",
    "explain_rows", "UnsupportedNetwork", "build_chain", "deepshap",
    "DEFAULT_BACKGROUND", "DEFAULT_ROWS", "ExplainSample", "draw_sample", "ImportanceShift", "importance_shift",
]
