"""The acceptance verdict of the shown model, memoised like every other workspace operation.

The baseline (everything the policy needs about the original: its cutoff, calibration error, the
declined applicants' SHAP sample, segments, out-of-time scores) is computed once per workspace ×
policy × choices; the verdict of each pruned model then costs one ``measure``.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from core.alignment.spec import NO_ALIGNMENT, AlignmentSpec
from core.cache import memoized
from core.governance.segments import SegmentSpec
from core.metrics.decisions import DecisionRule
from core.policy.criteria import Policy
from core.policy.measure import Baseline, baseline_for
from core.policy.verdict import Verdict, verdict_for
from core.progress import Progress, report
from core.prune.spec import PruneSpec
from core.workspace.binding import Workspace
from core.workspace.evaluation_sample import interactive_workspace
from core.workspace.governance import OutOfTimeSample
from core.workspace.operations import Setting, evaluation_workspace, prune_workspace, sweep_workspace


@dataclass(frozen=True)
class Acceptance:
    """What a verdict is judged under: the policy, the decision rule, and the optional fairness / out-of-time inputs."""

    policy: Policy
    rule: DecisionRule = DecisionRule()
    segments: tuple[SegmentSpec | str, ...] = ()
    oot: OutOfTimeSample | None = None

    @property
    def key(self) -> str:
        segs = "|".join(s if isinstance(s, str) else s.key for s in self.segments)
        return f"{self.policy.key}|{self.rule.key}|{segs}|{self.oot.key if self.oot is not None else 'no oot'}"


@memoized(8)
def baseline(ws: Workspace, acceptance: Acceptance) -> Baseline:
    return baseline_for(ws, acceptance.policy, decision=acceptance.rule, segments=acceptance.segments,
                        oot=None if acceptance.oot is None else acceptance.oot.frame)


@memoized(64)
def setting_verdict(ws: Workspace, setting: Setting, acceptance: Acceptance) -> Verdict:
    """The verdict of the model a setting produces, judged on the rows the setting is evaluated on."""
    ws = evaluation_workspace(ws, setting)
    return verdict_for(ws, prune_workspace(ws, setting), acceptance.policy, baseline=baseline(ws, acceptance))


@memoized(8)
def sweep_verdicts(ws: Workspace, rule: DecisionRule, seed: int, acceptance: Acceptance,
                   progress: Progress | None = None, alignment: AlignmentSpec = NO_ALIGNMENT) -> pd.DataFrame:
    """The verdict of every point of the trade-off sweep: which settings the committee would accept.

    One row per (method, ratio) of ``sweep_workspace(ws, rule, seed)``: ``acceptable`` and the first
    blocking criterion. Each point's verdict is the memoised ``setting_verdict``, so points the user
    already looked at are not judged twice. A large book is judged on its interactive sample, the
    rows the sweep itself is evaluated on.
    """
    ws = interactive_workspace(ws)
    table = sweep_workspace(ws, rule, seed, alignment=alignment).table
    rows = []
    for i, (method, ratio) in enumerate(zip(table["method"], table["ratio"])):
        verdict = setting_verdict(ws, Setting(PruneSpec.make(method, float(ratio), seed=seed), alignment=alignment), acceptance)
        b = verdict.blocking
        rows.append({"method": method, "ratio": float(ratio), "acceptable": verdict.acceptable,
                     "blocking": "" if b is None else b.label, "n_failed": len(verdict.failed)})
        report(progress, i + 1, len(table), f"judging {method} at {float(ratio):.0%}")
    return pd.DataFrame(rows, columns=["method", "ratio", "acceptable", "blocking", "n_failed"])
