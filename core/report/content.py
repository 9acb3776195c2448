"""What the committee report says, computed once and rendered four times (HTML, PDF, DOCX and the slide deck).

Every number in any of them comes from a ``ReportContent`` built from the engine's own results
(workspace, pruned model, comparison, sweep, importance shift, governance and the validation pack
of ``core.validation``), and is formatted here or by ``core.formatting``, so the HTML, the PDF, the
Word document, the deck, the manifest and the dashboard can never disagree on a figure. Charts are
drawn once per content (``ReportContent.chart``) and the same PNG bytes go into the PDF, the DOCX
and the deck.
"""
from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np
import pandas as pd

from core.explain.shift import ImportanceShift
from core.formatting import display_frame, fmt_cell, fmt_int, fmt_num, fmt_pct, fmt_signed, shown
from core.governance.reasons import ReasonStability
from core.governance.segments import SegmentFairness
from core.hashing import sha256_hex
from core.metrics.comparison import METRIC_LABELS, Comparison
from core.metrics.stability import psi_bands_text
from core.policy.verdict import DISABLED, FAILED, NOT_APPLICABLE, PASSED
from core.prune.result import COMPACTED
from core.prune.sweep import SweepResult
from core.report.manifest import package_versions, utc_now
from core.validation import MODEL_LABELS, ValidationPack
from core.workspace.binding import EVAL_HOLDOUT, EVAL_SEPARATE_FILE, EVAL_SPLIT_COLUMN, Workspace
from core.workspace.operations import PrunedModel

# The order a validator reads: verdict → alternatives → change → data → performance → rank ordering →
# calibration → stability → explanations → fairness → decisions → limitations → monitoring → sign-off → glossary → appendix.
SECTIONS = (
    ("summary", "Summary verdict"),
    ("tradeoffs", "Candidates considered"),
    ("change", "What changed"),
    ("alignment", "Score alignment"),
    ("data", "Data"),
    ("performance", "Performance vs challenger"),
    ("rank", "Rank ordering"),
    ("calibration", "Calibration"),
    ("stability", "Stability"),
    ("explain", "Explanations and adverse-action reasons"),
    ("fairness", "Fairness"),
    ("decisions", "Decisions and expected loss"),
    ("limitations", "Limitations"),
    ("monitoring", "Monitoring triggers"),
    ("signoff", "Sign-off and references"),
    ("glossary", "Glossary"),
    ("appendix", "Appendix: settings, versions, hashes"),
)
PACK_SECTIONS = {"rank", "calibration", "monitoring", "alignment"}  # only with a validation pack
FAIRNESS_TITLE, REASONS_TITLE = "Segment fairness", "Adverse-action reason stability"
STATUS_WORDS = {PASSED: "pass", FAILED: "FAIL", NOT_APPLICABLE: "not applicable", DISABLED: "off"}


# Every RiskMetrics field, in display order, with its label.
METRIC_ROWS = (
    ("n", "Applicants evaluated"), ("n_bad", "Bad outcomes"), ("bad_rate", "Observed bad rate"),
    *((k, v) for k, v in METRIC_LABELS.items() if k not in ("approval_rate", "approved_bad_rate", "mean_pd")),
    ("cutoff", "Cutoff (decline at P(bad) ≥)"), ("approval_rate", METRIC_LABELS["approval_rate"]),
    ("approved_bad_rate", METRIC_LABELS["approved_bad_rate"]), ("mean_pd", METRIC_LABELS["mean_pd"]),
)
COUNT_METRICS = {"n", "n_bad"}


def fmt_metric(key: str, value: Any) -> str:
    return fmt_int(value) if key in COUNT_METRICS else fmt_num(value)


def governance_tables(governance: Any) -> list[tuple[str, pd.DataFrame, str]]:
    """(title, table, note) triples from any governance result.

    Accepted: a mapping title → object, a list of objects, one object with ``to_frame()``, or an
    object whose attributes have ``to_frame()`` (or are DataFrames). Nothing is invented: an
    object without tables contributes nothing.
    """
    if governance is None:
        return []
    if isinstance(governance, Mapping):
        items = list(governance.items())
    elif isinstance(governance, (list, tuple)):
        items = [(str(getattr(o, "title", type(o).__name__)), o) for o in governance]
    elif hasattr(governance, "to_frame"):
        items = [(str(getattr(governance, "title", type(governance).__name__)), governance)]
    else:
        attrs = vars(governance) if hasattr(governance, "__dict__") else {
            n: getattr(governance, n) for n in getattr(governance, "__dataclass_fields__", {})}
        items = [(n.replace("_", " ").capitalize(), v) for n, v in attrs.items()
                 if isinstance(v, pd.DataFrame) or hasattr(v, "to_frame")]
    out = []
    for title, obj in items:
        if obj is None:
            continue
        frame = obj if isinstance(obj, pd.DataFrame) else obj.to_frame() if hasattr(obj, "to_frame") else None
        if frame is None:
            continue
        note = getattr(obj, "note", "") if not isinstance(obj, pd.DataFrame) else ""
        out.append((str(title), pd.DataFrame(frame).reset_index(drop=True), str(note or "")))
    return out


