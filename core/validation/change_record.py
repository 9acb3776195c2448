"""The change record: what changed, how material the change is, what to monitor, who signs.

Pruning a production credit model is a *model change*. Supervisors expect every change to be
recorded, classified by materiality under a written policy, validated in proportion to that
class, monitored against stated triggers and approved by named people:

* US: the April 2026 interagency guidance on model risk management (Federal Reserve SR 26-2, OCC
  Bulletin 2026-13), which replaced SR 11-7 and, for credit-scoring models, OCC Bulletin 1997-24;
* UK: PRA SS1/23, *Model risk management principles for banks* (principle 3, model development,
  implementation and use, including model change; principle 5, model risk mitigants);
* EU: the EBA follow-up report on machine learning for IRB models (EBA/REP/2023/28: overfitting,
  explainability, categorisation of model changes, challenger models) and the ECB guide to
  internal models (revised July 2025; its machine-learning section: complexity justified by
  performance);
* consumer credit: CFPB Circular 2023-03 (adverse-action reasons must stay specific and accurate
  when complex models are used), under Regulation B, 12 CFR 1002.9.

The materiality class here is computed, never assumed: a change is *non-material* when the
acceptance verdict passes and every judged criterion passes *with margin* — at least
``min_margin`` of its allowance left unused, where the allowance is the distance from the
no-change value (0 for a change, 1 for a share of reasons kept, the original's value for an
adverse impact ratio) to the threshold — and no structural rule of the policy (e.g. an input
variable removed) makes it material. Every threshold is a field the user can edit and is printed
beside the class.
"""
from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from core.errors import SpecError
from core.formatting import fmt_num, fmt_pct
from core.metrics.stability import PSI_BANDS, psi
from core.policy.criteria import format_value
from core.policy.verdict import FAILED, PASSED, Verdict

NON_MATERIAL, MATERIAL = "non-material", "material"


def _share(value: Any, name: str, lo: float, hi: float, hint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) or not math.isfinite(float(value)):
        raise SpecError(f"The setting {name} must be a number (got {value!r}).", hint)
    v = float(value)
    if not lo <= v <= hi:
        raise SpecError(f"The setting {name} is {v}, outside {lo}–{hi}.", hint)
    return v


def _flag(value: Any, name: str) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise SpecError(f"The setting {name} must be true or false (got {value!r}).", "Write true or false.")
    return bool(value)


@dataclass(frozen=True)
class MaterialityPolicy:
    """When a pruning counts as a non-material model change; every field editable and printed in the report.

    ``min_margin``: share of each criterion's allowance that must remain unused (0.5 = the change
    uses at most half of what the acceptance policy tolerates). ``inputs_removed_material``:
    removing an input variable changes the data the model uses, a material change in most
    model-change policies. ``fine_tuning_material``: re-estimated weights count as a
    re-development. ``alignment_material``: a score map appended after pruning counts as a change
    of the score scale.
    """

    min_margin: float = 0.5
    inputs_removed_material: bool = True
    fine_tuning_material: bool = False
    alignment_material: bool = False

    def __post_init__(self) -> None:
        object.__setattr__(self, "min_margin", _share(self.min_margin, "min_margin", 0.0, 1.0,
                                                       "Use a share between 0 and 1, e.g. 0.5."))
        for name in ("inputs_removed_material", "fine_tuning_material", "alignment_material"):
            object.__setattr__(self, name, _flag(getattr(self, name), name))

    @property
    def key(self) -> str:
        return f"materiality|{self.min_margin!r}|{self.inputs_removed_material}|{self.fine_tuning_material}|{self.alignment_material}"

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MaterialityPolicy:
        if not isinstance(data, Mapping):
            raise SpecError("The materiality policy must be an object.", "Start from MaterialityPolicy().to_dict().")
        unknown = sorted(set(map(str, data)) - set(MaterialityPolicy.__dataclass_fields__))
        if unknown:
            raise SpecError(f"'{unknown[0]}' is not a materiality setting.",
                            f"Use only: {', '.join(MaterialityPolicy.__dataclass_fields__)}.")
        return MaterialityPolicy(**dict(data))

    def to_frame(self) -> pd.DataFrame:
        """The thresholds as a committee reads them."""
        yn = lambda b: "yes" if b else "no"
        return pd.DataFrame([
            {"setting": "Allowance left unused by every criterion, at least", "value": fmt_pct(self.min_margin, 0)},
            {"setting": "Removing an input variable is material", "value": yn(self.inputs_removed_material)},
            {"setting": "Fine-tuning (re-estimating weights) is material", "value": yn(self.fine_tuning_material)},
            {"setting": "Appending a score alignment map is material", "value": yn(self.alignment_material)},
        ])


