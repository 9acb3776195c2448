"""Score alignment: a positive map keeps the ranking, restores the scale, ships inside the exported
files, refuses maps that reverse the ranking, and is never fitted on the rows it is judged on."""
from __future__ import annotations

import copy
import io
import json
import zipfile
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
import torch
from conftest import SAMPLE_DATA, SAMPLE_MODEL
from scipy import special, stats
from sklearn.calibration import _sigmoid_calibration
from sklearn.isotonic import IsotonicRegression
from torch import nn

from core.alignment import (
    MAX_KNOTS,
    NO_ALIGNMENT,
    AlignmentRows,
    AlignmentSpec,
    PiecewiseLinearLogitMap,
    aligned_module,
    aligned_result,
    alignment_effect,
    alignment_rows,
    fit_alignment,
    fit_for,
    isotonic_knots,
    least_squares_affine,
    platt_scaling,
    rows_for,
    thin_knots,
)
from core.errors import DataError, SpecError
from core.hashing import sha256_hex
from core.metrics import auc, psi
from core.model import detect_output_kind, load_model, model_to_bytes, module_hash, predict_logit, predict_pbad, raw_outputs
from core.prune import PruneSpec, prune
from core.report.export import PRUNE_INFO_FILE, onnx_bytes, onnx_max_difference, torchscript_bytes

KINDS = ("logit", "probability", "two_class_logits", "two_class_probabilities")
SQUEEZE, SHIFT = 0.35, 0.3  # the built "pruned" model: z_pruned = SQUEEZE · z_original + SHIFT


def _net(kind: str, n_inputs: int = 8, seed: int = 0) -> nn.Sequential:
    torch.manual_seed(seed)
    width = 2 if kind.startswith("two_class") else 1
    layers: list[nn.Module] = [nn.Linear(n_inputs, 16), nn.ReLU(), nn.Linear(16, width)]
    if kind == "probability":
        layers.append(nn.Sigmoid())
    if kind == "two_class_probabilities":
        layers.append(nn.Softmax(dim=1))
    net = nn.Sequential(*layers).eval()
    with torch.no_grad():  # a wide logit range, like a trained credit model
        net[2].weight.mul_(4.0)
    return net


def _squeezed(net: nn.Sequential, factor: float = SQUEEZE, shift: float = SHIFT) -> nn.Sequential:
    """What pruning tends to do to the scale, built exactly: the log-odds become factor · z + shift."""
    out = copy.deepcopy(net)
    head = out[2]
    with torch.no_grad():
        head.weight.mul_(factor)
        head.bias.mul_(factor)
        head.bias[-1] += shift
    return out


def _rows(n: int, n_inputs: int = 8, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, n_inputs)).astype(np.float32)


def _labels(net: nn.Module, X: np.ndarray, kind: str, seed: int = 2) -> np.ndarray:
    p = predict_pbad(net, X, kind)
    return (np.random.default_rng(seed).random(len(p)) < p).astype(np.int8)


def _workspace(X: np.ndarray, y: np.ndarray, original: nn.Module, kind: str, eval_idx, train_idx) -> SimpleNamespace:
    """The attributes core.alignment reads off a bound workspace, without binding a file."""
    return SimpleNamespace(eval_idx=np.asarray(eval_idx), train_idx=np.asarray(train_idx), data=SimpleNamespace(X=X, y=y),
                           output=SimpleNamespace(kind=kind), model=original)


@pytest.fixture(scope="module")
def sample():
    model = load_model(SAMPLE_MODEL.read_bytes(), SAMPLE_MODEL.name)
    from core.workspace import bind

    ws = bind(model, pd.read_csv(SAMPLE_DATA), "creditability", "bad", eval_mode="holdout",
              data_sha256=sha256_hex(SAMPLE_DATA.read_bytes()))
    result = prune(model, PruneSpec.make("neuron_l1", 0.5), X_reference=ws.X_train)
    return model, ws, result


