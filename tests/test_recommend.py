"""Recommend: the search finds the known smallest passing setting of a model built so the answer is
known, is deterministic, names each method's blocker when nothing passes, lets the worst seed
decide, survives pickling into workers, and leaves nothing behind when cancelled.

The model: 6 inputs → 20 hidden ReLU units → 1 logit, where 10 hidden units carry all the signal
and the other 10 are dead (zero weights and bias). Neuron pruning removes the dead units first, so
it may remove up to 10 of 20 units (ratios 50–52 %; 53 % rounds to 11) with *identical* scores,
and the 11th removed unit is a live one that moves many decisions. Stored parameters go from
6·20 + 20 + 20 + 1 = 161 to 6·10 + 10 + 10 + 1 = 81.
"""
from __future__ import annotations

import pickle
import threading
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.errors import RiskPruneError, SpecError
from core.execution import ProcessPoolExecutor
from core.model import load_model
from core.policy import Criterion, Policy, SearchSettings, default_policy, evaluate_candidate, payload_for, recommend, verdict_for
from core.policy.search import Candidate
from core.prune import FineTuneSpec, fine_tune
from core.workspace import bind, prune_workspace, scored, shipping
from tests.builders import model_bytes

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one torch thread

INPUTS = [f"x{j}" for j in range(6)]
POLICY = Policy(bootstrap_resamples=50)


class Cancelled(RiskPruneError):
    """The stand-in's cancellation error (core.execution raises its own ``Cancelled``)."""


class InProcess:
    """Stand-in for core.execution's in-process executor: same ``map`` signature and contract."""

    def __init__(self) -> None:
        self.calls = 0

    def map(self, fn, tasks, *, shared=None, progress=None, cancel=None):
        self.calls += 1
        out = []
        for i, task in enumerate(tasks):
            if cancel is not None and cancel.is_set():
                raise Cancelled("The search was cancelled.", "Start it again when ready.")
            out.append(fn(shared, task))
            if progress is not None:
                progress(i + 1, len(tasks), f"task {i + 1} of {len(tasks)}")
        return out


def known_answer_model() -> nn.Module:
    rng = np.random.default_rng(3)
    net = nn.Sequential(nn.Linear(6, 20), nn.ReLU(), nn.Linear(20, 1))
    w1, b1, w2 = np.zeros((20, 6)), np.zeros(20), np.zeros((1, 20))
    w1[:10] = rng.normal(0, 0.3, (10, 6))
    w1[np.arange(10), np.arange(10) % 6] += 3.0 * np.array([1, -1] * 5)  # each live unit reads one input strongly
    b1[:10] = rng.normal(0, 0.3, 10)
    w2[0, :10] = 2.5 * np.array([1, 1, -1, -1] * 2 + [1, -1])
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor(w1, dtype=torch.float32))
        net[0].bias.copy_(torch.tensor(b1, dtype=torch.float32))
        net[2].weight.copy_(torch.tensor(w2, dtype=torch.float32))
        net[2].bias.fill_(-2.5)
    return torch.jit.script(net.eval())


def known_answer_book(net: nn.Module, n: int = 400) -> pd.DataFrame:
    rng = np.random.default_rng(4)
    X = rng.normal(size=(n, 6)).astype(np.float32)
    with torch.no_grad():
        p = torch.sigmoid(net(torch.from_numpy(X))[:, 0]).numpy()
    frame = pd.DataFrame(X, columns=INPUTS)
    frame["default"] = (rng.random(n) < p).astype(int)
    frame["region"] = rng.choice(["north", "south", "east"], n)
    return frame



@pytest.fixture(scope="module")
def reference_rec(reference):
    return reference[0]


@pytest.fixture(scope="module")
def known():
    net = known_answer_model()
    data = model_bytes(net)
    ws = bind(load_model(data), known_answer_book(net), "default", "1", feature_columns=INPUTS, eval_mode="all")
    return ws, data


SETTINGS = SearchSettings(axis="parameters", methods=("neuron_l1", "neuron_l2", "input_features"))