@dataclass(frozen=True)
class MonitoringPolicy:
    """Thresholds of the monitoring triggers: amber (investigate) and red (escalate / consider rollback).

    Score PSI bands follow the industry rule of thumb (Siddiqi, 2017, ch. 14: < 0.10 stable,
    0.10–0.25 monitor, ≥ 0.25 act); AUC drops are in AUC units below the value measured here;
    approval-rate shifts are in probability units either way; the calibration trigger is the
    two-sided binomial test of the observed bad rate against the mean PD (BCBS WP 14, 2005, §5)
    at the stated significance levels; adverse impact ratios follow the four-fifths rule (29 CFR
    1607.4(D)).
    """

    psi_amber: float = PSI_BANDS[0][0]
    psi_red: float = PSI_BANDS[1][0]
    auc_drop_amber: float = 0.03
    auc_drop_red: float = 0.05
    approval_shift_amber: float = 0.05
    approval_shift_red: float = 0.10
    calibration_alpha_amber: float = 0.05
    calibration_alpha_red: float = 0.01
    air_amber: float = 0.8
    air_red: float = 0.7

    def __post_init__(self) -> None:
        hint = ("Use the defaults: PSI 0.10 / 0.25, AUC drop 0.03 / 0.05, approval shift 0.05 / 0.10, "
                "calibration p 0.05 / 0.01, adverse impact ratio 0.8 / 0.7.")
        for name, hi in (("psi_amber", 10.0), ("psi_red", 10.0), ("auc_drop_amber", 0.5), ("auc_drop_red", 0.5),
                         ("approval_shift_amber", 1.0), ("approval_shift_red", 1.0), ("calibration_alpha_amber", 0.5),
                         ("calibration_alpha_red", 0.5), ("air_amber", 1.0), ("air_red", 1.0)):
            object.__setattr__(self, name, _share(getattr(self, name), name, 0.0, hi, hint))
        if (self.psi_red < self.psi_amber or self.auc_drop_red < self.auc_drop_amber
                or self.approval_shift_red < self.approval_shift_amber or self.calibration_alpha_red > self.calibration_alpha_amber
                or self.air_red > self.air_amber):
            raise SpecError("A red trigger must not fire before its amber trigger.", hint)

    @property
    def key(self) -> str:
        return "monitoring|" + "|".join(repr(v) for v in asdict(self).values())

    @property
    def text(self) -> str:
        """The thresholds in one sentence, amber / red."""
        return (f"Thresholds (amber / red): score PSI {self.psi_amber:.2f} / {self.psi_red:.2f}; AUC drop {self.auc_drop_amber:.2f} / "
                f"{self.auc_drop_red:.2f}; approval-rate shift ±{self.approval_shift_amber * 100:.1f} / ±{self.approval_shift_red * 100:.1f} "
                f"pts; calibration p {self.calibration_alpha_amber:g} / {self.calibration_alpha_red:g}; adverse impact ratio "
                f"{self.air_amber:.2f} / {self.air_red:.2f}.")

    def to_dict(self) -> dict:
        return asdict(self)

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> MonitoringPolicy:
        if not isinstance(data, Mapping):
            raise SpecError("The monitoring policy must be an object.", "Start from MonitoringPolicy().to_dict().")
        unknown = sorted(set(map(str, data)) - set(MonitoringPolicy.__dataclass_fields__))
        if unknown:
            raise SpecError(f"'{unknown[0]}' is not a monitoring setting.",
                            f"Use only: {', '.join(MonitoringPolicy.__dataclass_fields__)}.")
        return MonitoringPolicy(**dict(data))


# --------------------------------------------------------------------------- materiality


def _neutral(metric: str, originals: Mapping[str, float]) -> float | None:
    """The value a criterion's metric takes when nothing changed (the start of its allowance)."""
    if metric in originals:
        return originals[metric]
    if metric == "reason_overlap":
        return 1.0
    return 0.0


