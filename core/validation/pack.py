"""The validation pack: every number a validator needs beside the measurement sheet, computed once.

``build_pack`` gathers, for one pruned model on its evaluation rows at one cutoff:

* the acceptance verdict under the committee's policy (``core.policy``: ``measure`` then
  ``evaluate``, which is what ``verdict_for`` does) and, when given, the recommendation search;
* the logistic-regression challenger (``challenger``) and each model's AUC / Gini / KS with intervals;
* DeLong's paired test of ΔAUC (fast and exact beside the bootstrap), rank ordering by decile or
  by the user's grade bands with its inversions, the cumulative capture (CAP / lift) curve;
* calibration: calibration-in-the-large, expected calibration error, Hosmer–Lemeshow and the
  per-grade binomial / Jeffreys tests, for the original, the pruned model and the challenger;
* seed stability when the model is fine-tuned; the score alignment's map and effect when one is set;
  the out-of-time comparison and the expected loss when their inputs are given;
* the change record: what changed, materiality, intended use, limitations, monitoring triggers,
  references and sign-off.

Every statistic is the one in ``core.metrics`` (references in their docstrings) on exactly the
rows and scores the report shows; parts that cannot be computed are recorded in ``notes`` with
the reason, never silently dropped.
"""
from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np
import pandas as pd

from core.alignment.effect import AlignmentEffect, alignment_effect
from core.alignment.fit import FIT_METRIC_LABELS
from core.errors import RiskPruneError, SpecError
from core.formatting import fmt_int, fmt_num
from core.governance.drift import OutOfTime
from core.governance.segments import SegmentSpec
from core.metrics import (
    CalibrationInTheLarge,
    Comparison,
    DecisionRule,
    DeLongResult,
    ExpectedLoss,
    GradeTests,
    HosmerLemeshow,
    RankOrdering,
    binomial_test_per_grade,
    calibration_in_the_large,
    cumulative_capture,
    delong_test,
    expected_calibration_error,
    expected_loss,
    hosmer_lemeshow,
    rank_ordering,
)
from core.metrics.decisions import DEFAULT_LGD
from core.policy import Measurements, Policy, Recommendation, Verdict, baseline_for, default_policy, evaluate, measure
from core.progress import Progress, report
from core.validation.challenger import Challenger, ChallengerSpec, ModelPerformance, challenger_for, performance
from core.validation.change_record import ChangeRecord, MaterialityPolicy, MonitoringPolicy, materiality, monitoring_triggers, reference_bins
from core.validation.seed_stability import DEFAULT_SEEDS, SeedStability, seed_stability
from core.workspace.binding import Workspace
from core.workspace.exposure import PER_APPLICANT, PER_APPLICANT_NOTE, exposure_columns, exposure_guess, exposure_values
from core.workspace.governance import OutOfTimeSample, out_of_time_for, segment_fairness_for
from core.workspace.operations import PrunedModel, Setting, as_setting, prune_workspace

MAX_GRADES = 30


@dataclass(frozen=True)
class PackOptions:
    """How the validation pack is computed; every field recorded in the manifest.

    ``challenger`` None skips the challenger; ``stability_seeds`` 0 skips seed stability (it only
    runs for fine-tuned models); ``grade_edges`` are P(bad) boundaries of the user's rating grades
    (e.g. 0.02, 0.05, 0.10, 0.20), else score deciles; ``hl_groups`` the Hosmer–Lemeshow groups.
    """

    challenger: ChallengerSpec | None = ChallengerSpec()
    stability_seeds: int = DEFAULT_SEEDS
    bands: int = 10
    grade_edges: tuple[float, ...] | None = None
    hl_groups: int = 10
    level: float = 0.95
    materiality: MaterialityPolicy = MaterialityPolicy()
    monitoring: MonitoringPolicy = MonitoringPolicy()

    def __post_init__(self) -> None:
        if isinstance(self.stability_seeds, bool) or not isinstance(self.stability_seeds, (int, np.integer)) \
                or not (self.stability_seeds == 0 or 2 <= self.stability_seeds <= 20):
            raise SpecError(f"Seed stability takes 0 (off) or 2–20 seeds (got {self.stability_seeds!r}).",
                            f"Use the default {DEFAULT_SEEDS}.")
        object.__setattr__(self, "stability_seeds", int(self.stability_seeds))
        if self.grade_edges is not None:
            edges = check_grade_edges(self.grade_edges)
            object.__setattr__(self, "grade_edges", edges)

    @property
    def key(self) -> str:
        return "|".join(["pack", self.challenger.key if self.challenger else "no challenger", str(self.stability_seeds),
                         str(self.bands), repr(self.grade_edges), str(self.hl_groups), repr(self.level),
                         self.materiality.key, self.monitoring.key])

    def to_dict(self) -> dict:
        return {"challenger": None if self.challenger is None else self.challenger.to_dict(),
                "stability_seeds": self.stability_seeds, "bands": self.bands,
                "grade_edges": None if self.grade_edges is None else list(self.grade_edges), "hl_groups": self.hl_groups,
                "level": self.level, "materiality": self.materiality.to_dict(), "monitoring": self.monitoring.to_dict()}


