"""Ray backend on a private local Ray (2 CPUs): same results as in-process, shared put once,
cancellation, errors, and a connection it did not start left running.

Needs the optional extra (``pip install -r requirements-ray.txt``); skipped without it. Starting
Ray takes ~10 s on a 2-core machine, so the module shares one instance.
"""
from __future__ import annotations

import logging
import threading
import time
from pathlib import Path

import execution_tasks as et
import numpy as np
import pandas as pd
import pytest

from core.errors import SpecError
from core.execution import Cancelled, InProcessExecutor, RayExecutor, TaskError

ray = pytest.importorskip("ray")

pytestmark = [pytest.mark.ray, pytest.mark.slow]

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
SHARED = et.make_shared()
SEEDED_TASKS = [(seed, 0.0) for seed in (5, 1, 9, 2, 7, 3)]


@pytest.fixture(scope="module")
def ray_local():
    """A private local Ray whose workers can import the test tasks (tests/) and core (root)."""
    ray.init(address="local", num_cpus=2, include_dashboard=False, log_to_driver=False, logging_level=logging.ERROR,
             job_config=ray.job_config.JobConfig(code_search_path=[str(TESTS), str(ROOT)]))
    yield
    ray.shutdown()


@pytest.fixture
def executor(ray_local):
    with RayExecutor() as ex:
        yield ex


def test_ray_gives_exactly_the_in_process_results(executor):
    local = InProcessExecutor().map(et.seeded_score, SEEDED_TASKS, shared=SHARED)
    assert et.same_results(local, executor.map(et.seeded_score, SEEDED_TASKS, shared=SHARED))

    payload = et.tiny_model_payload()
    tasks = [("neuron_l1", 0.5, 0), ("magnitude_layer", 0.3, 1), ("random", 0.4, 2)]
    local = InProcessExecutor().map(et.prune_and_predict, tasks, shared=payload)
    assert et.same_results(local, executor.map(et.prune_and_predict, tasks, shared=payload))


def test_ray_puts_shared_in_the_object_store_once_per_map(executor, monkeypatch):
    puts: list[object] = []
    real_put = ray.put
    monkeypatch.setattr(ray, "put", lambda value, **kw: puts.append(value) or real_put(value, **kw))
    calls: list[tuple[int, int, int]] = []
    out = executor.map(et.seeded_score, SEEDED_TASKS, shared=SHARED,
                       progress=lambda done, total, what: calls.append((done, total, threading.get_ident())))
    assert len(out) == len(SEEDED_TASKS)
    assert len(puts) == 1 and puts[0] is SHARED
    assert calls[-1][:2] == (len(SEEDED_TASKS), len(SEEDED_TASKS))
    assert {c[2] for c in calls} == {threading.get_ident()}


def test_ray_results_are_in_task_order_when_tasks_finish_out_of_order(executor, tmp_path):
    n = 4
    finished: list[str] = []
    out = executor.map(et.wait_for_last, [(i, n, str(tmp_path)) for i in range(n)],
                       progress=lambda d, t, what: finished.append(what), label=lambda task: f"task {task[0]}")
    assert out == [0, 10, 20, 30]
    assert finished[-1] == "task 0"


def test_ray_cancel_mid_run_raises_cancelled_and_starts_no_more_tasks(executor, tmp_path):
    stop = threading.Event()
    n = 10

    def stop_after_first(done, total, what):
        if done == 1:
            stop.set()

    with pytest.raises(Cancelled):
        executor.map(et.mark_and_sleep, [(i, 0.5, str(tmp_path)) for i in range(n)],
                     progress=stop_after_first, cancel=stop)
    time.sleep(1.5)  # cancelled tasks would have started by now
    started = len(list(tmp_path.glob("started-*")))
    assert 1 <= started < n
    assert executor.map(et.fail_on, ["a"]) == ["A"]  # still usable


def test_ray_task_errors_arrive_as_the_same_risk_error_or_a_task_error(executor):
    with pytest.raises(SpecError) as caught:
        executor.map(et.fail_on, ["ok", "bad ratio"])
    assert (caught.value.message, caught.value.hint) == ("The pruning ratio 7 is outside [0, 0.99].",
                                                         "A ratio is the share to remove.")
    with pytest.raises(TaskError, match=r"task 2 of 2 \('bug'\) failed \(ValueError"):
        executor.map(et.fail_on, ["ok", "bug"])


def test_ray_executor_never_shuts_down_a_connection_it_did_not_start(ray_local):
    with RayExecutor(workers=1) as ex:
        assert ex.workers == 1 and ex.map(et.fail_on, ["x", "y"]) == ["X", "Y"]
    assert ray.is_initialized()


def test_a_sweep_on_ray_gives_exactly_the_in_process_table(executor, sample_holdout):
    from core.cache import clear_all
    from core.workspace import sweep_workspace

    points = dict(methods=("magnitude_layer", "neuron_l2"), ratios=(0.0, 0.5))
    here = sweep_workspace(sample_holdout, **points)
    clear_all()
    there = sweep_workspace(sample_holdout, executor=executor, **points)
    # TorchScript names classes after a process-wide counter, so a file measured in another process
    # may differ by a few hundred bytes of names; every other number is identical
    pd.testing.assert_frame_equal(here.table.drop(columns="file_bytes"), there.table.drop(columns="file_bytes"), check_exact=True)
    assert np.allclose(here.table["file_bytes"], there.table["file_bytes"], rtol=0.01, atol=0)
