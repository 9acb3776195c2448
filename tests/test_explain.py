"""Attributions: the fast exact DeepSHAP path against shap itself, the fallbacks, grouping, the
importance-shift statistics and one applicant's before/after table."""
from __future__ import annotations

import io
import warnings
from pathlib import Path

import numpy as np
import pytest
import shap
import torch
from architectures import Standardise
from torch import nn

from core.errors import ExplainError
from core.explain import (
    FAST_PATH,
    SAMPLED,
    SHAP_DEEP,
    SHAP_PERMUTATION,
    Attributions,
    compare_applicant,
    draw_sample,
    explain,
    explain_rows,
    importance_shift,
)
from core.explain.deepshap import build_chain, deepshap
from core.model import load_model, model_to_bytes, module_hash, predict_logit
from core.prune.structure import copy_module

ROOT = Path(__file__).resolve().parents[1]
SAMPLE_MODEL = ROOT / "sample_data" / "german_credit_mlp.pt"
SAMPLE_DATA = ROOT / "sample_data" / "german_credit.csv"

TOL = 1e-5  # relative to max |φ| (against shap) or to the output scale (additivity)
# GELU/SELU/Sigmoid: both sides form Δout/Δin in float32 and CPUs' vectorised GELU kernels round
# differently when Δin is small (2.2e-5 of max |φ| measured on a 2-core CI machine, 3e-7 on
# another); an algorithmic error would be of the order of φ itself.
SMOOTH_TOL = 1e-4


# --------------------------------------------------------------------------- models and data


