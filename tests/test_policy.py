"""Acceptance policy: criteria pass and fail on hand-built numbers, measurements match hand
computations on the sample, JSON round-trips and names bad fields, ECE against a hand-worked
example, and the vectorised paired bootstrap against the one-resample-at-a-time reference."""
from __future__ import annotations

import json
import math
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest

from core.data import read_table
from core.errors import RiskPruneError, SpecError
from core.governance import SegmentSpec, reason_overlap
from core.metrics import DecisionRule, bootstrap_deltas, expected_calibration_error, psi
from core.metrics.ranking import _auc_kernel, _ks_kernel
from core.model import load_model
from core.policy import (
    DEFAULT_CRITERIA,
    DISABLED,
    FAILED,
    NOT_APPLICABLE,
    PASSED,
    Criterion,
    Measurements,
    Policy,
    baseline_for,
    default_policy,
    evaluate,
    inputs_used,
    measure,
    verdict_for,
)
from core.prune import PruneSpec
from core.workspace import bind, eval_frame, prune_workspace
from tests.conftest import SAMPLE_DATA, SAMPLE_MODEL

# --------------------------------------------------------------------------- ECE


def test_ece_matches_a_hand_worked_example():
    # three equal-count bins of two: {.1,.2} observed 0 vs .15; {.3,.6} .5 vs .45; {.7,.9} 1 vs .8
    y = [0, 0, 1, 0, 1, 1]
    s = [0.1, 0.2, 0.3, 0.6, 0.7, 0.9]
    assert expected_calibration_error(y, s, bins=3) == pytest.approx((2 / 6) * (0.15 + 0.05 + 0.20), abs=1e-15)


def test_ece_keeps_tied_scores_in_one_bin_whatever_the_row_order():
    y = np.array([1, 0, 0, 1, 0, 1, 0, 0])
    s = np.array([0.2, 0.2, 0.2, 0.2, 0.5, 0.6, 0.7, 0.8])
    # four tied scores straddle the first bin edge: they share bin 1 (ranks 0..3 → bin 0 of 2)
    bins = 2
    expected = (4 / 8) * abs(0.5 - 0.2) + (4 / 8) * abs(0.25 - 0.65)
    assert expected_calibration_error(y, s, bins=bins) == pytest.approx(expected, abs=1e-15)
    order = np.random.default_rng(0).permutation(len(y))
    assert expected_calibration_error(y[order], s[order], bins=bins) == pytest.approx(expected, abs=1e-15)


def test_ece_is_zero_when_every_bin_is_calibrated_and_refuses_bad_bins():
    y = [0, 1, 0, 1]
    assert expected_calibration_error(y, [0.5, 0.5, 0.5, 0.5], bins=1) == 0.0
    with pytest.raises(SpecError):
        expected_calibration_error(y, [0.1, 0.2, 0.3, 0.4], bins=0)


# --------------------------------------------------------------------------- the vectorised bootstrap


def _bootstrap_reference(y, so, sp, resamples, seed, level=0.95):
    """The one-resample-at-a-time loop core.metrics.intervals ran before it was vectorised."""
    rng = np.random.default_rng(seed)
    draws = {"auc": [], "ks": []}
    while len(draws["auc"]) < resamples:
        idx = rng.integers(0, len(y), len(y))
        yb = y[idx]
        if yb.min() == yb.max():
            continue
        draws["auc"].append(_auc_kernel(yb, sp[idx]) - _auc_kernel(yb, so[idx]))
        draws["ks"].append(_ks_kernel(yb, sp[idx])[0] - _ks_kernel(yb, so[idx])[0])
    a = (1 - level) / 2
    return {m: tuple(np.quantile(np.asarray(v), [a, 1 - a])) for m, v in draws.items()}


@pytest.mark.parametrize("seed", range(8))
def test_vectorised_bootstrap_is_bit_identical_to_the_per_resample_loop(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(6, 300))
    y = (rng.random(n) < rng.uniform(0.05, 0.6)).astype(int)
    y[0], y[1] = 1, 0
    so = 1 / (1 + np.exp(-(rng.normal(size=n) + y)))
    if seed % 2:
        so = np.round(so, 1)  # heavy ties
    sp = np.clip(np.round(so + rng.normal(0, 0.05, n), 2), 0, 1)
    got = bootstrap_deltas(y, so, sp, resamples=60, seed=seed)
    ref = _bootstrap_reference(y, so, sp, 60, seed)
    for m in ("auc", "ks"):
        assert (got[m].low, got[m].high) == ref[m]


