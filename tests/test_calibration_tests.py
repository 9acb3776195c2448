"""PD back-tests: calibration-in-the-large against scipy's binomial test, Hosmer–Lemeshow against an
independent pandas-qcut computation, per-grade binomial and Jeffreys tests against scipy and statsmodels."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from statsmodels.stats.proportion import proportion_confint

from core import metrics as M
from core.errors import MetricError, RiskPruneError, SpecError
from core.metrics import calibration_tests as CT

# --------------------------------------------------------------------------- helpers


def _calibrated(seed: int, n: int, shift: float = 0.0, ties: int | None = None):
    """PDs and outcomes drawn from them (calibrated); ``shift`` moves the PDs on the logit scale afterwards."""
    rng = np.random.default_rng(seed)
    logit = rng.normal(-1.5, 1.0, n)
    pd_true = 1 / (1 + np.exp(-logit))
    y = (rng.random(n) < pd_true).astype(int)
    s = 1 / (1 + np.exp(-(logit + shift)))
    if ties is not None:
        s = np.round(s, ties)
    return y, s


def _hl_reference(y: np.ndarray, s: np.ndarray, groups: int) -> tuple[float, int, float]:
    """Hosmer–Lemeshow the textbook way: pandas qcut deciles of risk, Σ (O − E)² / E over bad and good cells."""
    frame = pd.DataFrame({"y": y, "s": s, "g": pd.qcut(s, groups, labels=False)})
    agg = frame.groupby("g").agg(n=("y", "size"), o1=("y", "sum"), e1=("s", "sum"))
    o0, e0 = agg["n"] - agg["o1"], agg["n"] - agg["e1"]
    stat = float((((agg["o1"] - agg["e1"]) ** 2) / agg["e1"] + ((o0 - e0) ** 2) / e0).sum())
    df = len(agg) - 2
    return stat, df, float(stats.chi2.sf(stat, df))


def _fit_logistic(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Maximum-likelihood logistic regression (intercept + slope) by Newton–Raphson; fitted PDs."""
    X = np.column_stack([np.ones(len(x)), x.ravel()])
    beta = np.zeros(2)
    for _ in range(25):
        p = 1 / (1 + np.exp(-X @ beta))
        beta += np.linalg.solve(X.T @ (X * (p * (1 - p))[:, None]), X.T @ (y - p))
    return 1 / (1 + np.exp(-X @ beta))


# --------------------------------------------------------------------------- calibration in the large


@pytest.mark.parametrize("seed,n,shift", [(0, 50, 0.0), (1, 1000, 0.0), (2, 5000, 0.3), (3, 20_000, -0.2), (4, 100_000, 0.05)])
def test_calibration_in_the_large_equals_scipy_exact_binomial_test(seed, n, shift):
    y, s = _calibrated(seed, n, shift)
    r = M.calibration_in_the_large(y, s)
    d, p = int(y.sum()), float(s.mean())
    assert r.method == "exact binomial"
    assert r.p_value == pytest.approx(stats.binomtest(d, n, p).pvalue, abs=1e-12)
    assert (r.n, r.bads) == (n, d)
    assert r.observed_bad_rate == pytest.approx(d / n) and r.mean_pd == pytest.approx(p, abs=1e-15)
    assert r.difference == pytest.approx(d / n - p) and r.expected_bads == pytest.approx(n * p)


def test_calibration_in_the_large_uses_normal_approximation_above_the_exact_limit():
    y, s = _calibrated(5, CT.EXACT_MAX + 50_000, shift=0.02)
    r = M.calibration_in_the_large(y, s)
    d, n, p = int(y.sum()), len(y), float(s.mean())
    assert r.method == "normal approximation"
    z = (d - n * p) / np.sqrt(n * p * (1 - p))
    assert r.p_value == pytest.approx(2 * stats.norm.sf(abs(z)), abs=1e-12)
    assert r.p_value == pytest.approx(stats.binomtest(d, n, p).pvalue, abs=6e-3)  # the approximation is close