def check_grade_edges(edges: Sequence[float]) -> tuple[float, ...]:
    """P(bad) boundaries of a rating scale: distinct numbers strictly between 0 and 1, at most ``MAX_GRADES − 1``."""
    hint = "Give P(bad) boundaries between 0 and 1, e.g. 0.02, 0.05, 0.10, 0.20."
    if isinstance(edges, (str, bytes)):
        raise SpecError("The grade boundaries are not a list of numbers.", hint)
    try:
        vals = sorted({float(e) for e in edges})
    except (TypeError, ValueError):
        raise SpecError("The grade boundaries are not numbers.", hint) from None
    if not vals or not all(0 < v < 1 for v in vals):
        raise SpecError("Every grade boundary must lie strictly between 0 and 1.", hint)
    if len(vals) > MAX_GRADES - 1:
        raise SpecError(f"{len(vals) + 1} grades are too many for a committee table.", f"Use at most {MAX_GRADES} grades.")
    return tuple(vals)


def grades_of(scores: np.ndarray, edges: Sequence[float]) -> pd.Categorical:
    """Each applicant's grade from its P(bad): an ordered categorical, safest grade first (labels show the PD band)."""
    e = list(edges)
    labels = ([f"< {e[0]:.1%}"] + [f"{a:.1%}–{b:.1%}" for a, b in zip(e[:-1], e[1:])] + [f"≥ {e[-1]:.1%}"])
    codes = np.searchsorted(np.asarray(e), np.asarray(scores, dtype=np.float64), side="right")
    return pd.Categorical.from_codes(codes, categories=labels, ordered=True)


@dataclass(frozen=True, eq=False)
class ModelCalibration:
    """The calibration tests of one model on the evaluation rows."""

    model: str
    in_the_large: CalibrationInTheLarge
    ece: float
    hosmer_lemeshow: HosmerLemeshow | None
    grades: GradeTests
    note: str = ""  # why Hosmer–Lemeshow is missing, or a caution about it

    def to_dict(self) -> dict:
        return {"model": self.model, "in_the_large": self.in_the_large.to_dict(), "ece": self.ece,
                "hosmer_lemeshow": None if self.hosmer_lemeshow is None else self.hosmer_lemeshow.to_dict(),
                "grades": self.grades.to_dict(), "note": self.note}


@dataclass(frozen=True, eq=False)
class AlignmentSection:
    """The score map appended after pruning: what it is, its parameters, its fit rows, and before/after."""

    label: str
    description: str
    parameters: dict
    fit_rows: int
    fit_rows_bad: int
    fitted_on: str
    fit_metrics: pd.DataFrame = field(repr=False)  # on the fit rows: original, before, after
    effect: AlignmentEffect = field(repr=False)  # on the evaluation rows

    def parameters_frame(self) -> pd.DataFrame:
        p = self.parameters
        rows = []
        for k, v in p.items():
            if isinstance(v, (list, tuple)):
                v = ", ".join(f"{x:.4g}" for x in v[:12]) + (f", … ({len(v)} values)" if len(v) > 12 else "")
            rows.append({"parameter": k, "value": v})
        return pd.DataFrame(rows, columns=["parameter", "value"])

    def to_dict(self) -> dict:
        return {"label": self.label, "description": self.description, "parameters": self.parameters, "fit_rows": self.fit_rows,
                "fit_rows_bad": self.fit_rows_bad, "fitted_on": self.fitted_on,
                "effect": self.effect.to_frame().replace({np.nan: None}).to_dict(orient="records")}


