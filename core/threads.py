"""One intra-op thread for the engine's many small forward passes.

Verifying a twin, walking Shapley permutations and checking compaction run many forward passes of
small networks on modest batches. A second intra-op thread gains little there, and on the shared
2-core machines RiskPrune runs on it loses badly to contention: the embedding model's 200 × 100
explanation of both models took 1.2 s with one thread and 7.5 s with two
(``benchmarks/bench_shap.py``). ``single_threaded`` is reference-counted, so concurrent users in
one server process restore the setting once, when the last one finishes.
"""
from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator

import torch

_LOCK = threading.Lock()
_USERS = [0, 0]  # [active users, thread count to restore]


@contextlib.contextmanager
def single_threaded() -> Iterator[None]:
    """Run torch on one intra-op thread inside the block, then restore the previous setting."""
    with _LOCK:
        if _USERS[0] == 0:
            _USERS[1] = torch.get_num_threads()
            torch.set_num_threads(1)
        _USERS[0] += 1
    try:
        yield
    finally:
        with _LOCK:
            _USERS[0] -= 1
            if _USERS[0] == 0:
                torch.set_num_threads(_USERS[1])
