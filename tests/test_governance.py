"""Governance views: adverse impact per segment, adverse-action reason stability and out-of-time
robustness, on hand-built numbers, on a synthetic dataset with its own model, and on the sample."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.data import FeatureSchema
from core.errors import DataError, ExplainError, SpecError
from core.explain import Attributions
from core.explain.sample import ExplainSettings
from core.governance import (
    MISSING,
    UNSEEN,
    SegmentSpec,
    adverse_action_reasons,
    adverse_impact_ratios,
    characteristic_psi,
    segment,
    segment_fairness,
    top_reasons,
)
from core.metrics import decline, flips, psi_band
from core.model import load_model, model_to_bytes
from core.prune import PruneSpec
from core.workspace import adverse_action_reasons_for, attributions_for, bind, eval_frame, out_of_time, prune_workspace, segment_fairness_for

# --------------------------------------------------------------------------- builders


def _attr(values: np.ndarray, names: list[str], rows: np.ndarray | None = None, base: float = -1.0) -> Attributions:
    values = np.asarray(values, dtype=np.float64)
    rows = np.arange(len(values)) if rows is None else rows
    return Attributions(values=values, base_value=base, outputs=base + values.sum(axis=1), explainer="hand-built",
                        exact=True, row_index=rows, feature_names=tuple(names))


def _credit_frame(n: int, seed: int, income_shift: float = 0.0, regions=("north", "south", "east")) -> pd.DataFrame:
    """Raw applicants: numeric income and age, a categorical region (columns in an unusual order)."""
    rng = np.random.default_rng(seed)
    region = rng.choice(list(regions), size=n, p=None)
    income = rng.normal(50 + income_shift, 15, n).round(1)
    age = rng.integers(18, 75, n)
    logit = -0.04 * (income - 50) - 0.02 * (age - 45) + np.where(region == "south", 0.8, 0.0) - 0.7
    bad = rng.random(n) < 1 / (1 + np.exp(-logit))
    return pd.DataFrame({"region": region, "status": np.where(bad, "defaulted", "repaid"), "income": income, "age": age})


@pytest.fixture(scope="module")
def synthetic():
    """A schema model (2 numeric + one-hot region) bound to its own synthetic data, and a pruned twin."""
    frame = _credit_frame(400, seed=5)
    schema = FeatureSchema.fit(frame, ["income", "region", "age"], target="status", bad_value="defaulted")
    torch.manual_seed(0)
    m = len(schema.input_names)
    net = torch.jit.script(nn.Sequential(nn.Linear(m, 12), nn.ReLU(), nn.Linear(12, 6), nn.ReLU(), nn.Linear(6, 1)).eval())
    model = load_model(model_to_bytes(net, schema), "synthetic.pt")
    # an untrained net's outputs can all fall in [0, 1] and pass for probabilities: say it is a logit
    ws = bind(model, frame, "status", "defaulted", eval_mode="all", output_override="logit")
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_global", 0.6))
    return frame, ws, pruned


@pytest.fixture(scope="module")
def sample_ws(sample_model, sample_frame):
    model, frame = sample_model, sample_frame
    ws = bind(model, frame, model.schema.target, model.schema.bad_value, eval_mode="all")
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.5))
    return frame, ws, pruned


# --------------------------------------------------------------------------- segments and adverse impact


def test_adverse_impact_ratio_flags_group_below_four_fifths():
    # group A: 9 of 10 approved by both models; group B: 6 of 10 by the original, 8 of 10 by the pruned model
    frame = pd.DataFrame({"group": ["A"] * 10 + ["B"] * 10})
    original = np.array([0.1] * 9 + [0.9] + [0.1] * 6 + [0.9] * 4)
    pruned = np.array([0.1] * 9 + [0.9] + [0.1] * 8 + [0.9] * 2)
    labels = np.array([0, 1] * 10)
    result = segment_fairness(frame, labels, original, pruned, cutoff=0.5, columns=["group"])
    t = result.table("group")
    a, b = t.rows
    assert (a.segment, b.segment) == ("A", "B")
    assert a.air_original == pytest.approx(1.0) and not a.flagged_original
    assert b.air_original == pytest.approx(0.6 / 0.9) and b.flagged_original
    assert b.air_pruned == pytest.approx(0.8 / 0.9) and not b.flagged_pruned
    assert b.air_change == pytest.approx(0.8 / 0.9 - 0.6 / 0.9)
    assert b.flips == 2 and a.flips == 0
    assert t.reference_original == "A"
    frame_out = result.to_frame()
    assert frame_out.loc[1, "flagged_original"] and not frame_out.loc[1, "newly_flagged"]
    assert result.flagged_frame()["segment"].tolist() == ["B"]
    assert result.summary_frame().loc[0, "flagged_original"] == 1


def test_adverse_impact_ratio_is_undefined_when_nobody_is_approved():
    air, best = adverse_impact_ratios([0.0, 0.0])
    assert np.isnan(air).all()
    air, best = adverse_impact_ratios([0.5, 0.25, 1.0])
    assert best == 2 and air.tolist() == [0.5, 0.25, 1.0]


def test_segment_counts_add_up_to_the_whole(synthetic):
    frame, ws, pruned = synthetic
    cutoff = 0.4
    result = segment_fairness_for(ws, pruned, cutoff, ["income", "region", SegmentSpec("age", edges=(30, 50))])
    total_flips = flips(ws.y_eval, ws.original_scores, pruned.scores, cutoff=cutoff).count
    approved = (~decline(ws.original_scores, cutoff)).sum()
    for t in result.tables:
        f = t.to_frame()
        assert f["rows"].sum() == len(ws.eval_idx)
        assert f["bads"].sum() == ws.y_eval.sum()
        assert f["flips"].sum() == total_flips
        assert (f["approval_rate_original"] * f["rows"]).sum() == pytest.approx(approved)
    income = result.table("income")
    assert income.kind == "numeric bands" and len(income.rows) == 4
    assert result.table("region").kind == "categorical"
    assert [r.segment for r in result.table("region").rows] == ["east", "north", "south"]
    assert [r.segment for r in result.table("age").rows] == ["< 30", "30 to < 50", "≥ 50"]


def test_numeric_columns_are_banded_at_quantiles_or_user_edges():
    frame = pd.DataFrame({"x": np.arange(1, 101), "few": np.tile([1, 2, 3], 34)[:100]})
    seg = segment(frame, "x")
    assert seg.kind == "numeric bands"
    assert [int((seg.labels == g).sum()) for g in seg.groups] == [25, 25, 25, 25]
    seg = segment(frame, SegmentSpec("x", edges=(60, 30)))
    assert seg.groups == ("< 30", "30 to < 60", "≥ 60")
    assert [int((seg.labels == g).sum()) for g in seg.groups] == [29, 30, 41]
    few = segment(frame, "few")  # no more distinct values than bands: each value is a group
    assert few.kind == "numeric values" and few.groups == ("1", "2", "3")


def test_missing_segment_values_form_their_own_group_and_inputs_stay_untouched():
    frame = pd.DataFrame({"housing": ["own", None, "rent", "own", None, "rent"] * 5, "income": [1.0, np.nan, 3, 4, 5, 6] * 5})
    before = frame.copy()
    s = np.linspace(0.05, 0.95, 30)
    s_copy = s.copy()
    y = np.array([0, 1] * 15)
    result = segment_fairness(frame, y, s, s[::-1].copy(), cutoff=0.5, columns=["housing", "income"], bands=2)
    housing = result.table("housing").to_frame()
    assert housing["segment"].tolist() == ["own", "rent", MISSING]
    assert housing["rows"].tolist() == [10, 10, 10]
    assert MISSING in result.table("income").to_frame()["segment"].tolist()
    assert "only 10 rows" in housing.loc[0, "note"]
    pd.testing.assert_frame_equal(frame, before)
    np.testing.assert_array_equal(s, s_copy)


def test_segment_with_one_outcome_has_undefined_auc_not_a_crash():
    frame = pd.DataFrame({"g": ["a"] * 10 + ["b"] * 10})
    y = np.array([0] * 10 + [0, 1] * 5)  # group a: all good
    s = np.linspace(0.1, 0.9, 20)
    result = segment_fairness(frame, y, s, s, cutoff=0.5, columns=["g"])
    a, b = result.table("g").rows
    assert math.isnan(a.auc_original) and math.isnan(a.auc_pruned)
    assert "AUC undefined" in a.note
    assert np.isfinite(b.auc_original)


def test_segment_column_not_in_data_raises_data_error():
    frame = pd.DataFrame({"g": ["a", "b"] * 5})
    s, y = np.full(10, 0.3), np.array([0, 1] * 5)
    with pytest.raises(DataError, match="no column 'gender'"):
        segment_fairness(frame, y, s, s, cutoff=0.5, columns=["gender"])
    with pytest.raises(DataError, match="rows"):
        segment_fairness(frame.iloc[:5], y, s, s, cutoff=0.5, columns=["g"])
    with pytest.raises(SpecError):
        segment_fairness(frame, y, s, s, cutoff=0.5, columns=[])


# --------------------------------------------------------------------------- adverse-action reasons


def _independent_reasons(values: np.ndarray, groups: list[str], k: int) -> tuple[list[str], list[list[str]]]:
    """Group by summing columns with numpy, then the k largest strictly positive values."""
    names = list(dict.fromkeys(groups))
    g = np.array(groups)
    summed = np.stack([values[:, g == n].sum(axis=1) for n in names], axis=1)
    out = []
    for row in summed:
        order = np.argsort(row)[::-1][:k]
        out.append([names[j] for j in order if row[j] > 0])
    return names, out


def test_reasons_are_the_largest_positive_grouped_attributions():
    rng = np.random.default_rng(3)
    inputs = ["income", "housing=own", "housing=rent", "age", "purpose=car", "purpose=tv", "purpose=other", "duration"]
    groups = ["income", "housing", "housing", "age", "purpose", "purpose", "purpose", "duration"]
    n = 60
    vo = rng.normal(size=(n, len(inputs)))
    vp = vo + rng.normal(scale=0.6, size=vo.shape)
    vo[0] = [-1, -1, -1, -1, -1, -1, -1, 0.5]  # only one variable pushes toward bad
    so = rng.uniform(0.05, 0.95, n)
    sp = np.clip(so + rng.normal(scale=0.1, size=n), 0.01, 0.99)
    so[0] = 0.99
    rows = np.sort(rng.choice(500, n, replace=False))
    cutoff, k = 0.5, 3
    result = adverse_action_reasons(_attr(vo, inputs, rows), _attr(vp, inputs, rows), so, sp, cutoff, groups, k=k)

    declined = np.flatnonzero(so >= cutoff)
    _, expect_o = _independent_reasons(vo, groups, k)
    _, expect_p = _independent_reasons(vp, groups, k)
    a = result.to_frame()
    assert a["row"].tolist() == rows[declined].tolist()
    assert a["reasons_original"].tolist() == [", ".join(expect_o[i]) for i in declined]
    assert a["reasons_pruned"].tolist() == [", ".join(expect_p[i]) for i in declined]
    assert a.loc[0, "reasons_original"] == "duration" and a.loc[0, "n_reasons_original"] == 1
    same_top1 = np.mean([(expect_o[i][:1] == expect_p[i][:1]) for i in declined])
    same_set = np.mean([set(expect_o[i]) == set(expect_p[i]) for i in declined])
    assert result.same_top1_share == pytest.approx(same_top1)
    assert result.same_set_share == pytest.approx(same_set)
    assert result.n_declined_original == len(declined) == result.n_assessed
    assert result.n_declined_pruned == int((sp >= cutoff).sum())
    assert result.n_declined_both == int(((so >= cutoff) & (sp >= cutoff)).sum())
    counts = result.reason_frame().set_index("variable")
    for var in counts.index:
        assert counts.loc[var, "in_top_k_original"] == sum(var in expect_o[i] for i in declined)
        assert counts.loc[var, "change"] == sum(var in expect_p[i] for i in declined) - sum(var in expect_o[i] for i in declined)
    changed = result.changed_frame()
    assert len(changed) == sum(expect_o[i] != expect_p[i] for i in declined) == result.n_changed
    assert 0 < len(changed) < len(declined)
    assert "60 explained rows" in result.note


def test_identical_models_give_identical_reasons():
    rng = np.random.default_rng(1)
    v = rng.normal(size=(30, 5))
    s = rng.uniform(0, 1, 30)
    attr = _attr(v, list("abcde"))
    result = adverse_action_reasons(attr, attr, s, s, 0.5, k=4)
    assert result.same_top1_share == 1.0 and result.same_set_share == 1.0 and result.n_changed == 0
    assert (result.reason_frame()["change"] == 0).all()


def test_zero_declined_applicants_give_a_defined_empty_result():
    attr = _attr(np.ones((5, 3)), ["a", "b", "c"])
    s = np.full(5, 0.1)
    result = adverse_action_reasons(attr, attr, s, s, 0.5)
    assert result.n_declined_original == 0 and result.n_assessed == 0
    assert math.isnan(result.same_top1_share) and math.isnan(result.same_set_share)
    assert result.to_frame().empty and "reasons_original" in result.to_frame().columns
    assert result.changed_frame().empty and result.reason_frame().empty
    assert "No explained applicant is declined" in result.note
    assert len(result.summary_frame()) == 8


def test_reasons_refuse_attributions_of_different_applicants():
    a = _attr(np.ones((4, 2)), ["a", "b"], rows=np.array([0, 1, 2, 3]))
    b = _attr(np.ones((4, 2)), ["a", "b"], rows=np.array([0, 1, 2, 5]))
    with pytest.raises(ExplainError):
        adverse_action_reasons(a, b, np.full(4, 0.9), np.full(4, 0.9), 0.5)
    with pytest.raises(ExplainError, match="explained applicants"):
        adverse_action_reasons(a, a, np.full(3, 0.9), np.full(4, 0.9), 0.5)


def test_top_reasons_never_lists_zero_or_negative_contributions():
    v = np.array([[0.0, -0.2, 0.3], [0.0, 0.0, 0.0]])
    assert top_reasons(v, ["a", "b", "c"], k=4) == [["c"], []]


# --------------------------------------------------------------------------- characteristic PSI


def test_characteristic_psi_is_zero_for_identical_data():
    frame = _credit_frame(300, seed=2)
    result = characteristic_psi(frame, frame.copy(), columns=["income", "age", "region"])
    f = result.to_frame()
    assert f["psi"].abs().max() < 1e-12
    assert set(f["band"]) == {"stable"}
    assert f.set_index("variable").loc["region", "kind"] == "categorical"
    assert f.set_index("variable").loc["income", "bins"] == 10


def test_characteristic_psi_matches_a_hand_computed_value():
    ref = pd.DataFrame({"x": np.arange(100.0), "c": ["a"] * 50 + ["b"] * 50})
    # x: half the later applicants in the lowest decile, half in the highest; c: 30 a, 50 b, 20 never seen
    act = pd.DataFrame({"x": np.r_[np.arange(0, 10, 0.2), np.arange(90, 100, 0.2)], "c": ["a"] * 30 + ["b"] * 50 + ["z"] * 20})
    result = characteristic_psi(ref, act)
    floor = 1e-4
    expect_x = 2 * (0.5 - 0.1) * math.log(0.5 / 0.1) + 8 * (floor - 0.1) * math.log(floor / 0.1)
    expect_c = (0.3 - 0.5) * math.log(0.3 / 0.5) + 0.0 + (0.2 - floor) * math.log(0.2 / floor)
    f = result.to_frame().set_index("variable")
    assert f.loc["x", "psi"] == pytest.approx(expect_x, rel=1e-9)
    assert f.loc["c", "psi"] == pytest.approx(expect_c, rel=1e-9)
    assert f.loc["x", "band"] == psi_band(expect_x) == "significant shift"
    assert f.loc["c", "unseen_share"] == pytest.approx(0.2)
    assert result.bins_frame("c")["label"].tolist() == ["a", "b", UNSEEN]
    assert result.shifted == (["x", "c"] if expect_x > expect_c else ["c", "x"])


def test_characteristic_psi_accepts_arrays_and_refuses_missing_columns():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(200, 2))
    f = characteristic_psi(X, X + np.array([0.0, 3.0]), names=["stable", "moved"]).to_frame().set_index("variable")
    assert f.loc["stable", "psi"] == pytest.approx(0.0, abs=1e-12)
    assert f.loc["moved", "band"] == "significant shift"
    with pytest.raises(DataError, match="lacks column"):
        characteristic_psi(pd.DataFrame({"a": [1, 2]}), pd.DataFrame({"b": [1, 2]}), columns=["a"])


# --------------------------------------------------------------------------- a dataset that is not the sample


def test_everything_runs_on_a_synthetic_dataset(synthetic):
    frame, ws, pruned = synthetic
    cutoff = float(np.quantile(ws.original_scores, 0.7))
    seg = segment_fairness_for(ws, pruned, cutoff, ["region", "income"])
    assert len(seg.to_frame()) == 3 + 4
    sample = ExplainSettings(120, 40).draw(len(ws.eval_idx))
    ao, ap = attributions_for(ws, None, sample), attributions_for(ws, pruned, sample)
    reasons = adverse_action_reasons_for(ws, pruned.scores, ao, ap, cutoff, k=2)
    assert reasons.n_declined_total == int((ws.original_scores >= cutoff).sum())
    assert reasons.n_assessed == int((ws.original_scores[sample.rows] >= cutoff).sum()) > 0
    assert set(reasons.to_frame()["row"]) <= set(ws.eval_idx[sample.rows].tolist())
    assert set(reasons.reason_frame()["variable"]) <= {"income", "region", "age"}  # variables, not dummies
    # out-of-time: the same data is perfectly stable; a later, richer sample is not
    same = out_of_time(ws, pruned, frame, cutoff)
    assert same.score_psi_original.value == pytest.approx(0.0, abs=1e-12)
    assert same.score_psi_pruned.value == pytest.approx(0.0, abs=1e-12)
    assert same.characteristics.to_frame()["psi"].abs().max() < 1e-12
    assert same.oot_pruned.auc == pytest.approx(same.reference_pruned.auc)
    later = out_of_time(ws, pruned.result.module, _credit_frame(300, seed=9, income_shift=25), cutoff)
    chars = later.characteristics.to_frame().set_index("variable")
    assert chars.loc["income", "band"] == "significant shift"
    assert chars.loc["region", "kind"] == "categorical"
    assert later.score_psi_original.value > 0.1
    table = later.to_frame().set_index("metric")
    assert table.loc["auc", "oot_original"] == pytest.approx(later.oot_original.auc)
    assert table.loc["n", "oot_original"] == 300
    assert later.psi_frame()["model"].tolist() == ["original", "pruned"]


def test_out_of_time_data_that_does_not_fit_raises_a_plain_data_error(synthetic):
    frame, ws, pruned = synthetic
    later = _credit_frame(100, seed=3)
    with pytest.raises(DataError, match="out-of-time dataset.*income"):
        out_of_time(ws, pruned, later.drop(columns=["income"]), 0.5)
    with pytest.raises(DataError, match="out-of-time dataset.*never saw"):
        out_of_time(ws, pruned, _credit_frame(100, seed=3, regions=("north", "west")), 0.5)
    with pytest.raises(DataError, match="out-of-time dataset.*status"):
        out_of_time(ws, pruned, later.drop(columns=["status"]), 0.5)


def test_numeric_model_without_schema_gets_numeric_characteristics():
    frame = _credit_frame(200, seed=4)
    torch.manual_seed(1)
    net = torch.jit.script(nn.Sequential(nn.Linear(2, 5), nn.Tanh(), nn.Linear(5, 1)).eval())
    ws = bind(load_model(model_to_bytes(net), "plain.pt"), frame, "status", "defaulted", feature_columns=["age", "income"])
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.4))
    result = out_of_time(ws, pruned, _credit_frame(150, seed=8), 0.5)
    assert result.characteristics.to_frame()["variable"].tolist() == ["age", "income"]
    assert len(eval_frame(ws)) == len(ws.eval_idx)


# --------------------------------------------------------------------------- the sample


def test_governance_on_the_sample(sample_ws):
    frame, ws, pruned = sample_ws
    cutoff = float(np.quantile(ws.original_scores, 0.7))
    seg = segment_fairness_for(ws, pruned, cutoff, ["age_in_years", "personal_status_and_sex", "foreign_worker"])
    for t in seg.tables:
        assert t.n_rows == 1000
        assert np.isfinite([r.air_original for r in t.rows]).all()
    assert len(seg.table("age_in_years").rows) == 4
    assert seg.table("personal_status_and_sex").kind == "categorical"
    sample = ExplainSettings(150, 50).draw(len(ws.eval_idx))
    reasons = adverse_action_reasons_for(ws, pruned.scores, attributions_for(ws, None, sample),
                                         attributions_for(ws, pruned, sample), cutoff)
    assert reasons.n_assessed > 10
    a = reasons.to_frame()
    assert reasons.same_top1_share == pytest.approx((a["top1_original"] == a["top1_pruned"]).mean())
    assert reasons.same_set_share <= reasons.same_top1_share + (~a["same_top1"] & a["same_set"]).mean()
    raw = set(ws.model.schema.raw_columns)
    assert set(reasons.reason_frame()["variable"]) <= raw
    later = out_of_time(ws, pruned, frame.iloc[500:], cutoff)
    assert later.n_oot == 500
    assert set(later.characteristics.to_frame()["variable"]) == raw
    assert (later.characteristics.to_frame()["band"] == "stable").mean() > 0.8  # same population, other half


def test_holdout_rows_keep_their_raw_columns_and_dataset_row_ids(synthetic):
    frame, ws_all, _ = synthetic
    ws = bind(ws_all.model, frame, "status", "defaulted", eval_mode="holdout", output_override="logit")
    assert not np.array_equal(ws.eval_idx, np.arange(len(ws.eval_idx)))
    pruned = prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.5))
    cutoff = float(np.quantile(ws.original_scores, 0.6))
    region = segment_fairness_for(ws, pruned, cutoff, "region").table("region").to_frame().set_index("segment")
    held_out = frame.iloc[ws.eval_idx]
    expect = held_out.groupby("region")["status"].apply(lambda s: int((s == "defaulted").sum()))
    assert region["bads"].to_dict() == expect.to_dict()
    sample = ExplainSettings(40, 20).draw(len(ws.eval_idx))
    reasons = adverse_action_reasons_for(ws, pruned.scores, attributions_for(ws, None, sample),
                                         attributions_for(ws, pruned, sample), cutoff)
    a = reasons.to_frame()
    assert len(a) > 0
    position = {int(r): i for i, r in enumerate(ws.eval_idx)}
    assert a["pd_original"].tolist() == pytest.approx([ws.original_scores[position[r]] for r in a["row"]])


def test_reasons_on_real_attributions_match_an_independent_ranking(sample_ws):
    _, ws, pruned = sample_ws
    cutoff = float(np.quantile(ws.original_scores, 0.7))
    sample = ExplainSettings(80, 30, 4).draw(len(ws.eval_idx))
    ao, ap = attributions_for(ws, None, sample), attributions_for(ws, pruned, sample)
    result = adverse_action_reasons(ao, ap, ws.original_scores[sample.rows], pruned.scores[sample.rows], cutoff,
                                    groups=ws.data.groups, k=4)
    _, expect = _independent_reasons(ao.values, list(ws.data.groups), 4)
    declined = np.flatnonzero(ws.original_scores[sample.rows] >= cutoff)
    assert result.to_frame()["reasons_original"].tolist() == [", ".join(expect[i]) for i in declined]
