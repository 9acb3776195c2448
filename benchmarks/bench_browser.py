"""What a user waits for in the browser: from pressing the ratio slider to the new figures.

Serves the real app (``streamlit run app.py``) and drives Debian's chromium with playwright, as the
browser test does. Each move is one ArrowRight (or ArrowLeft) press on the sidebar's ratio slider
under a seed typed fresh for each page, so every move is a setting no cache has seen. Two times
per move, both from the keydown (``tests/browser_support.py``, ``timed_slider_move``), so both
include the slider's handling, the websocket, the server's script run and the browser's drawing:

* **KPI** (the issue's measure): until the page's headline figures show their new value, drawn
  and not greyed as stale — on Prune the "Sparsity" KPI, on Explain the caption naming the shown
  model together with the KPI row under it (Spearman ρ …);
* **page**: until the rerun has finished and no element is left stale (charts, tables and the
  verdict strip, which every page draws last).

Measured on the Prune and Explain pages:

* on the sample loaded at start (German Credit, 1,000 rows, 200-row hold-out);
* on a generated 30,000-row file with 23 numeric inputs and the target ``default_flag`` as the
  4th column (not last), with a schema-less 23-input MLP (23 → 64 → 32 → 1), uploaded through
  the Data & model page like a user's files (target guessed, seeded hold-out evaluation).

Reference measured in the same run: a slider move on the Overview page, whose figures do not depend
on the ratio (the floor every page pays: rerun and redraw; page time). Goals: sample ≤ 500 ms median,
30k rows ≤ 1,000 ms median, on Prune and Explain.

Ends with ``RESULT sample_prune_ms=… sample_explain_ms=… rows30k_prune_ms=… rows30k_explain_ms=…``
(KPI times) after a ``RESULT_DETAIL`` line with the page times.

Run from the repository folder (it shares the browser test's helpers in ``tests/``):
      .venv/bin/python -m benchmarks.bench_browser [--moves 6]
"""
from __future__ import annotations

import argparse
import os
import statistics
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from tests.browser_support import (
    CHROMIUM,
    CHROMIUM_ARGS,
    caption_headline,
    metric_headline,
    open_page,
    running_app,
    timed_slider_move,
    upload_files,
    wait_idle,
)

N_ROWS, N_INPUTS, TARGET = 30_000, 23, "default_flag"


def make_files(folder: Path) -> tuple[Path, Path]:
    """A 30,000-row file (target 4th of 24 columns) and a 23-input MLP trained on its first 5,000 rows."""
    rng = np.random.default_rng(0)
    X = rng.standard_normal((N_ROWS, N_INPUTS)).astype(np.float32)
    logit = -1.3 + 0.9 * X[:, 0] - 0.7 * X[:, 5] + 0.6 * X[:, 9] * X[:, 2] + 0.5 * X[:, 17]
    y = (rng.random(N_ROWS) < 1 / (1 + np.exp(-logit))).astype(np.int64)
    names = [f"x{i:02d}" for i in range(N_INPUTS)]
    frame = pd.DataFrame(X, columns=names)
    frame.insert(3, TARGET, y)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(N_INPUTS, 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=3e-3)
    Xt, yt = torch.from_numpy(X[:5000]), torch.from_numpy(y[:5000].astype(np.float32))
    for _ in range(40):
        opt.zero_grad()
        nn.functional.binary_cross_entropy_with_logits(net(Xt)[:, 0], yt).backward()
        opt.step()
    model_path, data_path = folder / "bench_model.pt", folder / "bench_book.csv"
    torch.jit.script(net.eval()).save(str(model_path))
    frame.to_csv(data_path, index=False)
    return model_path, data_path


_SEED = [100]


def new_seed(pg) -> None:
    """A seed not used before: every pruning, comparison and explanation of the next moves is a cache miss."""
    _SEED[0] += 1
    box = pg.locator('[data-testid="stSidebar"] [data-testid="stNumberInput"]').filter(has=pg.get_by_text("Seed")).first
    field = box.locator("input")
    field.fill(str(_SEED[0]))
    field.press("Enter")
    wait_idle(pg)


HEADLINES = {"Prune": metric_headline("Sparsity"), "Explain": caption_headline("Pruned model:", and_metric="Spearman")}


def moves(pg, title: str, n: int, key: str) -> list[tuple[float, float]]:
    """``n`` timed slider moves on page ``title`` under a fresh seed: (KPI ms, page ms) each (the KPI is the page
    time on the Overview, whose figures do not move)."""
    open_page(pg, title)
    new_seed(pg)
    if pg.locator('[data-testid="stException"]').count():
        raise RuntimeError(f"{title}: the page shows an exception")
    headline = HEADLINES.get(title)
    if headline is None:
        return [(t, t) for t in (timed_slider_move(pg, key) for _ in range(n))]
    return [timed_slider_move(pg, key, headline=headline) for _ in range(n)]


def upload(pg, model_path: Path, data_path: Path) -> None:
    upload_files(pg, model_path, data_path)
    if pg.locator('[data-testid="stException"]').count() or pg.locator('[data-testid="stAlertContentError"]').count():
        raise RuntimeError("the upload ended in an error")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--moves", type=int, default=6, choices=range(1, 9),
                        help="slider moves per page (each one step of 5 %%, starting at 50 %%)")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f}")
    with tempfile.TemporaryDirectory() as tmp, running_app(Path(tmp) / "streamlit.log") as url, sync_playwright() as pw:
        model_path, data_path = make_files(Path(tmp))
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        pg = browser.new_context(viewport={"width": 1500, "height": 1100}).new_page()
        pg.set_default_timeout(600_000)
        pg.goto(url)
        pg.get_by_text("0.7715").first.wait_for()  # the sample's test AUC: the app is up with the sample
        results: dict[str, list[tuple[float, float]]] = {}
        # 5 % steps between 50 % and 50 % + moves × 5 %, right then left, each page under a fresh seed
        results["reference_overview"] = moves(pg, "Overview", args.moves, "ArrowRight")
        results["sample_prune"] = moves(pg, "Prune", args.moves, "ArrowLeft")
        results["sample_explain"] = moves(pg, "Explain", args.moves, "ArrowRight")
        upload(pg, model_path, data_path)
        results["rows30k_prune"] = moves(pg, "Prune", args.moves, "ArrowLeft")
        results["rows30k_explain"] = moves(pg, "Explain", args.moves, "ArrowRight")
        pg.screenshot(path=str(Path(tmp) / "last.png"))
        browser.close()

    kpi = {k: statistics.median(h for h, _ in v) for k, v in results.items()}
    page = {k: statistics.median(f for _, f in v) for k, v in results.items()}
    for k, v in results.items():
        print(f"{k:18s} KPI median {kpi[k]:5.0f} ms ({', '.join(f'{h:.0f}' for h, _ in v)}); "
              f"page median {page[k]:5.0f} ms, max {max(f for _, f in v):5.0f} ms")
    ref = page["reference_overview"]
    print("RESULT_DETAIL " + " ".join(f"{k}_page_ms={page[k]:.0f}" for k in results if k != "reference_overview")
          + f" reference_overview_ms={ref:.0f}")
    print(f"RESULT sample_prune_ms={kpi['sample_prune']:.0f} sample_explain_ms={kpi['sample_explain']:.0f} "
          f"rows30k_prune_ms={kpi['rows30k_prune']:.0f} rows30k_explain_ms={kpi['rows30k_explain']:.0f}")


if __name__ == "__main__":
    main()
