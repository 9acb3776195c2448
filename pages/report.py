"""Report & export: the pruned model to ship, and the committee pack (HTML, PDF, manifest)."""
from __future__ import annotations

import io
import json
import zipfile
from collections import OrderedDict

import pandas as pd
import streamlit as st

from core.errors import RiskPruneError
from core.explain import importance_shift
from core.governance.segments import default_segment_columns
from core.metrics import DEFAULT_BOOTSTRAP
from core.report import (
    MANIFEST,
    MODEL_ONNX,
    MODEL_PT,
    REPORT_HTML,
    REPORT_PDF,
    ReportOptions,
    ReportRun,
    build_bundle,
    content_for,
    headline,
)
from core.report.export import torchscript_bytes
from core.workspace import adverse_action_reasons_for, segment_fairness_for
from ui.compute import (
    attributions,
    bounded_put,
    explain_sample,
    pruned_or_stop,
    sweep_result,
)
from ui.controls import current_spec, cutoff_args
from ui.state import workspace_or_stop
from ui.widgets import fmt_bytes, show_error

MIME = {REPORT_HTML: "text/html", REPORT_PDF: "application/pdf", MODEL_PT: "application/octet-stream",
        MODEL_ONNX: "application/octet-stream", MANIFEST: "application/json"}
BUNDLES_PER_SESSION = 2  # each holds a few MB (the HTML embeds plotly.js)

st.title("Report & export")
ws = workspace_or_stop()
cur, cmp = pruned_or_stop(ws, "Nothing can be exported for this setting: ", bootstrap=DEFAULT_BOOTSTRAP)
spec = current_spec()
msrc, dsrc = st.session_state["model_source"], st.session_state["data_source"]
res = cur.result

st.subheader("Pruned model")
st.caption(f"{cur.description}. {res.state_note.capitalize()}.")
k = st.columns(3)
for col, label, new, old in ((k[0], "Stored parameters", res.size.parameters, res.original_size.parameters),
                             (k[1], "Non-zero parameters", res.size.nonzeros, res.original_size.nonzeros)):
    col.metric(label, f"{new:,}", f"{new - old:+,} vs {old:,}", delta_color="off", delta_arrow="auto" if new != old else "off")
k[2].metric("File size", fmt_bytes(res.size.file_bytes), f"vs {fmt_bytes(res.original_size.file_bytes)}", delta_color="off", delta_arrow="off")
try:
    model_file = torchscript_bytes(res)
except RiskPruneError as err:
    show_error(err)
else:
    st.download_button("Download pruned model (TorchScript .pt)", model_file, file_name=MODEL_PT, mime=MIME[MODEL_PT],
                       key="download_model", type="primary")
    st.caption("TorchScript with the feature schema and the pruning settings embedded; reloading it gives exactly the "
               "predictions shown in the dashboard. " + ("Compacted: hidden neurons are physically removed."
                                                          if res.state == "compacted" else
                                                          "Masked: removed weights are zeros in full-size tensors."))

st.subheader("Committee report")
st.caption("A self-contained HTML report (interactive charts, opens offline), the same as PDF, the ONNX model "
           "(checked against PyTorch with onnxruntime) and a run manifest with every setting, seed, package version "
           "and SHA-256 of inputs and outputs, so a validator can reproduce the run.")
seed = int(st.session_state.get("seed", 0))
explain_rows = int(st.session_state.get("shap_rows", 500))
explain_bg = int(st.session_state.get("shap_background", 100))
explain_seed = int(st.session_state.get("shap_seed", 0))
include_governance = st.toggle("Include the governance section (segment fairness and adverse-action reasons)",
                               value=True, key="report_governance")
bundle_key = (ws.key, cur.key, repr(sorted(cutoff_args().items())), seed, explain_rows, explain_bg, explain_seed,
              include_governance, tuple(st.session_state.get("segment_columns") or ()))
bundles: OrderedDict = st.session_state.setdefault("report_bundles", OrderedDict())

