"""Execution: run independent tasks in-process, on a local process pool, or on a Ray cluster.

One interface (:class:`Executor`), three thin adapters over real engines — no home-made
scheduler. Pick one with :func:`make_executor`; use it as a context manager::

    with make_executor(workers=2) as ex:
        rows = ex.map(evaluate_candidate, specs, shared=(model_bytes, X, y), progress=bar, cancel=stop)

``evaluate_candidate(shared, spec)`` must be a module-level function; results come back in the
order of ``specs``.
"""
from __future__ import annotations

from core.execution.base import MAX_WORKERS, Cancelled, Executor, TaskError, TaskFailure, check_workers
from core.execution.local import InProcessExecutor, ProcessPoolExecutor
from core.execution.ray_cluster import RAY_ADDRESS_ENV, RayExecutor, ray_address_from_env


def make_executor(workers: int | None = None, ray_address: str | None = None) -> Executor:
    """The backend the settings ask for, in this order of precedence:

    1. ``ray_address`` given (e.g. ``"auto"``, ``"10.0.0.5:6379"``, ``"ray://head:10001"``) → Ray;
    2. else the ``RAY_ADDRESS`` environment variable set and not blank → Ray at that address;
    3. else ``workers`` > 1 → a process pool of that many workers on this machine;
    4. else → in-process (the default).

    ``workers`` with Ray caps the tasks in flight. An invalid ``workers`` (0, negative, not a
    whole number) is refused even when it would not be used, so a typo never goes unnoticed.
    """
    if workers is not None:
        check_workers(workers)
    address = (ray_address.strip() if ray_address else None) or ray_address_from_env()
    if address:
        return RayExecutor(address=address, workers=workers)
    if workers is not None and workers > 1:
        return ProcessPoolExecutor(workers)
    return InProcessExecutor()


__all__ = [
    "MAX_WORKERS",
    "RAY_ADDRESS_ENV",
    "Cancelled",
    "Executor",
    "InProcessExecutor",
    "ProcessPoolExecutor",
    "RayExecutor",
    "TaskError",
    "TaskFailure",
    "check_workers",
    "make_executor",
    "ray_address_from_env",
]
