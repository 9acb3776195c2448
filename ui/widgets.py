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
    """The CSV is written only when the button is clicked (deferred), not on every rerun."""
    st.download_button(label, lambda: data.to_csv(index=False).encode("utf-8"), file_name=filename, mime="text/csv",
                       key=key, on_click="ignore")


def reference_line(fig: go.Figure, *, x: float | None = None, y: float | None = None, text: str = "",
                   colour: str = "#9aa5b1", dash: str = "dot") -> None:
    """A horizontal (y) or vertical (x) reference line across the plot, with an optional label.

    Written as layout shapes: plotly's add_hline/add_vline cost ~7 ms each per rerun.
    """
    if (x is None) == (y is None):
        raise ValueError("give exactly one of x or y")
    line = dict(color=colour, dash=dash, width=1.5)
    if y is not None:
        shape = dict(type="line", xref="paper", x0=0, x1=1, y0=y, y1=y, line=line)
        note = dict(xref="paper", x=1, y=y, xanchor="right", yanchor="bottom")
    else:
        shape = dict(type="line", yref="paper", y0=0, y1=1, x0=x, x1=x, line=line)
        note = dict(yref="paper", y=1, x=x, xanchor="left", yanchor="top")
    fig.update_layout(shapes=[*fig.layout.shapes, shape])
    if text:
        fig.update_layout(annotations=[*fig.layout.annotations, dict(**note, text=text, showarrow=False, font=dict(size=11))])


def show_error(err: Exception, context: str = "") -> None:
    """User-facing errors as one clear sentence; anything unexpected without a traceback."""
    if isinstance(err, RiskPruneError):
        st.error(f"{context}{err}")
    else:
        st.error(f"{context}Something unexpected went wrong ({type(err).__name__}). The inputs were not changed.")


def view_or_stop(view, *args, context: str = "", **kwargs):
    """A page's one core call: its result, or the error in one sentence and the page stops (never a traceback)."""
    try:
        return view(*args, **kwargs)
    except RiskPruneError as err:
        show_error(err, context)
        st.stop()
        raise  # unreachable: st.stop() ends the script run
