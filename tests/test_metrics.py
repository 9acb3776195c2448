"""Risk metrics: reference equality (scikit-learn, scipy), hand-built PSI/flips/loss examples,
cutoffs, bootstrap intervals, degenerate inputs and tidy frames."""
from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import ks_2samp
from sklearn.metrics import brier_score_loss, roc_auc_score
from sklearn.metrics import log_loss as sk_log_loss

from core import metrics as M
from core.errors import MetricError, RiskPruneError, SpecError

# --------------------------------------------------------------------------- helpers


def _random_case(seed: int, n: int, bad_rate: float, ties: int | None = None):
    """Scores that carry some signal, labels with the given bad rate; ``ties`` rounds scores."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < bad_rate).astype(int)
    y[0], y[1] = 1, 0  # both classes always present
    s = 1 / (1 + np.exp(-(rng.normal(0, 1, n) + 1.2 * y - 1.0)))
    if ties is not None:
        s = np.round(s, ties)
    return s, y


def _pair(seed: int = 0, n: int = 400, bad_rate: float = 0.3, noise: float = 0.05):
    """An original score vector and a 'pruned' one: the original plus noise, kept inside (0, 1)."""
    s, y = _random_case(seed, n, bad_rate)
    rng = np.random.default_rng(seed + 1000)
    p = np.clip(s + rng.normal(0, noise, n), 0.001, 0.999)
    return s, p, y


CASES = [
    (seed, n, rate, ties)
    for seed, n, rate, ties in [
        (0, 50, 0.5, None), (1, 200, 0.3, None), (2, 1000, 0.1, None), (3, 777, 0.03, None),
        (4, 300, 0.3, 1), (5, 500, 0.2, 2), (6, 120, 0.05, 1), (7, 2000, 0.5, 3), (8, 31, 0.4, 1),
    ]
]


# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("seed,n,rate,ties", CASES)
def test_auc_brier_logloss_equal_sklearn_and_ks_equals_scipy(seed, n, rate, ties):
    s, y = _random_case(seed, n, rate, ties)
    assert M.auc(y, s) == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    assert M.brier(y, s) == pytest.approx(brier_score_loss(y, s), abs=1e-9)
    assert M.log_loss(y, s) == pytest.approx(sk_log_loss(y, s), abs=1e-9)
    stat, at = M.ks(y, s), M.ks_threshold(y, s)
    assert stat == pytest.approx(ks_2samp(s[y == 1], s[y == 0]).statistic, abs=1e-9)
    # the reported score is where the gap is reached: the empirical CDFs differ by stat there
    gap = abs(np.mean(s[y == 1] <= at) - np.mean(s[y == 0] <= at))
    assert gap == pytest.approx(stat, abs=1e-12)


def test_logloss_matches_sklearn_when_scores_hit_zero_and_one():
    s, y = _random_case(11, 300, 0.3, ties=1)
    s[:5], s[5:10] = 0.0, 1.0
    assert M.log_loss(y, s) == pytest.approx(sk_log_loss(y, s), abs=1e-9)
    assert math.isfinite(M.log_loss(y, s))


def test_metrics_accept_lists_series_and_other_dtypes_alike():
    s, y = _random_case(3, 120, 0.3, ties=2)
    ref = M.auc(y, s)
    assert M.auc(list(y), list(s)) == ref
    assert M.auc(pd.Series(y), pd.Series(s, index=np.arange(120)[::-1])) == ref
    assert M.auc(y.astype(bool), s.astype(np.float32)) == pytest.approx(roc_auc_score(y, s.astype(np.float32)), abs=1e-9)
    assert M.auc(y.astype(float), s.reshape(-1, 1)) == ref


def test_inputs_are_not_mutated():
    s, p, y = _pair(0, 100)
    s0, p0, y0 = s.copy(), p.copy(), y.copy()
    M.compare(y, s, p, bootstrap=20, seed=1)
    M.score_deciles(y, s)
    M.strategy_curve(y, s)
    assert (s == s0).all() and (p == p0).all() and (y == y0).all()


# --------------------------------------------------------------------------- one model


@pytest.mark.parametrize("seed,n,rate,ties", CASES[:5])
def test_gini_is_two_auc_minus_one_everywhere(seed, n, rate, ties):
    s, y = _random_case(seed, n, rate, ties)
    a = M.auc(y, s)
    assert M.gini(y, s) == pytest.approx(2 * a - 1, abs=1e-15)
    rm = M.risk_metrics(y, s, cutoff=0.3)
    assert rm.gini == pytest.approx(2 * rm.auc - 1, abs=1e-15)
    assert rm.auc == a


def test_risk_metrics_confusion_numbers_by_hand():
    s = [0.1, 0.3, 0.3, 0.7, 0.9, 0.2]
    y = [0, 0, 1, 1, 0, 1]
    rm = M.risk_metrics(y, s, cutoff=0.3)  # decline: 0.3, 0.3, 0.7, 0.9 (>= cutoff)
    # declined: rows 1 (good), 2 (bad), 3 (bad), 4 (good); approved: 0 (good), 5 (bad)
    assert rm.approval_rate == pytest.approx(2 / 6)
    assert rm.approved_bad_rate == pytest.approx(1 / 2)
    assert rm.precision == pytest.approx(2 / 4)
    assert rm.recall == pytest.approx(2 / 3)
    assert rm.accuracy == pytest.approx(3 / 6)
    assert rm.f1 == pytest.approx(2 * 0.5 * (2 / 3) / (0.5 + 2 / 3))
    assert rm.n == 6 and rm.n_bad == 3 and rm.bad_rate == 0.5
    assert rm.mean_pd == pytest.approx(np.mean(s))


def test_decline_means_score_at_or_above_cutoff():
    assert M.decline(np.array([0.29999, 0.3, 0.30001]), 0.3).tolist() == [False, True, True]
    cm = M.confusion([0, 1], [0.3, 0.3], cutoff=0.3)
    assert cm.true_positive == 1 and cm.false_positive == 1 and cm.approval_rate == 0.0


@pytest.mark.parametrize("bins", [10, 5, 3, 20])
@pytest.mark.parametrize("ties", [None, 1, 2])
def test_score_deciles_rows_add_to_n_and_never_split_ties(bins, ties):
    s, y = _random_case(5, 537, 0.2, ties)
    table = M.score_deciles(y, s, bins=bins)
    assert table["applicants"].sum() == len(s)
    assert table["bads"].sum() == y.sum()
    assert len(table) <= bins
    assert (table["max_score"].to_numpy()[:-1] < table["min_score"].to_numpy()[1:]).all()  # ties not split
    assert np.allclose(table["observed_bad_rate"], table["bads"] / table["applicants"])
    # mean predicted PD of each decile is the mean of its scores (the calibration curve)
    assert (table["mean_pd"].diff().dropna() > 0).all()


def test_score_deciles_without_ties_are_equal_sized():
    s, y = _random_case(1, 1000, 0.3)
    table = M.score_deciles(y, s)
    assert table["applicants"].tolist() == [100] * 10
    assert table["decile"].tolist() == list(range(1, 11))


@pytest.mark.parametrize("ties", [None, 1])
def test_strategy_curve_approval_rate_is_monotone_and_ends_at_the_bad_rate(ties):
    s, y = _random_case(2, 400, 0.25, ties)
    curve = M.strategy_curve(y, s)
    rates = curve["approval_rate"].to_numpy()
    assert (np.diff(rates) > 0).all()
    assert rates[-1] == 1.0
    assert curve["approved_bad_rate"].iloc[-1] == pytest.approx(y.mean())
    assert curve["approved_bad_rate"].between(0, 1).all()
    assert (np.diff(curve["cutoff"].to_numpy()) >= 0).all()
    assert len(M.strategy_curve(y[:10], s[:10], points=101)) == 10


# --------------------------------------------------------------------------- cutoffs


@pytest.mark.parametrize("seed,n,rate", [(0, 500, 0.2), (1, 1000, 0.3), (2, 97, 0.1), (3, 2000, 0.05)])
def test_default_cutoff_is_not_half_and_approves_one_minus_bad_rate(seed, n, rate):
    s, y = _random_case(seed, n, rate)
    choice = M.default_cutoff(y, s)
    assert choice.cutoff != 0.5
    assert 0 < choice.cutoff < 1
    assert choice.approval_rate == pytest.approx(1 - y.mean())
    approved = np.mean(s < choice.cutoff)
    assert approved == pytest.approx(1 - y.mean(), abs=1 / n)
    assert "approves" in choice.how
    assert M.resolve_cutoff(y, s) == choice


@pytest.mark.parametrize("rate", [0.05, 0.3, 0.5, 0.7, 0.95])
@pytest.mark.parametrize("ties", [None, 1, 2])
def test_approval_rate_target_is_hit_up_to_ties(rate, ties):
    s, y = _random_case(4, 800, 0.2, ties)
    choice = M.resolve_cutoff(y, s, approval_rate=rate)
    assert choice.approval_rate == rate
    approved = np.mean(~M.decline(s, choice.cutoff))
    if ties is None:
        assert approved == pytest.approx(rate, abs=1 / len(s))
    else:  # off by at most the tie block at the boundary
        boundary = np.sort(s)[int(round(rate * len(s))) - 1]
        block = np.mean(s == boundary) + np.mean(s == np.sort(s)[int(round(rate * len(s)))])
        assert abs(approved - rate) <= block + 1 / len(s)
    rm = M.risk_metrics(y, s, cutoff=choice.cutoff)
    assert rm.approval_rate == pytest.approx(approved)


def test_approval_rate_target_works_for_tiny_and_near_one_scores():
    n = 100
    tiny = np.linspace(1e-13, 1e-11, n)
    c = M.cutoff_for_approval(tiny, 0.3)
    assert np.mean(tiny < c) == pytest.approx(0.3)
    high = 1 - np.linspace(1e-11, 1e-13, n)
    c = M.cutoff_for_approval(high, 0.6)
    assert np.mean(high < c) == pytest.approx(0.6)


def test_certain_bads_are_always_declined_and_certain_goods_always_approved():
    s = np.array([0.0, 0.0, 0.5, 1.0, 1.0])
    for rate in (0.01, 0.5, 0.99):
        c = M.cutoff_for_approval(s, rate)
        assert 0 < c < 1
        assert not M.decline(s, c)[:2].any() and M.decline(s, c)[3:].all()
    assert np.mean(~M.decline(s, M.cutoff_for_approval(s, 0.99))) == pytest.approx(0.6)


def test_user_cutoff_and_rate_are_exclusive():
    s, y = _random_case(0, 50, 0.3)
    assert M.resolve_cutoff(y, s, cutoff=0.3).cutoff == 0.3
    with pytest.raises(SpecError):
        M.resolve_cutoff(y, s, cutoff=0.3, approval_rate=0.7)


@pytest.mark.parametrize("bad", [0, 1, -0.1, 1.5, float("nan"), float("inf"), "abc", [0.2, 0.3]])
def test_cutoff_outside_unit_interval_is_refused_everywhere(bad):
    s, p, y = _pair(0, 60)
    calls = [
        lambda: M.check_cutoff(bad),
        lambda: M.risk_metrics(y, s, cutoff=bad),
        lambda: M.confusion(y, s, cutoff=bad),
        lambda: M.flips(y, s, p, cutoff=bad),
        lambda: M.expected_loss(y, s, p, np.ones(60), cutoff=bad),
        lambda: M.compare(y, s, p, cutoff=bad),
        lambda: M.resolve_cutoff(y, s, approval_rate=bad),
        lambda: M.compare(y, s, p, approval_rate=bad),
    ]
    for call in calls:
        with pytest.raises(SpecError) as info:
            call()
        assert "between 0 and 1" in str(info.value)
        assert "strictly between 0 and 1" in info.value.hint


# --------------------------------------------------------------------------- PSI


def _psi_by_hand(e_counts, a_counts, floor=1e-4):
    e = np.maximum(np.asarray(e_counts, float) / np.sum(e_counts), floor)
    a = np.maximum(np.asarray(a_counts, float) / np.sum(a_counts), floor)
    return float(np.sum((a - e) * np.log(a / e)))


# 100 original scores, 10 in each decile; bin j holds roughly [j/10, (j+1)/10)
ORIGINAL = (np.arange(100) + 0.5) / 100
CENTRES = np.arange(10) / 10 + 0.05


def _actual(counts):
    return np.repeat(CENTRES, counts)


@pytest.mark.parametrize("counts,band", [
    ([11, 9, 10, 10, 10, 10, 10, 10, 10, 10], "stable"),
    ([20, 10, 10, 10, 10, 10, 10, 10, 5, 5], "monitor"),
    ([5, 5, 5, 5, 5, 5, 5, 5, 5, 55], "significant shift"),
    ([0, 10, 10, 10, 10, 10, 10, 10, 10, 20], "significant shift"),  # empty bin: floored share
])
def test_psi_equals_hand_formula_on_decile_bins(counts, band):
    result = M.psi(ORIGINAL, _actual(counts))
    expected = _psi_by_hand([10] * 10, counts)
    assert result.value == pytest.approx(expected, abs=1e-12)
    assert result.band == band
    assert len(result.table) == 10
    assert result.table["expected_share"].tolist() == pytest.approx([0.1] * 10)
    assert result.table["actual_share"].tolist() == pytest.approx(np.asarray(counts) / sum(counts))
    assert result.table["contribution"].sum() == pytest.approx(result.value)


def test_psi_monitor_example_is_point_two_ln_two():
    assert M.psi(ORIGINAL, _actual([20, 10, 10, 10, 10, 10, 10, 10, 5, 5])).value == pytest.approx(0.2 * math.log(2))


def test_psi_bins_are_the_original_deciles():
    table = M.psi(ORIGINAL, ORIGINAL).table
    assert table["upper"].iloc[:-1].tolist() == pytest.approx(np.quantile(ORIGINAL, np.arange(1, 10) / 10))
    assert table["lower"].iloc[0] == -np.inf and table["upper"].iloc[-1] == np.inf


@pytest.mark.parametrize("seed,ties", [(0, None), (1, 1), (2, 3)])
def test_psi_of_identical_vectors_is_zero(seed, ties):
    s, _ = _random_case(seed, 300, 0.3, ties)
    r = M.psi(s, s.copy())
    assert r.value == 0.0 and r.band == "stable"
    assert M.psi(np.full(20, 0.3), np.full(20, 0.3)).value == 0.0


def test_psi_bands_edges():
    assert M.psi_band(0.0) == "stable"
    assert M.psi_band(0.0999) == "stable"
    assert M.psi_band(0.10) == "monitor"
    assert M.psi_band(0.2499) == "monitor"
    assert M.psi_band(0.2501) == "significant shift"
    assert M.psi_band(3.0) == "significant shift"
    with pytest.raises(MetricError):
        M.psi_band(float("nan"))


def test_psi_from_counts_matches_formula_and_refuses_bad_counts():
    value, e, a, contrib = M.psi_from_counts([10, 20, 30, 40], [25, 25, 25, 25])
    assert value == pytest.approx(_psi_by_hand([10, 20, 30, 40], [25, 25, 25, 25]))
    assert e.sum() == pytest.approx(1) and a.sum() == pytest.approx(1)
    for bad in (([0, 0], [1, 1]), ([1, -1, 3], [1, 1, 1]), ([1, np.nan], [1, 1]), ([1, 2], [1, 2, 3])):
        with pytest.raises(MetricError):
            M.psi_from_counts(*bad)


# --------------------------------------------------------------------------- flips

O = [0.10, 0.20, 0.40, 0.60, 0.70, 0.35, 0.45, 0.05]
P = [0.10, 0.45, 0.25, 0.60, 0.30, 0.55, 0.20, 0.06]
Y = [0, 0, 1, 1, 1, 1, 0, 0]
IDS = list("abcdefgh")


def test_flips_counts_and_split_by_hand():
    f = M.flips(Y, O, P, cutoff=0.4, row_ids=IDS)
    # b: good, approve→decline; c: bad, 0.40 is declined → approve; e: bad, decline→approve;
    # f: bad, approve→decline; g: good, decline→approve
    assert f.count == 5 and f.n == 8 and f.share == pytest.approx(5 / 8)
    assert (f.good_declined, f.bad_approved, f.good_approved, f.bad_declined) == (1, 2, 1, 1)
    assert f.good_declined + f.bad_approved + f.good_approved + f.bad_declined == f.count
    assert sorted(f.rows["row"]) == ["b", "c", "e", "f", "g"]
    by_row = f.rows.set_index("row")
    for rid in "bcefg":
        i = IDS.index(rid)
        assert by_row.loc[rid, "pd_original"] == O[i] and by_row.loc[rid, "pd_pruned"] == P[i]
        assert by_row.loc[rid, "outcome"] == ("bad" if Y[i] else "good")
    assert by_row.loc["c", "decision_original"] == "decline" and by_row.loc["c", "decision_pruned"] == "approve"
    assert f.rows["row"].iloc[0] == "e"  # largest score change first
    summary = f.summary_frame().set_index("change")["applicants"]
    assert summary["good applicant newly declined"] == 1 and summary["bad applicant newly approved"] == 2


def test_flips_default_row_ids_are_positions_and_no_flips_for_identical_scores():
    f = M.flips(Y, O, P, cutoff=0.4)
    assert sorted(f.rows["row"]) == [1, 2, 4, 5, 6]
    same = M.flips(Y, O, O, cutoff=0.4)
    assert same.count == 0 and same.share == 0.0 and same.rows.empty


def test_flips_on_empty_arrays_is_defined_as_nothing_flipped():
    f = M.flips([], [], [], cutoff=0.4)
    assert f.n == 0 and f.count == 0 and f.share == 0.0 and f.rows.empty


def test_compare_carries_the_same_flips():
    c = M.compare(Y, O, P, cutoff=0.4, row_ids=IDS)
    assert c.flips.count == 5 and c.cutoff.cutoff == 0.4 and c.cutoff.how == "set by the user"


# --------------------------------------------------------------------------- bootstrap


def test_bootstrap_ci_contains_point_and_is_reproducible():
    for seed in (0, 1, 2):
        s, p, y = _pair(seed, 400, 0.3, noise=0.08)
        ci = M.bootstrap_deltas(y, s, p, resamples=200, seed=seed)
        assert set(ci) == {"auc", "ks"}
        for m, c in ci.items():
            assert c.low <= c.delta <= c.high, (seed, m, c)
            assert c.resamples == 200 and c.seed == seed and c.level == 0.95
        assert ci["auc"].delta == pytest.approx(M.auc(y, p) - M.auc(y, s), abs=1e-12)
        assert ci["ks"].delta == pytest.approx(M.ks(y, p) - M.ks(y, s), abs=1e-12)
        again = M.bootstrap_deltas(y, s, p, resamples=200, seed=seed)
        assert again == ci
        other = M.bootstrap_deltas(y, s, p, resamples=200, seed=seed + 17)
        assert (other["auc"].low, other["auc"].high) != (ci["auc"].low, ci["auc"].high)


@pytest.mark.parametrize("decimals", [2, None], ids=["many ties", "no ties"])
def test_each_bootstrap_draw_is_the_metric_of_the_drawn_applicants_exactly(decimals):
    """The one-sort weighted kernels give, resample by resample, the AUC and KS of the drawn rows (with and without ties)."""
    from core.metrics.intervals import _paired_draws

    rng = np.random.default_rng(8)
    y = (rng.random(700) < 0.3).astype(np.int64)
    s = rng.random(700)
    p = np.clip(0.6 * s + 0.4 * rng.random(700), 0, 1)
    if decimals is not None:
        s, p = np.round(s, decimals), np.round(p, decimals)
    assert (len(np.unique(s)) < 700) == (decimals is not None)
    idx = rng.integers(0, 700, (12, 700))
    draws = _paired_draws(y, s, p, idx)
    for k, rows in enumerate(idx):
        yb, sb, pb = y[rows], s[rows], p[rows]
        assert draws["auc"][k] == M.auc(yb, pb) - M.auc(yb, sb)
        assert draws["ks"][k] == M.ks(yb, pb) - M.ks(yb, sb)
        assert draws["auc"][k] == pytest.approx(roc_auc_score(yb, pb) - roc_auc_score(yb, sb), abs=1e-12)


def test_a_repeated_bootstrap_reuses_the_resamples_and_the_originals_draws_without_changing_a_number():
    """A slider move bootstraps a new pruned model against the same original: the cached counts and original draws
    give the interval a fresh computation gives."""
    from core.metrics import intervals

    s, p, y = _pair(11, 2_000, 0.2, noise=0.1)
    first = M.bootstrap_deltas(y, s, p, resamples=100, seed=3)
    assert len(intervals._COUNTS) >= 1 and len(intervals._DRAWS) >= 2
    p2 = np.clip(p + 0.01, 0, 1)
    warm = M.bootstrap_deltas(y, s, p2, resamples=100, seed=3)
    intervals._COUNTS.clear()
    intervals._DRAWS.clear()
    assert M.bootstrap_deltas(y, s, p2, resamples=100, seed=3) == warm
    assert M.bootstrap_deltas(y, s, p, resamples=100, seed=3) == first


def test_compare_with_bootstrap_reports_the_ci_and_its_frame():
    s, p, y = _pair(3, 300, 0.3, noise=0.1)
    c1 = M.compare(y, s, p, bootstrap=200, seed=5)
    c2 = M.compare(y, s, p, bootstrap=200, seed=5)
    c3 = M.compare(y, s, p, bootstrap=200, seed=6)
    assert c1.ci == c2.ci and c1.ci != c3.ci
    assert c1.ci["auc"].delta == pytest.approx(c1.delta("auc"), abs=1e-12)
    assert c1.ci["ks"].delta == pytest.approx(c1.delta("ks"), abs=1e-12)
    frame = c1.ci_frame()
    assert list(frame["metric"]) == ["auc", "ks"]
    assert {"delta", "low", "high", "level", "resamples", "seed", "excludes_zero"} <= set(frame.columns)
    assert M.compare(y, s, p).ci == {} and M.compare(y, s, p).ci_frame().empty


def test_bootstrap_of_identical_models_is_exactly_zero():
    s, y = _random_case(0, 200, 0.3)
    ci = M.bootstrap_deltas(y, s, s, resamples=50, seed=0)
    assert all(c.low == c.high == c.delta == 0 and not c.excludes_zero for c in ci.values())


def test_bootstrap_clearly_worse_model_excludes_zero():
    s, y = _random_case(0, 600, 0.3)
    rng = np.random.default_rng(9)
    worse = np.clip(0.5 * s + 0.5 * rng.random(len(s)), 0, 1)
    ci = M.bootstrap_deltas(y, s, worse, resamples=200, seed=0)
    assert ci["auc"].high < 0 and ci["auc"].excludes_zero


@pytest.mark.parametrize("kwargs", [
    {"resamples": 5}, {"resamples": 200.5}, {"level": 1.2}, {"level": float("nan")},
    {"seed": -1}, {"seed": 1.5}, {"seed": "x"},
])
def test_bootstrap_settings_are_checked(kwargs):
    s, p, y = _pair(0, 80)
    with pytest.raises(SpecError):
        M.bootstrap_deltas(y, s, p, **kwargs)


def test_bootstrap_on_tiny_one_bad_sample_still_works_or_says_why():
    s = [0.1, 0.2, 0.3, 0.9]
    y = [0, 0, 0, 1]
    try:
        ci = M.bootstrap_deltas(y, s, [0.1, 0.25, 0.3, 0.8], resamples=50, seed=0)
    except MetricError as err:
        assert "bootstrap" in str(err)
    else:
        assert ci["auc"].low <= ci["auc"].high


# --------------------------------------------------------------------------- expected loss


def test_expected_loss_by_hand_with_default_lgd():
    assert M.DEFAULT_LGD == 0.45
    so = [0.1, 0.2, 0.5, 0.6]
    sp = [0.1, 0.5, 0.2, 0.6]
    y = [0, 1, 0, 1]
    ead = pd.Series([1000, 2000, 3000, 4000], name="amount")
    el = M.expected_loss(y, so, sp, ead, cutoff=0.4, exposure_column="amount")
    assert el.lgd == 0.45
    # original approves rows 0, 1; pruned approves rows 0, 2
    assert el.approved_exposure_original == 3000 and el.approved_exposure_pruned == 4000
    assert el.expected_loss_original == pytest.approx(0.1 * 0.45 * 1000 + 0.2 * 0.45 * 2000)  # 225
    assert el.expected_loss_pruned == pytest.approx(0.1 * 0.45 * 1000 + 0.2 * 0.45 * 3000)  # 315
    assert el.observed_loss_original == pytest.approx(0.45 * 2000)
    assert el.observed_loss_pruned == 0
    frame = el.to_frame().set_index("quantity")
    assert frame.loc["expected loss (PD × LGD × EAD)", "change"] == pytest.approx(90)


def test_expected_loss_scales_with_lgd_and_checks_inputs():
    so, sp, y, ead = [0.1, 0.5], [0.2, 0.5], [0, 1], [100.0, 200.0]
    el = M.expected_loss(y, so, sp, ead, cutoff=0.4, lgd=0.6)
    assert el.expected_loss_original == pytest.approx(0.1 * 0.6 * 100)
    assert el.expected_loss_pruned == pytest.approx(0.2 * 0.6 * 100)
    for bad_lgd in (0, 1.5, float("nan"), "abc"):
        with pytest.raises(SpecError):
            M.expected_loss(y, so, sp, ead, cutoff=0.4, lgd=bad_lgd)
    for bad_ead in ([1.0], [1.0, -2.0], [1.0, np.nan], ["a", "b"], [[1], [1, 2]]):
        with pytest.raises(MetricError):
            M.expected_loss(y, so, sp, bad_ead, cutoff=0.4)


# --------------------------------------------------------------------------- degenerate inputs


def _two_score_calls(s, p, y):
    return {
        "auc": lambda: M.auc(y, s),
        "gini": lambda: M.gini(y, s),
        "ks": lambda: M.ks(y, s),
        "risk_metrics": lambda: M.risk_metrics(y, s, cutoff=0.3),
        "compare": lambda: M.compare(y, s, p),
        "compare_cutoff": lambda: M.compare(y, s, p, cutoff=0.3),
        "default_cutoff": lambda: M.default_cutoff(y, s),
        "bootstrap": lambda: M.bootstrap_deltas(y, s, p, resamples=20),
    }


@pytest.mark.parametrize("label", [0, 1])
def test_one_class_only_is_a_clear_metric_error(label):
    s, p, _ = _pair(0, 30)
    y = np.full(30, label)
    for name, call in _two_score_calls(s, p, y).items():
        with pytest.raises(MetricError) as info:
            call()
        assert "good" in str(info.value) or "bad" in str(info.value), name
    # Brier and log-loss are defined with one class (no ranking involved)
    assert M.brier(y, s) == pytest.approx(brier_score_loss(y, s, pos_label=1), abs=1e-12)
    assert M.log_loss(y, s) == pytest.approx(sk_log_loss(y, s, labels=[0, 1]), abs=1e-9)


def test_constant_scores_give_defined_values():
    y = np.array([0, 1] * 10)
    const = np.full(20, 0.3)
    assert M.auc(y, const) == 0.5 and M.gini(y, const) == 0.0
    assert (M.ks(y, const), M.ks_threshold(y, const)) == (0.0, 0.3)
    rm = M.risk_metrics(y, const, cutoff=0.5)
    assert rm.approval_rate == 1.0 and math.isnan(rm.precision)
    s, _ = _random_case(0, 20, 0.5)
    c = M.compare(y, s, const, cutoff=0.4)
    assert c.pruned.auc == 0.5 and math.isnan(c.spearman)
    assert math.isfinite(c.psi.value)
    frame = c.to_frame()
    assert frame.set_index("metric").loc["auc", "worse"] in (True, False)
    # a constant original still yields a cutoff strictly inside (0, 1)
    choice = M.default_cutoff(y, const)
    assert 0 < choice.cutoff < 1


@pytest.mark.parametrize("bad_value", [np.nan, np.inf, -np.inf])
def test_nan_and_inf_scores_are_refused(bad_value):
    s, p, y = _pair(0, 30)
    s = s.copy()
    s[3] = bad_value
    calls = _two_score_calls(s, p, y)
    calls.update({
        "brier": lambda: M.brier(y, s), "log_loss": lambda: M.log_loss(y, s),
        "psi": lambda: M.psi(s, p), "psi_actual": lambda: M.psi(p, s),
        "flips": lambda: M.flips(y, s, p, cutoff=0.3), "flips_pruned": lambda: M.flips(y, p, s, cutoff=0.3),
        "compare_pruned": lambda: M.compare(y, p, s),
        "deciles": lambda: M.score_deciles(y, s), "strategy": lambda: M.strategy_curve(y, s),
        "expected_loss": lambda: M.expected_loss(y, s, p, np.ones(30), cutoff=0.3),
        "approval": lambda: M.cutoff_for_approval(s, 0.5),
    })
    for name, call in calls.items():
        with pytest.raises(MetricError) as info:
            call()
        assert "NaN or infinite" in str(info.value), name


def test_length_mismatch_is_refused():
    s, p, y = _pair(0, 30)
    cases = {
        "auc": lambda: M.auc(y[:-1], s), "ks": lambda: M.ks(y, s[:-1]), "brier": lambda: M.brier(y[:-2], s),
        "log_loss": lambda: M.log_loss(y[:-1], s), "risk": lambda: M.risk_metrics(y[:5], s, cutoff=0.3),
        "flips": lambda: M.flips(y, s, p[:-1], cutoff=0.3), "flips_y": lambda: M.flips(y[:-1], s, p, cutoff=0.3),
        "flips_ids": lambda: M.flips(y, s, p, cutoff=0.3, row_ids=[1, 2]),
        "compare": lambda: M.compare(y, s, p[:-1]), "compare_y": lambda: M.compare(y[:-1], s, p),
        "bootstrap": lambda: M.bootstrap_deltas(y, s, p[:-1]), "deciles": lambda: M.score_deciles(y[:3], s),
        "strategy": lambda: M.strategy_curve(y[:3], s), "spearman": lambda: M.spearman(s, p[:-1]),
        "expected_loss": lambda: M.expected_loss(y, s, p[:-1], np.ones(30), cutoff=0.3),
        "expected_loss_ead": lambda: M.expected_loss(y, s, p, np.ones(29), cutoff=0.3),
    }
    for name, call in cases.items():
        with pytest.raises(MetricError) as info:
            call()
        assert any(ch.isdigit() for ch in str(info.value)), name


def test_empty_arrays_are_refused_clearly():
    e = np.array([])
    cases = {
        "auc": lambda: M.auc(e, e), "ks": lambda: M.ks(e, e), "brier": lambda: M.brier(e, e),
        "log_loss": lambda: M.log_loss(e, e), "psi": lambda: M.psi(e, [0.1]), "psi_a": lambda: M.psi([0.1], e),
        "risk": lambda: M.risk_metrics(e, e, cutoff=0.3), "compare": lambda: M.compare(e, e, e),
        "compare_cut": lambda: M.compare(e, e, e, cutoff=0.3), "deciles": lambda: M.score_deciles(e, e),
        "strategy": lambda: M.strategy_curve(e, e), "approval": lambda: M.cutoff_for_approval(e, 0.5),
        "bootstrap": lambda: M.bootstrap_deltas(e, e, e),
    }
    for _name, call in cases.items():
        with pytest.raises(MetricError):
            call()


@pytest.mark.parametrize("bad", [[-0.1, 0.5], [0.5, 1.01], [2.0, 3.0]])
def test_scores_outside_unit_interval_are_refused(bad):
    y = [0, 1]
    for call in (lambda: M.auc(y, bad), lambda: M.ks(y, bad), lambda: M.brier(y, bad), lambda: M.log_loss(y, bad),
                 lambda: M.risk_metrics(y, bad, cutoff=0.3), lambda: M.compare(y, bad, [0.2, 0.3]),
                 lambda: M.compare(y, [0.2, 0.3], bad), lambda: M.flips(y, bad, [0.2, 0.3], cutoff=0.3)):
        with pytest.raises(MetricError) as info:
            call()
        assert "between 0 and 1" in str(info.value)


@pytest.mark.parametrize("labels", [[0, 2], [0, -1], [0, 0.5], [0, np.nan], ["good", "bad"], [[0], [1, 0]]])
def test_labels_that_are_not_zero_one_are_refused(labels):
    with pytest.raises(MetricError):
        M.auc(labels, [0.2, 0.3])


@pytest.mark.parametrize("scores", [["a", "b"], [None, 0.2], [[0.1], [0.2, 0.3]], [10**400, 0.1], [0.1j, 0.2],
                                    {"a": 0.1}, np.array(["2020-01-01", "2020-01-02"], dtype="datetime64[D]")])
def test_scores_that_are_not_numbers_are_refused(scores):
    with pytest.raises(MetricError):
        M.auc([0, 1], scores)
    with pytest.raises(MetricError):
        M.psi(scores, [0.1, 0.2])


@pytest.mark.parametrize("bins", [0, 1, -3, 2.5, "x"])
def test_bin_counts_are_checked(bins):
    s, y = _random_case(0, 50, 0.3)
    if bins != 1:  # one band is a valid (if coarse) score table, but not a PSI
        with pytest.raises(RiskPruneError):
            M.score_deciles(y, s, bins=bins)
    with pytest.raises(SpecError):
        M.psi(s, s, bins=bins)


# --------------------------------------------------------------------------- tidy frames


def _is_tidy(frame: pd.DataFrame) -> bool:
    flat = all(not isinstance(v, (list, dict, tuple, np.ndarray, pd.DataFrame)) for v in frame.to_numpy().ravel())
    return isinstance(frame, pd.DataFrame) and frame.columns.is_unique and flat


def test_every_result_converts_to_a_tidy_frame():
    s, p, y = _pair(1, 200, 0.3, noise=0.1)
    c = M.compare(y, s, p, bootstrap=30, seed=0, row_ids=[f"r{i}" for i in range(200)])
    frames = {
        "comparison": c.to_frame(), "ci": c.ci_frame(), "psi": c.psi.to_frame(), "psi_table": c.psi.table,
        "flips": c.flips.to_frame(), "flip_summary": c.flips.summary_frame(), "original": c.original.to_frame(),
        "metrics_frame": M.metrics_frame(c.pruned), "cutoff": c.cutoff.to_frame(),
        "deciles": M.score_deciles(y, s), "strategy": M.strategy_curve(y, s),
        "loss": M.expected_loss(y, s, p, np.full(200, 1000.0), cutoff=c.cutoff.cutoff).to_frame(),
    }
    for name, frame in frames.items():
        assert _is_tidy(frame), name
        assert not frame.empty or name == "flips", name
        frame.to_csv()  # downloadable
    comp = frames["comparison"].set_index("metric")
    assert set(M.METRIC_LABELS) == set(comp.index)
    assert comp.loc["auc", "change"] == pytest.approx(c.delta("auc"))
    assert comp.loc["auc", "original"] == c.original.auc and comp.loc["auc", "pruned"] == c.pruned.auc
    assert set(frames["original"]["metric"]) == set(c.original.to_dict())
    assert frames["cutoff"]["cutoff"].iloc[0] == c.cutoff.cutoff


def test_comparison_spearman_and_deltas():
    s, p, y = _pair(2, 300)
    c = M.compare(y, s, p, approval_rate=0.8)
    from scipy.stats import spearmanr
    assert c.spearman == pytest.approx(spearmanr(s, p).statistic)
    assert c.cutoff.approval_rate == 0.8
    assert c.original.approval_rate == pytest.approx(0.8, abs=1 / 300)
    for m in ("auc", "ks", "brier", "log_loss", "approval_rate"):
        assert c.delta(m) == pytest.approx(getattr(c.pruned, m) - getattr(c.original, m))
    assert c.psi.value == M.psi(s, p).value


def test_large_files_get_delong_for_auc_and_a_sampled_bootstrap_for_ks():
    rng = np.random.default_rng(5)
    n = 30_000
    y = (rng.random(n) < 0.2).astype(int)
    s = np.clip(0.2 + 0.25 * (y - 0.2) + rng.normal(0, 0.15, n), 0.001, 0.999)
    p = np.clip(s + rng.normal(0, 0.03, n), 0.001, 0.999)
    small = M.compare(y, s, p, bootstrap=100, seed=2)  # all rows ≤ the bootstrap limit: both bootstrap
    assert small.ci["auc"].method == small.ci["ks"].method == "paired bootstrap"
    from core.metrics.intervals import paired_intervals

    big = paired_intervals(y, s, p, resamples=100, seed=2, max_bootstrap_rows=5_000)
    ref = M.delong_test(y, s, p)
    assert big["auc"].method == "DeLong" and (big["auc"].low, big["auc"].high) == pytest.approx((ref.low, ref.high), abs=1e-12)
    assert big["ks"].method == "paired bootstrap" and big["ks"].rows == 5_000
    assert big["ks"].low <= big["ks"].delta <= big["ks"].high
    assert big["ks"].delta == pytest.approx(M.ks(y, p) - M.ks(y, s), abs=1e-12)  # the change is on all rows
    # the sampled interval is wider than the all-rows bootstrap: conservative, never optimistic
    assert (big["ks"].high - big["ks"].low) > (small.ci["ks"].high - small.ci["ks"].low)
    assert "DeLong" in big["auc"].describe and "5,000 rows" in big["ks"].describe


@pytest.mark.parametrize("seed,n,rate,ties", [c for c in CASES if c[3] is not None])
def test_one_sort_per_model_gives_the_same_numbers_as_the_separate_metrics_on_tied_scores(seed, n, rate, ties):
    """compare() sorts each model's scores once and reads AUC, KS, Spearman and the confusion counts from
    that sort; every number must equal the one computed on its own (and scipy's Spearman with ties)."""
    from scipy.stats import spearmanr

    s, y = _random_case(seed, n, rate, ties)
    p = np.round(np.clip(s + np.random.default_rng(seed).normal(0, 0.05, n), 0, 1), ties)
    c = M.compare(y, s, p, approval_rate=0.7)
    for model, scores in (("original", s), ("pruned", p)):
        m = getattr(c, model)
        assert m.auc == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
        assert m.ks == pytest.approx(M.ks(y, scores), abs=1e-12) and m.ks_score == M.ks_threshold(y, scores)
        cm = M.confusion(y, scores, cutoff=c.cutoff.cutoff)
        assert (m.approval_rate, m.approved_bad_rate, m.precision, m.recall) == pytest.approx(
            (cm.approval_rate, cm.approved_bad_rate, cm.precision, cm.recall), nan_ok=True)
    assert c.spearman == pytest.approx(spearmanr(s, p).statistic, abs=1e-12)