@dataclass(frozen=True, eq=False)
class ReportContent:
    """Everything the report shows; frames are raw numbers, ``display_*`` give the printed text."""

    model_name: str
    data_name: str
    created_utc: str
    model_sha256: str
    data_sha256: str | None
    data_fingerprint: str
    n_rows: int
    n_eval: int
    n_train: int
    eval_mode: str
    split_seed: int
    split_note: str
    output_label: str
    n_inputs: int
    target: str
    bad_value: str
    method: str
    method_label: str
    ratio: float
    overrides: dict
    prune_seed: int
    state: str
    state_note: str
    fine_tuned: dict | None
    dropped_variables: tuple[str, ...]
    size: pd.DataFrame = field(repr=False)  # quantity, original, pruned, change
    layers: pd.DataFrame = field(repr=False)  # per-layer stats
    comparison: Comparison = field(repr=False)
    original_scores: np.ndarray = field(repr=False)
    pruned_scores: np.ndarray = field(repr=False)
    sweep_table: pd.DataFrame | None = field(default=None, repr=False)
    sweep_settings: dict = field(default_factory=dict)
    chosen_point: dict = field(default_factory=dict)  # nonzeros, file_bytes, auc of the reported model
    shift: ImportanceShift | None = field(default=None, repr=False)
    explain_settings: dict = field(default_factory=dict)
    governance: tuple = ()  # (title, frame, note)
    settings: dict = field(default_factory=dict)
    seeds: dict = field(default_factory=dict)
    summary: dict = field(default_factory=dict)
    limitations: tuple[str, ...] = ()
    eval_rows_text: str = ""  # which rows evaluate, in words (settings table)
    evaluation_warning: str | None = None  # all rows of a file that may hold training rows
    missing_text: str = ""  # the missing-value choice and what it did to the rows
    target_rule: str = ""
    pack: ValidationPack | None = field(default=None, repr=False)
    fairness: SegmentFairness | None = field(default=None, repr=False)
    reasons: ReasonStability | None = field(default=None, repr=False)
    versions: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()  # statements about how the numbers relate (e.g. the verdict's own bootstrap)
    dropped_fills: tuple[tuple[str, str, str], ...] = ()  # (variable, value fed in its place, where it comes from)

    @property
    def title(self) -> str:
        return f"Pruning proposal: {self.model_name}"

    @property
    def sections(self) -> list[tuple[str, str]]:
        """Sections this report has: candidates only with a sweep or a recommendation, pack sections only with a pack."""
        def present(sid: str) -> bool:
            if sid == "tradeoffs":
                return self.sweep_table is not None or (self.pack is not None and self.pack.recommendation is not None)
            if sid == "alignment":
                return self.pack is not None and self.pack.alignment is not None
            return self.pack is not None or sid not in PACK_SECTIONS
        return [(sid, name) for sid, name in SECTIONS if present(sid)]

    # ---- charts: drawn once, the same PNG bytes in the PDF, the DOCX and the deck

    @cached_property
    def _cache(self) -> dict:
        """What renderers share: chart PNGs by name, and the document (``core.report.document``) under "document"."""
        return {}

    def chart(self, name: str) -> bytes:
        """PNG bytes of one chart (``core.report.charts``), drawn on first use and kept with this content."""
        from core.report import charts

        key = f"chart:{name}"
        if key not in self._cache:
            self._cache[key] = charts.draw(self, name)
        return self._cache[key]

    def has_chart(self, name: str) -> bool:
        from core.report import charts

        d = charts.chart_data(self, name)
        return d is not None and len(d) > 0

    @property
    def fairness_frame(self) -> pd.DataFrame | None:
        return None if self.fairness is None else self.fairness.to_frame()

    # ---- tables as printed

    def metrics_frame(self) -> pd.DataFrame:
        o, p = self.comparison.original.to_dict(), self.comparison.pruned.to_dict()
        return pd.DataFrame([{"metric": k, "label": label, "original": o[k], "pruned": p[k], "change": p[k] - o[k]}
                             for k, label in METRIC_ROWS])

    def display_metrics(self) -> pd.DataFrame:
        rows = []
        for r in self.metrics_frame().itertuples(index=False):
            fmt = fmt_int if r.metric in COUNT_METRICS else fmt_num
            chg = (f"{int(r.change):+,}" if r.metric in COUNT_METRICS else shown(r.metric, r.change, fmt_signed))
            rows.append({"Metric": r.label, "Original": shown(r.metric, r.original, fmt), "Pruned": shown(r.metric, r.pruned, fmt),
                         "Change": chg})
        return pd.DataFrame(rows)

    def display_size(self) -> pd.DataFrame:
        labels = {"parameters": "Stored parameters", "nonzeros": "Non-zero parameters", "dense_bytes": "Tensor bytes",
                  "file_bytes": "TorchScript file bytes", "multiply_adds": "Multiply-adds per applicant"}
        rows = []
        for r in self.size.itertuples(index=False):
            share = r.change / r.original if r.original else float("nan")
            rows.append({"Quantity": labels.get(r.quantity, r.quantity), "Original": fmt_int(r.original),
                         "Pruned": fmt_int(r.pruned), "Change": f"{int(r.change):+,}", "Change %": fmt_pct(share)})
        return pd.DataFrame(rows)

    def display_layers(self) -> pd.DataFrame:
        f = self.layers
        extra = {}
        if "block" in f:  # every weight matrix of any architecture, with what happened to it
            extra = {"Block": f["block"].astype(str), "Kind": f["kind"].astype(str), "State": f["state"].astype(str)}
        return pd.DataFrame({
            **extra,
            "Layer": (f["label"] if "label" in f else f["layer"]).astype(str), "Weights": [fmt_int(v) for v in f["total_weights"]],
            "Non-zero": [fmt_int(v) for v in f["nonzero_weights"]], "Sparsity": [fmt_pct(v) for v in f["sparsity"]],
            "Neurons kept": [f"{int(a)}/{int(b)}" for a, b in zip(f["neurons_kept"], f["neurons_total"])],
            "Inputs kept": [f"{int(a)}/{int(b)}" for a, b in zip(f["inputs_kept"], f["inputs_total"])],
        })

    def display_fills(self) -> pd.DataFrame:
        """Each variable the pruned model no longer reads, with the value fed in its place inside the model."""
        return pd.DataFrame([{"Variable": v, "Value fed in its place": value, "Where the value comes from": how}
                             for v, value, how in self.dropped_fills])

    def display_ci(self) -> pd.DataFrame:
        rows = []
        for m, c in self.comparison.ci.items():
            rows.append({"Metric": METRIC_LABELS.get(m, m), "Change": fmt_signed(c.delta), "95% CI low": fmt_signed(c.low),
                         "95% CI high": fmt_signed(c.high), "Resamples": fmt_int(c.resamples), "Seed": str(c.seed),
                         "Excludes 0": "yes" if c.excludes_zero else "no"})
        return pd.DataFrame(rows)

    def display_flips(self) -> pd.DataFrame:
        f = self.comparison.flips.summary_frame()
        n = self.comparison.flips.n
        return pd.DataFrame({"Change": f["change"], "Applicants": [fmt_int(v) for v in f["applicants"]],
                             "Share of evaluated": [fmt_pct(v / n if n else float("nan"), 2) for v in f["applicants"]],
                             "Effect": f["effect"]})

    def display_decisions(self) -> pd.DataFrame:
        o, p = self.comparison.original, self.comparison.pruned
        rows = [("approval_rate", "Approval rate", o.approval_rate, p.approval_rate),
                ("approved_bad_rate", "Bad rate of approved", o.approved_bad_rate, p.approved_bad_rate),
                ("decline_rate", "Decline rate", 1 - o.approval_rate, 1 - p.approval_rate)]
        pct = lambda v: fmt_pct(v, 2)
        return pd.DataFrame([{"Quantity": q, "Original": shown(k, a, pct), "Pruned": shown(k, b, pct),
                              "Change": shown(k, (b - a) * 100, lambda v: f"{v:+.2f} pp")} for k, q, a, b in rows])

    def display_psi(self) -> pd.DataFrame:
        t = self.comparison.psi.table
        return pd.DataFrame({"Bin": [str(int(b)) for b in t["bin"]],
                             "P(bad) from": [fmt_num(v) if np.isfinite(v) else "−∞" for v in t["lower"]],
                             "P(bad) to": [fmt_num(v) if np.isfinite(v) else "+∞" for v in t["upper"]],
                             "Original share": [fmt_pct(v, 2) for v in t["expected_share"]],
                             "Pruned share": [fmt_pct(v, 2) for v in t["actual_share"]],
                             "Contribution": [fmt_num(v) for v in t["contribution"]]})

    def display_shift(self, top: int | None = None) -> pd.DataFrame:
        if self.shift is None:
            return pd.DataFrame()
        t = self.shift.table
        level = self.shift.level
        if top is not None:
            t = t[(t["rank_original"] <= top) | t["flagged"]]
        return pd.DataFrame({
            level.capitalize(): t[level].astype(str),
            "Mean |SHAP| original": [fmt_num(v) for v in t["importance_original"]],
            "Mean |SHAP| pruned": [fmt_num(v) for v in t["importance_pruned"]],
            "Share original": [fmt_pct(v) for v in t["share_original"]],
            "Share pruned": [fmt_pct(v) for v in t["share_pruned"]],
            "Rank": [f"{int(a)} → {int(b)}" for a, b in zip(t["rank_original"], t["rank_pruned"])],
            "Flag": [r if f else "" for f, r in zip(t["flagged"], t["flag_reason"])],
        })

    def display_settings(self) -> pd.DataFrame:
        return pd.DataFrame([{"Setting": k, "Value": v} for k, v in self.settings_rows()])

    def settings_rows(self) -> list[tuple[str, str]]:
        ft = self.fine_tuned
        rows = [
            ("Pruning method", f"{self.method_label} ({self.method})"),
            ("Ratio removed", fmt_pct(self.ratio, 1)),
            ("Per-layer overrides", ", ".join(f"{k}: {fmt_pct(v)}" for k, v in self.overrides.items()) or "none"),
            ("Pruning seed", str(self.prune_seed)),
            ("Result", f"{self.state.upper()} — {self.state_note}"),
            ("Fine-tuning", "no" if not ft else
             f"yes: {ft['epochs']} epochs, learning rate {ft['learning_rate']}, batch {ft['batch_size']}, "
             f"seed {ft['seed']}, {fmt_int(ft['rows'])} training rows"),
            ("Evaluation rows", f"{fmt_int(self.n_eval)} of {fmt_int(self.n_rows)} — {self.eval_rows_text or self.eval_mode}"
                                + (f"; split seed {self.split_seed}" if self.eval_mode == EVAL_HOLDOUT else "")),
            *((("Evaluation warning", self.evaluation_warning),) if self.evaluation_warning else ()),
            *((("Outcome", self.target_rule),) if self.target_rule else ()),
            *((("Missing values", self.missing_text),) if self.missing_text else ()),
            ("Model output", self.output_label),
            ("Cutoff", f"{fmt_num(self.comparison.cutoff.cutoff)} — {self.comparison.cutoff.how}"),
        ]
        if self.comparison.ci:
            c = next(iter(self.comparison.ci.values()))
            rows.append(("Bootstrap", f"{fmt_int(c.resamples)} paired resamples, seed {c.seed}, {c.level:.0%} percentile intervals"))
        if self.explain_settings:
            e = self.explain_settings
            rows.append(("SHAP sample", f"{fmt_int(e.get('rows'))} explained rows, {fmt_int(e.get('background'))} background rows, "
                                        f"seed {e.get('seed')}, {e.get('explainer', '')}"))
        if self.sweep_settings:
            s = self.sweep_settings
            rows.append(("Sweep", f"{len(s.get('methods', []))} methods × {len(s.get('ratios', []))} ratios, seed {s.get('seed')}"))
        if self.dropped_variables:
            rows.append(("Variables removed", ", ".join(self.dropped_variables)))
        if self.dropped_fills:
            rows.append(("Values fed in their place", "; ".join(f"{v} = {value} ({how})" for v, value, how in self.dropped_fills)))
        return rows


    # ---- the validation pack as printed (every renderer prints these frames)

    def display_verdict(self) -> pd.DataFrame:
        v = self.pack.verdict
        return pd.DataFrame([{"Group": r.group, "Criterion": r.label, "Value": r.value_text if r.status != NOT_APPLICABLE else "—",
                              "Limit": r.rule, "Status": STATUS_WORDS.get(r.status, r.status)} for r in v.results])

    def display_policy(self) -> pd.DataFrame:
        return pd.DataFrame([{"Criterion": c.label, "Rule": c.rule, "On": "yes" if c.enabled else "no", "Why": c.why}
                             for c in self.pack.policy.criteria])

    def policy_settings_text(self) -> str:
        p = self.pack.policy
        return (f"Policy “{p.name}” (key {p.key[:12]}): ΔAUC bounds from {p.bootstrap_resamples} paired bootstrap resamples "
                f"(seed {p.bootstrap_seed}); ECE over {p.ece_bins} equal-count bins; top-{p.reason_k} adverse-action reasons of "
                f"up to {p.explain_rows} declined applicants against {p.explain_background} background rows (seed {p.explain_seed}), "
                f"both reduced in proportion where explaining one model would cost more than {p.explain_budget:.2g} multiply-adds "
                "(the criterion's note gives the counts used).")

    def display_candidates(self) -> pd.DataFrame:
        rec = self.pack.recommendation
        f = rec.method_frame()
        rows = []
        for r in f.itertuples(index=False):
            best = "none passes" if r.best_ratio is None or (isinstance(r.best_ratio, float) and math.isnan(r.best_ratio)) \
                else f"{r.best_ratio:.0%} (seed {int(r.best_seed)})"
            why = r.blocked_by or (f"stopped at {r.stopped_at:.0%}: {r.stopped_by}" if r.stopped_by else "")
            rows.append({"Method": r.method_label, "Largest passing ratio": best,
                         "Size": fmt_int(r.best_size) if best != "none passes" else "—",
                         "ΔAUC": fmt_signed(r.best_delta_auc) if best != "none passes" else "—",
                         "Tried": fmt_int(r.tried), "Why not further / rejected": why or r.note or "—"})
        return pd.DataFrame(rows)

    def display_changes(self) -> pd.DataFrame:
        return self.pack.change.changes.rename(columns={"item": "Item", "before": "Original", "after": "Pruned"})

    def display_materiality(self) -> pd.DataFrame:
        f = self.pack.materiality.margins
        return pd.DataFrame({"Criterion": f["label"], "Value": f["value_text"], "Limit": f["rule"],
                             "No-change value": [fmt_num(v, 4) for v in f["no_change_value"]],
                             "Allowance left": [fmt_pct(v, 0) if v == v else "undefined: no allowance" for v in f["unused_share"]],
                             "With margin": ["yes" if b else "no" for b in f["with_margin"]]})

    def display_materiality_policy(self) -> pd.DataFrame:
        return self.pack.materiality.policy.to_frame().rename(columns={"setting": "Materiality threshold", "value": "Value"})

    def display_data(self) -> pd.DataFrame:
        c = self.comparison.original
        rows = [("Dataset", self.data_name), ("Rows supplied", fmt_int(self.n_rows)),
                ("Evaluation rows", f"{fmt_int(self.n_eval)} ({self.eval_mode}; split seed {self.split_seed})"),
                ("Training rows", fmt_int(self.n_train) if self.n_train else "none (every row is evaluated)"),
                ("Outcome", f"{self.target} = '{self.bad_value}' counts as bad"),
                ("Bad outcomes evaluated", f"{fmt_int(c.n_bad)} of {fmt_int(c.n)} ({fmt_pct(c.bad_rate, 1)})"),
                ("Model inputs", fmt_int(self.n_inputs)), ("Model output", self.output_label), ("Rows used", self.split_note)]
        if self.missing_text:
            rows.append(("Missing values", self.missing_text))
        if self.pack is not None and self.pack.challenger is not None:
            rows.append(("Challenger rows", self.pack.challenger.note))
        return pd.DataFrame(rows, columns=["Item", "Value"])

    def display_performance(self) -> pd.DataFrame:
        lv = f"{self.pack.options.level:.0%}"
        return pd.DataFrame([{"Model": p.label, "AUC": fmt_num(p.auc), f"AUC {lv} CI": f"{fmt_num(p.auc_low)} – {fmt_num(p.auc_high)}",
                              "Gini": fmt_num(p.gini), f"Gini {lv} CI": f"{fmt_num(p.gini_low)} – {fmt_num(p.gini_high)}",
                              "KS": fmt_num(p.ks), f"KS {lv} CI": f"{fmt_num(p.ks_low)} – {fmt_num(p.ks_high)}"}
                             for p in self.pack.performance])

    def display_challenger_tests(self) -> pd.DataFrame:
        return pd.DataFrame([{"Network": MODEL_LABELS[j.model], "AUC network": fmt_num(j.test.auc_b),
                              "AUC challenger": fmt_num(j.test.auc_a), "Difference": fmt_signed(j.test.delta),
                              "95% CI": f"{fmt_signed(j.test.low)} to {fmt_signed(j.test.high)}", "DeLong p": f"{j.test.p_value:.3g}",
                              "Complexity": j.outcome} for j in self.pack.challenger.justification])

    def display_coefficients(self, top: int = 10) -> pd.DataFrame:
        f = self.pack.challenger.coefficients.head(top)
        return pd.DataFrame({"Input": f["input"], "Coefficient (per SD)": [fmt_signed(v) for v in f["coefficient"]],
                             "Odds ratio": [fmt_num(v, 3) for v in f["odds_ratio"]]})

    def display_delong(self) -> pd.DataFrame:
        d = self.pack.delong
        lv = f"{d.level:.0%}"
        rows = [("AUC original → pruned", f"{fmt_num(d.auc_a)} → {fmt_num(d.auc_b)}"), ("ΔAUC (pruned − original)", fmt_signed(d.delta)),
                ("Standard error", fmt_num(d.se)), ("z", fmt_num(d.z, 3)), ("p-value (two-sided)", f"{d.p_value:.4g}"),
                (f"{lv} CI of ΔAUC", f"{fmt_signed(d.low)} to {fmt_signed(d.high)}"),
                ("Correlation of the two AUCs", fmt_num(d.correlation, 3))]
        ci = self.comparison.ci.get("auc")
        if ci is not None:
            rows.append((f"Bootstrap {ci.level:.0%} CI (beside it)", f"{fmt_signed(ci.low)} to {fmt_signed(ci.high)} "
                                                                 f"({fmt_int(ci.resamples)} paired resamples, seed {ci.seed})"))
        return pd.DataFrame(rows, columns=["DeLong test", "Value"])

    def display_rank(self) -> pd.DataFrame:
        o, p = (self.pack.rank[m].to_frame() for m in ("original", "pruned"))
        cols = {"applicants": "Applicants", "bads": "Bads", "bad_rate": "Bad rate", "mean_pd": "Mean PD"}
        merged = o.merge(p, on="band", how="outer", suffixes=("_o", "_p"), sort=False)
        out = {"Band": merged["band"].astype(str)}
        for m, suf in (("original", "_o"), ("pruned", "_p")):
            for k, label in cols.items():
                v = merged[k + suf]
                out[f"{label} ({m})"] = ["—" if x != x else fmt_pct(x, 1) if k in ("bad_rate", "mean_pd") else fmt_int(x)
                                         for x in v]  # "—": this model puts nobody in the band
            out[f"Inversion ({m})"] = ["▼" if x is True else "" for x in merged["inversion" + suf]]
        return pd.DataFrame(out)

    def display_lift(self, shares: tuple[float, ...] = (0.05, 0.1, 0.2, 0.3, 0.5)) -> pd.DataFrame:
        """Captured share of bads and lift (captured share ÷ share of applicants) when taking the riskiest first."""
        cap = self.pack.capture
        x = cap["share_of_applicants"].to_numpy()
        models = [m for m in ("original", "pruned", "challenger") if m in cap]
        rows = []
        for share in shares:
            i = int(np.argmin(np.abs(x - share)))
            row = {"Riskiest applicants": fmt_pct(x[i], 0)}
            for m in models:
                v = float(cap[m].iloc[i])
                row[f"Bads captured ({m})"] = fmt_pct(v, 1)
                row[f"Lift ({m})"] = fmt_num(v / x[i], 2) if x[i] > 0 else "undefined"
            rows.append(row)
        return pd.DataFrame(rows)

    def display_inversions(self) -> pd.DataFrame:
        rows = []
        for m, r in self.pack.rank.items():
            for i in r.inversions:
                rows.append({"Model": m, "Bands": f"{i.safer} → {i.riskier}", "Bad rate": f"{fmt_pct(i.safer_bad_rate)} → "
                             f"{fmt_pct(i.riskier_bad_rate)}", "Fall": fmt_pct(i.gap), "Fisher p (one-sided)": f"{i.p_value:.3g}"})
        return pd.DataFrame(rows, columns=["Model", "Bands", "Bad rate", "Fall", "Fisher p (one-sided)"])

    def display_calibration(self) -> pd.DataFrame:
        rows = []
        for m, c in self.pack.calibration.items():
            t, hl = c.in_the_large, c.hosmer_lemeshow
            rows.append({"Model": MODEL_LABELS.get(m, m), "Mean PD": fmt_pct(t.mean_pd, 2), "Observed bad rate": fmt_pct(t.observed_bad_rate, 2),
                         "In the large p": f"{t.p_value:.3g} ({t.direction})", "ECE": fmt_num(c.ece),
                         "Hosmer–Lemeshow Ĉ": "not computed" if hl is None else f"{fmt_num(hl.statistic, 2)} (df {hl.df})",
                         "HL p": "—" if hl is None else f"{hl.p_value:.3g}",
                         "Grades with PD too low": f"{len(c.grades.flagged)} of {len(c.grades.table)}"})
        return pd.DataFrame(rows)

    def display_grades(self, model: str) -> pd.DataFrame:
        g = self.pack.calibration[model].grades.table
        return pd.DataFrame({"Grade": g["grade"].astype(str), "Applicants": [fmt_int(v) for v in g["applicants"]],
                             "Bads": [fmt_int(v) for v in g["bads"]], "Observed": [fmt_pct(v, 1) for v in g["observed_bad_rate"]],
                             "Mean PD": [fmt_pct(v, 1) for v in g["mean_pd"]], "Binomial p": [f"{v:.3g}" for v in g["binomial_p"]],
                             "Jeffreys p": [f"{v:.3g}" for v in g["jeffreys_p"]],
                             "Jeffreys interval": [f"{fmt_pct(a, 1)} – {fmt_pct(b, 1)}" for a, b in zip(g["jeffreys_low"], g["jeffreys_high"])],
                             "PD too low": ["yes" if b else "" for b in g["pd_too_low"]]})

    def display_seed_summary(self) -> pd.DataFrame:
        f = self.pack.seed_stability.summary_frame()
        fmt = lambda k, v: fmt_int(v) if k == "flips" else fmt_pct(v, 2) if k == "flip_share" else fmt_num(v)
        return pd.DataFrame([{"Metric": r.label, "Mean": fmt(r.metric, r.mean), "Min": fmt(r.metric, r.min), "Max": fmt(r.metric, r.max),
                              "Spread": fmt(r.metric, r.spread), "Shipped seed": fmt(r.metric, r.shipped)} for r in f.itertuples()])

    def display_seeds(self) -> pd.DataFrame:
        t = self.pack.seed_stability.table
        return pd.DataFrame({"Seed": [f"{s} (shipped)" if sh else str(s) for s, sh in zip(t["seed"], t["shipped"])],
                             "AUC": [fmt_num(v) for v in t["auc"]], "KS": [fmt_num(v) for v in t["ks"]],
                             "Score PSI": [fmt_num(v) for v in t["psi"]], "Flips": [fmt_int(v) for v in t["flips"]]})

    def display_alignment(self) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
        """(parameters, metrics on the fit rows, before/after on the evaluation rows)."""
        a = self.pack.alignment
        params = a.parameters_frame().rename(columns={"parameter": "Parameter", "value": "Value"})
        params["Value"] = [fmt_cell(v) for v in params["Value"]]
        fit = a.fit_metrics
        fit_d = pd.DataFrame({"Metric (fit rows)": fit["label"], "Original": [fmt_num(v) for v in fit["original"]],
                              "Pruned before map": [fmt_num(v) for v in fit["before"]], "After map": [fmt_num(v) for v in fit["after"]]})
        e = a.effect.to_frame()
        counts = {"flips"}
        f = lambda k, v: fmt_int(v) if k in counts else fmt_num(v)
        eff = pd.DataFrame({"Metric (evaluation rows)": e["label"], "Original": [f(k, v) for k, v in zip(e["metric"], e["original"])],
                            "Pruned": [f(k, v) for k, v in zip(e["metric"], e["pruned"])],
                            "Pruned + map": [f(k, v) for k, v in zip(e["metric"], e["aligned"])]})
        return params, fit_d, eff

    def display_oot(self) -> pd.DataFrame:
        f = self.pack.out_of_time.to_frame()
        return pd.DataFrame({"Metric": f["label"], "Reference original": [fmt_num(v) for v in f["reference_original"]],
                             "Reference pruned": [fmt_num(v) for v in f["reference_pruned"]],
                             "Out-of-time original": [fmt_num(v) for v in f["oot_original"]],
                             "Out-of-time pruned": [fmt_num(v) for v in f["oot_pruned"]]})

    def display_expected_loss(self) -> pd.DataFrame:
        f = self.pack.expected_loss.to_frame()
        return pd.DataFrame({"Quantity": f["quantity"], "Original": [fmt_num(v, 0) for v in f["original"]],
                             "Pruned": [fmt_num(v, 0) for v in f["pruned"]], "Change": [fmt_signed(v, 0) for v in f["change"]]})

    def display_fairness(self) -> pd.DataFrame:
        f = self.fairness_frame
        return pd.DataFrame({"Column": f["column"].astype(str), "Segment": f["segment"].astype(str), "Applicants": [fmt_int(v) for v in f["rows"]],
                             "Approved (original)": [fmt_pct(v, 1) for v in f["approval_rate_original"]],
                             "Approved (pruned)": [fmt_pct(v, 1) for v in f["approval_rate_pruned"]],
                             "AIR original": [shown("air", v, lambda x: fmt_num(x, 3)) for v in f["air_original"]],
                             "AIR pruned": [shown("air", v, lambda x: fmt_num(x, 3)) for v in f["air_pruned"]],
                             "Below 4/5": ["newly" if n else ("yes" if p else "") for n, p in zip(f["newly_flagged"], f["flagged_pruned"])]})

    def display_reasons(self, top: int = 15) -> pd.DataFrame:
        r = self.reasons.reason_frame().head(top)
        return display_frame(r).rename(columns={"variable": "Variable", "in_top_k_original": f"In top-{self.reasons.k} (original)",
                                                "in_top_k_pruned": f"In top-{self.reasons.k} (pruned)", "change": "Change",
                                                "top1_original": "Top reason (original)", "top1_pruned": "Top reason (pruned)"})

    def reasons_text(self) -> str:
        r = self.reasons
        if r.n_assessed == 0:
            return f"No explained applicant is declined by the original model at this cutoff, so no reasons are compared. {r.note}".strip()
        return (f"Of {fmt_int(r.n_explained)} explained applicants, {fmt_int(r.n_assessed)} are declined by the original model; "
                f"the pruned model gives the same top reason to {fmt_pct(r.same_top1_share, 1)} of them, the same top-{r.k} set "
                f"to {fmt_pct(r.same_set_share, 1)}, and keeps {fmt_pct(r.top_k_overlap_share, 1)} of their top-{r.k} reasons on "
                f"average (CFPB Circular 2023-03: reasons must stay specific and accurate). {r.note}").strip()

    def display_triggers(self) -> pd.DataFrame:
        f = self.pack.change.triggers_frame()
        return pd.DataFrame({"Trigger": f["label"], "Watch": f["watch"], "Today": f["baseline"], "Amber": f["amber"], "Red": f["red"],
                             "Action": f["action"]})

    def display_reference_bins(self) -> pd.DataFrame:
        b = self.pack.change.reference_bins
        return pd.DataFrame({"Bin": [str(int(v)) for v in b["bin"]],
                             "P(bad) from": [fmt_num(v) if np.isfinite(v) else "−∞" for v in b["lower"]],
                             "P(bad) to": [fmt_num(v) if np.isfinite(v) else "+∞" for v in b["upper"]],
                             "Share today": [fmt_pct(v, 1) for v in b["share"]]})

    def display_references(self) -> pd.DataFrame:
        from core.validation import references_frame

        return references_frame()

    def display_signoff(self) -> pd.DataFrame:
        from core.validation import sign_off_frame

        return sign_off_frame()

    def display_versions(self) -> pd.DataFrame:
        return pd.DataFrame([{"Package": k, "Version": v or "not installed"} for k, v in self.versions.items()])

    def display_hashes(self) -> pd.DataFrame:
        rows = [("Model file SHA-256", self.model_sha256), ("Data file SHA-256", self.data_sha256 or "not given (data passed in memory)"),
                ("Prepared data fingerprint", self.data_fingerprint)]
        if self.pack is not None:
            rows += [("Policy key", self.pack.policy.key),
                     ("Validation options (SHA-256 of their key)", sha256_hex(self.pack.options.key.encode("utf-8")))]
        rows.append(("Output files", "SHA-256 of every written file (this report, the model exports) is in manifest.json"))
        return pd.DataFrame(rows, columns=["Item", "Value"])


