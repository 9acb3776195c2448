"""Decision impact: who gets a different answer from the pruned model, and what it does to the book."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import RiskPruneError
from core.metrics import DEFAULT_LGD, psi_bands_text
from core.workspace import decision_view
from ui.controls import current_setting, decision_rule
from ui.population import all_rows_panel
from ui.state import workspace_or_stop
from ui.theme import BAD, GOOD, NEUTRAL, ORIGINAL, PRUNED
from ui.verdict import verdict_strip
from ui.widgets import chart, download_csv, show_error, view_or_stop

st.title("Decision impact")
ws = workspace_or_stop()
verdict_strip()
view = view_or_stop(decision_view, ws, current_setting(), decision_rule(), context="The decision impact cannot be computed: ")
cur, cmp = view.pruned, view.comparison

o, p, f = cmp.original, cmp.pruned, cmp.flips
st.caption(f"Shown model: {cur.description}. Both models decide on the same {f.n:,} evaluation applicants at the "
           f"same cutoff: decline when P(bad) ≥ **{cmp.cutoff.cutoff:.4f}** — {cmp.cutoff.how}. "
           "Change how decisions are made in the sidebar.")

k = st.columns(5)
k[0].metric("Approval rate", f"{p.approval_rate:.1%}", f"{(p.approval_rate - o.approval_rate) * 100:+.1f} pts vs {o.approval_rate:.1%}",
            delta_color="off")
k[1].metric("Bad rate of approved", f"{p.approved_bad_rate:.1%}",
            f"{(p.approved_bad_rate - o.approved_bad_rate) * 100:+.1f} pts vs {o.approved_bad_rate:.1%}", delta_color="inverse")
k[2].metric("Decisions flipped", f"{f.count:,}", f"{f.share:.1%} of applicants", delta_color="off", delta_arrow="off")
k[3].metric("Score PSI", f"{cmp.psi.value:.4f}", cmp.psi.band, delta_color="off", delta_arrow="off",
            help="Population stability index of the pruned scores against the original's deciles: "
                 f"{psi_bands_text()}.")
k[4].metric("Rank correlation", "n/a" if not np.isfinite(cmp.spearman) else f"{cmp.spearman:.4f}",
            help="Spearman correlation of the two models' scores: 1 means the same ordering of applicants.")
all_rows_box = st.container()  # filled last (large books only): the same figures on every evaluation row

effect = view.alignment_effect()
if effect is not None:
    st.subheader("Score alignment: before and after")
    st.dataframe(effect, hide_index=True, key="alignment_effect", column_config={
        c: st.column_config.NumberColumn(format="%.4f") for c in ("original", "pruned, scores as pruned", "pruned, scores aligned")})
    st.caption(f"The pruned model's scores pass through {cur.result.alignment['spec']['label']}, fitted on "
               f"{cur.result.alignment['fitted_on']} (never on the evaluation rows). A positive monotone map keeps the ranking "
               "(AUC), and brings the scale — cutoffs, PSI, flips — back towards the original's.")
    download_csv(effect, "alignment_effect.csv", key="csv_alignment_effect")

st.subheader("Flipped decisions")
summary = f.summary_frame()
fig = go.Figure(go.Bar(x=summary["applicants"], y=summary["change"], orientation="h",
                       marker_color=[BAD, BAD, GOOD, GOOD], text=summary["applicants"], textposition="outside"))
fig.update_layout(xaxis_title="applicants", yaxis_autorange="reversed", height=280)
chart(fig, summary, "Flipped decisions by outcome",
      "Red bars are flips that cost the lender (good applicants turned away, bad applicants let in); green bars are flips "
      "that help.", key="flips_summary")
if f.count:
    st.dataframe(f.rows, hide_index=True, column_config={
        "pd_original": st.column_config.NumberColumn("P(bad) original", format="%.4f"),
        "pd_pruned": st.column_config.NumberColumn("P(bad) pruned", format="%.4f"),
        "pd_change": st.column_config.NumberColumn("change", format="%+.4f"),
        "row": st.column_config.NumberColumn("data row", help="Row number in the uploaded dataset (0 = first data row)."),
    }, key="flips_table")
    download_csv(f.rows, "flipped_applicants.csv", key="csv_flips", label="Flipped applicants (CSV)")
else:
    st.success("No applicant gets a different decision from the pruned model at this cutoff.")

st.subheader("Score stability")
tab = cmp.psi.table.copy()
tab["bin_label"] = [f"{i}" for i in tab["bin"]]
pf = go.Figure()
pf.add_bar(x=tab["bin_label"], y=tab["expected_share"], name="original", marker_color=ORIGINAL)
pf.add_bar(x=tab["bin_label"], y=tab["actual_share"], name="pruned", marker_color=PRUNED)
pf.update_layout(barmode="group", xaxis_title="score bin (original model's deciles, 1 = lowest P(bad))",
                 yaxis_title="share of applicants", yaxis_tickformat=".0%", height=340)
chart(pf, tab, f"Score distribution by decile — PSI {cmp.psi.value:.4f} ({cmp.psi.band})",
      "If the pruned model scored applicants like the original, each orange bar would match its blue bar (10 % each).",
      key="psi_bins")

st.subheader("Calibration and strategy")
c1, c2 = st.columns(2)
with c1:
    dec_o, dec_p = view.deciles_original.assign(model="original"), view.deciles_pruned.assign(model="pruned")
    dec = pd.concat([dec_o, dec_p], ignore_index=True)
    cf = go.Figure()
    top = float(max(dec["mean_pd"].max(), dec["observed_bad_rate"].max(), 0.05)) * 1.05
    cf.add_scatter(x=[0, top], y=[0, top], mode="lines", line=dict(color=NEUTRAL, dash="dot"), name="perfect calibration")
    for name, d, colour in (("original", dec_o, ORIGINAL), ("pruned", dec_p, PRUNED)):
        cf.add_scatter(x=d["mean_pd"], y=d["observed_bad_rate"], mode="lines+markers", name=name, line_color=colour,
                       customdata=d[["decile", "applicants"]],
                       hovertemplate="decile %{customdata[0]} (%{customdata[1]} applicants)<br>predicted %{x:.1%}, observed %{y:.1%}<extra></extra>")
    cf.update_layout(xaxis_title="mean predicted P(bad)", yaxis_title="observed bad rate", xaxis_tickformat=".0%",
                     yaxis_tickformat=".0%", height=400)
    chart(cf, dec, "Calibration by score decile",
          "Points on the dotted line mean the predicted default rate matches what actually happened in that decile.",
          key="calibration")
with c2:
    st_o, st_p = view.strategy_original.assign(model="original"), view.strategy_pruned.assign(model="pruned")
    strat = pd.concat([st_o, st_p], ignore_index=True)
    sf = go.Figure()
    for name, d, colour in (("original", st_o, ORIGINAL), ("pruned", st_p, PRUNED)):
        sf.add_scatter(x=d["approval_rate"], y=d["approved_bad_rate"], mode="lines", name=name, line_color=colour)
    sf.add_scatter(x=[o.approval_rate, p.approval_rate], y=[o.approved_bad_rate, p.approved_bad_rate], mode="markers",
                   marker=dict(color=[ORIGINAL, PRUNED], size=12, symbol="x"), name="at the cutoff")
    sf.update_layout(xaxis_title="share of applicants approved", yaxis_title="bad rate among the approved",
                     xaxis_tickformat=".0%", yaxis_tickformat=".0%", height=400)
    chart(sf, strat, "Approval rate vs bad rate",
          "For any share of applicants you approve (safest first), the line shows how many of them will default; lower is better.",
          key="strategy")

st.subheader("Expected loss of the approved book")
numeric, guess = list(view.exposure_columns), view.exposure_guess
exposure, lgd = None, DEFAULT_LGD
if not numeric:
    st.info("The dataset has no numeric column that could hold the loan amount, so expected loss cannot be computed.")
else:
    e1, e2 = st.columns(2)
    col = e1.selectbox("Loan amount (exposure at default) column", ["— none —", *numeric],
                       index=(1 + numeric.index(guess)) if guess else 0, key="exposure_column")
    lgd = e2.slider("Loss given default (LGD)", 0.05, 1.0, DEFAULT_LGD, 0.05, key="lgd",
                    help="Share of the exposure lost when an applicant defaults; 45 % is the Basel foundation-IRB value "
                         "for senior unsecured exposures.")
    exposure = None if col == "— none —" else col
    if exposure is not None:
        try:
            el = view.expected_loss(col, lgd)
        except RiskPruneError as err:
            show_error(err)
        else:
            elf = el.to_frame()
            ef = go.Figure()
            ef.add_bar(x=elf["quantity"], y=elf["original"], name="original", marker_color=ORIGINAL)
            ef.add_bar(x=elf["quantity"], y=elf["pruned"], name="pruned", marker_color=PRUNED)
            ef.update_layout(barmode="group", yaxis_title=f"sum of '{col}'", height=340)
            chart(ef, elf, "Approved exposure and loss",
                  f"Expected loss is each approved applicant's predicted P(bad) × {lgd:.0%} LGD × loan amount, summed; "
                  "observed loss uses who actually defaulted in the data.", key="expected_loss")

with all_rows_box:
    all_rows_panel(current_setting(), decision_rule(), key="decisions", exposure_column=exposure, lgd=lgd)
