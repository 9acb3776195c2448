"""What the committee report says, computed once and rendered twice (HTML and PDF).

Every number in either report comes from a ``ReportContent`` built from the engine's own results
(workspace, pruned model, comparison, sweep, importance shift), and is formatted by
``core.formatting``, so the HTML, the PDF, the manifest and the dashboard can never disagree on a
figure.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import numpy as np
import pandas as pd

from core.explain.shift import ImportanceShift
from core.formatting import fmt_int, fmt_num, fmt_pct, fmt_signed
from core.metrics.comparison import METRIC_LABELS, Comparison
from core.prune.result import COMPACTED
from core.prune.sweep import SweepResult
from core.report.manifest import utc_now
from core.workspace.binding import EVAL_HOLDOUT, Workspace
from core.workspace.operations import PrunedModel

SECTIONS = (
    ("summary", "Executive summary"),
    ("method", "Method and settings"),
    ("sparsity", "Layer sparsity"),
    ("tradeoffs", "Size vs risk trade-off"),
    ("metrics", "Metrics: original vs pruned"),
    ("explain", "SHAP importance shift"),
    ("decisions", "Decision impact"),
    ("governance", "Governance checks"),
    ("limitations", "Limitations and intended use"),
)


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
    dropped_fills: tuple[str, ...] = ()  # "variable = value (where the value comes from)" per removed variable

    @property
    def title(self) -> str:
        return f"Pruning proposal: {self.model_name}"

    @property
    def sections(self) -> list[tuple[str, str]]:
        """Sections this report has (governance only when results were given, trade-off only with a sweep)."""
        return [(sid, name) for sid, name in SECTIONS
                if not (sid == "governance" and not self.governance) and not (sid == "tradeoffs" and self.sweep_table is None)]

    # ---- tables as printed

    def metrics_frame(self) -> pd.DataFrame:
        o, p = self.comparison.original.to_dict(), self.comparison.pruned.to_dict()
        return pd.DataFrame([{"metric": k, "label": label, "original": o[k], "pruned": p[k], "change": p[k] - o[k]}
                             for k, label in METRIC_ROWS])

    def display_metrics(self) -> pd.DataFrame:
        rows = []
        for r in self.metrics_frame().itertuples(index=False):
            fmt = fmt_int if r.metric in COUNT_METRICS else fmt_num
            chg = (f"{int(r.change):+,}" if r.metric in COUNT_METRICS else fmt_signed(r.change))
            rows.append({"Metric": r.label, "Original": fmt(r.original), "Pruned": fmt(r.pruned), "Change": chg})
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
            "Layer": f["layer"].astype(str), "Weights": [fmt_int(v) for v in f["total_weights"]],
            "Non-zero": [fmt_int(v) for v in f["nonzero_weights"]], "Sparsity": [fmt_pct(v) for v in f["sparsity"]],
            "Neurons kept": [f"{int(a)}/{int(b)}" for a, b in zip(f["neurons_kept"], f["neurons_total"])],
            "Inputs kept": [f"{int(a)}/{int(b)}" for a, b in zip(f["inputs_kept"], f["inputs_total"])],
        })

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
        rows = [("Approval rate", o.approval_rate, p.approval_rate), ("Bad rate of approved", o.approved_bad_rate, p.approved_bad_rate),
                ("Decline rate", 1 - o.approval_rate, 1 - p.approval_rate)]
        return pd.DataFrame([{"Quantity": q, "Original": fmt_pct(a, 2), "Pruned": fmt_pct(b, 2),
                              "Change": f"{(b - a) * 100:+.2f} pp"} for q, a, b in rows])

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
            ("Evaluation rows", f"{fmt_int(self.n_eval)} of {fmt_int(self.n_rows)} ({self.eval_mode}); split seed {self.split_seed}"),
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
            rows.append(("Values fed in their place", "; ".join(self.dropped_fills)))
        return rows


def _summary(ws: Workspace, pruned: PrunedModel, comparison: Comparison, shift: ImportanceShift | None) -> dict:
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
    return out


def _limitations(ws: Workspace, pruned: PrunedModel, comparison: Comparison, shift: ImportanceShift | None,
                 explain_settings: Mapping, sweep_given: bool) -> tuple[str, ...]:
    r = pruned.result
    c = comparison
    n, n_bad = c.original.n, c.original.n_bad
    out = []
    if ws.eval_mode == EVAL_HOLDOUT:
        out.append(f"Every metric is measured on {n:,} held-out rows (stratified split, seed {ws.split_seed}) "
                   f"of the {ws.data.n_rows:,} rows supplied; pruning choices and any fine-tuning used only the "
                   f"{len(ws.train_idx):,} training rows.")
    else:
        out.append(f"Every metric is measured on all {n:,} rows supplied. If the original model was trained on "
                   "any of these rows, the absolute levels (e.g. AUC) are optimistic; the original-vs-pruned "
                   "differences are still measured on identical rows.")
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
    out.append(f"PSI bands (< 0.10 stable, 0.10–0.25 monitor, ≥ 0.25 significant) are industry rules of thumb that "
               f"depend on the 10 bins and the sample size; the cutoff is {c.cutoff.how}.")
    out.append("Intended use: the pruned model replaces the original only for the same product, population and "
               f"input definitions ({ws.data.target} = '{ws.data.bad_value}' as bad, the same {ws.model.n_inputs} "
               "inputs). Pruning a production model is a model change: it requires independent validation, "
               "approval by the model-risk function and monitoring before it makes credit decisions. This "
               "report does not assess segments, out-of-time data or fairness unless a governance section is shown.")
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
) -> ReportContent:
    """Collect the report's content; nothing is recomputed except formatting and totals."""
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
        sweep_settings.setdefault("ratios", sorted(set(float(x) for x in sweep.table["ratio"])) if len(sweep.table) else [])
        sweep_settings.setdefault("seed", sweep.seed)
        sweep_settings.setdefault("skipped", dict(sweep.skipped))
    settings = {
        "prune": r.spec.to_dict(), "state": r.state, "fine_tune": r.fine_tuned,
        "cutoff": {"value": comparison.cutoff.cutoff, "how": comparison.cutoff.how, "approval_rate": comparison.cutoff.approval_rate},
        "evaluation": {"mode": ws.eval_mode, "split_seed": ws.split_seed, "rows": int(len(ws.eval_idx)),
                       "train_rows": int(len(ws.train_idx)), "note": ws.split_note},
        "output_kind": ws.output.kind, "target": ws.data.target, "bad_value": ws.data.bad_value,
        "inputs": list(ws.data.input_names),
        "bootstrap": ({"resamples": next(iter(comparison.ci.values())).resamples, "seed": next(iter(comparison.ci.values())).seed}
                      if comparison.ci else None),
        "explain": explain_settings or None, "sweep": sweep_settings or None,
        **dict(extra_settings or {}),
    }
    seeds = {"prune": r.spec.seed, "split": ws.split_seed}
    if r.fine_tuned:
        seeds["fine_tune"] = r.fine_tuned["seed"]
    if comparison.ci:
        seeds["bootstrap"] = next(iter(comparison.ci.values())).seed
    if "seed" in explain_settings:
        seeds["explain"] = explain_settings["seed"]
    if sweep is not None:
        seeds["sweep"] = sweep.seed
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
        dropped_fills=tuple(f"{f.variable} = {f.raw if isinstance(f.raw, str) else f'{f.raw:.6g}'} ({f.how})"
                            for f in getattr(r, "input_fills", ())),
        comparison=comparison, original_scores=np.asarray(ws.original_scores), pruned_scores=np.asarray(pruned.scores),
        sweep_table=None if sweep is None else sweep.table.copy(), sweep_settings=sweep_settings, chosen_point=chosen,
        shift=shift, explain_settings=explain_settings, governance=tuple(governance_tables(governance)),
        settings=settings, seeds=seeds, summary=_summary(ws, pruned, comparison, shift),
        limitations=_limitations(ws, pruned, comparison, shift, explain_settings, sweep is not None),
    )


def summary_kpis(content: ReportContent) -> list[tuple[str, str, str]]:
    """The executive summary's indicators as (label, value, detail): the same boxes in HTML and PDF."""
    s = content.summary
    ci = (f"95% CI {s['delta_auc_ci_low']:+.4f} to {s['delta_auc_ci_high']:+.4f}"
          if s.get("delta_auc_ci_low") is not None else "no CI computed")
    return [
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
    return [
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