# --------------------------------------------------------------------------- criteria on hand-built numbers


def _measurements(**values) -> Measurements:
    """Numbers of a harmless pruning; ``values`` overrides criterion metrics (None: not applicable)."""
    base = {
        "subject": "hand-built", "state": "compacted", "fine_tuned": False, "cutoff": 0.3, "cutoff_how": "test", "n_rows": 100,
        "auc_original": 0.8, "auc_pruned": 0.8, "ks_original": 0.5, "ks_pruned": 0.5, "brier_original": 0.15, "brier_pruned": 0.15,
        "ece_original": 0.03, "ece_pruned": 0.03, "approval_rate_original": 0.7, "approval_rate_pruned": 0.7,
        "approved_bad_rate_original": 0.1, "approved_bad_rate_pruned": 0.1, "n_flips": 0,
        "size": {"parameters": 50, "nonzeros": 40, "dense_bytes": 200, "file_bytes": 1000, "multiply_adds": 40},
        "original_size": {"parameters": 100, "nonzeros": 100, "dense_bytes": 400, "file_bytes": 2000, "multiply_adds": 80},
        "n_variables": 5, "n_variables_original": 6, "bootstrap_resamples": 200, "bootstrap_seed": 0,
        "delta_auc": 0.0, "delta_auc_low": 0.0, "delta_auc_high": 0.0, "delta_ks": 0.0, "psi": 0.0, "delta_brier": 0.0, "delta_ece": 0.0,
        "flip_share": 0.0, "approval_rate_change": 0.0, "delta_approved_bad_rate": 0.0, "min_air": 0.95, "max_air_drop": 0.0,
        "reason_overlap": 1.0, "oot_delta_auc_low": 0.0, "oot_delta_ks": 0.0, "oot_psi": 0.0,
    }
    base.update(values)
    return Measurements(**base)


# (criterion key, a value that passes, a value that fails) — each pair on either side of the threshold
EDGES = [
    ("auc_drop_bound", -0.01, -0.0101),
    ("ks_drop", -0.02, -0.0201),
    ("score_psi", 0.0999, 0.10),
    ("brier_increase", 0.005, 0.0051),
    ("ece_increase", 0.01, 0.0101),
    ("flip_share", 0.05, 0.0501),
    ("approval_rate_change", 0.02, 0.0201),
    ("approved_bad_rate_increase", 0.005, 0.0051),
    ("min_air", 0.8, 0.7999),
    ("air_drop", 0.05, 0.0501),
    ("reason_overlap", 0.8, 0.7999),
    ("oot_auc_drop_bound", -0.01, -0.0101),
    ("oot_ks_drop", -0.02, -0.0201),
    ("oot_score_psi", 0.0999, 0.10),
]


def test_every_default_criterion_has_a_pass_and_fail_case():
    assert [k for k, _, _ in EDGES] == [c.key for c in DEFAULT_CRITERIA]


@pytest.mark.parametrize("key,good,bad", EDGES)
def test_each_criterion_passes_and_fails_on_hand_built_numbers(key, good, bad):
    policy = default_policy()
    metric = policy.criterion(key).metric
    ok = evaluate(policy, _measurements(**{metric: good}))
    assert ok.result(key).status == PASSED and ok.acceptable
    no = evaluate(policy, _measurements(**{metric: bad}))
    r = no.result(key)
    assert r.status == FAILED and not no.acceptable and no.blocking.key == key
    assert r.label in r.sentence and "fails" in r.sentence and r.value == bad


def test_undefined_numbers_fail_with_the_reason_in_words():
    m = _measurements(delta_approved_bad_rate=float("nan"),
                      notes={"delta_approved_bad_rate": "nobody is approved by the pruned model at cutoff 0.3000"})
    v = evaluate(default_policy(), m)
    r = v.result("approved_bad_rate_increase")
    assert r.status == FAILED and not v.acceptable
    assert "nobody is approved" in r.sentence and "nan" not in r.sentence.lower()


def test_missing_inputs_are_not_applicable_and_never_fail_the_verdict():
    m = _measurements(min_air=None, max_air_drop=None, oot_delta_auc_low=None, oot_delta_ks=None, oot_psi=None,
                      notes={"min_air": "not applicable: no segment columns chosen"})
    v = evaluate(default_policy(), m)
    assert v.acceptable
    assert v.result("min_air").status == NOT_APPLICABLE and "no segment columns" in v.result("min_air").sentence
    assert v.counts[NOT_APPLICABLE] == 5 and "5 not applicable" in v.headline


