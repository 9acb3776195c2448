"""Property-based checks of core.metrics: whatever arrives (NaN, inf, ragged lists, text, odd dtypes,
Series, mismatched lengths) either yields a number or a RiskPruneError — never a bare crash — and
on valid data the metrics keep their mathematical invariants."""
from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from sklearn.metrics import roc_auc_score

from core import metrics as M
from core.errors import RiskPruneError

SETTINGS = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

any_float = st.floats(allow_nan=True, allow_infinity=True, width=64)
unit_float = st.floats(0, 1, allow_nan=False)
mostly_unit = st.one_of(unit_float, unit_float, unit_float, any_float, st.sampled_from([0.0, 1.0, -0.0, 1e-300]))

DTYPES = [np.float64, np.float32, np.float16, np.int8, np.int64, np.uint8, np.bool_, np.complex128, object]


@st.composite
def array_like(draw, elements=mostly_unit, max_size=25):
    """Score- or label-like input in one of many shapes and containers."""
    values = draw(st.lists(elements, max_size=max_size))
    kind = draw(st.sampled_from(["list", "array", "series", "dtype", "2d", "ragged", "text", "none", "scalar",
                                 "huge", "nullable", "tuple"]))
    if kind == "list":
        return values
    if kind == "tuple":
        return tuple(values)
    if kind == "array":
        return np.asarray(values, dtype=np.float64)
    if kind == "series":
        return pd.Series(values, index=draw(st.permutations(list(range(len(values))))) if values else None,
                         dtype=np.float64)
    if kind == "dtype":
        dtype = draw(st.sampled_from(DTYPES))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            try:
                return np.asarray(values).astype(dtype)
            except (ValueError, OverflowError, TypeError):
                return np.asarray(values, dtype=object)
    if kind == "2d":
        return np.asarray(values, dtype=np.float64).reshape(-1, 1)
    if kind == "ragged":
        return [values, [0.5]] if values else [[0.1], [0.2, 0.3]]
    if kind == "text":
        return [draw(st.sampled_from(["a", "0.5", "", "nan", "1"])) for _ in values]
    if kind == "none":
        return draw(st.sampled_from([None, {}, "abc", {0.1, 0.2}, b"xy"]))
    if kind == "scalar":
        return values[0] if values else 0.5
    if kind == "huge":
        return values + [10**400]
    return pd.Series(values + [None], dtype="Float64")  # nullable with a missing value


labels_like = array_like(elements=st.one_of(st.sampled_from([0, 1, 0, 1, 1.0, 0.0, True, False]),
                                            st.sampled_from([2, -1, 0.5, float("nan")])))

cutoffs = st.one_of(st.floats(0.01, 0.99), st.sampled_from([0, 1, -0.1, 1.5, float("nan"), "x", None]))