def _slack(value: float, threshold: float, comparator: str) -> float:
    """Distance from the value to the threshold on the passing side (> 0 passes, < 0 fails)."""
    return value - threshold if comparator in (">=", ">") else threshold - value


@dataclass(frozen=True, eq=False)
class Materiality:
    """The materiality class of a change, why, and the margin each criterion keeps."""

    cls: str  # NON_MATERIAL or MATERIAL
    reasons: tuple[str, ...]
    margins: pd.DataFrame = field(repr=False)
    policy: MaterialityPolicy = MaterialityPolicy()

    @property
    def material(self) -> bool:
        return self.cls == MATERIAL

    @property
    def headline(self) -> str:
        if not self.material:
            return (f"Non-material change: the acceptance verdict passes and every judged criterion keeps at least "
                    f"{self.policy.min_margin:.0%} of its allowance.")
        m = self.margins
        failed = m.loc[m["status"] == FAILED, "label"].tolist()
        if failed:
            return (f"Material change: it fails {len(failed)} acceptance criteria ({', '.join(failed)}), so it cannot be "
                    "classed non-material.")
        more = f" ({len(self.reasons) - 1} more reason(s) below)" if len(self.reasons) > 1 else ""
        return f"Material change — {self.reasons[0].rstrip('.')}{more}."  # the reason keeps its capitals (ΔAUC, AUC)

    def to_frame(self) -> pd.DataFrame:
        return self.margins.copy()

    def to_dict(self) -> dict:
        return {"class": self.cls, "reasons": list(self.reasons), "policy": self.policy.to_dict(),
                "margins": self.margins.replace({np.nan: None}).to_dict(orient="records")}


def materiality(verdict: Verdict, policy: MaterialityPolicy = MaterialityPolicy(), *, dropped_variables: Sequence[str] = (),
                fine_tuned: bool = False, aligned: bool = False, originals: Mapping[str, float] | None = None) -> Materiality:
    """Classify the change: margins of every judged criterion of the verdict, plus the policy's structural rules.

    ``originals`` gives the no-change value of level metrics (e.g. ``{"min_air": 0.91}``, the
    original model's lowest adverse impact ratio); change metrics start at 0, ``reason_overlap`` at 1.
    """
    originals = dict(originals or {})
    rows, reasons = [], []
    for r in verdict.results:
        if r.status not in (PASSED, FAILED):
            continue
        neutral = _neutral(r.metric, originals)
        value = r.value if r.value is not None else float("nan")
        allowance = _slack(neutral, r.threshold, r.comparator) if neutral is not None and math.isfinite(neutral) else float("nan")
        slack = _slack(value, r.threshold, r.comparator) if math.isfinite(value) else float("nan")
        unused = slack / allowance if (math.isfinite(allowance) and allowance > 0 and math.isfinite(slack)) else float("nan")
        if r.status == FAILED:
            ok, why = False, f"Fails the acceptance criterion {r.label}: {r.value_text}, limit {r.rule}."
        elif math.isfinite(unused):
            ok = unused >= policy.min_margin
            why = "" if ok else (f"{r.label} passes but keeps only {unused:.0%} of its allowance "
                                 f"({format_value(value, r.unit)} against a limit of {r.rule}; at least {policy.min_margin:.0%} required).")
        else:  # the original itself sits at or beyond the limit: no allowance to keep a share of
            ok = False
            why = (f"{r.label} passes ({format_value(value, r.unit)}, limit {r.rule}) but the original model leaves no "
                   "allowance to measure a margin against.")
        if why:
            reasons.append(why)
        rows.append({"key": r.key, "label": r.label, "value": r.value, "value_text": r.value_text, "rule": r.rule,
                     "no_change_value": neutral, "allowance": allowance, "unused_share": unused, "status": r.status,
                     "with_margin": bool(ok)})
    if policy.inputs_removed_material and dropped_variables:
        reasons.append(f"Input variable(s) removed: {', '.join(map(str, dropped_variables))} — the model now uses other data.")
    if policy.fine_tuning_material and fine_tuned:
        reasons.append("The remaining weights were re-estimated by fine-tuning.")
    if policy.alignment_material and aligned:
        reasons.append("A score alignment map was appended, changing the score scale.")
    frame = pd.DataFrame(rows, columns=["key", "label", "value", "value_text", "rule", "no_change_value", "allowance",
                                        "unused_share", "status", "with_margin"])
    return Materiality(MATERIAL if reasons else NON_MATERIAL, tuple(reasons), frame, policy)