@pytest.fixture(scope="module")
def reference(known):
    ws, data = known
    seen: list = []
    rec = recommend(ws, POLICY, InProcess(), settings=SETTINGS, model_bytes=data,
                    progress=lambda d, t, w: seen.append((d, t, w)))
    return rec, seen


def _table(rec) -> pd.DataFrame:
    return rec.to_frame().drop(columns=["seconds"])


def test_search_returns_the_known_smallest_passing_setting(reference_rec):
    w = reference_rec.winner
    assert w is not None and (w.method, w.ratio, w.seed) == ("neuron_l1", 0.5, 0)
    assert (w.size, w.original_size) == (81, 161) and w.verdict.acceptable
    assert w.measurements.state == "compacted" and w.reduction == pytest.approx(80 / 161)
    methods = reference_rec.method_frame().set_index("method")
    # ratios 50–52 % remove the 10 dead units; 53 % is the first that removes a live one
    assert methods.loc["neuron_l1", "best_ratio"] == 0.5 and methods.loc["neuron_l1", "stopped_at"] == 0.53
    assert methods.loc["neuron_l2", "best_ratio"] == 0.5 and methods.loc["neuron_l2", "best_size"] == 81
    assert reference_rec.outcome("neuron_l1", 0.52).acceptable and not reference_rec.outcome("neuron_l1", 0.53).acceptable
    # input pruning fails at its first grid ratio, and below it nothing can beat the verified 81 parameters
    assert reference_rec.blockers["input_features"].startswith("at 10%, the smallest ratio tried that makes it smaller")
    assert methods.loc["input_features", "stopped_by"] in reference_rec.blockers["input_features"]
    assert methods.loc["input_features", "note"].startswith("not refined between 0% and 10%")
    assert "neuron_l1" not in reference_rec.blockers and reference_rec.summary.startswith("Smallest model that passes")


def test_every_candidate_is_verified_never_interpolated(reference_rec):
    table = reference_rec.to_frame()
    assert len(table) == reference_rec.n_candidates == len(reference_rec.outcomes)
    assert all(o.verdict is not None and o.measurements is not None for o in reference_rec.outcomes)
    assert table["ratio"].mul(100).round(6).mod(1).eq(0).all()  # a 1 % grid
    assert table.loc[0, "stage"] == "original" and table.loc[0, "acceptable"]
    assert set(table["stage"]) >= {"original", "grid", "refine 1"}


def test_the_winner_reproduces_when_made_current(known, reference_rec):
    ws, _ = known
    pruned = prune_workspace(ws, reference_rec.winner.spec)
    assert verdict_for(ws, pruned, POLICY).to_dict() == reference_rec.winner.verdict.to_dict()


def test_same_inputs_give_the_same_recommendation(known, reference_rec):
    ws, data = known
    again = recommend(ws, POLICY, InProcess(), settings=SETTINGS, model_bytes=data)
    assert again.summary == reference_rec.summary
    pd.testing.assert_frame_equal(_table(again), _table(reference_rec))
    pd.testing.assert_frame_equal(again.method_frame(), reference_rec.method_frame())
    assert again.winner.verdict.to_dict() == reference_rec.winner.verdict.to_dict()


def test_progress_counts_every_candidate(reference):
    rec, seen = reference
    done = [d for d, _, _ in seen]
    assert done == sorted(done) and done[-1] == rec.n_candidates
    assert all(t >= d for d, t, _ in seen) and "candidates checked" in seen[-1][2]


def test_cancelling_raises_and_leaves_no_half_state(known, reference_rec):
    ws, data = known
    cancel = threading.Event()

    def stop_after_five(done, total, what):
        if done >= 5:
            cancel.set()

    with pytest.raises(Cancelled):
        recommend(ws, POLICY, InProcess(), settings=SETTINGS, model_bytes=data, progress=stop_after_five, cancel=cancel)
    payload = payload_for(ws, POLICY, model_bytes=data)
    assert shipping._KEPT.get(payload.workspace.key) is None  # the caller's workspace is not kept
    # a candidate evaluated afterwards comes out exactly as in the uncancelled search
    after = evaluate_candidate(payload, Candidate("neuron_l1", 53))
    assert after.verdict.to_dict() == reference_rec.outcome("neuron_l1", 0.53).verdict.to_dict()
    shipping._KEPT.drop(payload.workspace.key)


