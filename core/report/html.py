"""The committee report as one self-contained HTML file with interactive plotly charts.

Self-contained means it opens on an air-gapped committee laptop: plotly.js is embedded once
(``include_plotlyjs=True`` on the first chart, later charts reuse it), styles are inline, no
font, script or image is fetched from the network.
"""
from __future__ import annotations

import html

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.formatting import display_frame, fmt_int, fmt_num, fmt_pct
from core.report.content import ReportContent, headline, summary_kpis
from core.report.style import (
    METHOD_PALETTE,
    ORIGINAL_COLOUR,
    PARETO_COLOUR,
    PRUNED_COLOUR,
)

_CSS = """
body{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}
h1{color:%(o)s;margin-bottom:.2em} h2{color:%(o)s;border-bottom:2px solid %(o)s;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em} th,td{border:1px solid #ccd;padding:.3em .6em;text-align:right}
th{background:#eef2f7} td:first-child,th:first-child{text-align:left}
.meta td{text-align:left;font-family:monospace;font-size:.85em} table.text td{text-align:left} .kpis{display:flex;flex-wrap:wrap;gap:1em}
.kpi{border-left:4px solid %(p)s;background:#fafafa;padding:.5em 1em;min-width:200px}
.kpi b{display:block;color:#555;font-size:.8em;text-transform:uppercase} .badge{padding:.1em .5em;border-radius:4px;color:#fff;background:%(p)s}
.note{color:#555;font-size:.9em} .scroll{overflow-x:auto} .flag{color:#c0392b;font-weight:bold} nav a{margin-right:1em}
""" % {"o": ORIGINAL_COLOUR, "p": PRUNED_COLOUR}
_LAYOUT = dict(template="plotly_white", margin=dict(l=40, r=20, t=50, b=40), height=420, legend_title_text="")


def _e(text: object) -> str:
    return html.escape(str(text))


