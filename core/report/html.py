"""The committee report as one self-contained HTML file with interactive plotly charts.

Self-contained means it opens on an air-gapped committee laptop: plotly.js is embedded once in
the head, styles are inline, no font, script or image is fetched from the network. The embedded
plotly.js is its "basic" bundle (scatter, bar and pie traces: all the report draws; 1.2 MB instead
of the full 4.8 MB), vendored in ``core/report/assets`` with its MIT licence at the version the
Python plotly package renders for; ``tests/test_report.py`` checks both facts. The sections and their text are
``core.report.document``'s, the same the PDF and the DOCX print; each chart plots the aggregate
table of ``core.report.charts.chart_data`` (rounded to 6 significant digits), so the file stays
near plotly.js's own size whatever the number of applicants.
"""
from __future__ import annotations

import html
from collections.abc import Callable
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from core.report.charts import CHALLENGER_COLOUR, CHART_TITLES, FAIL_COLOUR, MODEL_COLOURS, MODEL_NAMES, PASS_COLOUR, SCORE_BINS, chart_data
from core.report.content import ReportContent
from core.report.document import H3, Bullets, Chart, Kpis, P, Table, document, meta_frame
from core.report.style import METHOD_PALETTE, ORIGINAL_COLOUR, PARETO_COLOUR, PRUNED_COLOUR

_O, _P = ORIGINAL_COLOUR, PRUNED_COLOUR
_CSS = f"""
body{{font-family:-apple-system,Segoe UI,Helvetica,Arial,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222;line-height:1.45}}
h1{{color:{_O};margin-bottom:.2em}} h2{{color:{_O};border-bottom:2px solid {_O};padding-bottom:.2em;margin-top:2em}}
table{{border-collapse:collapse;margin:.6em 0 1.2em;font-size:.9em}} th,td{{border:1px solid #ccd;padding:.3em .6em;text-align:right}}
th{{background:#eef2f7}} td:first-child,th:first-child{{text-align:left}}
.meta td{{text-align:left;font-family:monospace;font-size:.85em}} table.text td,table.verdict td,table.policy td,table.changes td,
table.triggers td,table.signoff td,table.references td,table.candidates td{{text-align:left}} .kpis{{display:flex;flex-wrap:wrap;gap:1em}}
table.signoff td{{height:2.2em;min-width:6em}}
.kpi{{border-left:4px solid {_P};background:#fafafa;padding:.5em 1em;min-width:200px}}
.kpi b{{display:block;color:#555;font-size:.8em;text-transform:uppercase}} .badge{{padding:.1em .5em;border-radius:4px;color:#fff;background:{_P}}}
.note{{color:#555;font-size:.9em}} .lead{{font-weight:600}} .scroll{{overflow-x:auto}} .flag{{color:#c0392b;font-weight:bold}}
.takeaway{{font-weight:600;margin:.2em 0 1em}} nav a{{margin-right:1em}} td.fail{{color:#c0392b;font-weight:bold}}
"""
# A compact white look instead of the "plotly_white" template, which would repeat ~7 kB of JSON in every chart.
_AXIS = dict(gridcolor="#e8e8ee", zerolinecolor="#ccccd6", linecolor="#ccccd6", automargin=True)
_LAYOUT = dict(template="none", paper_bgcolor="white", plot_bgcolor="white", font=dict(family="Helvetica, Arial, sans-serif", size=12),
               xaxis=_AXIS, yaxis=_AXIS, margin=dict(l=40, r=20, t=50, b=40), height=420, legend_title_text="")


def _e(text: object) -> str:
    return html.escape(str(text))


def _r(values) -> list:
    """Chart numbers rounded to 6 significant digits (None when undefined): the file stays small, no point moves visibly."""
    out: list = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        if not np.isfinite(v):
            out.append(None)
            continue
        x = float(f"{v:.6g}")
        out.append(int(x) if x.is_integer() and abs(x) < 2**53 else x)
    return out


def table_html(frame: pd.DataFrame, cls: str = "") -> str:
    head = "".join(f"<th>{_e(c)}</th>" for c in frame.columns)
    fail = " class='fail'"
    body = "".join("<tr>" + "".join(f"<td{fail if str(v) == 'FAIL' else ''}>{_e(v)}</td>" for v in row) + "</tr>"
                   for row in frame.itertuples(index=False))
    return f'<div class="scroll"><table class="{cls}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table></div>'


ASSETS = Path(__file__).with_name("assets")
PLOTLY_JS = ASSETS / "plotly-basic.min.js"
PLOTLY_TRACES = frozenset({"scatter", "bar", "pie"})  # the trace types the basic bundle draws