def test_nothing_passing_names_the_blocker_of_each_method(known):
    ws, data = known
    rec = recommend(ws, POLICY, InProcess(), settings=SearchSettings(axis="parameters", methods=("input_features", "random")),
                    model_bytes=data)
    assert rec.winner is None
    assert set(rec.blockers) == {"input_features", "random"}
    assert rec.blockers["input_features"].startswith("at 9%, the smallest ratio tried that makes it smaller, it fails")
    assert rec.blockers["random"] == "no ratio tried makes the model smaller on stored parameters (masked pruning)"
    assert rec.summary.startswith("No pruned setting that makes the model smaller on stored parameters passes")
    for label in ("Input variables (structured)", "Random weights (baseline)"):
        assert label in rec.summary


def test_an_exhaustive_search_refines_every_method_and_finds_the_same_winner(known, reference_rec):
    ws, data = known
    rec = recommend(ws, POLICY, InProcess(), model_bytes=data,
                    settings=SearchSettings(axis="parameters", methods=("neuron_l1", "input_features"), exhaustive=True))
    assert (rec.winner.method, rec.winner.ratio) == (reference_rec.winner.method, reference_rec.winner.ratio)
    # 9 % is the first ratio that drops one of the 6 inputs (round(0.09 · 6) = 1), and every input matters
    assert rec.blockers["input_features"].startswith("at 9%, the smallest ratio tried that makes it smaller, it fails")
    assert rec.method_frame().set_index("method").loc["input_features", "note"] == ""


def test_a_method_that_cannot_run_on_the_model_says_so():
    net = nn.Sequential(nn.Linear(6, 1))  # logistic regression: no hidden neurons to remove
    with torch.no_grad():
        net[0].weight.copy_(torch.tensor([[1.0, -1.0, 0.5, -0.5, 0.8, 0.01]]))
    scripted = torch.jit.script(net.eval())
    data = model_bytes(scripted)
    ws = bind(load_model(data), known_answer_book(scripted, 300), "default", "1", feature_columns=INPUTS, eval_mode="all")
    rec = recommend(ws, POLICY, InProcess(), settings=SearchSettings(methods=("neuron_l1",), grid=(0.5,)), model_bytes=data)
    assert rec.baseline.acceptable and rec.winner is None
    assert rec.blockers["neuron_l1"].startswith("it cannot run on this model: The model has no hidden layer")
    assert rec.to_frame().loc[1, "error"] != ""


def test_an_original_that_fails_the_policy_is_said_plainly(known):
    ws, data = known
    impossible = Criterion("parity_above_one", "Parity above one", "fairness", "min_air", ">=", 1.01)
    policy = Policy(criteria=(*default_policy().criteria[:3], impossible), bootstrap_resamples=50)
    rec = recommend(ws, policy, InProcess(), settings=SearchSettings(methods=("neuron_l1",)), model_bytes=data,
                    segments=["region"])
    assert rec.winner is None and not rec.baseline.acceptable
    assert rec.summary.startswith("Even the original model fails this policy") and "Parity above one" in rec.summary
    assert rec.n_candidates == 1 + len(SearchSettings().grid)  # nothing to refine


def test_a_ratio_passes_only_if_its_worst_seed_passes(known):
    ws, data = known
    # random pruning at 1 % removes one first-layer weight: seed 0 hits a dead one, seed 1 a live one
    rec = recommend(ws, POLICY, InProcess(), settings=SearchSettings(methods=("random",), grid=(0.01,), seeds=(0, 1)),
                    model_bytes=data)
    assert rec.outcome("random", 0.01, 0).acceptable and not rec.outcome("random", 0.01, 1).acceptable
    table = rec.to_frame()
    assert not table.loc[table["ratio"] == 0.01, "ratio_acceptable"].any()
    assert rec.winner is None and rec.blockers["random"].startswith("even at 1% it fails")