# --------------------------------------------------------------------------- the spec


def test_spec_refuses_unknown_choices_and_out_of_range_shares():
    for bad in ({"method": "rescale"}, {"shape": "spline"}, {"rows": "evaluation"}, {"calibration_share": 0.95},
                {"calibration_share": "half"}, {"seed": -1}, {"seed": 1.5}):
        with pytest.raises(SpecError):
            AlignmentSpec(**{"method": "to_original", **bad})
    assert not NO_ALIGNMENT.active and AlignmentSpec("to_outcomes").active


def test_spec_key_tells_settings_apart_and_none_is_one_setting():
    keys = {AlignmentSpec(m, s, r, seed, share).key
            for m in ("to_original", "to_outcomes") for s in ("affine", "isotonic") for r in ("auto", "train", "calibration")
            for seed in (0, 1) for share in (0.5, 0.6)}
    assert len(keys) == 2 * 2 * 3 * 2 * 2
    assert AlignmentSpec("none", "isotonic", seed=3).key == NO_ALIGNMENT.key
    assert "least squares" in AlignmentSpec("to_original").label and "Platt" in AlignmentSpec("to_outcomes").label


def test_fitting_with_no_alignment_chosen_is_refused():
    net = _net("logit")
    X = _rows(50)
    with pytest.raises(SpecError, match="No score alignment"):
        fit_alignment(NO_ALIGNMENT, net, net, X, _labels(net, X, "logit"), "logit")


# --------------------------------------------------------------------------- the fits against references


def test_least_squares_matches_scipy_linregress():
    rng = np.random.default_rng(3)
    z = rng.normal(size=500)
    t = 2.3 * z - 0.7 + rng.normal(scale=0.4, size=500)
    slope, intercept = least_squares_affine(z, t)
    ref = stats.linregress(z, t)
    assert slope == pytest.approx(ref.slope, abs=1e-12) and intercept == pytest.approx(ref.intercept, abs=1e-12)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_platt_scaling_matches_scikit_learn_sigmoid_calibration(seed):
    rng = np.random.default_rng(seed)
    z = rng.normal(scale=1.5, size=800)
    y = (rng.random(800) < special.expit(1.7 * z - 0.4)).astype(float)
    a, b = platt_scaling(z, y)
    ref_a, ref_b = _sigmoid_calibration(z, y)  # Platt's smoothed targets; P = 1 / (1 + exp(A·f + B))
    assert a == pytest.approx(-ref_a, abs=1e-4) and b == pytest.approx(-ref_b, abs=1e-4)


def test_platt_scaling_stays_finite_on_separated_outcomes():
    z = np.linspace(-3, 3, 100)
    a, b = platt_scaling(z, (z > 0).astype(float))
    assert np.isfinite(a) and np.isfinite(b) and a > 0  # the smoothed targets keep the maximum finite


def test_isotonic_knots_equal_the_pav_fit_at_block_centres():
    rng = np.random.default_rng(4)
    z = rng.normal(size=400)
    t = np.tanh(z) + rng.normal(scale=0.3, size=400)
    x, y = isotonic_knots(z, t, min_rows=1)
    reference = IsotonicRegression(increasing=True).fit(z, t).predict(x)  # PAV is flat inside a block
    assert np.allclose(y, reference, atol=1e-12)
    assert np.all(np.diff(x) > 0) and np.all(np.diff(y) > 0)  # centred: strictly increasing between knots


def test_isotonic_blocks_hold_the_minimum_number_of_rows():
    rng = np.random.default_rng(5)
    z = rng.normal(size=1000)
    t = z + rng.normal(scale=1.0, size=1000)
    x, y = isotonic_knots(z, t, min_rows=25)
    edges = (x[1:] + x[:-1]) / 2  # each knot stands for the rows nearest to it; at most n / 25 knots
    assert len(x) <= 1000 // 25 and np.all(np.diff(y) > 0)
    assert np.bincount(np.searchsorted(edges, z), minlength=len(x)).min() >= 1


