"""Execution engine: in-process loop and local process pool behind one interface.

Proves the interface's promises on real worker processes: identical seeded results on every
backend, results in task order whatever the finishing order, progress on the caller's thread up
to (n, n), cancellation that keeps nothing and starts nothing more, RiskPruneErrors that cross the
process boundary intact, shared data shipped once per worker, and a torch prune + predict task.
Ray is covered in test_execution_ray.py (optional extra). One 2-worker pool is shared by the
module and reused while ``shared`` is the same object; tests that abort it pay a restart.
"""
from __future__ import annotations

import socket
import sys
import threading
import time
from pathlib import Path

import execution_tasks as et
import numpy as np
import pandas as pd
import pytest

import core
from core.errors import RiskPruneError, SpecError
from core.execution import Cancelled, InProcessExecutor, ProcessPoolExecutor, RayExecutor, TaskError, make_executor, ray_cluster

SHARED = et.make_shared()
SEEDED_TASKS = [(seed, 0.0) for seed in (5, 1, 9, 2, 7, 3)]


@pytest.fixture(scope="module")
def pool():
    with ProcessPoolExecutor(workers=2) as ex:
        yield ex


@pytest.fixture(params=["in-process", "pool"])
def executor(request, pool):
    return InProcessExecutor() if request.param == "in-process" else pool


# ------------------------------------------------------------------ results


def test_seeded_tasks_give_identical_results_in_process_and_on_a_pool(pool):
    local = InProcessExecutor().map(et.seeded_score, SEEDED_TASKS, shared=SHARED)
    remote = pool.map(et.seeded_score, SEEDED_TASKS, shared=SHARED)
    assert [r["seed"] for r in remote] == [5, 1, 9, 2, 7, 3]
    assert et.same_results(local, remote)
    # the comparison can fail: another seed changes the scores
    assert not et.same_results(local, InProcessExecutor().map(et.seeded_score, [(4, 0.0)] + SEEDED_TASKS[1:], shared=SHARED))


def test_results_come_back_in_task_order_when_tasks_finish_out_of_order(pool, tmp_path):
    n = 5
    finished: list[str] = []
    tasks = [(i, n, str(tmp_path)) for i in range(n)]  # task 0 waits for task 4, so it finishes last
    out = pool.map(et.wait_for_last, tasks, shared=SHARED, progress=lambda d, t, what: finished.append(what),
                   label=lambda task: f"task {task[0]}")
    assert out == [0, 10, 20, 30, 40]
    completion = finished[1:]  # finished[0] is the (0, n) start message
    assert completion[-1] == "task 0" and completion != [f"task {i}" for i in range(n)]


def test_progress_reaches_n_of_n_on_the_callers_thread(executor):
    calls: list[tuple[int, int, str, int]] = []
    executor.map(et.seeded_score, SEEDED_TASKS, shared=SHARED,
                 progress=lambda done, total, what: calls.append((done, total, what, threading.get_ident())))
    assert [c[0] for c in calls] == list(range(len(SEEDED_TASKS) + 1))
    assert {c[1] for c in calls} == {len(SEEDED_TASKS)}
    assert {c[3] for c in calls} == {threading.get_ident()}


def test_shared_is_unpickled_once_per_worker_not_once_per_task(pool):
    out = pool.map(et.arrivals, range(12), shared=SHARED)
    per_worker: dict[int, set[int]] = {}
    for pid, count in out:
        per_worker.setdefault(pid, set()).add(count)
    assert per_worker and all(counts == {1} for counts in per_worker.values())


def test_empty_task_list_returns_an_empty_list(executor):
    assert executor.map(et.seeded_score, [], shared=SHARED) == []


# ------------------------------------------------------------------ cancellation


def test_cancel_mid_run_on_a_pool_raises_cancelled_and_starts_no_more_tasks(pool, tmp_path):
    stop = threading.Event()
    n = 10

    def stop_after_first(done, total, what):
        if done == 1:
            stop.set()

    with pytest.raises(Cancelled, match="cancelled"):
        pool.map(et.mark_and_sleep, [(i, 0.4, str(tmp_path)) for i in range(n)], shared=SHARED,
                 progress=stop_after_first, cancel=stop)
    started = len(list(tmp_path.glob("started-*")))
    assert 1 <= started < n
    time.sleep(0.5)
    assert len(list(tmp_path.glob("started-*"))) == started  # workers were stopped: nothing starts later
    # the executor stays usable: the next call starts fresh workers
    assert pool.map(et.fail_on, ["a", "b"], shared=SHARED) == ["A", "B"]


