"""Page building blocks that enforce the conventions: caption + chart + its data as CSV."""
from __future__ import annotations

import contextlib
import re
from collections.abc import Callable

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from core.errors import RiskPruneError
from core.formatting import csv_bytes, first_upper

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
    """The CSV is written only when the button is clicked (deferred), not on every rerun.

    Undefined numbers read "n/a" and open score-bin ends "−∞" / "+∞" (``core.formatting.csv_bytes``),
    never "nan", "inf" or an empty cell a reader could take for zero.
    """
    st.download_button(label, lambda: csv_bytes(data), file_name=filename, mime="text/csv", key=key, on_click="ignore")


def busy(what: str, ready: bool = False):
    """A spinner saying what is being computed, for work that can take more than a second.

    ``ready`` (the result is already in memory) skips it altogether; otherwise Streamlit shows it
    only after half a second, so a quick computation never flashes it either.
    """
    return contextlib.nullcontext() if ready else st.spinner(what, show_time=True)


def progress_to(bar, prefix: str = "") -> Callable[[int, int, str], None]:
    """A ``core.progress`` callback that moves ``bar`` (an ``st.progress``) and says what and how far: "… (3 of 8)"."""
    def update(done: int, total: int, what: str) -> None:
        text = first_upper(f"{prefix}{what}") + (f" ({done:,} of {total:,})" if total else "")
        bar.progress(min(done / total, 1.0) if total else 0.0, text=text)
    return update


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


# Page titles as messages name them ("… on the Data & model page") → their scripts, for a link to the fix.
PAGE_FILES = {
    "Data & model": "pages/data_model.py", "Prune": "pages/prune.py", "Trade-offs": "pages/tradeoffs.py",
    "Explain": "pages/explain.py", "Decision impact": "pages/decisions.py", "Governance": "pages/governance.py",
    "Acceptance": "pages/acceptance.py", "Report & export": "pages/report.py", "Overview": "pages/overview.py",
}
CURRENT_PAGE = "current_page"  # session key: the title of the page being drawn (set by app.py)


def fix_links(text: str) -> None:
    """A link to every page ``text`` sends the user to ("… on the Prune page"), except the page they are on.

    One place to fix things: a message never points at the page it is shown on, and never only in words.
    """
    here = st.session_state.get(CURRENT_PAGE)
    for title, path in PAGE_FILES.items():
        if title != here and (f"{title} page" in text or f"({title} page" in text):
            st.page_link(path, label=f"Fix it on the {title} page", icon="🛠️")


def show_error(err: Exception, context: str = "") -> None:
    """User-facing errors as one clear sentence (with a link when it names the page that fixes it); never a traceback."""
    if isinstance(err, RiskPruneError):
        st.error(f"{context}{err}")
        fix_links(str(err))
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
