"""Recommend: time to the smallest passing model on the sample, and what a second worker buys.

Two measurements, both on the sample model bound to its own data (held-out split: 200 evaluation
rows, 600 training rows), the default policy (every criterion on; fairness and out-of-time are
not applicable without segment columns / a later sample) and the default search (all 6 methods,
grid 10/30/50/70/90 %, bisection to 1 %, size axis = non-zero parameters):

  1. no fine-tuning, one seed, in-process executor: wall time of ``recommend`` from a bound
     workspace to the answer, median of 3 runs, with torch and numpy's BLAS on 1 thread (the
     RESULT: candidates are tiny networks, and on a busy 2-core machine OpenMP/OpenBLAS threads
     spin-wait against each other) and, for comparison, with their default threads;
  2. fine-tuning every candidate (5 epochs, default ``FineTuneSpec``) with 2 seeds (a ratio
     passes only if both seeds pass): wall time with a process pool of 1 worker vs 2 workers,
     and the speed-up. ``core.execution`` (the shared executor) has not landed on this branch,
     so both pools are ``concurrent.futures.ProcessPoolExecutor`` (spawn) behind a stand-in with
     the same ``map(fn, tasks, *, shared, progress, cancel)`` contract: the payload goes to each
     worker once (initializer), workers run torch and BLAS on 1 thread, and both pools are started and
     warmed (imports + payload) before timing, as a long-lived executor would be. Both runs must
     give the same recommendation.

The machine has 2 cores and is shared; the load average is printed next to every timing.
Ends with exactly one line:

    RESULT recommend_s=… workers2_speedup=…

Run:  .venv/bin/python benchmarks/bench_recommend.py
"""
from __future__ import annotations

import concurrent.futures as cf
import multiprocessing as mp
import os
import statistics
import sys
import time
from pathlib import Path

import torch
from threadpoolctl import threadpool_limits

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from core.data import read_table
from core.model import load_model
from core.policy import (
    SearchSettings,
    default_policy,
    evaluate_candidate,
    payload_for,
    recommend,
)
from core.policy.search import Candidate
from core.prune import FineTuneSpec
from core.workspace import bind

SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"
REPEATS = 3


class InProcess:
    """The in-process executor (stand-in for core.execution's default)."""

    def map(self, fn, tasks, *, shared=None, progress=None, cancel=None):
        out = []
        for i, task in enumerate(tasks):
            if cancel is not None and cancel.is_set():
                raise RuntimeError("cancelled")
            out.append(fn(shared, task))
            if progress is not None:
                progress(i + 1, len(tasks), "")
        return out


_WORKER: dict = {}


ONE_THREAD = {"OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1"}


def _install(fn, shared) -> None:
    torch.set_num_threads(1)
    _WORKER["fn"], _WORKER["shared"] = fn, shared


def _call(task):
    return _WORKER["fn"](_WORKER["shared"], task)


class ProcessPool:
    """A local process pool behind the executor contract; the shared payload is shipped once per worker."""

    def __init__(self, workers: int) -> None:
        self.workers, self.pool, self.key = workers, None, None

    def map(self, fn, tasks, *, shared=None, progress=None, cancel=None):
        if self.pool is None or self.key != shared.key:
            self.close()
            os.environ.update(ONE_THREAD)  # workers inherit it: no BLAS/OpenMP thread pools spinning against each other
            self.pool = cf.ProcessPoolExecutor(self.workers, mp_context=mp.get_context("spawn"),
                                               initializer=_install, initargs=(fn, shared))
            self.key = shared.key
        futures = [self.pool.submit(_call, t) for t in tasks]
        for done, _ in enumerate(cf.as_completed(futures), start=1):
            if cancel is not None and cancel.is_set():
                for f in futures:
                    f.cancel()
                raise RuntimeError("cancelled")
            if progress is not None:
                progress(done, len(tasks), "")
        return [f.result() for f in futures]

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)
            self.pool = None


