"""DeLong's AUC variance and paired test: equal to the O(m·n) structural-components definition, to the
paired bootstrap, to Hanley & McNeil's (1982) published example; symmetric; honest on degenerate input."""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm
from sklearn.metrics import roc_auc_score

from core import metrics as M
from core.errors import MetricError, RiskPruneError, SpecError
from core.metrics.ranking import _auc_kernel

# --------------------------------------------------------------------------- helpers


def _case(seed: int, n: int, bad_rate: float, ties: int | None = None, noise: float = 0.3):
    """Labels, an 'original' score and a correlated 'pruned' score; ``ties`` rounds both to that many decimals."""
    rng = np.random.default_rng(seed)
    y = (rng.random(n) < bad_rate).astype(int)
    y[:2], y[2:4] = 1, 0  # at least two of each class
    x = rng.normal(0, 1, n) + 1.2 * y
    a = 1 / (1 + np.exp(-(x - 1)))
    b = 1 / (1 + np.exp(-(x + rng.normal(0, noise, n) - 1)))
    if ties is not None:
        a, b = np.round(a, ties), np.round(b, ties)
    return y, a, b


def _components_direct(y: np.ndarray, s: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """DeLong et al. (1988) structural components straight from the definition: all m·n pairs."""
    x, z = s[y == 1], s[y == 0]
    psi = (x[:, None] > z[None, :]) + 0.5 * (x[:, None] == z[None, :])
    return psi.mean(axis=1), psi.mean(axis=0)  # V10 per bad, V01 per good


def _var_direct(v10: np.ndarray, v01: np.ndarray) -> float:
    return float(np.var(v10, ddof=1) / len(v10) + np.var(v01, ddof=1) / len(v01))


SMALL = [(0, 40, 0.5, None), (1, 120, 0.3, 1), (2, 200, 0.1, 2), (3, 75, 0.4, 1), (4, 300, 0.2, None), (5, 60, 0.5, 0)]

# --------------------------------------------------------------------------- references


@pytest.mark.parametrize("seed,n,rate,ties", SMALL)
def test_variance_equals_direct_structural_components_with_ties(seed, n, rate, ties):
    y, a, _ = _case(seed, n, rate, ties)
    v10, v01 = _components_direct(y, a)
    assert M.delong_auc_variance(y, a) == pytest.approx(_var_direct(v10, v01), abs=1e-12)


@pytest.mark.parametrize("seed,n,rate,ties", SMALL)
def test_paired_test_equals_direct_covariance_and_sklearn_auc(seed, n, rate, ties):
    y, a, b = _case(seed, n, rate, ties)
    r = M.delong_test(y, a, b)
    a10, a01 = _components_direct(y, a)
    b10, b01 = _components_direct(y, b)
    var_a, var_b, var_d = _var_direct(a10, a01), _var_direct(b10, b01), _var_direct(b10 - a10, b01 - a01)
    assert r.auc_a == pytest.approx(roc_auc_score(y, a), abs=1e-12)
    assert r.auc_b == pytest.approx(roc_auc_score(y, b), abs=1e-12)
    assert r.delta == pytest.approx(r.auc_b - r.auc_a, abs=1e-12)
    assert r.se ** 2 == pytest.approx(var_d, abs=1e-12)
    assert r.se_a ** 2 == pytest.approx(var_a, abs=1e-12)
    assert r.se_b ** 2 == pytest.approx(var_b, abs=1e-12)
    cov = 0.5 * (var_a + var_b - var_d)
    assert r.correlation == pytest.approx(cov / np.sqrt(var_a * var_b), abs=1e-9)
    assert (r.n, r.n_bad) == (n, int(y.sum()))


def test_delta_variance_matches_paired_bootstrap():
    """DeLong's Var(ΔAUC) is the asymptotic variance the paired bootstrap estimates (Efron & Tibshirani 1993)."""
    y, a, b = _case(11, 1500, 0.3, noise=0.6)
    r = M.delong_test(y, a, b)
    rng = np.random.default_rng(2024)
    deltas, aucs_a = [], []
    for _ in range(2000):
        idx = rng.integers(0, len(y), len(y))
        yb = y[idx]
        auc_a = _auc_kernel(yb, a[idx])
        deltas.append(_auc_kernel(yb, b[idx]) - auc_a)
        aucs_a.append(auc_a)
    # a bootstrap variance from 2000 resamples is itself uncertain by ~3 % (√(2/B)); allow 12 %
    assert r.se ** 2 == pytest.approx(np.var(deltas, ddof=1), rel=0.12)
    assert r.se_a ** 2 == pytest.approx(np.var(aucs_a, ddof=1), rel=0.12)
    assert r.se < r.se_a  # pairing: the difference is far less noisy than either AUC


def test_hanley_mcneil_1982_ct_ratings_reproduce_the_published_auc():
    """Hanley & McNeil (1982), Radiology 143, Table 1: 109 CT images rated 1–5 (58 normal, 51 abnormal).

    Published: AUC 0.893, SE 0.032 (their exponential-approximation formula, recomputed below to check
    the table). DeLong's distribution-free SE need not equal that formula; it must be close to it.
    """
    normal, abnormal = [33, 6, 6, 11, 2], [3, 2, 2, 11, 33]
    rating = np.concatenate([np.repeat(np.arange(1, 6), normal), np.repeat(np.arange(1, 6), abnormal)])
    y = np.concatenate([np.zeros(58, int), np.ones(51, int)])
    s = rating / 5.0
    a = M.auc(y, s)
    assert round(a, 3) == 0.893
    q1, q2 = a / (2 - a), 2 * a * a / (1 + a)
    se_hm = np.sqrt((a * (1 - a) + 50 * (q1 - a * a) + 57 * (q2 - a * a)) / (51 * 58))
    assert round(se_hm, 3) == 0.032
    se_delong = np.sqrt(M.delong_auc_variance(y, s))
    assert abs(se_delong - 0.032) < 0.003


def test_rejects_about_five_percent_when_models_are_exchangeable():
    """Under H0 (both scores are the same signal plus independent noise) p < 0.05 in ~5 % of samples."""
    rng = np.random.default_rng(7)
    rejections, sims = 0, 400
    for _ in range(sims):
        y = (rng.random(300) < 0.3).astype(int)
        x = rng.normal(0, 1, 300) + y
        a = 1 / (1 + np.exp(-(x + rng.normal(0, 0.7, 300))))
        b = 1 / (1 + np.exp(-(x + rng.normal(0, 0.7, 300))))
        rejections += M.delong_test(y, a, b).p_value < 0.05
    assert 0.02 <= rejections / sims <= 0.09  # binomial sd of the rate is 1.1 %


def test_detects_a_real_loss_of_discrimination():
    y, a, b = _case(3, 3000, 0.2, noise=1.5)
    r = M.delong_test(y, a, b)
    assert r.delta < 0 and r.significant and r.high < 0 and r.p_value < 1e-6


# --------------------------------------------------------------------------- properties


@pytest.mark.parametrize("seed,n,rate,ties", SMALL)
def test_p_value_symmetric_under_swapping_models(seed, n, rate, ties):
    y, a, b = _case(seed, n, rate, ties)
    ab, ba = M.delong_test(y, a, b), M.delong_test(y, b, a)
    assert ba.p_value == pytest.approx(ab.p_value, abs=1e-12)
    assert ba.z == pytest.approx(-ab.z, abs=1e-12)
    assert ba.delta == pytest.approx(-ab.delta, abs=1e-12)
    assert ba.se == pytest.approx(ab.se, abs=1e-15)
    assert (ba.low, ba.high) == pytest.approx((-ab.high, -ab.low), abs=1e-12)


def test_interval_is_normal_and_agrees_with_p_value():
    y, a, b = _case(9, 800, 0.25)
    for level in (0.9, 0.95, 0.99):
        r = M.delong_test(y, a, b, level=level)
        half = norm.ppf(0.5 + level / 2) * r.se
        assert (r.low, r.high) == pytest.approx((r.delta - half, r.delta + half), abs=1e-12)
        assert r.significant == (r.low > 0 or r.high < 0)
        assert r.p_value == pytest.approx(2 * norm.sf(abs(r.delta / r.se)), abs=1e-12)


def test_identical_rankings_give_zero_delta_and_p_one():
    y, a, _ = _case(1, 500, 0.3, ties=2)
    for b in (a, a ** 3, np.round(a, 2)):  # same scores, and a monotone transform of them: same ranking
        r = M.delong_test(y, a, b)
        assert (r.delta, r.se, r.z, r.p_value) == (0.0, 0.0, 0.0, 1.0)
        assert (r.low, r.high) == (0.0, 0.0) and not r.significant
        assert r.correlation == pytest.approx(1.0)


def test_inputs_are_not_modified():
    y, a, b = _case(2, 200, 0.3, ties=1)
    copies = (y.copy(), a.copy(), b.copy())
    M.delong_test(y, a, b)
    M.delong_auc_variance(y, a)
    for before, after in zip(copies, (y, a, b)):
        np.testing.assert_array_equal(before, after)


def test_accepts_lists_and_series():
    y, a, b = _case(4, 100, 0.4)
    r = M.delong_test(list(y), pd.Series(a, index=range(100, 200)), list(b))
    assert r == M.delong_test(y, a, b)


def test_result_frames_carry_every_number():
    y, a, b = _case(5, 300, 0.3)
    r = M.delong_test(y, a, b)
    frame = r.to_frame()
    assert list(frame.columns) == ["statistic", "label", "value"]
    assert dict(zip(frame["statistic"], frame["value"])) == pytest.approx({k: v for k, v in r.to_dict().items() if k != "significant"})
    assert r.to_dict()["significant"] == r.significant


# --------------------------------------------------------------------------- degenerate and hostile input


def test_one_class_input_is_a_metric_error():
    s = np.linspace(0.1, 0.9, 10)
    with pytest.raises(MetricError, match="All 10 applicants are good"):
        M.delong_test(np.zeros(10), s, s)
    with pytest.raises(MetricError, match="All 10 applicants are bad"):
        M.delong_auc_variance(np.ones(10), s)


def test_a_single_bad_applicant_is_a_metric_error():
    y = np.zeros(10, int)
    y[3] = 1
    with pytest.raises(MetricError, match="at least two bad and two good"):
        M.delong_test(y, np.linspace(0, 1, 10), np.linspace(0, 1, 10))


@pytest.mark.parametrize("kwargs,error", [
    ({"level": 1.0}, SpecError), ({"level": 0.3}, SpecError), ({"level": "high"}, SpecError),
])
def test_bad_level_is_a_spec_error(kwargs, error):
    y, a, b = _case(0, 50, 0.5)
    with pytest.raises(error):
        M.delong_test(y, a, b, **kwargs)


@pytest.mark.parametrize("y,a,b", [
    ([0, 1, 0, 1], [0.1, 0.2, 0.3], [0.1, 0.2, 0.3, 0.4]),  # lengths differ
    ([0, 1, 0, 1], [0.1, 0.2, np.nan, 0.4], [0.1, 0.2, 0.3, 0.4]),  # NaN
    ([0, 1, 0, 1], [0.1, 0.2, 1.3, 0.4], [0.1, 0.2, 0.3, 0.4]),  # not a probability
    ([0, 2, 0, 1], [0.1, 0.2, 0.3, 0.4], [0.1, 0.2, 0.3, 0.4]),  # label 2
    ([0, 1, 0, 1], "abcd", [0.1, 0.2, 0.3, 0.4]),  # text
])
def test_bad_inputs_are_plain_errors(y, a, b):
    with pytest.raises(RiskPruneError) as info:
        M.delong_test(y, a, b)
    assert "\n" not in str(info.value) and info.value.hint
