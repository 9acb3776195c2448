"""Report & export: the pruned model to ship, and the validation pack (HTML, PDF, Word, slide deck, ONNX, manifest).

The pack is built by ``core.report.build_report`` — the same function the CLI's ``report`` command
calls — with the session's setting, decision rule, SHAP sample, segment columns, out-of-time sample,
acceptance policy and (when one was run for this data) recommendation; it reuses what the other
pages already computed. Its validation sections are shown here too, from the same content object
the files render.
"""
from __future__ import annotations

import json
from collections import OrderedDict

import streamlit as st

from core.errors import RiskPruneError
from core.formatting import first_upper, fmt_num, human_size
from core.governance.segments import SegmentSpec
from core.metrics import DEFAULT_BOOTSTRAP
from core.policy import Policy, Recommendation, default_policy
from core.report import DECK_PPTX, MANIFEST, MODEL_ONNX, MODEL_PT, REPORT_DOCX, REPORT_HTML, REPORT_PDF, ReportOptions, build_report, headline
from core.validation import DEFAULT_SEEDS, ChallengerSpec, MaterialityPolicy, PackOptions, check_grade_edges
from core.workspace import OutOfTimeSample, report_view
from ui.controls import current_setting, decision_rule, explain_settings
from ui.state import bound_workspace, bounded_put, source_table, workspace_or_stop
from ui.verdict import draw_verdict_strip, verdict_strip
from ui.widgets import busy, fix_links, show_error, view_or_stop

MIME = {REPORT_HTML: "text/html", REPORT_PDF: "application/pdf",
        REPORT_DOCX: "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        DECK_PPTX: "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        MODEL_PT: "application/octet-stream", MODEL_ONNX: "application/octet-stream", MANIFEST: "application/json"}
FILES = (REPORT_HTML, REPORT_PDF, REPORT_DOCX, DECK_PPTX, MODEL_PT, MODEL_ONNX, MANIFEST)
BUNDLES_PER_SESSION = 2  # each holds a few MB (the HTML embeds plotly.js)

st.title("Report & export")
ws = workspace_or_stop()
verdict_strip()
setting, rule = current_setting(), decision_rule()
with busy("Saving the pruned model as TorchScript…"):
    view = view_or_stop(report_view, ws, setting, rule, context="Nothing can be exported for this setting: ")
cur, cmp, res = view.pruned, view.comparison, view.pruned.result
msrc, dsrc = st.session_state["model_source"], st.session_state["data_source"]

st.subheader("Pruned model")
st.caption(f"{cur.description}. {first_upper(res.state_note)}.")
k = st.columns(3)
for col, label, new, old in ((k[0], "Stored parameters", res.size.parameters, res.original_size.parameters),
                             (k[1], "Non-zero parameters", res.size.nonzeros, res.original_size.nonzeros)):
    col.metric(label, f"{new:,}", f"{new - old:+,} vs {old:,}", delta_color="off", delta_arrow="auto" if new != old else "off")
k[2].metric("File size", human_size(res.size.file_bytes), f"vs {human_size(res.original_size.file_bytes)}", delta_color="off", delta_arrow="off")
if view.model_file is None:
    st.error(view.model_file_error)
else:
    st.download_button("Download pruned model (TorchScript .pt)", view.model_file, file_name=MODEL_PT, mime=MIME[MODEL_PT],
                       key="download_model", type="primary", on_click="ignore")
    st.caption("TorchScript with the feature schema and the pruning settings embedded; reloading it gives exactly the "
               "predictions shown in the dashboard. " + ("Compacted: hidden neurons are physically removed."
                                                          if res.state == "compacted" else
                                                          "Masked: removed weights are zeros in full-size tensors."))

st.subheader("Validation pack")
st.caption("The committee report as HTML (interactive, opens offline), PDF and Word (for annotation), a slide deck for the "
           "presenter, the ONNX model (checked against PyTorch with onnxruntime) and a run manifest with every setting, seed, "
           "package version and SHA-256. It opens with the verdict under the acceptance policy and adds a logistic-regression "
           "challenger, rank ordering, calibration tests, seed stability (fine-tuned models), the change record with its "
           "materiality class, monitoring triggers and a sign-off table.")