def test_cancel_in_process_stops_between_tasks(tmp_path):
    stop = threading.Event()

    def stop_after_two(done, total, what):
        if done == 2:
            stop.set()

    with pytest.raises(Cancelled):
        InProcessExecutor().map(et.mark_and_sleep, [(i, 0.0, str(tmp_path)) for i in range(6)],
                                progress=stop_after_two, cancel=stop)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["started-0", "started-1"]


def test_cancel_set_before_the_run_runs_nothing(executor, tmp_path):
    stop = threading.Event()
    stop.set()
    with pytest.raises(Cancelled):
        executor.map(et.mark_and_sleep, [(0, 0.0, str(tmp_path))], shared=SHARED, cancel=stop)
    assert list(tmp_path.iterdir()) == []


# ------------------------------------------------------------------ errors


def test_risk_error_in_a_task_arrives_with_the_same_type_message_and_hint(executor):
    with pytest.raises(SpecError) as caught:
        executor.map(et.fail_on, ["ok", "bad ratio", "ok"], shared=SHARED)
    assert type(caught.value) is SpecError
    assert caught.value.message == "The pruning ratio 7 is outside [0, 0.99]."
    assert caught.value.hint == "A ratio is the share to remove."


def test_other_exception_becomes_a_task_error_naming_the_task(executor):
    with pytest.raises(TaskError) as caught:
        executor.map(et.fail_on, ["ok", "bug"], shared=SHARED, label=lambda t: f"candidate {t!r}")
    err = caught.value
    assert isinstance(err, RiskPruneError)
    assert err.task_label == "candidate 'bug'" and err.error_type == "ValueError"
    assert "candidate 'bug' failed (ValueError: operands could not be broadcast" in err.message
    assert "Traceback" not in str(err)


def test_a_lambda_task_function_is_refused_plainly():
    with pytest.raises(SpecError, match="cannot be sent to worker processes"):
        InProcessExecutor().map(lambda shared, task: task, [1, 2])


# ------------------------------------------------------------------ torch in workers


def test_pool_prunes_and_predicts_torch_models_exactly_like_in_process(pool):
    payload = et.tiny_model_payload()
    tasks = [("neuron_l1", 0.5, 0), ("magnitude_layer", 0.3, 1), ("random", 0.4, 2), ("neuron_l2", 0.25, 3)]
    local = InProcessExecutor().map(et.prune_and_predict, tasks, shared=payload)
    remote = pool.map(et.prune_and_predict, tasks, shared=payload)
    assert remote[0]["state"] == "compacted"
    assert et.same_results(local, remote)


@pytest.mark.slow
def test_spawn_start_method_gives_the_same_results_as_the_fork_server():
    local = InProcessExecutor().map(et.seeded_score, SEEDED_TASKS, shared=SHARED)
    with ProcessPoolExecutor(workers=2, start_method="spawn") as spawned:
        assert et.same_results(local, spawned.map(et.seeded_score, SEEDED_TASKS, shared=SHARED))


def test_fork_start_method_is_refused():
    with pytest.raises(RiskPruneError, match="never forked"):
        ProcessPoolExecutor(workers=2, start_method="fork")


# ------------------------------------------------------------------ choosing a backend


@pytest.fixture
def fake_ray(monkeypatch):
    """Ray stand-ins: RayExecutor records the address it would connect to; nothing is started."""
    connects: list[tuple] = []
    monkeypatch.setattr(ray_cluster, "import_ray", lambda: object())
    monkeypatch.setattr(ray_cluster, "_connect", lambda address, workers: connects.append((address, workers)) or False)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)
    return connects


