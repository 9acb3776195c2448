"""Two backends on this machine: a plain loop (the default) and a process pool.

The pool is ``concurrent.futures.ProcessPoolExecutor`` on the ``forkserver`` start method (``spawn``
where there is no forkserver, i.e. Windows), never ``fork``: forking a process whose torch/OpenMP
thread pool is already running can deadlock the child (PyTorch docs, "Multiprocessing best
practices"). The fork server is a clean process that has imported torch and the pruning engine
once (``set_forkserver_preload``) but never run an operator, so a new worker starts in ~0.1 s
instead of re-importing them for ~4 s as a spawned one must; it lives as long as the calling
process. Each worker receives
``shared`` once through the pool initializer and runs torch on one thread, so N workers use N
cores instead of N × (threads per process).
"""
from __future__ import annotations

import concurrent.futures as cf
import contextlib
import multiprocessing
import multiprocessing.context
import os
import sys
import threading
import types
from collections.abc import Iterator
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from core.errors import RiskPruneError, SpecError
from core.execution.base import Executor, Job, TaskError, TaskFn, check_workers, limit_worker_threads, run_task, task_error

POLL_SECONDS = 0.05  # how often a waiting caller looks at the cancel event
# Imported once by the fork server, so forked workers start with them loaded (shared copy-on-write):
# torch and the pruning engine (which brings core.model, core.metrics, torch-pruning, scikit-learn).
FORKSERVER_PRELOAD = ["torch", "core.execution.local", "core.prune"]


_MAIN_LOCK = threading.Lock()


def _hosted_main() -> bool:
    """True when ``__main__`` is a script a host runs, not the program itself (a Streamlit page).

    Streamlit executes each page as the module ``__main__`` and leaves it there. A new worker
    process re-imports the parent's ``__main__`` file before it does anything (multiprocessing's
    preparation step), so every pool worker started from the dashboard would run the page script
    again — drawing nothing, but loading the sample, binding models and often dying on
    ``st.stop()``. The program's own script (``python my_script.py``) is still imported, so task
    functions defined there keep working.
    """
    main = sys.modules.get("__main__")
    path = getattr(main, "__file__", None)
    if main is None or path is None or getattr(main, "__spec__", None) is not None:
        return False
    program = sys.argv[0] if sys.argv else ""
    return not program or os.path.abspath(path) != os.path.abspath(program)