def test_switched_off_criteria_decide_nothing():
    m = _measurements(psi=3.0)
    assert not evaluate(default_policy(), m).acceptable
    v = evaluate(default_policy().with_criterion("score_psi", enabled=False), m)
    assert v.acceptable and v.result("score_psi").status == DISABLED


def test_blocking_criterion_is_the_first_failure_in_policy_order():
    v = evaluate(default_policy(), _measurements(flip_share=0.2, psi=0.5, delta_auc_low=-0.5))
    assert [r.key for r in v.failed] == ["auc_drop_bound", "score_psi", "flip_share"]
    assert v.blocking.key == "auc_drop_bound"
    assert v.headline.startswith("Not acceptable: fails 3 of") and "and 2 more" in v.headline
    frame = v.to_frame()
    assert list(frame["key"]) == [c.key for c in DEFAULT_CRITERIA]
    assert set(frame["status"]) <= {PASSED, FAILED, NOT_APPLICABLE, DISABLED}
    assert json.loads(json.dumps(v.to_dict()))["blocking"] == "auc_drop_bound"


# --------------------------------------------------------------------------- policy files


def test_policy_json_round_trips_and_its_key_follows_the_content():
    p = default_policy()
    q = Policy.from_json(p.to_json())
    assert q == p and q.key == p.key
    assert p.with_criterion("score_psi", threshold=0.25).key != p.key
    assert p.with_criterion("score_psi", threshold=0.25).criterion("score_psi").threshold == 0.25
    assert len(p.to_frame()) == len(DEFAULT_CRITERIA)


def test_a_minimal_policy_file_overrides_only_what_it_names():
    p = Policy.from_json(json.dumps({"criteria": [{"key": "score_psi", "threshold": 0.25},
                                                  {"key": "flip_share", "enabled": False},
                                                  {"key": "auc_strict", "metric": "delta_auc", "comparator": ">=",
                                                   "threshold": 0.0, "label": "AUC may not fall"}],
                                     "bootstrap_resamples": 50}))
    assert [c.key for c in p.criteria] == ["score_psi", "flip_share", "auc_strict"]
    assert p.criterion("score_psi").threshold == 0.25 and p.criterion("score_psi").comparator == "<"
    assert p.criterion("flip_share").enabled is False
    assert p.criterion("auc_strict").group == "discrimination" and p.bootstrap_resamples == 50
    v = evaluate(p, _measurements(delta_auc=-0.001))
    assert v.result("auc_strict").status == FAILED


@pytest.mark.parametrize("text,field", [
    ('{"criteria": [{"key": "score_psi", "threshold": "low"}]}', "criteria[0].threshold"),
    ('{"criteria": [{"key": "score_psi", "enabled": "yes"}]}', "criteria[0].enabled"),
    ('{"criteria": [{"key": "mine", "metric": "psi", "threshold": 1}]}', "criteria[0].comparator"),
    ('{"criteria": [{"key": "mine", "metric": "psi", "comparator": "==", "threshold": 1}]}', "criteria[0].comparator"),
    ('{"criteria": [{"key": "mine", "metric": "gini", "comparator": ">=", "threshold": 1}]}', "criteria[0].metric"),
    ('{"criteria": [{"key": "score_psi", "colour": "red"}]}', "criteria[0].colour"),
    ('{"criteria": [{"key": "score_psi"}, {"key": "score_psi"}]}', "criteria[1].key"),
    ('{"criteria": [{"threshold": 1}]}', "criteria[0].key"),
    ('{"criteria": {"key": "score_psi"}}', "criteria"),
    ('{"bootstrap_resamples": 3}', "bootstrap_resamples"),
    ('{"reason_k": 2.5}', "reason_k"),
    ('{"threshold": 1}', "threshold"),
    ('{"riskprune_policy": 7}', "riskprune_policy"),
    ('{"criteria": [{"key": "score_psi", "threshold": NaN}]}', "criteria[0].threshold"),
])
def test_bad_policy_files_are_refused_naming_the_field(text, field):
    with pytest.raises(SpecError) as err:
        Policy.from_json(text)
    assert f"field {field} " in str(err.value)


@pytest.mark.parametrize("text", ["", "[1, 2", "[]", "null", b"\xff\xfe", "x" * 1_000_001])
def test_policy_text_that_is_not_a_policy_is_one_sentence(text):
    with pytest.raises(SpecError) as err:
        Policy.from_json(text)
    assert "\n" not in str(err.value)