def test_make_executor_precedence_is_address_then_env_then_workers_then_in_process(fake_ray, monkeypatch):
    assert isinstance(make_executor(), InProcessExecutor)
    assert isinstance(make_executor(workers=1), InProcessExecutor)
    with make_executor(workers=2) as ex:
        assert isinstance(ex, ProcessPoolExecutor) and ex.workers == 2
    assert fake_ray == []

    monkeypatch.setenv("RAY_ADDRESS", "   ")  # blank counts as unset, as in Ray
    assert isinstance(make_executor(workers=2), ProcessPoolExecutor)

    monkeypatch.setenv("RAY_ADDRESS", "10.0.0.5:6379")
    ex = make_executor(workers=2)
    assert isinstance(ex, RayExecutor) and ex.address == "10.0.0.5:6379"
    ex = make_executor(workers=3, ray_address="ray://head:10001")
    assert isinstance(ex, RayExecutor) and ex.address == "ray://head:10001" and ex.workers == 3
    assert fake_ray == [("10.0.0.5:6379", 2), ("ray://head:10001", 3)]


@pytest.mark.parametrize("workers", [0, -1, 2.5, True, "2", 10_000])
def test_invalid_worker_counts_are_refused(workers):
    with pytest.raises(SpecError, match="number of workers"):
        make_executor(workers=workers)


def test_asking_for_ray_without_ray_installed_names_the_requirements_file(monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)  # makes `import ray` fail
    with pytest.raises(RiskPruneError, match="requirements-ray.txt"):
        make_executor(ray_address="auto")


class FakeRay:
    """Just enough of ray's module surface to check who starts and who shuts down a connection."""

    def __init__(self, initialized: bool = False) -> None:
        self.initialized = initialized
        self.inits: list[dict] = []
        self.shutdowns = 0

    def is_initialized(self) -> bool:
        return self.initialized

    def init(self, **kwargs) -> None:
        self.inits.append(kwargs)
        self.initialized = True

    def shutdown(self) -> None:
        self.shutdowns += 1
        self.initialized = False


def _use_fake_ray(monkeypatch, fake: FakeRay) -> None:
    monkeypatch.setattr(ray_cluster, "import_ray", lambda: fake)
    monkeypatch.setattr(ray_cluster, "_users", 0)
    monkeypatch.delenv("RAY_ADDRESS", raising=False)


def test_a_ray_started_here_is_quiet_and_shut_down_after_the_last_executor_closes(monkeypatch):
    fake = FakeRay()
    _use_fake_ray(monkeypatch, fake)
    first = RayExecutor(workers=2)
    second = RayExecutor()
    assert len(fake.inits) == 1
    assert fake.inits[0] == {"address": "local", "num_cpus": 2, "include_dashboard": False, "log_to_driver": False,
                             "logging_level": 40}
    first.close()
    first.close()  # closing twice releases once
    assert fake.shutdowns == 0
    second.close()
    assert fake.shutdowns == 1


def test_a_ray_connection_opened_elsewhere_is_reused_and_left_running(monkeypatch):
    fake = FakeRay(initialized=True)
    _use_fake_ray(monkeypatch, fake)
    with RayExecutor(address="auto"):
        pass
    assert fake.inits == [] and fake.shutdowns == 0


def test_a_cluster_address_ships_the_core_package_to_the_workers(monkeypatch):
    fake = FakeRay()
    _use_fake_ray(monkeypatch, fake)
    with RayExecutor(address="auto"):
        pass
    env = fake.inits[0]["runtime_env"]
    assert fake.inits[0]["address"] == "auto" and "num_cpus" not in fake.inits[0]
    assert [Path(p) for p in env["py_modules"]] == [Path(core.__file__).parent]


def test_an_unreachable_ray_address_fails_at_once_with_a_plain_message(monkeypatch):
    fake = FakeRay()
    _use_fake_ray(monkeypatch, fake)
    with socket.socket() as s:  # a port that was just free: nothing listens there now
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    started = time.monotonic()
    with pytest.raises(RiskPruneError, match=f"Nothing answers at the Ray address 127.0.0.1:{port}"):
        make_executor(ray_address=f"127.0.0.1:{port}")
    assert fake.inits == [] and time.monotonic() - started < 5


