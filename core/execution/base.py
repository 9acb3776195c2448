"""The one execution interface: apply a function to independent tasks, results in task order.

Why an interface at all: a sweep (every method × ratio) and the "recommend" search (every
candidate, optionally fine-tuned over k seeds) are embarrassingly parallel. The product rule is
"in-process by default, a local process pool when asked, Ray when pointed at a cluster — no
home-made scheduler". So every backend here is a thin adapter over a real engine (a loop,
``concurrent.futures``, Ray tasks) behind the same four promises:

* **order** – ``map`` returns results in task order, whatever order they finish in;
* **shared once** – the large read-only payload common to all tasks (model bytes, evaluation
  matrix) is shipped once per worker, never once per task;
* **progress and cancellation on the caller's thread** – ``progress(done, total, what)`` is called
  as tasks complete; a set ``cancel`` event stops new work, cancels pending work and raises
  :class:`Cancelled` (nothing half-done is returned);
* **errors a user can read** – a task raising a :class:`RiskPruneError` re-raises the same type,
  message and hint in the caller; anything else becomes a :class:`TaskError` naming the task.

Determinism is the task's job: a task carries its own seed, so the same tasks give the same
results on every backend (workers run torch on one thread, so reductions are not reordered by
thread count; the in-process loop uses the caller's torch settings).
"""
from __future__ import annotations

import pickle
import threading
import traceback
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, Self

from core.errors import RiskPruneError, SpecError
from core.progress import Progress, report

TaskFn = Callable[[Any, Any], Any]  # fn(shared, task) -> result; module-level, picklable
Label = Callable[[Any], str]

MAX_WORKERS = 64
_TEXT_LIMIT = 300  # characters of a foreign exception's text kept in a TaskError message


class Cancelled(RiskPruneError):
    """The caller asked to stop; no result of the interrupted run is returned."""


class TaskError(RiskPruneError):
    """A task failed with something that is not a RiskPruneError (a bug), or its worker died.

    ``task_label`` names the task, ``error_type`` the original exception class and
    ``worker_traceback`` keeps the worker's traceback for a developer (never shown to users).
    """

    def __init__(self, message: str, hint: str = "", *, task_label: str = "", error_type: str = "",
                 worker_traceback: str = "") -> None:
        super().__init__(message, hint)
        self.task_label = task_label
        self.error_type = error_type
        self.worker_traceback = worker_traceback


def check_workers(workers: int) -> int:
    """A worker count is a whole number in [1, MAX_WORKERS]; anything else is refused plainly."""
    if isinstance(workers, bool) or not isinstance(workers, int) or not 1 <= workers <= MAX_WORKERS:
        raise SpecError(f"The number of workers must be a whole number from 1 to {MAX_WORKERS}, not {workers!r}.",
                        "Use 1 to run in this process, or the number of CPU cores to use.")
    return workers


def _one_line(text: str) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= _TEXT_LIMIT else line[: _TEXT_LIMIT - 1] + "…"


def task_error(label: str, error_type: str, text: str, worker_traceback: str = "") -> TaskError:
    """The error for a task that failed with a non-RiskPrune exception: names the task and the cause."""
    detail = f"{error_type}: {_one_line(text)}" if text else error_type
    return TaskError(f"{label} failed ({detail}).",
                     "This is a fault in the computation, not in your inputs; please report it with the run manifest.",
                     task_label=label, error_type=error_type, worker_traceback=worker_traceback)


@dataclass(frozen=True)
class TaskFailure:
    """A task's exception as plain data, so it crosses process and machine boundaries intact.

    Pickling an exception object itself loses a RiskPruneError's hint (its args hold the joined
    sentence) and fails outright for exceptions holding unpicklable state; this record does not.
    ``error_class`` is set only for RiskPruneError subclasses that can be re-created by name.
    """

    error_class: type | None
    error_type: str
    message: str
    hint: str
    worker_traceback: str

    @staticmethod
    def of(exc: BaseException) -> TaskFailure:
        tb = "".join(traceback.format_exception(type(exc), exc, exc.__traceback__))
        if isinstance(exc, RiskPruneError):
            cls: type | None = type(exc)
            try:
                pickle.dumps(cls)
            except Exception:  # noqa: BLE001 - a class the caller cannot import: use the base type
                cls = RiskPruneError
            return TaskFailure(cls, type(exc).__name__, exc.message, exc.hint, tb)
        return TaskFailure(None, type(exc).__name__, str(exc), "", tb)

    def error(self, label: str) -> RiskPruneError:
        """The exception to raise in the caller."""
        if self.error_class is None:
            return task_error(label, self.error_type, self.message, self.worker_traceback)
        try:
            exc = self.error_class(self.message, self.hint)
        except Exception:  # noqa: BLE001 - a subclass with another constructor: keep the words
            exc = RiskPruneError(self.message, self.hint)
        exc.worker_traceback = self.worker_traceback
        return exc


