"""RiskPrune dashboard entry point: navigation, session bootstrap (the sample is loaded on first
start) and the pruning controls every page shares in the sidebar."""
from __future__ import annotations

import streamlit as st
from streamlit.runtime.scriptrunner_utils.exceptions import StopException

from ui.controls import sidebar_controls
from ui.state import init_session
from ui.verdict import draw_verdict_strip, forget_verdict_strip
from ui.widgets import CURRENT_PAGE

st.set_page_config(page_title="RiskPrune", page_icon="✂️", layout="wide")
init_session()

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon=":material/home:", default=True),
    st.Page("pages/data_model.py", title="Data & model", icon=":material/upload_file:"),
    st.Page("pages/prune.py", title="Prune", icon=":material/content_cut:"),
    st.Page("pages/tradeoffs.py", title="Trade-offs", icon=":material/show_chart:"),
    st.Page("pages/explain.py", title="Explain", icon=":material/insights:"),
    st.Page("pages/decisions.py", title="Decision impact", icon=":material/gavel:"),
    st.Page("pages/governance.py", title="Governance", icon=":material/account_balance:"),
    st.Page("pages/acceptance.py", title="Acceptance", icon=":material/verified:"),
    st.Page("pages/report.py", title="Report & export", icon=":material/description:"),
]
page = st.navigation(PAGES)
st.session_state[CURRENT_PAGE] = page.title  # messages link to the page that fixes them, never to this one
sidebar_controls()
forget_verdict_strip()
try:
    page.run()  # a page reserves the verdict strip under its title and draws it after its own figures
except StopException:  # a page that stopped early, after saying why, still gets the strip it reserved
    draw_verdict_strip()
    raise