def test_the_seed_with_the_best_delta_auc_ships(known):
    ws, data = known
    rec = recommend(ws, POLICY, InProcess(), settings=SearchSettings(methods=("random",), grid=(0.01,), seeds=(4, 5)),
                    model_bytes=data)
    seeds = [rec.outcome("random", 0.01, s) for s in (4, 5)]
    assert all(o.acceptable for o in seeds)
    best = max(seeds, key=lambda o: (o.measurements.delta_auc, -o.candidate.seed))
    assert rec.winner.seed == best.candidate.seed and rec.winner.spec.seed == best.candidate.seed
    assert rec.winner.verdict.to_dict() == best.verdict.to_dict()


def test_a_fine_tuned_winner_reproduces_when_made_current():
    net = known_answer_model()
    data = model_bytes(net)
    ws = bind(load_model(data), known_answer_book(net, 600), "default", "1", feature_columns=INPUTS, eval_mode="holdout")
    ft = FineTuneSpec(epochs=1, learning_rate=1e-4)
    settings = SearchSettings(axis="parameters", methods=("neuron_l1",), grid=(0.5,), seeds=(0, 1), fine_tune=ft)
    rec = recommend(ws, POLICY, InProcess(), settings=settings, model_bytes=data)
    table = rec.to_frame()
    assert table.loc[table["ratio"] > 0, "fine_tuned"].all() and not table.loc[0, "fine_tuned"]
    w = rec.winner
    assert w is not None and w.ratio == 0.5, rec.summary
    assert w.fine_tune == replace(ft, seed=w.seed)
    pruned = prune_workspace(ws, w.spec)  # one click: the winner's prune spec, then its fine-tuning spec
    pruned = scored(ws, fine_tune(pruned.result, ws.X_train, ws.y_train, ws.output.kind, w.fine_tune))
    assert verdict_for(ws, pruned, POLICY).to_dict() == w.verdict.to_dict()


def test_the_payload_pickles_and_rebuilds_in_a_fresh_worker(known):
    ws, data = known
    payload = payload_for(ws, POLICY, model_bytes=data)
    task = Candidate("neuron_l1", 53)
    with shipping.local(payload.workspace, ws):
        here = evaluate_candidate(payload, task)
    shipped = pickle.loads(pickle.dumps(payload))
    there = evaluate_candidate(shipped, task)  # rebuilt from bytes and arrays alone
    assert there.verdict.to_dict() == here.verdict.to_dict()
    assert pickle.loads(pickle.dumps(there)).verdict.to_dict() == here.verdict.to_dict()
    with pytest.raises(RiskPruneError):
        payload_for(ws, POLICY, model_bytes=data + b"tampered")


@pytest.mark.slow
def test_a_process_pool_gives_the_same_recommendation(known, reference_rec):
    ws, data = known
    with ProcessPoolExecutor(workers=2) as pool:  # core's pool: forkserver workers that never run a hosted __main__
        rec = recommend(ws, POLICY, pool, settings=SETTINGS, model_bytes=data)
    # TorchScript file sizes depend on what else the process scripted before (torch mangles the names of
    # re-scripted classes), so only the file-bytes column may differ between processes
    pd.testing.assert_frame_equal(_table(rec).drop(columns="file_bytes"), _table(reference_rec).drop(columns="file_bytes"))
    assert rec.summary == reference_rec.summary


@pytest.mark.parametrize("kwargs", [
    {"axis": "bytes"}, {"grid": (0.005,)}, {"grid": (1.0,)}, {"grid": ()}, {"grid": ("half",)}, {"seeds": ()},
    {"seeds": (-1,)}, {"seeds": tuple(range(11))}, {"methods": ("nope",)},
    {"fine_tune": FineTuneSpec(epochs=0)},
])
def test_bad_search_settings_are_refused(kwargs):
    with pytest.raises(SpecError):
        SearchSettings(**kwargs)


def test_fine_tuning_without_training_rows_is_refused_before_any_work(known):
    ws, data = known
    executor = InProcess()
    with pytest.raises(SpecError):
        recommend(ws, POLICY, executor, settings=SearchSettings(fine_tune=FineTuneSpec()), model_bytes=data)
    assert executor.calls == 0