def run_task(fn: TaskFn, shared: Any, task: Any) -> tuple[bool, Any]:
    """Worker side of every out-of-process backend: ``(True, result)`` or ``(False, TaskFailure)``.

    Only ``Exception`` is caught: KeyboardInterrupt/SystemExit (how Ray and the pool stop a task)
    must still stop it.
    """
    try:
        return True, fn(shared, task)
    except Exception as exc:  # noqa: BLE001 - every task failure is reported, none escapes as a traceback
        return False, TaskFailure.of(exc)


def limit_worker_threads() -> None:
    """One compute thread per worker, so N workers do not oversubscribe N cores.

    torch's intra-op pool is set directly; BLAS pools already loaded (numpy's OpenBLAS) through
    threadpoolctl when it is installed (it is, as a scikit-learn dependency).
    """
    import torch

    torch.set_num_threads(1)
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:  # pragma: no cover - scikit-learn always brings it
        return
    threadpool_limits(limits=1)


class Job:
    """One ``map`` call: the tasks, their labels, the results so far, progress and cancellation."""

    def __init__(self, fn: TaskFn, tasks: Sequence[Any], shared: Any, labels: Sequence[str],
                 progress: Progress | None, cancel: threading.Event | None, backend: str) -> None:
        self.fn, self.tasks, self.shared, self.labels = fn, tasks, shared, labels
        self.progress, self.cancel, self.backend = progress, cancel, backend
        self._results: list[Any] = [None] * len(tasks)
        self._done = 0

    def __len__(self) -> int:
        return len(self.tasks)

    def cancel_requested(self) -> bool:
        return self.cancel is not None and self.cancel.is_set()

    def cancelled(self) -> Cancelled:
        return Cancelled(f"The run was cancelled after {self._done} of {len(self)} tasks; no results were kept.",
                         "Start it again when you are ready.")

    def finish(self, index: int, outcome: tuple[bool, Any]) -> None:
        """Record task ``index``'s outcome (raising its error) and report progress."""
        ok, value = outcome
        if not ok:
            raise value.error(self.labels[index])
        self._results[index] = value
        self._done += 1
        report(self.progress, self._done, len(self), self.labels[index])

    def results(self) -> list[Any]:
        return list(self._results)


class Executor(ABC):
    """Runs ``fn(shared, task)`` for every task and returns the results in task order.

    Subclasses implement :meth:`_run`; :meth:`map` does the checks every backend shares.
    Use as a context manager (or call :meth:`close`) so workers are released.
    """

    name: str = "executor"

    @property
    @abstractmethod
    def workers(self) -> int:
        """How many tasks can run at the same time."""

    def map(self, fn: TaskFn, tasks: Iterable[Any], *, shared: Any = None, progress: Progress | None = None,
            cancel: threading.Event | None = None, label: Label | None = None) -> list[Any]:
        """``[fn(shared, t) for t in tasks]``, run on this backend.

        ``fn`` must be a module-level function (it is sent to workers by name) and ``tasks`` and
        results must be picklable; ``shared`` is read-only for tasks. ``label(task)`` names a task
        in progress messages and errors (default "task i of n"). Progress starts with
        ``(0, n, …)`` and ends with ``(n, n, …)``. Raises :class:`Cancelled` when ``cancel`` is set.
        """
        _check_picklable(fn)
        tasks = list(tasks)
        n = len(tasks)
        labels = [_label(label, t, i, n) for i, t in enumerate(tasks)]
        job = Job(fn, tasks, shared, labels, progress, cancel, self.name)
        if job.cancel_requested():
            raise job.cancelled()
        if not tasks:
            return []
        report(progress, 0, n, f"{n} tasks on {self.describe()}")
        return self._run(job)

    @abstractmethod
    def _run(self, job: Job) -> list[Any]:
        """Run every task of ``job`` (via ``job.finish``) and return ``job.results()``."""

    def describe(self) -> str:
        return f"{self.name}, {self.workers} worker{'s' if self.workers != 1 else ''}"

    def close(self) -> None:  # noqa: B027  (a no-op is right for backends without workers)
        """Release workers; the executor must not be used afterwards."""

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__}: {self.describe()}>"


def _label(label: Label | None, task: Any, index: int, n: int) -> str:
    if label is not None:
        return str(label(task))
    text = repr(task)
    text = text if len(text) <= 60 else text[:59] + "…"
    return f"task {index + 1} of {n} ({text})"


def _check_picklable(fn: TaskFn) -> None:
    """Every backend refuses what the process pool and Ray could not ship, so switching the
    backend never breaks a caller that worked in-process."""
    if not callable(fn):
        raise SpecError(f"The task function {fn!r} is not callable.", "Pass a function fn(shared, task).")
    try:
        pickle.dumps(fn)
    except Exception:  # noqa: BLE001 - lambdas, closures, bound methods of unpicklable objects
        name = getattr(fn, "__qualname__", repr(fn))
        raise SpecError(f"The task function {name} cannot be sent to worker processes.",
                        "Define it at module level (no lambda or nested function).") from None
