"""The validation pack: challenger, seed stability, materiality, monitoring, and that the pack's numbers are core's.

Statistics are checked against references computed here independently: scikit-learn's pipeline
and cross-validation for the challenger, the O(m·n) pairwise definition of DeLong's variance,
scipy's two-sample KS and a hand-written bootstrap loop for the KS interval. The pack's own
numbers must equal the ``core.metrics`` functions on the same rows (those functions are checked
against statsmodels and worked examples in test_delong.py, test_calibration_tests.py,
test_rank_ordering.py).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score, roc_curve
from sklearn.model_selection import StratifiedKFold, cross_val_predict
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from core.errors import MetricError, SpecError
from core.metrics import (
    DecisionRule,
    binomial_test_per_grade,
    calibration_in_the_large,
    cumulative_capture,
    delong_test,
    expected_calibration_error,
    hosmer_lemeshow,
    psi,
    psi_from_counts,
    rank_ordering,
)
from core.policy import CriterionResult, Verdict, baseline_for, default_policy, verdict_for
from core.policy.verdict import FAILED, NOT_APPLICABLE, PASSED
from core.prune import FineTuneSpec, PruneSpec
from core.validation import (
    CROSS_VALIDATED,
    JUSTIFIED,
    MATERIAL,
    NON_MATERIAL,
    NOT_JUSTIFIED,
    NOT_SHOWN,
    TRAINED,
    ChallengerSpec,
    MaterialityPolicy,
    MonitoringPolicy,
    PackOptions,
    build_challenger,
    build_pack,
    check_grade_edges,
    grades_of,
    justify,
    materiality,
    monitoring_triggers,
    performance,
    reference_bins,
    seed_stability,
    stability_seeds,
)
from core.workspace import Setting, compare_workspace, prune_workspace

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one torch thread



def _book(n: int = 600, seed: int = 0, k: int = 5):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, k)) * np.array([1.0, 5.0, 0.2, 2.0, 1.0])[:k]  # unequal scales: standardising matters
    logit = -1.0 + 1.2 * X[:, 0] - 0.3 * X[:, 1] + 2.0 * X[:, 2]
    y = (rng.random(n) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


def _reference_pipeline():
    return make_pipeline(StandardScaler(), LogisticRegression(C=1.0, max_iter=5000))


# --------------------------------------------------------------------------- challenger


def test_challenger_with_training_rows_is_the_sklearn_pipeline_fitted_on_them():
    X, y = _book(800)
    Xt, yt, Xe, ye = X[:500], y[:500], X[500:], y[500:]
    so = np.clip(1 / (1 + np.exp(-(Xe[:, 0] + Xe[:, 2]))), 0, 1)
    ch = build_challenger(Xe, ye, so, so ** 1.1, X_train=Xt, y_train=yt, input_names=list("abcde"))
    ref = _reference_pipeline().fit(Xt, yt).predict_proba(Xe)[:, 1]
    assert ch.how == TRAINED and ch.n_fit == 500 and ch.n_fit_bad == int(yt.sum()) and ch.folds is None
    np.testing.assert_allclose(ch.scores, ref, rtol=0, atol=1e-9)
    lr = _reference_pipeline().fit(Xt, yt)[-1]
    coef = dict(zip(ch.coefficients["input"], ch.coefficients["coefficient"]))
    np.testing.assert_allclose([coef[n] for n in "abcde"], lr.coef_[0], atol=1e-9)
    assert ch.coefficients["coefficient"].abs().is_monotonic_decreasing  # largest effect first
    assert "500 training rows the network was trained on" in ch.note


def test_challenger_without_training_rows_is_five_fold_cross_validated_out_of_fold():
    X, y = _book(400, seed=1)
    s = np.clip(1 / (1 + np.exp(-X[:, 0])), 0, 1)
    spec = ChallengerSpec(seed=7)
    ch = build_challenger(X, y, s, s, spec=spec)
    cv = StratifiedKFold(n_splits=5, shuffle=True, random_state=7)
    ref = cross_val_predict(_reference_pipeline(), X, y, cv=cv, method="predict_proba")[:, 1]
    assert ch.how == CROSS_VALIDATED and ch.folds == 5 and ch.n_fit == 400
    np.testing.assert_allclose(ch.scores, ref, rtol=0, atol=1e-9)
    assert "cross-validated" in ch.note and "seed 7" in ch.note


def _delong_variance_pairwise(y, s) -> float:
    """DeLong et al. (1988) from the definition: placement values by comparing every bad with every good."""
    bad, good = s[y == 1], s[y == 0]
    psi_ = (bad[:, None] > good[None, :]) + 0.5 * (bad[:, None] == good[None, :])
    v10, v01 = psi_.mean(axis=1), psi_.mean(axis=0)
    return v10.var(ddof=1) / len(bad) + v01.var(ddof=1) / len(good)


def _ks_reference(y, s) -> float:
    return float(stats.ks_2samp(s[y == 1], s[y == 0]).statistic)


def test_each_models_auc_gini_ks_and_intervals_match_independent_references():
    rng = np.random.default_rng(3)
    y = (rng.random(300) < 0.3).astype(int)
    s = np.clip(0.3 + 0.2 * y + rng.normal(0, 0.15, 300), 0.001, 0.999).round(3)  # rounded: ties exercise both methods
    p = performance(y, s, "pruned", resamples=60, seed=5)
    auc = roc_auc_score(y, s)
    half = stats.norm.ppf(0.975) * np.sqrt(_delong_variance_pairwise(y, s))
    assert p.auc == pytest.approx(auc, abs=1e-12)
    assert (p.auc_low, p.auc_high) == pytest.approx((auc - half, auc + half), abs=1e-9)
    assert (p.gini, p.gini_low, p.gini_high) == pytest.approx((2 * auc - 1, 2 * (auc - half) - 1, 2 * (auc + half) - 1), abs=1e-9)
    assert p.ks == pytest.approx(_ks_reference(y, s), abs=1e-12)
    # the KS interval: percentile bootstrap, resampling applicants exactly as core.metrics.bootstrap_deltas draws them
    draws, rs = [], np.random.default_rng(5)
    while len(draws) < 60:
        idx = rs.integers(0, len(y), len(y))
        if y[idx].min() == y[idx].max():
            continue
        fpr, tpr, _ = roc_curve(y[idx], s[idx])
        draws.append(np.max(tpr - fpr))
    assert (p.ks_low, p.ks_high) == pytest.approx(tuple(np.quantile(draws, [0.025, 0.975])), abs=1e-9)


def test_complexity_is_justified_only_when_delongs_interval_is_above_zero():
    rng = np.random.default_rng(11)
    y = (rng.random(2000) < 0.3).astype(int)
    noise = rng.normal(size=2000)
    strong = 1 / (1 + np.exp(-(2.0 * y + noise)))
    weak = 1 / (1 + np.exp(-(0.5 * y + noise)))
    same = 1 / (1 + np.exp(-(2.0 * y + noise + rng.normal(0, 0.05, 2000))))
    j = justify(y, weak, strong, "pruned")
    assert j.outcome == JUSTIFIED and "justified by performance" in j.sentence
    assert j.test.delta == pytest.approx(roc_auc_score(y, strong) - roc_auc_score(y, weak), abs=1e-12)
    assert justify(y, strong, weak, "original").outcome == NOT_JUSTIFIED
    alike = justify(y, strong, same, "pruned")
    assert alike.outcome == NOT_SHOWN and alike.test.low < 0 < alike.test.high and "within sampling noise" in alike.sentence


def test_challenger_refuses_missing_inputs_and_one_outcome_with_a_sentence():
    X, y = _book(200, seed=2)
    s = np.full(200, 0.3)
    Xn = X.copy()
    Xn[3, 1] = np.nan
    with pytest.raises(MetricError, match="missing or infinite inputs"):
        build_challenger(Xn, y, s, s)
    with pytest.raises(MetricError, match="only one outcome"):
        build_challenger(X, y, s, s, X_train=X[:50], y_train=np.zeros(50, dtype=int))
    with pytest.raises(SpecError, match="folds"):
        ChallengerSpec(folds=1)


def test_challenger_on_the_sample_is_fitted_on_its_600_training_rows(sample_holdout):
    from core.validation import challenger_for

    ws = sample_holdout
    pm = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    ch = challenger_for(ws, pm)
    X_train, X_eval = ws.X_train.astype(np.float64), ws.X_eval.astype(np.float64)  # the float32 inputs, exactly, in float64
    ref = _reference_pipeline().fit(X_train, ws.y_train).predict_proba(X_eval)[:, 1]
    assert ch.how == TRAINED and ch.n_fit == len(ws.train_idx) == 600
    np.testing.assert_allclose(ch.scores, ref, atol=1e-9)
    assert ch.result("original").auc == pytest.approx(roc_auc_score(ws.y_eval, ws.original_scores), abs=1e-12)
    assert ch.justification_for("pruned").test.auc_b == pytest.approx(roc_auc_score(ws.y_eval, pm.scores), abs=1e-12)


# --------------------------------------------------------------------------- seed stability


def test_stability_seeds_always_include_the_shipped_seed():
    assert stability_seeds(0, 5) == (0, 1, 2, 3, 4)
    assert stability_seeds(7, 3) == (0, 1, 7)
    assert stability_seeds(2, 3) == (0, 1, 2)
    with pytest.raises(SpecError):
        stability_seeds(0, 1)


def test_seed_stability_reruns_fine_tuning_per_seed_and_names_the_shipped_model(sample_holdout):
    ws = sample_holdout
    setting = Setting(PruneSpec.make("neuron_l1", 0.5), FineTuneSpec(epochs=1, seed=3))
    rule = DecisionRule()
    st = seed_stability(ws, setting, rule, k=3)
    assert st.seeds == (0, 1, 3) and st.shipped_seed == 3 and int(st.table["shipped"].sum()) == 1
    for row in st.table.itertuples():
        pm = prune_workspace(ws, replace(setting, fine_tune=replace(setting.fine_tune, seed=row.seed)))
        c = compare_workspace(ws, pm, rule)
        assert (row.auc, row.ks, row.psi, row.flips) == (c.pruned.auc, c.pruned.ks, c.psi.value, c.flips.count)
    shipped = compare_workspace(ws, prune_workspace(ws, setting), rule)
    assert st.shipped["auc"] == shipped.pruned.auc  # the shipped row is the model the report shows
    summary = st.summary_frame().set_index("metric")
    assert summary.loc["auc", "min"] == st.table["auc"].min() and summary.loc["auc", "max"] == st.table["auc"].max()
    assert summary.loc["auc", "mean"] == pytest.approx(st.table["auc"].mean(), abs=1e-15)
    assert "shipped model is seed 3" in st.sentence
    assert len(set(st.table["auc"])) > 1  # the seeds really differ: this is run-to-run noise, not one model three times


def test_seed_stability_refuses_a_model_that_is_not_fine_tuned(sample_holdout):
    with pytest.raises(SpecError, match="not fine-tuned"):
        seed_stability(sample_holdout, Setting(PruneSpec.make("neuron_l1", 0.5)))


# --------------------------------------------------------------------------- materiality and monitoring


def _result(key, metric, comparator, threshold, value, status=PASSED):
    return CriterionResult(key, key, "g", metric, comparator, threshold, "delta", value, status, f"{key} sentence")


def _verdict(*results):
    return Verdict(tuple(results), "k", "test policy", "subject")


def test_materiality_margin_is_the_unused_share_of_each_allowance():
    v = _verdict(_result("auc", "delta_auc_low", ">=", -0.01, -0.004),  # 60 % of the −0.01 allowance unused
                 _result("psi", "psi", "<", 0.10, 0.03),  # 70 % unused
                 _result("air", "min_air", ">=", 0.8, 0.88),  # original 0.90: allowance 0.10, 0.08 unused
                 _result("reasons", "reason_overlap", ">=", 0.8, 0.95),  # from 1.0: allowance 0.2, 0.15 unused
                 _result("oot", "oot_psi", "<", 0.1, None, NOT_APPLICABLE))
    m = materiality(v, MaterialityPolicy(min_margin=0.5), originals={"min_air": 0.90})
    f = m.margins.set_index("key")
    assert "oot" not in f.index  # not applicable: not judged, never counted
    assert f.loc["auc", "unused_share"] == pytest.approx(0.6) and f.loc["psi", "unused_share"] == pytest.approx(0.7)
    assert f.loc["air", "unused_share"] == pytest.approx(0.8) and f.loc["reasons", "unused_share"] == pytest.approx(0.75)
    assert m.cls == NON_MATERIAL and not m.reasons and m.headline.startswith("Non-material change")
    tighter = materiality(v, MaterialityPolicy(min_margin=0.65), originals={"min_air": 0.90})
    assert tighter.cls == MATERIAL and len(tighter.reasons) == 1 and "keeps only 60%" in tighter.reasons[0]


def test_a_failing_criterion_removed_inputs_or_a_missing_allowance_make_the_change_material():
    passing = _result("psi", "psi", "<", 0.10, 0.01)
    failing = _verdict(passing, _result("flips", "flip_share", "<=", 0.05, 0.08, FAILED))
    m = materiality(failing)
    assert m.cls == MATERIAL and "fails 1 acceptance criteria (flips)" in m.headline
    dropped = materiality(_verdict(passing), dropped_variables=("age",))
    assert dropped.cls == MATERIAL and "age" in dropped.reasons[0]
    assert materiality(_verdict(passing), MaterialityPolicy(inputs_removed_material=False), dropped_variables=("age",)).cls == NON_MATERIAL
    assert materiality(_verdict(passing), MaterialityPolicy(fine_tuning_material=True), fine_tuned=True).cls == MATERIAL
    # the original already sits below the four-fifths line: a passing pruned value has no allowance to measure
    no_room = materiality(_verdict(_result("air", "min_air", ">=", 0.8, 0.81)), originals={"min_air": 0.79})
    assert no_room.cls == MATERIAL and "no allowance" in no_room.reasons[0]


def test_materiality_and_monitoring_policies_refuse_bad_settings_and_round_trip():
    p = MaterialityPolicy(min_margin=0.3, fine_tuning_material=True)
    assert MaterialityPolicy.from_dict(p.to_dict()) == p
    for bad in ({"min_margin": 1.5}, {"min_margin": "half"}, {"inputs_removed_material": "yes"}, {"colour": 1}):
        with pytest.raises(SpecError):
            MaterialityPolicy.from_dict(bad)
    assert MonitoringPolicy.from_dict(MonitoringPolicy().to_dict()) == MonitoringPolicy()
    with pytest.raises(SpecError, match="red trigger"):
        MonitoringPolicy(psi_amber=0.3, psi_red=0.2)


def test_monitoring_triggers_state_limits_derived_from_the_measured_values():
    t = {x.key: x for x in monitoring_triggers(MonitoringPolicy(auc_drop_amber=0.02, auc_drop_red=0.04), auc_pruned=0.7612,
                                               auc_low=0.70, challenger_auc=0.75, approval_rate=0.7, cutoff=0.31, mean_pd=0.25,
                                               bad_rate=0.3, citl_p=0.1, min_air=None, n_eval=200)}
    assert t["auc"].amber == "< 0.7412" and t["auc"].red == "< 0.7212" and "0.7612" in t["auc"].baseline
    assert t["challenger"].baseline == "+0.0112"
    assert t["approval_rate"].amber == "outside 65.0%–75.0%" and t["approval_rate"].red == "outside 60.0%–80.0%"
    assert "air" not in t  # no segments measured: no fairness trigger is invented


def test_reference_bins_reproduce_core_psi_on_a_later_sample():
    rng = np.random.default_rng(4)
    here, later = rng.beta(2, 5, 1000), rng.beta(2.4, 5, 700)
    bins = reference_bins(here)
    assert bins["share"].sum() == pytest.approx(1.0) and len(bins) == 10
    edges = bins["upper"].to_numpy()[:-1]
    counts_here = np.bincount(np.searchsorted(edges, here, side="right"), minlength=len(bins))
    counts_later = np.bincount(np.searchsorted(edges, later, side="right"), minlength=len(bins))
    np.testing.assert_allclose(counts_here / counts_here.sum(), bins["share"], atol=1e-12)
    assert psi_from_counts(counts_here, counts_later)[0] == pytest.approx(psi(here, later).value, abs=1e-12)


def test_grade_edges_are_checked_and_graded_safest_first():
    assert check_grade_edges([0.2, 0.05, 0.1, 0.05]) == (0.05, 0.1, 0.2)
    for bad in ([0.0, 0.5], [1.2], [], "0.1,0.2", [float("nan")]):
        with pytest.raises(SpecError):
            check_grade_edges(bad)
    g = grades_of(np.array([0.01, 0.05, 0.07, 0.5]), (0.05, 0.1))
    assert list(g.astype(str)) == ["< 5.0%", "5.0%–10.0%", "5.0%–10.0%", "≥ 10.0%"] and g.ordered


# --------------------------------------------------------------------------- the pack on the sample


@pytest.fixture(scope="module")
def sample_pack(sample_holdout):
    ws = sample_holdout
    setting = Setting(PruneSpec.make("neuron_l1", 0.5))
    pm = prune_workspace(ws, setting)
    cmp = compare_workspace(ws, pm, DecisionRule(), bootstrap=200)
    policy = default_policy()
    segments = ("housing",)
    pack = build_pack(ws, setting, pm, cmp, rule=DecisionRule(), policy=policy, segments=segments)
    return ws, pm, cmp, policy, segments, pack


def test_pack_numbers_equal_the_metric_functions_on_the_same_rows(sample_pack):
    ws, pm, cmp, policy, segments, pack = sample_pack
    y, so, sp = ws.y_eval, ws.original_scores, pm.scores
    assert pack.delong.to_dict() == delong_test(y, so, sp).to_dict()
    for model, s in (("original", so), ("pruned", sp), ("challenger", pack.challenger.scores)):
        cal = pack.calibration[model]
        assert cal.in_the_large.to_dict() == calibration_in_the_large(y, s).to_dict()
        assert cal.ece == expected_calibration_error(y, s, bins=policy.ece_bins)
        assert cal.hosmer_lemeshow.to_dict() == hosmer_lemeshow(y, s, groups=10, in_sample=False).to_dict()
        pd.testing.assert_frame_equal(cal.grades.to_frame(), binomial_test_per_grade(y, s, bins=10).to_frame())
    for model, s in (("original", so), ("pruned", sp)):
        assert pack.rank[model].to_dict() == rank_ordering(y, s, bins=10).to_dict()
        np.testing.assert_array_equal(pack.capture[model], cumulative_capture(y, s)["share_of_bads_captured"])
    assert pack.verdict.to_dict() == verdict_for(ws, pm, policy, baseline=baseline_for(ws, policy, decision=DecisionRule(),
                                                                                           segments=segments)).to_dict()
    assert pack.measurements.delta_auc == cmp.delta("auc")
    assert pack.performance_for("pruned").auc == cmp.pruned.auc


def test_pack_change_record_lists_what_changed_and_every_reference(sample_pack):
    ws, pm, cmp, policy, _, pack = sample_pack
    ch = pack.change
    items = dict(zip(ch.changes["item"], ch.changes["after"]))
    assert items["Stored parameters"] == f"{pm.result.size.parameters:,}" and "COMPACTED" in items["Result"]
    assert items["Neurons per Linear layer"] == "32 / 16 / 1"
    refs = " ".join(r.key for r in ch.references)
    for ref in ("SR 26-2", "OCC 2026-13", "PRA SS1/23", "EBA/REP/2023/28", "ECB guide", "CFPB Circular 2023-03"):
        assert ref in refs
    signoff = ch.sign_off_frame()
    assert {"Independent validator", "Model risk management"} <= set(signoff["Role"])
    assert (signoff[["Name", "Decision", "Date", "Signature"]] == "").all().all()  # left blank to fill in
    trig = {t.key: t for t in ch.triggers}
    assert trig["auc"].amber == f"< {cmp.pruned.auc - 0.03:.4f}" and "air" in trig  # segments given: fairness trigger
    assert pack.materiality.cls in (MATERIAL, NON_MATERIAL) and len(pack.materiality.margins) == sum(
        r.status in (PASSED, FAILED) for r in pack.verdict.results)
    assert any("out-of-time" in t for t in pack.limitations)  # what was not measured is said


def test_pack_with_grade_edges_bands_by_the_users_grades(sample_holdout):
    ws = sample_holdout
    setting = Setting(PruneSpec.make("magnitude_layer", 0.3))
    pm = prune_workspace(ws, setting)
    cmp = compare_workspace(ws, pm, DecisionRule())
    edges = (0.1, 0.3, 0.6)
    pack = build_pack(ws, setting, pm, cmp, options=PackOptions(challenger=None, grade_edges=edges),
                      policy=replace(default_policy(), criteria=()))
    assert pack.challenger is None and pack.rank["pruned"].source == "grades"
    expected = rank_ordering(ws.y_eval, pm.scores, grades=grades_of(pm.scores, edges))
    assert pack.rank["pruned"].to_dict() == expected.to_dict()
    assert list(pack.calibration["pruned"].grades.table["grade"]) == list(expected.table["band"])


def test_explain_samples_of_equal_size_but_other_rows_never_share_a_cache_key():
    """The verdict explains the declined applicants, the report a random draw of as many: before the key named the
    rows, the memoised attributions of one were returned for the other."""
    from core.explain.sample import ExplainSample

    a = ExplainSample(rows=np.array([0, 1, 2]), background=np.array([5, 6]), seed=0, n_available=10)
    b = ExplainSample(rows=np.array([0, 1, 3]), background=np.array([5, 6]), seed=0, n_available=10)
    c = ExplainSample(rows=np.array([0, 1, 2]), background=np.array([5, 6]), seed=0, n_available=10)
    assert a.key != b.key and a.key == c.key