def _only_risk_errors(call):
    """Run ``call``; a RiskPruneError is an answer, anything else is a bug."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return call()
    except RiskPruneError as err:
        assert str(err).strip(), "errors must say something"
        return None


@SETTINGS
@given(s=array_like(), y=labels_like)
def test_single_model_metrics_never_crash(s, y):
    for fn in (M.auc, M.gini, M.ks, M.brier, M.log_loss, M.score_deciles, M.strategy_curve, M.default_cutoff):
        out = _only_risk_errors(lambda fn=fn: fn(s, y))
        if fn in (M.auc, M.brier) and out is not None:
            assert 0 <= out <= 1
    _only_risk_errors(lambda: M.resolve_cutoff(y, s, approval_rate=0.7))


@SETTINGS
@given(s=array_like(), y=labels_like, cutoff=cutoffs)
def test_risk_metrics_never_crash(s, y, cutoff):
    rm = _only_risk_errors(lambda: M.risk_metrics(y, s, cutoff=cutoff))
    if rm is not None:
        assert 0 <= rm.auc <= 1 and 0 <= rm.ks <= 1 and 0 <= rm.approval_rate <= 1
        assert isinstance(rm.to_frame(), pd.DataFrame)


@SETTINGS
@given(e=array_like(elements=any_float), a=array_like(elements=any_float),
       bins=st.one_of(st.integers(-2, 12), st.sampled_from([2.5, "x", None])))
def test_psi_never_crashes_and_is_non_negative(e, a, bins):
    r = _only_risk_errors(lambda: M.psi(e, a, bins=bins))
    if r is not None:
        assert r.value >= 0 and math.isfinite(r.value)
        assert r.band in ("stable", "monitor", "significant shift")


@SETTINGS
@given(o=array_like(), p=array_like(), y=labels_like, cutoff=cutoffs,
       ids=st.one_of(st.none(), st.lists(st.integers(), max_size=25)))
def test_flips_never_crash(o, p, y, cutoff, ids):
    f = _only_risk_errors(lambda: M.flips(y, o, p, cutoff=cutoff, row_ids=ids))
    if f is not None:
        assert f.count == len(f.rows) == f.good_declined + f.bad_approved + f.good_approved + f.bad_declined
        assert 0 <= f.share <= 1


@SETTINGS
@given(o=array_like(), p=array_like(), y=labels_like,
       cutoff=st.one_of(st.none(), cutoffs), rate=st.one_of(st.none(), st.none(), cutoffs),
       boot=st.sampled_from([0, 0, 0, 10, 5, -1]), seed=st.one_of(st.integers(0, 5), st.sampled_from([-1, 1.5, "s"])))
def test_compare_never_crashes(o, p, y, cutoff, rate, boot, seed):
    c = _only_risk_errors(lambda: M.compare(y, o, p, cutoff=cutoff, approval_rate=rate, bootstrap=boot, seed=seed))
    if c is not None:
        frame = c.to_frame()
        assert len(frame) == len(M.METRIC_LABELS)
        c.ci_frame()
        if c.ci:
            for ci in c.ci.values():
                assert ci.low <= ci.high


@SETTINGS
@given(o=array_like(), p=array_like(), y=labels_like, ead=array_like(elements=any_float), cutoff=cutoffs,
       lgd=st.one_of(st.floats(allow_nan=True), st.sampled_from(["x", None])))
def test_expected_loss_and_bootstrap_never_crash(o, p, y, ead, cutoff, lgd):
    el = _only_risk_errors(lambda: M.expected_loss(y, o, p, ead, cutoff=cutoff, lgd=lgd))
    if el is not None:
        assert el.expected_loss_original >= 0 and el.expected_loss_pruned >= 0
    _only_risk_errors(lambda: M.bootstrap_deltas(y, o, p, resamples=10, seed=0))


# --------------------------------------------------------------------------- invariants on valid data


@st.composite
def valid_case(draw, min_size=2, max_size=60):
    n = draw(st.integers(min_size, max_size))
    grid = draw(st.sampled_from([None, 1, 2]))  # rounding makes ties
    s = np.asarray(draw(hnp.arrays(np.float64, n, elements=unit_float)))
    if grid is not None:
        s = np.round(s, grid)
    y = np.asarray(draw(hnp.arrays(np.int64, n, elements=st.integers(0, 1))))
    assume(0 < y.sum() < n)
    return s, y


@pytest.mark.slow
@SETTINGS
@given(case=valid_case())
def test_auc_matches_sklearn_and_flips_with_reversed_scores(case):
    s, y = case
    a = M.auc(y, s)
    assert a == pytest.approx(roc_auc_score(y, s), abs=1e-9)
    r = 1 - s  # reversing may create ties in float64 (1 - 1e-38 == 1): compare with sklearn on the same vector
    assert M.auc(y, r) == pytest.approx(roc_auc_score(y, r), abs=1e-9)
    if len(np.unique(r)) == len(np.unique(s)):
        assert M.auc(y, r) == pytest.approx(1 - a, abs=1e-9)
    assert M.gini(y, s) == pytest.approx(2 * a - 1, abs=1e-12)


@SETTINGS
@given(case=valid_case(), rate=st.floats(0.01, 0.99))
def test_cutoff_for_approval_hits_the_rate_up_to_ties(case, rate):
    s, _ = case
    # a cutoff lies strictly inside (0, 1), so P(bad) = 1 (or its float neighbour) can never be approved
    s = np.minimum(s, 1 - 1e-9)
    c = M.cutoff_for_approval(s, rate)
    assert 0 < c < 1
    approved = int((s < c).sum())
    k = int(round(rate * len(s)))
    srt = np.sort(s)
    # the approved count is the target unless a tie straddles the boundary
    if 0 < k < len(s) and srt[k - 1] < srt[k]:
        assert approved == k
    else:
        tie = srt[min(max(k - 1, 0), len(s) - 1)]
        assert abs(approved - k) <= int((s == tie).sum())


@pytest.mark.slow
@SETTINGS
@given(case=valid_case(), noise=hnp.arrays(np.float64, 60, elements=st.floats(-0.3, 0.3)))
def test_compare_is_consistent_with_its_parts(case, noise):
    s, y = case
    p = np.clip(s + noise[: len(s)], 0, 1)
    c = M.compare(y, s, p)
    for got, scores in ((c.original, s), (c.pruned, p)):
        want = M.risk_metrics(y, scores, cutoff=c.cutoff.cutoff).to_dict()
        for key, value in got.to_dict().items():  # NaN (e.g. precision with nobody declined) equals NaN
            assert value == want[key] or (math.isnan(value) and math.isnan(want[key])), key
    assert c.psi.value >= 0 and M.psi(s, s).value == 0
    assert c.flips.count == int(((s >= c.cutoff.cutoff) != (p >= c.cutoff.cutoff)).sum())
    deciles = M.score_deciles(y, s)
    assert deciles["applicants"].sum() == len(s)
    assert (np.diff(M.strategy_curve(y, s)["approval_rate"]) > 0).all()
