"""Helpers for driving the dashboard with streamlit.testing.v1.AppTest."""
from __future__ import annotations

import json
import math
import re

from conftest import ROOT
from streamlit.testing.v1 import AppTest

APP = str(ROOT / "app.py")


def open_app(page: str | None = None, timeout: float = 120, **sidebar) -> AppTest:
    """A fresh session on ``page`` with the shared sidebar controls preset (first run).

    Sidebar settings go in as session state before the first run: under AppTest, widgets that
    app.py draws around a file-based ``st.Page`` vanish from the element tree after the first
    run (reproduced with a three-line app, streamlit 1.67), so they cannot be clicked later. The
    pages read exactly these keys; the browser test moves the real slider.
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    at.run()  # the entry point bootstraps the session (sample loaded)
    assert_clean(at)
    if page or sidebar:
        for key, value in sidebar.items():
            at.session_state[key] = value
        at.switch_page(f"pages/{page or 'overview'}.py")
        at.run()
        assert_clean(at)
    return at


def go(at: AppTest, page: str) -> AppTest:
    at.switch_page(f"pages/{page}.py")
    at.run()
    return at


def assert_clean(at: AppTest) -> None:
    """No uncaught exception on the page (an st.exception element or a crashed script)."""
    assert not at.exception, [e.value for e in at.exception]


def metric(at: AppTest, label: str) -> str:
    found = [m.value for m in at.metric if m.label == label]
    assert found, f"no metric '{label}' among {[m.label for m in at.metric]}"
    return found[0]


def number(text: str) -> float:
    """The first number in a formatted value such as '0.7715', '+1.2 pts' or '6,209'."""
    match = re.search(r"[-+]?\d[\d,]*\.?\d*", text)
    assert match, f"no number in {text!r}"
    return float(match.group(0).replace(",", ""))


def plotly_charts(at: AppTest) -> list:
    return list(at.get("plotly_chart"))


def upload(at: AppTest, key: str, name: str, data: bytes, mime: str = "application/octet-stream") -> AppTest:
    at.file_uploader(key=key).set_value((name, data, mime))
    at.run()
    return at


PYTHON_NONE = re.compile(r"\bNone\b")  # Python's None printed; the English "none" is allowed


def undefined_tokens(text: str) -> bool:
    """True when ``text`` shows an undefined number as code would print it: nan, NaN, inf, Infinity or None."""
    return bool(re.search(r"\bnan\b|\binf\b|\binfinity\b", text, re.IGNORECASE) or PYTHON_NONE.search(text))


def rendered_text(at: AppTest) -> list[tuple[str, str]]:
    """(where, text) for everything a reader sees: metric labels, values, deltas and tooltips, titles, markdown,
    captions, alerts, expander labels, chart titles, and every displayed dataframe cell (a missing or infinite
    number in a cell is returned as its repr: the grid would print None or NaN there)."""
    out: list[tuple[str, str]] = []
    for m in at.metric:
        out += [(f"metric {m.label}", m.label), (f"metric {m.label}", m.value), (f"delta {m.label}", m.delta or ""),
                (f"help {m.label}", m.proto.help or "")]
    for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error", "success"):
        out += [(kind, e.value) for e in getattr(at, kind)]
    out += [("expander", e.label) for e in at.expander]
    for chart in at.get("plotly_chart"):
        title = json.loads(chart.proto.spec).get("layout", {}).get("title", {})
        out.append(("chart title", title.get("text", "") if isinstance(title, dict) else str(title)))
    for d in at.dataframe:
        frame = d.value
        out += [(f"column of {d.key}", str(c)) for c in frame.columns]
        for c in frame.columns:
            for v in frame[c].tolist():
                if v is None or (isinstance(v, float) and not math.isfinite(v)):
                    out.append((f"cell {d.key}/{c}", repr(v)))
                elif isinstance(v, str):
                    out.append((f"cell {d.key}/{c}", v))
    return out


def undefined_shown(at: AppTest) -> list[tuple[str, str]]:
    """Every place the page shows nan / inf / None instead of words."""
    return [(where, text) for where, text in rendered_text(at) if undefined_tokens(str(text))]
