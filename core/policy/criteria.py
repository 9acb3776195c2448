"""Acceptance criteria: the policy a credit committee signs before anyone prunes its model.

Today a risk manager reads some forty numbers and decides alone whether a pruning is
acceptable. A ``Policy`` writes the decision rule down once: each ``Criterion`` names one number
(a ``Metric`` read from ``core.policy.measure.Measurements``), a comparator and a threshold, can
be switched on or off, and says in one line why it is there. The same policy is edited in the
dashboard, stored in the manifest and the report, and loaded from JSON by the CLI, so the
verdict on a pruned model is reproducible from the file alone.

Thresholds are in the metric's own units: AUC and KS changes in AUC units (−0.01 = one AUC
point), rates and shares as fractions (0.02 = two percentage points), PSI and adverse impact
ratios as they are.
"""
from __future__ import annotations

import json
import math
import operator
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd

from core.errors import SpecError
from core.formatting import fmt_num, fmt_pct, fmt_signed
from core.hashing import digest

POLICY_FORMAT = 1  # version of the JSON layout written by ``Policy.to_json``
MAX_POLICY_CHARS = 1_000_000  # a policy is a few kB; anything larger is not a policy file
MAX_CRITERIA = 64

DISCRIMINATION, STABILITY, CALIBRATION, DECISIONS = "discrimination", "stability", "calibration", "decisions"
FAIRNESS, REASONS, OUT_OF_TIME = "fairness", "reasons", "out-of-time"
GROUPS = (DISCRIMINATION, STABILITY, CALIBRATION, DECISIONS, FAIRNESS, REASONS, OUT_OF_TIME)

# What a metric needs besides the evaluation rows; without it the criterion is not applicable.
NEEDS_SEGMENTS, NEEDS_OOT = "segments", "out-of-time data"

COMPARATORS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt,
}
COMPARATOR_WORDS = {">=": "at least", "<=": "at most", ">": "above", "<": "below"}
COMPARATOR_SIGNS = {">=": "≥", "<=": "≤", ">": ">", "<": "<"}

# Units decide how a value and its threshold are printed (never how they are compared).
DELTA, PSI_UNIT, SHARE, POINTS, ABS_POINTS, RATIO = "delta", "psi", "share", "points", "abs_points", "ratio"
UNITS = (DELTA, PSI_UNIT, SHARE, POINTS, ABS_POINTS, RATIO)


def format_value(value: float | None, unit: str) -> str:
    """A metric value as the verdict strip and the report print it ('n/a' when missing)."""
    if value is None or not math.isfinite(float(value)):
        return "n/a"
    v = float(value)
    if unit == DELTA:
        return fmt_signed(v, 4).replace("-", "−")
    if unit == PSI_UNIT:
        return f"{v:.3g}"  # 0.1, 0.0123, 0.0001: a strict limit must not print as 0.000
    if unit == SHARE:
        return fmt_pct(v, 1)
    if unit == POINTS:
        return f"{v * 100:+.1f} pts".replace("-", "−")
    if unit == ABS_POINTS:
        return f"{v * 100:.1f} pts".replace("-", "−")
    return fmt_num(v, 3)


@dataclass(frozen=True)
class Metric:
    """One number a criterion can read: its label, unit, group, what it needs, and its reference."""

    key: str
    label: str
    unit: str
    group: str
    needs: str | None = None
    reference: str = ""