def test_thinning_bounds_knots_keeps_monotone_and_reports_the_exact_error():
    rng = np.random.default_rng(6)
    x = np.sort(rng.normal(size=20_000))
    x = np.unique(x)
    y = np.cumsum(rng.random(len(x)) ** 4)  # non-decreasing, uneven
    tx, ty, err = thin_knots(x, y, 64)
    assert len(tx) == 64 and tx[0] == x[0] and tx[-1] == x[-1] and np.all(np.diff(ty) >= 0)
    assert set(tx) <= set(x)  # a subset of the fitted knots, so still the same monotone curve there
    grid = np.linspace(x[0], x[-1], 200_001)
    measured = max(np.abs(np.interp(x, tx, ty) - y).max(), np.abs(np.interp(grid, tx, ty) - np.interp(grid, x, y)).max())
    assert err == pytest.approx(measured, rel=1e-12)
    assert thin_knots(x[:10], y[:10], 64)[2] == 0.0


def test_isotonic_fit_on_100k_rows_ships_at_most_max_knots():
    net = _net("logit", n_inputs=4, seed=3)
    X = _rows(100_000, n_inputs=4, seed=7)
    pruned = _squeezed(net, 0.5, 0.1)
    fitted = fit_alignment(AlignmentSpec("to_original", "isotonic"), pruned, net, X, _labels(net, X, "logit"), "logit")
    assert len(fitted.knots_x) <= MAX_KNOTS < fitted.knots_fitted
    assert fitted.thinning_max_error < 0.05  # log-odds; the description states it
    assert "thinned from" in fitted.describe()
    module = aligned_module(pruned, fitted)
    z = predict_logit(pruned, X[:2000], "logit")
    assert np.abs(predict_logit(module, X[:2000], "logit") - fitted.map_logit(z)).max() < 1e-5


def test_piecewise_map_interpolates_like_numpy_and_is_flat_outside():
    kx = torch.tensor([-2.0, -0.5, 0.0, 1.0, 3.0], dtype=torch.float64)
    ky = torch.tensor([-4.0, -1.0, -1.0, 2.0, 2.5], dtype=torch.float64)
    m = PiecewiseLinearLogitMap(kx, ky)
    z = torch.linspace(-5, 5, 1001, dtype=torch.float64)
    assert torch.allclose(m(z), torch.from_numpy(np.interp(z.numpy(), kx.numpy(), ky.numpy())), atol=1e-12)
    with pytest.raises(SpecError):
        PiecewiseLinearLogitMap(kx, ky.flip(0))  # decreasing outputs are not a monotone map


# --------------------------------------------------------------------------- ranking and scale


@pytest.mark.parametrize("kind", KINDS)
def test_affine_alignment_keeps_auc_identical(kind):
    net = _net(kind)
    pruned = _squeezed(net)
    X_fit, X_eval = _rows(600, seed=10), _rows(400, seed=11)
    y_fit, y_eval = _labels(net, X_fit, kind), _labels(net, X_eval, kind, seed=12)
    for method in ("to_original", "to_outcomes"):
        fitted = fit_alignment(AlignmentSpec(method), pruned, net, X_fit, y_fit, kind)
        assert fitted.slope > 0
        aligned = aligned_module(pruned, fitted)
        before, after = predict_pbad(pruned, X_eval, kind), predict_pbad(aligned, X_eval, kind)
        assert abs(auc(y_eval, after) - auc(y_eval, before)) <= 1e-12
        assert detect_output_kind(raw_outputs(aligned, X_eval)).kind == kind  # the same output kind comes out
        assert raw_outputs(aligned, X_eval).shape == raw_outputs(pruned, X_eval).shape


