"""The verdict: each criterion passed, failed or not applicable, with its number, and one overall answer.

A criterion whose input is missing (no segment columns chosen, no out-of-time file) is *not
applicable*: shown as such and never failing the verdict. A criterion whose number is undefined
on these applicants (e.g. nobody is approved, so the bad rate of approved applicants does not
exist) *fails*, and its sentence says why in words: a committee cannot sign off on a number
nobody can compute. Switched-off criteria are listed as *off* and never decide anything.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import pandas as pd

from core.errors import SpecError
from core.policy.criteria import COMPARATOR_SIGNS, COMPARATOR_WORDS, Criterion, Policy, format_value
from core.policy.measure import Baseline, Measurements, baseline_for, measure

PASSED, FAILED, NOT_APPLICABLE, DISABLED = "pass", "fail", "not applicable", "off"
STATUSES = (PASSED, FAILED, NOT_APPLICABLE, DISABLED)


@dataclass(frozen=True)
class CriterionResult:
    """One criterion on one pruned model: its number, its rule, the outcome and a sentence saying so."""

    key: str
    label: str
    group: str
    metric: str
    comparator: str
    threshold: float
    unit: str
    value: float | None
    status: str
    sentence: str
    why: str = ""

    @property
    def passed(self) -> bool:
        return self.status == PASSED

    @property
    def failed(self) -> bool:
        return self.status == FAILED

    @property
    def value_text(self) -> str:
        return format_value(self.value, self.unit)

    @property
    def rule(self) -> str:
        return f"{COMPARATOR_SIGNS[self.comparator]} {format_value(self.threshold, self.unit)}"


def _judge(c: Criterion, m: Measurements) -> CriterionResult:
    value = m.value(c.metric)
    note = m.note(c.metric)
    label = c.label
    limit = f"{COMPARATOR_WORDS[c.comparator]} {format_value(c.threshold, c.unit)}"
    if not c.enabled:
        status, sentence = DISABLED, f"{label}: switched off in this policy."
    elif value is None:
        status, sentence = NOT_APPLICABLE, f"{label}: {note or 'not applicable'}."
    elif not math.isfinite(value):
        status, sentence = FAILED, f"{label} fails: {note or 'the number is undefined on these applicants'}."
    elif c.passes(value):
        status = PASSED
        sentence = f"{label} passes: {format_value(value, c.unit)} is {limit} — {note}." if note else \
            f"{label} passes: {format_value(value, c.unit)} is {limit}."
    else:
        status = FAILED
        sentence = f"{label} fails: {format_value(value, c.unit)} is not {limit} — {note}." if note else \
            f"{label} fails: {format_value(value, c.unit)} is not {limit}."
    return CriterionResult(c.key, label, c.group, c.metric, c.comparator, c.threshold, c.unit,
                           None if value is None else float(value), status, sentence, c.why)


@dataclass(frozen=True)
class Verdict:
    """Every criterion of a policy judged on one pruned model, and the overall answer.

    ``acceptable`` is True when no enabled, applicable criterion fails; ``blocking`` is the first
    failing criterion in the policy's order (the one the search reports as the blocker).
    """

    results: tuple[CriterionResult, ...]
    policy_key: str
    policy_name: str
    subject: str

    @property
    def acceptable(self) -> bool:
        return not any(r.failed for r in self.results)

    @property
    def failed(self) -> tuple[CriterionResult, ...]:
        return tuple(r for r in self.results if r.failed)

    @property
    def blocking(self) -> CriterionResult | None:
        failed = self.failed
        return failed[0] if failed else None

    @property
    def counts(self) -> dict[str, int]:
        return {s: sum(r.status == s for r in self.results) for s in STATUSES}

    @property
    def headline(self) -> str:
        """One line for the verdict strip and the report's first page."""
        n = self.counts
        judged = n[PASSED] + n[FAILED]
        extra = f"; {n[NOT_APPLICABLE]} not applicable" if n[NOT_APPLICABLE] else ""
        if self.acceptable:
            return f"Acceptable: passes all {judged} applicable criteria{extra}."
        b = self.blocking
        more = f" and {n[FAILED] - 1} more" if n[FAILED] > 1 else ""
        return f"Not acceptable: fails {n[FAILED]} of {judged} criteria — {b.label} ({b.value_text}, limit {b.rule}){more}."

    def result(self, key: str) -> CriterionResult:
        for r in self.results:
            if r.key == key:
                return r
        raise KeyError(key)

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: group, label, value, rule, status and the sentence (the verdict strip)."""
        return pd.DataFrame([
            {"key": r.key, "group": r.group, "label": r.label, "value": r.value, "value_text": r.value_text,
             "rule": r.rule, "status": r.status, "sentence": r.sentence, "why": r.why}
            for r in self.results
        ], columns=["key", "group", "label", "value", "value_text", "rule", "status", "sentence", "why"])

    def to_dict(self) -> dict:
        """For the manifest: the answer, the policy it was judged under, and every criterion."""
        b = self.blocking
        return {
            "acceptable": self.acceptable, "headline": self.headline, "policy_key": self.policy_key,
            "policy_name": self.policy_name, "subject": self.subject, "blocking": None if b is None else b.key,
            "criteria": [{"key": r.key, "label": r.label, "group": r.group, "metric": r.metric, "value": r.value,
                          "comparator": r.comparator, "threshold": r.threshold, "status": r.status,
                          "sentence": r.sentence} for r in self.results],
        }


def evaluate(policy: Policy, measurements: Measurements) -> Verdict:
    """Judge every criterion of ``policy`` on the numbers in ``measurements`` (no computation here)."""
    results = tuple(_judge(c, measurements) for c in policy.criteria)
    return Verdict(results, policy.key, policy.name, measurements.subject)


def verdict_for(ws, pruned, policy: Policy, *, baseline: Baseline | None = None, **choices) -> Verdict:
    """Measure and judge in one call (the verdict strip): ``choices`` are ``baseline_for``'s
    ``decision``, ``segments`` and ``oot``; pass a cached ``baseline`` instead to skip recomputing it."""
    base = baseline if baseline is not None else baseline_for(ws, policy, **choices)
    if base.policy.key != policy.key:
        raise SpecError("The cached baseline was computed under another policy.", "Recompute it with baseline_for(ws, policy).")
    return evaluate(policy, measure(ws, pruned, base))