def alignment_section(ws: Workspace, setting: Setting, pruned: PrunedModel, cutoff: float) -> AlignmentSection:
    """The active alignment of ``setting``: the map's description from the pruned result, and its effect here."""
    a = pruned.result.alignment
    if not setting.alignment.active or not a:
        raise SpecError("This setting has no score alignment.", "Choose an alignment in the setting first.")
    raw = prune_workspace(ws, setting.without_alignment())
    effect = alignment_effect(ws.y_eval, ws.original_scores, raw.scores, pruned.scores, cutoff=cutoff, row_ids=ws.eval_idx)
    fm = a.get("fit_metrics", {})
    keys = [k for k in FIT_METRIC_LABELS if k in fm.get("before", {})]
    fit = pd.DataFrame([{"metric": k, "label": FIT_METRIC_LABELS[k],
                         **{col: fm.get(col, {}).get(k, np.nan) for col in ("original", "before", "after")}} for k in keys],
                       columns=["metric", "label", "original", "before", "after"])
    return AlignmentSection(setting.alignment.label, str(a.get("description", "")), dict(a.get("parameters", {})),
                            int(a.get("fit_rows", 0)), int(a.get("fit_rows_bad", 0)), str(a.get("fitted_on", "")), fit, effect)


@dataclass(frozen=True, eq=False)
class ValidationPack:
    """Everything the validation sections of the report show, for one pruned model (see the module docstring)."""

    policy: Policy
    verdict: Verdict
    measurements: Measurements
    performance: tuple[ModelPerformance, ...]
    delong: DeLongResult
    rank: dict  # model → RankOrdering
    capture: pd.DataFrame = field(repr=False)
    calibration: dict = field(default_factory=dict)  # model → ModelCalibration
    change: ChangeRecord | None = None
    challenger: Challenger | None = None
    seed_stability: SeedStability | None = None
    alignment: AlignmentSection | None = None
    out_of_time: OutOfTime | None = None
    expected_loss: ExpectedLoss | None = None
    recommendation: Recommendation | None = None
    options: PackOptions = PackOptions()
    limitations: tuple[str, ...] = ()
    notes: dict = field(default_factory=dict)  # part → why it was not computed

    @property
    def materiality(self):
        return self.change.materiality

    @property
    def grade_source(self) -> str:
        return "grades" if self.options.grade_edges is not None else "score deciles"

    def performance_for(self, model: str) -> ModelPerformance:
        for p in self.performance:
            if p.model == model:
                return p
        raise KeyError(model)

    def performance_frame(self) -> pd.DataFrame:
        return pd.DataFrame([asdict(p) for p in self.performance])

    def calibration_frame(self) -> pd.DataFrame:
        """One row per model: mean PD, observed bad rate, calibration-in-the-large, ECE and Hosmer–Lemeshow."""
        rows = []
        for m, c in self.calibration.items():
            hl = c.hosmer_lemeshow
            rows.append({"model": m, "mean_pd": c.in_the_large.mean_pd, "observed_bad_rate": c.in_the_large.observed_bad_rate,
                         "difference": c.in_the_large.difference, "citl_p": c.in_the_large.p_value, "citl_method": c.in_the_large.method,
                         "ece": c.ece, "hl_statistic": None if hl is None else hl.statistic, "hl_df": None if hl is None else hl.df,
                         "hl_p": None if hl is None else hl.p_value, "hl_groups": None if hl is None else hl.groups,
                         "grades_flagged": len(c.grades.flagged)})
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        """The pack's numbers for the manifest (tables as records, NaN left to the manifest's cleaner)."""
        return {
            "options": self.options.to_dict(), "verdict": self.verdict.to_dict(),
            "materiality": self.change.materiality.to_dict() if self.change else None,
            "performance": [asdict(p) for p in self.performance], "delong": self.delong.to_dict(),
            "challenger": None if self.challenger is None else self.challenger.to_dict(),
            "rank_ordering": {m: r.to_dict() for m, r in self.rank.items()},
            "calibration": {m: c.to_dict() for m, c in self.calibration.items()},
            "seed_stability": None if self.seed_stability is None else self.seed_stability.to_dict(),
            "alignment": None if self.alignment is None else self.alignment.to_dict(),
            "out_of_time": None if self.out_of_time is None else self.out_of_time.to_frame().to_dict(orient="records"),
            "expected_loss": None if self.expected_loss is None else asdict(self.expected_loss),
            "recommendation": None if self.recommendation is None else self.recommendation.to_dict(),
            "change_record": None if self.change is None else self.change.to_dict(), "notes": dict(self.notes),
        }


