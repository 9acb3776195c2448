"""RiskPrune dashboard entry point: navigation, session bootstrap (the sample is loaded on first
start) and the pruning controls every page shares in the sidebar."""
from __future__ import annotations

import streamlit as st

from ui.controls import sidebar_controls
from ui.state import init_session

st.set_page_config(page_title="RiskPrune", page_icon="✂️", layout="wide")
init_session()

PAGES = [
    st.Page("pages/overview.py", title="Overview", icon="🏠", default=True),
    st.Page("pages/data_model.py", title="Data & model", icon="📂"),
    st.Page("pages/prune.py", title="Prune", icon="✂️"),
    st.Page("pages/tradeoffs.py", title="Trade-offs", icon="📈"),
    st.Page("pages/explain.py", title="Explain", icon="🔍"),
    st.Page("pages/decisions.py", title="Decision impact", icon="⚖️"),
    # GOV st.Page("pages/governance.py", title="Governance", icon="🏛️"),
    # REP st.Page("pages/report.py", title="Report & export", icon="📄"),
]
page = st.navigation(PAGES)
sidebar_controls()
page.run()