def test_affine_alignment_recovers_a_known_squeeze():
    net = _net("logit")
    X = _rows(500)
    fitted = fit_alignment(AlignmentSpec("to_original"), _squeezed(net), net, X, _labels(net, X, "logit"), "logit")
    assert fitted.slope == pytest.approx(1 / SQUEEZE, rel=1e-5)
    assert fitted.intercept == pytest.approx(-SHIFT / SQUEEZE, abs=1e-5)
    assert fitted.fit_metrics["after"]["logit_rmse"] < 1e-5
    assert fitted.fit_metrics["before"]["logit_rmse"] > 0.1


@pytest.mark.parametrize("shape", ["affine", "isotonic"])
def test_alignment_lowers_psi_where_pruning_squeezed_the_scale(shape):
    net = _net("logit")
    pruned = _squeezed(net)
    X_fit, X_eval = _rows(600, seed=20), _rows(400, seed=21)
    fitted = fit_alignment(AlignmentSpec("to_original", shape), pruned, net, X_fit, _labels(net, X_fit, "logit"), "logit")
    original = predict_pbad(net, X_eval, "logit")
    raw, aligned = psi(original, predict_pbad(pruned, X_eval, "logit")), psi(original, predict_pbad(aligned_module(pruned, fitted), X_eval, "logit"))
    assert raw.band == "significant shift" and aligned.band == "stable"
    assert aligned.value < raw.value / 10


def test_sample_pruned_at_half_its_neurons_is_stable_after_alignment(sample):
    model, ws, result = sample
    fitted, rows = fit_for(ws, AlignmentSpec("to_original"), result.module)
    assert rows.source == "train" and np.array_equal(rows.eval_idx, np.sort(ws.eval_idx))
    X, y = ws.data.X[rows.eval_idx], ws.data.y[rows.eval_idx]
    effect = alignment_effect(y, predict_pbad(model.module, X, "logit"), predict_pbad(result.module, X, "logit"),
                              predict_pbad(aligned_module(result.module, fitted), X, "logit"))
    assert effect.psi_raw > 0.25 and effect.psi_aligned < 0.10  # significant shift → stable
    assert effect.flip_share_aligned < effect.flip_share_raw
    assert effect.aligned.pruned.auc == pytest.approx(effect.raw.pruned.auc, abs=1e-12)
    frame = effect.to_frame().set_index("metric")
    assert frame.loc["psi", "aligned"] == effect.psi_aligned and frame.loc["flips", "pruned"] == effect.raw.flips.count
    assert effect.aligned.cutoff.cutoff == effect.raw.cutoff.cutoff  # both judged at the original's cutoff


# --------------------------------------------------------------------------- refusals


@pytest.mark.parametrize("method", ["to_original", "to_outcomes"])
def test_a_map_that_would_reverse_the_ranking_is_refused(method):
    net = _net("logit")
    X = _rows(300)
    reversed_net = _squeezed(net, -0.5, 0.0)  # ranks applicants the wrong way round
    with pytest.raises(SpecError, match="would reverse the pruned model's ranking") as info:
        fit_alignment(AlignmentSpec(method), reversed_net, net, X, _labels(net, X, "logit"), "logit")
    assert "slope -" in str(info.value) and "prune less or fine-tune" in str(info.value)


def test_a_constant_isotonic_map_is_refused():
    net = _net("logit")
    X = _rows(300)
    with pytest.raises(SpecError, match="constant"):
        fit_alignment(AlignmentSpec("to_original", "isotonic"), _squeezed(net, -0.5, 0.0), net, X, _labels(net, X, "logit"), "logit")


def test_bad_fit_inputs_become_plain_errors():
    net = _net("logit")
    X = _rows(300)
    y = _labels(net, X, "logit")
    with pytest.raises(DataError, match="at least"):
        fit_alignment(AlignmentSpec("to_original"), net, net, X[:5], y[:5], "logit")
    with pytest.raises(DataError, match="same outcome"):
        fit_alignment(AlignmentSpec("to_outcomes"), net, net, X, np.zeros(300), "logit")
    with pytest.raises(SpecError, match="output kind"):
        fit_alignment(AlignmentSpec("to_original"), net, net, X, y, "score")
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(DataError, match="missing"):
        fit_alignment(AlignmentSpec("to_original"), net, net, X_nan, y, "logit")
    flat = _squeezed(net, 0.0, 0.0)
    with pytest.raises(SpecError, match="same score"):
        fit_alignment(AlignmentSpec("to_original"), flat, net, X, y, "logit")


