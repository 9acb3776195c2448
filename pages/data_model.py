"""Data & model: the files, the outcome, which rows (missing values, evaluation rows), the model's inputs,
and what was detected. Every problem is shown beside the widget that fixes it."""
from __future__ import annotations

import pandas as pd
import streamlit as st

from core.data import MAX_DATA_BYTES, STRATEGY_LABELS, MissingValuesError, numeric_columns, read_table, target_summary, text_columns_note
from core.data.guess import guess_eval_value
from core.errors import ModelError, RiskPruneError
from core.formatting import display_na, fmt_pct, human_size
from core.hashing import sha256_hex
from core.model import MAX_MODEL_BYTES, OUTPUT_KIND_LABELS, OUTPUT_KINDS, load_model
from core.workspace import SAMPLE_ABOVE_ROWS, automatic_rows
from core.workspace.binding import EVAL_HOLDOUT, EVAL_MODE_LABELS, EVAL_MODES, EVAL_SEPARATE_FILE, EVAL_SPLIT_COLUMN, EvaluationRowsError
from ui.state import (
    DATA_CHOICES,
    MODEL_CHOICES,
    Source,
    bound_workspace,
    choices,
    current_model,
    current_table,
    data_summary,
    forget_choices,
    profile_for,
    roles_for,
    split_column_guess,
    target_guess,
    use_sample,
)
from ui.widgets import busy, show_error

DATA_TYPES = ["csv", "txt", "tsv", "parquet", "pq", "xlsx", "xlsm", "xls"]

st.title("Data & model")
st.caption(
    "Upload a TorchScript model and a dataset of applicants with known outcomes. Files stay in "
    "this browser session only; they are never modified and never shared with other sessions."
)


def _accept(kind: str, upload) -> None:
    """Validate an upload before it replaces the working file; a bad file leaves the old one in use."""
    data = upload.getvalue()
    try:
        with busy(f"Checking '{upload.name}' ({human_size(len(data))})…"):
            if kind == "model":
                load_model(data, upload.name)
            else:
                read_table(data, upload.name)
    except RiskPruneError as err:
        st.session_state[f"{kind}_upload_error"] = f"'{upload.name}' was not used: {err}"
        return
    st.session_state.pop(f"{kind}_upload_error", None)
    if kind == "eval":
        st.session_state["eval_source"] = Source(upload.name, sha256_hex(data), data)
        return
    st.session_state[f"{kind}_source"] = Source(upload.name, sha256_hex(data), data)
    forget_choices(MODEL_CHOICES if kind == "model" else DATA_CHOICES)


def _copy(widget_key: str, choice_key: str) -> None:
    """on_change: a widget drawn after binding writes the user's choice where the next binding reads it."""
    st.session_state[choice_key] = st.session_state[widget_key]


def _pick_eval_mode(widget_key: str, split_guess: str | None) -> None:
    mode = st.session_state[widget_key]
    st.session_state["eval_mode"] = mode
    if mode == EVAL_SPLIT_COLUMN and not st.session_state.get("eval_split_column") and split_guess:
        st.session_state["eval_split_column"] = split_guess
        st.session_state.pop("eval_split_value", None)


def _pick_split_column(widget_key: str) -> None:
    st.session_state["eval_split_column"] = st.session_state[widget_key]
    st.session_state.pop("eval_split_value", None)