def _calibration(model: str, y: np.ndarray, s: np.ndarray, options: PackOptions, ece_bins: int) -> ModelCalibration:
    grades = grades_of(s, options.grade_edges) if options.grade_edges is not None else None
    note = ""
    try:
        hl = hosmer_lemeshow(y, s, groups=options.hl_groups, in_sample=False)
        small = int((hl.table["expected_bads"] < 5).sum() + (hl.table["expected_goods"] < 5).sum())
        if small:
            note = (f"{small} Hosmer–Lemeshow cell(s) expect fewer than 5 applicants, so the χ² approximation of its "
                    "p-value is rough (Hosmer, Lemeshow & Sturdivant, 2013, §5.2.2).")
    except RiskPruneError as err:
        hl, note = None, f"Hosmer–Lemeshow not computed: {err}"
    return ModelCalibration(model, calibration_in_the_large(y, s), expected_calibration_error(y, s, bins=ece_bins), hl,
                            binomial_test_per_grade(y, s, grades=grades, bins=options.bands, level=options.level), note)


def _rank(y: np.ndarray, s: np.ndarray, options: PackOptions) -> RankOrdering:
    if options.grade_edges is not None:
        return rank_ordering(y, s, grades=grades_of(s, options.grade_edges))
    return rank_ordering(y, s, bins=options.bands)


def guess_exposure_column(ws: Workspace) -> str | None:
    """A usable column that holds the loan amount, by name (exposure, EAD, amount, balance, limit, loan), or None.

    The Decision impact page guesses with the same function (``core.workspace.exposure``).
    """
    return exposure_guess(exposure_columns(ws))


def _changes(ws: Workspace, pruned: PrunedModel, setting: Setting, comparison: Comparison) -> pd.DataFrame:
    r = pruned.result
    o, p = r.original_size, r.size
    lay = r.layer_frame()
    neurons = (" / ".join(str(int(v)) for v in lay["neurons_total"]), " / ".join(str(int(v)) for v in lay["neurons_kept"]))
    n_vars = len(dict.fromkeys(ws.data.groups))
    ft = r.fine_tuned
    rows = [
        ("Pruning", "none", f"{r.spec.label} at {r.spec.ratio:.0%} (seed {r.spec.seed})"
         + (f", per-layer {', '.join(f'{k}: {v:.0%}' for k, v in r.spec.overrides.items())}" if r.spec.overrides else "")),
        ("Result", "—", f"{r.state.upper()}: {r.state_note}"),
        ("Neurons per Linear layer", neurons[0], neurons[1]),
        ("Linear weights (non-zero)", fmt_int(lay["total_weights"].sum()), fmt_int(lay["nonzero_weights"].sum())),
        ("Stored parameters", fmt_int(o.parameters), fmt_int(p.parameters)),
        ("Non-zero parameters", fmt_int(o.nonzeros), fmt_int(p.nonzeros)),
        ("TorchScript file bytes", fmt_int(o.file_bytes), fmt_int(p.file_bytes)),
        ("Input variables used", fmt_int(n_vars), fmt_int(n_vars - len(r.dropped_variables))
         + (f" (removed: {', '.join(r.dropped_variables)})" if r.dropped_variables else "")),
        ("Fine-tuning", "—", "none" if not ft else f"{ft['epochs']} epochs, learning rate {ft['learning_rate']}, seed {ft['seed']}, "
                                                     f"{fmt_int(ft['rows'])} training rows"),
        ("Score alignment", "—", setting.alignment.label if setting.alignment.active else "none"),
        ("Decision cutoff", fmt_num(comparison.cutoff.cutoff), f"{fmt_num(comparison.cutoff.cutoff)} (unchanged; {comparison.cutoff.how})"),
    ]
    return pd.DataFrame(rows, columns=["item", "before", "after"])