@cache
def plotly_script() -> str:
    """The vendored plotly.js basic bundle as one inline script (read once per process)."""
    js = PLOTLY_JS.read_text(encoding="utf-8")
    return f"<script type='text/javascript'>{js}</script>"


def chart_div(fig: go.Figure, div_id: str) -> str:
    """A figure as an HTML div drawn by the page's plotly.js (never a second copy of it)."""
    unsupported = {t.type for t in fig.data} - PLOTLY_TRACES
    if unsupported:
        raise ValueError(f"plotly.js basic cannot draw {sorted(unsupported)} traces")
    height = fig.layout.height
    fig.update_layout(**_LAYOUT)
    if height is not None:
        fig.update_layout(height=height)
    return fig.to_html(full_html=False, include_plotlyjs=False, div_id=div_id, config={"displaylogo": False, "responsive": True})


# --------------------------------------------------------------------------- plotly figures of the chart tables


def size_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "size")
    fig = go.Figure([
        go.Bar(name="Original", y=d["label"], x=[100] * len(d), orientation="h", marker_color=ORIGINAL_COLOUR),
        go.Bar(name="Pruned", y=d["label"], x=_r(d["share_of_original"] * 100), orientation="h", marker_color=PRUNED_COLOUR,
               text=[f"{int(p):,} of {int(o):,}" for p, o in zip(d["pruned"], d["original"])], textposition="outside"),
    ])
    fig.update_layout(barmode="group", title=CHART_TITLES["size"], xaxis_title="% of the original", height=320)
    return fig


def sparsity_figure(c: ReportContent) -> go.Figure:
    f = c.layers
    names = (f["label"] if "label" in f else f["layer"]).astype(str)
    fig = go.Figure([
        go.Bar(name="Original weights", x=names, y=f["total_weights"], marker_color=ORIGINAL_COLOUR),
        go.Bar(name="Non-zero after pruning", x=names, y=f["nonzero_weights"], marker_color=PRUNED_COLOUR,
               text=[f"{s:.0%} sparse" for s in f["sparsity"]], textposition="outside"),
    ])
    fig.update_layout(barmode="group", title=CHART_TITLES["sparsity"], xaxis_title="layer", yaxis_title="weights")
    return fig


def tradeoff_figure(c: ReportContent) -> go.Figure:
    t = c.sweep_table
    fig = go.Figure()
    for i, (_method, part) in enumerate(t.groupby("method", sort=False)):
        part = part.sort_values("nonzeros")
        fig.add_trace(go.Scatter(x=part["nonzeros"], y=_r(part["auc"]), mode="lines+markers", name=str(part["method_label"].iloc[0]),
                                 line_color=METHOD_PALETTE[i % len(METHOD_PALETTE)],
                                 customdata=np.c_[_r(part["ratio"]), _r(part["ks"])],
                                 hovertemplate="ratio %{customdata[0]:.0%}<br>non-zeros %{x:,}<br>AUC %{y:.4f}<br>KS %{customdata[1]:.4f}"))
    front = t[t["pareto"]].sort_values("nonzeros")
    fig.add_trace(go.Scatter(x=front["nonzeros"], y=_r(front["auc"]), mode="lines", name="Pareto front",
                             line=dict(color=PARETO_COLOUR, dash="dot", width=3)))
    o = c.summary
    fig.add_trace(go.Scatter(x=[o["nonzeros_original"]], y=_r([o["auc_original"]]), mode="markers", name="Original",
                             marker=dict(color=ORIGINAL_COLOUR, size=14, symbol="circle")))
    p = c.chosen_point
    fig.add_trace(go.Scatter(x=[p["nonzeros"]], y=_r([p["auc"]]), mode="markers", name="Chosen (this report)",
                             marker=dict(color=PRUNED_COLOUR, size=18, symbol="star", line=dict(color="#000", width=1))))
    fig.update_layout(title="AUC vs non-zero parameters", xaxis_title="non-zero parameters", yaxis_title="AUC")
    return fig


def performance_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "performance")
    fig = go.Figure()
    for key, title in (("auc", "AUC"), ("ks", "KS")):
        fig.add_trace(go.Scatter(
            x=[f"{MODEL_NAMES.get(m, m)}" for m in d["model"]], y=_r(d[key]), mode="markers", name=title,
            marker=dict(size=12, color=[MODEL_COLOURS.get(m, CHALLENGER_COLOUR) for m in d["model"]],
                        symbol="circle" if key == "auc" else "diamond"),
            error_y=dict(type="data", symmetric=False, array=_r(d[f"{key}_high"] - d[key]), arrayminus=_r(d[key] - d[f"{key}_low"])),
            hovertemplate=f"{title} %{{y:.4f}}<extra></extra>"))
    fig.update_layout(title=CHART_TITLES["performance"].replace("AUC", "AUC and KS"), yaxis_title="value (95% CI)", height=380)
    return fig


