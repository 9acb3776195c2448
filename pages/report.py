"""Report & export: the pruned model to ship, and the committee pack (HTML, PDF, ONNX, manifest).

The pack is built by ``core.report.build_report`` — the same function the CLI's ``report`` command
calls — with the session's setting, decision rule, SHAP sample and segment columns; it reuses what the
other pages already computed.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections import OrderedDict

import pandas as pd
import streamlit as st

from core.errors import RiskPruneError
from core.formatting import human_size
from core.metrics import DEFAULT_BOOTSTRAP
from core.report import MANIFEST, MODEL_ONNX, MODEL_PT, REPORT_HTML, REPORT_PDF, ReportOptions, build_report, headline
from core.workspace import report_view
from ui.controls import current_setting, decision_rule, explain_settings
from ui.state import bounded_put, workspace_or_stop
from ui.verdict import verdict_strip
from ui.widgets import show_error, view_or_stop

MIME = {REPORT_HTML: "text/html", REPORT_PDF: "application/pdf", MODEL_PT: "application/octet-stream",
        MODEL_ONNX: "application/octet-stream", MANIFEST: "application/json"}
BUNDLES_PER_SESSION = 2  # each holds a few MB (the HTML embeds plotly.js)

st.title("Report & export")
ws = workspace_or_stop()
verdict_strip()
setting, rule = current_setting(), decision_rule()
view = view_or_stop(report_view, ws, setting, rule, context="Nothing can be exported for this setting: ")
cur, cmp, res = view.pruned, view.comparison, view.pruned.result
msrc, dsrc = st.session_state["model_source"], st.session_state["data_source"]

st.subheader("Pruned model")
st.caption(f"{cur.description}. {res.state_note.capitalize()}.")
k = st.columns(3)
for col, label, new, old in ((k[0], "Stored parameters", res.size.parameters, res.original_size.parameters),
                             (k[1], "Non-zero parameters", res.size.nonzeros, res.original_size.nonzeros)):
    col.metric(label, f"{new:,}", f"{new - old:+,} vs {old:,}", delta_color="off", delta_arrow="auto" if new != old else "off")
k[2].metric("File size", human_size(res.size.file_bytes), f"vs {human_size(res.original_size.file_bytes)}", delta_color="off", delta_arrow="off")
if view.model_file is None:
    st.error(view.model_file_error)
else:
    st.download_button("Download pruned model (TorchScript .pt)", view.model_file, file_name=MODEL_PT, mime=MIME[MODEL_PT],
                       key="download_model", type="primary")
    st.caption("TorchScript with the feature schema and the pruning settings embedded; reloading it gives exactly the "
               "predictions shown in the dashboard. " + ("Compacted: hidden neurons are physically removed."
                                                          if res.state == "compacted" else
                                                          "Masked: removed weights are zeros in full-size tensors."))

st.subheader("Committee report")
st.caption("A self-contained HTML report (interactive charts, opens offline), the same as PDF, the ONNX model "
           "(checked against PyTorch with onnxruntime) and a run manifest with every setting, seed, package version "
           "and SHA-256 of inputs and outputs, so a validator can reproduce the run.")
include_governance = st.toggle("Include the governance section (segment fairness and adverse-action reasons)",
                               value=True, key="report_governance")
segments = st.session_state.get("segment_columns")
options = ReportOptions(rule=rule, bootstrap_seed=setting.prune.seed, sweep_seed=setting.prune.seed, explain=explain_settings(),
                        governance=include_governance, segment_columns=None if segments is None else tuple(segments))
bundle_key = (ws.key, setting.key, repr(options))
bundles: OrderedDict = st.session_state.setdefault("report_bundles", OrderedDict())

if st.button("Build the committee report", key="build_report", type="primary"):
    status = st.status("Building the report…", expanded=True)
    try:
        bundle = build_report(ws, setting, options, model_file=msrc.name, data_file=dsrc.name, data_sha256=dsrc.sha256,
                              data_bytes=len(dsrc.data), model_name=msrc.name,
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
            col.caption(human_size(len(bundle.files[name])))
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
    "setting": setting.to_dict(), "state": res.state, "fine_tuned": res.fine_tuned,
    "cutoff": {"value": cmp.cutoff.cutoff, "how": cmp.cutoff.how},
    "evaluation": {"mode": ws.eval_mode, "rows": int(len(ws.eval_idx)), "split_seed": ws.split_seed, "note": ws.split_note},
    "inputs": {"model": msrc.name, "model_sha256": msrc.sha256, "data": dsrc.name, "data_sha256": dsrc.sha256},
    "bootstrap": {"resamples": DEFAULT_BOOTSTRAP, "seed": setting.prune.seed},
}
st.json(json.loads(json.dumps(settings, default=str)), expanded=False)
st.dataframe(pd.DataFrame(cmp.to_frame()), hide_index=True, key="report_metrics")