# --------------------------------------------------------------------------- no leakage


def test_fit_rows_never_overlap_evaluation_rows(sample):
    _, ws, _ = sample
    for spec in (AlignmentSpec("to_original"), AlignmentSpec("to_original", rows="calibration", seed=4)):
        rows = rows_for(ws, spec)
        assert len(np.intersect1d(rows.fit_idx, rows.eval_idx)) == 0
        assert set(rows.eval_idx) <= set(ws.eval_idx)
    with pytest.raises(SpecError, match="evaluated on"):
        AlignmentRows(np.arange(0, 50), np.arange(40, 100), "train", "leaky")


def test_calibration_split_is_seeded_stratified_and_shrinks_the_evaluation_rows():
    y = np.r_[np.ones(300), np.zeros(700)].astype(np.int8)
    spec = AlignmentSpec("to_original", seed=7, calibration_share=0.6)
    rows = alignment_rows(spec, eval_idx=np.arange(1000), train_idx=np.arange(0), y=y)
    assert rows.source == "calibration" and rows.shrinks_eval
    assert (rows.n_fit, rows.n_eval) == (600, 400) and y[rows.fit_idx].sum() == 180 and y[rows.eval_idx].sum() == 120
    assert np.array_equal(np.sort(np.r_[rows.fit_idx, rows.eval_idx]), np.arange(1000))
    assert "400 rows only" in rows.note and rows.to_dict()["evaluation_rows_before"] == 1000
    again = alignment_rows(spec, eval_idx=np.arange(1000), train_idx=np.arange(0), y=y)
    other = alignment_rows(AlignmentSpec("to_original", seed=8), eval_idx=np.arange(1000), train_idx=np.arange(0), y=y)
    assert np.array_equal(again.fit_idx, rows.fit_idx) and not np.array_equal(other.fit_idx, rows.fit_idx)
    none = alignment_rows(NO_ALIGNMENT, eval_idx=np.arange(1000), train_idx=np.arange(0), y=y)
    assert none.n_fit == 0 and none.n_eval == 1000  # no alignment: nothing is set aside


def test_training_rows_are_asked_for_but_there_are_none():
    with pytest.raises(SpecError, match="training split"):
        alignment_rows(AlignmentSpec("to_original", rows="train"), eval_idx=np.arange(100), train_idx=np.arange(0),
                       y=np.r_[np.ones(30), np.zeros(70)])
    with pytest.raises(DataError, match="too few"):
        alignment_rows(AlignmentSpec("to_original"), eval_idx=np.arange(30), train_idx=np.arange(0),
                       y=np.r_[np.ones(2), np.zeros(28)])


def _magnitude_pruned(net: nn.Sequential, share: float = 0.5) -> nn.Sequential:
    """The squeezed net with the smaller half of its first-layer weights zeroed: not an exact affine copy."""
    out = _squeezed(net, 0.4, 0.2)
    with torch.no_grad():
        w = out[0].weight
        w[w.abs() < w.abs().flatten().quantile(share)] = 0.0
    return out


def _parameter_change(a, b) -> float:
    pa, pb = a.parameters(), b.parameters()
    keys = ("slope", "intercept") if "intercept" in pa else ("knots_x", "knots_y")
    if any(len(np.atleast_1d(pa[k])) != len(np.atleast_1d(pb[k])) for k in keys):
        return float("inf")
    return max(float(np.abs(np.subtract(pa[k], pb[k])).max()) for k in keys)


