"""Overview: what is loaded, how good it is, and where to go next."""
from __future__ import annotations

import streamlit as st

from core.metrics import auc, gini, ks
from ui.state import workspace_or_stop

st.title("RiskPrune")
st.markdown(
    "Prune a credit-risk neural network and see exactly what it costs in risk terms: "
    "discrimination, calibration, stability, decisions and explanations, original next to pruned."
)
ws = workspace_or_stop()
src = st.session_state["model_source"]
dsrc = st.session_state["data_source"]

st.subheader("Model")
c1, c2, c3, c4 = st.columns(4)
c1.metric("Model", src.name + (" (sample)" if src.is_sample else ""))
c2.metric("Parameters", f"{ws.model.n_parameters:,}")
c3.metric("Inputs", f"{ws.model.n_inputs}")
c4.metric("Linear layers", f"{sum(1 for l in ws.model.layers if l.kind == 'Linear')}")
st.caption(
    f"Layers: {' → '.join(l.kind + (f'({l.in_features}→{l.out_features})' if l.kind == 'Linear' else '') for l in ws.model.layers)}. "
    f"Output: {ws.output.label}."
)

st.subheader("Data")
d1, d2, d3, d4 = st.columns(4)
d1.metric("Dataset", dsrc.name + (" (sample)" if dsrc.is_sample else ""))
d2.metric("Rows", f"{ws.data.n_rows:,}")
d3.metric("Bad rate", f"{ws.data.bad_rate:.1%}")
d4.metric("Evaluation rows", f"{len(ws.eval_idx):,}")

st.subheader("Original model performance")
label = "Test AUC" if ws.eval_mode == "holdout" else "AUC"
p1, p2, p3 = st.columns(3)
p1.metric(label, f"{auc(ws.y_eval, ws.original_scores):.4f}")
p2.metric("Gini", f"{gini(ws.y_eval, ws.original_scores):.4f}")
p3.metric("KS", f"{ks(ws.y_eval, ws.original_scores):.4f}")
st.caption(ws.split_note)

st.divider()
st.markdown(
    "**Next:** move the pruning ratio in the sidebar, then open **Prune** for layer sparsity and "
    "size, **Trade-offs** for the accuracy-vs-size curves, **Explain** for SHAP importance shifts, "
    "**Decision impact** for approvals and flips, and **Report & export** for the committee pack."
)
