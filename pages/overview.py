"""Overview: what is loaded, how good it is, and where to go next."""
from __future__ import annotations

import streamlit as st

from core.formatting import fmt_num, fmt_pct
from core.glossary import help_text
from core.workspace import overview
from ui.state import workspace_or_stop
from ui.verdict import draw_verdict_strip, verdict_strip
from ui.widgets import view_or_stop

st.title("RiskPrune")
st.markdown(
    "Prune a credit-risk neural network and see exactly what it costs in risk terms: "
    "discrimination, calibration, stability, decisions and explanations, original next to pruned."
)
ws = workspace_or_stop()
verdict_strip()
view = view_or_stop(overview, ws)
src = st.session_state["model_source"]
dsrc = st.session_state["data_source"]

st.subheader("Model")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Model", src.name + (" (sample)" if src.is_sample else ""))
c2.metric("Parameters", f"{view.n_parameters:,}")
c3.metric("Inputs", f"{view.n_inputs}")
c4.metric("Linear layers", f"{view.n_linear}")
st.caption(f"Layers: {view.layer_text}. Output: {view.output_label}.")

st.subheader("Data")
d1, d2, d3, d4 = st.columns(4)
d1.metric("Dataset", dsrc.name + (" (sample)" if dsrc.is_sample else ""))
d2.metric("Rows", f"{view.n_rows:,}")
d3.metric("Bad rate", fmt_pct(view.bad_rate), help="Share of applicants whose outcome is bad (defaulted).")
d4.metric("Evaluation rows", f"{view.n_eval:,}",
          help="The applicants every figure is measured on; how they are chosen is set on the Data & model page.")

st.subheader("Original model performance")
p1, p2, p3 = st.columns(3)
p1.metric(view.auc_label, fmt_num(view.auc), help=help_text("auc"))
p2.metric("Gini", fmt_num(view.gini), help=help_text("gini"))
p3.metric("KS", fmt_num(view.ks), help=help_text("ks"))
st.caption(view.split_note)

st.divider()
st.markdown(
    "**Next:** move the pruning ratio in the sidebar, then open **Prune** for layer sparsity and "
    "size, **Trade-offs** for the accuracy-vs-size curves, **Explain** for SHAP importance shifts, "
    "**Decision impact** for approvals and flips, and **Report & export** for the committee pack."
)
draw_verdict_strip()  # reserved under the title; judged once this page's own figures are out