def load() -> str:
    return "load average " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def workspace():
    data = SAMPLE_MODEL.read_bytes()
    model = load_model(data, SAMPLE_MODEL.name)
    frame = read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame
    return bind(model, frame, model.schema.target, model.schema.bad_value, eval_mode="holdout"), data


def comparable(rec):
    """What must agree between executors (TorchScript file sizes depend on the process's scripting history)."""
    return rec.summary, rec.to_frame().drop(columns=["seconds", "file_bytes"]).to_json()


def main() -> None:
    ws, data = workspace()
    policy = default_policy()
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {os.cpu_count()} cores; {load()}")
    print(f"sample: {len(ws.eval_idx)} evaluation rows, {len(ws.train_idx)} training rows; policy {policy.name} "
          f"({len(policy.enabled)} criteria on, bootstrap {policy.bootstrap_resamples})\n")

    plain = SearchSettings()
    default_threads = torch.get_num_threads()
    medians, rec = {}, None
    for threads in (1, default_threads):
        torch.set_num_threads(threads)
        times = []
        with threadpool_limits(limits=threads):  # numpy's OpenBLAS alike
            for _ in range(REPEATS):
                t = time.perf_counter()
                rec = recommend(ws, policy, InProcess(), settings=plain, model_bytes=data)
                times.append(time.perf_counter() - t)
        medians[threads] = statistics.median(times)
        print(f"1. no fine-tuning, 1 seed, in-process, torch on {threads} thread(s): {medians[threads]:.2f} s median of "
              f"{REPEATS} ({', '.join(f'{x:.2f}' for x in times)}); {rec.n_candidates} candidates, "
              f"{rec.timings['candidate_s_mean'] * 1000:.0f} ms each; {load()}")
    torch.set_num_threads(default_threads)
    recommend_s = medians[1]
    for r in rec.timings["rounds"]:
        print(f"     {r['stage']:<9} {r['candidates']:3d} candidates {r['seconds']:6.2f} s")
    print(f"   {rec.summary}")
    for _, row in rec.method_frame().iterrows():
        best = "—" if row["best_ratio"] is None or row["best_ratio"] != row["best_ratio"] else f"{row['best_ratio']:.0%}"
        print(f"     {row['method']:<17} best {best:>4}  stopped by: {row['stopped_by'] or row['blocked_by']}")
    goal = "met" if recommend_s <= 10 else "NOT met"
    print(f"   goal ≤ 10 s → {goal}\n")

    tuned = SearchSettings(seeds=(0, 1), fine_tune=FineTuneSpec())
    payload = payload_for(ws, policy, model_bytes=data)
    results = {}
    for workers in (1, 2):
        pool = ProcessPool(workers)
        try:
            warm = [Candidate("neuron_l1", 10 + i, 0) for i in range(2 * workers)]
            t = time.perf_counter()
            pool.map(evaluate_candidate, warm, shared=payload)
            started = time.perf_counter() - t
            t = time.perf_counter()
            r = recommend(ws, policy, pool, settings=tuned, model_bytes=data)
            results[workers] = (time.perf_counter() - t, r)
        finally:
            pool.close()
        print(f"2. fine-tuning (5 epochs) × 2 seeds, {workers} worker(s): {results[workers][0]:.2f} s for "
              f"{r.n_candidates} candidates (pool start + warm-up {started:.1f} s, not counted); {load()}")
    speedup = results[1][0] / results[2][0]
    same = comparable(results[1][1]) == comparable(results[2][1])
    print(f"   {results[2][1].summary}")
    print(f"   same recommendation with 1 and 2 workers: {same}")
    print(f"   speed-up of 2 workers over 1: {speedup:.2f}× (goal ≥ 1.6× → {'met' if speedup >= 1.6 else 'NOT met'})\n")
    print(f"RESULT recommend_s={recommend_s:.2f} workers2_speedup={speedup:.2f}")


if __name__ == "__main__":
    main()