if st.button("Build the committee report", key="build_report", type="primary"):
    status = st.status("Building the report…", expanded=True)
    try:
        status.write("Sweep of all methods (cached when the Trade-offs page already ran it)")
        sweep = sweep_result(ws)
        status.write(f"SHAP attributions on {explain_rows} applicants")
        sample = explain_sample(ws, explain_rows, explain_bg, explain_seed)
        att_o, att_p = attributions(ws, None, sample), attributions(ws, cur, sample)
        shift = importance_shift(att_o, att_p, ws.data.groups)
        governance = None
        if include_governance:
            status.write("Segment fairness and adverse-action reasons")
            columns = st.session_state.get("segment_columns") or default_segment_columns(ws.data.frame, ws.data.target)
            governance = {}
            if columns:
                governance["Segment fairness"] = segment_fairness_for(ws, cur.scores, cmp.cutoff.cutoff, columns)
            governance["Adverse-action reason stability"] = adverse_action_reasons_for(ws, cur.scores, att_o, att_p, cmp.cutoff.cutoff)
        options = ReportOptions(
            cutoff=cutoff_args().get("cutoff"), approval_rate=cutoff_args().get("approval_rate"), bootstrap=DEFAULT_BOOTSTRAP,
            bootstrap_seed=seed, sweep_seed=seed, explain_rows=explain_rows, explain_background=explain_bg,
            explain_seed=explain_seed,
        )
        run = ReportRun(cur, cmp, sweep, shift,
                        explain_settings={"rows": int(len(sample.rows)), "background": int(len(sample.background)),
                                          "seed": explain_seed, "explainer": att_p.label, "explainer_original": att_o.label},
                        sweep_settings={"methods": sorted(set(sweep.table["method"])), "seed": sweep.seed,
                                        "ratios": sorted(set(sweep.table["ratio"])), "skipped": dict(sweep.skipped)})
        content = content_for(ws, run, governance, model_name=msrc.name, data_name=dsrc.name, data_sha256=dsrc.sha256,
                              options=options)
        bundle = build_bundle(ws, run, content, model_file=msrc.name, data_file=dsrc.name, data_bytes=len(dsrc.data),
                              progress=lambda done, total, what: status.write(what))
    except RiskPruneError as err:
        status.update(label="The report could not be built", state="error")
        show_error(err)
    else:
        bounded_put(bundles, bundle_key, bundle, BUNDLES_PER_SESSION)
        status.update(label="Report ready", state="complete", expanded=False)

bundle = bundles.get(bundle_key)
if bundle is None:
    st.info("Build the report for the current setting to download it. Changing the setting in the sidebar needs a new build.")
else:
    st.markdown("\n".join(f"- **{label}:** {value}" for label, value in headline(bundle.content)))
    cols = st.columns(5)
    for col, name in zip(cols, (REPORT_HTML, REPORT_PDF, MODEL_PT, MODEL_ONNX, MANIFEST)):
        if name in bundle.files:
            col.download_button(name, bundle.files[name], file_name=name, mime=MIME[name], key=f"download_{name}")
            col.caption(fmt_bytes(len(bundle.files[name])))
        else:
            col.warning(f"No {name}")
    if bundle.onnx_error:
        st.warning(f"ONNX export: {bundle.onnx_error}")
    archive = io.BytesIO()
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in bundle.files.items():
            zf.writestr(name, data)
    st.download_button("Download everything (.zip)", archive.getvalue(), file_name="riskprune_report.zip",
                       mime="application/zip", key="download_zip")

st.subheader("Settings of this run")
settings = {
    "pruning": spec.to_dict(), "state": res.state, "fine_tuned": res.fine_tuned,
    "cutoff": {"value": cmp.cutoff.cutoff, "how": cmp.cutoff.how},
    "evaluation": {"mode": ws.eval_mode, "rows": int(len(ws.eval_idx)), "split_seed": ws.split_seed, "note": ws.split_note},
    "inputs": {"model": msrc.name, "model_sha256": msrc.sha256, "data": dsrc.name, "data_sha256": dsrc.sha256},
    "bootstrap": {"resamples": DEFAULT_BOOTSTRAP, "seed": seed},
}
st.json(json.loads(json.dumps(settings, default=str)), expanded=False)
st.dataframe(pd.DataFrame(cmp.to_frame()), hide_index=True, key="report_metrics")