def test_calibration_in_the_large_stays_exact_for_low_default_portfolios():
    rng = np.random.default_rng(13)
    n = CT.EXACT_MAX + 50_000
    s = np.full(n, 0.002)  # n·PD·(1 − PD) ≈ 300: too few expected defaults for the normal curve
    y = (rng.random(n) < 0.0025).astype(int)
    r = M.calibration_in_the_large(y, s)
    assert r.method == "exact binomial"
    assert r.p_value == pytest.approx(stats.binomtest(int(y.sum()), n, float(s.mean())).pvalue, abs=1e-12)


def test_calibration_in_the_large_direction_and_detection():
    y, s = _calibrated(6, 20_000, shift=-0.5)  # PDs pushed down: too low
    r = M.calibration_in_the_large(y, s)
    assert r.direction == "PDs too low" and r.difference > 0 and r.p_value < 1e-6
    y, s = _calibrated(6, 20_000, shift=+0.5)
    assert M.calibration_in_the_large(y, s).direction == "PDs too high"
    frame = r.to_frame()
    assert dict(zip(frame["statistic"], frame["value"]))["p_value"] == r.p_value


def test_calibration_in_the_large_allows_one_class_and_certain_pds():
    r = M.calibration_in_the_large(np.zeros(20), np.zeros(20))
    assert (r.p_value, r.difference, r.direction) == (1.0, 0.0, "on target")
    r = M.calibration_in_the_large([0, 0, 1], [0.0, 0.0, 0.0])
    assert r.p_value == 0.0  # a default where the PD was 0 is impossible under the null


# --------------------------------------------------------------------------- Hosmer–Lemeshow