def interactive_sample_controls(ws) -> None:
    """A large book: how many evaluation rows interactive pages compute on (all-rows figures are shown beside)."""
    auto = automatic_rows(ws.model.n_parameters)
    st.markdown("**Interactive sample**")
    st.caption(f"{len(ws.eval_idx):,} evaluation rows is more than {SAMPLE_ABOVE_ROWS:,}: the analysis pages compute on a "
               "stratified sample (same bad rate, seeded) so every slider move stays quick, and show the headline figures "
               f"on all rows beside it. Automatic size for this model ({ws.model.n_parameters:,} parameters): {auto:,} rows.")
    s1, s2, _ = st.columns([1, 1, 2])
    current = st.session_state.get("sample_rows")
    rkey, skey = f"sample_rows_pick_{current}", "sample_seed_pick"
    s1.number_input("Rows in the sample", 1_000, len(ws.eval_idx), value=current or auto, step=1_000, key=rkey,
                    on_change=_copy, args=(rkey, "sample_rows"),
                    help="More rows: steadier figures, slower slider moves. The sweep and the recommend search use it too.")
    s2.number_input("Sample seed", 0, 1_000_000, value=int(st.session_state.get("sample_seed", 0)), step=1, key=skey,
                    on_change=_copy, args=(skey, "sample_seed"))


def _where(err: Exception) -> str:
    """The section whose widget fixes ``err``: rows (missing values, evaluation rows), outcome, output or inputs."""
    if isinstance(err, (MissingValuesError, EvaluationRowsError)):
        return "rows"
    text = str(err).lower()
    if "missing" in text or "pass-through" in text or "leaving out" in text:
        return "rows"
    if "target column" in text or "outcome" in text:
        return "outcome"
    if isinstance(err, ModelError):
        return "output"
    return "inputs"