policy = st.session_state.get("policy")
policy = policy if isinstance(policy, Policy) else default_policy()
stored = st.session_state.get("recommendation")
recommendation = None  # only a search run on this very workspace and policy is the report's
if isinstance(stored, tuple) and stored and isinstance(stored[-1], Recommendation) and stored[0] == ws.key \
        and stored[-1].settings.get("policy_key") == policy.key:  # the search ran on this workspace (or its sample)
    recommendation = stored[-1]
oot_src = st.session_state.get("oot_source")
oot = None if oot_src is None else OutOfTimeSample(oot_src.name, oot_src.sha256, source_table(oot_src).frame)
segments = st.session_state.get("segment_columns")
bands = int(st.session_state.get("segment_bands", 4))

with st.expander("Validation settings (policy, materiality, grades, seed stability)", expanded=False):
    st.markdown(f"**Acceptance policy:** “{policy.name}” — {sum(c.enabled for c in policy.criteria)} criteria on "
                "(edit them on the Acceptance page). "
                + ("The recommendation search run for this data is included." if recommendation is not None else
                   "No recommendation search for this data and policy: the report lists the sweep's candidates."))
    fix_links("Acceptance page")
    a, b = st.columns(2)
    margin = a.slider("Non-material only if every criterion leaves this share of its allowance unused", 0.0, 1.0, 0.5, 0.05,
                      key="pack_margin")
    seeds = b.number_input("Fine-tuning seeds for seed stability (0 = off)", 0, 20, DEFAULT_SEEDS, key="pack_seeds",
                           help="Runs only when the shown model is fine-tuned; the shipped seed is one of them.")
    inputs_material = a.toggle("Removing an input variable is a material change", value=True, key="pack_inputs_material")
    ft_material = b.toggle("Fine-tuning (re-estimating weights) is a material change", value=False, key="pack_ft_material")
    grades_text = a.text_input("Rating grade boundaries in P(bad) (comma separated; empty = score deciles)", "", key="pack_grades",
                               placeholder="0.02, 0.05, 0.10, 0.20")
    with_challenger = b.toggle("Logistic-regression challenger", value=True, key="pack_challenger")
    include_governance = st.toggle("Include fairness and adverse-action reasons (segment columns of the Governance page)",
                                   value=True, key="report_governance")

grades = None
settings_error = None
try:
    if grades_text.strip():
        grades = check_grade_edges([float(t) for t in grades_text.replace(";", ",").split(",") if t.strip()])
    pack = PackOptions(challenger=ChallengerSpec(seed=setting.prune.seed) if with_challenger else None,
                       stability_seeds=int(seeds), grade_edges=grades,
                       materiality=MaterialityPolicy(min_margin=float(margin), inputs_removed_material=bool(inputs_material),
                                                     fine_tuning_material=bool(ft_material)))
except ValueError:
    settings_error = f"'{grades_text}' is not a list of numbers: score deciles are used."
    pack = PackOptions()
except RiskPruneError as err:
    settings_error = str(err)
    pack = PackOptions()
if settings_error:
    st.warning(settings_error)

seg_specs = None if segments is None else tuple(SegmentSpec(c, None, bands) for c in segments)
options = ReportOptions(rule=rule, bootstrap_seed=policy.bootstrap_seed, bootstrap=policy.bootstrap_resamples,
                        sweep_seed=setting.prune.seed, explain=explain_settings(), governance=include_governance,
                        segment_columns=seg_specs, policy=policy, recommendation=recommendation, pack=pack, oot=oot)
full = bound_workspace()  # the pack is computed on every evaluation row, like the CLI's, even when the pages use a sample
if full.is_sample or full.key != ws.key:
    st.caption(f"The report is computed on {full.rows_label} (the pages above on {ws.rows_label}); on a large book its "
               "sweep and explanations use a stratified sample and say so. Building it takes longer than a page.")
bundle_key = (full.key, setting.key, options.key)
bundles: OrderedDict = st.session_state.setdefault("report_bundles", OrderedDict())

