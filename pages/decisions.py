"""Decision impact: who gets a different answer from the pruned model, and what it does to the book."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import RiskPruneError
from core.formatting import first_upper, fmt_num, fmt_pct, fmt_points, is_finite, shown, undefined
from core.glossary import help_text
from core.metrics import DEFAULT_LGD
from core.workspace import PER_APPLICANT, decision_view
from ui.controls import current_setting, decision_rule
from ui.population import all_rows_panel
from ui.state import workspace_or_stop
from ui.theme import BAD, GOOD, NEUTRAL, ORIGINAL, PRUNED
from ui.verdict import draw_verdict_strip, verdict_strip
from ui.widgets import busy, chart, download_csv, show_error, view_or_stop

st.title("Decision impact")
ws = workspace_or_stop()
verdict_strip()
with busy(f"Deciding {len(ws.eval_idx):,} applicants with both models…"):
    view = view_or_stop(decision_view, ws, current_setting(), decision_rule(), context="The decision impact cannot be computed: ")
cur, cmp = view.pruned, view.comparison

o, p, f = cmp.original, cmp.pruned, cmp.flips
st.caption(f"Shown model: {cur.description}. Both models decide on the same {f.n:,} evaluation applicants at the "
           f"same cutoff: decline when P(bad) ≥ **{cmp.cutoff.cutoff:.4f}** — {cmp.cutoff.how}. "
           "Change how decisions are made in the sidebar.")

k = st.columns(5)
k[0].metric("Approval rate", fmt_pct(p.approval_rate), f"{fmt_points(p.approval_rate - o.approval_rate)} vs {fmt_pct(o.approval_rate)}",
            delta_color="off", help=help_text("approval_rate"))
if is_finite(p.approved_bad_rate) and is_finite(o.approved_bad_rate):
    k[1].metric("Bad rate of approved", fmt_pct(p.approved_bad_rate),
                f"{fmt_points(p.approved_bad_rate - o.approved_bad_rate)} vs {fmt_pct(o.approved_bad_rate)}", delta_color="inverse",
                help=help_text("approved_bad_rate"))
else:  # nobody approved by one of the models: say so instead of a number
    k[1].metric("Bad rate of approved", "n/a" if not is_finite(p.approved_bad_rate) else fmt_pct(p.approved_bad_rate),
                f"pruned {shown('approved_bad_rate', p.approved_bad_rate, fmt_pct)} · original "
                f"{shown('approved_bad_rate', o.approved_bad_rate, fmt_pct)}", delta_color="off", delta_arrow="off",
                help=f"{help_text('approved_bad_rate')} Here it is {undefined('approved_bad_rate')} at this cutoff; "
                     "move the cutoff in the sidebar.")
k[2].metric("Decisions flipped", f"{f.count:,}", f"{fmt_pct(f.share)} of applicants", delta_color="off", delta_arrow="off",
            help=help_text("flips"))
k[3].metric("Score PSI", fmt_num(cmp.psi.value), cmp.psi.band, delta_color="off", delta_arrow="off",
            help="Of the pruned scores against the original's deciles. " + help_text("psi"))
k[4].metric("Rank correlation", shown("spearman_scores", cmp.spearman),
            help="Spearman correlation of the two models' scores: 1 means the same ordering of applicants. " + help_text("spearman"))
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
chart(pf, tab, f"Score distribution by decile — PSI {fmt_num(cmp.psi.value)} ({cmp.psi.band})",
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
options = [PER_APPLICANT, *view.exposure_columns]
unusable = {c.name for c in view.exposures if not c.usable}
e1, e2 = st.columns(2)
col = e1.selectbox("Exposure at default (loan amount)", options, index=options.index(view.exposure_guess), key="exposure_column",
                   format_func=lambda c: "1 unit per applicant (counts expected defaults)" if c == PER_APPLICANT
                   else f"{c} (not an amount)" if c in unusable else c,
                   help="The column holding each applicant's loan amount. Without one, every applicant counts for one unit and "
                        "expected loss is the expected number of defaults among the approved × LGD. " + help_text("expected_loss"))
lgd = e2.slider("Loss given default (LGD)", 0.05, 1.0, DEFAULT_LGD, 0.05, key="lgd",
                help="Share of the exposure lost when an applicant defaults; 45 % is the Basel foundation-IRB value "
                     "for senior unsecured exposures. " + help_text("lgd"))
if not view.exposure_columns:
    st.caption("The dataset has no numeric column that could hold the loan amount: every applicant counts for one unit.")
elif view.exposure_guess == PER_APPLICANT and col == PER_APPLICANT:
    st.caption("No numeric column is named and shaped like a loan amount (finite, never negative, not all zero), so every "
               "applicant counts for one unit; pick the amount column above if the data has one.")
exposure = None
problem = view.exposure_problem(col)
if problem is not None:
    st.info(f"{first_upper(problem)}. Expected loss needs an amount of money per applicant: pick the loan amount "
            "column, or '1 unit per applicant' to count expected defaults instead.", icon="ℹ️")
else:
    exposure = col
    try:
        el = view.expected_loss(col, lgd)
    except RiskPruneError as err:
        show_error(err)
    else:
        elf = el.to_frame()
        per_applicant = col == PER_APPLICANT
        ef = go.Figure()
        ef.add_bar(x=elf["quantity"], y=elf["original"], name="original", marker_color=ORIGINAL)
        ef.add_bar(x=elf["quantity"], y=elf["pruned"], name="pruned", marker_color=PRUNED)
        ef.update_layout(barmode="group", yaxis_title="applicants (1 unit each)" if per_applicant else f"sum of '{col}'", height=340)
        chart(ef, elf, "Approved exposure and loss",
              (f"With 1 unit per applicant, approved exposure is the number of approved applicants and expected loss is their "
               f"summed P(bad) × {lgd:.0%} LGD: the expected defaults, weighted by LGD. " if per_applicant else
               f"Expected loss is each approved applicant's predicted P(bad) × {lgd:.0%} LGD × loan amount, summed. ")
              + "Observed loss uses who actually defaulted in the data.", key="expected_loss")

draw_verdict_strip()  # reserved under the title; judged before the (slow, large-book) all-rows figures
with all_rows_box:
    all_rows_panel(current_setting(), decision_rule(), key="decisions", exposure_column=exposure, lgd=lgd)
