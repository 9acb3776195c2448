"""What one slider move costs the server, page by page, on the sample.

Each dashboard page is driven through ``streamlit.testing.v1.AppTest`` (the real page scripts,
caches and Streamlit serialisation, no browser): first a warm-up run, then the pruning ratio is
moved through 0.05 … 0.95 (every move a cache miss: a new prune, new scores, new attributions),
timing each full script run. The reference, measured in the same run, is a rerun of the same page
at an already-computed ratio: what Streamlit itself costs to redraw the page (a cache hit).

The issue's target is ≤ 150 ms server time per slider move on the sample. The Trade-offs page's
sweep is computed once per model/data/cutoff (the first visit shows a progress bar) and is not
part of a slider move; its per-move cost (marking the current point) is measured.

Ends with ``RESULT slider_ms_median=… slider_ms_p95=…`` over all pages' slider moves, and
``RESULT_DETAIL`` lines per page with the ratio to the redraw reference.

Run:  .venv/bin/python benchmarks/bench_app.py
"""
from __future__ import annotations

import logging
import statistics
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
logging.getLogger("streamlit").setLevel(logging.ERROR)

from streamlit.testing.v1 import AppTest  # noqa: E402  (after silencing streamlit's logger)

PAGES = ("prune", "tradeoffs", "explain", "decisions", "governance", "report")
RATIOS = [round(r, 2) for r in np.arange(0.05, 0.951, 0.05)]
METHODS = ("magnitude_layer", "neuron_l1")


def timed_run(at: AppTest) -> float:
    t0 = time.perf_counter()
    at.run()
    elapsed = (time.perf_counter() - t0) * 1000
    if at.exception:
        raise SystemExit(f"page raised: {[e.value for e in at.exception]}")
    return elapsed


def bench_page(page: str, method: str, seed: int) -> tuple[list[float], list[float]]:
    """Slider moves on one page; ``seed`` is unique per page so no page reuses another's cached prunes."""
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=300)
    at.run()
    settings = {"method": method, "seed": seed, "ratio": 0.5}

    def run_at(ratio: float) -> float:
        # AppTest drops app.py's sidebar widgets from its tree after the first run, so the
        # sidebar values go in as session state before every run (see tests/apptest_support.py)
        for key, value in {**settings, "ratio": ratio}.items():
            at.session_state[key] = value
        return timed_run(at)

    at.switch_page(f"pages/{page}.py")
    run_at(0.5)  # warm-up: sweep / attributions of the original, imports
    moves, redraws = [], []
    for ratio in RATIOS:
        moves.append(run_at(ratio))
        redraws.append(run_at(ratio))  # same setting again: everything cached
    return moves, redraws


def pct(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def main() -> None:
    all_moves: list[float] = []
    print(f"{'page':<11} {'method':<16} {'move median':>12} {'move p95':>9} {'redraw median':>14} {'ratio':>6}")
    for i, page in enumerate(PAGES):
        for j, method in enumerate(METHODS):
            moves, redraws = bench_page(page, method, seed=100 + 10 * i + j)
            all_moves += moves
            m, r = statistics.median(moves), statistics.median(redraws)
            print(f"{page:<11} {method:<16} {m:>10.1f}ms {pct(moves, 95):>7.1f}ms {r:>12.1f}ms {m / r:>6.2f}")
            print(f"RESULT_DETAIL page={page} method={method} move_ms_median={m:.1f} move_ms_p95={pct(moves, 95):.1f} "
                  f"redraw_ms_median={r:.1f} move_over_redraw={m / r:.2f}")
    print(f"{len(all_moves)} slider moves over {len(PAGES)} pages × {len(METHODS)} methods × {len(RATIOS)} ratios")
    print(f"RESULT slider_ms_median={statistics.median(all_moves):.1f} slider_ms_p95={pct(all_moves, 95):.1f}")


if __name__ == "__main__":
    main()