def evaluation_text(ws: Workspace, n: int) -> str:
    """Which rows every metric is measured on, and what that means for the numbers (the report's first limitation)."""
    rows, n_train = ws.rows, len(ws.train_idx)
    if ws.eval_mode == EVAL_HOLDOUT:
        return (f"Every metric is measured on {n:,} held-out rows (stratified split, seed {ws.split_seed}) "
                f"of the {ws.data.n_rows:,} rows supplied; pruning choices and any fine-tuning used only the "
                f"{n_train:,} training rows.")
    if ws.eval_mode == EVAL_SPLIT_COLUMN:
        return (f"Every metric is measured on the {n:,} rows whose split column '{rows.column}' is '{rows.value}'"
                + (f"; pruning choices and any fine-tuning used only the other {n_train:,} rows." if n_train else
                   "; no other rows were supplied, so nothing was fine-tuned."))
    if ws.eval_mode == EVAL_SEPARATE_FILE:
        name = f" '{rows.file_name}'" if rows.file_name else ""
        return (f"Every metric is measured on the {n:,} rows of the separate evaluation file{name}; pruning choices "
                f"and any fine-tuning used only the {n_train:,} rows of the data file.")
    return (f"{ws.evaluation_warning or f'Every metric is measured on all {n:,} rows supplied.'} The original-vs-pruned "
            "differences are still measured on identical rows.")


