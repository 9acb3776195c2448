"""The Ray backend: work that outgrows one machine runs as Ray tasks on a cluster.

Ray is optional (``pip install -r requirements-ray.txt``) and imported only when this backend is
asked for, so ``core`` imports without it. What this adapter relies on, from Ray's own API
documentation (ray.init, ray.put, ray.wait, ray.cancel):

* ``ray.init(address=…)`` connects to a running cluster ("auto": the one ``ray start --head``
  started on this machine; "ray://host:10001": Ray Client). Without an address this backend
  passes ``address="local"``, which always starts a private Ray on this machine instead of
  silently joining whatever cluster ``/tmp/ray`` remembers. No dashboard, worker logs not
  forwarded to the driver, only Ray errors logged: it stays quiet and light.
* One Ray connection exists per process. If one is already open (a notebook, a test fixture),
  it is reused and never shut down here; ``close()`` shuts down only a Ray this module started,
  once no RayExecutor uses it any more.
* ``shared`` goes to the object store once per ``map`` (``ray.put``); every task receives the
  same ObjectRef, which Ray resolves on the worker's node (fetched to a node once, numpy arrays
  read zero-copy), so it is never serialised once per task.
* Tasks are ``@ray.remote(num_cpus=1)``: one core each, torch on one thread. Results are
  collected with ``ray.wait`` on the caller's thread (progress, cancellation); cancelling calls
  ``ray.cancel`` on every unfinished task (pending ones never start; running ones get a
  KeyboardInterrupt).
* On a cluster reached by address, workers import RiskPrune's ``core`` package from a copy Ray
  uploads with the job (``runtime_env`` ``py_modules``); the nodes need the packages of
  ``requirements.txt`` installed (same versions as here), exactly as Ray expects.
"""
from __future__ import annotations

import logging
import os
import socket
import threading
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from core.errors import RiskPruneError, SpecError
from core.execution.base import Executor, Job, TaskError, TaskFn, check_workers, limit_worker_threads, run_task, task_error

POLL_SECONDS = 0.05
REACH_SECONDS = 3.0  # a cluster that does not accept a TCP connection in this time is reported unreachable
RAY_ADDRESS_ENV = "RAY_ADDRESS"
INSTALL_HINT = "Install the optional Ray extra: pip install -r requirements-ray.txt"
_CORE_DIR = Path(__file__).resolve().parents[1]

_lock = threading.Lock()
_users = 0  # RayExecutors using a Ray connection this module started (0: none, or not ours)
_remote_fn: Any = None
_worker_ready = False


def import_ray() -> Any:
    """The ``ray`` module, or a RiskPruneError saying how to install it."""
    try:
        import ray
    except ImportError:
        raise RiskPruneError("Running on a Ray cluster needs the Ray package, which is not installed.",
                             INSTALL_HINT) from None
    return ray


def ray_address_from_env() -> str | None:
    """``RAY_ADDRESS`` when set and not blank (Ray's own rule), else None."""
    value = os.environ.get(RAY_ADDRESS_ENV, "").strip()
    return value or None


def check_reachable(address: str, timeout: float = REACH_SECONDS) -> None:
    """Refuse an address nothing listens on, before Ray would retry it for minutes.

    ``ray.init`` on an unreachable GCS address keeps retrying (over five minutes measured with Ray
    2.60), which would freeze the dashboard; one TCP connect with a short timeout tells the user at
    once. "auto"/"local" and addresses without a port are left to Ray, which fails fast on them.
    """
    host, port = _host_port(address)
    if host is None or port is None:
        return
    try:
        with socket.create_connection((host, port), timeout=timeout):
            pass
    except OSError as exc:
        raise RiskPruneError(f"Nothing answers at the Ray address {address} ({exc.strerror or type(exc).__name__}).",
                             "Start the cluster (ray start --head) and use the address it prints, "
                             "or unset RAY_ADDRESS to run on this machine.") from None


def _host_port(address: str) -> tuple[str | None, int | None]:
    rest = address.split("://", 1)[1] if "://" in address else address
    try:
        parts = urlsplit("//" + rest)
        return parts.hostname, parts.port
    except ValueError:  # a port that is not a number: Ray reports the format
        return None, None


def _init_kwargs(address: str | None, workers: int | None) -> dict:
    quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
    if address is None:
        return {"address": "local", "num_cpus": workers, **quiet}
    runtime_env = {"py_modules": [str(_CORE_DIR)], "excludes": ["__pycache__", "*.pyc"]}
    return {"address": address, "runtime_env": runtime_env, **quiet}


def _connect(address: str | None, workers: int | None) -> bool:
    """Open (or reuse) the process's Ray connection; True when this module owns it."""
    global _users
    ray = import_ray()
    with _lock:
        if ray.is_initialized():
            if _users:
                _users += 1
                return True
            return False  # somebody else's connection: use it, never shut it down
        if address is not None:
            check_reachable(address)
        try:
            ray.init(**_init_kwargs(address, workers))
        except Exception as exc:  # noqa: BLE001 - ConnectionError, ValueError, RuntimeError, timeouts …
            where = f"the Ray cluster at {address}" if address else "a local Ray instance"
            if _caused_by_authentication(exc):
                raise RiskPruneError(
                    f"{where[0].upper()}{where[1:]} refused the connection: it requires token authentication.",
                    "Set RAY_AUTH_MODE=token and provide the cluster's token (RAY_AUTH_TOKEN, or the file "
                    "~/.ray/auth_token) where RiskPrune runs.",
                ) from None
            first = " ".join(str(exc).split())[:200]
            raise RiskPruneError(
                f"Could not connect to {where} ({type(exc).__name__}: {first}).",
                "Check the address ('ray status' on the head node shows it), or unset RAY_ADDRESS to run on this machine.",
            ) from None
        _users = 1
        return True