# --------------------------------------------------------------------------- monitoring


@dataclass(frozen=True)
class Trigger:
    """One monitoring trigger: what to compute, its value today, and the amber / red limits."""

    key: str
    label: str
    watch: str  # what to compute on production data, in words
    baseline: str  # the value measured here
    amber: str
    red: str
    action: str


def monitoring_triggers(policy: MonitoringPolicy, *, auc_pruned: float, auc_low: float | None, challenger_auc: float | None,
                        approval_rate: float, cutoff: float, mean_pd: float, bad_rate: float, citl_p: float | None,
                        min_air: float | None, n_eval: int) -> tuple[Trigger, ...]:
    """The triggers with today's values; limits derived from the measured baseline, never assumed."""
    out = [
        Trigger("score_psi", "Score PSI, production vs this evaluation",
                "PSI of the pruned model's production scores against its scores here, in the 10 reference bins below",
                f"0 by construction (reference: {n_eval:,} evaluation rows)",
                f"≥ {fmt_num(policy.psi_amber, 2)}", f"≥ {fmt_num(policy.psi_red, 2)}",
                "Amber: analyse which inputs drifted (characteristic PSI). Red: escalate to model risk; revalidate."),
        Trigger("auc", "AUC on matured outcomes",
                "AUC of the pruned model on applicants whose outcome is known (same bad definition)",
                f"{fmt_num(auc_pruned)}" + (f" (95% CI lower bound {fmt_num(auc_low)})" if auc_low is not None else ""),
                f"< {fmt_num(auc_pruned - policy.auc_drop_amber)}", f"< {fmt_num(auc_pruned - policy.auc_drop_red)}",
                "Amber: investigate segments and inputs. Red: escalate; consider reverting to the original model."),
    ]
    if challenger_auc is not None and math.isfinite(challenger_auc):
        out.append(Trigger("challenger", "AUC against the logistic-regression challenger",
                           "AUC of the pruned model minus the challenger's, on the same matured applicants",
                           f"{auc_pruned - challenger_auc:+.4f}", "≤ 0.0000 (the network no longer ranks better)",
                           "< 0 with DeLong p < 0.05", "Red: the network's complexity is no longer justified; review the model."))
    out += [
        Trigger("approval_rate", "Approval rate at the cutoff",
                f"Share of applicants with P(bad) below the cutoff {fmt_num(cutoff)}",
                fmt_pct(approval_rate, 1),
                f"outside {fmt_pct(max(approval_rate - policy.approval_shift_amber, 0), 1)}–"
                f"{fmt_pct(min(approval_rate + policy.approval_shift_amber, 1), 1)}",
                f"outside {fmt_pct(max(approval_rate - policy.approval_shift_red, 0), 1)}–"
                f"{fmt_pct(min(approval_rate + policy.approval_shift_red, 1), 1)}",
                "Amber: check the applicant mix and the score distribution. Red: review the cutoff with credit policy."),
        Trigger("calibration", "Calibration in the large",
                "Observed bad rate of matured applicants against their mean predicted PD (two-sided binomial test)",
                f"mean PD {fmt_pct(mean_pd, 2)} vs observed {fmt_pct(bad_rate, 2)}"
                + (f" (p = {citl_p:.3g})" if citl_p is not None and math.isfinite(citl_p) else ""),
                f"p < {policy.calibration_alpha_amber:g}", f"p < {policy.calibration_alpha_red:g}",
                "Amber: recalibrate at the next review. Red: recalibrate before further use of the PDs."),
    ]
    if min_air is not None and math.isfinite(min_air):
        out.append(Trigger("air", "Lowest adverse impact ratio of any segment",
                           "Approval rate of each segment divided by the best-approved segment's, at the cutoff",
                           fmt_num(min_air, 3), f"< {fmt_num(policy.air_amber, 2)}", f"< {fmt_num(policy.air_red, 2)}",
                           "Amber: fair-lending review of the segment. Red: escalate to compliance."))
    return tuple(out)


def triggers_frame(triggers: Sequence[Trigger]) -> pd.DataFrame:
    return pd.DataFrame([asdict(t) for t in triggers], columns=list(Trigger.__dataclass_fields__))


