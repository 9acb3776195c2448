"""Module-level, picklable toy tasks for the execution tests (workers import this module by name).

Every task takes ``(shared, task)`` and carries its own seed, so results can be compared exactly
across backends.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path

import numpy as np

from core.errors import SpecError

# ------------------------------------------------------------------ a payload that counts its arrivals

UNPICKLED = 0  # per process: how many times a CountingPayload was unpickled here


class CountingPayload:
    """Shared data that counts how often it is unpickled in a process (proves "once per worker")."""

    def __init__(self, matrix: np.ndarray, blob: bytes) -> None:
        self.matrix = matrix
        self.blob = blob

    def __getstate__(self) -> dict:
        return {"matrix": self.matrix, "blob": self.blob}

    def __setstate__(self, state: dict) -> None:
        global UNPICKLED
        UNPICKLED += 1
        self.matrix = state["matrix"]
        self.blob = state["blob"]


def make_shared(seed: int = 11, rows: int = 50, cols: int = 8) -> CountingPayload:
    rng = np.random.default_rng(seed)
    return CountingPayload(rng.normal(size=(rows, cols)), rng.bytes(4096))


def seeded_score(shared: CountingPayload, task: tuple[int, float]) -> dict:
    """Uses both parts of ``shared`` and the task's own seed; optional sleep varies finishing order."""
    seed, sleep = task
    if sleep:
        time.sleep(sleep)
    rng = np.random.default_rng(seed)
    weights = rng.normal(size=shared.matrix.shape[1])
    scores = np.tanh(shared.matrix @ weights)
    digest = hashlib.sha256(shared.blob + seed.to_bytes(8, "little")).hexdigest()
    return {"seed": seed, "scores": scores, "digest": digest, "draw": float(rng.random())}


def arrivals(shared: CountingPayload, task: int) -> tuple[int, int]:
    """(worker pid, how many times shared has been unpickled in this worker so far)."""
    time.sleep(0.02)
    return os.getpid(), UNPICKLED


# ------------------------------------------------------------------ ordering and cancellation

def wait_for_last(shared: object, task: tuple[int, int, str]) -> int:
    """Task 0 blocks until the last task has written its marker (plus a margin), so it finishes last."""
    index, n, folder = task
    marker = Path(folder) / "last.done"
    if index == 0:
        deadline = time.monotonic() + 20
        while not marker.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        time.sleep(0.3)  # let the last task's result reach the caller first
    if index == n - 1:
        marker.write_text("done")
    return index * 10


def mark_and_sleep(shared: object, task: tuple[int, float, str]) -> int:
    """Leaves a ``started-i`` file, then sleeps: lets a test count how many tasks ever started."""
    index, sleep, folder = task
    (Path(folder) / f"started-{index}").write_text("")
    time.sleep(sleep)
    return index


# ------------------------------------------------------------------ errors

def fail_on(shared: object, task: str) -> str:
    if task == "bad ratio":
        raise SpecError("The pruning ratio 7 is outside [0, 0.99].", "A ratio is the share to remove.")
    if task == "bug":
        raise ValueError("operands could not be broadcast together with shapes (3,) (4,)")
    return task.upper()


# ------------------------------------------------------------------ torch: prune + predict

def prune_and_predict(shared: dict, task: tuple[str, float, int]) -> dict:
    """What a sweep worker does: load the model from bytes, prune it, score the shared rows."""
    from core.model import load_model, predict_pbad
    from core.prune import PruneSpec, prune

    method, ratio, seed = task
    model = load_model(shared["model"], "m.pt")
    result = prune(model, PruneSpec.make(method, ratio, seed=seed), X_reference=shared["X"])
    return {"state": result.state, "nonzeros": result.size.nonzeros,
            "scores": predict_pbad(result.module, shared["X"], "logit")}


def tiny_model_payload(seed: int = 3, n_in: int = 6, rows: int = 64) -> dict:
    """A seeded tiny MLP (TorchScript bytes) and evaluation rows."""
    import torch
    from torch import nn

    from core.model import model_to_bytes

    torch.manual_seed(seed)
    net = nn.Sequential(nn.Linear(n_in, 12), nn.ReLU(), nn.Linear(12, 8), nn.ReLU(), nn.Linear(8, 1)).eval()
    X = np.random.default_rng(seed).normal(size=(rows, n_in)).astype(np.float32)
    return {"model": model_to_bytes(torch.jit.script(net)), "X": X}


def same_results(a: list, b: list) -> bool:
    """Exact equality of lists of result dicts holding arrays, strings and numbers."""
    if len(a) != len(b):
        return False
    for x, y in zip(a, b):
        if x.keys() != y.keys():
            return False
        for k in x:
            if isinstance(x[k], np.ndarray):
                if not (isinstance(y[k], np.ndarray) and x[k].dtype == y[k].dtype and np.array_equal(x[k], y[k])):
                    return False
            elif x[k] != y[k]:
                return False
    return True