def evaluation_rows_text(ws: Workspace) -> str:
    """The evaluation-row choice in a few words (the settings table)."""
    rows = ws.rows
    if ws.eval_mode == EVAL_SPLIT_COLUMN:
        return f"rows with {rows.column} = '{rows.value}'; {len(ws.train_idx):,} other rows for fine-tuning"
    if ws.eval_mode == EVAL_SEPARATE_FILE:
        return f"separate evaluation file{f' {rows.file_name}' if rows.file_name else ''}; {len(ws.train_idx):,} data-file rows for fine-tuning"
    if ws.eval_mode == EVAL_HOLDOUT:
        return f"seeded stratified hold-out; {len(ws.train_idx):,} training rows for fine-tuning"
    return "all rows; nothing held out"


def missing_text(ws: Workspace) -> str:
    m = ws.missing_values
    if not m.anything_missing:
        return "none in the model's inputs or the target"
    chosen = m.strategy.replace("_", "-") if m.strategy else "none chosen"
    return (f"{chosen}: {m.n_rows_affected:,} row(s) with missing or infinite inputs, {m.n_rows_without_target:,} without "
            f"an outcome; {m.n_rows_used:,} of {m.n_rows_read:,} rows used")


def _summary(ws: Workspace, pruned: PrunedModel, comparison: Comparison, shift: ImportanceShift | None,
             pack: ValidationPack | None = None) -> dict:
    r = pruned.result
    o_size, p_size = r.original_size, r.size
    c = comparison
    ci = c.ci.get("auc")
    out = {
        "parameters_original": o_size.parameters, "parameters_pruned": p_size.parameters,
        "parameters_saved_share": 1 - p_size.parameters / o_size.parameters if o_size.parameters else float("nan"),
        "nonzeros_original": o_size.nonzeros, "nonzeros_pruned": p_size.nonzeros,
        "nonzeros_saved_share": 1 - p_size.nonzeros / o_size.nonzeros if o_size.nonzeros else float("nan"),
        "file_bytes_original": o_size.file_bytes, "file_bytes_pruned": p_size.file_bytes,
        "file_bytes_saved_share": 1 - p_size.file_bytes / o_size.file_bytes if o_size.file_bytes else float("nan"),
        "sparsity": r.sparsity, "state": r.state,
        "auc_original": c.original.auc, "auc_pruned": c.pruned.auc, "delta_auc": c.delta("auc"),
        "delta_auc_ci_low": ci.low if ci else None, "delta_auc_ci_high": ci.high if ci else None,
        "ks_original": c.original.ks, "ks_pruned": c.pruned.ks, "delta_ks": c.delta("ks"),
        "gini_original": c.original.gini, "gini_pruned": c.pruned.gini,
        "brier_original": c.original.brier, "brier_pruned": c.pruned.brier,
        "cutoff": c.cutoff.cutoff, "cutoff_how": c.cutoff.how,
        "approval_rate_original": c.original.approval_rate, "approval_rate_pruned": c.pruned.approval_rate,
        "approved_bad_rate_original": c.original.approved_bad_rate, "approved_bad_rate_pruned": c.pruned.approved_bad_rate,
        "flips": c.flips.count, "flip_share": c.flips.share, "flips_good_declined": c.flips.good_declined,
        "flips_bad_approved": c.flips.bad_approved, "flips_good_approved": c.flips.good_approved,
        "flips_bad_declined": c.flips.bad_declined, "psi": c.psi.value, "psi_band": c.psi.band,
        "spearman_scores": c.spearman, "n_eval": len(ws.eval_idx), "n_bad_eval": c.original.n_bad,
    }
    if shift is not None:
        out.update({"shap_spearman": shift.spearman, "shap_flagged": list(shift.flagged), "shap_n_rows": shift.n_rows})
    if pack is not None:
        v = pack.verdict
        out.update({"acceptable": v.acceptable, "verdict": v.headline, "policy": v.policy_name, "policy_key": v.policy_key,
                    "materiality": pack.materiality.cls, "delong_p": pack.delong.p_value, "delong_low": pack.delong.low,
                    "delong_high": pack.delong.high})
        if pack.challenger is not None:
            out.update({"auc_challenger": pack.challenger.result("challenger").auc,
                        "complexity_original": pack.challenger.justification_for("original").outcome,
                        "complexity_pruned": pack.challenger.justification_for("pruned").outcome})
        out.update({"inversions_original": len(pack.rank["original"].inversions),
                    "inversions_pruned": len(pack.rank["pruned"].inversions)})
    return out