METRICS: dict[str, Metric] = {m.key: m for m in (
    Metric("delta_auc_low", "Lower 95 % bound of ΔAUC (paired bootstrap)", DELTA, DISCRIMINATION,
           reference="Efron & Tibshirani (1993), ch. 13 percentile interval, paired as in DeLong et al. (1988)"),
    Metric("delta_auc", "ΔAUC", DELTA, DISCRIMINATION, reference="Hanley & McNeil (1982)"),
    Metric("delta_ks", "ΔKS", DELTA, DISCRIMINATION, reference="Siddiqi (2017), Intelligent Credit Scoring, ch. 10"),
    Metric("psi", "Score PSI, pruned vs original", PSI_UNIT, STABILITY,
           reference="Siddiqi (2017), ch. 14: < 0.10 stable, 0.10–0.25 monitor"),
    Metric("delta_brier", "ΔBrier score", DELTA, CALIBRATION, reference="Brier (1950)"),
    Metric("delta_ece", "Change in expected calibration error", DELTA, CALIBRATION,
           reference="Naeini, Cooper & Hauskrecht (2015), AAAI"),
    Metric("flip_share", "Flipped decisions at the cutoff", SHARE, DECISIONS),
    Metric("approval_rate_change", "Approval-rate change (either direction)", ABS_POINTS, DECISIONS),
    Metric("delta_approved_bad_rate", "Change in bad rate of approved applicants", POINTS, DECISIONS),
    Metric("min_air", "Lowest adverse impact ratio of any segment (pruned)", RATIO, FAIRNESS, NEEDS_SEGMENTS,
           reference="Four-fifths rule, US EEOC Uniform Guidelines, 29 CFR 1607.4(D)"),
    Metric("max_air_drop", "Largest fall of a segment's adverse impact ratio", RATIO, FAIRNESS, NEEDS_SEGMENTS,
           reference="29 CFR 1607.4(D) applied to the change"),
    Metric("reason_overlap", "Top reasons of declined applicants kept", SHARE, REASONS,
           reference="Regulation B, 12 CFR 1002.9; CFPB Circular 2023-03"),
    Metric("oot_delta_auc_low", "Out-of-time: lower 95 % bound of ΔAUC", DELTA, OUT_OF_TIME, NEEDS_OOT,
           reference="Efron & Tibshirani (1993), paired as in DeLong et al. (1988)"),
    Metric("oot_delta_ks", "Out-of-time: ΔKS", DELTA, OUT_OF_TIME, NEEDS_OOT),
    Metric("oot_psi", "Out-of-time: score PSI, pruned vs original", PSI_UNIT, OUT_OF_TIME, NEEDS_OOT),
)}


def _field(path: str, what: str, hint: str) -> SpecError:
    """Every validation error names the field, as JSON paths do: ``criteria[2].threshold``."""
    return SpecError(f"Policy field {path} {what}.", hint)


