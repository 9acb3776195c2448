"""Page building blocks that enforce the conventions: caption + chart + its data as CSV."""
from __future__ import annotations

import re

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import RiskPruneError

from .theme import PLOT_LAYOUT


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60] or "chart"


def chart(fig: go.Figure, data: pd.DataFrame, title: str, caption: str, key: str, height: int | None = None) -> None:
    """A plotly chart with a one-sentence caption for non-technical readers and a CSV download."""
    fig.update_layout(title=title, **PLOT_LAYOUT)
    if height:
        fig.update_layout(height=height)
    st.plotly_chart(fig, width="stretch", key=f"chart_{key}", config={"displaylogo": False})
    st.caption(caption)
    download_csv(data, f"{_slug(title)}.csv", key=f"csv_{key}", label="Chart data (CSV)")


def download_csv(data: pd.DataFrame, filename: str, key: str, label: str = "Download CSV") -> None:
    st.download_button(label, data.to_csv(index=False).encode("utf-8"), file_name=filename, mime="text/csv", key=key)


def show_error(err: Exception, context: str = "") -> None:
    """User-facing errors as one clear sentence; anything unexpected without a traceback."""
    if isinstance(err, RiskPruneError):
        st.error(f"{context}{err}")
    else:
        st.error(f"{context}Something unexpected went wrong ({type(err).__name__}). The inputs were not changed.")


def fmt_delta(value: float, digits: int = 4) -> str:
    return f"{value:+.{digits}f}"


def fmt_bytes(n: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if abs(n) < 1024 or unit == "GB":
            return f"{n:,.0f} {unit}" if unit == "B" else f"{n:,.1f} {unit}"
        n /= 1024
    return f"{n:.1f} GB"  # pragma: no cover
