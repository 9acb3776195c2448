"""Acceptance: the policy a committee signs, the shown model's verdict, and the smallest model that passes.

The policy is edited here and kept in the session (saved in the manifest and the report, loadable
and downloadable as JSON). "Find the smallest acceptable model" runs ``core.policy.recommend`` —
the same search as ``python -m core recommend`` — on the executor the user picks.
"""
from __future__ import annotations

import os

import streamlit as st

from core.errors import RiskPruneError
from core.execution import make_executor
from core.policy import SIZE_AXES, Policy, SearchSettings, default_policy, recommend
from core.prune import FineTuneSpec, PruneSpec, method_label
from ui.controls import current_setting, show_setting
from ui.state import workspace_or_stop
from ui.verdict import STATUS_ICON, acceptance, current_policy, draw_verdict_strip, verdict_or_error, verdict_strip
from ui.widgets import download_csv, fix_links, show_error

AXIS_LABELS = {"nonzeros": "Non-zero parameters", "parameters": "Stored parameters", "file_bytes": "File size (bytes)",
               "input_variables": "Input variables (data sources to buy and monitor)"}

st.title("Acceptance")
ws = workspace_or_stop()
verdict_strip()
policy = current_policy()

# ---------------------------------------------------------------- policy
st.header("Acceptance policy")
st.caption("Each criterion names one number, a limit and why a committee asks for it; switch criteria off or move their "
           "limits, and every page's verdict follows. Fairness criteria apply once segment columns are chosen on the "
           "Governance page, out-of-time criteria once a later sample is uploaded there.")
fix_links("Governance page")
table = policy.to_frame()
edited = st.data_editor(
    table[["enabled", "group", "label", "comparator", "threshold", "why"]], hide_index=True, key=f"policy_editor_{policy.key[:8]}",
    disabled=["group", "label", "comparator", "why"],
    column_config={"enabled": st.column_config.CheckboxColumn("on"), "threshold": st.column_config.NumberColumn("limit", format="%.4f")},
)
changed = policy
for key, row in zip(table["key"], edited.itertuples(index=False)):
    c = policy.criterion(key)
    if bool(row.enabled) != c.enabled or float(row.threshold) != c.threshold:
        changed = changed.with_criterion(key, enabled=bool(row.enabled), threshold=float(row.threshold))
if changed.key != policy.key:
    st.session_state["policy"] = changed
    st.rerun()
c1, c2, c3 = st.columns([2, 1, 1])
up = c1.file_uploader("Load a policy (JSON)", type=["json"], key="policy_upload")
if up is not None and st.session_state.get("policy_upload_id") != up.file_id:
    st.session_state["policy_upload_id"] = up.file_id
    try:
        st.session_state["policy"] = Policy.from_json(up.getvalue())
    except RiskPruneError as err:
        show_error(err, f"'{up.name}' was not used: ")
    else:
        st.rerun()
c2.download_button("Download this policy (JSON)", policy.to_json().encode("utf-8"), file_name="riskprune_policy.json",
                   mime="application/json", key="policy_download", on_click="ignore")
if c3.button("Back to the default policy", key="policy_reset", disabled=policy.key == default_policy().key):
    st.session_state["policy"] = default_policy()
    st.rerun()

# ---------------------------------------------------------------- verdict of the shown model
st.header("Verdict of the shown model")
verdict, verdict_err = verdict_or_error()
if verdict is None:
    show_error(verdict_err, "The shown model cannot be judged: ")
    if "Prune page" not in str(verdict_err):
        fix_links("Prune page")  # the setting (method, ratio, per-layer settings) is where it is fixed
else:
    st.markdown(f"**{verdict.headline}**")
    st.caption(f"Shown model: {verdict.subject}.")
    frame = verdict.to_frame()
    frame.insert(0, "", frame["status"].map(lambda s: STATUS_ICON.get(s, "·")))
    st.dataframe(frame[["", "group", "label", "value_text", "rule", "sentence"]], hide_index=True, key="verdict_table",
                 column_config={"value_text": "value", "rule": "limit"})
    download_csv(verdict.to_frame(), "verdict.csv", key="csv_verdict", label="Verdict (CSV)")

# ---------------------------------------------------------------- recommend
st.header("Smallest acceptable model")
st.caption("Searches every pruning method for the smallest model that passes every criterion: a coarse grid of ratios, "
           "then refinement to 1 % between the last passing and the first failing ratio. Every candidate is pruned and "
           "judged, none is interpolated. Same data, policy and settings give the same answer.")
r1, r2, r3 = st.columns(3)
axis = r1.selectbox("Smallest by", list(SIZE_AXES), format_func=lambda a: AXIS_LABELS.get(a, a), key="recommend_axis")
epochs = r2.number_input("Fine-tune each candidate (epochs, 0 = no)", 0, 50, 0, key="recommend_epochs",
                         disabled=not ws.can_fine_tune,
                         help="Needs training rows kept apart from the evaluation rows (a held-out split).")
n_seeds = r3.number_input("Seeds per candidate (the worst must pass)", 1, 5, 1, key="recommend_seeds")
ray_address = os.environ.get("RAY_ADDRESS", "").strip()
workers = st.radio("Run on", ["this process", "2 local worker processes", *(["the Ray cluster"] if ray_address else [])],
                   horizontal=True, key="recommend_engine",
                   help="A Ray cluster is used when the server was started with RAY_ADDRESS set (see README).")
if st.button("Find the smallest acceptable model", key="recommend_run", type="primary"):
    settings = SearchSettings(axis=axis, seeds=tuple(range(int(n_seeds))),
                              fine_tune=FineTuneSpec(int(epochs), seed=0) if epochs else None,
                              alignment=current_setting().alignment)
    bar = st.progress(0.0, text="Preparing the search…")
    st.caption("Press Stop (top right) or change any setting to cancel: nothing of an unfinished search is kept.")
    acc = acceptance()
    try:
        with make_executor(workers=2 if workers.startswith("2") else None,
                           ray_address=ray_address if workers.startswith("the Ray") else None) as executor:
            rec = recommend(ws, acc.policy, executor, settings=settings, model_bytes=st.session_state["model_source"].data,
                            decision=acc.rule, segments=acc.segments, oot=None if acc.oot is None else acc.oot.frame,
                            progress=lambda done, total, what: bar.progress(min(done / max(total, 1), 1.0),
                                                                            text=f"{done} of at most {total} candidates: {what}"))
    except RiskPruneError as err:
        bar.empty()
        show_error(err, "The search could not run: ")
    else:
        bar.empty()
        st.session_state["recommendation"] = (ws.key, acc.key, rec)

stored = st.session_state.get("recommendation")
if stored and stored[0] == ws.key:
    rec = stored[2]
    if rec.winner is None:
        st.warning(rec.summary)
    else:
        w = rec.winner
        st.success(rec.summary)
        st.button(f"Show {method_label(w.method)} at {w.ratio:.0%} on every page", key="recommend_apply", on_click=show_setting,
                  args=(PruneSpec.make(w.method, float(w.ratio), seed=int(w.seed)), w.fine_tune))
    st.subheader("Why each method stopped")
    st.dataframe(rec.method_frame(), hide_index=True, key="recommend_methods")
    st.subheader("Every candidate tried")
    candidates = rec.to_frame()
    st.dataframe(candidates, hide_index=True, key="recommend_candidates")
    download_csv(candidates, "candidates.csv", key="csv_candidates", label="Candidates (CSV)")
draw_verdict_strip()  # reserved under the title; judged once this page's own figures are out
