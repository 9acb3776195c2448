"""Portfolio scale: a million applicants headless (the CLI report) and interactive (a Prune-page slider move).

Generates (into a temporary directory, nothing committed) a 1,000,000-row credit table with 24
numeric inputs and a 0/1 target as Parquet, and a 407,041-parameter MLP (24 → 512 → 512 → 256 → 1)
with a standardisation module in front (buffers ``mean`` and ``std``; the kind of preprocessing
that used to block the eager twin), trained for a few seeded epochs on 20,000 rows and saved as
TorchScript. Then measures:

* ``report_s`` – ``python -m core report … --method neuron_l1 --ratio 0.5 --no-sweep --bootstrap 50`` in a child process, wall
  time (goal ≤ 90 s), with the child's peak RSS from ``os.wait4`` (``peak_rss_mb``, goal ≤ 3 GB)
  and the size of ``report.html`` (``html_mb``, goal ≤ 5 MB);
* ``slider_ms`` – in this process, the server work of one slider move on the Prune page with
  that workspace: ``prune_view`` + the verdict strip's ``setting_verdict`` on the interactive
  sample, a new ratio each time (cache misses), median over the moves (goal ≤ 500 ms);
* ``all_rows_s`` – the all-rows figures of one setting (scoring every row, once per setting);
* references measured in the same run: reading + scoring the file once (``read_score_s``) and
  one forward pass of the original over the sample (``sample_forward_ms``), with the ratios.

Ends with ``RESULT report_s=… slider_ms=… peak_rss_mb=… html_mb=…``.

Run from the repository folder (the standardisation module is the test zoo's, tests/architectures.py):
      .venv/bin/python -m benchmarks.bench_scale [--rows 1000000]
"""
from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from tests.architectures import Standardise

ROOT = Path(__file__).resolve().parents[1]
INPUTS = ["income", "age", "employment_years", "loan_amount", "loan_term", "interest_rate", "debt_to_income",
          "utilisation", "open_accounts", "closed_accounts", "late_30d", "late_60d", "late_90d", "inquiries_6m",
          "months_since_delinquency", "revolving_balance", "installment", "home_value", "savings", "dependants",
          "months_at_address", "months_at_employer", "credit_lines", "bureau_score"]
HIDDEN = (512, 512, 256)
SEED = 0



def make_table(n_rows: int) -> pd.DataFrame:
    """Inputs on their natural scales (so the standardisation matters) and a default flag from a known logit."""
    rng = np.random.default_rng(SEED)
    z = rng.standard_normal((n_rows, len(INPUTS)), dtype=np.float32)
    scale = np.geomspace(0.5, 50_000, len(INPUTS)).astype(np.float32)
    centre = (scale * 3).astype(np.float32)
    X = centre + scale * z
    logit = -2.2 + 0.9 * z[:, 6] + 0.7 * z[:, 7] - 0.6 * z[:, 0] + 0.5 * z[:, 12] - 0.8 * z[:, 23] + 0.3 * z[:, 6] * z[:, 7]
    y = (rng.random(n_rows) < 1 / (1 + np.exp(-logit))).astype(np.int8)
    frame = pd.DataFrame(X, columns=INPUTS)
    frame["default"] = y
    return frame


def make_model(frame: pd.DataFrame) -> torch.jit.ScriptModule:
    torch.manual_seed(SEED)
    train = frame.iloc[:20_000]
    X = torch.tensor(train[INPUTS].to_numpy(np.float32))
    y = torch.tensor(train["default"].to_numpy(np.float32))
    layers: list[nn.Module] = [Standardise(X.mean(0), X.std(0))]
    width = len(INPUTS)
    for h in HIDDEN:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, 1))
    net = nn.Sequential(*layers)
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(3):
        for start in range(0, len(X), 512):
            opt.zero_grad()
            loss = nn.functional.binary_cross_entropy_with_logits(net(X[start:start + 512])[:, 0], y[start:start + 512])
            loss.backward()
            opt.step()
    return torch.jit.script(net.eval())


