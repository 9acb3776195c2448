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
# so the time runs from the keydown a user makes to the last element the rerun replaced.
_ARM_MOVE = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  window.__rpT0 = null;
  document.addEventListener('keydown', () => { if (window.__rpT0 === null) window.__rpT0 = performance.now(); },
                            {capture: true, once: true});
  window.__rpDone = new Promise(resolve => {
    let sawRun = false;
    const check = () => {
      const state = app.getAttribute('data-test-script-state');
      if (state === 'running') sawRun = true;
      if (sawRun && state !== 'running' && !document.querySelector('[data-stale="true"]')) {
        observer.disconnect();
        resolve(performance.now() - window.__rpT0);
      }
    };
    const observer = new MutationObserver(check);
    observer.observe(document.body, {attributes: true, subtree: true, childList: true});
  });
}"""


def ratio_slider(pg):
    """The sidebar's pruning-ratio slider (the first slider of the sidebar)."""
    return pg.locator('[data-testid="stSidebar"] [data-testid="stSlider"] input[type="range"]').first


def timed_slider_move(pg, key: str = "ArrowRight", timeout_ms: int = 180_000) -> float:
    """Milliseconds from pressing ``key`` on the ratio slider until the page has redrawn with no stale element."""
    slider = ratio_slider(pg)
    slider.focus()
    pg.evaluate(_ARM_MOVE)
    slider.press(key)
    return float(pg.evaluate(f"() => Promise.race([window.__rpDone, new Promise((_, no) => setTimeout("
                             f"() => no(new Error('no redraw within {timeout_ms} ms')), {timeout_ms}))])"))
