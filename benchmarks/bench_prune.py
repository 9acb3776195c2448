"""Pruning engine speed, and whether compaction really buys inference time.

Two cases:
  * the sample model (German Credit MLP, 6,209 parameters) bound to its own data, held-out split:
    median wall time of one prune + evaluate (``prune_workspace`` + ``compare_workspace``, what
    the Prune page pays per slider move) and of a 20-point sweep (2 methods × 10 ratios);
  * a ~114k-parameter MLP (60 → 256 → 256 → 128 → 1, ReLU, seeded random init, loaded through
    ``load_model`` like an upload) on 30,000 synthetic rows: inference latency of the model
    compacted at 50 % of neurons (``neuron_l1`` 0.5) vs the original, next to their FLOP ratio
    (``ModelSize.multiply_adds`` pruned / original).

Latency is timed single-threaded (``torch.set_num_threads(1)``) with one batch of all 30,000 rows
in ``torch.inference_mode``, original and pruned interleaved so machine load hits both alike,
median of many repeats. Both models run in the same form — both eager ``nn.Sequential`` (the
form RiskPrune computes with) and, separately, both TorchScript (the form it exports and an
engineer ships); the RESULT line uses the TorchScript pair, the eager pair is printed beside it.

Then two architectures from ``tests/architectures.py`` uploaded as TorchScript and bound to their
1,200-row synthetic loan book (held-out split): the entity-embedding MLP and the FT-Transformer
(2 encoder layers). For each, the median prune + evaluate time at 50 % of the structured method
(``neuron_l1``: hidden neurons / feed-forward units, compacted through DepGraph on the graph
twin) and the parameters before and after, and likewise for the embedding MLP's embedding
dimensions. Ends with the main RESULT line and one per architecture:

    RESULT prune_eval_ms=… sweep_ms=… latency_ratio=… flop_ratio=…
    RESULT arch=embed prune_eval_ms=… params=…->… state=…
    RESULT arch=ft prune_eval_ms=… params=…->… state=…

Run from the repository folder (the architecture zoo is tests/architectures.py):
      .venv/bin/python -m benchmarks.bench_prune
"""
from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from torch import nn

from core.model import load_model, model_to_bytes
from core.prune import COMPACTED, PruneSpec, make_context, measure_size, prune, sweep
from core.workspace import bind, compare_workspace, prune_workspace

ROOT = Path(__file__).resolve().parents[1]
ARCH_REPEATS = 5
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"
PRUNE_REPEATS, SWEEP_REPEATS, LATENCY_REPEATS = 15, 3, 41
SWEEP_METHODS = ("magnitude_layer", "neuron_l1")
SWEEP_RATIOS = tuple(round(0.1 * i, 1) for i in range(10))  # 0.0 … 0.9
N_ROWS, SEED = 30_000, 0


_SEEDS = iter(range(1_000, 10**9))


def fresh(method: str, ratio: float) -> PruneSpec:
    """The spec under a seed never used before: ``prune_workspace``/``compare_workspace`` are memoised,
    and a repeat must time a real prune + evaluate, not a cache hit."""
    return PruneSpec.make(method, ratio, seed=next(_SEEDS))