def _intended_use(ws: Workspace, comparison: Comparison) -> str:
    n_vars = len(dict.fromkeys(ws.data.groups))
    return (f"The pruned model replaces the original only for what the original was approved for: the same product and "
            f"applicant population, the same outcome definition ({ws.data.target} = '{ws.data.bad_value}' as bad), the same "
            f"{ws.model.n_inputs} inputs from {n_vars} variables prepared the same way, and decisions at the cutoff "
            f"{comparison.cutoff.cutoff:.4f} ({comparison.cutoff.how}). Any other use — another product, population, "
            "channel, cutoff strategy, or using its PDs for pricing or provisioning — needs its own validation.")


def _limitations(ws: Workspace, pruned: PrunedModel, setting: Setting, pack_parts: dict, notes: dict, verdict: Verdict,
                 options: PackOptions) -> tuple[str, ...]:
    out = []
    ch: Challenger | None = pack_parts.get("challenger")
    if ch is not None and ch.how == "cross-validated":
        out.append("The challenger's scores are cross-validated on the evaluation rows (there are no training rows); they "
                   "are out-of-fold but come from the same rows the networks are judged on.")
    for part, why in notes.items():
        out.append(f"Not computed — {part}: {why}")
    na = [r.label for r in verdict.results if r.status == "not applicable"]
    if na:
        out.append(f"Criteria not applicable, so not judged: {', '.join(na)}.")
    if pack_parts.get("out_of_time") is None:
        out.append("No out-of-time sample was given: stability over time and under a changed applicant mix is not assessed.")
    if pruned.result.fine_tuned is None:
        out.append("The model is not fine-tuned, so seed stability of fine-tuning does not apply"
                   + ("; random pruning depends on its seed and only seed " f"{pruned.result.spec.seed} was measured."
                      if pruned.result.spec.method == "random" else "."))
    out.append("The calibration tests (binomial, Jeffreys, Hosmer–Lemeshow) treat defaults as independent given the PD; "
               "correlated defaults make the true p-values larger than shown (BCBS Working Paper 14, 2005, §5).")
    n_bad = int(ws.y_eval.sum())
    if n_bad < 100:
        out.append(f"Only {n_bad} bad outcomes are evaluated: intervals are wide and per-grade tests have little power.")
    el = pack_parts.get("expected_loss")
    if el is None:
        out.append("Expected loss is not shown.")
    elif el.exposure_column == PER_APPLICANT:
        out.append(f"No usable exposure (loan amount) column was found: {PER_APPLICANT_NOTE}; money amounts are not assessed.")
    return tuple(out)