def reference_bins(scores: np.ndarray, bins: int = 10) -> pd.DataFrame:
    """The pruned model's score bins here (at its deciles) and the share in each: the PSI reference for monitoring.

    They are exactly the bins ``core.metrics.psi`` uses with these scores as the expected sample, so
    production PSI = Σ (a − e)·ln(a / e) over them (Siddiqi, 2017, ch. 14) equals
    ``psi(scores_here, production_scores)``.
    """
    t = psi(scores, scores, bins=bins).table
    return pd.DataFrame({"bin": t["bin"], "lower": t["lower"], "upper": t["upper"], "share": t["expected_share"]})


# --------------------------------------------------------------------------- references and sign-off


@dataclass(frozen=True)
class Reference:
    key: str
    document: str
    issuer: str
    relevance: str


REFERENCES: tuple[Reference, ...] = (
    Reference("SR 26-2 / OCC 2026-13", "Interagency guidance on model risk management (April 2026), replacing SR 11-7 and, "
              "for credit-scoring models, OCC Bulletin 1997-24", "Board of Governors of the Federal Reserve System; OCC",
              "Model changes are validated, documented and approved before use; ongoing monitoring with stated triggers."),
    Reference("PRA SS1/23", "Model risk management principles for banks (May 2023)", "Prudential Regulation Authority (UK)",
              "Model change management: changes classified by materiality, validated in proportion, approved and recorded."),
    Reference("EBA/REP/2023/28", "Follow-up report on machine learning for IRB models (August 2023)", "European Banking Authority",
              "Overfitting, explainability, categorisation of model changes and the use of challenger models."),
    Reference("ECB guide to internal models", "ECB guide to internal models (revised July 2025), section on machine-learning "
              "techniques", "European Central Bank (banking supervision)",
              "The complexity of a machine-learning model must be justified by its performance."),
    Reference("CFPB Circular 2023-03", "Adverse action notification requirements and the proper use of the CFPB's sample forms",
              "Consumer Financial Protection Bureau (US)",
              "Adverse-action reasons must stay specific and accurate when complex models decide (Regulation B, 12 CFR 1002.9)."),
)

SIGN_OFF_ROLES = (
    ("Model owner", "Requests the change and accepts its limitations"),
    ("Model developer", "Performed the pruning and the measurements in this pack"),
    ("Independent validator", "Reviewed the pack and the materiality class"),
    ("Model risk management", "Approves the change for use and the monitoring plan"),
    ("Compliance / fair lending", "Reviewed fairness and adverse-action reasons"),
    ("Credit committee chair", "Final approval"),
)


def sign_off_frame() -> pd.DataFrame:
    """The sign-off table: roles and responsibilities filled in, names, decisions and dates left blank to fill in."""
    return pd.DataFrame([{"Role": role, "Responsibility": what, "Name": "", "Decision": "", "Date": "", "Signature": ""}
                         for role, what in SIGN_OFF_ROLES])


def references_frame() -> pd.DataFrame:
    return pd.DataFrame([{"Reference": r.key, "Document": r.document, "Issuer": r.issuer, "Why it applies": r.relevance}
                         for r in REFERENCES])


# --------------------------------------------------------------------------- the record


@dataclass(frozen=True, eq=False)
class ChangeRecord:
    """What changed, its materiality, intended use, limitations, monitoring triggers, references and sign-off."""

    changes: pd.DataFrame = field(repr=False)  # item, before, after
    materiality: Materiality = field(repr=False)
    intended_use: str = ""
    limitations: tuple[str, ...] = ()
    triggers: tuple[Trigger, ...] = ()
    reference_bins: pd.DataFrame = field(default_factory=pd.DataFrame, repr=False)
    monitoring: MonitoringPolicy = MonitoringPolicy()
    references: tuple[Reference, ...] = REFERENCES

    def triggers_frame(self) -> pd.DataFrame:
        return triggers_frame(self.triggers)

    def sign_off_frame(self) -> pd.DataFrame:
        return sign_off_frame()

    def references_frame(self) -> pd.DataFrame:
        return references_frame()

    def to_dict(self) -> dict:
        return {"changes": self.changes.to_dict(orient="records"), "materiality": self.materiality.to_dict(),
                "intended_use": self.intended_use, "limitations": list(self.limitations),
                "monitoring": {"policy": self.monitoring.to_dict(), "triggers": [asdict(t) for t in self.triggers]},
                "references": [asdict(r) for r in self.references], "sign_off_roles": [r for r, _ in SIGN_OFF_ROLES]}