def _limitations(ws: Workspace, pruned: PrunedModel, comparison: Comparison, shift: ImportanceShift | None,
                 explain_settings: Mapping, sweep_given: bool, with_pack: bool = False) -> tuple[str, ...]:
    r = pruned.result
    c = comparison
    n, n_bad = c.original.n, c.original.n_bad
    out = [evaluation_text(ws, n)]
    if ws.missing_values.anything_missing:
        out.append(f"Missing values: {ws.missing_values.summary}")
    if ws.data.one_vs_rest:
        out.append(f"The target has more than two outcomes and was read as bad vs rest: {ws.data.target_rule}.")
    ci = c.ci.get("auc")
    ci_text = (f" The 95% interval for ΔAUC ({fmt_signed(ci.low)} to {fmt_signed(ci.high)}) comes from "
               f"{ci.resamples} paired bootstrap resamples and reflects sampling noise of these rows only."
               if ci else " No bootstrap interval was computed.")
    out.append(f"The evaluation sample has {n_bad:,} bad outcomes out of {n:,}; differences smaller than the "
               f"sampling noise cannot be distinguished from zero.{ci_text}")
    if r.state == COMPACTED:
        out.append(f"The pruned model is COMPACTED: {r.state_note}. The exported file holds only the remaining "
                   "parameters, so its size and compute savings are real.")
    else:
        out.append(f"The pruned model is MASKED: {r.state_note}. Zeroed weights are still stored and multiplied, "
                   "so file size and inference cost do not shrink unless a sparse runtime exploits the zeros.")
    if shift is not None:
        out.append(f"SHAP importances are mean |φ| on the log-odds scale over {shift.n_rows:,} sampled applicants "
                   f"against {explain_settings.get('background', 'a sample of')} background rows "
                   f"(seed {explain_settings.get('seed', 0)}); rankings of variables with similar importance can "
                   "change with another sample.")
    else:
        out.append("No SHAP comparison was included in this report.")
    if sweep_given:
        out.append("Trade-off curve points are pruned without fine-tuning and evaluated at the same cutoff on the "
                   "same rows as the chosen model.")
    out.append(f"PSI bands ({psi_bands_text()}) are industry rules of thumb that "
               f"depend on the 10 bins and the sample size; the cutoff is {c.cutoff.how}.")
    if not with_pack:
        out.append("Intended use: the pruned model replaces the original only for the same product, population and "
                   f"input definitions ({ws.data.target} = '{ws.data.bad_value}' as bad, the same {ws.model.n_inputs} "
                   "inputs). Pruning a production model is a model change: it requires independent validation, "
                   "approval by the model-risk function and monitoring before it makes credit decisions. This "
                   "report does not assess segments, out-of-time data or fairness unless a governance section is shown.")
    else:
        out.append("Pruning a production model is a model change: it requires independent validation, approval by the "
                   "model-risk function (sign-off below) and monitoring against the triggers below before it makes credit decisions.")
    return tuple(out)


