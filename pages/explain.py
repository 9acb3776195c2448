"""Explain: how SHAP feature importance shifts from the original to the pruned model.

The explanations run in a fragment: changing the sample, the level or the applicant reruns only
them. A cached or quick explanation (``explains_quickly``: the fast exact path within about 50 ms)
is computed first and then replaces the previous figures in one go, which stay greyed under their
own caption meanwhile; a slower one clears them before it starts, so a caption never sits above
another setting's charts, and shows a progress bar with counts; the slow sampled fallback (models
that are not a plain chain of layers) waits for an explicit click.
"""
from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
import streamlit as st

from core.errors import RiskPruneError
from core.explain import DEFAULT_BACKGROUND, DEFAULT_ROWS, compare_applicant
from core.formatting import fmt_pct, shown
from core.glossary import help_text
from core.workspace import explain_ready, explain_view, explains_fast, explains_quickly
from ui.controls import current_setting, explain_settings
from ui.state import workspace_or_stop
from ui.theme import BAD, GOOD, NEUTRAL, ORIGINAL, PRUNED
from ui.verdict import draw_verdict_strip, verdict_strip
from ui.widgets import chart, download_csv, progress_to, show_error

st.title("Explain")
ws = workspace_or_stop()
verdict_strip()
st.caption("SHAP values say how much each variable pushed an applicant's risk score up or down. Comparing them shows whether "
           "the pruned model still decides for the same reasons.")


def draw(view, name_col: str) -> None:
    """Every figure of one explanation (both models on the same applicants)."""
    cur, sample, att_o, att_p, shift = view.pruned, view.sample, view.original, view.attributions, view.shift
    groups = list(view.groups) if view.groups else None
    st.caption(f"Pruned model: {cur.description}")

    k1, k2, k3, k4, k5 = st.columns(5)
    k1.metric("Spearman ρ of importance", shown("spearman", shift.spearman, lambda v: f"{v:.3f}"), help=help_text("spearman"))
    k2.metric("Kendall τ", shown("kendall", shift.kendall, lambda v: f"{v:.3f}"), help=help_text("kendall"))
    k3.metric("Top-5 overlap", fmt_pct(shift.top_overlap.get(5), 0), help=help_text("top_k_overlap"))
    k4.metric("Top-10 overlap", fmt_pct(shift.top_overlap.get(10), 0), help=help_text("top_k_overlap"))
    k5.metric("Flagged", f"{len(shift.flagged)}", help=help_text("importance_flag") + f" Rule: {shift.rule}.")
    explainers = att_o.label if att_o.label == att_p.label else f"{att_o.label} (original) / {att_p.label} (pruned)"
    exact = "" if att_o.exact and att_p.exact else " — a sampled approximation"
    st.caption(
        f"Explainer: {explainers}{exact}; {att_o.n_rows} explained rows and "
        f"{len(sample.background)} background rows drawn from the evaluation rows with seed {sample.seed}. "
        "Attributions are on the log-odds of default (logit); mean |φ| is the average size of a variable's push."
    )

    table = shift.to_frame()
    top = table.head(20).iloc[::-1]
    fig = go.Figure()
    fig.add_bar(y=top[name_col], x=top["importance_original"], orientation="h", name="original", marker_color=ORIGINAL)
    fig.add_bar(y=top[name_col], x=top["importance_pruned"], orientation="h", name="pruned", marker_color=PRUNED)
    fig.update_layout(barmode="group", xaxis_title="mean |SHAP value| (log-odds)", height=max(360, 24 * len(top) + 120))
    chart(fig, shift.long_frame(), "Feature importance, original vs pruned",
          "Longer bars are variables that move the default score more; a pruned model that kept its "
          "reasoning shows bars of similar length in the same order.", key="shap_bars")

    chg = table.assign(share_change_pp=100 * table["share_change"]).sort_values("share_change_pp")
    colors = [BAD if f else (GOOD if v >= 0 else NEUTRAL) for f, v in zip(chg["flagged"], chg["share_change_pp"])]
    fig2 = go.Figure(go.Bar(y=chg[name_col], x=chg["share_change_pp"], orientation="h", marker_color=colors,
                            customdata=np.stack([chg["rank_original"], chg["rank_pruned"]], axis=1),
                            hovertemplate="%{y}: %{x:+.2f} pp (rank %{customdata[0]} → %{customdata[1]})<extra></extra>"))
    fig2.update_layout(xaxis_title="change in share of total importance (percentage points)", height=max(360, 18 * len(chg) + 120))
    chart(fig2, chg, "Change in importance share",
          f"Bars to the right gained weight in the pruned model, to the left lost it; red bars are flagged: {shift.rule}.",
          key="shap_change")

    st.subheader("Flagged features")
    st.caption(f"Rule: {shift.rule}. Sampling noise is what another draw of {shift.n_rows:,} applicants could change; "
               "more explained rows (Attribution settings) make it smaller.")
    if shift.flagged:
        flagged = table[table["flagged"]][[name_col, "rank_original", "rank_pruned", "share_original", "share_pruned", "share_change",
                                           "share_change_se", "flag_reason"]]
        st.dataframe(flagged, hide_index=True, key="shap_flagged", column_config={
            c: st.column_config.NumberColumn(format="percent") for c in ("share_original", "share_pruned", "share_change", "share_change_se")})
        download_csv(flagged, "flagged_features.csv", key="csv_flagged")
    else:
        st.success(f"No {shift.level} changed its importance beyond sampling noise by a share point or three ranks in the top "
                   f"{shift.top_rank}.")

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
    chart(fig3, comp.to_frame(), "This applicant's attributions",
          f"Bars to the right raise this applicant's risk score. P(bad) {comp.pbad_original:.3f} (original) vs "
          f"{comp.pbad_pruned:.3f} (pruned); base values {comp.base_value_original:+.3f} vs {comp.base_value_pruned:+.3f}.",
          key="shap_applicant_chart")