@contextlib.contextmanager
def _plain_main() -> Iterator[None]:
    """While a worker starts, a bare ``__main__`` stands in for a hosted script (see ``_hosted_main``)."""
    with _MAIN_LOCK:
        if not _hosted_main():
            yield
            return
        hosted = sys.modules["__main__"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            sys.modules["__main__"] = hosted


class _PlainMainStart:
    """A worker process whose start never lets a hosted ``__main__`` into the new process."""

    def start(self) -> None:
        with _plain_main():
            super().start()  # type: ignore[misc]


class _SpawnWorker(_PlainMainStart, multiprocessing.context.SpawnProcess):
    pass


class _SpawnContext(multiprocessing.context.SpawnContext):
    Process = _SpawnWorker


_CONTEXTS: dict[str, type] = {"spawn": _SpawnContext}
if sys.platform != "win32":  # the fork server exists on POSIX only

    class _ForkServerWorker(_PlainMainStart, multiprocessing.context.ForkServerProcess):
        pass

    class _ForkServerContext(multiprocessing.context.ForkServerContext):
        Process = _ForkServerWorker

    _CONTEXTS["forkserver"] = _ForkServerContext


def _worker_context(method: str) -> multiprocessing.context.BaseContext:
    """The start method's context, with processes that never re-import a hosted ``__main__``
    (module-level classes: the fork server unpickles the process object it is sent)."""
    if method not in _CONTEXTS:
        raise RiskPruneError(f"Unknown start method '{method}' for worker processes.", "Use 'forkserver' or 'spawn'.")
    return _CONTEXTS[method]()


def default_start_method() -> str:
    """``forkserver`` where the platform has it (Linux, macOS), else ``spawn``; never ``fork``."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class InProcessExecutor(Executor):
    """A loop on the caller's thread: the default, deterministic, nothing to start or stop.

    Cancellation is checked between tasks (a running task is not interrupted).
    """

    name = "in-process"

    @property
    def workers(self) -> int:
        return 1

    def _run(self, job: Job) -> list[Any]:
        for i, task in enumerate(job.tasks):
            if job.cancel_requested():
                raise job.cancelled()
            try:
                result = job.fn(job.shared, task)
            except RiskPruneError:
                raise
            except Exception as exc:  # becomes a TaskError naming the task
                raise task_error(job.labels[i], type(exc).__name__, str(exc)) from exc
            job.finish(i, (True, result))
        return job.results()


# ------------------------------------------------------------------------------ process pool

_WORKER_SHARED: Any = None  # set once per worker process by the pool initializer


def _init_worker(shared: Any) -> None:
    global _WORKER_SHARED
    _WORKER_SHARED = shared
    limit_worker_threads()


def _call_in_worker(fn: TaskFn, task: Any) -> tuple[bool, Any]:
    return run_task(fn, _WORKER_SHARED, task)


class ProcessPoolExecutor(Executor):
    """``workers`` processes on this machine (default: one per CPU core).

    Workers start on the first ``map`` and stay warm for later calls with the *same* ``shared``
    object (identity, not equality: shared is read-only by contract); a call with another
    ``shared`` restarts them, because the payload is shipped to a worker only when it starts.
    Cancelling, or a failing task, stops the workers at once (running tasks are terminated, their
    results could not be used anyway); the next ``map`` starts fresh ones. Calls to ``map`` on one
    executor are serialised.
    """

    name = "process pool"

    def __init__(self, workers: int | None = None, *, start_method: str | None = None) -> None:
        self._workers = check_workers(workers if workers is not None else (os.cpu_count() or 1))
        method = start_method or default_start_method()
        if method == "fork":
            raise RiskPruneError("Worker processes are never forked from a process that runs torch (it can deadlock).",
                                 "Use start_method='forkserver' or 'spawn'.")
        self._context = _worker_context(method)
        if method == "forkserver":  # takes effect when the process's fork server first starts
            self._context.set_forkserver_preload(FORKSERVER_PRELOAD)
        self._pool: cf.ProcessPoolExecutor | None = None
        self._pool_shared: Any = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def workers(self) -> int:
        return self._workers

    def _pool_for(self, shared: Any) -> cf.ProcessPoolExecutor:
        if self._pool is not None and self._pool_shared is shared:
            return self._pool
        self._stop_pool(terminate=False)
        self._pool = cf.ProcessPoolExecutor(max_workers=self._workers, mp_context=self._context,
                                            initializer=_init_worker, initargs=(shared,))
        self._pool_shared = shared  # held so its id cannot be reused by another object
        return self._pool

    def _run(self, job: Job) -> list[Any]:
        with self._lock:
            if self._closed:
                raise RiskPruneError("This process pool has been closed.", "Create a new executor.")
            pool = self._pool_for(job.shared)
            try:
                index_of = self._submit_all(pool, job)
                pending = set(index_of)
                while pending:
                    if job.cancel_requested():
                        raise job.cancelled()
                    done, pending = cf.wait(pending, timeout=POLL_SECONDS, return_when=cf.FIRST_COMPLETED)
                    for future in sorted(done, key=index_of.__getitem__):
                        i = index_of[future]
                        job.finish(i, _outcome(future, job.labels[i]))
            except BaseException:
                self._stop_pool(terminate=True)
                raise
            return job.results()

    @staticmethod
    def _submit_all(pool: cf.ProcessPoolExecutor, job: Job) -> dict[cf.Future, int]:
        """Queue every task; workers start here, and ``shared`` is pickled for them here."""
        try:
            return {pool.submit(_call_in_worker, job.fn, task): i for i, task in enumerate(job.tasks)}
        except RiskPruneError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. TypeError: cannot pickle '_thread.lock' object
            raise SpecError(f"The shared data cannot be sent to the worker processes ({type(exc).__name__}: {exc}).",
                            "Pass plain data as shared: bytes, arrays, data frames, dataclasses.") from None

    def _stop_pool(self, terminate: bool) -> None:
        """Shut the pool down; with ``terminate`` also stop running tasks (as Python 3.14's
        ``ProcessPoolExecutor.terminate_workers`` does, which 3.11 lacks)."""
        pool, self._pool, self._pool_shared = self._pool, None, None
        if pool is None:
            return
        if not terminate:
            pool.shutdown(wait=True)
            return
        processes = dict(getattr(pool, "_processes", None) or {})
        pool.shutdown(wait=False, cancel_futures=True)
        for process in processes.values():
            try:
                if process.is_alive():
                    process.terminate()
            except (ValueError, ProcessLookupError):  # already gone
                continue
        for process in processes.values():
            try:
                process.join(timeout=10)
            except (ValueError, AssertionError):
                continue

    def close(self) -> None:
        with self._lock:
            self._closed = True
            self._stop_pool(terminate=False)


def _outcome(future: cf.Future, label: str) -> tuple[bool, Any]:
    """The worker's envelope, or a TaskError when the pool itself failed on this task."""
    try:
        return future.result()
    except BrokenProcessPool:
        raise TaskError(f"The worker process running {label} stopped abruptly (out of memory or a crash).",
                        "Use fewer workers, or run in-process to see the error.", task_label=label,
                        error_type="BrokenProcessPool") from None
    except Exception as exc:  # noqa: BLE001 - e.g. a task or result that cannot be pickled
        raise task_error(label, type(exc).__name__, str(exc)) from None
