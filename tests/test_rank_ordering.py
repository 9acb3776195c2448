"""Rank ordering: bad rate by band (ties never split), inversions and where they are, and the CAP curve
whose accuracy ratio equals Gini = 2·AUC − 1 (Engelmann, Hayden & Tasche 2003)."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.metrics import roc_auc_score

from core import metrics as M
from core.errors import MetricError, RiskPruneError, SpecError

# --------------------------------------------------------------------------- helpers


def _case(seed: int, n: int, bad_rate: float = 0.3, ties: int | None = None, signal: float = 1.2):
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < bad_rate).astype(int)
    y[0], y[1] = 1, 0
    s = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + signal * y - 1.0)))
    if ties is not None:
        s = np.round(s, ties)
    return y, s


def _accuracy_ratio(curve: pd.DataFrame) -> float:
    """(area under the model's CAP − ½) / (area under the perfect CAP − ½), trapezoids on the curve's own points."""
    x = curve["share_of_applicants"].to_numpy()
    model = np.trapezoid(curve["share_of_bads_captured"].to_numpy(), x)
    perfect = np.trapezoid(curve["perfect"].to_numpy(), x)
    return (model - 0.5) / (perfect - 0.5)


# --------------------------------------------------------------------------- rank ordering


def test_bands_match_score_deciles_and_never_split_ties():
    y, s = _case(0, 3000, ties=2)
    r = M.rank_ordering(y, s)
    t = r.to_frame()
    deciles = M.score_deciles(y, s)
    assert t["band"].tolist() == deciles["decile"].tolist()
    assert t["applicants"].tolist() == deciles["applicants"].tolist()
    assert t["bads"].tolist() == deciles["bads"].tolist()
    assert t["bad_rate"].to_numpy() == pytest.approx(deciles["observed_bad_rate"].to_numpy())
    assert (t["max_score"].to_numpy()[:-1] < t["min_score"].to_numpy()[1:]).all()  # no score in two bands
    assert t["applicants"].sum() == 3000 and t["bads"].sum() == y.sum()


def test_riskiest_band_is_identified():
    y, s = _case(1, 2000)
    r = M.rank_ordering(y, s, bins=5)
    t = r.to_frame()
    assert (r.safest, r.riskiest) == (1, 5)
    assert t["position"].tolist() == ["safest", "", "", "", "riskiest"]
    assert t["mean_pd"].is_monotonic_increasing


def test_a_good_model_rank_orders_monotonically():
    y, s = _case(2, 20_000, signal=2.0)
    r = M.rank_ordering(y, s)
    assert r.monotone and r.inversions == () and r.discordant_pairs == 0 and r.pairs == 45
    assert not r.to_frame()["inversion"].any() and r.inversions_frame().empty
    assert "never falls" in r.summary()


def test_inversions_are_counted_and_located_on_a_hand_built_table():
    # four score bands of 10 applicants with bad counts 1, 4, 2, 6: one inversion, between bands 2 and 3
    s = np.repeat([0.1, 0.2, 0.3, 0.4], 10)
    y = np.zeros(40, int)
    for band, bads in enumerate([1, 4, 2, 6]):
        y[band * 10: band * 10 + bads] = 1
    r = M.rank_ordering(y, s, bins=4)
    assert r.to_frame()["bad_rate"].tolist() == pytest.approx([0.1, 0.4, 0.2, 0.6])
    assert not r.monotone and len(r.inversions) == 1
    inv = r.inversions[0]
    assert (inv.safer, inv.riskier) == (2, 3)
    assert (inv.safer_bad_rate, inv.riskier_bad_rate, inv.gap) == pytest.approx((0.4, 0.2, 0.2))
    # one-sided Fisher exact test, riskier band [2 bad, 8 good] vs safer band [4 bad, 6 good]
    assert inv.p_value == pytest.approx(stats.fisher_exact([[2, 8], [4, 6]], alternative="less").pvalue, abs=1e-12)
    assert r.to_frame()["inversion"].tolist() == [False, False, True, False]
    assert (r.discordant_pairs, r.pairs) == (1, 6)  # only (2, 3): 0.4 > 0.2
    assert "2→3" in r.summary() and "0 of them significant" in r.summary()


def test_discordant_pairs_count_non_neighbour_reversals():
    s = np.repeat([0.1, 0.2, 0.3, 0.4], 10)
    y = np.zeros(40, int)
    for band, bads in enumerate([5, 1, 2, 3]):  # band 1 above every other band
        y[band * 10: band * 10 + bads] = 1
    r = M.rank_ordering(y, s, bins=4)
    assert len(r.inversions) == 1 and (r.inversions[0].safer, r.inversions[0].riskier) == (1, 2)
    assert r.discordant_pairs == 3  # (1,2), (1,3), (1,4)


def test_user_grades_are_ordered_by_mean_pd_or_by_an_ordered_categorical():
    y, s = _case(3, 1000)
    labels = np.select([s < 0.2, s < 0.4], ["low", "mid"], "high")
    r = M.rank_ordering(y, s, grades=labels)
    assert r.source == "grades" and r.to_frame()["band"].tolist() == ["low", "mid", "high"]
    scale = pd.Categorical(labels, categories=["high", "mid", "low"], ordered=True)  # told: high is safest
    r2 = M.rank_ordering(y, s, grades=scale)
    assert r2.to_frame()["band"].tolist() == ["high", "mid", "low"]
    assert not r2.monotone  # the user's order contradicts the bad rates, and the check says so


def test_to_dict_is_plain_python():
    y, s = _case(4, 500)
    d = M.rank_ordering(y, s).to_dict()
    assert type(d["safest"]) is int and type(d["riskiest"]) is int and isinstance(d["monotone"], bool)


def test_one_band_only_is_a_metric_error():
    with pytest.raises(MetricError, match="one band"):
        M.rank_ordering([0, 1, 0, 1], [0.3, 0.3, 0.3, 0.3])


@pytest.mark.parametrize("kwargs", [{"bins": 1}, {"bins": 5000}, {"bins": 2.5}, {"bins": "ten"}])
def test_bad_band_counts_are_spec_errors(kwargs):
    with pytest.raises(SpecError):
        M.rank_ordering([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], **kwargs)


# --------------------------------------------------------------------------- cumulative accuracy profile


@pytest.mark.parametrize("seed,n,rate,ties", [(0, 500, 0.3, None), (1, 2000, 0.1, 2), (2, 800, 0.5, 1), (3, 1500, 0.05, None)])
def test_accuracy_ratio_from_the_curve_equals_gini(seed, n, rate, ties):
    y, s = _case(seed, n, rate, ties)
    gini = 2 * roc_auc_score(y, s) - 1
    full = M.cumulative_capture(y, s, points=n + 1)  # a point at every applicant: exact up to rounding
    assert _accuracy_ratio(full) == pytest.approx(gini, abs=1e-9)
    assert abs(_accuracy_ratio(M.cumulative_capture(y, s)) - gini) < 2e-3  # the default 101-point grid


def test_perfect_model_captures_all_bads_at_the_bad_rate():
    y, _ = _case(5, 1000, 0.2)
    s = np.where(y == 1, 0.9, 0.1)
    curve = M.cumulative_capture(y, s, points=1001)
    rate = y.mean()
    at = np.isclose(curve["share_of_applicants"], rate)
    assert curve.loc[at, "share_of_bads_captured"].item() == pytest.approx(1.0)
    assert curve["share_of_bads_captured"].to_numpy() == pytest.approx(curve["perfect"].to_numpy())
    assert _accuracy_ratio(curve) == pytest.approx(1.0)


def test_random_scores_follow_the_diagonal_and_constant_scores_are_exactly_it():
    y, _ = _case(6, 1000)
    curve = M.cumulative_capture(y, np.full(1000, 0.3))  # one run of ties: no ranking at all
    assert curve["share_of_bads_captured"].to_numpy() == pytest.approx(curve["random"].to_numpy())
    assert curve["random"].to_numpy() == pytest.approx(np.linspace(0, 1, 101))


def test_curve_columns_are_consistent():
    y, s = _case(7, 400, ties=2)
    c = M.cumulative_capture(y, s, points=11)
    assert list(c.columns) == ["share_of_applicants", "lowest_score", "share_of_bads_captured", "random", "perfect", "lift"]
    assert c["share_of_bads_captured"].is_monotonic_increasing and c["lowest_score"].iloc[1:].is_monotonic_decreasing
    assert (c.iloc[0]["share_of_bads_captured"], c.iloc[-1]["share_of_bads_captured"]) == (0.0, 1.0)
    assert np.isnan(c["lift"].iloc[0]) and c["lift"].iloc[-1] == pytest.approx(1.0)
    assert c["lowest_score"].iloc[-1] == s.min()
    # at 10 % of applicants: the lowest score taken is the 40th highest
    assert c["lowest_score"].iloc[1] == np.sort(s)[::-1][39]


@pytest.mark.parametrize("points", [1, 0, 10**7, 3.5, "many"])
def test_bad_point_counts_are_spec_errors(points):
    with pytest.raises(SpecError):
        M.cumulative_capture([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], points=points)


@pytest.mark.parametrize("call", [
    lambda: M.cumulative_capture([0, 0, 0], [0.1, 0.2, 0.3]),  # no bads: nothing to capture
    lambda: M.rank_ordering([], []),
    lambda: M.rank_ordering([0, 1, 0], [0.1, 0.2]),
    lambda: M.rank_ordering([0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4], grades=["a", "b"]),
])
def test_bad_inputs_are_plain_errors(call):
    with pytest.raises(RiskPruneError) as info:
        call()
    assert "\n" not in str(info.value) and info.value.hint


def test_inputs_are_not_modified():
    y, s = _case(8, 300, ties=2)
    grades = np.where(s < 0.3, "A", "B")
    copies = (y.copy(), s.copy(), grades.copy())
    M.rank_ordering(y, s)
    M.rank_ordering(y, s, grades=grades)
    M.cumulative_capture(y, s)
    for before, after in zip(copies, (y, s, grades)):
        np.testing.assert_array_equal(before, after)