@st.fragment
def explanations() -> None:
    """Settings, then the explanation of the shown setting: computed with a progress bar, or at a click when slow."""
    with st.expander("Attribution settings", expanded=False):
        c1, c2, c3 = st.columns(3)
        c1.number_input("Explained rows", 50, 2000, DEFAULT_ROWS, step=50, key="shap_rows")
        c2.number_input("Background rows", 20, 500, DEFAULT_BACKGROUND, step=10, key="shap_background",
                        help="The average applicant every SHAP value is measured against is the average of these rows.")
        c3.number_input("Sample seed", 0, 10_000, 0, key="shap_seed")
    level = "variable"
    if tuple(ws.data.groups) != tuple(ws.data.input_names):
        level = st.radio(
            "Importance of", ["variable", "feature"], horizontal=True, key="shap_level",
            format_func={"variable": "original variables (dummies summed)", "feature": "model inputs (one-hot dummies)"}.get,
        )
    setting, settings = current_setting(), explain_settings()
    body = st.empty()  # a slow explanation clears it first: another setting's figures are gone before it starts
    try:
        # in memory, or a fraction of a second away: the previous figures stay, greyed under their own
        # caption, until this setting's replace them all at once (no progress bar flashing)
        ready = explain_ready(ws, setting, settings) or explains_quickly(ws, setting, settings)
        progress = None
        if not ready:
            wanted = (ws.key, setting.key, settings.key)
            if not explains_fast(ws, setting) and st.session_state.get("explain_requested") != wanted:
                with body.container():
                    st.info(f"This model is not a plain chain of layers, so SHAP values are estimated by sampling "
                            f"(shap's PermutationExplainer): {settings.rows:,} applicants for two models can take minutes. "
                            "Fewer explained rows (Attribution settings) are quicker.", icon="⏳")
                    clicked = st.button(f"Explain {settings.rows:,} applicants", key="explain_run", type="primary")
                if not clicked:
                    return
                st.session_state["explain_requested"] = wanted  # computed in this run; kept for the next ones
            with body.container():
                bar = st.progress(0.0, text=f"Explaining {settings.rows:,} applicants with both models…")
            progress = progress_to(bar)
        view = explain_view(ws, setting, settings, level, progress=progress)
    except RiskPruneError as err:
        with body.container():
            show_error(err, "Attributions could not be computed: ")
        return
    with body.container():
        draw(view, view.shift.level)


explanations()
draw_verdict_strip()  # reserved under the title; judged once this page's own figures are out