def _caused_by_authentication(exc: BaseException | None) -> bool:
    """Clusters started with ``ray start`` require a token by default (Ray 2.60); ray.init reports
    a missing one as a ConnectionError caused by a RuntimeError that quotes the AuthenticationError."""
    seen = 0
    while exc is not None and seen < 10:
        if "Authentication" in type(exc).__name__ or "InvalidAuthToken" in str(exc):
            return True
        exc, seen = exc.__cause__ or exc.__context__, seen + 1
    return False


def _disconnect() -> None:
    global _users
    ray = import_ray()
    with _lock:
        _users = max(0, _users - 1)
        if _users == 0 and ray.is_initialized():
            ray.shutdown()


def _ray_task(fn: TaskFn, shared: Any, task: Any) -> tuple[bool, Any]:
    """What runs on a Ray worker: one torch thread, then the task, its failure as plain data."""
    global _worker_ready
    if not _worker_ready:
        limit_worker_threads()
        _worker_ready = True
    return run_task(fn, shared, task)


def _remote() -> Any:
    global _remote_fn
    if _remote_fn is None:
        _remote_fn = import_ray().remote(num_cpus=1)(_ray_task)
    return _remote_fn


class RayExecutor(Executor):
    """Tasks as Ray tasks on a cluster (``address`` or ``RAY_ADDRESS``) or on a private local Ray.

    ``workers`` caps how many tasks are in flight at once (default: every CPU of the cluster);
    on a private local Ray it is also the number of CPUs Ray may use. Connects in the
    constructor, so a wrong address fails here, before any work is queued.
    """

    name = "Ray"

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        import_ray()
        self.address = (address.strip() if address else None) or ray_address_from_env()
        self._cap = check_workers(workers) if workers is not None else None
        self._owner = _connect(self.address, self._cap)
        self._closed = False
        self._map_lock = threading.Lock()

    @property
    def workers(self) -> int:
        if self._cap is not None:
            return self._cap
        return max(1, int(import_ray().cluster_resources().get("CPU", 1)))

    def describe(self) -> str:
        where = self.address or "local Ray"
        return f"Ray at {where}, {self.workers} workers"

    def _run(self, job: Job) -> list[Any]:
        ray = import_ray()
        with self._map_lock:
            if self._closed:
                raise RiskPruneError("This Ray executor has been closed.", "Create a new executor.")
            remote = _remote()
            try:
                shared_ref = ray.put(job.shared)
            except Exception as exc:  # noqa: BLE001 - e.g. TypeError: cannot pickle '_thread.lock' object
                raise SpecError(f"The shared data cannot be sent to the Ray cluster ({type(exc).__name__}: {exc}).",
                                "Pass plain data as shared: bytes, arrays, data frames, dataclasses.") from None
            window = self._cap or len(job)
            queued = iter(enumerate(job.tasks))
            index_of: dict[Any, int] = {}

            def submit_next() -> None:
                for i, task in queued:
                    try:
                        index_of[remote.remote(job.fn, shared_ref, task)] = i
                    except Exception as exc:  # noqa: BLE001 - a task Ray cannot serialise
                        raise task_error(job.labels[i], type(exc).__name__, str(exc)) from None
                    return

            try:
                for _ in range(min(window, len(job))):
                    submit_next()
                while index_of:
                    if job.cancel_requested():
                        raise job.cancelled()
                    ready, _ = ray.wait(list(index_of), num_returns=1, timeout=POLL_SECONDS)
                    for ref in ready:
                        i = index_of.pop(ref)
                        job.finish(i, _outcome(ray, ref, job.labels[i]))
                        if not job.cancel_requested():
                            submit_next()
            except BaseException:
                for ref in index_of:
                    ray.cancel(ref)
                raise
            return job.results()  # shared_ref goes out of scope here, so Ray may free the object

    def close(self) -> None:
        with self._map_lock:
            if self._closed:
                return
            self._closed = True
            if self._owner:
                _disconnect()


def _outcome(ray: Any, ref: Any, label: str) -> tuple[bool, Any]:
    """The task's envelope, or a TaskError when Ray could not run it (worker died, lost object,
    the cluster cannot import the task's code …)."""
    try:
        return ray.get(ref)
    except Exception as exc:  # noqa: BLE001 - ray.exceptions.* are all reported the same way
        first = " ".join(str(exc).split())[:300]
        raise TaskError(f"Ray could not finish {label} ({type(exc).__name__}: {first}).",
                        "Check that the cluster's nodes have RiskPrune's requirements installed, or run locally.",
                        task_label=label, error_type=type(exc).__name__) from None
