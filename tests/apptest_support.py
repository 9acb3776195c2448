"""Helpers for driving the dashboard with streamlit.testing.v1.AppTest."""
from __future__ import annotations

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