def _data(n: int, m: int, seed: int, n_dummies: int = 0) -> np.ndarray:
    """Standardised numeric columns followed by 0/1 dummies, like a schema-encoded credit table."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, m)).astype(np.float32)
    if n_dummies:
        X[:, m - n_dummies:] = (rng.random((n, n_dummies)) < 0.35).astype(np.float32)
    return X


def _randomise_batchnorm(model: nn.Module, seed: int) -> nn.Module:
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for layer in model.modules():
            if isinstance(layer, nn.BatchNorm1d):
                n = layer.num_features
                layer.running_mean.copy_(torch.rand(n, generator=gen) - 0.5)
                layer.running_var.copy_(torch.rand(n, generator=gen) * 1.5 + 0.5)
                layer.weight.copy_(torch.rand(n, generator=gen) + 0.5)
                layer.bias.copy_(torch.rand(n, generator=gen) * 0.4 - 0.2)
    return model.eval()


def bn_relu_logit(m: int = 12) -> nn.Sequential:
    """The sample's shape in small: Linear → BatchNorm → ReLU → Dropout → Linear → ReLU → Linear."""
    torch.manual_seed(1)
    model = nn.Sequential(
        nn.Linear(m, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(16, 8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, 1),
    )
    return _randomise_batchnorm(model, 1)


def tanh_elu_two_class(m: int = 12) -> nn.Sequential:
    torch.manual_seed(2)
    return nn.Sequential(nn.Linear(m, 10), nn.Tanh(), nn.Linear(10, 10), nn.ELU(), nn.Linear(10, 2)).eval()


def leaky_softplus_probability(m: int = 12) -> nn.Sequential:
    torch.manual_seed(3)
    model = nn.Sequential(
        nn.Linear(m, 12), nn.BatchNorm1d(12), nn.LeakyReLU(0.05), nn.Linear(12, 6), nn.Softplus(),
        nn.Linear(6, 1), nn.Sigmoid(),
    )
    return _randomise_batchnorm(model, 3)


def gelu_selu_sigmoid_softmax(m: int = 12) -> nn.Sequential:
    torch.manual_seed(4)
    return nn.Sequential(
        nn.Linear(m, 9), nn.GELU(), nn.Linear(9, 9), nn.SELU(), nn.Linear(9, 7), nn.Sigmoid(),
        nn.Linear(7, 2), nn.Softmax(dim=1),
    ).eval()


ARCHITECTURES = {
    "bn_relu_logit": (bn_relu_logit, "logit"),
    "tanh_elu_two_class_logits": (tanh_elu_two_class, "two_class_logits"),
    "leaky_softplus_probability": (leaky_softplus_probability, "probability"),
    "gelu_selu_sigmoid_two_class_probabilities": (gelu_selu_sigmoid_softmax, "two_class_probabilities"),
}


class _Diff(nn.Module):
    """z1 − z0 as a module output of shape (N, 1)."""

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return z[:, 1:2] - z[:, 0:1]


def shap_reference(model: nn.Sequential, kind: str, X: np.ndarray, background: np.ndarray) -> np.ndarray:
    """shap.DeepExplainer on an eager wrapper whose output is the logit, shape (N, 1)."""
    body = model[:-1] if kind in ("probability", "two_class_probabilities") else model
    if kind.startswith("two_class"):
        head = nn.Linear(2, 1, bias=False)
        with torch.no_grad():
            head.weight.copy_(torch.tensor([[-1.0, 1.0]]))
        body = nn.Sequential(body, head)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        explainer = shap.DeepExplainer(body.eval(), torch.from_numpy(background))
        values = explainer.shap_values(torch.from_numpy(X), check_additivity=True)
    return np.asarray(values, dtype=np.float64).reshape(X.shape)


# --------------------------------------------------------------------------- fast path vs shap


@pytest.mark.slow
@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_fast_path_equals_shap_deepexplainer_within_1e5_of_max_phi(name):
    build, kind = ARCHITECTURES[name]
    model = build()
    X, bg = _data(60, 12, seed=10, n_dummies=5), _data(30, 12, seed=11, n_dummies=5)
    att = explain(model, X, bg, kind)
    ref = shap_reference(model, kind, X, bg)
    assert att.explainer == FAST_PATH and att.exact
    assert att.values.dtype == np.float64 and att.values.shape == (60, 12)
    tol = SMOOTH_TOL if name.startswith("gelu") else TOL
    assert np.abs(att.values - ref).max() <= tol * np.abs(ref).max()


@pytest.mark.parametrize("name", list(ARCHITECTURES))
def test_fast_path_is_additive_on_the_log_odds_scale(name):
    build, kind = ARCHITECTURES[name]
    model = build()
    X, bg = _data(80, 12, seed=20), _data(40, 12, seed=21)
    att = explain(model, X, bg, kind)
    logit_x, logit_bg = predict_logit(model, X, kind), predict_logit(model, bg, kind)
    scale = max(1.0, np.abs(att.outputs).max())
    assert att.additivity_gap <= TOL * scale
    # outputs and base value are the model's own log-odds (a final Sigmoid/Softmax is stripped)
    np.testing.assert_allclose(att.outputs, logit_x, atol=1e-4)
    assert att.base_value == pytest.approx(logit_bg.mean(), abs=1e-4)


def test_fast_path_float64_backpropagation_agrees_with_float32():
    model = bn_relu_logit()
    X, bg = _data(50, 12, seed=30), _data(25, 12, seed=31)
    a32 = explain(model, X, bg, "logit", precision="float32").values
    a64 = explain(model, X, bg, "logit", precision="float64").values
    assert np.abs(a32 - a64).max() <= TOL * np.abs(a64).max()


def test_near_zero_input_differences_use_the_gradient_at_the_background_like_shap():
    # hidden z = x0 − x1; background z = 0 (ReLU kink). Row 0: Δz = 4.8e-7 < 1e-6, so shap takes
    # relu'(0) = 0 instead of the ratio 1; row 1: Δz = 0 exactly (0/0 must not become NaN).
    model = nn.Sequential(nn.Linear(2, 1), nn.ReLU(), nn.Linear(1, 1)).eval()
    with torch.no_grad():
        model[0].weight.copy_(torch.tensor([[1.0, -1.0]]))
        model[0].bias.zero_()
        model[2].weight.fill_(2.0)
        model[2].bias.zero_()
    X = np.array([[1.0, 1.0 - 4 * 2.0**-23], [3.0, 3.0]], dtype=np.float32)
    bg = np.array([[0.5, 0.5]], dtype=np.float32)
    att = explain(model, X, bg, "logit")
    ref = shap_reference(model, "logit", X, bg)
    assert np.isfinite(att.values).all()
    np.testing.assert_allclose(att.values, ref, atol=1e-6)
    assert np.abs(att.values).max() < 1e-5  # the ratio rule would give ±1 for row 0


def test_chunking_does_not_change_the_values():
    model = tanh_elu_two_class()
    X, bg = _data(37, 12, seed=40), _data(23, 12, seed=41)
    one_chunk = explain(model, X, bg, "two_class_logits", max_chunk_bytes=1 << 30).values
    row_by_row = explain(model, X, bg, "two_class_logits", max_chunk_bytes=1).values
    np.testing.assert_allclose(row_by_row, one_chunk, rtol=0, atol=1e-6 * np.abs(one_chunk).max())


def test_network_without_activation_gets_the_linear_shapley_values():
    torch.manual_seed(5)
    model = nn.Sequential(nn.Linear(6, 4), nn.BatchNorm1d(4), nn.Dropout(0.5), nn.Linear(4, 1)).eval()
    _randomise_batchnorm(model, 5)
    X, bg = _data(20, 6, seed=50), _data(15, 6, seed=51)
    att = explain(model, X, bg, "logit")
    scale = (model[1].weight / torch.sqrt(model[1].running_var + model[1].eps)).detach().double()
    w = (model[3].weight.detach().double() @ (scale[:, None] * model[0].weight.detach().double())).numpy()[0]
    np.testing.assert_allclose(att.values, w * (X - bg.mean(axis=0)), atol=1e-6)


def test_pruned_chain_with_fewer_neurons_and_inplace_relu_is_explained_without_mutation():
    torch.manual_seed(6)
    model = nn.Sequential(nn.Linear(12, 5), nn.ReLU(inplace=True), nn.Linear(5, 1)).eval()
    reference = nn.Sequential(nn.Linear(12, 5), nn.ReLU(), nn.Linear(5, 1)).eval()
    reference.load_state_dict(model.state_dict())
    before = module_hash(model)
    X, bg = _data(30, 12, seed=60), _data(20, 12, seed=61)
    att = explain(model, X, bg, "logit")
    assert module_hash(model) == before
    np.testing.assert_allclose(att.values, shap_reference(reference, "logit", X, bg), atol=TOL * np.abs(att.values).max())


def test_scripted_chain_goes_through_its_eager_twin_and_matches_the_eager_model():
    model = leaky_softplus_probability()
    loaded = load_model(model_to_bytes(model))
    X, bg = _data(40, 12, seed=70), _data(20, 12, seed=71)
    via_script = explain(loaded.scripted, X, bg, "probability")
    via_loaded = explain(loaded, X, bg, "probability")
    eager = explain(model, X, bg, "probability")
    assert via_script.explainer == FAST_PATH and via_script.exact
    np.testing.assert_allclose(via_script.values, eager.values, atol=1e-7)
    np.testing.assert_allclose(via_loaded.values, eager.values, atol=1e-7)
    assert "Sigmoid" in eager.note



def test_scripted_mlp_behind_a_standardisation_module_gets_the_fast_exact_path(monkeypatch):
    """A custom (x − mean)/std module in front of an MLP is rebuilt as a Standardize layer: the upload is a
    chain, explained by the exact DeepSHAP kernel — never by shap's slow PermutationExplainer — additively and
    with the values of the same MLP with the standardisation folded into its first layer."""
    torch.manual_seed(7)
    mean, std = torch.randn(12) * 3.0, torch.rand(12) * 4.0 + 0.5
    body = nn.Sequential(nn.Linear(12, 16), nn.ReLU(), nn.Linear(16, 8), nn.Tanh(), nn.Linear(8, 1)).eval()
    loaded = load_model(model_to_bytes(torch.jit.script(nn.Sequential(Standardise(mean, std), body).eval())))
    assert loaded.twin_kind == "chain" and loaded.n_inputs == 12
    rng = np.random.default_rng(72)
    X = (rng.normal(size=(40, 12)) * 3.0 + mean.numpy()).astype(np.float32)
    bg = (rng.normal(size=(20, 12)) * 3.0 + mean.numpy()).astype(np.float32)

    def no_permutation(*args, **kwargs):
        raise AssertionError("shap's PermutationExplainer must not be used for a standardised MLP")

    monkeypatch.setattr("core.explain.attributions.shap_permutation", no_permutation)
    att = explain(loaded, X, bg, "logit")
    assert att.explainer == FAST_PATH and att.exact and att.explainer != SHAP_PERMUTATION
    np.testing.assert_allclose(att.outputs, predict_logit(loaded.scripted, X, "logit"), atol=1e-5)
    assert att.additivity_gap <= TOL * max(1.0, np.abs(att.outputs).max())
    folded = copy_module(body)
    with torch.no_grad():  # W((x − m)/s) + b = (W/s) x + (b − W m/s): the same function as a plain chain
        folded[0].weight.copy_(body[0].weight / std)
        folded[0].bias.copy_(body[0].bias - body[0].weight @ (mean / std))
    reference = explain(folded, X, bg, "logit")
    np.testing.assert_allclose(att.values, reference.values, atol=TOL * np.abs(reference.values).max())


@pytest.mark.slow
def test_inputs_and_models_are_never_modified():
    model = bn_relu_logit()
    X, bg = _data(20, 12, seed=80), _data(10, 12, seed=81)
    X_copy, bg_copy, before = X.copy(), bg.copy(), module_hash(model)
    for method in ("fast", "deep", "permutation"):
        explain(model, X[:5] if method == "permutation" else X, bg, "logit", method=method)
    assert module_hash(model) == before
    np.testing.assert_array_equal(X, X_copy)
    np.testing.assert_array_equal(bg, bg_copy)


def test_silu_chain_takes_the_fast_path_and_stays_additive():
    # shap's DeepExplainer does not hook SiLU (it silently returns gradients); the rescale rule does.
    torch.manual_seed(13)
    model = nn.Sequential(nn.Linear(6, 8), nn.SiLU(), nn.Linear(8, 1)).eval()
    att = explain(model, _data(30, 6, 1), _data(20, 6, 2), "logit")
    assert att.explainer == FAST_PATH
    assert att.additivity_gap <= TOL * max(1.0, np.abs(att.outputs).max())


def test_explaining_under_inference_mode_gives_the_same_values():
    X, bg = _data(10, 5, 1), _data(8, 5, 2)
    chain, residual = tanh_elu_two_class(5), Residual().eval()
    expected = [explain(chain, X, bg, "two_class_logits"), explain(residual, X, bg, "logit")]
    with torch.inference_mode():
        got = [explain(chain, X, bg, "two_class_logits"), explain(residual, X, bg, "logit")]
    for e, g in zip(expected, got):
        assert g.explainer == e.explainer
        np.testing.assert_array_equal(g.values, e.values)


def test_progress_reports_every_row_done():
    calls = []
    explain(bn_relu_logit(), _data(30, 12, seed=90), _data(10, 12, seed=91), "logit",
            max_chunk_bytes=10 * 16 * 4 * 4, progress=lambda done, total, what: calls.append((done, total)))
    assert calls[-1] == (30, 30)
    assert [d for d, _ in calls] == sorted(d for d, _ in calls) and len(calls) > 1


# --------------------------------------------------------------------------- fallbacks


class Residual(nn.Module):
    """Not a chain: a skip connection; ``shared_act`` reuses one ReLU twice (breaks DeepExplainer)."""

    def __init__(self, m: int = 5, shared_act: bool = False, seed: int = 7) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.inp = nn.Linear(m, 6)
        self.block = nn.Linear(6, 6)
        self.act1 = nn.ReLU()
        self.act2 = self.act1 if shared_act else nn.ReLU()
        self.out = nn.Linear(6, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act1(self.inp(x))
        return self.out(h + self.act2(self.block(h)))


class LinearSkip(nn.Module):
    """A linear network with a skip path: its Shapley values are known in closed form."""

    def __init__(self, m: int = 5) -> None:
        super().__init__()
        torch.manual_seed(8)
        self.a = nn.Linear(m, 3)
        self.b = nn.Linear(3, 1)
        self.skip = nn.Linear(m, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.b(self.a(x)) + self.skip(x)

    def effective_weights(self) -> np.ndarray:
        w = self.b.weight.detach().double() @ self.a.weight.detach().double() + self.skip.weight.detach().double()
        return w.numpy()[0]


def test_eager_residual_model_uses_shap_deepexplainer_and_is_additive():
    model = Residual().eval()
    X, bg = _data(25, 5, seed=100), _data(15, 5, seed=101)
    att = explain(model, X, bg, "logit")
    assert att.explainer == SHAP_DEEP and att.exact
    assert "fast path not used" in att.note
    assert att.additivity_gap <= TOL * max(1.0, np.abs(att.outputs).max())


def test_reused_layer_makes_deepexplainer_fail_and_the_sampling_fallback_take_over():
    model = Residual(shared_act=True).eval()
    X, bg = _data(8, 5, seed=110), _data(12, 5, seed=111)
    att = explain(model, X, bg, "logit")
    assert att.explainer == SAMPLED and not att.exact
    assert "DeepExplainer not used" in att.note
    assert att.additivity_gap <= TOL * max(1.0, np.abs(att.outputs).max())


def test_scripted_linear_skip_model_gets_exact_shapley_values_from_the_sampling_fallback():
    model = LinearSkip().eval()
    scripted = torch.jit.script(model)
    X, bg = _data(10, 5, seed=120), _data(20, 5, seed=121)
    att = explain(scripted, X, bg, "logit")
    assert att.explainer == SAMPLED and not att.exact
    expected = model.effective_weights() * (X.astype(np.float64) - bg.mean(axis=0))
    np.testing.assert_allclose(att.values, expected, atol=1e-5)


@pytest.mark.slow
def test_scripted_residual_fallback_is_additive_and_ranks_features_like_deepshap():
    eager = Residual(seed=9).eval()
    buf = io.BytesIO()
    torch.jit.save(torch.jit.script(eager), buf)
    scripted = torch.jit.load(io.BytesIO(buf.getvalue()))
    X, bg = _data(20, 5, seed=130), _data(20, 5, seed=131)
    approx = explain(scripted, X, bg, "logit", seed=3)
    exact = explain(eager, X, bg, "logit")
    assert approx.explainer == SAMPLED and exact.explainer == SHAP_DEEP
    assert approx.additivity_gap <= TOL * max(1.0, np.abs(approx.outputs).max())
    np.testing.assert_allclose(approx.outputs, exact.outputs, atol=1e-5)
    assert approx.base_value == pytest.approx(exact.base_value, abs=1e-5)
    shift = importance_shift(exact, approx)
    assert shift.spearman >= 0.9


def test_shap_permutation_explainer_stays_available_on_request():
    model = LinearSkip().eval()
    X, bg = _data(4, 5, seed=122), _data(10, 5, seed=123)
    att = explain(torch.jit.script(model), X, bg, "logit", method="permutation")
    assert att.explainer == SHAP_PERMUTATION and not att.exact
    expected = model.effective_weights() * (X.astype(np.float64) - bg.mean(axis=0))
    np.testing.assert_allclose(att.values, expected, atol=1e-5)


def test_permutation_fallback_is_deterministic_with_the_seed_and_restores_numpy_state():
    model = torch.jit.script(Residual(seed=11).eval())
    X, bg = _data(6, 5, seed=140), _data(10, 5, seed=141)
    np.random.seed(1234)
    state_before = np.random.get_state()[1].copy()
    a = explain(model, X, bg, "logit", seed=5, max_evals=40)
    assert np.array_equal(np.random.get_state()[1], state_before)
    b = explain(model, X, bg, "logit", seed=5, max_evals=40)
    np.testing.assert_array_equal(a.values, b.values)
    assert "seed 5" in a.note


def test_probability_model_that_is_not_a_chain_is_explained_on_the_logit_scale():
    class ProbNet(nn.Module):
        def __init__(self):
            super().__init__()
            torch.manual_seed(12)
            self.net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1))

        def forward(self, x):
            return torch.sigmoid(self.net(x))

    model = ProbNet().eval()
    X, bg = _data(6, 4, seed=150), _data(10, 4, seed=151)
    att = explain(model, X, bg, "probability")
    assert att.explainer == SAMPLED
    np.testing.assert_allclose(att.outputs, predict_logit(model.net, X, "logit"), atol=1e-4)
    assert att.additivity_gap <= TOL * max(1.0, np.abs(att.outputs).max())


def test_forcing_the_fast_path_on_a_non_chain_is_a_user_facing_error():
    with pytest.raises(ExplainError, match="fast exact attribution path"):
        explain(Residual().eval(), _data(4, 5, 1), _data(4, 5, 2), "logit", method="fast")
    with pytest.raises(ExplainError, match="DeepExplainer"):
        explain(torch.jit.script(Residual().eval()), _data(4, 5, 1), _data(4, 5, 2), "logit", method="deep")


def test_bad_inputs_and_output_kinds_are_explained_errors():
    model = bn_relu_logit()
    X, bg = _data(5, 12, 1), _data(5, 12, 2)
    with pytest.raises(ExplainError, match="needs 2"):
        explain(model, X, bg, "two_class_logits")
    with pytest.raises(ExplainError, match="missing or infinite"):
        explain(model, np.where(np.eye(5, 12, dtype=bool), np.nan, X), bg, "logit")
    with pytest.raises(ExplainError, match="inputs"):
        explain(model, X, bg[:, :6], "logit")
    with pytest.raises(ExplainError, match="failed"):
        explain(model, X[:, :6], bg[:, :6], "logit")
    with pytest.raises(ExplainError, match="method"):
        explain(model, X, bg, "logit", method="kernel")


# --------------------------------------------------------------------------- samples and grouping


def test_draw_sample_is_seeded_sorted_and_keeps_the_background_when_rows_change():
    a, b = draw_sample(1000, 500, 100, seed=3), draw_sample(1000, 500, 100, seed=3)
    np.testing.assert_array_equal(a.rows, b.rows)
    np.testing.assert_array_equal(a.background, b.background)
    assert len(np.unique(a.rows)) == 500 and np.all(np.diff(a.rows) > 0) and a.rows.max() < 1000
    assert len(np.unique(a.background)) == 100
    other = draw_sample(1000, 500, 100, seed=4)
    assert not np.array_equal(a.rows, other.rows)
    fewer = draw_sample(1000, 200, 100, seed=3)
    np.testing.assert_array_equal(fewer.background, a.background)
    small = draw_sample(40, 500, 100, seed=3)
    assert len(small.rows) == 40 and len(small.background) == 40
    assert set(a.to_frame()["role"]) == {"explained", "background"}
    with pytest.raises(ExplainError):
        draw_sample(0)


def test_explain_sample_explains_the_sampled_rows_against_the_sampled_background():
    model = bn_relu_logit()
    X = _data(300, 12, seed=160)
    sample = draw_sample(len(X), 40, 25, seed=1)
    att = explain_rows(model, X, "logit", sample)
    direct = explain(model, X[sample.rows], X[sample.background], "logit")
    np.testing.assert_array_equal(att.row_index, sample.rows)
    np.testing.assert_array_equal(att.background_index, sample.background)
    np.testing.assert_array_equal(att.inputs, X[sample.rows])
    np.testing.assert_array_equal(att.values, direct.values)
    assert not att.values.flags.writeable
    with pytest.raises(ExplainError, match="drawn from"):
        explain_rows(model, X[:100], "logit", sample)


def test_grouping_sums_dummies_into_their_variable():
    rng = np.random.default_rng(0)
    values = rng.normal(size=(4, 5))
    att = Attributions(values, 0.5, values.sum(axis=1) + 0.5, FAST_PATH, True, np.arange(4),
                       ("age", "housing=own", "housing=rent", "amount", "housing=free"))
    groups = ["age", "housing", "housing", "amount", "housing"]
    g = att.grouped(groups)
    assert g.feature_names == ("age", "housing", "amount") and g.level == "variable"
    np.testing.assert_allclose(g.values[:, 1], values[:, 1] + values[:, 2] + values[:, 4])
    np.testing.assert_allclose(g.values[:, 0], values[:, 0])
    np.testing.assert_allclose(g.values.sum(axis=1), values.sum(axis=1))
    assert g.additivity_gap < 1e-12 and g.inputs is None
    assert att.grouped(None).feature_names == att.feature_names
    with pytest.raises(ExplainError):
        att.grouped(groups[:3])
    with pytest.raises(ExplainError):
        g.grouped(["a", "b", "c"])
    long = att.to_frame()
    assert list(long.columns) == ["row", "feature", "shap"] and len(long) == 20


# --------------------------------------------------------------------------- importance shift


def _with_importance(importance, names, explainer=FAST_PATH) -> Attributions:
    """Two rows (+imp, −imp) so that mean |φ| is exactly ``importance``."""
    imp = np.asarray(importance, dtype=np.float64)
    values = np.vstack([imp, -imp])
    return Attributions(values, 0.0, values.sum(axis=1), explainer, True, np.array([3, 8]), tuple(names))


NAMES = ("f0", "f1", "f2", "f3", "f4", "f5", "f6")
ORIGINAL = [10, 5, 4, 1.0, 0.9, 0.8, 0.7]
PRUNED = [14, 5, 4, 1.0, 0.9, 0.8, 1.05]


def test_importance_shift_ranks_changes_overlap_and_correlations_on_a_hand_built_case():
    shift = importance_shift(_with_importance(ORIGINAL, NAMES), _with_importance(PRUNED, NAMES))
    t = shift.table.set_index("feature")
    assert list(shift.table["feature"]) == list(NAMES)  # ordered by original rank
    assert list(t["rank_original"]) == [1, 2, 3, 4, 5, 6, 7]
    assert list(t["rank_pruned"]) == [1, 2, 3, 5, 6, 7, 4]
    assert list(t["rank_change"]) == [0, 0, 0, -1, -1, -1, 3]
    assert t.loc["f0", "abs_change"] == pytest.approx(4.0)
    assert t.loc["f0", "rel_change"] == pytest.approx(0.4)
    assert t.loc["f6", "rel_change"] == pytest.approx(0.5)
    assert t.loc["f0", "share_original"] == pytest.approx(10 / 22.4)
    assert t.loc["f0", "share_change"] == pytest.approx(14 / 26.75 - 10 / 22.4)
    assert shift.top_overlap == {5: pytest.approx(0.8), 10: pytest.approx(1.0)}
    assert shift.spearman == pytest.approx(1 - 6 * 12 / (7 * 48))
    assert shift.kendall == pytest.approx((18 - 3) / 21)
    # every applicant has the same |φ| here, so no change is noise: f0 gains 7.7 pp of the total, f1 and f2 lose
    # 3.6 and 2.9 pp to it (≥ 1 pp), f6 climbs 3 places inside the top 10 with +0.8 pp; f3–f5 lose < 1 pp and 1 rank
    assert (t["share_change_se"] == 0).all() and t["beyond_noise"].all()
    assert shift.flagged == ("f0", "f1", "f2", "f6")
    assert t.loc["f0", "flag_reason"].startswith("share +7.7 pp")
    assert t.loc["f6", "flag_reason"].startswith("rank up 3") and "share" not in t.loc["f6", "flag_reason"]
    assert t.loc["f3", "flag_reason"] == ""
    summary = shift.summary()
    assert summary["top5_overlap"] == pytest.approx(0.8) and summary["n_flagged"] == 4
    assert set(shift.long_frame()["model"]) == {"original", "pruned"} and len(shift.long_frame()) == 14
    assert len(shift.summary_frame()) == len(summary)


def test_importance_shift_thresholds_are_parameters():
    strict = importance_shift(_with_importance(ORIGINAL, NAMES), _with_importance(PRUNED, NAMES),
                              rank_threshold=4, share_threshold=0.10)
    assert strict.flagged == ()
    loose = importance_shift(_with_importance(ORIGINAL, NAMES), _with_importance(PRUNED, NAMES),
                             rank_threshold=1, share_threshold=0.03)
    assert loose.flagged == ("f0", "f1", "f3", "f4", "f5", "f6")


def _noisy_attributions(importance, n_rows: int = 500, seed: int = 0) -> np.ndarray:
    """Per-applicant φ whose mean |φ| is about ``importance`` (half-normal rows: real samples vary)."""
    rng = np.random.default_rng(seed)
    scale = np.asarray(importance, dtype=np.float64) * np.sqrt(np.pi / 2)
    return rng.normal(size=(n_rows, len(scale))) * scale


def _att(values, names) -> Attributions:
    values = np.asarray(values, dtype=np.float64)
    return Attributions(values, 0.0, values.sum(axis=1), FAST_PATH, True, np.arange(len(values)), tuple(names))


SPREAD_NAMES = tuple(f"v{j}" for j in range(12))
SPREAD = [1.6, 1.5, 1.4, 1.3, 1.2, 1.1, 1.0, 0.9, 0.8, 0.7, 0.6, 0.25]  # distinct importances, v11 the smallest (~2 %)


def test_only_the_variable_whose_attribution_changed_is_flagged():
    """Pruning perturbs every attribution a little (paired noise) and triples one variable's: only that one is flagged.

    The others lose share to it (< 1 point each, yet beyond noise: the rows are paired) and the variables it climbs
    past move down one place: real changes, too small to matter.
    """
    rng = np.random.default_rng(1)
    phi = _noisy_attributions(SPREAD, seed=2)
    pruned = phi + rng.normal(scale=0.05, size=phi.shape)  # every variable moves a little
    pruned[:, 11] *= 3.0  # v11 really changes: ~2 % → ~6 % of the total, two places up
    shift = importance_shift(_att(phi, SPREAD_NAMES), _att(pruned, SPREAD_NAMES))
    t = shift.table.set_index("feature")
    assert shift.flagged == ("v11",)
    assert t.loc["v11", "share_change"] > 0.03 and t.loc["v11", "beyond_noise"]
    others = t.drop(index="v11")
    assert (others["share_change"].abs() < 0.01).all() and (others["rank_change"].abs() <= 1).all()


def test_identical_models_flag_nothing():
    phi = _att(_noisy_attributions(SPREAD, seed=3), SPREAD_NAMES)
    shift = importance_shift(phi, phi)
    assert shift.flagged == () and not shift.table["beyond_noise"].any()
    assert (shift.table["share_change"] == 0).all() and (shift.table["rank_change"] == 0).all()


def test_a_rank_move_within_sampling_noise_is_not_flagged():
    """v4 climbs three places among near-equal neighbours, but its mean gain comes from swings of ±1 per applicant:
    within sampling noise, so not flagged (the old rank-only rule flagged it)."""
    names = ("a", "b", "c", "d", "v4", "e")
    n = 40
    original = np.tile([5.0, 1.04, 1.03, 1.02, 1.0, 0.5], (n, 1))
    pruned = original.copy()
    pruned[:, 4] = original[:, 4] + np.where(np.arange(n) % 2 == 0, 1.0, -0.9)  # mean 1.05: v4 passes b, c and d ...
    pruned[:, 0] = 4.95  # ... while the leader drops a little, so v4's share moves by half a point only
    shift = importance_shift(_att(original, names), _att(pruned, names))
    t = shift.table.set_index("feature")
    assert t.loc["v4", "rank_change"] == 3 and abs(t.loc["v4", "share_change"]) < 0.01
    assert not t.loc["v4", "beyond_noise"] and shift.flagged == ()
    assert importance_shift(_att(original, names), _att(pruned, names), z=0).flagged == ("v4",)  # the noise test is what spares it


def test_the_flag_rule_is_stated_with_its_numbers():
    shift = importance_shift(_with_importance(ORIGINAL, NAMES), _with_importance(PRUNED, NAMES))
    assert "1.96 standard errors" in shift.rule and "1 point(s) of share" in shift.rule and "top 10" in shift.rule
    assert "2 explained applicants" in shift.rule


def test_tied_importances_share_a_rank_and_do_not_look_like_moves():
    names = ("a", "b", "c", "d")
    shift = importance_shift(_with_importance([2, 1, 1, 1], names), _with_importance([2, 1, 1, 1], names),
                             rank_threshold=1)
    assert list(shift.table["rank_original"]) == [1, 2, 2, 2]
    assert shift.flagged == () and shift.spearman == pytest.approx(1.0)


def test_importance_shift_by_variable_groups_before_taking_absolute_values():
    names = ("age", "housing=own", "housing=rent")
    original = Attributions(np.array([[1.0, 2.0, -2.0], [-1.0, -1.0, 1.0]]), 0.0, np.array([1.0, -1.0]),
                            FAST_PATH, True, np.array([0, 1]), names)
    pruned = Attributions(np.array([[1.0, 1.0, 1.0], [-1.0, 1.0, 1.0]]), 0.0, np.array([3.0, 1.0]),
                          FAST_PATH, True, np.array([0, 1]), names)
    shift = importance_shift(original, pruned, groups=["age", "housing", "housing"])
    t = shift.table.set_index("variable")
    assert shift.level == "variable"
    assert t.loc["housing", "importance_original"] == pytest.approx(0.0)  # dummies cancel per row
    assert t.loc["housing", "importance_pruned"] == pytest.approx(2.0)
    assert np.isnan(t.loc["housing", "rel_change"])


def test_importance_shift_refuses_different_applicants_or_features():
    a = _with_importance(ORIGINAL, NAMES)
    other_rows = Attributions(a.values, 0.0, a.outputs, FAST_PATH, True, np.array([3, 9]), NAMES)
    with pytest.raises(ExplainError, match="different applicants"):
        importance_shift(a, other_rows)
    with pytest.raises(ExplainError, match="different inputs"):
        importance_shift(a, _with_importance(ORIGINAL, tuple(n.upper() for n in NAMES)))


# --------------------------------------------------------------------------- one applicant


def test_applicant_comparison_shows_both_models_values_bases_and_outputs():
    model = bn_relu_logit()
    X = _data(200, 12, seed=170, n_dummies=4)
    names = [f"n{j}" for j in range(8)] + ["home=own", "home=rent", "job=a", "job=b"]
    groups = [f"n{j}" for j in range(8)] + ["home", "home", "job", "job"]
    pruned = nn.Sequential(*list(bn_relu_logit())).eval()
    with torch.no_grad():
        pruned[4].weight[:, ::2] = 0.0  # half of the first hidden layer's neurons switched off
    sample = draw_sample(len(X), 30, 20, seed=2)
    a = explain_rows(model, X, "logit", sample, feature_names=names)
    b = explain_rows(pruned, X, "logit", sample, feature_names=names)
    row = int(sample.rows[7])
    cmp = compare_applicant(a, b, row)
    assert list(cmp.table.columns) == ["feature", "value", "shap_original", "shap_pruned", "shap_change"]
    np.testing.assert_allclose(cmp.table["value"], X[row].astype(np.float64))
    np.testing.assert_allclose(cmp.table["shap_original"], a.values[7])
    np.testing.assert_allclose(cmp.table["shap_pruned"], b.values[7])
    assert cmp.output_original == pytest.approx(predict_logit(model, X[row:row + 1], "logit")[0], abs=1e-5)
    assert cmp.output_pruned == pytest.approx(predict_logit(pruned, X[row:row + 1], "logit")[0], abs=1e-5)
    assert cmp.base_value_original == a.base_value and cmp.base_value_pruned == b.base_value
    assert cmp.table["shap_pruned"].sum() == pytest.approx(cmp.output_pruned - cmp.base_value_pruned, abs=1e-5)
    assert 0 < cmp.pbad_original < 1
    by_var = compare_applicant(a, b, row, groups=groups, raw={"n0": 42})
    v = by_var.table.set_index("variable")
    assert list(v.index) == [f"n{j}" for j in range(8)] + ["home", "job"]
    assert v.loc["n0", "value"] == 42
    active_home = [c.split("=")[1] for c, x in zip(names[8:10], X[row, 8:10]) if x == 1.0]
    assert v.loc["home", "value"] == ", ".join(active_home)
    assert v.loc["home", "shap_original"] == pytest.approx(a.values[7, 8] + a.values[7, 9])
    with pytest.raises(ExplainError, match="not among"):
        compare_applicant(a, b, int(np.setdiff1d(np.arange(200), sample.rows)[0]))


# --------------------------------------------------------------------------- the sample model


@pytest.mark.slow
@pytest.mark.skipif(not SAMPLE_MODEL.exists(), reason="sample model not trained yet")
def test_sample_model_fast_path_matches_shap_and_groups_by_schema_variables():
    from core.data import prepare_dataset, read_table

    loaded = load_model(SAMPLE_MODEL.read_bytes())
    data = prepare_dataset(read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame, "creditability", "bad",
                           schema=loaded.schema)
    sample = draw_sample(data.n_rows, 60, 100, seed=0)
    att = explain_rows(loaded, data.X, "logit", sample, feature_names=data.input_names)
    assert att.explainer == FAST_PATH
    ref = shap_reference(loaded.eager, "logit", data.X[sample.rows], data.X[sample.background])
    assert np.abs(att.values - ref).max() <= TOL * np.abs(ref).max()
    grouped = att.grouped(data.groups)
    assert grouped.n_features == len(loaded.schema.features)
    np.testing.assert_allclose(grouped.values.sum(axis=1), att.values.sum(axis=1), atol=1e-9)


def test_chain_reader_refuses_what_it_cannot_walk():
    from core.explain.deepshap import UnsupportedNetwork

    with pytest.raises(UnsupportedNetwork, match="Sigmoid"):
        build_chain(bn_relu_logit(), "probability")
    with pytest.raises(UnsupportedNetwork, match="Softmax"):
        build_chain(tanh_elu_two_class(), "two_class_probabilities")
    with pytest.raises(UnsupportedNetwork, match="LayerNorm"):
        build_chain(nn.Sequential(nn.Linear(3, 3), nn.LayerNorm(3), nn.Linear(3, 1)), "logit")
    chain = build_chain(nn.Sequential(nn.Linear(3, 4), nn.ReLU(), nn.Tanh(), nn.Linear(4, 1), nn.Dropout()), "logit")
    assert chain.widths == (3, 4, 4)
    phi, f_x, f_b = deepshap(chain, _data(5, 3, 1), _data(4, 3, 2))
    assert phi.shape == (5, 3) and f_x.shape == (5,) and f_b.shape == (4,)


@pytest.mark.skipif(not SAMPLE_MODEL.exists(), reason="sample model not trained yet")
def test_a_quick_explanation_is_told_apart_by_what_is_left_to_compute(monkeypatch):
    """The Explain page skips its progress bar only when the exact path has little left to do."""
    from core.data import read_table
    from core.explain.sample import ExplainSettings
    from core.prune import PruneSpec
    from core.workspace import Setting, bind, explain_view, explains_quickly, views

    model = load_model(SAMPLE_MODEL.read_bytes())
    frame = read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame
    ws = bind(model, frame, model.schema.target, model.schema.bad_value, eval_mode="holdout")
    setting, settings = Setting(PruneSpec.make("magnitude_layer", 0.3, seed=41)), ExplainSettings(60, 40, 0)
    assert explains_quickly(ws, setting, settings)  # a 6,000-weight chain: well within the budget
    monkeypatch.setattr(views, "QUICK_EXPLAIN_MULTIPLY_ADDS", 1.0)
    assert not explains_quickly(ws, setting, settings)
    explain_view(ws, setting, settings)
    assert explains_quickly(ws, setting, settings)  # both models explained on this sample: nothing left