@pytest.mark.parametrize("method,shape", [("to_original", "affine"), ("to_original", "isotonic"),
                                          ("to_outcomes", "affine"), ("to_outcomes", "isotonic")])
@pytest.mark.parametrize("split", ["holdout", "calibration"])
def test_the_fitted_map_does_not_depend_on_the_evaluation_rows(method, shape, split):
    """The leakage test: scramble the evaluation rows — the map must not move at all.

    A map fitted with the evaluation rows would change; the same scrambling applied to the fit
    rows does change it, so this test can fail. With a calibration split the outcomes of the
    evaluation file decide the stratified split itself, so there only the inputs are scrambled
    (the split must then be identical, and it is checked).
    """
    net = _net("logit")
    pruned = _magnitude_pruned(net)
    X = _rows(1000, seed=30)
    y = _labels(net, X, "logit", seed=31)
    ev, tr = (np.arange(800, 1000), np.arange(0, 600)) if split == "holdout" else (np.arange(1000), np.arange(0))
    spec = AlignmentSpec(method, shape, seed=5)
    fitted, rows = fit_for(_workspace(X, y, net, "logit", ev, tr), spec, pruned)

    def refit(target_rows: np.ndarray, labels: bool):
        X2, y2 = X.copy(), y.copy()
        X2[target_rows] = X2[target_rows] * 1.5 + 0.25
        if labels:
            y2[target_rows] = 1 - y2[target_rows]
        return fit_for(_workspace(X2, y2, net, "logit", ev, tr), spec, pruned)

    honest, honest_rows = refit(rows.eval_idx, labels=split == "holdout")
    assert np.array_equal(honest_rows.fit_idx, rows.fit_idx) and np.array_equal(honest_rows.eval_idx, rows.eval_idx)
    assert honest.parameters() == fitted.parameters() and honest.fit_rows_sha256 == fitted.fit_rows_sha256
    assert _parameter_change(refit(rows.fit_idx, labels=False)[0], fitted) > 1e-3
    if shape == "affine":  # what a leak would buy: the in-sample optimum (least squares / likelihood) on the judged rows
        leaky = fit_alignment(spec, pruned, net, X[rows.eval_idx], y[rows.eval_idx], "logit")
        X_ev, y_ev = X[rows.eval_idx], y[rows.eval_idx]
        if method == "to_outcomes":
            from core.metrics import log_loss

            assert log_loss(y_ev, predict_pbad(aligned_module(pruned, leaky), X_ev, "logit")) \
                < log_loss(y_ev, predict_pbad(aligned_module(pruned, fitted), X_ev, "logit"))
        else:
            z_orig = predict_logit(net, X_ev, "logit")
            rmse = [np.sqrt(np.mean((predict_logit(aligned_module(pruned, f), X_ev, "logit") - z_orig) ** 2))
                    for f in (leaky, fitted)]
            assert rmse[0] < rmse[1]


def test_fit_records_the_rows_it_used(sample):
    model, ws, result = sample
    spec = AlignmentSpec("to_original", rows="calibration", seed=2)
    fitted, rows = fit_for(ws, spec, result.module)
    assert fitted.n_fit == rows.n_fit == len(rows.fit_idx) > 0
    assert fitted.rows["source"] == "calibration" and fitted.rows["evaluation_rows"] == rows.n_eval
    with pytest.raises(SpecError, match="row choice"):
        fit_alignment(spec, result.module, model, ws.data.X[:50], ws.data.y[:50], "logit", rows=rows)


# --------------------------------------------------------------------------- shipping


def test_aligned_module_leaves_the_pruned_module_unchanged():
    net = _net("logit")
    pruned = _squeezed(net)
    before = module_hash(pruned)
    X = _rows(200)
    fitted = fit_alignment(AlignmentSpec("to_original", "isotonic"), pruned, net, X, _labels(net, X, "logit"), "logit")
    aligned = aligned_module(pruned, fitted)
    with torch.no_grad():
        next(aligned.pruned.parameters()).add_(1.0)  # the aligned model owns a copy
    assert module_hash(pruned) == before