def table_html(frame: pd.DataFrame, cls: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    body = "".join("<tr>" + "".join(f"<td>{_e(v)}</td>" for v in row) + "</tr>" for row in frame.itertuples(index=False))
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


class _Charts:
    """Turns figures into HTML divs; only the first carries plotly.js."""

    def __init__(self) -> None:
        self.first = True

    def __call__(self, fig: go.Figure, div_id: str) -> str:
        fig.update_layout(**_LAYOUT)
        out = fig.to_html(full_html=False, include_plotlyjs=self.first, div_id=div_id,
                          config={"displaylogo": False, "responsive": True})
        self.first = False
        return out


def sparsity_figure(c: ReportContent) -> go.Figure:
    f = c.layers
    fig = go.Figure([
        go.Bar(name="Original weights", x=f["layer"].astype(str), y=f["total_weights"], marker_color=ORIGINAL_COLOUR),
        go.Bar(name="Non-zero after pruning", x=f["layer"].astype(str), y=f["nonzero_weights"], marker_color=PRUNED_COLOUR,
               text=[f"{s:.0%} sparse" for s in f["sparsity"]], textposition="outside"),
    ])
    fig.update_layout(barmode="group", title="Weights per layer", xaxis_title="layer", yaxis_title="weights")
    return fig


def tradeoff_figure(c: ReportContent) -> go.Figure:
    t = c.sweep_table
    fig = go.Figure()
    for i, (method, part) in enumerate(t.groupby("method", sort=False)):
        part = part.sort_values("nonzeros")
        fig.add_trace(go.Scatter(x=part["nonzeros"], y=part["auc"], mode="lines+markers", name=str(part["method_label"].iloc[0]),
                                 line_color=METHOD_PALETTE[i % len(METHOD_PALETTE)],
                                 customdata=np.c_[part["ratio"], part["ks"]],
                                 hovertemplate="ratio %{customdata[0]:.0%}<br>non-zeros %{x:,}<br>AUC %{y:.4f}<br>KS %{customdata[1]:.4f}"))
    front = t[t["pareto"]].sort_values("nonzeros")
    fig.add_trace(go.Scatter(x=front["nonzeros"], y=front["auc"], mode="lines", name="Pareto front",
                             line=dict(color=PARETO_COLOUR, dash="dot", width=3)))
    o = c.summary
    fig.add_trace(go.Scatter(x=[o["nonzeros_original"]], y=[o["auc_original"]], mode="markers", name="Original",
                             marker=dict(color=ORIGINAL_COLOUR, size=14, symbol="circle")))
    p = c.chosen_point
    fig.add_trace(go.Scatter(x=[p["nonzeros"]], y=[p["auc"]], mode="markers", name="Chosen (this report)",
                             marker=dict(color=PRUNED_COLOUR, size=18, symbol="star", line=dict(color="#000", width=1))))
    fig.update_layout(title="AUC vs non-zero parameters", xaxis_title="non-zero parameters", yaxis_title="AUC")
    return fig


def metrics_figure(c: ReportContent) -> go.Figure:
    keys = ["auc", "gini", "ks", "accuracy", "f1"]
    o, p = c.comparison.original.to_dict(), c.comparison.pruned.to_dict()
    labels = ["AUC", "Gini", "KS", "Accuracy", "F1 (bad)"]
    fig = go.Figure([
        go.Bar(name="Original", x=labels, y=[o[k] for k in keys], marker_color=ORIGINAL_COLOUR, texttemplate="%{y:.4f}"),
        go.Bar(name="Pruned", x=labels, y=[p[k] for k in keys], marker_color=PRUNED_COLOUR, texttemplate="%{y:.4f}"),
    ])
    fig.update_layout(barmode="group", title="Discrimination and accuracy")
    return fig


def shift_figure(c: ReportContent, top: int = 15) -> go.Figure:
    t = c.shift.table.head(top).iloc[::-1]
    lvl = c.shift.level
    names = [f"⚑ {n}" if f else str(n) for n, f in zip(t[lvl], t["flagged"])]
    fig = go.Figure([
        go.Bar(name="Original", y=names, x=t["importance_original"], orientation="h", marker_color=ORIGINAL_COLOUR),
        go.Bar(name="Pruned", y=names, x=t["importance_pruned"], orientation="h", marker_color=PRUNED_COLOUR),
    ])
    fig.update_layout(barmode="group", title=f"Mean |SHAP| per {lvl} (top {min(top, len(c.shift.table))}; ⚑ = flagged)",
                      xaxis_title="mean |SHAP| (log-odds)", height=max(420, 28 * len(t)))
    return fig


def scores_figure(c: ReportContent) -> go.Figure:
    bins = dict(start=0.0, end=1.0, size=0.025)
    fig = go.Figure([
        go.Histogram(x=c.original_scores, name="Original", marker_color=ORIGINAL_COLOUR, opacity=0.6, xbins=bins),
        go.Histogram(x=c.pruned_scores, name="Pruned", marker_color=PRUNED_COLOUR, opacity=0.6, xbins=bins),
    ])
    fig.add_vline(x=c.comparison.cutoff.cutoff, line_dash="dash", annotation_text=f"cutoff {c.comparison.cutoff.cutoff:.4f}")
    fig.update_layout(barmode="overlay", title="P(bad) distribution of evaluated applicants", xaxis_title="P(bad)", yaxis_title="applicants")
    return fig


def flips_figure(c: ReportContent) -> go.Figure:
    f = c.comparison.flips.summary_frame()
    colours = ["#c0392b", "#c0392b", "#2e8b57", "#2e8b57"]
    fig = go.Figure(go.Bar(x=f["change"], y=f["applicants"], marker_color=colours, text=f["applicants"], textposition="outside"))
    fig.update_layout(title="Decisions that change at the same cutoff", yaxis_title="applicants")
    return fig


def render_html(c: ReportContent) -> str:
    chart = _Charts()
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(c.title)}</title>"
             f"<style>{_CSS}</style></head><body>"]
    parts.append(f"<header id='title'><h1>{_e(c.title)}</h1>")
    meta = pd.DataFrame([
        ("Model", c.model_name), ("Dataset", c.data_name), ("Report date (UTC)", c.created_utc),
        ("Model file SHA-256", c.model_sha256), ("Data file SHA-256", c.data_sha256 or "not given (data passed in memory)"),
        ("Prepared data fingerprint", c.data_fingerprint),
    ], columns=["Item", "Value"])
    parts.append(table_html(meta, "meta") + "</header>")
    parts.append("<nav>" + "".join(f"<a href='#{sid}'>{_e(name)}</a>" for sid, name in c.sections) + "</nav>")

    # Executive summary
    parts.append("<section id='summary'><h2>Executive summary</h2><div class='kpis'>")
    kpis = summary_kpis(c)
    for label, big, small in kpis:
        parts.append(f"<div class='kpi'><b>{_e(label)}</b><span style='font-size:1.5em'>{_e(big)}</span><br>"
                     f"<span class='note'>{_e(small)}</span></div>")
    parts.append("</div><ul>" + "".join(f"<li><b>{_e(k)}:</b> {_e(v)}</li>" for k, v in headline(c)) + "</ul>")
    parts.append(f"<p>Model state: <span class='badge'>{_e(c.state.upper())}</span></p></section>")

    # Method
    parts.append("<section id='method'><h2>Method and settings</h2>")
    explanation = ("Compacted: removed neurons or inputs are physically gone; the exported network is smaller and faster."
                   if c.state == "compacted" else
                   "Masked: removed weights are set to zero but stay stored; file size and compute are unchanged.")
    parts.append(f"<p>{_e(explanation)}</p>" + table_html(c.display_settings(), "text") + table_html(c.display_size()) + "</section>")

    # Sparsity
    parts.append("<section id='sparsity'><h2>Layer sparsity</h2>" + chart(sparsity_figure(c), "chart-sparsity")
                 + table_html(c.display_layers()) + "</section>")

    # Trade-offs
    if c.sweep_table is not None:
        parts.append("<section id='tradeoffs'><h2>Size vs risk trade-off</h2>"
                     "<p class='note'>Every method at every ratio, pruned without fine-tuning, on the same rows and cutoff; "
                     "the star marks the model in this report.</p>" + chart(tradeoff_figure(c), "chart-tradeoffs"))
        front = c.sweep_table[c.sweep_table["pareto"]].sort_values("nonzeros")
        parts.append("<p>Pareto front (no other point is both smaller and better on AUC):</p>" + table_html(pd.DataFrame({
            "Method": front["method_label"], "Ratio": [fmt_pct(v, 0) for v in front["ratio"]],
            "Non-zeros": [fmt_int(v) for v in front["nonzeros"]], "File bytes": [fmt_int(v) for v in front["file_bytes"]],
            "AUC": [fmt_num(v) for v in front["auc"]], "KS": [fmt_num(v) for v in front["ks"]]})))
        skipped = c.sweep_settings.get("skipped") or {}
        if skipped:
            parts.append("<p class='note'>Skipped: " + _e("; ".join(f"{k}: {v}" for k, v in skipped.items())) + "</p>")
        parts.append("</section>")

    # Metrics
    parts.append("<section id='metrics'><h2>Metrics: original vs pruned</h2>" + chart(metrics_figure(c), "chart-metrics")
                 + table_html(c.display_metrics(), "metrics"))
    if c.comparison.ci:
        parts.append("<p>Paired bootstrap intervals of the change:</p>" + table_html(c.display_ci(), "ci"))
    parts.append(f"<p>Spearman rank correlation of the two models' scores: {fmt_num(c.comparison.spearman)}.</p></section>")

    # Explain
    parts.append("<section id='explain'><h2>SHAP importance shift</h2>")
    if c.shift is not None:
        sh = c.shift
        flagged = ", ".join(sh.flagged) if sh.flagged else "none"
        parts.append(f"<p>Spearman ρ of importances {fmt_num(sh.spearman)}, Kendall τ {fmt_num(sh.kendall)}; "
                     + ", ".join(f"top-{k} overlap {fmt_pct(v, 0)}" for k, v in sorted(sh.top_overlap.items()))
                     + f". Flagged ({_e(sh.level)} moved ≥ {sh.rank_threshold} ranks or ≥ {sh.share_threshold * 100:.0f} pp of share): "
                     f"<span class='flag'>{_e(flagged)}</span>.</p>")
        parts.append(chart(shift_figure(c), "chart-explain") + table_html(c.display_shift(), "shift"))
    else:
        parts.append("<p>No SHAP comparison was computed for this report.</p>")
    parts.append("</section>")

    # Decisions
    cut = c.comparison.cutoff
    parts.append("<section id='decisions'><h2>Decision impact</h2>"
                 f"<p>Cutoff {fmt_num(cut.cutoff)} (decline when P(bad) ≥ cutoff): {_e(cut.how)}. Both models are judged at this cutoff.</p>"
                 + table_html(c.display_decisions()) + chart(flips_figure(c), "chart-flips") + table_html(c.display_flips(), "flips")
                 + f"<p>Score PSI {fmt_num(c.comparison.psi.value)} — <b>{_e(c.comparison.psi.band)}</b> "
                 "(bins at the original scores' deciles).</p>" + chart(scores_figure(c), "chart-scores")
                 + table_html(c.display_psi()) + "</section>")

    # Governance
    if c.governance:
        parts.append("<section id='governance'><h2>Governance checks</h2>")
        for title, frame, note in c.governance:
            parts.append(f"<h3>{_e(title)}</h3>" + (f"<p class='note'>{_e(note)}</p>" if note else "")
                         + table_html(display_frame(frame)))
        parts.append("</section>")

    parts.append("<section id='limitations'><h2>Limitations and intended use</h2><ul>"
                 + "".join(f"<li>{_e(t)}</li>" for t in c.limitations) + "</ul></section>")
    parts.append(f"<footer class='note'><p>Generated by RiskPrune on {_e(c.created_utc)}. The run manifest (manifest.json) lists "
                 "every setting, package version and file hash needed to reproduce these numbers.</p></footer></body></html>")
    return "".join(parts)


def html_bytes(c: ReportContent) -> bytes:
    return render_html(c).encode("utf-8")
