"""Acceptance policy: the criteria a committee signs, the numbers they read, the verdict, and the
search for the smallest model that passes them all ("recommend").

    policy = default_policy()                      # or Policy.from_json(text)
    base = baseline_for(ws, policy, decision=DecisionRule(), segments=["housing"], oot=oot_frame)
    verdict = evaluate(policy, measure(ws, pruned, base))   # == verdict_for(ws, pruned, policy, baseline=base)
    rec = recommend(ws, policy, executor, settings=SearchSettings(axis="nonzeros"), model_bytes=uploaded)
"""
from core.policy.acceptance import Acceptance, baseline, setting_verdict, sweep_verdicts
from core.policy.criteria import DEFAULT_CRITERIA, GROUPS, METRICS, Criterion, Metric, Policy, default_policy, format_value
from core.policy.measure import SIZE_AXES, Baseline, Measurements, baseline_for, explain_sizes, inputs_used, measure, variables_used
from core.policy.search import (
    DEFAULT_GRID,
    Candidate,
    Outcome,
    Recommendation,
    SearchPayload,
    SearchSettings,
    Winner,
    evaluate_candidate,
    payload_for,
    recommend,
)
from core.policy.verdict import DISABLED, FAILED, NOT_APPLICABLE, PASSED, CriterionResult, Verdict, evaluate, verdict_for

__all__ = [
    "Acceptance",
    "baseline",
    "setting_verdict",
    "sweep_verdicts",
    "DEFAULT_CRITERIA",
    "DEFAULT_GRID",
    "DISABLED",
    "FAILED",
    "GROUPS",
    "METRICS",
    "NOT_APPLICABLE",
    "PASSED",
    "SIZE_AXES",
    "Baseline",
    "Candidate",
    "Criterion",
    "CriterionResult",
    "Measurements",
    "Metric",
    "Outcome",
    "Policy",
    "Recommendation",
    "SearchPayload",
    "SearchSettings",
    "Verdict",
    "Winner",
    "baseline_for",
    "default_policy",
    "evaluate",
    "evaluate_candidate",
    "explain_sizes",
    "format_value",
    "inputs_used",
    "measure",
    "payload_for",
    "recommend",
    "variables_used",
    "verdict_for",
]
