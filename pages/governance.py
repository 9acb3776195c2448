"""Governance: fair-lending segments, stability of adverse-action reasons, out-of-time robustness.

The section inputs are drawn first, each above an empty container; one core call
(``governance_view``) then computes every section and the results are drawn into the containers.
"""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.data import read_table
from core.errors import RiskPruneError
from core.formatting import display_na, fmt_num, fmt_pct, fmt_signed, undefined
from core.glossary import help_text
from core.governance import DEFAULT_REASONS, FOUR_FIFTHS, SegmentSpec
from core.governance.segments import default_segment_columns, segment_candidates
from core.hashing import sha256_hex
from core.metrics import PSI_BANDS
from core.workspace import OutOfTimeSample, governance_view
from ui.controls import current_setting, decision_rule, explain_settings
from ui.state import Source, source_table, workspace_or_stop
from ui.theme import BAD, BAND_COLOURS, NEUTRAL, ORIGINAL, PRUNED
from ui.verdict import draw_verdict_strip, verdict_strip
from ui.widgets import busy, chart, download_csv, reference_line, show_error, view_or_stop

st.title("Governance")
ws = workspace_or_stop()
verdict_strip()
caption = st.empty()

# ---------------------------------------------------------------- inputs, each above its output
st.header("Segment fairness")
frame = ws.data.frame
candidates = segment_candidates(frame, ws.data.target)
c1, c2 = st.columns([3, 1])
columns = c1.multiselect("Segment columns", candidates, default=default_segment_columns(frame, ws.data.target), key="segment_columns",
                         help="Numeric columns are cut into quantile bands (or your own edges); text columns are used as they are.")
bands = c2.number_input("Bands for numeric columns", 2, 10, 4, key="segment_bands")
edges: dict[str, list[float]] = {}
numeric_chosen = [c for c in columns if pd.api.types.is_numeric_dtype(frame[c])]
if numeric_chosen:
    with st.expander("Own band edges for numeric columns"):
        for col in numeric_chosen:
            text = st.text_input(f"Edges for '{col}' (comma separated, e.g. 25, 35, 50)", key=f"edges_{col}")
            if text.strip():
                try:
                    edges[col] = [float(x) for x in text.replace(";", ",").split(",") if x.strip()]
                except ValueError:
                    st.error(f"'{text}' is not a list of numbers; quantile bands are used for '{col}'.")
try:
    specs = tuple(SegmentSpec(c, tuple(edges[c]) if c in edges else None, int(bands)) for c in columns)
except RiskPruneError as err:
    show_error(err)
    specs = tuple(SegmentSpec(c, None, int(bands)) for c in columns)
segments_out = st.container()

st.header("Adverse-action reasons")
st.caption("For each declined applicant the principal reasons are the variables pushing the score most towards "
           "*bad* (largest positive SHAP values, dummies summed to their variable) — what a lender must tell a "
           "declined applicant (US ECOA / Regulation B). Pruning should not change them.")
k_reasons = st.number_input("Reasons per applicant", 1, 8, DEFAULT_REASONS, key="reason_k")
reasons_out = st.container()

st.header("Out-of-time robustness")
st.caption("Upload a later or monitoring sample with the same columns: both models are measured on it, and each "
           "input variable's distribution is compared with the evaluation rows (characteristic analysis).")
up = st.file_uploader("Out-of-time dataset (CSV, Parquet or Excel)", type=["csv", "txt", "tsv", "parquet", "pq", "xlsx", "xlsm", "xls"],
                      key="oot_upload")
if up is not None and st.session_state.get("oot_upload_id") != up.file_id:
    st.session_state["oot_upload_id"] = up.file_id
    data = up.getvalue()
    try:
        with busy(f"Checking '{up.name}'…"):
            read_table(data, up.name)
    except RiskPruneError as err:
        st.session_state["oot_source"] = None
        st.session_state["oot_error"] = f"'{up.name}' was not used: {err}"
    else:
        st.session_state["oot_source"] = Source(up.name, sha256_hex(data), data)
        st.session_state.pop("oot_error", None)
if st.session_state.get("oot_error"):
    st.error(st.session_state["oot_error"])