def build_pack(ws: Workspace, setting: Setting, pruned: PrunedModel, comparison: Comparison, *, rule: DecisionRule | None = None,
               policy: Policy | None = None, options: PackOptions = PackOptions(),
               segments: Sequence[str | SegmentSpec] = (), oot: OutOfTimeSample | None = None,
               recommendation: Recommendation | None = None, exposure_column: str | None = None, lgd: float = DEFAULT_LGD,
               progress: Progress | None = None) -> ValidationPack:
    """Compute the validation pack; ``ws`` is the setting's evaluation workspace, ``comparison`` the report's.

    ``rule`` is the report's decision rule (the verdict is judged at the same cutoff);
    ``exposure_column`` "" skips expected loss, None guesses it by name.
    """
    setting = as_setting(setting)
    policy = policy if policy is not None else default_policy()
    rule = rule if rule is not None else DecisionRule(cutoff=comparison.cutoff.cutoff)
    y, so, sp = ws.y_eval, ws.original_scores, pruned.scores
    cutoff = comparison.cutoff.cutoff
    notes: dict[str, str] = {}
    say = lambda text: report(progress, 0, 0, text)

    say(f"acceptance verdict under '{policy.name}'")
    base = baseline_for(ws, policy, decision=rule, segments=segments, oot=None if oot is None else oot.frame)
    m = measure(ws, pruned, base)
    verdict = evaluate(policy, m)

    parts: dict = {}
    challenger = None
    if options.challenger is not None:
        say("challenger: logistic regression on the same inputs")
        try:
            challenger = challenger_for(ws, pruned, options.challenger)
        except RiskPruneError as err:
            notes["challenger"] = str(err)
    parts["challenger"] = challenger
    level = options.level
    if challenger is not None:
        perf = tuple(challenger.performance)
    else:
        seed = options.challenger.seed if options.challenger else 0
        perf = (performance(y, so, "original", level=level, seed=seed), performance(y, sp, "pruned", level=level, seed=seed))

    say("DeLong test, rank ordering, calibration tests")
    delong = delong_test(y, so, sp, level=level)
    rank = {"original": _rank(y, so, options), "pruned": _rank(y, sp, options)}
    cap = cumulative_capture(y, so)[["share_of_applicants", "share_of_bads_captured", "random", "perfect"]]
    capture = pd.DataFrame({"share_of_applicants": cap["share_of_applicants"], "original": cap["share_of_bads_captured"],
                            "pruned": cumulative_capture(y, sp)["share_of_bads_captured"]})
    if challenger is not None:
        capture["challenger"] = cumulative_capture(y, challenger.scores)["share_of_bads_captured"]
    capture["random"], capture["perfect"] = cap["random"], cap["perfect"]
    models = {"original": so, "pruned": sp, **({"challenger": challenger.scores} if challenger is not None else {})}
    calibration = {k: _calibration(k, y, s, options, policy.ece_bins) for k, s in models.items()}

    stability = None
    if setting.fine_tune is not None and options.stability_seeds:
        say(f"seed stability: fine-tuning with {options.stability_seeds} seeds")
        try:
            stability = seed_stability(ws, setting, DecisionRule(cutoff=cutoff), k=options.stability_seeds, progress=progress)
        except RiskPruneError as err:
            notes["seed stability"] = str(err)

    align = None
    if setting.alignment.active:
        try:
            align = alignment_section(ws, setting, pruned, cutoff)
        except RiskPruneError as err:
            notes["score alignment"] = str(err)

    oot_result = None
    if oot is not None:
        say(f"out-of-time sample {oot.name}")
        try:
            oot_result = out_of_time_for(ws, pruned, oot, cutoff)
        except RiskPruneError as err:
            notes["out-of-time comparison"] = str(err)
    parts["out_of_time"] = oot_result

    el = None
    column = (guess_exposure_column(ws) or PER_APPLICANT) if exposure_column is None else (exposure_column or None)
    if column is not None:
        try:
            el = expected_loss(y, so, sp, exposure_values(ws, column), cutoff=cutoff, lgd=lgd, exposure_column=column)
        except RiskPruneError as err:
            notes["expected loss"] = str(err)
    parts["expected_loss"] = el

    originals = {}
    segs = tuple(base.segments)
    min_air = None
    if segs:
        try:
            f = segment_fairness_for(ws, pruned, cutoff, segs).to_frame()
            originals["min_air"] = float(f["air_original"].min())
            min_air = float(f["air_pruned"].min())
        except RiskPruneError as err:
            notes["segment fairness"] = str(err)
    mat = materiality(verdict, options.materiality, dropped_variables=pruned.result.dropped_variables,
                      fine_tuned=pruned.result.fine_tuned is not None, aligned=setting.alignment.active, originals=originals)
    p_perf = next(p for p in perf if p.model == "pruned")
    ch_auc = challenger.result("challenger").auc if challenger is not None else None
    triggers = monitoring_triggers(
        options.monitoring, auc_pruned=comparison.pruned.auc, auc_low=p_perf.auc_low, challenger_auc=ch_auc,
        approval_rate=comparison.pruned.approval_rate, cutoff=cutoff, mean_pd=comparison.pruned.mean_pd,
        bad_rate=comparison.pruned.bad_rate, citl_p=calibration["pruned"].in_the_large.p_value,
        min_air=min_air if min_air is not None and math.isfinite(min_air) else None, n_eval=len(y))
    limitations = _limitations(ws, pruned, setting, parts, notes, verdict, options)
    change = ChangeRecord(_changes(ws, pruned, setting, comparison), mat, _intended_use(ws, comparison), limitations, triggers,
                          reference_bins(sp), options.monitoring)
    return ValidationPack(policy, verdict, m, perf, delong, rank, capture, calibration, change, challenger, stability, align,
                          oot_result, el, recommendation, options, limitations, notes)
