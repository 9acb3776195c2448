"""Workspace: a model bound to a dataset, the memoised operations on it, and one view per dashboard page.

Pages, the CLI, the report and the Python API share these functions, so they show the same numbers.
"""
from core.workspace.binding import DEFAULT_SPLIT_SEED, EVAL_ALL, EVAL_HOLDOUT, Workspace, bind, is_training_data
from core.workspace.evaluation_sample import SAMPLE_ABOVE_ROWS, SamplePlan, automatic_rows, interactive_workspace, sample_rows_for
from core.workspace.exposure import PER_APPLICANT, ExposureColumn, exposure_columns, exposure_guess, exposure_problem, exposure_values
from core.workspace.governance import (
    OutOfTimeSample,
    adverse_action_reasons_for,
    eval_frame,
    out_of_time,
    out_of_time_for,
    prepare_oot,
    reasons_for,
    segment_fairness_for,
)
from core.workspace.operations import (
    PrunedModel,
    Setting,
    as_setting,
    attributions_for,
    blocks_for,
    compare_workspace,
    decision_curves,
    evaluation_workspace,
    is_computed,
    layer_sensitivity_for,
    prune_workspace,
    reference_inputs,
    scored,
    sweep_workspace,
)
from core.workspace.population import PopulationFigures, population_figures, score_all
from core.workspace.views import (
    DecisionView,
    ExplainView,
    GovernanceView,
    Overview,
    PruneView,
    ReportView,
    TradeoffView,
    decision_view,
    explain_ready,
    explain_view,
    explains_fast,
    explains_quickly,
    governance_view,
    overview,
    prune_view,
    report_view,
    tradeoff_view,
)

__all__ = [
    "DEFAULT_SPLIT_SEED", "EVAL_ALL", "EVAL_HOLDOUT", "Workspace", "bind", "is_training_data", "OutOfTimeSample",
    "adverse_action_reasons_for", "eval_frame", "out_of_time", "out_of_time_for", "prepare_oot", "reasons_for",
    "segment_fairness_for", "PrunedModel", "Setting", "as_setting", "attributions_for", "compare_workspace",
    "decision_curves", "evaluation_workspace", "is_computed", "layer_sensitivity_for", "prune_workspace",
    "reference_inputs", "blocks_for", "scored", "sweep_workspace", "DecisionView", "ExplainView", "GovernanceView", "Overview",
    "PruneView", "ReportView", "TradeoffView", "decision_view", "explain_ready", "explain_view", "explains_fast", "explains_quickly",
    "governance_view", "overview",
    "prune_view", "report_view", "tradeoff_view", "SAMPLE_ABOVE_ROWS", "SamplePlan", "automatic_rows", "interactive_workspace",
    "sample_rows_for", "PopulationFigures", "population_figures", "score_all", "PER_APPLICANT", "ExposureColumn", "exposure_columns",
    "exposure_guess", "exposure_problem", "exposure_values",
]