@pytest.mark.parametrize("seed,n,shift,groups", [(0, 1000, 0.0, 10), (1, 5000, 0.4, 10), (2, 600, -0.3, 8), (3, 2000, 0.0, 20)])
def test_hosmer_lemeshow_equals_independent_qcut_computation(seed, n, shift, groups):
    y, s = _calibrated(seed, n, shift)  # continuous scores, n a multiple of groups: qcut groups are ours
    r = M.hosmer_lemeshow(y, s, groups=groups)
    stat, df, p = _hl_reference(y, s, groups)
    assert r.statistic == pytest.approx(stat, abs=1e-6)
    assert r.df == groups and df == groups - 2  # external PDs: G df; the textbook in-sample G − 2 below
    assert r.p_value == pytest.approx(stats.chi2.sf(stat, groups), abs=1e-6)
    r_in = M.hosmer_lemeshow(y, s, groups=groups, in_sample=True)
    assert (r_in.df, r_in.statistic) == (df, r.statistic)
    assert r_in.p_value == pytest.approx(p, abs=1e-6)
    assert r.to_frame()["contribution"].sum() == pytest.approx(r.statistic)
    assert (r.to_frame()["applicants"] == n // groups).all()


def test_hosmer_lemeshow_by_hand_on_a_small_table_with_ties():
    # scores 0.1 ×4, 0.2 ×4, 0.5 ×4 with 3 groups; ties never split, so the groups are the three values
    s = np.repeat([0.1, 0.2, 0.5], 4)
    y = np.array([0, 0, 0, 1, 0, 0, 1, 1, 1, 1, 1, 0])
    r = M.hosmer_lemeshow(y, s, groups=3)
    # group: n=4, O=1/2/3, E=0.4/0.8/2.0 → (O−E)²/(E(1−E/n))
    expected = (0.6 ** 2 / (0.4 * 0.9)) + (1.2 ** 2 / (0.8 * 0.8)) + (1.0 ** 2 / (2.0 * 0.5))
    assert r.statistic == pytest.approx(expected, abs=1e-12)
    assert (r.groups, r.df) == (3, 3)
    assert r.p_value == pytest.approx(stats.chi2.sf(expected, 3), abs=1e-12)
    t = r.to_frame()
    assert t["observed_bads"].tolist() == [1, 2, 3] and t["expected_goods"].tolist() == pytest.approx([3.6, 3.2, 2.0])


def test_hosmer_lemeshow_never_splits_ties_and_reports_fewer_groups():
    y, s = _calibrated(4, 3000, ties=1)  # about a dozen distinct scores
    r = M.hosmer_lemeshow(y, s, groups=10)
    t = r.to_frame()
    assert (t["max_score"].to_numpy()[:-1] < t["min_score"].to_numpy()[1:]).all()
    assert r.groups == len(t) <= 10 and r.groups_requested == 10 and r.df == r.groups


def test_hosmer_lemeshow_df_is_groups_for_external_pds_and_groups_minus_two_in_sample():
    """Hosmer, Lemeshow & Sturdivant (2013): G − 2 df when the PDs were fitted on these rows (§5.2.2), G df
    when they come from elsewhere (§5.6, external validation). Checked by simulation: p-values are
    roughly uniform, so a 5 % test rejects about 5 % of the time, in both settings."""
    external, fitted, stat_external = [], [], []
    for seed in range(200):
        y, s = _calibrated(seed, 500)  # PDs known in advance: nothing estimated on these rows
        r = M.hosmer_lemeshow(y, s)
        assert r.df == 10
        external.append(r.p_value)
        stat_external.append(r.statistic)
        x = np.log(s / (1 - s)).reshape(-1, 1)  # a logistic regression fitted on the same rows
        s_fit = _fit_logistic(x, y)
        r_fit = M.hosmer_lemeshow(y, s_fit, in_sample=True)
        assert r_fit.df == 8
        fitted.append(r_fit.p_value)
    assert 0.01 <= np.mean(np.array(external) < 0.05) <= 0.10
    assert 0.01 <= np.mean(np.array(fitted) < 0.05) <= 0.10
    assert abs(np.mean(stat_external) - 10) < abs(np.mean(stat_external) - 8)  # E[χ²(k)] = k
    assert M.hosmer_lemeshow(*_calibrated(0, 5000, shift=0.5)).p_value < 1e-6  # miscalibration is caught


def test_hosmer_lemeshow_needs_three_distinct_scores():
    with pytest.raises(MetricError, match="too few distinct values"):
        M.hosmer_lemeshow([0, 1, 0, 1], [0.2, 0.2, 0.4, 0.4])
    with pytest.raises(SpecError):
        M.hosmer_lemeshow([0, 1, 0, 1], [0.2, 0.3, 0.4, 0.5], groups=2)


# --------------------------------------------------------------------------- per-grade binomial and Jeffreys


def test_per_grade_tests_equal_scipy_and_statsmodels():
    y, s = _calibrated(8, 4000, shift=-0.15)
    grades = np.select([s < 0.08, s < 0.15, s < 0.3], ["A", "B", "C"], "D")
    r = M.binomial_test_per_grade(y, s, grades=grades, level=0.9)
    t = r.to_frame()
    assert t["grade"].tolist() == ["A", "B", "C", "D"] and r.source == "grades"
    for row in t.itertuples():
        mask = grades == row.grade
        n, d, p = int(mask.sum()), int(y[mask].sum()), float(s[mask].mean())
        assert (row.applicants, row.bads) == (n, d) and row.mean_pd == pytest.approx(p)
        assert row.binomial_p == pytest.approx(stats.binomtest(d, n, p, alternative="greater").pvalue, abs=1e-6)
        assert row.jeffreys_p == pytest.approx(stats.beta(d + 0.5, n - d + 0.5).cdf(p), abs=1e-6)
        low, high = proportion_confint(d, n, alpha=0.1, method="jeffreys")
        assert (row.jeffreys_low, row.jeffreys_high) == pytest.approx((low, high), abs=1e-6)
        assert row.pd_too_low == (row.jeffreys_p < 0.1)


def test_per_grade_tests_flag_the_grade_whose_pd_is_too_low():
    y, s = _calibrated(9, 20_000)
    grades = np.select([s < 0.1, s < 0.2, s < 0.35], ["A", "B", "C"], "D")
    before = M.binomial_test_per_grade(y, s, grades=grades).to_frame().set_index("grade")
    understated = np.where(grades == "D", s * 0.7, s)  # only grade D's PDs are too low
    r = M.binomial_test_per_grade(y, understated, grades=grades)
    after = r.to_frame().set_index("grade")
    assert "D" in r.flagged and after.loc["D", "jeffreys_p"] < 1e-6 and after.loc["D", "binomial_p"] < 1e-6
    pd.testing.assert_frame_equal(after.loc[["A", "B", "C"]], before.loc[["A", "B", "C"]])
    assert r.to_dict()["flagged"] == r.flagged


def test_per_grade_tests_on_score_bands_match_score_deciles():
    y, s = _calibrated(12, 3000, ties=2)
    t = M.binomial_test_per_grade(y, s, bins=10).to_frame()
    deciles = M.score_deciles(y, s, bins=10)
    assert t["grade"].tolist() == deciles["decile"].tolist()
    assert t["applicants"].tolist() == deciles["applicants"].tolist()
    assert t["bads"].tolist() == deciles["bads"].tolist()
    assert t["mean_pd"].to_numpy() == pytest.approx(deciles["mean_pd"].to_numpy())


def test_per_grade_tests_keep_the_order_of_an_ordered_categorical():
    y, s = _calibrated(10, 900)
    labels = np.select([s < 0.1, s < 0.25], ["AAA", "BBB"], "CCC")
    scale = pd.Categorical(labels, categories=["CCC", "BBB", "AAA", "D"], ordered=True)  # unused "D" dropped
    t = M.binomial_test_per_grade(y, s, grades=pd.Series(scale)).to_frame()
    assert t["grade"].tolist() == ["CCC", "BBB", "AAA"]


@pytest.mark.parametrize("grades,error,match", [
    (["A"] * 5, MetricError, "6 scores but 5 grades"),
    (["A", None, "B", "B", "A", "A"], MetricError, "1 of 6 applicants have no grade"),
    ([["A"], ["B"], ["A"], ["B"], ["A"], ["B"]], MetricError, "not a flat list"),
    ("ABABAB", MetricError, "not a list of labels"),
])
def test_bad_grades_are_plain_errors(grades, error, match):
    with pytest.raises(error, match=match):
        M.binomial_test_per_grade([0, 1, 0, 1, 0, 1], [0.1, 0.2, 0.3, 0.4, 0.5, 0.6], grades=grades)


def test_too_many_grades_is_a_spec_error():
    n = 1500
    with pytest.raises(SpecError, match="distinct grades"):
        M.binomial_test_per_grade(np.arange(n) % 2, np.full(n, 0.5), grades=np.arange(n))


@pytest.mark.parametrize("call", [
    lambda: M.calibration_in_the_large([], []),
    lambda: M.hosmer_lemeshow([0, 1], [0.1, 0.2], groups="ten"),
    lambda: M.hosmer_lemeshow([0, 1, 0], [0.1, 0.2, 0.3], in_sample="yes"),
    lambda: M.binomial_test_per_grade([0, 1], [0.1, 0.2], level=0.2),
    lambda: M.binomial_test_per_grade([0, 1], [0.1, 0.2], bins=0),
    lambda: M.calibration_in_the_large([0, 1], [0.1, 1.2]),
])
def test_bad_inputs_are_plain_errors(call):
    with pytest.raises(RiskPruneError) as info:
        call()
    assert "\n" not in str(info.value) and info.value.hint


def test_inputs_are_not_modified():
    y, s = _calibrated(11, 300, ties=2)
    grades = np.where(s < 0.2, "low", "high")
    copies = (y.copy(), s.copy(), grades.copy())
    M.calibration_in_the_large(y, s)
    M.hosmer_lemeshow(y, s)
    M.binomial_test_per_grade(y, s, grades=grades)
    for before, after in zip(copies, (y, s, grades)):
        np.testing.assert_array_equal(before, after)