EXPORT_CASES = [(kind, method, shape) for kind in KINDS for method, shape in
                (("to_original", "affine"), ("to_original", "isotonic"), ("to_outcomes", "affine"), ("to_outcomes", "isotonic"))
                if kind == "logit" or (method, shape) in {("to_original", "isotonic"), ("to_outcomes", "affine")}]


@pytest.mark.parametrize("kind,method,shape", EXPORT_CASES)
def test_exported_torchscript_and_onnx_reproduce_the_aligned_scores(kind, method, shape):
    net = _net(kind, seed=4)
    model = load_model(model_to_bytes(torch.jit.script(net)), "m.pt")
    X = _rows(400, seed=40)
    y = _labels(net, X, kind, seed=41)
    result = prune(model, PruneSpec.make("neuron_l2", 0.5), X_reference=X)
    fitted = fit_alignment(AlignmentSpec(method, shape), result.module, model, X[:300], y[:300], kind)
    aligned = aligned_result(result, fitted)
    want = raw_outputs(aligned.module, X)
    data = torchscript_bytes(aligned)
    reloaded = load_model(data, "pruned_model.pt")
    assert np.abs(raw_outputs(reloaded.module, X) - want).max() <= 1e-5
    info = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(
        next(n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(PRUNE_INFO_FILE))))
    assert info["alignment"]["parameters"] == json.loads(json.dumps(fitted.parameters()))
    assert json.loads(reloaded.scripted.alignment_record)["fit_rows"] == 300
    onnx = onnx_bytes(aligned, model.n_inputs, X)
    assert onnx_max_difference(onnx, aligned.module, X) <= 1e-5
    assert aligned.size.file_bytes > result.size.file_bytes and aligned.size.parameters == result.size.parameters


@pytest.mark.parametrize("shape", ["affine", "isotonic"])
def test_masked_scripted_model_exports_with_its_map(shape):
    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(6, 6)
            self.b = nn.Linear(6, 1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)) + x)

    torch.manual_seed(0)
    model = load_model(model_to_bytes(torch.jit.script(Residual().eval())), "res.pt")
    X = _rows(300, n_inputs=6, seed=50)
    y = _labels(model.module, X, "logit", seed=51)
    result = prune(model, PruneSpec.make("magnitude_layer", 0.5))
    fitted = fit_alignment(AlignmentSpec("to_original", shape), result.module, model, X, y, "logit")
    aligned = aligned_result(result, fitted)
    assert isinstance(aligned.module, torch.jit.ScriptModule)  # scripted all the way down, so ONNX can export it
    reloaded = load_model(torchscript_bytes(aligned), "res_aligned.pt")
    assert np.abs(raw_outputs(reloaded.module, X) - raw_outputs(aligned.module, X)).max() <= 1e-5
    assert onnx_max_difference(onnx_bytes(aligned, 6, X), aligned.module, X) <= 1e-5
    assert set(aligned.masks) == {f"pruned.{k}" for k in result.masks}
    assert set(aligned.masks) <= {n for n, _ in aligned.module.named_parameters()}


def test_description_and_record_state_the_map_its_parameters_and_rows(sample):
    _, ws, result = sample
    fitted, rows = fit_for(ws, AlignmentSpec("to_outcomes"), result.module)
    text = fitted.describe()
    assert "Platt" in text and f"{rows.n_fit} training rows" in text and "ranking" in text
    record = json.loads(json.dumps(fitted.to_dict(), allow_nan=False))
    assert record["parameters"]["slope"] == fitted.slope > 0 and record["fit_rows"] == rows.n_fit
    frame = fitted.to_frame()
    assert {"original", "before", "after"} <= set(frame.columns) and "psi" in set(frame["metric"])
    assert fitted.key != fit_for(ws, AlignmentSpec("to_original"), result.module)[0].key