def rank_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "rank")
    fig = go.Figure([go.Bar(name=MODEL_NAMES[m], x=part["band"].astype(str), y=_r(part["bad_rate"] * 100), marker_color=MODEL_COLOURS[m],
                            customdata=np.c_[part["applicants"], part["bads"]],
                            hovertemplate="band %{x}: %{y:.1f}% bad<br>%{customdata[1]} of %{customdata[0]}<extra></extra>")
                     for m, part in d.groupby("model", sort=False)])
    fig.update_layout(barmode="group", title=CHART_TITLES["rank"], xaxis_title=c.pack.grade_source, yaxis_title="bad rate (%)")
    return fig


def capture_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "capture")
    x = _r(d["share_of_applicants"] * 100)
    fig = go.Figure()
    for m in ("original", "pruned", "challenger"):
        if m in d:
            fig.add_trace(go.Scatter(x=x, y=_r(d[m] * 100), mode="lines", name=MODEL_NAMES[m],
                                     line=dict(color=MODEL_COLOURS[m], dash="dash" if m == "challenger" else "solid")))
    for k, colour in (("perfect", "#999"), ("random", "#bbb")):
        fig.add_trace(go.Scatter(x=x, y=_r(d[k] * 100), mode="lines", name=k.capitalize(), line=dict(color=colour, dash="dot")))
    fig.update_layout(title=CHART_TITLES["capture"], xaxis_title="% of applicants, riskiest first", yaxis_title="% of bads captured")
    return fig


def calibration_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "calibration")
    top = float(max(d["mean_pd"].max(), d["bad_rate"].max(), 0.05)) * 105
    fig = go.Figure([go.Scatter(x=[0, top], y=[0, top], mode="lines", name="Perfect calibration", line=dict(color="#bbb", dash="dot"))])
    for m, part in d.groupby("model", sort=False):
        fig.add_trace(go.Scatter(x=_r(part["mean_pd"] * 100), y=_r(part["bad_rate"] * 100), mode="lines+markers", name=MODEL_NAMES[m],
                                 line_color=MODEL_COLOURS[m]))
    fig.update_layout(title=CHART_TITLES["calibration"], xaxis_title="mean predicted P(bad) (%)", yaxis_title="observed bad rate (%)")
    return fig


def scores_figure(c: ReportContent) -> go.Figure:
    """Counts per P(bad) bin: the file holds 40 bars per model, never one point per applicant."""
    d = chart_data(c, "scores")
    width = float(SCORE_BINS[1] - SCORE_BINS[0])
    fig = go.Figure([go.Bar(x=_r(d["centre"]), y=d[k], width=width, name=name, marker_color=colour, opacity=0.6)
                     for k, name, colour in (("original", "Original", ORIGINAL_COLOUR), ("pruned", "Pruned", PRUNED_COLOUR))])
    fig.add_vline(x=c.comparison.cutoff.cutoff, line_dash="dash", annotation_text=f"cutoff {c.comparison.cutoff.cutoff:.4f}")
    fig.update_layout(barmode="overlay", title=CHART_TITLES["scores"], xaxis_title="P(bad)", yaxis_title="applicants")
    return fig


def seeds_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "seeds")
    colours = [PRUNED_COLOUR if s else "#bbbbbb" for s in d["shipped"]]
    fig = go.Figure([go.Bar(x=[str(s) for s in d["seed"]], y=_r(d["auc"]), marker_color=colours, name="AUC",
                            customdata=np.c_[d["flips"], _r(d["psi"])],
                            hovertemplate="seed %{x}: AUC %{y:.4f}<br>%{customdata[0]} flips, PSI %{customdata[1]:.4f}<extra></extra>")])
    fig.add_hline(y=c.comparison.original.auc, line_dash="dash", line_color=ORIGINAL_COLOUR, annotation_text="original AUC")
    lo = float(min(d["auc"].min(), c.comparison.original.auc))
    fig.update_layout(title=CHART_TITLES["seeds"] + " (orange = shipped)", xaxis_title="fine-tuning seed", yaxis_title="AUC",
                      yaxis_range=[lo - 0.02, float(max(d["auc"].max(), c.comparison.original.auc)) + 0.01], height=340)
    return fig