oot_src: Source | None = st.session_state.get("oot_source")
oot = None if oot_src is None else OutOfTimeSample(oot_src.name, oot_src.sha256, source_table(oot_src).frame)
oot_out = st.container()

# ---------------------------------------------------------------- the one core call
with busy("Computing segment approval rates, adverse-action reasons (SHAP) and out-of-time figures…"):
    view = view_or_stop(governance_view, ws, current_setting(), decision_rule(), specs, explain_settings(), int(k_reasons), oot,
                        context="Governance views cannot be computed: ")
cur, cmp = view.pruned, view.comparison
cutoff = cmp.cutoff.cutoff
caption.caption(f"Pruned model: {cur.description}. Decisions at cutoff {fmt_num(cutoff)} — {cmp.cutoff.how}. "
                "Pruning a production credit model is a model change: these views answer the fair-lending and "
                "model-risk questions a reviewer will ask.")

with segments_out:
    fair = view.fairness
    if not columns:
        st.info("Pick at least one segment column (e.g. age, sex, nationality, housing) to see approval rates by group.")
    elif "fairness" in view.errors:
        st.error(view.errors["fairness"])
    elif fair is not None:
        summary = fair.summary_frame()
        k = st.columns(3)
        k[0].metric("Groups below four-fifths (original)", int(summary["flagged_original"].sum()), help=help_text("air"))
        k[1].metric("Groups below four-fifths (pruned)", int(summary["flagged_pruned"].sum()), help=help_text("air"))
        k[2].metric("Newly flagged by pruning", int(summary["newly_flagged"].sum()), delta_color="off",
                    help="Groups the pruned model puts below the four-fifths line that the original did not. " + help_text("air"))
        tf = fair.to_frame()
        x = [tf["column"].astype(str).tolist(), tf["segment"].astype(str).tolist()]  # grouped by segment column
        fig = go.Figure()
        for name, colour in (("original", ORIGINAL), ("pruned", PRUNED)):
            fig.add_bar(x=x, y=tf[f"air_{name}"], name=name, marker_color=colour,
                        customdata=tf[["rows", f"approval_rate_{name}"]],
                        hovertemplate="%{x}: AIR %{y:.3f}<br>%{customdata[0]} applicants, %{customdata[1]:.1%} approved<extra></extra>")
        reference_line(fig, y=FOUR_FIFTHS, text="four-fifths line (0.8)", colour=BAD, dash="dash")
        fig.update_layout(barmode="group", yaxis_title="adverse impact ratio", yaxis_range=[0, 1.1], height=380)
        chart(fig, tf, "Approval parity by segment",
              "Each bar is a group's approval rate divided by the best-approved group's in the same column; bars under "
              "the red line fail the four-fifths rule of thumb used in fair-lending reviews.", key="air")
        shown_tf = display_na(tf[["column", "segment", "rows", "bads", "bad_rate", "auc_original", "auc_pruned", "approval_rate_original",
                                  "approval_rate_pruned", "air_original", "air_pruned", "flips", "note"]],
                              words={"auc_original": undefined("auc"), "auc_pruned": undefined("auc"),
                                     "air_original": undefined("air"), "air_pruned": undefined("air")},
                              formats={c: (lambda v: fmt_num(v, 3)) for c in ("auc_original", "auc_pruned", "air_original", "air_pruned")})
        st.dataframe(shown_tf, hide_index=True, key="segment_table", column_config={
                         c: st.column_config.NumberColumn(format="%.3f") for c in
                         ("bad_rate", "auc_original", "auc_pruned", "approval_rate_original", "approval_rate_pruned",
                          "air_original", "air_pruned") if pd.api.types.is_numeric_dtype(shown_tf[c])})

