"""Trade-offs: every method over a ratio sweep, metric against size, the current setting marked."""
from __future__ import annotations

import plotly.graph_objects as go
import streamlit as st

from core.errors import RiskPruneError
from core.formatting import display_na
from core.metrics import HIGHER_IS_BETTER
from core.policy import sweep_verdicts
from core.prune import SIZE_COLUMNS, method_label, pareto_front
from core.workspace import tradeoff_view
from ui.controls import current_setting, decision_rule
from ui.state import workspace_or_stop
from ui.theme import GOOD, METHOD_COLOURS, ORIGINAL, PARETO, PRUNED
from ui.verdict import acceptance, draw_verdict_strip, verdict_strip
from ui.widgets import chart, fix_links, view_or_stop

METRICS = {
    "auc": "AUC", "ks": "KS", "gini": "Gini", "brier": "Brier score", "log_loss": "Log-loss",
    "accuracy": "Accuracy at the cutoff", "approved_bad_rate": "Bad rate of approved",
    "flip_share": "Share of decisions flipped", "psi": "Score PSI vs original",
}
LOWER_IS_BETTER_EXTRA = {"flip_share", "psi"}
EXTREME_APPROVAL = 0.02  # approving fewer or more than this share of applicants is not a credit decision

st.title("Trade-offs")
ws = workspace_or_stop()
verdict_strip()
st.caption("Each method is applied at ratios 0 %, 10 % … 90 % and 95 % to the same model and judged on the same "
           "evaluation rows and cutoff; the sweep runs once per model, data and decision setting, then is cached.")

bar = st.empty()


def _progress(done: int, total: int, what: str) -> None:
    bar.progress(done / total, text=f"Sweep {done}/{total}: {what}")


view = view_or_stop(tradeoff_view, ws, current_setting(), decision_rule(), progress=_progress,
                    context="The trade-offs cannot be computed: ")
cur, result = view.pruned, view.sweep
try:  # which settings the committee would accept (judged once per sweep and policy, then cached)
    verdicts = sweep_verdicts(ws, decision_rule(), result.seed, acceptance(), alignment=current_setting().alignment,
                              progress=lambda d, t, what: bar.progress(d / t, text=f"Judging {d}/{t} settings against the policy: {what}"))
except RiskPruneError as err:
    verdicts = None
    st.warning(f"The settings could not be judged against the acceptance policy: {err}")
bar.empty()

c1, c2 = st.columns(2)
metric = c1.selectbox("Metric", list(METRICS), format_func=METRICS.get, key="tradeoff_metric")
size = c2.selectbox("Size axis", list(SIZE_COLUMNS), format_func=SIZE_COLUMNS.get, key="tradeoff_size")
higher = metric not in LOWER_IS_BETTER_EXTRA and HIGHER_IS_BETTER.get(metric, True)
table = result.table.copy()
if verdicts is not None:
    table = table.merge(verdicts[["method", "ratio", "acceptable", "blocking"]], on=["method", "ratio"], how="left")
# a setting that approves or declines (almost) everyone is small but useless: never on the front
extreme = (table["approval_rate"] < EXTREME_APPROVAL) | (table["approval_rate"] > 1 - EXTREME_APPROVAL)
table["pareto"] = False
table.loc[~extreme, "pareto"] = pareto_front(table[~extreme], size, metric, higher_is_better=higher)
if "acceptable" in table:
    ok = table["acceptable"].fillna(False).astype(bool) & ~extreme
    table["acceptable_pareto"] = False
    if ok.any():
        table.loc[ok, "acceptable_pareto"] = pareto_front(table[ok], size, metric, higher_is_better=higher)

