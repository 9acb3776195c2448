"""Prune: what the current setting removes, layer by layer, and what it costs in size and risk."""
from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.alignment import AFFINE, ISOTONIC, NONE, TO_ORIGINAL, TO_OUTCOMES
from core.errors import RiskPruneError
from core.formatting import fmt_num, fmt_signed, human_size
from core.glossary import help_text
from core.prune import COMPACTED, WEIGHT_KIND_LABELS, WEIGHT_KINDS, FineTuneSpec, get_method, prunable_layers
from core.workspace import Setting, blocks_for, evaluation_workspace, is_computed, layer_sensitivity_for, prune_view, prune_workspace
from ui.controls import current_setting, decision_rule, fine_tunings, keep_setting, keep_weight_kinds, page_widget_key, weight_kinds
from ui.population import all_rows_panel
from ui.state import workspace_or_stop
from ui.theme import METHOD_COLOURS, NEUTRAL, ORIGINAL, PRUNED
from ui.verdict import draw_verdict_strip, verdict_strip
from ui.widgets import busy, chart, download_csv, fix_links, progress_to, reference_line, show_error

MAX_HEATMAP_CELLS = 256  # per side; larger layers are shown as the share kept per block

st.title("Prune")
ws = workspace_or_stop()
verdict_strip()
setting = current_setting()
spec = setting.prune


def per_layer_editor(expanded: bool) -> None:
    """Per-layer ratios; drawn even when the current setting is invalid, so the user can fix it here."""
    method = get_method(spec.method)
    with st.expander("Per-layer settings", expanded=expanded):
        st.caption("Give a layer its own pruning ratio; leave a box empty to follow the sidebar's global ratio. "
                   "Output units are never removed by neuron methods, and input pruning has no per-layer setting.")
        layer_list = prunable_layers(ws.model)
        labels = {l.name: l.label for l in layer_list}
        cols_ = st.columns(min(4, len(layer_list)))
        overrides: dict[str, float] = {}
        dropped: list[str] = []
        for i, l in enumerate(layer_list):
            disabled = (method.removes_neurons and l.is_output) or not method.per_layer
            val = cols_[i % len(cols_)].number_input(
                l.label, 0.0, 0.95, value=None, step=0.05,
                key=f"override_{l.name}", disabled=disabled, placeholder=f"global {spec.ratio:.0%}",
            )
            if val is not None and not disabled:
                overrides[l.name] = float(val)
            elif val is not None:
                dropped.append(l.name)
        st.session_state["override_labels"] = labels  # the sidebar names overridden layers by these labels
        if overrides != (st.session_state.get("overrides") or {}):
            st.session_state["overrides"] = overrides
            if dropped:  # e.g. a ratio set for the output layer, then a neuron method chosen
                st.session_state["overrides_note"] = (
                    f"The per-layer setting of {', '.join(labels[d] for d in dropped)} does not apply to {method.label} and "
                    "is not used (output units are never removed; input pruning has no per-layer setting).")
            st.rerun()
        if st.session_state.get("overrides") and st.button("Clear per-layer settings", key="clear_overrides"):
            st.session_state["overrides"] = {}
            for l in layer_list:
                st.session_state.pop(f"override_{l.name}", None)
            st.rerun()


def weight_kinds_choice() -> None:
    """Which kinds of weight matrix a weight method may zero (e.g. keep embedding tables dense)."""
    present = [k for k in WEIGHT_KINDS if any(l.weight_kind == k for l in prunable_layers(ws.model))]
    if len(present) < 2 or not get_method(spec.method).unstructured:
        return
    widget = f"weight_kinds_{ws.model.content_hash[:12]}"
    chosen = st.multiselect("Weight matrices this method may prune", present, default=weight_kinds() or present,
                            format_func=WEIGHT_KIND_LABELS.get, key=widget, on_change=keep_weight_kinds, args=(widget,),
                            help="Leave a kind out to keep it dense, e.g. embedding tables that encode categorical codes.")
    if not chosen:
        st.warning("Choose at least one kind of weight matrix; every kind is pruned meanwhile.")


weight_kinds_choice()
if st.session_state.get("overrides_note"):
    st.info(st.session_state.pop("overrides_note"))
try:
    with busy(f"Pruning the model and measuring it on {len(ws.eval_idx):,} applicants…",
              ready=is_computed(evaluation_workspace(ws, setting), setting)):
        view = prune_view(ws, setting, decision_rule())
except RiskPruneError as err:
    show_error(err, "This pruning setting cannot be applied: ")
    per_layer_editor(expanded=True)
    st.stop()