def median_ms(fn: Callable[[], object], repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append((time.perf_counter() - t) * 1000)
    return statistics.median(times)


def sample_case() -> dict:
    model = load_model(SAMPLE_MODEL.read_bytes(), SAMPLE_MODEL.name)
    ws = bind(model, pd.read_csv(SAMPLE_DATA), model.schema.target, model.schema.bad_value, eval_mode="holdout")
    out = {"parameters": model.n_parameters, "eval_rows": len(ws.eval_idx)}
    for method in ("neuron_l1", "magnitude_layer", "input_features"):
        out[f"prune_eval_ms[{method}]"] = median_ms(lambda method=method: compare_workspace(ws, prune_workspace(ws, fresh(method, 0.5))),
                                                     PRUNE_REPEATS)
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    out["neuron_l1_0.5"] = pruned.result
    ctx = make_context(model, ws.X_eval, ws.y_eval, ws.output.kind)
    res = sweep(model, ctx, methods=SWEEP_METHODS, ratios=SWEEP_RATIOS)
    assert len(res.table) == len(SWEEP_METHODS) * len(SWEEP_RATIOS), res.skipped
    out["sweep_ms"] = median_ms(lambda: sweep(model, ctx, methods=SWEEP_METHODS, ratios=SWEEP_RATIOS), SWEEP_REPEATS, warmup=0)
    return out


def _interleaved_latency(a: Callable[[], object], b: Callable[[], object], repeats: int) -> tuple[float, float]:
    """Median ms of a and of b, run alternately so load spikes hit both."""
    for _ in range(3):
        a(), b()
    ta, tb = [], []
    for i in range(repeats):
        for fn, acc in ((a, ta), (b, tb)) if i % 2 == 0 else ((b, tb), (a, ta)):
            t = time.perf_counter()
            fn()
            acc.append((time.perf_counter() - t) * 1000)
    return statistics.median(ta), statistics.median(tb)


def large_case() -> dict:
    torch.manual_seed(SEED)
    net = nn.Sequential(
        nn.Linear(60, 256), nn.ReLU(), nn.Linear(256, 256), nn.ReLU(),
        nn.Linear(256, 128), nn.ReLU(), nn.Linear(128, 1),
    ).eval()
    model = load_model(model_to_bytes(torch.jit.script(net)), "mlp100k.pt")
    X = torch.from_numpy(np.random.default_rng(SEED).normal(size=(N_ROWS, 60)).astype(np.float32))
    result = prune(model, PruneSpec.make("neuron_l1", 0.5))
    assert result.state == COMPACTED and model.eager is not None
    original_size = measure_size(model.eager, None)
    flop_ratio = result.size.multiply_adds / original_size.multiply_adds

    def runner(module: nn.Module) -> Callable[[], object]:
        def run():
            with torch.inference_mode():
                return module(X)
        return run

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        eager_o, eager_p = _interleaved_latency(runner(model.eager), runner(result.module), LATENCY_REPEATS)
        script_p_module = torch.jit.script(result.module.eval())
        script_o, script_p = _interleaved_latency(runner(model.scripted), runner(script_p_module), LATENCY_REPEATS)
    finally:
        torch.set_num_threads(threads)
    with torch.inference_mode():
        diff = (result.module(X) - result.masked_module(X)).abs().max().item()
    return {
        "parameters": original_size.parameters, "parameters_pruned": result.size.parameters,
        "mac": original_size.multiply_adds, "mac_pruned": result.size.multiply_adds,
        "flop_ratio": flop_ratio,
        "eager_ms": (eager_o, eager_p), "script_ms": (script_o, script_p),
        "twin_diff": diff,
    }


def architecture_case(name: str) -> dict:
    """An architecture uploaded as TorchScript, bound, pruned 50 % structured: time and parameters."""
    from tests import architectures as arch  # the architecture zoo (run with -m from the repository folder)

    book = arch.loan_book()
    upload = arch.scripted_bytes(arch.train(name, book.iloc[:800]))
    model = load_model(upload, f"{name}.pt")
    ws = bind(model, book, arch.TARGET, "1", feature_columns=arch.COLUMNS, eval_mode="holdout")
    out = {"parameters": ws.model.n_parameters, "rows": len(ws.eval_idx), "twin": ws.model.twin_kind}
    methods = ("neuron_l1", "embedding_dims") if name == "embedding_mlp" else ("neuron_l1",)
    for method in methods:
        spec = PruneSpec.make(method, 0.5)
        result = prune_workspace(ws, spec).result
        out[method] = {
            "ms": median_ms(lambda method=method: compare_workspace(ws, prune_workspace(ws, fresh(method, 0.5))), ARCH_REPEATS),
            "state": result.state, "before": result.original_size.parameters, "after": result.size.parameters,
            "macs": (result.original_size.multiply_adds, result.size.multiply_adds),
        }
    return out


def main() -> None:
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads available; latency timed on 1 thread; "
          f"load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (other processes inflate every wall time)\n")
    s = sample_case()
    r = s["neuron_l1_0.5"]
    print(f"Sample model ({s['parameters']:,} parameters, {s['eval_rows']} held-out rows)")
    for k, v in s.items():
        if k.startswith("prune_eval_ms"):
            print(f"  prune + evaluate, {k[14:-1]:<16} at 50 %: {v:8.1f} ms (median of {PRUNE_REPEATS})")
    print(f"  sweep {len(SWEEP_METHODS)} methods × {len(SWEEP_RATIOS)} ratios = {len(SWEEP_METHODS) * len(SWEEP_RATIOS)} points: "
          f"{s['sweep_ms']:8.1f} ms (median of {SWEEP_REPEATS})")
    print(f"  neuron_l1 0.5: {r.state}, {r.original_size.parameters:,} → {r.size.parameters:,} parameters, "
          f"file {r.original_size.file_bytes:,} → {r.size.file_bytes:,} bytes\n")

    g = large_case()
    print(f"100k MLP 60→256→256→128→1 ({g['parameters']:,} → {g['parameters_pruned']:,} parameters at neuron_l1 0.5), "
          f"batch of {N_ROWS:,} rows, median of {LATENCY_REPEATS}")
    print(f"  multiply-adds per row: {g['mac']:,} → {g['mac_pruned']:,}   FLOP ratio {g['flop_ratio']:.3f}")
    print(f"  {'form (both models alike)':<28}{'original ms':>12}{'pruned ms':>12}{'latency ratio':>15}{'÷ FLOP ratio':>14}")
    for label, (o, p) in (("eager nn.Sequential", g["eager_ms"]), ("TorchScript", g["script_ms"])):
        print(f"  {label:<28}{o:12.2f}{p:12.2f}{p / o:15.3f}{(p / o) / g['flop_ratio']:14.2f}")
    print(f"  compacted vs masked twin, max |Δ output|: {g['twin_diff']:.2e}")
    latency_ratio = g["script_ms"][1] / g["script_ms"][0]
    verdict = "within" if latency_ratio <= 1.2 * g["flop_ratio"] else "NOT within"
    print(f"  goal: latency ratio within 1.2× of the FLOP ratio (TorchScript pair, the exported form) → {verdict}\n")
    arch_results = {}
    for short, name in (("embed", "embedding_mlp"), ("ft", "ft_transformer")):
        a = architecture_case(name)
        arch_results[short] = a
        print(f"{name} ({a['parameters']:,} parameters, {a['rows']} held-out rows, {a['twin']} twin), median of {ARCH_REPEATS}")
        for method in ("neuron_l1", "embedding_dims"):
            if method in a:
                m = a[method]
                print(f"  prune + evaluate, {method:<15} at 50 %: {m['ms']:8.1f} ms   {m['state']}, "
                      f"{m['before']:,} → {m['after']:,} parameters, multiply-adds {m['macs'][0]:,} → {m['macs'][1]:,}")
        print()
    print(f"RESULT prune_eval_ms={s['prune_eval_ms[neuron_l1]']:.1f} sweep_ms={s['sweep_ms']:.0f} "
          f"latency_ratio={latency_ratio:.3f} flop_ratio={g['flop_ratio']:.3f}")
    for short, a in arch_results.items():
        m = a["neuron_l1"]
        print(f"RESULT arch={short} prune_eval_ms={m['ms']:.1f} params={m['before']}->{m['after']} state={m['state']}")


if __name__ == "__main__":
    main()
