"""Streamlit glue: session state, cached calls into core, and chart conventions."""
