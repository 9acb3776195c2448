"""Explain: how SHAP feature importance shifts from the original to the pruned model."""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.explain import DEFAULT_BACKGROUND, DEFAULT_ROWS, compare_applicant
from core.workspace import explain_view
from ui.controls import current_setting, explain_settings
from ui.state import workspace_or_stop
from ui.theme import BAD, GOOD, NEUTRAL, ORIGINAL, PRUNED
from ui.verdict import verdict_strip
from ui.widgets import chart, download_csv, view_or_stop

st.title("Explain")
ws = workspace_or_stop()
verdict_strip()

with st.expander("Attribution settings", expanded=False):
    c1, c2, c3 = st.columns(3)
    c1.number_input("Explained rows", 50, 2000, DEFAULT_ROWS, step=50, key="shap_rows")
    c2.number_input("Background rows", 20, 500, DEFAULT_BACKGROUND, step=10, key="shap_background")
    c3.number_input("Sample seed", 0, 10_000, 0, key="shap_seed")
level = "variable"
if tuple(ws.data.groups) != tuple(ws.data.input_names):
    level = st.radio(
        "Importance of", ["variable", "feature"], horizontal=True, key="shap_level",
        format_func={"variable": "original variables (dummies summed)", "feature": "model inputs (one-hot dummies)"}.get,
    )
view = view_or_stop(explain_view, ws, current_setting(), explain_settings(), level,
                    context="Attributions could not be computed: ")
cur, sample, att_o, att_p, shift = view.pruned, view.sample, view.original, view.attributions, view.shift
groups = list(view.groups) if view.groups else None
st.caption(f"Pruned model: {cur.description}")
name_col = shift.level

k1, k2, k3, k4, k5 = st.columns(5)
k1.metric("Spearman ρ of importance", f"{shift.spearman:.3f}")
k2.metric("Kendall τ", f"{shift.kendall:.3f}")
k3.metric("Top-5 overlap", f"{shift.top_overlap.get(5, float('nan')):.0%}")
k4.metric("Top-10 overlap", f"{shift.top_overlap.get(10, float('nan')):.0%}")
k5.metric("Flagged", f"{len(shift.flagged)}")
explainers = att_o.label if att_o.label == att_p.label else f"{att_o.label} (original) / {att_p.label} (pruned)"
exact = "" if att_o.exact and att_p.exact else " — a sampled approximation"
st.caption(
    f"Explainer: {explainers}{exact}; {att_o.n_rows} explained rows and "
    f"{len(sample.background)} background rows drawn from the evaluation rows with seed {sample.seed}. "
    "Attributions are on the log-odds of default; mean |φ| is the average size of a variable's push."
)

table = shift.to_frame()
top = table.head(20).iloc[::-1]
fig = go.Figure()
fig.add_bar(y=top[name_col], x=top["importance_original"], orientation="h", name="original", marker_color=ORIGINAL)
fig.add_bar(y=top[name_col], x=top["importance_pruned"], orientation="h", name="pruned", marker_color=PRUNED)
fig.update_layout(barmode="group", xaxis_title="mean |SHAP value| (log-odds)", height=max(360, 24 * len(top) + 120))
chart(
    fig, shift.long_frame(), "Feature importance, original vs pruned",
    "Longer bars are variables that move the default score more; a pruned model that kept its "
    "reasoning shows bars of similar length in the same order.", key="shap_bars",
)

chg = table.assign(share_change_pp=100 * table["share_change"]).sort_values("share_change_pp")
colors = [BAD if f else (GOOD if v >= 0 else NEUTRAL) for f, v in zip(chg["flagged"], chg["share_change_pp"])]
fig2 = go.Figure(go.Bar(y=chg[name_col], x=chg["share_change_pp"], orientation="h", marker_color=colors,
                        customdata=np.stack([chg["rank_original"], chg["rank_pruned"]], axis=1),
                        hovertemplate="%{y}: %{x:+.2f} pp (rank %{customdata[0]} → %{customdata[1]})<extra></extra>"))
fig2.update_layout(xaxis_title="change in share of total importance (percentage points)", height=max(360, 18 * len(chg) + 120))
chart(
    fig2, chg, "Change in importance share",
    "Bars to the right gained weight in the pruned model, to the left lost it; red bars are flagged "
    f"(rank moved ≥ {shift.rank_threshold} places or share moved ≥ {100 * shift.share_threshold:.0f} points).",
    key="shap_change",
)

st.subheader("Flagged features")
if shift.flagged:
    flagged = table[table["flagged"]][[name_col, "rank_original", "rank_pruned", "share_original", "share_pruned", "rel_change", "flag_reason"]]
    st.dataframe(flagged, hide_index=True)
    download_csv(flagged, "flagged_features.csv", key="csv_flagged")
else:
    st.success("No variable moved 3 or more ranks or 5 or more points of importance share.")

st.subheader("One applicant, before and after")
rows = att_o.row_index
p_o = 1 / (1 + np.exp(-att_o.outputs))
p_p = 1 / (1 + np.exp(-att_p.outputs))
order = np.argsort(-np.abs(p_p - p_o))
labels = {int(rows[i]): f"row {int(ws.eval_idx[rows[i]])}: P(bad) {p_o[i]:.3f} → {p_p[i]:.3f}" for i in order}
row = st.selectbox("Applicant (largest score change first)", list(labels), format_func=labels.get, key="shap_applicant")
raw = ws.data.frame.iloc[int(ws.eval_idx[row])].to_dict()
comp = compare_applicant(att_o, att_p, row, groups, raw=raw if groups is not None else None)
ct = comp.to_frame()
ct = ct.reindex(ct["shap_original"].abs().sort_values(ascending=False).index).head(15).iloc[::-1]
fig3 = go.Figure()
fig3.add_bar(y=ct[name_col], x=ct["shap_original"], orientation="h", name="original", marker_color=ORIGINAL)
fig3.add_bar(y=ct[name_col], x=ct["shap_pruned"], orientation="h", name="pruned", marker_color=PRUNED)
fig3.update_layout(barmode="group", xaxis_title="SHAP value (log-odds; > 0 pushes toward bad)", height=max(360, 26 * len(ct) + 120))
chart(
    fig3, comp.to_frame(), "This applicant's attributions",
    f"Bars to the right raise this applicant's risk score. P(bad) {comp.pbad_original:.3f} (original) vs "
    f"{comp.pbad_pruned:.3f} (pruned); base values {comp.base_value_original:+.3f} vs {comp.base_value_pruned:+.3f}.",
    key="shap_applicant_chart",
)