def test_criterion_refuses_unknown_metrics_and_comparators():
    with pytest.raises(SpecError):
        Criterion("x", "x", "stability", "nope", "<", 0.1)
    with pytest.raises(SpecError):
        Criterion("x", "x", "stability", "psi", "~", 0.1)
    assert not Criterion("x", "x", "stability", "psi", "<", 0.1).passes(float("nan"))


def test_reason_overlap_counts_shared_reasons_over_the_longer_list():
    assert reason_overlap(["a", "b", "c"], ["c", "b", "d"]) == pytest.approx(2 / 3)
    assert reason_overlap(["a", "b"], ["a", "b", "c"]) == pytest.approx(2 / 3)
    assert reason_overlap([], []) == 1.0 and reason_overlap(["a"], []) == 0.0


# --------------------------------------------------------------------------- measurements on the sample


@pytest.fixture(scope="module")
def ws():
    model = load_model(SAMPLE_MODEL.read_bytes())
    frame = read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame
    return bind(model, frame, model.schema.target, model.schema.bad_value, eval_mode="holdout")


@pytest.fixture(scope="module")
def identity(ws):
    return prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.0))


FAST = Policy(bootstrap_resamples=60)


def test_the_unpruned_model_passes_with_exact_zeros(ws, identity):
    base = baseline_for(ws, FAST)
    m = measure(ws, identity, base)
    assert (m.delta_auc, m.delta_auc_low, m.delta_ks, m.psi, m.delta_ece, m.flip_share) == (0, 0, 0, 0, 0, 0)
    assert m.reason_overlap == 1.0 and m.n_reasons_assessed == int((ws.original_scores >= base.cutoff.cutoff).sum())
    v = evaluate(FAST, m)
    assert v.acceptable and v.result("min_air").status == NOT_APPLICABLE
    assert v.result("oot_score_psi").status == NOT_APPLICABLE


def test_the_reasons_sample_shrinks_in_proportion_above_the_explanation_budget_and_says_so(ws, identity):
    """Explaining 500 × 100 pairs through a large network would hold up every slider move: the budget caps it."""
    from core.policy import explain_sizes
    from core.policy.measure import MIN_BACKGROUND, MIN_EXPLAINED

    policy = Policy()
    assert explain_sizes(policy, 5_000) == (500, 100)  # a credit-sized network: the policy's own sizes
    rows, background = explain_sizes(policy, 400_000)  # 2e10 multiply-adds asked for, 2e9 allowed
    assert rows * background * 400_000 <= policy.explain_budget
    assert rows / 500 == pytest.approx(background / 100, abs=0.02) and rows < 500
    assert explain_sizes(policy, 10**9) == (MIN_EXPLAINED, MIN_BACKGROUND)  # never below the floors

    macs = identity.result.original_size.multiply_adds
    tight = Policy(bootstrap_resamples=60, explain_budget=max(1_000_000, 100 * 30 * macs))
    expected_rows, expected_background = explain_sizes(tight, macs)
    assert (expected_rows, expected_background) != (500, 100)
    base = baseline_for(ws, tight)
    assert len(base.explain.background) == expected_background
    assert len(base.explain.rows) == min(expected_rows, int((ws.original_scores >= base.cutoff.cutoff).sum()))
    m = measure(ws, identity, base)
    assert f"against {expected_background} background rows" in m.note("reason_overlap")
    assert "above its explanation budget" in m.note("reason_overlap") and m.reason_overlap == 1.0
    assert "above its explanation budget" not in measure(ws, identity, baseline_for(ws, FAST)).note("reason_overlap")


def _decline_more(ws, identity, cutoff, k):
    """The original's scores with the k safest approved applicants pushed above the cutoff."""
    s = ws.original_scores.copy()
    approved = np.flatnonzero(s < cutoff)
    s[approved[np.argsort(s[approved], kind="stable")[:k]]] = 0.99
    return replace(identity, scores=s)


@pytest.mark.parametrize("k,passes", [(10, True), (11, False)])
def test_flipped_decisions_are_counted_by_hand(ws, identity, k, passes):
    policy = Policy(criteria=(default_policy().criterion("flip_share"),), bootstrap_resamples=60)
    base = baseline_for(ws, policy, decision=DecisionRule(cutoff=0.5))
    m = measure(ws, _decline_more(ws, identity, 0.5, k), base)
    assert m.n_flips == k and m.flip_share == k / len(ws.eval_idx)
    assert m.approval_rate_change == pytest.approx(k / len(ws.eval_idx), abs=1e-12)
    assert evaluate(policy, m).acceptable is passes