def run_report(model_path: Path, data_path: Path, out: Path) -> tuple[float, float, int]:
    """(wall seconds, child peak RSS in MB, exit code) of the CLI report."""
    cmd = [sys.executable, "-m", "core", "report", "--model", str(model_path), "--data", str(data_path),
           "--target", "default", "--bad", "1", "--eval-mode", "all", "--method", "neuron_l1", "--ratio", "0.5", "--no-sweep",
           "--bootstrap", "50", "--out", str(out)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - t0
    err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
    code = os.waitstatus_to_exitcode(status)
    if code != 0:
        print(err[-2000:], file=sys.stderr)
    return seconds, usage.ru_maxrss / 1024, code


def interactive(model_bytes: bytes, data_path: Path) -> dict[str, float]:
    from core.data import read_table
    from core.metrics import DecisionRule
    from core.model import load_model
    from core.policy import Acceptance, default_policy, setting_verdict
    from core.prune import PruneSpec
    from core.workspace import Setting, bind, interactive_workspace, population_figures, prune_view

    t0 = time.perf_counter()
    model = load_model(model_bytes, "scale.pt")
    table = read_table(data_path.read_bytes(), data_path.name)
    ws = bind(model, table.frame, "default", "1", feature_columns=INPUTS, eval_mode="all")
    read_score_s = time.perf_counter() - t0
    sample = interactive_workspace(ws)
    t0 = time.perf_counter()
    model.module(torch.from_numpy(sample.X_eval))
    sample_forward_ms = (time.perf_counter() - t0) * 1000
    acceptance = Acceptance(default_policy())
    setting_verdict(sample, Setting(PruneSpec()), acceptance)  # warm-up: the policy baseline, imports
    moves = []
    for ratio in (0.15, 0.25, 0.35, 0.45, 0.55, 0.65, 0.75):
        setting = Setting(PruneSpec(ratio=ratio))
        t0 = time.perf_counter()
        prune_view(sample, setting, DecisionRule())
        setting_verdict(sample, setting, acceptance)
        moves.append((time.perf_counter() - t0) * 1000)
    t0 = time.perf_counter()
    population_figures(ws, sample, Setting(PruneSpec(ratio=0.5)))
    all_rows_s = time.perf_counter() - t0
    return {"read_score_s": read_score_s, "sample_rows": len(sample.eval_idx), "sample_forward_ms": sample_forward_ms,
            "slider_ms": statistics.median(moves), "slider_ms_max": max(moves), "all_rows_s": all_rows_s}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        t0 = time.perf_counter()
        frame = make_table(args.rows)
        data_path = tmp / "book.parquet"
        frame.to_parquet(data_path, index=False)
        net = make_model(frame)
        del frame
        model_path = tmp / "scale.pt"
        torch.jit.save(net, str(model_path))
        n_params = sum(p.numel() for p in net.parameters())
        print(f"generated {args.rows:,} rows × {len(INPUTS) + 1} columns ({data_path.stat().st_size / 1e6:.0f} MB parquet) "
              f"and a {n_params:,}-parameter MLP with a standardisation module in {time.perf_counter() - t0:.1f} s")
        report_s, peak_mb, code = run_report(model_path, data_path, tmp / "report")
        html = tmp / "report" / "report.html"
        html_mb = html.stat().st_size / 1e6 if html.exists() else float("nan")
        print(f"CLI report: {report_s:.1f} s, exit {code}, peak RSS {peak_mb:.0f} MB, report.html {html_mb:.2f} MB")
        inter = interactive(model_path.read_bytes(), data_path)
        print(f"read + bind + score all rows: {inter['read_score_s']:.1f} s (reference)")
        print(f"interactive sample: {inter['sample_rows']:,} rows; one forward pass {inter['sample_forward_ms']:.0f} ms (reference)")
        print(f"slider move (prune_view + verdict): median {inter['slider_ms']:.0f} ms, max {inter['slider_ms_max']:.0f} ms "
              f"= {inter['slider_ms'] / inter['sample_forward_ms']:.1f}× one sample forward pass")
        print(f"all-rows figures of one setting: {inter['all_rows_s']:.1f} s")
        print(f"RESULT_DETAIL report_over_read_score={report_s / inter['read_score_s']:.2f} "
              f"slider_over_forward={inter['slider_ms'] / inter['sample_forward_ms']:.2f} all_rows_s={inter['all_rows_s']:.1f} "
              f"exit_code={code}")
        print(f"RESULT report_s={report_s:.1f} slider_ms={inter['slider_ms']:.0f} peak_rss_mb={peak_mb:.0f} html_mb={html_mb:.2f}")


if __name__ == "__main__":
    main()
