"""The acceptance verdict strip every page shows above its content, and the session's policy.

Every page that shows a model calls ``verdict_strip()`` under its title, so each carries the same
verdict of the same model (computed once: the verdict is memoised by workspace, setting and
policy); each page fills it after its own figures (``draw_verdict_strip``; ``app.py`` does when a
page stops early), so a slider move shows the page's own numbers first. The policy lives in the session (edited on the Acceptance page); the
fairness and out-of-time criteria apply once the user chose segment columns or uploaded a later
sample on the Governance page.
"""
from __future__ import annotations

import streamlit as st

from core.errors import RiskPruneError
from core.governance.segments import SegmentSpec
from core.policy import FAILED, NOT_APPLICABLE, PASSED, Acceptance, Policy, Verdict, default_policy, setting_verdict
from core.workspace import OutOfTimeSample
from ui.controls import current_setting, decision_rule
from ui.state import source_table, workspace
from ui.widgets import busy, fix_links

STATUS_ICON = {PASSED: "✅", FAILED: "❌", NOT_APPLICABLE: "➖"}


def current_policy() -> Policy:
    return st.session_state.setdefault("policy", default_policy())


def acceptance() -> Acceptance:
    """The policy with the session's decision rule, segment columns and out-of-time sample."""
    columns = st.session_state.get("segment_columns") or ()
    bands = int(st.session_state.get("segment_bands", 4))
    src = st.session_state.get("oot_source")
    oot = None if src is None else OutOfTimeSample(src.name, src.sha256, source_table(src).frame)
    return Acceptance(current_policy(), decision_rule(), tuple(SegmentSpec(c, None, bands) for c in columns), oot)


def verdict_or_error() -> tuple[Verdict | None, RiskPruneError | None]:
    """The shown model's verdict, or why it cannot be judged (the setting or the data cannot be used)."""
    try:
        with busy("Judging the shown model against the acceptance policy…"):
            return setting_verdict(workspace(), current_setting(), acceptance()), None
    except RiskPruneError as err:
        return None, err


def current_verdict() -> Verdict | None:
    """The shown model's verdict, or None while the model and data are not usable together (pages say why)."""
    return verdict_or_error()[0]


_PENDING = "_verdict_strip_slot"  # session key: where this run's strip goes, until the page has drawn its figures


def verdict_strip() -> None:
    """Reserve the strip's place under the page title; ``draw_verdict_strip`` fills it once the page is drawn.

    Judging a model can cost more than drawing the page (the reasons criterion explains declined
    applicants through the pruned model), and a slider move should show the page's own numbers
    first: the strip keeps its place at the top but is computed last, from the memoised
    comparison the page has just made.
    """
    st.session_state[_PENDING] = st.empty()


def forget_verdict_strip() -> None:
    """Drop a slot reserved by an earlier run (it belongs to that run's page)."""
    st.session_state.pop(_PENDING, None)


def draw_verdict_strip() -> None:
    """One line in the reserved slot: acceptable or not, and which criteria fail; the full table one click away."""
    slot = st.session_state.pop(_PENDING, None)
    if slot is None:
        return
    with slot.container():  # the spinner of a slow judgement shows where the strip will be
        verdict = current_verdict()
        if verdict is None:
            return
        box = st.success if verdict.acceptable else st.warning  # a verdict, not an application error
        answer, _, detail = verdict.headline.partition(": ")
        box(f"**{answer}** under the policy “{verdict.policy_name}”: {detail}", icon="⚖️")
        with st.expander("Acceptance criteria of the shown model", expanded=False):
            frame = verdict.to_frame()
            frame.insert(0, "", frame["status"].map(lambda s: STATUS_ICON.get(s, "·")))
            st.dataframe(frame[["", "group", "label", "value_text", "rule", "sentence"]], hide_index=True,
                         column_config={"value_text": "value", "rule": "limit"})
            st.caption("Edit the criteria, or search for the smallest model that passes them, on the Acceptance page.")
            fix_links("Acceptance page")
