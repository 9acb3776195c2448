"""Data & model: upload a TorchScript model and a dataset, choose target / bad value / inputs."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import MAX_DATA_BYTES, default_inputs, numeric_columns, read_table, target_values
from core.errors import RiskPruneError
from core.hashing import sha256_hex
from core.model import MAX_MODEL_BYTES, OUTPUT_KIND_LABELS, OUTPUT_KINDS, load_model
from core.workspace import EVAL_ALL, EVAL_HOLDOUT
from ui.state import Source, choices, current_model, current_table, forget_choices, use_sample, workspace
from ui.widgets import show_error

st.title("Data & model")
st.caption(
    "Upload a TorchScript model and a dataset of applicants with known outcomes. Files stay in "
    "this browser session only; they are never modified and never shared with other sessions."
)


def _accept(kind: str, upload) -> None:
    """Validate an upload before it replaces the working file; a bad file leaves the old one in use."""
    data = upload.getvalue()
    try:
        if kind == "model":
            load_model(data, upload.name)
        else:
            read_table(data, upload.name)
    except RiskPruneError as err:
        st.session_state[f"{kind}_upload_error"] = f"'{upload.name}' was not used: {err}"
        return
    st.session_state[f"{kind}_source"] = Source(upload.name, sha256_hex(data), data)
    st.session_state.pop(f"{kind}_upload_error", None)
    keys = ("output_override", "feature_columns") if kind == "model" else ("target", "bad_value", "feature_columns", "sheet")
    forget_choices((*keys, "eval_mode"))


col_m, col_d = st.columns(2)
with col_m:
    up = st.file_uploader(
        "Model (TorchScript .pt)", type=["pt", "pth", "ts", "zip"], key="model_upload",
        max_upload_size=MAX_MODEL_BYTES // (1024 * 1024),
        help="Export with torch.jit.script(model).save('model.pt'). Pickled models are refused.",
    )
    if up is not None and st.session_state.get("model_upload_id") != up.file_id:
        st.session_state["model_upload_id"] = up.file_id
        _accept("model", up)
with col_d:
    up = st.file_uploader(
        "Dataset (CSV, Parquet or Excel)", type=["csv", "txt", "tsv", "parquet", "pq", "xlsx", "xlsm", "xls"],
        key="data_upload", max_upload_size=MAX_DATA_BYTES // (1024 * 1024),
    )
    if up is not None and st.session_state.get("data_upload_id") != up.file_id:
        st.session_state["data_upload_id"] = up.file_id
        _accept("data", up)

for kind in ("model", "data"):
    if st.session_state.get(f"{kind}_upload_error"):
        st.error(st.session_state[f"{kind}_upload_error"])

msrc: Source = st.session_state["model_source"]
dsrc: Source = st.session_state["data_source"]
c1, c2 = st.columns([3, 1])
c1.markdown(
    f"**In use:** model `{msrc.name}`{' (sample)' if msrc.is_sample else ''} · "
    f"data `{dsrc.name}`{' (sample)' if dsrc.is_sample else ''}"
)
if c2.button("Back to the sample", key="back_to_sample", disabled=msrc.is_sample and dsrc.is_sample):
    use_sample()
    for kind in ("model", "data"):
        st.session_state.pop(f"{kind}_upload_error", None)
    st.rerun()

try:
    model = current_model()
    table = current_table()
except RiskPruneError as err:  # a cached file that no longer loads (should not happen): say so
    show_error(err)
    st.stop()

for note in table.notes:
    st.info(note)
if len(table.sheets) > 1:
    st.session_state["sheet"] = st.selectbox("Sheet", table.sheets, index=table.sheets.index(st.session_state.get("sheet") or table.sheets[0]),
                                             key=f"sheet_pick_{dsrc.sha256[:12]}")

st.subheader("Outcome")
c = choices(model, table)
cols = list(table.frame.columns)
col_t, col_b, col_e = st.columns(3)
target = col_t.selectbox("Target column (the outcome)", cols, index=cols.index(c["target"]), key=f"target_column_{dsrc.sha256[:12]}")
st.session_state["target"] = target
try:
    values = target_values(table.frame, target)
except RiskPruneError as err:
    show_error(err)
    st.stop()
if not values:
    st.error(f"The column '{target}' has no values.")
    st.stop()
bad_index = values.index(c["bad_value"]) if (target == c["target"] and c["bad_value"] in values) else len(values) - 1
st.session_state["bad_value"] = col_b.selectbox("Value meaning bad (default)", values, index=bad_index,
                                                key=f"bad_value_pick_{dsrc.sha256[:12]}_{target}")
eval_labels = {EVAL_HOLDOUT: "Held-out test split (enables fine-tuning)", EVAL_ALL: "All rows"}
current_eval = st.session_state.get("eval_mode")

st.subheader("Model inputs")
if model.schema is not None:
    st.success(
        f"The model carries its feature schema: {len(model.schema.features)} variables → "
        f"{len(model.schema.input_names)} inputs (one-hot categories and scaling applied automatically)."
    )
else:
    numeric = numeric_columns(table.frame, exclude=target)
    default = [x for x in (st.session_state.get("feature_columns") or default_inputs(table.frame, target, model.n_inputs))
               if x in numeric]
    picked = st.multiselect(
        f"Dataset columns fed to the model's {model.n_inputs} inputs, in input order",
        numeric, default=default,
        help="The model has no embedded schema, so pick the numeric columns it was trained on; "
        "the order of selection is the order of the inputs. The default skips identifier columns "
        "(e.g. applicant_id) and takes the first numeric columns in file order.",
        key=f"feature_columns_pick_{msrc.sha256[:12]}_{dsrc.sha256[:12]}",
    )
    st.session_state["feature_columns"] = list(picked)
    st.caption(f"{len(picked)} selected of {model.n_inputs} needed.")

kinds = ["auto", *OUTPUT_KINDS]
override = st.session_state.get("output_override") or "auto"
chosen = st.selectbox(
    "Output meaning", kinds, index=kinds.index(override),
    format_func=lambda k: "Detect automatically" if k == "auto" else OUTPUT_KIND_LABELS[k], key=f"output_kind_pick_{msrc.sha256[:12]}",
)
st.session_state["output_override"] = None if chosen == "auto" else chosen

try:
    ws = workspace()
except RiskPruneError as err:
    show_error(err)
    st.stop()

mode = col_e.radio(
    "Evaluation rows", [EVAL_HOLDOUT, EVAL_ALL], index=[EVAL_HOLDOUT, EVAL_ALL].index(ws.eval_mode),
    format_func=eval_labels.get, horizontal=False, key=f"eval_mode_pick_{msrc.sha256[:12]}_{dsrc.sha256[:12]}",
)
if mode != ws.eval_mode:
    st.session_state["eval_mode"] = mode
    st.rerun()

st.subheader("What was detected")
k1, k2, k3, k4, k5 = st.columns(5)
k1.metric("Output", ws.output.kind.replace("_", " "), help=ws.output.label)
k2.metric("Model inputs", f"{ws.model.n_inputs}")
k3.metric("Rows", f"{ws.data.n_rows:,}")
k4.metric("Bad rate", f"{ws.data.bad_rate:.1%}")
k5.metric("Evaluation rows", f"{len(ws.eval_idx):,}")
st.markdown(
    f"- **Output:** {ws.output.label} — {ws.output.how}.\n"
    f"- **Structure:** {'compactable: ' if ws.model.eager is not None else 'masking only: '}{ws.model.structure_note}.\n"
    f"- **Rows:** {ws.split_note}"
)
st.dataframe(
    pd.DataFrame([l.__dict__ for l in ws.model.layers]).rename(
        columns={"name": "layer", "kind": "type", "in_features": "inputs", "out_features": "outputs"}
    ),
    hide_index=True,
)
with st.expander("Preview the data (first 20 rows)"):
    st.dataframe(table.frame.head(20))