# --------------------------------------------------------------------------- files
st.subheader("Files")
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
    up = st.file_uploader("Dataset (CSV, Parquet or Excel)", type=DATA_TYPES, key="data_upload",
                          max_upload_size=MAX_DATA_BYTES // (1024 * 1024))
    if up is not None and st.session_state.get("data_upload_id") != up.file_id:
        st.session_state["data_upload_id"] = up.file_id
        _accept("data", up)

for kind in ("model", "data"):
    if st.session_state.get(f"{kind}_upload_error"):
        st.error(st.session_state[f"{kind}_upload_error"])

msrc: Source = st.session_state["model_source"]
dsrc: Source = st.session_state["data_source"]
mkey, dkey = msrc.sha256[:12], dsrc.sha256[:12]
c1, c2 = st.columns([3, 1])
c1.markdown(
    f"**In use:** model `{msrc.name}`{' (sample)' if msrc.is_sample else ''} · "
    f"data `{dsrc.name}`{' (sample)' if dsrc.is_sample else ''}"
)
if c2.button("Back to the sample", key="back_to_sample", disabled=msrc.is_sample and dsrc.is_sample):
    use_sample()
    for kind in ("model", "data", "eval"):
        st.session_state.pop(f"{kind}_upload_error", None)
    st.rerun()

try:
    model = current_model()
    table = current_table()
except RiskPruneError as err:  # a cached file that no longer loads (should not happen): say so
    show_error(err)
    st.stop()

if len(table.sheets) > 1:
    st.session_state["sheet"] = st.selectbox("Sheet", table.sheets, index=table.sheets.index(st.session_state.get("sheet") or table.sheets[0]),
                                             key=f"sheet_pick_{dkey}")

# --------------------------------------------------------------------------- outcome
st.subheader("Outcome")
frame = table.frame
cols = [str(c) for c in frame.columns]
guess = target_guess(model, table)
c = choices(model, table)
col_t, col_b = st.columns(2)
target = col_t.selectbox(
    "Target column (the outcome)", cols, index=cols.index(c["target"]) if c["target"] in cols else None,
    placeholder="Pick the column that says whether the applicant defaulted", key=f"target_column_{dkey}",
)
ready = target is not None
summary = None
if not ready:
    st.warning(f"Pick the target column: no column was preselected because {guess.reason}. Nothing is computed until "
               "the outcome is known (a wrong guess would make every number wrong).")
else:
    st.session_state["target"] = target
    if target == guess.column:
        st.caption(f"Proposed because {guess.reason}.")
    c = choices(model, table)
    try:
        summary = data_summary(table, target)
    except RiskPruneError as err:
        show_error(err)
        ready = False
if summary is not None:
    labels = summary.labels
    counts = {v.value: v.count for v in summary.values}
    if len(labels) < 2:
        st.error(f"{summary.problem} Pick another target column above.")
        ready = False
    else:
        bad = col_b.selectbox(
            "Value meaning bad (default)", labels, index=labels.index(c["bad_value"]) if c["bad_value"] in labels else len(labels) - 1,
            format_func=lambda v: f"{v} ({counts[v]:,} rows)", key=f"bad_value_pick_{dkey}_{target}",
        )
        st.session_state["bad_value"] = bad
        if len(labels) > 2:
            rest = col_b.checkbox("Count every other value as good (bad vs rest)", key=f"one_vs_rest_pick_{dkey}_{target}",
                                  value=bool(st.session_state.get("one_vs_rest")))
            st.session_state["one_vs_rest"] = rest
            if not rest:
                st.error(f"{summary.problem} Tick 'bad vs rest' beside the value meaning bad, or pick a binary target column.")
                ready = False
        else:
            st.session_state["one_vs_rest"] = False
        bad_n = counts.get(bad, 0)
        known = sum(counts.values())
        st.caption(f"'{target}': {', '.join(f'{v} {n:,}' for v, n in counts.items())}"
                   + (f"; {summary.n_missing:,} row(s) without an outcome (left out)" if summary.n_missing else "")
                   + f". Bad rate {bad_n / known:.1%} with '{bad}' as bad.")
outcome_box = st.container()

# --------------------------------------------------------------------------- rows (drawn after binding)
rows_box = st.container()

# --------------------------------------------------------------------------- model inputs
st.subheader("Model inputs")
if model.schema is not None:
    st.markdown(
        f":material/schema: The model carries its feature schema: {len(model.schema.features)} variables → "
        f"{len(model.schema.input_names)} inputs (one-hot categories and scaling applied automatically)."
    )
elif target is not None:
    c = choices(model, table)
    split = st.session_state.get("eval_split_column") if st.session_state.get("eval_mode") == EVAL_SPLIT_COLUMN else None
    numeric = [x for x in numeric_columns(frame, exclude=target) if x != split]
    default = [x for x in (c["feature_columns"] or ()) if x in numeric]
    width = f"{model.n_inputs} inputs" if model.n_inputs else "inputs (their number is checked by running it on the data)"
    picked = st.multiselect(
        f"Dataset columns fed to the model's {width}, in input order",
        numeric, default=default,
        help="The model has no embedded schema, so pick the numeric columns it was trained on; "
        "the order of selection is the order of the inputs. The default skips the target, identifier columns "
        "(e.g. applicant_id) and the split column, and takes the first numeric columns in file order.",
        key=f"feature_columns_pick_{mkey}_{dkey}_{target}",
    )
    st.session_state["feature_columns"] = list(picked)
    st.session_state["feature_columns_target"] = target
    st.caption(f"{len(picked)} selected of {model.n_inputs} needed." if model.n_inputs else
               f"{len(picked)} selected; the model is run on them to check that it reads that many columns.")
    roles = roles_for(table, target)
    ids = [f for f in roles.identifiers if f.column in set(roles.numeric)]
    if ids:
        st.caption("Not offered by default, as identifiers: " + "; ".join(f"'{f.column}' ({f.reason})" for f in ids) + ".")
    text_note = text_columns_note([t for t in roles.text if t not in {f.column for f in roles.identifiers}])
    if text_note:
        st.info(text_note)
inputs_box = st.container()

kinds = ["auto", *OUTPUT_KINDS]
override = st.session_state.get("output_override") or "auto"
chosen = st.selectbox(
    "Output meaning", kinds, index=kinds.index(override),
    format_func=lambda k: "Detect automatically" if k == "auto" else OUTPUT_KIND_LABELS[k], key=f"output_kind_pick_{mkey}",
)
st.session_state["output_override"] = None if chosen == "auto" else chosen
output_box = st.container()

# --------------------------------------------------------------------------- bind
ws, err = None, None
if ready:
    try:
        ws = bound_workspace()
    except RiskPruneError as e:
        err = e
boxes = {"outcome": outcome_box, "inputs": inputs_box, "output": output_box}
if err is not None and _where(err) != "rows":
    with boxes[_where(err)]:
        show_error(err)

with rows_box:
    st.subheader("Rows")
    # missing values: what is missing, the three choices and their consequences
    chosen_missing = st.session_state.get("missing")
    rows_err = err if err is not None and _where(err) == "rows" and not isinstance(err, EvaluationRowsError) else None
    if rows_err is not None or (ws is not None and ws.missing_values.anything_missing):
        st.markdown("**Missing values**")
        if isinstance(err, MissingValuesError):
            st.error(err.message)
            st.dataframe(err.to_frame(), hide_index=True, key="missing_table",
                         column_config={"share": st.column_config.NumberColumn("share", format="percent")})
            options = [ch.strategy for ch in err.choices]
            consequences = {ch.strategy: ch.consequence for ch in err.choices}
        else:
            if ws is not None:
                st.info(ws.missing_values.summary)
                st.dataframe(ws.missing_values.to_frame(), hide_index=True, key="missing_table",
                             column_config={"share": st.column_config.NumberColumn("share", format="percent")})
            options = list(STRATEGY_LABELS)
            consequences = {}
        wkey = f"missing_pick_{mkey}_{dkey}_{chosen_missing}"
        st.radio(
            "How to handle them", options, index=options.index(chosen_missing) if chosen_missing in options else None,
            format_func=lambda s: STRATEGY_LABELS[s] + (f" — {consequences[s]}" if s in consequences else ""),
            key=wkey, on_change=_copy, args=(wkey, "missing"),
            help="Nothing is changed until one is chosen; the choice is recorded in the manifest and stated in the report.",
        )
        if rows_err is not None and not isinstance(rows_err, MissingValuesError):  # e.g. pass-through refused
            show_error(rows_err)
    # evaluation rows
    st.markdown("**Evaluation rows**")
    session_mode = st.session_state.get("eval_mode")
    effective = session_mode or (ws.eval_mode if ws is not None else None)
    split_guess = split_column_guess(table, target) if ready else None
    wkey = f"eval_mode_pick_{mkey}_{dkey}_{effective}"
    mode = st.radio(
        "Which rows evaluate the model", list(EVAL_MODES), index=EVAL_MODES.index(effective) if effective else None,
        format_func=EVAL_MODE_LABELS.get, key=wkey, on_change=_pick_eval_mode, args=(wkey, split_guess),
        help="Metrics on rows the model was trained on are optimistic. The rows that do not evaluate fine-tune a pruned model.",
    )
    if mode == EVAL_SPLIT_COLUMN and ready:
        split_cols = [x for x in cols if x != target]
        current = st.session_state.get("eval_split_column")
        r1, r2 = st.columns(2)
        skey = f"eval_split_column_pick_{dkey}_{current}"
        col = r1.selectbox("Split column", split_cols, index=split_cols.index(current) if current in split_cols else None,
                           placeholder="Pick the column that marks evaluation rows", key=skey,
                           on_change=_pick_split_column, args=(skey,))
        if col is not None:
            try:
                split_summary = target_summary(frame, col)
            except RiskPruneError as e:
                show_error(e)
            else:
                values = split_summary.labels
                n_of = {v.value: v.count for v in split_summary.values}
                value = st.session_state.get("eval_split_value") or guess_eval_value(values)
                vkey = f"eval_split_value_pick_{dkey}_{col}_{value}"
                r2.selectbox("Value that marks evaluation rows", values, index=values.index(value) if value in values else None,
                             format_func=lambda v: f"{v} ({n_of[v]:,} rows)", placeholder="Pick the evaluation value",
                             key=vkey, on_change=_copy, args=(vkey, "eval_split_value"))
    elif mode == EVAL_SEPARATE_FILE:
        up = st.file_uploader("Evaluation file (same columns as the dataset)", type=DATA_TYPES, key="eval_upload",
                              max_upload_size=MAX_DATA_BYTES // (1024 * 1024))
        if up is not None and st.session_state.get("eval_upload_id") != up.file_id:
            st.session_state["eval_upload_id"] = up.file_id
            _accept("eval", up)
            st.rerun()
        if st.session_state.get("eval_upload_error"):
            st.error(st.session_state["eval_upload_error"])
        esrc = st.session_state.get("eval_source")
        if esrc is not None:
            st.caption(f"Evaluation file in use: `{esrc.name}`; every row of `{dsrc.name}` becomes a training row.")
    elif mode == EVAL_HOLDOUT:
        seed_default = ws.split_seed if ws is not None else 42
        hkey = f"eval_seed_pick_{dkey}"
        st.columns(4)[0].number_input("Hold-out seed", 0, 1_000_000, value=int(st.session_state.get("eval_seed", seed_default)), step=1,
                        key=hkey, on_change=_copy, args=(hkey, "eval_seed"))
    if isinstance(err, EvaluationRowsError):
        show_error(err)
    if ws is not None:
        st.caption(ws.split_note)
        if ws.evaluation_warning:
            st.warning(ws.evaluation_warning, icon="⚠️")
        if len(ws.eval_idx) > SAMPLE_ABOVE_ROWS:
            interactive_sample_controls(ws)

# --------------------------------------------------------------------------- what was detected
st.subheader("What was detected")
if ws is not None:
    k1, k2, k3, k4, k5 = st.columns(5)
    k1.metric("Output", ws.output.kind.replace("_", " "), help=ws.output.label)
    k2.metric("Model inputs", f"{ws.model.n_inputs}")
    k3.metric("Rows", f"{ws.data.n_rows:,}")
    k4.metric("Bad rate", fmt_pct(ws.data.bad_rate), help="Share of applicants whose outcome is bad (defaulted).")
    k5.metric("Evaluation rows", f"{len(ws.eval_idx):,}")
    st.markdown(
        f"- **Output:** {ws.output.label} — {ws.output.how}.\n"
        f"- **Structure:** {'compactable: ' if ws.model.eager is not None else 'masking only: '}{ws.model.structure_note}.\n"
        f"- **Outcome:** {ws.data.target_rule}.\n"
        f"- **Rows:** {ws.split_note}"
    )
    st.dataframe(  # "—": layers without a width of their own (activations, dropout)
        display_na(pd.DataFrame([l.__dict__ for l in ws.model.layers]).rename(
            columns={"name": "layer", "kind": "type", "in_features": "inputs", "out_features": "outputs"}
        ), "—"),
        hide_index=True, key="layers_table",
    )
notes = [*table.notes, *(ws.data.notes if ws is not None else ())]
if notes:
    st.markdown("**Notes on the data**")
    st.markdown("\n".join(f"- {n}" for n in dict.fromkeys(notes)))
try:
    profile = profile_for(model, table, target)
except RiskPruneError as e:
    show_error(e)
else:
    st.markdown(f"**Data profile** — {profile.n_rows:,} rows × {profile.n_columns:,} columns")
    st.dataframe(display_na(profile.to_frame(), "—"), hide_index=True, key="profile_table",  # "—": no range (text columns)
                 column_config={"missing share": st.column_config.NumberColumn("missing share", format="percent")})
    if profile.target is not None:
        st.caption(f"Class balance of the target '{profile.target.column}':")
        st.dataframe(profile.target.to_frame(), hide_index=True, key="target_balance",
                     column_config={"share": st.column_config.NumberColumn("share", format="percent")})
with st.expander("Preview the data (first 20 rows)"):
    st.dataframe(frame.head(20))