if st.button("Build the committee report", key="build_report", type="primary"):
    status = st.status("Building the report…", expanded=True)
    try:
        bundle = build_report(full, setting, options, model_file=msrc.name, data_file=dsrc.name, data_sha256=dsrc.sha256,
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
    c = bundle.content
    p = c.pack
    if p is not None:
        (st.success if p.verdict.acceptable else st.error)(f"**{p.verdict.headline}** Policy: “{p.verdict.policy_name}”.")
        (st.info if not p.materiality.material else st.warning)(p.materiality.headline)
    st.markdown("\n".join(f"- **{label}:** {value}" for label, value in headline(c) if label not in ("Verdict", "Materiality")))
    cols = st.columns(len(FILES))
    for col, name in zip(cols, FILES):
        if name in bundle.files:
            col.download_button(name, bundle.files[name], file_name=name, mime=MIME[name], key=f"download_{name}", on_click="ignore")
            col.caption(human_size(len(bundle.files[name])))
        else:
            col.warning(f"No {name}")
    if bundle.onnx_error:
        st.warning(f"ONNX export: {bundle.onnx_error}")
    # built once per bundle (cached on it) and never a rerun: clicking during a rerun cannot cancel the download
    st.download_button("Download everything (.zip)", bundle.archive, file_name="riskprune_report.zip",
                       mime="application/zip", key="download_zip", on_click="ignore")

    if p is not None:
        tabs = st.tabs(["Verdict & change", "Performance vs challenger", "Rank ordering & calibration", "Stability",
                        "Monitoring & sign-off"])
        with tabs[0]:
            st.dataframe(c.display_verdict(), hide_index=True, key="pack_verdict")
            st.markdown("**Materiality** — thresholds of this report:")
            st.dataframe(c.display_materiality_policy(), hide_index=True, key="pack_materiality_policy")
            st.dataframe(c.display_materiality(), hide_index=True, key="pack_materiality")
            st.dataframe(c.display_changes(), hide_index=True, key="pack_changes")
        with tabs[1]:
            if p.challenger is not None:
                st.caption(p.challenger.note)
                for j in p.challenger.justification:
                    st.markdown(f"- {j.sentence}")
            elif "challenger" in p.notes:
                st.warning(f"No challenger: {p.notes['challenger']}")
            st.image(c.chart("performance"), caption=None)
            st.dataframe(c.display_performance(), hide_index=True, key="pack_performance")
            st.dataframe(c.display_delong(), hide_index=True, key="pack_delong")
        with tabs[2]:
            st.image(c.chart("rank"))
            st.caption(p.rank["pruned"].summary())
            st.dataframe(c.display_rank(), hide_index=True, key="pack_rank")
            st.image(c.chart("capture"))
            st.dataframe(c.display_calibration(), hide_index=True, key="pack_calibration")
        with tabs[3]:
            if p.seed_stability is not None:
                st.markdown(p.seed_stability.sentence)
                st.image(c.chart("seeds"))
                st.dataframe(c.display_seed_summary(), hide_index=True, key="pack_seeds_table")
            else:
                st.info("Seed stability runs for fine-tuned models (fine-tune on the Prune page).")
                fix_links("Prune page")
            st.caption(f"Score PSI {fmt_num(cmp.psi.value)} — {cmp.psi.band}.")
        with tabs[4]:
            st.dataframe(c.display_triggers(), hide_index=True, key="pack_triggers")
            st.dataframe(c.display_signoff(), hide_index=True, key="pack_signoff")
            st.dataframe(c.display_references(), hide_index=True, key="pack_references")

st.subheader("Settings of this run")
settings = {
    "setting": setting.to_dict(), "state": res.state, "fine_tuned": res.fine_tuned,
    "cutoff": {"value": cmp.cutoff.cutoff, "how": cmp.cutoff.how},
    "evaluation": {"mode": ws.eval_mode, "rows": int(len(ws.eval_idx)), "split_seed": ws.split_seed, "note": ws.split_note},
    "inputs": {"model": msrc.name, "model_sha256": msrc.sha256, "data": dsrc.name, "data_sha256": dsrc.sha256},
    "page_bootstrap": {"resamples": DEFAULT_BOOTSTRAP, "seed": setting.prune.seed},
    "report_bootstrap": {"resamples": policy.bootstrap_resamples, "seed": policy.bootstrap_seed},
    "policy": {"name": policy.name, "key": policy.key},
}
st.json(json.loads(json.dumps(settings, default=str)), expanded=False)
st.dataframe(cmp.display_frame(), hide_index=True, key="report_metrics")
draw_verdict_strip()  # reserved under the title; judged once this page's own figures are out