def test_a_cluster_that_needs_a_token_gets_a_hint_about_ray_auth_mode(monkeypatch):
    class TokenCluster(FakeRay):
        def init(self, **kwargs) -> None:  # what Ray 2.60 raises when the token is missing
            try:
                raise RuntimeError("Failed to connect to GCS. ray.exceptions.AuthenticationError: RPC error: "
                                   "InvalidAuthToken: Authentication token is missing or incorrect.")
            except RuntimeError as cause:
                raise ConnectionError("Failed to connect to Ray cluster at 10.0.0.5:6379") from cause

    fake = TokenCluster()
    _use_fake_ray(monkeypatch, fake)
    with pytest.raises(RiskPruneError, match="requires token authentication") as caught:
        RayExecutor(address="auto")
    assert "RAY_AUTH_MODE=token" in caught.value.hint


def test_a_sweep_on_a_pool_gives_exactly_the_in_process_table(pool, sample_holdout):
    from core.cache import clear_all
    from core.workspace import sweep_workspace

    points = dict(methods=("magnitude_global", "neuron_l1"), ratios=(0.0, 0.3, 0.6))
    here = sweep_workspace(sample_holdout, **points)
    clear_all()
    there = sweep_workspace(sample_holdout, executor=pool, **points)
    assert there is not here
    # TorchScript names classes after a process-wide counter, so a file measured in another process
    # may differ by a few hundred bytes of names; every other number is identical
    pd.testing.assert_frame_equal(here.table.drop(columns="file_bytes"), there.table.drop(columns="file_bytes"), check_exact=True)
    assert np.allclose(here.table["file_bytes"], there.table["file_bytes"], rtol=0.01, atol=0)
    assert (here.rows, here.cutoff, here.skipped) == (there.rows, there.cutoff, there.skipped)


@pytest.mark.slow  # trains the model and starts the pool's workers (~15 s on 2 cores)
def test_a_sweep_of_an_embedding_model_on_a_pool_gives_the_in_process_table(pool):
    """A graph-twin architecture ships what binding learnt (probed width, twin kind, verified rows): the
    workers rebuild the same twin, so DepGraph compacts there exactly as in process."""
    import architectures as arch

    from core.cache import clear_all
    from core.model import TWIN_GRAPH, load_model
    from core.workspace import bind, sweep_workspace

    book = arch.loan_book()
    upload = arch.scripted_bytes(arch.train("embedding_mlp", book.iloc[:800], epochs=5))
    ws = bind(load_model(upload, "embedding.pt"), book, arch.TARGET, "1", feature_columns=arch.COLUMNS, eval_mode="holdout")
    assert ws.model.twin_kind == TWIN_GRAPH and ws.model.n_inputs == len(arch.COLUMNS)
    points = dict(methods=("neuron_l1", "embedding_dims", "input_features"), ratios=(0.0, 0.4))
    here = sweep_workspace(ws, **points)
    clear_all()
    there = sweep_workspace(ws, executor=pool, model_bytes=upload, **points)
    structured = there.table[there.table["method"].isin(["neuron_l1", "embedding_dims"]) & (there.table["ratio"] > 0)]
    assert set(structured["state"]) == {"compacted"}  # DepGraph ran on the workers' rebuilt twin
    assert (structured["parameters"] < ws.model.n_parameters).all()
    pd.testing.assert_frame_equal(here.table.drop(columns="file_bytes"), there.table.drop(columns="file_bytes"), check_exact=True)
    assert (here.rows, here.cutoff, here.skipped) == (there.rows, there.cutoff, there.skipped)


def test_workers_started_under_a_hosted_script_never_run_that_script(tmp_path, monkeypatch):
    """Streamlit leaves the page it runs in sys.modules['__main__']: pool workers must not import (run) it again."""
    import types

    marker = tmp_path / "page_ran"
    page = tmp_path / "page.py"
    page.write_text(f"open({str(marker)!r}, 'w').write('ran')\nraise SystemExit('a page script ran in a worker')\n")
    hosted = types.ModuleType("__main__")
    hosted.__file__ = str(page)  # a script with a file and no import spec, as Streamlit's ScriptRunner makes it
    monkeypatch.setitem(sys.modules, "__main__", hosted)
    with ProcessPoolExecutor(workers=2) as ex:
        remote = ex.map(et.seeded_score, SEEDED_TASKS, shared=SHARED)
    assert et.same_results(InProcessExecutor().map(et.seeded_score, SEEDED_TASKS, shared=SHARED), remote)
    assert not marker.exists()
    assert sys.modules["__main__"] is hosted  # the page's module is back in place