def build_report_content(
    ws: Workspace,
    pruned: PrunedModel,
    comparison: Comparison,
    sweep: SweepResult | None = None,
    shift: ImportanceShift | None = None,
    governance: Any = None,
    *,
    model_name: str | None = None,
    data_name: str | None = None,
    data_sha256: str | None = None,
    explain_settings: Mapping[str, Any] | None = None,
    sweep_settings: Mapping[str, Any] | None = None,
    extra_settings: Mapping[str, Any] | None = None,
    created_utc: str | None = None,
    pack: ValidationPack | None = None,
    notes: tuple[str, ...] = (),
) -> ReportContent:
    """Collect the report's content; nothing is recomputed except formatting and totals.

    ``governance`` may hold typed results: a ``SegmentFairness`` goes to the fairness section and a
    ``ReasonStability`` to the explanations; anything else with tables is shown in the fairness
    section as it is.
    """
    r = pruned.result
    model = ws.model
    name = model_name or (model.schema.extra.get("name") if model.schema is not None else None) or model.name
    explain_settings = dict(explain_settings or {})
    if shift is not None:
        explain_settings.setdefault("rows", shift.n_rows)
        explain_settings.setdefault("explainer", shift.explainer_pruned)
    sweep_settings = dict(sweep_settings or {})
    if sweep is not None:
        sweep_settings.setdefault("methods", sorted(set(sweep.table["method"])) if len(sweep.table) else [])
        sweep_settings.setdefault("ratios", sorted({float(x) for x in sweep.table["ratio"]}) if len(sweep.table) else [])
        sweep_settings.setdefault("seed", sweep.seed)
        sweep_settings.setdefault("skipped", dict(sweep.skipped))
    settings = {
        "prune": r.spec.to_dict(), "state": r.state, "fine_tune": r.fine_tuned, "alignment": r.alignment,
        "cutoff": {"value": comparison.cutoff.cutoff, "how": comparison.cutoff.how, "approval_rate": comparison.cutoff.approval_rate},
        "evaluation": {"mode": ws.eval_mode, "split_seed": ws.split_seed, "rows": int(len(ws.eval_idx)),
                       "train_rows": int(len(ws.train_idx)), "note": ws.split_note, "choice": ws.rows.to_dict(),
                       "warning": ws.evaluation_warning},
        "missing_values": ws.missing_values.to_dict(), "one_vs_rest": ws.data.one_vs_rest,
        "output_kind": ws.output.kind, "target": ws.data.target, "bad_value": ws.data.bad_value,
        "inputs": list(ws.data.input_names),
        "bootstrap": ({"resamples": next(iter(comparison.ci.values())).resamples, "seed": next(iter(comparison.ci.values())).seed}
                      if comparison.ci else None),
        "explain": explain_settings or None, "sweep": sweep_settings or None,
        **dict(extra_settings or {}),
    }
    if pack is not None:
        settings["validation"] = pack.options.to_dict()
    fairness, reasons, others = _split_governance(governance)
    seeds = {"prune": r.spec.seed, "split": ws.split_seed}
    if r.fine_tuned:
        seeds["fine_tune"] = r.fine_tuned["seed"]
    if comparison.ci:
        seeds["bootstrap"] = next(iter(comparison.ci.values())).seed
    if "seed" in explain_settings:
        seeds["explain"] = explain_settings["seed"]
    if sweep is not None:
        seeds["sweep"] = sweep.seed
    if pack is not None:
        seeds["policy_bootstrap"] = pack.policy.bootstrap_seed
        if pack.challenger is not None:
            seeds["challenger"] = pack.challenger.spec.seed
        if pack.seed_stability is not None:
            seeds["stability"] = list(pack.seed_stability.seeds)
    chosen = {"method": r.spec.method, "ratio": r.spec.ratio, "nonzeros": r.size.nonzeros, "parameters": r.size.parameters,
              "file_bytes": r.size.file_bytes, "auc": comparison.pruned.auc, "fine_tuned": r.fine_tuned is not None}
    return ReportContent(
        model_name=str(name), data_name=str(data_name or "dataset"), created_utc=created_utc or utc_now(),
        model_sha256=model.content_hash, data_sha256=data_sha256, data_fingerprint=ws.data.fingerprint,
        n_rows=ws.data.n_rows, n_eval=int(len(ws.eval_idx)), n_train=int(len(ws.train_idx)), eval_mode=ws.eval_mode,
        split_seed=int(ws.split_seed), split_note=ws.split_note, output_label=f"{ws.output.label} ({ws.output.how})",
        n_inputs=model.n_inputs, target=ws.data.target, bad_value=ws.data.bad_value,
        method=r.spec.method, method_label=r.spec.label, ratio=r.spec.ratio, overrides=dict(r.spec.overrides),
        prune_seed=r.spec.seed, state=r.state, state_note=r.state_note, fine_tuned=r.fine_tuned,
        dropped_variables=tuple(r.dropped_variables), size=r.size_frame(), layers=r.layer_frame(),
        dropped_fills=tuple((f.variable, f.raw if isinstance(f.raw, str) else f"{f.raw:.6g}", f.how) for f in r.input_fills),
        comparison=comparison, original_scores=np.asarray(ws.original_scores), pruned_scores=np.asarray(pruned.scores),
        sweep_table=None if sweep is None else sweep.table.copy(), sweep_settings=sweep_settings, chosen_point=chosen,
        shift=shift, explain_settings=explain_settings, governance=tuple(governance_tables(others)),
        settings=settings, seeds=seeds, summary=_summary(ws, pruned, comparison, shift, pack),
        limitations=_limitations(ws, pruned, comparison, shift, explain_settings, sweep is not None, pack is not None)
        + (pack.limitations if pack is not None else ()),
        pack=pack, fairness=fairness, reasons=reasons, versions=package_versions(), notes=tuple(notes),
        eval_rows_text=evaluation_rows_text(ws), evaluation_warning=ws.evaluation_warning, missing_text=missing_text(ws),
        target_rule=ws.data.target_rule,
    )


