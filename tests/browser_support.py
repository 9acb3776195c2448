"""Start the real app on a free loopback port and drive Debian's chromium with playwright."""
from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
    "--disable-sync", "--disable-quic", "--no-first-run", "--disable-dev-shm-usage",
]


def free_port() -> int:
    with contextlib.closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def running_app(log_path: Path):
    """Serve app.py on 127.0.0.1:<free port> until the block ends; yields the base URL."""
    port = free_port()
    env = dict(os.environ, STREAMLIT_BROWSER_GATHER_USAGE_STATS="false")
    with open(log_path, "wb") as log:
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "app.py", "--server.address", "127.0.0.1",
             "--server.port", str(port), "--server.headless", "true"],
            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, env=env,
        )
        try:
            url = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 90
            while time.monotonic() < deadline:
                if proc.poll() is not None:
                    raise RuntimeError(f"streamlit exited early; see {log_path}")
                try:
                    with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as r:
                        if r.status == 200:
                            break
                except OSError:
                    time.sleep(0.5)
            else:
                raise RuntimeError(f"streamlit did not become healthy; see {log_path}")
            yield url
        finally:
            proc.terminate()
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()


def chromium_available() -> bool:
    return Path(CHROMIUM).exists() or shutil.which("chromium") is not None


# A promise that resolves when the rerun started by the next key press has drawn everything: the
# script went "running" and back, and no element is left stale (greyed). Set up before the press,
# so the time runs from the keydown a user makes to the last element the rerun replaced. With a
# headline (a JS expression giving the headline figures' text, or null while any is stale), it
# also records when the headline first shows text other than before the press: the new value.
_ARM_MOVE = """(headline) => {
  const app = document.querySelector('[data-testid="stApp"]');
  const read = headline ? new Function('return (' + headline + ');') : () => null;
  const before = read();
  window.__rpT0 = null;
  window.__rpHeadline = null;
  document.addEventListener('keydown', () => { if (window.__rpT0 === null) window.__rpT0 = performance.now(); },
                            {capture: true, once: true});
  window.__rpDone = new Promise(resolve => {
    let sawRun = false;
    const check = () => {
      const state = app.getAttribute('data-test-script-state');
      if (state === 'running') sawRun = true;
      if (headline && window.__rpHeadline === null && window.__rpT0 !== null) {
        const now = read();
        if (now !== null && now !== before) window.__rpHeadline = performance.now() - window.__rpT0;
      }
      if (sawRun && state !== 'running' && !document.querySelector('[data-stale="true"]')) {
        observer.disconnect();
        resolve({full: performance.now() - window.__rpT0, headline: window.__rpHeadline});
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {attributes: true, subtree: true, childList: true, characterData: true});
  });
}"""

# Headline figures a slider move must change, read only when not stale (``timed_slider_move``'s ``headline``).
_FRESH = "(el => el && !el.closest('[data-stale=\"true\"]') ? el.innerText : null)"
METRIC = _FRESH + "([...document.querySelectorAll('[data-testid=\"stMetric\"]')].find(m => m.innerText.startsWith({label})))"
CAPTION = _FRESH + "([...document.querySelectorAll('[data-testid=\"stCaptionContainer\"]')].find(c => c.innerText.startsWith({text})))"


def metric_headline(label: str) -> str:
    """The text of the st.metric whose label starts with ``label`` (null while stale)."""
    return METRIC.replace("{label}", repr(label))


def caption_headline(text: str, *, and_metric: str | None = None) -> str:
    """The caption starting with ``text`` (and, optionally, a metric drawn with it), null while either is stale."""
    cap = CAPTION.replace("{text}", repr(text))
    if and_metric is None:
        return cap
    return f"((a, b) => a === null || b === null ? null : a + '|' + b)({cap}, {metric_headline(and_metric)})"


def ratio_slider(pg):
    """The sidebar's pruning-ratio slider (the first slider of the sidebar)."""
    return pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first


def timed_slider_move(pg, key: str = "ArrowRight", timeout_ms: int = 180_000, headline: str | None = None):
    """Milliseconds from pressing ``key`` on the ratio slider until the page has redrawn with no stale element.

    With ``headline`` (``metric_headline``/``caption_headline``), returns ``(headline_ms, full_ms)``:
    when the headline figures first showed their new value, and when the whole page was redrawn.
    """
    slider = ratio_slider(pg)
    slider.focus()
    pg.evaluate(_ARM_MOVE, headline)
    slider.press(key)
    done = pg.evaluate(f"() => Promise.race([window.__rpDone, new Promise((_, no) => setTimeout("
                       f"() => no(new Error('no redraw within {timeout_ms} ms')), {timeout_ms}))])")
    if headline is None:
        return float(done["full"])
    if done["headline"] is None:
        raise AssertionError("the slider move did not change the headline figures")
    return float(done["headline"]), float(done["full"])


def wait_idle(pg, timeout_ms: int = 180_000) -> None:
    """Wait until the script run triggered by the last action has finished (stApp's script state)."""
    pg.wait_for_timeout(300)
    pg.wait_for_function(
        "() => { const app = document.querySelector('[data-testid=\"stApp\"]');"
        " return app && app.getAttribute('data-test-script-state') !== 'running'; }",
        timeout=timeout_ms,
    )
    pg.wait_for_timeout(300)


def open_page(pg, title: str) -> None:
    """Click a page in the sidebar navigation and wait for its script run to finish."""
    pg.locator('[data-testid="stSidebarNav"] a', has_text=title).first.click()
    pg.wait_for_selector("h1")
    wait_idle(pg)


def upload_files(pg, model_path, data_path) -> None:
    """Upload a model and a data file on the Data & model page, as a user drops them."""
    open_page(pg, "Data & model")
    inputs = pg.locator('[data-testid="stFileUploaderDropzoneInput"]')
    inputs.nth(0).set_input_files(str(model_path))
    wait_idle(pg)
    inputs.nth(1).set_input_files(str(data_path))
    wait_idle(pg)
    pg.get_by_text(model_path.name).first.wait_for()
    pg.get_by_text(data_path.name).first.wait_for()