with reasons_out:
    reasons = view.reasons
    if "reasons" in view.errors:
        st.error(f"Reasons could not be computed: {view.errors['reasons']}")
    elif reasons is not None:
        r = st.columns(4)
        nobody = "n/a: no explained applicant is declined at this cutoff"
        r[0].metric("Declined applicants assessed", f"{reasons.n_assessed:,}", help=reasons.note or None)
        r[1].metric("Same principal reason", "n/a" if reasons.n_assessed == 0 else fmt_pct(reasons.same_top1_share),
                    help=nobody if reasons.n_assessed == 0 else "Declined applicants whose largest push towards bad (SHAP) is the "
                         "same variable under both models. " + help_text("shap"))
        r[2].metric(f"Same top-{reasons.k} set", "n/a" if reasons.n_assessed == 0 else fmt_pct(reasons.same_set_share),
                    help=nobody if reasons.n_assessed == 0 else f"Declined applicants given the same {reasons.k} reasons, in any order.")
        r[3].metric("Applicants whose reasons changed", f"{reasons.n_changed:,}")
        st.caption(reasons.note)
        rf = reasons.reason_frame()
        if len(rf):
            top = rf.head(15).iloc[::-1]
            fig = go.Figure()
            fig.add_bar(y=top["variable"], x=top["in_top_k_original"], orientation="h", name="original", marker_color=ORIGINAL)
            fig.add_bar(y=top["variable"], x=top["in_top_k_pruned"], orientation="h", name="pruned", marker_color=PRUNED)
            fig.update_layout(barmode="group", xaxis_title=f"declined applicants with this variable among their top {reasons.k} reasons",
                              height=max(320, 28 * len(top)))
            chart(fig, rf, "How often each variable is given as a reason",
                  "Bars of different length mean the pruned model would tell declined applicants different reasons.",
                  key="reasons")
            changed = reasons.changed_frame()
            st.subheader("Declined applicants whose reasons changed")
            st.dataframe(display_na(changed, "—"), hide_index=True, key="reasons_changed")
            download_csv(changed, "changed_reasons.csv", key="csv_reasons_changed", label="Changed reasons (CSV)")

with oot_out:
    result = view.out_of_time
    if oot is None:
        st.info("No out-of-time sample uploaded yet.")
    elif "out_of_time" in view.errors:
        st.error(view.errors["out_of_time"])
    elif result is not None:
        o = st.columns(4)
        o[0].metric("Out-of-time applicants", f"{result.n_oot:,}")
        o[1].metric("AUC out of time (pruned)", fmt_num(result.oot_pruned.auc),
                    f"{fmt_signed(result.oot_pruned.auc - result.oot_original.auc)} vs original {fmt_num(result.oot_original.auc)}",
                    help=help_text("auc"))
        o[2].metric("Score PSI (original)", fmt_num(result.score_psi_original.value), result.score_psi_original.band,
                    delta_color="off", delta_arrow="off", help="Later sample against the evaluation rows. " + help_text("psi"))
        o[3].metric("Score PSI (pruned)", fmt_num(result.score_psi_pruned.value), result.score_psi_pruned.band,
                    delta_color="off", delta_arrow="off", help="Later sample against the evaluation rows. " + help_text("psi"))
        for note in result.notes:
            st.caption(note)
        mf = result.to_frame()
        st.dataframe(display_na(mf), hide_index=True, key="oot_metrics")
        download_csv(mf, "out_of_time_metrics.csv", key="csv_oot_metrics", label="Out-of-time metrics (CSV)")
        cf = result.characteristics.to_frame().sort_values("psi", ascending=True)
        fig = go.Figure(go.Bar(x=cf["psi"], y=cf["variable"], orientation="h",
                               marker_color=[BAND_COLOURS.get(b, NEUTRAL) for b in cf["band"]],
                               text=cf["band"], textposition="outside"))
        low, high = PSI_BANDS[0][0], PSI_BANDS[1][0]
        reference_line(fig, x=low, text=PSI_BANDS[1][1], colour=NEUTRAL)
        reference_line(fig, x=high, text="significant", colour=BAD)
        fig.update_layout(xaxis_title="PSI of the variable (out-of-time vs evaluation rows)", height=max(320, 24 * len(cf)))
        chart(fig, cf, "Characteristic stability",
              "Green variables are distributed as before, amber ones should be monitored and red ones have shifted "
              "enough that both models' numbers on this sample need care.", key="characteristic_psi")
draw_verdict_strip()  # reserved under the title; judged once this page's own figures are out