def _split_governance(governance: Any) -> tuple[SegmentFairness | None, ReasonStability | None, Any]:
    """Typed results out of a governance mapping (fairness, reasons); the rest stays generic."""
    if not isinstance(governance, Mapping):
        return None, None, governance
    fairness = next((v for v in governance.values() if isinstance(v, SegmentFairness)), None)
    reasons = next((v for v in governance.values() if isinstance(v, ReasonStability)), None)
    rest = {k: v for k, v in governance.items() if not isinstance(v, (SegmentFairness, ReasonStability))}
    return fairness, reasons, rest or None


def summary_kpis(content: ReportContent) -> list[tuple[str, str, str]]:
    """The executive summary's indicators as (label, value, detail): the same boxes in HTML and PDF."""
    s = content.summary
    ci = (f"95% CI {s['delta_auc_ci_low']:+.4f} to {s['delta_auc_ci_high']:+.4f}"
          if s.get("delta_auc_ci_low") is not None else "no CI computed")
    out = []
    if content.pack is not None:
        p = content.pack
        v = p.verdict
        n = v.counts
        out += [("Verdict", "Acceptable" if v.acceptable else "Not acceptable",
                 f"{n[PASSED]} pass, {n[FAILED]} fail, {n[NOT_APPLICABLE]} not applicable"),
                ("Materiality", p.materiality.cls, f"margin ≥ {p.materiality.policy.min_margin:.0%} of each allowance")]
    return out + [
        ("Parameters saved", fmt_pct(s["parameters_saved_share"]), f"{fmt_int(s['parameters_original'])} → {fmt_int(s['parameters_pruned'])}"),
        ("File bytes saved", fmt_pct(s["file_bytes_saved_share"]), f"{fmt_int(s['file_bytes_original'])} → {fmt_int(s['file_bytes_pruned'])}"),
        ("ΔAUC", f"{s['delta_auc']:+.4f}", ci),
        ("Flipped decisions", fmt_int(s["flips"]), f"{fmt_pct(s['flip_share'], 2)} of applicants"),
        ("Score PSI", fmt_num(s["psi"]), str(s["psi_band"])),
    ]