fig = go.Figure()
for i, (method, g) in enumerate(table.groupby("method", sort=False)):
    g = g.sort_values(size)
    fig.add_scatter(x=g[size], y=g[metric], mode="lines+markers", name=method_label(method),
                    line_color=METHOD_COLOURS[i % len(METHOD_COLOURS)], customdata=g[["ratio", "state"]],
                    hovertemplate="%{fullData.name} at %{customdata[0]:.0%} (%{customdata[1]})<br>"
                                  f"{SIZE_COLUMNS[size]}: " + "%{x:,}<br>" + f"{METRICS[metric]}: " + "%{y:.4f}<extra></extra>")
front = table[table["pareto"]].sort_values(size)
fig.add_scatter(x=front[size], y=front[metric], mode="lines", name="Pareto front",
                line=dict(color=PARETO, width=6), opacity=0.25, hoverinfo="skip")
if "acceptable" in table:
    passing = table[table["acceptable"].fillna(False).astype(bool)]
    fig.add_scatter(x=passing[size], y=passing[metric], mode="markers", name="passes the policy",
                    marker=dict(color="rgba(0,0,0,0)", size=13, line=dict(color=GOOD, width=2.5)), hoverinfo="skip")
    acc_front = table[table["acceptable_pareto"]].sort_values(size)
    if len(acc_front):
        fig.add_scatter(x=acc_front[size], y=acc_front[metric], mode="lines", name="acceptable Pareto front",
                        line=dict(color=GOOD, width=3, dash="dash"), hoverinfo="skip")

original_row, current_row = view.point("original"), view.point("current")
fig.add_scatter(x=[original_row[size]], y=[original_row[metric]], mode="markers", name="original",
                marker=dict(color=ORIGINAL, size=14, symbol="circle-open", line_width=3))
fig.add_scatter(x=[current_row[size]], y=[current_row[metric]], mode="markers", name="current setting",
                marker=dict(color=PRUNED, size=16, symbol="star", line=dict(color="black", width=1)))
fig.update_layout(xaxis_title=SIZE_COLUMNS[size], yaxis_title=METRICS[metric], height=520)
chart(fig, table, f"{METRICS[metric]} against model size: {SIZE_COLUMNS[size]}",
      "Each line is one pruning method; points further left are smaller models. The shaded line joins the settings no "
      "other setting beats on both size and this metric; green rings pass every criterion of the acceptance policy and "
      "the dashed green line is the best of those; the star is the current setting.",
      key="tradeoff")
n_extreme = int(extreme.sum())
if n_extreme:
    st.caption(f"{n_extreme} setting(s) approve fewer than {EXTREME_APPROVAL:.0%} or more than {1 - EXTREME_APPROVAL:.0%} of "
               "applicants at this cutoff: they are small only because they no longer decide, so they are kept off both fronts.")
st.caption(f"Current setting: {cur.description}. Decisions at cutoff {result.cutoff:.3f}; sweep seed {result.seed}. "
           + ("Masked methods keep every stored parameter, so on the stored-parameter and file-size axes they "
              "sit at the original's size." if size in ("parameters", "file_bytes", "multiply_adds") else ""))
if cur.fine_tuned:
    st.info("The star is the fine-tuned model; the sweep curves are not fine-tuned.")
for method, why in result.skipped.items():
    st.warning(f"{method_label(method)} was skipped: {why}")

st.subheader("Settings on the Pareto front")
columns = ["method_label", "ratio", "state", size, metric, "delta_auc", "flips", *(["acceptable", "blocking"] if "acceptable" in front else [])]
show = front[columns].rename(columns={"method_label": "method", size: SIZE_COLUMNS[size], metric: METRICS[metric], "delta_auc": "ΔAUC",
                                      "acceptable": "passes the policy", "blocking": "first failing criterion"})
st.dataframe(display_na(show, "—"), hide_index=True, column_config={"ratio": st.column_config.NumberColumn(format="percent")})
st.caption("For this metric every other setting is both larger and no better than one of these; the Acceptance page "
           "finds the smallest setting that passes every criterion.")
fix_links("Acceptance page")
draw_verdict_strip()  # reserved under the title; judged once this page's own figures are out
