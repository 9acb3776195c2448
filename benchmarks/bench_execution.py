"""Execution backends: start-up cost, overhead per task, and speed-up on CPU-bound tasks.

For each backend (in-process, 2-worker process pool, Ray on a private local instance with
2 CPUs — Ray only when ``requirements-ray.txt`` is installed):

  * start-up: wall time of the first ``map`` of one trivial task (pool: forking workers from the
    fork server; Ray: ``ray.init`` is timed separately, then the first task starts Ray workers);
  * overhead per task: wall time of 200 trivial tasks on warm workers, divided by 200;
  * 8 CPU-bound tasks of ~1 s each, two kinds:
      - ``python``: a pure-Python loop (one core whatever the backend), the clean case;
      - ``torch``: seeded training steps of a 61 → 64 → 32 → 1 MLP on 800 rows, like a
        fine-tuning candidate; in-process torch uses every core for each task, workers use one.
    Reported: wall time, the sum of the tasks' own CPU time, and the speed-up vs in-process.
    Every backend must return the same results (checked, seeds travel with the tasks).

Numbers depend on what else runs on the machine; the load average is printed with them. Ends with
one line:

    RESULT pool_speedup_python=… pool_speedup_torch=… ray_speedup_python=… …

Run:  .venv/bin/python benchmarks/bench_execution.py
"""
from __future__ import annotations

import logging
import os
import time
from pathlib import Path

import numpy as np

from core.execution import InProcessExecutor, ProcessPoolExecutor

ROOT = Path(__file__).resolve().parents[1]

N_TASKS = 8
PY_STEPS = 3_600_000   # ~1 s of CPU for pure Python on this machine
TORCH_STEPS = 150      # ~1 s of CPU for single-threaded training steps


def trivial(shared: object, task: int) -> int:
    return task


def python_burn(shared: object, task: int) -> tuple[int, float]:
    """A deterministic pure-Python loop; returns its checksum and its own CPU seconds."""
    start = time.process_time()
    acc = task
    for i in range(PY_STEPS):
        acc = (acc * 1103515245 + 12345 + i) & 0x7FFFFFFF
    return acc, time.process_time() - start


def torch_train(shared: dict, task: int) -> tuple[float, float]:
    """Seeded full-batch training steps of a small credit-scoring MLP; returns final loss and CPU s."""
    import torch
    from torch import nn

    start = time.process_time()
    torch.manual_seed(task)
    X = torch.from_numpy(shared["X"])
    y = torch.from_numpy(shared["y"])
    net = nn.Sequential(nn.Linear(X.shape[1], 64), nn.ReLU(), nn.Linear(64, 32), nn.ReLU(), nn.Linear(32, 1))
    opt = torch.optim.Adam(net.parameters(), lr=1e-3)
    for _ in range(TORCH_STEPS):
        opt.zero_grad()
        loss = nn.functional.binary_cross_entropy_with_logits(net(X)[:, 0], y)
        loss.backward()
        opt.step()
    return loss.item(), time.process_time() - start


def timed(fn, *args, **kwargs):
    start = time.perf_counter()
    out = fn(*args, **kwargs)
    return out, time.perf_counter() - start


def measure(executor, label: str, shared: dict, reference: dict | None) -> dict:
    row: dict = {"backend": label}
    _, row["startup_s"] = timed(executor.map, trivial, [0], shared=shared)
    _, t = timed(executor.map, trivial, list(range(200)), shared=shared)
    row["overhead_ms"] = 1000 * t / 200
    for kind, fn in (("python", python_burn), ("torch", torch_train)):
        out, wall = timed(executor.map, fn, list(range(N_TASKS)), shared=shared)
        row[f"{kind}_wall_s"] = wall
        row[f"{kind}_cpu_s"] = sum(cpu for _, cpu in out)
        row[f"{kind}_values"] = [v for v, _ in out]
        if reference is not None:
            assert row[f"{kind}_values"] == reference[f"{kind}_values"], f"{label} {kind}: results differ"
    return row


def main() -> None:
    rng = np.random.default_rng(0)
    shared = {"X": rng.normal(size=(800, 61)).astype(np.float32),
              "y": (rng.random(800) < 0.3).astype(np.float32)}
    print(f"machine: {os.cpu_count()} CPUs, load average before: {os.getloadavg()[0]:.2f}")
    rows = [measure(InProcessExecutor(), "in-process", shared, None)]
    with ProcessPoolExecutor(workers=2) as pool:
        rows.append(measure(pool, "process pool (2)", shared, rows[0]))
    try:
        import ray
    except ImportError:
        ray = None
        print("ray not installed: skipped (pip install -r requirements-ray.txt)")
    if ray is not None:
        from core.execution import RayExecutor

        _, init_s = timed(ray.init, address="local", num_cpus=2, include_dashboard=False, log_to_driver=False,
                          logging_level=logging.ERROR)
        try:
            with RayExecutor() as ex:
                row = measure(ex, "Ray local (2 CPUs)", shared, rows[0])
                row["ray_init_s"] = init_s
                rows.append(row)
        finally:
            ray.shutdown()
    base = rows[0]
    print(f"{'backend':<20} {'start s':>8} {'ms/task':>8} {'py wall':>8} {'py cpu':>7} {'py ×':>5} "
          f"{'torch wall':>10} {'torch cpu':>9} {'torch ×':>7}")
    for r in rows:
        r["python_speedup"] = base["python_wall_s"] / r["python_wall_s"]
        r["torch_speedup"] = base["torch_wall_s"] / r["torch_wall_s"]
        print(f"{r['backend']:<20} {r['startup_s']:>8.2f} {r['overhead_ms']:>8.2f} {r['python_wall_s']:>8.2f} "
              f"{r['python_cpu_s']:>7.2f} {r['python_speedup']:>5.2f} {r['torch_wall_s']:>10.2f} "
              f"{r['torch_cpu_s']:>9.2f} {r['torch_speedup']:>7.2f}")
    if len(rows) > 2:
        print(f"ray.init: {rows[2]['ray_init_s']:.2f} s")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    parts = [f"pool_speedup_python={rows[1]['python_speedup']:.2f}", f"pool_speedup_torch={rows[1]['torch_speedup']:.2f}",
             f"pool_overhead_ms={rows[1]['overhead_ms']:.2f}"]
    if len(rows) > 2:
        parts += [f"ray_speedup_python={rows[2]['python_speedup']:.2f}", f"ray_speedup_torch={rows[2]['torch_speedup']:.2f}",
                  f"ray_overhead_ms={rows[2]['overhead_ms']:.2f}", f"ray_init_s={rows[2]['ray_init_s']:.1f}"]
    print("RESULT " + " ".join(parts))


if __name__ == "__main__":
    main()