cur, cmp, res = view.pruned, view.comparison, view.pruned.result

badge = st.success if res.state == COMPACTED else st.info
badge(f"**{cur.state_badge}.** {res.state_note}.")
st.caption(f"Shown model: {cur.description}. Decisions: cutoff {cmp.cutoff.cutoff:.3f} — {cmp.cutoff.how}.")

o, p = res.original_size, res.size


def pct(new: float, old: float) -> str:
    return f"{(new - old) / old:+.1%}" if old else "n/a"


k = st.columns(7)
k[0].metric("Sparsity", f"{res.sparsity:.0%}", help=help_text("sparsity"))
k[1].metric("Parameters", f"{p.parameters:,}", f"{pct(p.parameters, o.parameters)} vs {o.parameters:,}", delta_color="off",
            help="Stored parameters; only compaction lowers this. " + help_text("compacted"))
k[2].metric("Non-zeros", f"{p.nonzeros:,}", f"{pct(p.nonzeros, o.nonzeros)} vs {o.nonzeros:,}", delta_color="off",
            help="Parameters that are not zero; masking lowers this but not the stored parameters. " + help_text("masked"))
k[3].metric("File size", human_size(p.file_bytes), f"{pct(p.file_bytes, o.file_bytes)} vs {human_size(o.file_bytes)}", delta_color="off",
            help="Bytes of the model saved as TorchScript with its feature schema, measured by saving it; "
                 "the download on Report & export adds the pruning settings (about 1 KB).")
k[4].metric("AUC", fmt_num(cmp.pruned.auc), f"{fmt_signed(cmp.delta('auc'))} vs {fmt_num(cmp.original.auc)}", help=help_text("auc"))
k[5].metric("KS", fmt_num(cmp.pruned.ks), f"{fmt_signed(cmp.delta('ks'))} vs {fmt_num(cmp.original.ks)}", help=help_text("ks"))
k[6].metric("Decision flips", f"{cmp.flips.count:,}", f"{cmp.flips.share:.1%} of {cmp.flips.n:,}", delta_color="off", delta_arrow="off",
            help=help_text("flips"))
if cmp.ci:
    parts = []
    for name, label in (("auc", "ΔAUC"), ("ks", "ΔKS")):
        ci = cmp.ci[name]
        verdict = "larger than sampling noise" if ci.excludes_zero else "within sampling noise"
        parts.append(f"{label} {ci.delta:+.4f} (95 % CI {ci.low:+.4f} to {ci.high:+.4f}: {verdict})")
    how = "; ".join(f"{label} by {cmp.ci[name].describe}" for name, label in (("auc", "ΔAUC"), ("ks", "ΔKS")))
    st.caption("; ".join(parts) + f". Over the {cmp.flips.n:,} evaluation applicants: {how}.")
all_rows_box = st.container()  # filled last (large books only): the headline figures on every evaluation row

layers = view.layers
by_block = "block" in layers and layers["block"].nunique() > 1  # a chain is one block: no legend needed
fig = go.Figure()
groups = layers.groupby("block", sort=False) if by_block else [("pruned", layers)]
for i, (block, part) in enumerate(groups):
    fig.add_bar(x=part["label"], y=part["sparsity"], name=str(block),
                marker_color=METHOD_COLOURS[i % len(METHOD_COLOURS)] if by_block else PRUNED,
                text=[f"{s:.0%}" for s in part["sparsity"]], textposition="outside",
                customdata=np.stack([part["nonzero_weights"], part["total_weights"], part["neurons_kept"], part["neurons_total"],
                                     part["state"] if "state" in part else [res.state] * len(part)], axis=1),
                hovertemplate="%{x}: %{y:.1%} removed (%{customdata[4]})<br>%{customdata[0]:,} of %{customdata[1]:,} weights left"
                              "<br>%{customdata[2]} of %{customdata[3]} units active<extra>" + str(block) + "</extra>")
reference_line(fig, y=res.sparsity, text=f"whole model {res.sparsity:.0%}", colour=NEUTRAL)
fig.update_layout(yaxis_tickformat=".0%", yaxis_range=[0, 1.08], xaxis_title="weight matrix", yaxis_title="weights removed",
                  xaxis_type="category", showlegend=by_block, legend_title_text="block")
chart(fig, layers, "Layer sparsity",
      "Each bar is the share of a weight matrix that this setting removes" + (", coloured by the block it belongs to" if by_block else "")
      + "; the original model has none removed.", key="layer_sparsity")