def shift_figure(c: ReportContent) -> go.Figure:
    t = chart_data(c, "shift").iloc[::-1]
    lvl = c.shift.level
    names = [f"⚑ {n}" if f else str(n) for n, f in zip(t[lvl], t["flagged"])]
    fig = go.Figure([
        go.Bar(name="Original", y=names, x=_r(t["importance_original"]), orientation="h", marker_color=ORIGINAL_COLOUR),
        go.Bar(name="Pruned", y=names, x=_r(t["importance_pruned"]), orientation="h", marker_color=PRUNED_COLOUR),
    ])
    fig.update_layout(barmode="group", title=f"Mean |SHAP| per {lvl} (top {len(t)}; ⚑ = flagged)",
                      xaxis_title="mean |SHAP| (log-odds)", height=max(420, 28 * len(t)))
    return fig


def flips_figure(c: ReportContent) -> go.Figure:
    f = chart_data(c, "flips")
    colours = [FAIL_COLOUR, FAIL_COLOUR, PASS_COLOUR, PASS_COLOUR]
    fig = go.Figure(go.Bar(x=f["change"], y=f["applicants"], marker_color=colours, text=f["applicants"], textposition="outside"))
    fig.update_layout(title=CHART_TITLES["flips"], yaxis_title="applicants")
    return fig


def fairness_figure(c: ReportContent) -> go.Figure:
    d = chart_data(c, "fairness").iloc[::-1]
    fig = go.Figure([go.Bar(name=name, y=d["group"], x=_r(d[f"air_{k}"]), orientation="h", marker_color=colour)
                     for k, name, colour in (("original", "Original", ORIGINAL_COLOUR), ("pruned", "Pruned", PRUNED_COLOUR))])
    fig.add_vline(x=0.8, line_dash="dash", line_color=FAIL_COLOUR, annotation_text="four-fifths")
    fig.update_layout(barmode="group", title=CHART_TITLES["fairness"], xaxis_title="adverse impact ratio",
                      height=max(360, 26 * len(d)))
    return fig


FIGURES = {"size": size_figure, "sparsity": sparsity_figure, "tradeoff": tradeoff_figure, "performance": performance_figure,
           "rank": rank_figure, "capture": capture_figure, "calibration": calibration_figure, "scores": scores_figure,
           "seeds": seeds_figure, "shift": shift_figure, "flips": flips_figure, "fairness": fairness_figure}


# --------------------------------------------------------------------------- the document


def _block(b, chart: Callable[[go.Figure, str], str], c: ReportContent) -> str:
    if isinstance(b, P):
        cls = {"note": "note", "flag": "flag", "lead": "lead"}.get(b.style, "")
        return f"<p class='{cls}'>{_e(b.text)}</p>" if cls else f"<p>{_e(b.text)}</p>"
    if isinstance(b, H3):
        return f"<h3>{_e(b.text)}</h3>"
    if isinstance(b, Bullets):
        return "<ul>" + "".join(f"<li>{_e(t)}</li>" for t in b.items) + "</ul>"
    if isinstance(b, Table):
        if b.cut_html and b.max_rows is not None and len(b.frame) > b.max_rows:
            return table_html(b.frame.head(b.max_rows), b.cls) + f"<p class='note'>{_e(b.cut_note())}</p>"
        return table_html(b.frame, b.cls)
    if isinstance(b, Kpis):
        return "<div class='kpis'>" + "".join(
            f"<div class='kpi'><b>{_e(label)}</b><span style='font-size:1.5em'>{_e(big)}</span><br>"
            f"<span class='note'>{_e(small)}</span></div>" for label, big, small in b.items) + "</div>"
    if isinstance(b, Chart):
        return chart(FIGURES[b.name](c), f"chart-{b.name}") + f"<p class='takeaway'>{_e(b.takeaway)}</p>"
    raise TypeError(type(b).__name__)


def render_html(c: ReportContent) -> str:
    chart = chart_div
    doc = document(c)
    parts = [f"<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'><title>{_e(c.title)}</title>"
             f"<style>{_CSS}</style>{plotly_script()}</head><body>"]
    parts.append(f"<header id='title'><h1>{_e(c.title)}</h1>" + table_html(meta_frame(c), "meta") + "</header>")
    parts.append("<nav>" + "".join(f"<a href='#{s.id}'>{_e(s.title)}</a>" for s in doc) + "</nav>")
    for i, s in enumerate(doc, 1):
        parts.append(f"<section id='{s.id}'><h2>{i}. {_e(s.title)}</h2>" + "".join(_block(b, chart, c) for b in s.blocks) + "</section>")
    parts.append(f"<footer class='note'><p>Generated by RiskPrune on {_e(c.created_utc)}. The run manifest (manifest.json) lists "
                 "every setting, package version and file hash needed to reproduce these numbers.</p></footer></body></html>")
    return "".join(parts)


def html_bytes(c: ReportContent) -> bytes:
    return render_html(c).encode("utf-8")