def test_numbers_equal_the_core_functions_they_come_from(ws):
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l2", 0.4))
    base = baseline_for(ws, FAST)
    m = measure(ws, pruned, base)
    ci = bootstrap_deltas(ws.y_eval, ws.original_scores, pruned.scores, resamples=60, seed=0)
    assert m.delta_auc_low == ci["auc"].low and m.delta_auc == pytest.approx(ci["auc"].delta, abs=1e-15)
    assert m.psi == psi(ws.original_scores, pruned.scores).value
    e_o = expected_calibration_error(ws.y_eval, ws.original_scores)
    e_p = expected_calibration_error(ws.y_eval, pruned.scores)
    assert m.delta_ece == pytest.approx(e_p - e_o, abs=1e-15)
    assert m.size == pruned.result.size.to_dict()


def test_fairness_numbers_match_a_hand_computation(ws):
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    base = baseline_for(ws, FAST, segments=["foreign_worker", "housing"])
    m = measure(ws, pruned, base)
    frame = eval_frame(ws)
    c = base.cutoff.cutoff
    worst_air, worst_drop = math.inf, -math.inf
    for col in ("foreign_worker", "housing"):
        g = frame[col].astype(str).to_numpy()
        ap_o = pd.Series(ws.original_scores < c).groupby(g).mean()
        ap_p = pd.Series(pruned.scores < c).groupby(g).mean()
        air_o, air_p = ap_o / ap_o.max(), ap_p / ap_p.max()
        worst_air = min(worst_air, air_p.min())
        worst_drop = max(worst_drop, (air_o - air_p).max())
    assert m.min_air == pytest.approx(worst_air, abs=1e-12)
    assert m.max_air_drop == pytest.approx(worst_drop, abs=1e-12)
    assert "lowest:" in m.note("min_air")


def test_segments_with_the_governance_pages_bands_are_judged_on_those_bands(ws):
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    base = baseline_for(ws, FAST, segments=[SegmentSpec("age_in_years", edges=(30.0,))])
    m = measure(ws, pruned, base)
    young = (eval_frame(ws)["age_in_years"] < 30).to_numpy()
    c = base.cutoff.cutoff
    rate = lambda s, g: float((s[g] < c).mean())
    ap_o = [rate(ws.original_scores, young), rate(ws.original_scores, ~young)]
    ap_p = [rate(pruned.scores, young), rate(pruned.scores, ~young)]
    air_o = [a / max(ap_o) for a in ap_o]
    air_p = [a / max(ap_p) for a in ap_p]
    assert m.min_air == pytest.approx(min(air_p), abs=1e-12)
    assert m.max_air_drop == pytest.approx(max(o - p for o, p in zip(air_o, air_p)), abs=1e-12)


def test_out_of_time_criteria_on_the_evaluation_rows_repeat_the_in_sample_numbers(ws):
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.5))
    base = baseline_for(ws, FAST, oot=eval_frame(ws))
    m = measure(ws, pruned, base)
    assert m.n_oot == len(ws.eval_idx)
    assert m.oot_delta_ks == m.delta_ks and m.oot_psi == m.psi
    assert m.oot_delta_auc_low == m.delta_auc_low


def test_nobody_approved_fails_the_bad_rate_criterion_in_words(ws, identity):
    nobody = replace(identity, scores=np.full(len(ws.eval_idx), 0.999))
    v = verdict_for(ws, nobody, FAST)
    r = v.result("approved_bad_rate_increase")
    assert r.status == FAILED and "nobody is approved by the pruned model" in r.sentence


def test_variables_in_use_follow_input_pruning_and_zeroed_columns(ws):
    base = baseline_for(ws, FAST)
    dropped = prune_workspace(ws, PruneSpec.make("input_features", 0.3))
    m = measure(ws, dropped, base)
    assert m.n_variables == m.n_variables_original - len(dropped.result.dropped_variables)
    assert m.n_variables_original == len(set(ws.data.groups))
    heavy = prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.99))
    first = next(p for p in heavy.result.module.parameters() if p.dim() == 2).detach().numpy()
    assert (inputs_used(heavy.result.module, ws.model.n_inputs) == (first != 0).any(axis=0)).all()


def test_bad_choices_are_refused_before_any_work(ws, identity):
    with pytest.raises(RiskPruneError):
        baseline_for(ws, FAST, segments=["no_such_column"])
    with pytest.raises(RiskPruneError):
        baseline_for(ws, FAST, segments=[ws.data.target])
    with pytest.raises(SpecError):
        verdict_for(ws, identity, FAST, baseline=baseline_for(ws, default_policy()))