if by_block:
    table = layers[["block", "label", "kind", "state", "total_weights", "nonzero_weights", "sparsity", "neurons_kept",
                    "neurons_total"]].rename(columns={"label": "weight matrix", "total_weights": "weights", "nonzero_weights": "non-zero",
                                                      "neurons_kept": "units kept", "neurons_total": "units"})
    st.dataframe(table, hide_index=True, key="layer_table", column_config={"sparsity": st.column_config.NumberColumn(format="percent")})
    with st.expander("What each block offers", expanded=False):
        st.caption("Every weight matrix can be zeroed by the weight methods (masked: the shapes stay). Structured units "
                   "leave the model (compacted) where every tensor wired to them can shrink with them, and are masked "
                   "otherwise; the reason is given.")
        offers = blocks_for(ws)
        st.dataframe(offers[["block", "layer", "kind", "unit", "units", "methods", "compaction", "why"]], hide_index=True,
                     key="block_offers")

st.subheader("Mask of one layer")
names = list(layers["layer"])
layer_labels = dict(zip(layers["layer"], layers["label"]))
layer_name = st.selectbox("Layer", names, key="mask_layer", format_func=layer_labels.get)
w = view.mask(layer_name)
kept = (w != 0).astype(float)
rows, cols = kept.shape
br, bc = int(np.ceil(rows / MAX_HEATMAP_CELLS)), int(np.ceil(cols / MAX_HEATMAP_CELLS))
if br > 1 or bc > 1:
    pad = np.full((int(np.ceil(rows / br)) * br, int(np.ceil(cols / bc)) * bc), np.nan)
    pad[:rows, :cols] = kept
    kept_view = np.nanmean(pad.reshape(pad.shape[0] // br, br, pad.shape[1] // bc, bc), axis=(1, 3))
    note = f" Shown in blocks of {br}×{bc} weights (colour = share kept)."
else:
    kept_view, note = kept, ""
heat = go.Figure(go.Heatmap(z=kept_view, zmin=0, zmax=1, colorscale=[[0, "#f2f2f2"], [1, ORIGINAL]],
                            colorbar=dict(title="kept", tickvals=[0, 1], ticktext=["removed", "kept"]),
                            hovertemplate="output %{y}, input %{x}: %{z:.0%} kept<extra></extra>"))
heat.update_layout(xaxis_title="input unit", yaxis_title="output unit (neuron)", yaxis_autorange="reversed")
mask_df = pd.DataFrame({"output_unit": np.repeat(np.arange(rows), cols), "input_unit": np.tile(np.arange(cols), rows),
                        "weight": w.reshape(-1), "kept": kept.reshape(-1).astype(bool)})
chart(heat, mask_df, f"Mask of {layer_labels[layer_name]}",
      "Dark cells are weights the pruned model keeps, light cells were removed; a fully light row is a removed neuron." + note,
      key="mask_heatmap", height=min(700, 220 + 6 * kept_view.shape[0]))

st.subheader("Size, original vs pruned")
size = view.size
size["label"] = size["quantity"].map({"parameters": "stored parameters", "nonzeros": "non-zero parameters",
                                      "dense_bytes": "tensor bytes", "file_bytes": "exported file bytes",
                                      "multiply_adds": "multiply-adds per applicant (Linear layers)"})
st.dataframe(size[["label", "original", "pruned", "change"]], hide_index=True)
download_csv(size, "model_size.csv", key="csv_size")

per_layer_editor(expanded=bool(spec.overrides))

st.subheader("Recovery fine-tuning")
if not ws.can_fine_tune:
    st.info("Fine-tuning needs training rows kept apart from the evaluation rows. Choose "
            "'Held-out test split' under Evaluation rows on the Data & model page to enable it.")
    fix_links("Data & model page")
else:
    tuned = fine_tunings().get(spec.key)
    c1, c2, c3 = st.columns([1, 1, 2])
    epochs = c1.number_input("Epochs", 1, 200, 10, key="ft_epochs")
    lr = c2.select_slider("Learning rate", [1e-4, 3e-4, 1e-3, 3e-3, 1e-2], value=1e-3, key="ft_lr")
    c3.caption(f"Trains the pruned model on the {len(ws.train_idx)} training rows with the masks held fixed "
               "(removed weights stay exactly zero); evaluation rows are never used for training.")
    if st.button("Fine-tune this setting", key="ft_run", type="primary"):
        ft = FineTuneSpec(int(epochs), float(lr), 64, int(spec.seed))
        bar = st.progress(0.0, text="Fine-tuning…")
        try:
            prune_workspace(ws, Setting(spec, ft), progress=progress_to(bar))
        except RiskPruneError as err:
            show_error(err, "Fine-tuning failed: ")
        else:
            fine_tunings()[spec.key] = ft
            st.session_state["use_fine_tuned"] = True
            st.rerun()
    if tuned is not None:
        st.toggle("Show the fine-tuned model on every page", key="use_fine_tuned", value=st.session_state.get("use_fine_tuned", True))
        info = prune_workspace(ws, Setting(spec, tuned)).result.fine_tuned
        hist = pd.DataFrame({"epoch": np.arange(1, len(info["loss_history"]) + 1), "training_loss": info["loss_history"]})
        lf = go.Figure(go.Scatter(x=hist["epoch"], y=hist["training_loss"], mode="lines+markers", line_color=PRUNED))
        lf.update_layout(xaxis_title="epoch", yaxis_title="training log-loss")
        chart(lf, hist, "Fine-tuning loss",
              f"Training loss per epoch ({info['epochs']} epochs, learning rate {info['learning_rate']}, seed {info['seed']}, "
              f"{info['seconds']:.1f} s); it should fall as the pruned model re-learns.", key="ft_loss", height=300)
    else:
        st.caption("The shown model is not fine-tuned.")

st.subheader("Score alignment")
st.caption("Pruning tends to keep the ranking and squeeze the score scale, and decisions run on the scale (cutoffs, PD "
           "grades, PSI monitoring). A small monotone map appended to the pruned model re-anchors it — the light tool to "
           "try before fine-tuning. It is fitted on the training split, or on a seeded calibration split of the evaluation "
           "file that is then left out of every evaluation; the exported model carries it.")
a1, a2 = st.columns([2, 1])
a1.radio("Scores of the pruned model", [NONE, TO_ORIGINAL, TO_OUTCOMES], horizontal=True, key=page_widget_key("align_method", NONE),
         on_change=keep_setting, args=("align_method",),
         format_func={NONE: "as pruned", TO_ORIGINAL: "align to the original", TO_OUTCOMES: "recalibrate to outcomes"}.get)
a2.selectbox("Map", [AFFINE, ISOTONIC], key=page_widget_key("align_shape", AFFINE), on_change=keep_setting, args=("align_shape",),
             disabled=st.session_state.get("align_method", NONE) == NONE,
             format_func={AFFINE: "affine (two parameters)", ISOTONIC: "isotonic (monotone steps)"}.get)
if res.alignment:
    al = res.alignment
    st.success(f"Applied: {al['description']} Fitted on {al['fitted_on']}.")
    fit = pd.DataFrame([{"quantity": k, **{c: al["fit_metrics"].get(c, {}).get(k) for c in ("original", "before", "after")}}
                        for k in al["fit_metrics"].get("before", {})])
    if len(fit):
        st.dataframe(fit, hide_index=True, key="alignment_fit")

st.subheader("Per-layer sensitivity")
st.caption("Prunes one layer at a time (others intact) and measures the AUC drop: layers that tolerate heavy "
           "pruning are where size is cheap to cut.")
sens_method = spec.method if get_method(spec.method).per_layer else "magnitude_layer"
if st.button("Measure layer sensitivity", key="sens_run"):
    with st.spinner("Pruning each layer alone…"):
        try:
            layer_sensitivity_for(ws, sens_method, spec.seed)
        except RiskPruneError as err:
            show_error(err)
        else:
            st.session_state["sensitivity_shown"] = (ws.key, sens_method, spec.seed)
if st.session_state.get("sensitivity_shown") == (ws.key, sens_method, spec.seed):
    sens = layer_sensitivity_for(ws, sens_method, spec.seed)
    sf = go.Figure()
    sens_labels = {l.name: l.label for l in prunable_layers(ws.model)}
    for i, (name, g) in enumerate(sens.groupby("layer", sort=False)):
        sf.add_scatter(x=g["ratio"], y=g["auc_drop"], mode="lines+markers", name=sens_labels.get(str(name), f"layer {name}"),
                       line_color=METHOD_COLOURS[i % len(METHOD_COLOURS)])
    reference_line(sf, y=0, colour=NEUTRAL, dash="solid")
    sf.update_layout(xaxis_tickformat=".0%", xaxis_title="share of this layer pruned", yaxis_title="AUC drop (original − pruned)")
    chart(sf, sens, "AUC drop when one layer is pruned",
          "Higher lines mean the model loses more ranking power when only that layer is pruned.", key="sensitivity", height=360)

draw_verdict_strip()  # reserved under the title; judged before the (slow, large-book) all-rows figures
with all_rows_box:
    all_rows_panel(setting, decision_rule(), key="prune")