def _number(value: Any, path: str, hint: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _field(path, f"must be a number, not {value!r}", hint)
    v = float(value)
    if not math.isfinite(v):
        raise _field(path, "must be a finite number", hint)
    return v


def _whole(value: Any, path: str, lo: int, hi: int, hint: str) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(float(value)) \
            or float(value) != int(value):
        raise _field(path, f"must be a whole number, not {value!r}", hint)
    v = int(value)
    if not lo <= v <= hi:
        raise _field(path, f"is {v}, outside {lo}–{hi}", hint)
    return v


def _text(value: Any, path: str, max_len: int = 500) -> str:
    if not isinstance(value, str):
        raise _field(path, f"must be text, not {value!r}", "Write it in quotes.")
    if len(value) > max_len:
        raise _field(path, f"is longer than {max_len} characters", "Shorten it.")
    return value


@dataclass(frozen=True)
class Criterion:
    """One acceptance rule: ``metric comparator threshold`` (e.g. ``psi < 0.10``), on or off.

    ``label`` is the plain-words name shown in the verdict strip; ``why`` the one line the report
    prints next to it. ``unit`` (default: the metric's) only decides how numbers are printed.
    """

    key: str
    label: str
    group: str
    metric: str
    comparator: str
    threshold: float
    enabled: bool = True
    unit: str = ""
    why: str = ""

    def __post_init__(self) -> None:
        where = str(self.key)
        if not isinstance(self.key, str) or not self.key.strip() or len(self.key) > 80:
            raise _field("key", "must be a short non-empty name", "Use e.g. 'score_psi'.")
        if self.metric not in METRICS:
            raise _field(f"{where}.metric", f"names an unknown metric '{self.metric}'", f"Use one of: {', '.join(METRICS)}.")
        if self.comparator not in COMPARATORS:
            raise _field(f"{where}.comparator", f"is '{self.comparator}'", "Use one of >=, <=, >, <.")
        if self.group not in GROUPS:
            raise _field(f"{where}.group", f"is '{self.group}'", f"Use one of: {', '.join(GROUPS)}.")
        if not isinstance(self.enabled, bool):
            raise _field(f"{where}.enabled", f"must be true or false, not {self.enabled!r}", "Write true or false.")
        object.__setattr__(self, "threshold", _number(self.threshold, f"{where}.threshold", "Use a number such as 0.10."))
        if not self.unit:
            object.__setattr__(self, "unit", METRICS[self.metric].unit)
        if self.unit not in UNITS:
            raise _field(f"{where}.unit", f"is '{self.unit}'", f"Use one of: {', '.join(UNITS)}.")

    @property
    def needs(self) -> str | None:
        """What the metric needs besides the evaluation rows (segments, out-of-time data), if anything."""
        return METRICS[self.metric].needs

    @property
    def rule(self) -> str:
        """The rule in symbols, e.g. ``≥ −0.0100``."""
        return f"{COMPARATOR_SIGNS[self.comparator]} {format_value(self.threshold, self.unit)}"

    def passes(self, value: float) -> bool:
        """True when ``value`` meets the rule; a NaN never does."""
        return bool(math.isfinite(value) and COMPARATORS[self.comparator](value, self.threshold))

    def to_dict(self) -> dict:
        return {"key": self.key, "label": self.label, "group": self.group, "metric": self.metric,
                "comparator": self.comparator, "threshold": self.threshold, "enabled": self.enabled,
                "unit": self.unit, "why": self.why}


def _c(key: str, label: str, metric: str, comparator: str, threshold: float, why: str) -> Criterion:
    return Criterion(key, label, METRICS[metric].group, metric, comparator, threshold, True, "", why)


DEFAULT_CRITERIA: tuple[Criterion, ...] = (
    _c("auc_drop_bound", "Ranking power (ΔAUC, pessimistic bound)", "delta_auc_low", ">=", -0.01,
       "Even at the lower end of the 95 % paired-bootstrap interval, AUC falls by at most 0.01, so sampling noise "
       "cannot hide a real loss."),
    _c("ks_drop", "Separation (ΔKS)", "delta_ks", ">=", -0.02,
       "The KS statistic, the separation scorecards are monitored on, falls by at most 0.02."),
    _c("score_psi", "Score stability (PSI)", "psi", "<", 0.10,
       "PSI below 0.10 is the usual 'no significant shift' band: the score distribution stays where it was."),
    _c("brier_increase", "Calibration (ΔBrier)", "delta_brier", "<=", 0.005,
       "Probabilities of default stay as accurate: the Brier score rises by at most 0.005."),
    _c("ece_increase", "Calibration (ECE)", "delta_ece", "<=", 0.01,
       "Predicted PDs stay as close to observed default rates: ECE rises by at most one point."),
    _c("flip_share", "Flipped decisions", "flip_share", "<=", 0.05,
       "At most 5 % of applicants get a different decision at the same cutoff."),
    _c("approval_rate_change", "Approval rate", "approval_rate_change", "<=", 0.02,
       "The approval rate moves by at most 2 points either way, so volumes and targets hold."),
    _c("approved_bad_rate_increase", "Bad rate of approved", "delta_approved_bad_rate", "<=", 0.005,
       "The bad rate of the approved book rises by at most half a point, so expected losses hold."),
    _c("min_air", "Approval parity (four-fifths rule)", "min_air", ">=", 0.8,
       "Every segment is approved at least 80 % as often as the best-approved one (adverse impact ratio)."),
    _c("air_drop", "Approval parity kept", "max_air_drop", "<=", 0.05,
       "No segment's adverse impact ratio falls by more than 0.05 against the original model."),
    _c("reason_overlap", "Adverse-action reasons kept", "reason_overlap", ">=", 0.8,
       "Declined applicants keep at least 80 % of their top-3 adverse-action reasons (Regulation B notices stay accurate)."),
    _c("oot_auc_drop_bound", "Out-of-time ranking power", "oot_delta_auc_low", ">=", -0.01,
       "On the later sample, too, AUC falls by at most 0.01 at the lower end of the 95 % interval."),
    _c("oot_ks_drop", "Out-of-time separation", "oot_delta_ks", ">=", -0.02,
       "On the later sample, too, KS falls by at most 0.02."),
    _c("oot_score_psi", "Out-of-time score stability", "oot_psi", "<", 0.10,
       "On the later sample, too, the pruned model's scores stay in the original's distribution (PSI < 0.10)."),
)
_DEFAULTS_BY_KEY = {c.key: c for c in DEFAULT_CRITERIA}

_SETTINGS = {  # field: (default, low, high, hint)
    "bootstrap_resamples": (200, 10, 100_000, "Use e.g. 200 paired bootstrap resamples."),
    "bootstrap_seed": (0, 0, 2**32 - 1, "Use a whole number such as 0."),
    "ece_bins": (10, 2, 1000, "Use the usual 10 bins."),
    "reason_k": (3, 1, 20, "Use the top 3 reasons."),
    "explain_rows": (500, 1, 100_000, "Explain up to 500 declined applicants."),
    "explain_background": (100, 1, 10_000, "Use 100 background rows."),
    "explain_seed": (0, 0, 2**32 - 1, "Use a whole number such as 0."),
    "explain_budget": (2_000_000_000, 1_000_000, 10**15, "Use e.g. 2000000000 multiply-adds."),
}


@dataclass(frozen=True)
class Policy:
    """The acceptance criteria and the settings that make their numbers reproducible.

    ``bootstrap_resamples``/``bootstrap_seed`` fix the paired bootstrap behind every ΔAUC bound;
    ``ece_bins`` the calibration bins; ``reason_k`` how many adverse-action reasons are compared;
    ``explain_rows``/``explain_background``/``explain_seed`` which declined applicants are
    explained (SHAP) and against which background; ``explain_budget`` caps what explaining one
    model may cost (applicants × background rows × the network's multiply-adds per applicant):
    above it both counts shrink in proportion, so every slider move's verdict stays interactive on
    a large network, and the criterion says how many were explained (``explain_sizes``).
    """

    criteria: tuple[Criterion, ...] = DEFAULT_CRITERIA
    name: str = "RiskPrune default policy"
    bootstrap_resamples: int = 200
    bootstrap_seed: int = 0
    ece_bins: int = 10
    reason_k: int = 3
    explain_rows: int = 500
    explain_background: int = 100
    explain_seed: int = 0
    explain_budget: int = 2_000_000_000
    _key: str = field(default="", init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        crit = tuple(self.criteria)
        if not all(isinstance(c, Criterion) for c in crit):
            raise _field("criteria", "must hold Criterion objects", "Build them with Criterion(...) or Policy.from_json.")
        if len(crit) > MAX_CRITERIA:
            raise _field("criteria", f"holds {len(crit)} criteria, more than {MAX_CRITERIA}", "Keep the policy short.")
        seen: set[str] = set()
        for i, c in enumerate(crit):
            if c.key in seen:
                raise _field(f"criteria[{i}].key", f"repeats '{c.key}'", "Give every criterion its own key.")
            seen.add(c.key)
        object.__setattr__(self, "criteria", crit)
        object.__setattr__(self, "name", _text(self.name, "name", 200))
        for name, (_, lo, hi, hint) in _SETTINGS.items():
            object.__setattr__(self, name, _whole(getattr(self, name), name, lo, hi, hint))
        object.__setattr__(self, "_key", digest([self.to_json(indent=None)], length=32))

    @property
    def key(self) -> str:
        """Content hash of the policy (its canonical JSON): the cache key of every verdict under it."""
        return self._key

    @property
    def enabled(self) -> tuple[Criterion, ...]:
        return tuple(c for c in self.criteria if c.enabled)

    def criterion(self, key: str) -> Criterion:
        for c in self.criteria:
            if c.key == key:
                return c
        raise SpecError(f"The policy has no criterion '{key}'.", f"Use one of: {', '.join(c.key for c in self.criteria)}.")

    def needs_metric(self, metric: str) -> bool:
        """True when an enabled criterion reads ``metric`` (expensive numbers are only computed then)."""
        return any(c.metric == metric for c in self.enabled)

    def with_criterion(self, key: str, *, enabled: bool | None = None, threshold: float | None = None) -> Policy:
        """A copy with one criterion switched on/off or given a new threshold (the dashboard's edit)."""
        self.criterion(key)
        changes: dict[str, Any] = {}
        if enabled is not None:
            changes["enabled"] = enabled
        if threshold is not None:
            changes["threshold"] = threshold
        return replace(self, criteria=tuple(replace(c, **changes) if c.key == key else c for c in self.criteria))

    def to_dict(self) -> dict:
        out: dict[str, Any] = {"riskprune_policy": POLICY_FORMAT, "name": self.name}
        out.update({name: getattr(self, name) for name in _SETTINGS})
        out["criteria"] = [c.to_dict() for c in self.criteria]
        return out

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, ensure_ascii=False, sort_keys=False)

    def to_frame(self) -> pd.DataFrame:
        """One row per criterion: group, label, rule, on/off and why (the Policy page's table)."""
        return pd.DataFrame([
            {"key": c.key, "group": c.group, "label": c.label, "metric": METRICS[c.metric].label,
             "comparator": c.comparator, "threshold": c.threshold, "rule": c.rule, "enabled": c.enabled,
             "needs": c.needs or "", "why": c.why}
            for c in self.criteria
        ], columns=["key", "group", "label", "metric", "comparator", "threshold", "rule", "enabled", "needs", "why"])

    @staticmethod
    def from_dict(data: Mapping[str, Any]) -> Policy:
        """A policy from parsed JSON; a known criterion key may give only what differs from its default."""
        if not isinstance(data, Mapping):
            raise SpecError("The policy must be a JSON object.", "Start from the file Policy.to_json() writes.")
        allowed = {"riskprune_policy", "name", "criteria", *_SETTINGS}
        unknown = sorted(set(map(str, data)) - allowed)
        if unknown:
            raise _field(unknown[0], "is not a policy setting", f"Use only: {', '.join(sorted(allowed))}.")
        version = data.get("riskprune_policy", POLICY_FORMAT)
        if version != POLICY_FORMAT:
            raise _field("riskprune_policy", f"is {version!r}; this RiskPrune reads version {POLICY_FORMAT}",
                         "Export the policy again from this version.")
        raw = data.get("criteria", [c.to_dict() for c in DEFAULT_CRITERIA])
        if not isinstance(raw, list):
            raise _field("criteria", "must be a list", "Write criteria as a JSON list of objects.")
        if len(raw) > MAX_CRITERIA:
            raise _field("criteria", f"holds {len(raw)} criteria, more than {MAX_CRITERIA}", "Keep the policy short.")
        criteria = tuple(_criterion_from(item, f"criteria[{i}]") for i, item in enumerate(raw))
        kwargs: dict[str, Any] = {name: data.get(name, default) for name, (default, *_) in _SETTINGS.items()}
        return Policy(criteria=criteria, name=data.get("name", Policy.name), **kwargs)

    @staticmethod
    def from_json(text: str | bytes) -> Policy:
        """A policy from its JSON text (the CLI's ``--policy`` file); errors name the bad field."""
        if isinstance(text, bytes):
            try:
                text = text.decode("utf-8")
            except UnicodeDecodeError:
                raise SpecError("The policy file is not UTF-8 text.", "Save it as UTF-8 JSON.") from None
        if not isinstance(text, str):
            raise SpecError("The policy is not text.", "Pass the JSON text of a policy file.")
        if len(text) > MAX_POLICY_CHARS:
            raise SpecError(f"The policy file has {len(text):,} characters; a policy has a few thousand.",
                            "Check that the right file was picked.")
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise SpecError(f"The policy file is not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}).",
                            "Start from the file Policy.to_json() writes.") from None
        return Policy.from_dict(data)


_CRITERION_FIELDS = ("key", "label", "group", "metric", "comparator", "threshold", "enabled", "unit", "why")


def _criterion_from(item: Any, path: str) -> Criterion:
    if not isinstance(item, Mapping):
        raise _field(path, "must be an object with at least a key", 'Write e.g. {"key": "score_psi", "threshold": 0.1}.')
    unknown = sorted(set(map(str, item)) - set(_CRITERION_FIELDS))
    if unknown:
        raise _field(f"{path}.{unknown[0]}", "is not a criterion field", f"Use only: {', '.join(_CRITERION_FIELDS)}.")
    if "key" not in item:
        raise _field(f"{path}.key", "is missing", "Name the criterion, e.g. 'score_psi'.")
    key = _text(item["key"], f"{path}.key", 80)
    base = _DEFAULTS_BY_KEY.get(key)
    if base is None:
        missing = [f for f in ("metric", "comparator", "threshold") if f not in item]
        if missing:
            raise _field(f"{path}.{missing[0]}", f"is missing (criterion '{key}' is not a built-in one)",
                         f"Give metric, comparator and threshold, or use a built-in key: {', '.join(_DEFAULTS_BY_KEY)}.")
    values = base.to_dict() if base is not None else {"key": key, "label": key, "unit": "", "why": "", "enabled": True}
    for name in ("label", "why", "unit", "metric", "comparator", "group"):
        if name in item:
            values[name] = _text(item[name], f"{path}.{name}")
    if "metric" in item and values["metric"] not in METRICS:
        raise _field(f"{path}.metric", f"names an unknown metric '{values['metric']}'", f"Use one of: {', '.join(METRICS)}.")
    if "group" not in values:
        values["group"] = METRICS[values["metric"]].group
    if "metric" in item and "unit" not in item:
        values["unit"] = ""  # follow the new metric's unit
    if "threshold" in item:
        values["threshold"] = _number(item["threshold"], f"{path}.threshold", "Use a number such as 0.10.")
    if "enabled" in item:
        if not isinstance(item["enabled"], bool):
            raise _field(f"{path}.enabled", f"must be true or false, not {item['enabled']!r}", "Write true or false.")
        values["enabled"] = item["enabled"]
    try:
        return Criterion(**values)
    except SpecError as err:  # name the JSON path, not only the criterion
        raise SpecError(err.message.replace(f"field {key}.", f"field {path}."), err.hint) from None


def default_policy() -> Policy:
    """The defaults a credit committee recognises (see ``DEFAULT_CRITERIA``), every criterion on."""
    return Policy()