def headline(content: ReportContent) -> list[tuple[str, str]]:
    """The executive summary as (label, text) pairs: the sentences both renderers print."""
    s = content.summary
    ci = ""
    if s.get("delta_auc_ci_low") is not None:
        ci = f" (95% CI {fmt_signed(s['delta_auc_ci_low'])} to {fmt_signed(s['delta_auc_ci_high'])})"
    first = []
    p = content.pack
    if p is not None:
        first.append(("Verdict", f"{p.verdict.headline} Policy: “{p.verdict.policy_name}”."))
        first.append(("Materiality", p.materiality.headline))
        if p.challenger is not None:
            first.append(("Challenger", p.challenger.justification_for("pruned").sentence))
    return first + [
        ("Size", f"{fmt_int(s['parameters_original'])} → {fmt_int(s['parameters_pruned'])} stored parameters "
                 f"({fmt_pct(s['parameters_saved_share'])} saved); {fmt_int(s['nonzeros_original'])} → "
                 f"{fmt_int(s['nonzeros_pruned'])} non-zero ({fmt_pct(s['nonzeros_saved_share'])} saved); file "
                 f"{fmt_int(s['file_bytes_original'])} → {fmt_int(s['file_bytes_pruned'])} bytes "
                 f"({fmt_pct(s['file_bytes_saved_share'])} saved). Model is {str(s['state']).upper()}."),
        ("AUC", f"{fmt_num(s['auc_original'])} → {fmt_num(s['auc_pruned'])}, ΔAUC {fmt_signed(s['delta_auc'])}{ci}."),
        ("Decisions", f"{fmt_int(s['flips'])} of {fmt_int(s['n_eval'])} applicants ({fmt_pct(s['flip_share'], 2)}) get a "
                      f"different decision at cutoff {fmt_num(s['cutoff'])}."),
        ("Stability", f"Score PSI {fmt_num(s['psi'])} — {s['psi_band']}."),
    ]
