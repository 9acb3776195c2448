"""Pruning engine (issue 3): exact sparsity, overrides, compaction, immutability, determinism,
fine-tuning, input pruning, export round trips, honest sizes and sweeps.

Every model here is built in the test (four architectures) except one end-to-end check on the
sample model. Models are tiny so the whole file runs in seconds.
"""
from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import torch
from torch import nn

from core.data import FeatureSchema, FeatureSpec
from core.errors import SpecError
from core.model import LoadedModel, load_model, model_to_bytes, module_hash, predict_pbad, raw_outputs
from core.prune import (
    COMPACTED,
    MASKED,
    FineTuneSpec,
    PruneSpec,
    fine_tune,
    input_importance,
    layer_sensitivity,
    linear_weights,
    make_context,
    measure_size,
    pareto_front,
    prunable_layers,
    prune,
    sweep,
)

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one torch thread

N_IN = 8
N_ROWS = 300


# --------------------------------------------------------------------------- models and data


def _load(module: nn.Module, schema: FeatureSchema | None = None, name: str = "m.pt") -> LoadedModel:
    scripted = torch.jit.script(module.eval())
    return load_model(model_to_bytes(scripted, schema), name)


def plain_mlp(n_in: int = N_IN, hidden: tuple[int, ...] = (16, 12), out: int = 1, seed: int = 0) -> nn.Module:
    torch.manual_seed(seed)
    layers: list[nn.Module] = []
    width = n_in
    for h in hidden:
        layers += [nn.Linear(width, h), nn.ReLU()]
        width = h
    layers.append(nn.Linear(width, out))
    return nn.Sequential(*layers).eval()


def bn_mlp(n_in: int = N_IN, seed: int = 1) -> nn.Module:
    torch.manual_seed(seed)
    m = nn.Sequential(
        nn.Linear(n_in, 16), nn.BatchNorm1d(16), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(16, 10), nn.BatchNorm1d(10), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(10, 1),
    ).eval()
    with torch.no_grad():  # non-trivial statistics so BatchNorm matters for zeroed neurons
        for bn in (m[1], m[5]):
            bn.running_mean.uniform_(-0.5, 0.5)
            bn.running_var.uniform_(0.5, 2.0)
            bn.weight.uniform_(0.5, 1.5)
            bn.bias.uniform_(-0.3, 0.3)
    return m


class ResidualMLP(nn.Module):
    """Not a chain: the skip connection means no eager Sequential twin can exist."""

    def __init__(self, n_in: int = N_IN, width: int = 12) -> None:
        super().__init__()
        self.inp = nn.Linear(n_in, width)
        self.block = nn.Linear(width, width)
        self.act = nn.ReLU()
        self.out = nn.Linear(width, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = self.act(self.inp(x))
        return self.out(h + self.act(self.block(h)))


def residual_mlp(seed: int = 2) -> nn.Module:
    torch.manual_seed(seed)
    return ResidualMLP().eval()


def two_class_mlp(seed: int = 3) -> nn.Module:
    torch.manual_seed(seed)
    return nn.Sequential(nn.Linear(N_IN, 16), nn.ReLU(), nn.Linear(16, 12), nn.Tanh(), nn.Linear(12, 2)).eval()


ARCHS = {"plain": plain_mlp, "batchnorm": bn_mlp, "residual": residual_mlp, "two_class": two_class_mlp}
KIND = {"plain": "logit", "batchnorm": "logit", "residual": "logit", "two_class": "two_class_logits"}
CHAINS = ("plain", "batchnorm", "two_class")



@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(N_ROWS, N_IN)).astype(np.float32)
    logit = X @ rng.normal(size=N_IN) * 0.8 - 0.5
    y = (rng.random(N_ROWS) < 1 / (1 + np.exp(-logit))).astype(int)
    return X, y


@pytest.fixture(scope="module")
def models() -> dict[str, LoadedModel]:
    return {k: _load(f()) for k, f in ARCHS.items()}


def _raw(module: nn.Module, X: np.ndarray) -> torch.Tensor:
    with torch.inference_mode():
        return module(torch.from_numpy(X)).detach().clone()


def _n_params(module: nn.Module) -> int:
    return int(sum(p.numel() for p in module.parameters()))


def _hidden_linears(module: nn.Module) -> list[nn.Module]:
    return [m for m in module.modules() if isinstance(m, nn.Linear) or getattr(m, "original_name", "") == "Linear"]


# --------------------------------------------------------------------------- unstructured sparsity


@pytest.mark.parametrize("arch", ["plain", "batchnorm", "residual", "two_class"])
@pytest.mark.parametrize("method", ["magnitude_layer", "random"])
@pytest.mark.parametrize("ratio", [0.1, 0.5, 0.9])
def test_unstructured_sparsity_equals_requested_ratio_in_every_layer(models, arch, method, ratio):
    model = models[arch]
    result = prune(model, PruneSpec.make(method, ratio, seed=7))
    assert result.state == MASKED
    weights = linear_weights(result.module)
    assert len(weights) == len(prunable_layers(model)) == len(result.layers)
    for w, stats in zip(weights, result.layers):
        total = w.size
        expected_zeros = ratio * total
        zeros = int((w == 0).sum())
        assert abs(zeros - expected_zeros) <= 1, (stats.name, zeros, expected_zeros)
        assert stats.total_weights == total
        assert stats.nonzero_weights == total - zeros
        assert stats.sparsity == pytest.approx(zeros / total)
    assert result.sparsity == pytest.approx(ratio, abs=len(weights) / sum(w.size for w in weights))


def test_magnitude_layer_removes_the_smallest_weights(models):
    model = models["plain"]
    before = linear_weights(model.module)
    after = linear_weights(prune(model, PruneSpec.make("magnitude_layer", 0.5)).module)
    for w0, w1 in zip(before, after):
        removed, kept = np.abs(w0[w1 == 0]), np.abs(w0[w1 != 0])
        assert removed.max() <= kept.min()
        np.testing.assert_array_equal(w1[w1 != 0], w0[w1 != 0])  # kept weights untouched


@pytest.mark.parametrize("kind", ["distinct", "ties", "all equal", "with NaN"])
def test_mask_lowest_removes_exactly_the_first_k_of_a_stable_sort(kind):
    """The linear-time partition removes the same weights as a stable argsort: ties at the threshold in index order."""
    from core.prune.function import mask_lowest

    rng = np.random.default_rng(5)
    for trial in range(40):
        v = rng.random((int(rng.integers(1, 30)), int(rng.integers(1, 30)))).astype(np.float32)
        if kind == "ties":
            v = np.round(v, 1)
        elif kind == "all equal":
            v[...] = 0.0
        elif kind == "with NaN":
            v.flat[int(rng.integers(0, v.size))] = np.nan
        for k in sorted({0, 1, v.size // 3, v.size // 2, v.size - 1, v.size}):
            expected = np.ones(v.size, dtype=bool)
            expected[np.argsort(v.reshape(-1), kind="stable")[:k]] = False
            got = mask_lowest(torch.from_numpy(v), k)
            assert got.shape == v.shape and int((~got).sum()) == k
            np.testing.assert_array_equal(got.numpy().reshape(-1), expected, err_msg=f"{kind} trial {trial} k={k}")


def _lopsided_model() -> LoadedModel:
    """Middle layer's weights are 20× larger than the others'."""
    m = plain_mlp(seed=11)
    with torch.no_grad():
        m[2].weight.mul_(20.0)
    return _load(m)


def test_global_magnitude_reaches_global_ratio_but_spares_the_large_layer():
    model = _lopsided_model()
    glob = prune(model, PruneSpec.make("magnitude_global", 0.5))
    per_layer = prune(model, PruneSpec.make("magnitude_layer", 0.5))
    total = sum(l.total_weights for l in glob.layers)
    zeros = sum(l.total_weights - l.nonzero_weights for l in glob.layers)
    assert abs(zeros - 0.5 * total) <= 1
    big = {l.name: l.sparsity for l in glob.layers}["2"]
    big_layerwise = {l.name: l.sparsity for l in per_layer.layers}["2"]
    assert big < 0.25 < 0.45 < big_layerwise  # global spares the large layer (layer-wise: half)
    others = [l.sparsity for l in glob.layers if l.name != "2"]
    assert min(others) > 0.6  # ... and prunes the small layers harder to make up for it


# --------------------------------------------------------------------------- overrides


def test_per_layer_overrides_apply_and_others_use_the_global_ratio(models):
    model = models["plain"]
    result = prune(model, PruneSpec.make("magnitude_layer", 0.5, {"0": 0.2, "4": 0.0}))
    by = {l.name: l for l in result.layers}
    assert abs((by["0"].total_weights - by["0"].nonzero_weights) - 0.2 * by["0"].total_weights) <= 1
    assert by["2"].sparsity == pytest.approx(0.5, abs=1 / by["2"].total_weights)
    assert by["4"].sparsity == 0.0


def test_overridden_layer_is_left_out_of_the_global_pool():
    model = _lopsided_model()
    result = prune(model, PruneSpec.make("magnitude_global", 0.5, {"2": 0.75}))
    by = {l.name: l for l in result.layers}
    assert abs((by["2"].total_weights - by["2"].nonzero_weights) - 0.75 * by["2"].total_weights) <= 1
    pooled = [l for l in result.layers if l.name != "2"]
    zeros = sum(l.total_weights - l.nonzero_weights for l in pooled)
    assert abs(zeros - 0.5 * sum(l.total_weights for l in pooled)) <= 1


def test_neuron_overrides_set_each_layers_share_of_neurons(models):
    model = models["plain"]  # hidden 16 and 12
    result = prune(model, PruneSpec.make("neuron_l1", 0.5, {"2": 0.25}))
    widths = [l.out_features for l in _hidden_linears(result.module)]
    assert widths == [8, 9, 1]


@pytest.mark.parametrize("bad", [-0.1, 1.0, 1.5, float("nan")])
def test_out_of_range_override_raises_and_names_the_layer(models, bad):
    with pytest.raises(SpecError, match="layer '2'"):
        prune(models["plain"], PruneSpec.make("magnitude_layer", 0.5, {"2": bad}))


# --------------------------------------------------------------------------- structured compaction


@pytest.mark.parametrize("arch", CHAINS)
@pytest.mark.parametrize("method", ["neuron_l1", "neuron_l2"])
def test_compacted_model_is_smaller_and_matches_its_masked_twin(models, data, arch, method):
    X, _ = data
    model = models[arch]
    result = prune(model, PruneSpec.make(method, 0.5))
    assert result.state == COMPACTED
    assert not isinstance(result.module, torch.jit.ScriptModule)
    assert _n_params(result.module) < model.n_parameters  # really dropped, not silently skipped
    assert result.size.parameters == _n_params(result.module) < result.original_size.parameters
    assert _n_params(result.masked_module) == model.n_parameters  # the twin keeps the shapes
    diff = (_raw(result.module, X) - _raw(result.masked_module, X)).abs().max().item()
    assert diff <= 1e-6
    # every hidden layer lost exactly half of its neurons; the output units all stay
    orig = [l.out_features for l in prunable_layers(model)]
    now = [l.out_features for l in _hidden_linears(result.module)]
    assert now[:-1] == [o - round(0.5 * o) for o in orig[:-1]]
    assert now[-1] == orig[-1]
    # the twin has whole neurons zeroed: the counts line up with the compacted widths
    assert [l.neurons_kept for l in result.layers[:-1]] == now[:-1]


@pytest.mark.parametrize("arch", ["plain", "residual"])
@pytest.mark.parametrize("method", ["neuron_l1", "neuron_l2"])
def test_neuron_methods_remove_the_weakest_neurons(arch, method):
    """Neurons 3, 7, 9 and 12 of the first hidden layer carry almost no weight in or out."""
    weak = [3, 7, 9, 12]
    torch.manual_seed(8)
    m = plain_mlp(hidden=(16, 16), seed=8) if arch == "plain" else ResidualMLP(width=16).eval()
    first, second = (m[0], m[2]) if arch == "plain" else (m.inp, m.block)
    with torch.no_grad():
        first.weight[weak] *= 0.01  # advanced indexing: assign, a .mul_ would hit a copy
        first.bias[weak] *= 0.01
        second.weight[:, weak] *= 0.01
    result = prune(_load(m), PruneSpec.make(method, 0.25, {"2" if arch == "plain" else "block": 0.0}))
    dead = np.where(~linear_weights(result.masked_module)[0].any(axis=1))[0]
    assert list(dead) == weak


@pytest.mark.parametrize("method", ["neuron_l1", "neuron_l2"])
def test_residual_model_falls_back_to_masking_whole_neurons(models, data, method):
    X, _ = data
    model = models["residual"]
    assert model.eager is None
    result = prune(model, PruneSpec.make(method, 0.5))
    assert result.state == MASKED
    assert "masked" in result.state_note and "not a plain chain" in result.state_note
    assert result.module is result.masked_module
    assert _n_params(result.module) == model.n_parameters
    inp, block, out = linear_weights(result.module)
    for w in (inp, block):  # half of each hidden layer's neurons have all incoming weights zero
        assert int((~w.any(axis=1)).sum()) == 6
    assert out.any(axis=1).all()  # the output unit stays
    biases = dict(result.module.named_parameters())
    assert int((biases["inp.bias"] == 0).sum()) == 6
    assert np.isfinite(predict_pbad(result.module, X, "logit")).all()


@pytest.mark.parametrize("ratio", [0.5, 0.9])
def test_output_units_of_a_two_class_model_are_never_removed(models, data, ratio):
    X, _ = data
    result = prune(models["two_class"], PruneSpec.make("neuron_l1", ratio))
    assert _hidden_linears(result.module)[-1].out_features == 2
    assert result.layers[-1].neurons_kept == 2
    p = predict_pbad(result.module, X, "two_class_logits")
    assert p.shape == (len(X),) and np.isfinite(p).all()


# --------------------------------------------------------------------------- input variables

GROUPS = ["a", "a", "a", "b", "c", "c", "d", "e"]
INPUT_NAMES = ["a=x", "a=y", "a=z", "b", "c=p", "c=q", "d", "e"]


def _input_model() -> LoadedModel:
    """Variables c and e barely reach the first layer, so they are the least important."""
    m = plain_mlp(seed=5)
    with torch.no_grad():
        m[0].weight[:, 4:6].mul_(0.01)
        m[0].weight[:, 7].mul_(0.001)
    return _load(m)


@pytest.mark.parametrize("arch", ["chain", "residual"])
def test_input_pruning_drops_the_least_important_variables_with_all_their_dummies(data, arch):
    X, _ = data
    if arch == "chain":
        model = _input_model()
    else:
        r = residual_mlp()
        with torch.no_grad():
            r.inp.weight[:, 4:6].mul_(0.01)
            r.inp.weight[:, 7].mul_(0.001)
        model = _load(r)
    result = prune(model, PruneSpec.make("input_features", 0.4), X_reference=X, groups=GROUPS, input_names=INPUT_NAMES)
    assert result.dropped_variables == ("c", "e")  # 0.4 × 5 variables = 2
    assert result.dropped_inputs == ("c=p", "c=q", "e")
    # a chain loses the columns (their reference values folded into the bias); another network keeps
    # its weights and is fed the reference values inside: masked, but its interface still shrinks
    assert result.state == (COMPACTED if arch == "chain" else MASKED)
    assert result.input_keep == (0, 1, 2, 3, 6)
    assert _raw(result.shipped, result.inputs_for(X)).shape == (len(X), 1)
    if arch == "chain":
        first = linear_weights(result.masked_module)[0]
        assert not first[:, [4, 5, 7]].any() and first[:, [0, 1, 2, 3, 6]].all()
    # the full-interface in-app module ignores the dropped columns
    out = _raw(result.module, X)
    assert torch.allclose(out, _raw(result.masked_module, X), atol=1e-6, rtol=0)
    # changing the dropped columns changes nothing; changing a kept one does
    X2 = X.copy()
    X2[:, [4, 5, 7]] = np.random.default_rng(1).normal(size=(len(X), 3)) * 10
    assert torch.equal(_raw(result.module, X2), out)
    X3 = X.copy()
    X3[:, 3] += 5
    assert not torch.equal(_raw(result.module, X3), out)


def test_input_pruning_behind_a_leading_batchnorm_judges_and_compacts_what_the_layer_sees(data):
    """BatchNorm on the raw inputs divides input 2 by 100: it barely reaches the first layer."""
    X, _ = data
    torch.manual_seed(6)
    net = nn.Sequential(nn.BatchNorm1d(N_IN), nn.Linear(N_IN, 16), nn.ReLU(), nn.Linear(16, 1)).eval()
    with torch.no_grad():
        net[0].running_var.fill_(1.0)
        net[0].running_var[2] = 1e4
        net[0].running_mean.uniform_(-0.5, 0.5)
    model = _load(net)
    result = prune(model, PruneSpec.make("input_features", 0.125), X_reference=X)
    assert result.dropped_inputs == ("input 2",)
    assert result.state == COMPACTED
    assert _hidden_linears(result.module)[0].in_features == N_IN - 1
    assert torch.allclose(_raw(result.module, X), _raw(result.masked_module, X), atol=1e-6, rtol=0)
    assert torch.equal(_raw(model.module, X), _raw(net, X))  # the upload is untouched


def test_compacted_input_model_has_a_smaller_first_layer(data):
    X, _ = data
    model = _input_model()
    result = prune(model, PruneSpec.make("input_features", 0.4), X_reference=X, groups=GROUPS, input_names=INPUT_NAMES)
    first = _hidden_linears(result.module)[0]
    assert first.in_features == 5
    assert result.size.parameters == model.n_parameters - 3 * 16
    assert result.size.multiply_adds < result.original_size.multiply_adds


def test_input_importance_pools_dummies_and_weights_by_spread(data):
    X, _ = data
    model = _input_model()
    variables, imp = input_importance(model, X, GROUPS)
    assert variables == ["a", "b", "c", "d", "e"]
    w = linear_weights(model.module)[0].astype(np.float64)
    per_input = np.sqrt((w ** 2).sum(axis=0)) * X.astype(np.float64).std(axis=0)
    assert imp[0] == pytest.approx(np.sqrt((per_input[:3] ** 2).sum()))
    # an input that never varies is worthless however large its weight
    X_const = X.copy()
    X_const[:, 3] = 1.0
    _, imp_const = input_importance(model, X_const, GROUPS)
    assert imp_const[1] == 0.0


def test_input_pruning_without_groups_treats_each_input_as_a_variable(data):
    X, _ = data
    model = _input_model()
    result = prune(model, PruneSpec.make("input_features", 0.25), X_reference=X)  # 2 of 8 inputs
    per_input = np.sqrt((linear_weights(model.module)[0].astype(np.float64) ** 2).sum(axis=0)) * X.std(axis=0)
    weakest = sorted(int(j) for j in np.argsort(per_input)[:2])
    assert result.dropped_variables == result.dropped_inputs == tuple(f"input {j}" for j in weakest)
    assert "input 7" in result.dropped_inputs  # scaled by 0.001: always among the weakest


def test_input_pruning_refuses_per_layer_overrides_and_wrong_group_count(data):
    X, _ = data
    model = _input_model()
    with pytest.raises(SpecError, match="Per-layer"):
        prune(model, PruneSpec.make("input_features", 0.4, {"0": 0.5}))
    with pytest.raises(SpecError, match="input groups"):
        prune(model, PruneSpec.make("input_features", 0.4), X_reference=X, groups=GROUPS[:-1])
    with pytest.raises(SpecError, match="reference rows"):
        prune(model, PruneSpec.make("input_features", 0.4), X_reference=X[:, :5], groups=GROUPS)


def test_input_pruning_key_depends_on_the_reference_rows(data):
    X, _ = data
    model = _input_model()
    spec = PruneSpec.make("input_features", 0.4)
    a = prune(model, spec, X_reference=X, groups=GROUPS)
    b = prune(model, spec, X_reference=X.copy(), groups=list(GROUPS))
    c = prune(model, spec, X_reference=X[:100], groups=GROUPS)
    assert a.key == b.key != c.key
    plain = prune(model, PruneSpec.make("magnitude_layer", 0.4), X_reference=X)
    assert plain.key == prune(model, PruneSpec.make("magnitude_layer", 0.4), X_reference=X[:100]).key


def test_input_pruning_always_keeps_one_variable(data):
    X, _ = data
    result = prune(_input_model(), PruneSpec.make("input_features", 0.99), X_reference=X, groups=GROUPS)
    assert len(result.dropped_variables) == 4


# --------------------------------------------------------------------------- immutability, determinism


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("method", ["magnitude_layer", "magnitude_global", "random", "neuron_l1", "neuron_l2", "input_features"])
def test_pruning_never_touches_the_loaded_model_or_the_inputs(models, data, arch, method):
    X, _ = data
    model = models[arch]
    X_before = X.copy()
    groups = list(GROUPS)
    hashes = (module_hash(model.scripted), module_hash(model.eager) if model.eager is not None else None)
    out_before = _raw(model.scripted, X)
    result = prune(model, PruneSpec.make(method, 0.5, seed=3), X_reference=X, groups=groups)
    assert (module_hash(model.scripted), module_hash(model.eager) if model.eager is not None else None) == hashes
    assert torch.equal(_raw(model.scripted, X), out_before)
    np.testing.assert_array_equal(X, X_before)
    assert groups == GROUPS
    assert result.module is not model.scripted and result.module is not model.eager


@pytest.mark.parametrize("arch", list(ARCHS))
@pytest.mark.parametrize("method", ["magnitude_global", "random", "neuron_l2", "input_features"])
def test_same_spec_and_seed_give_identical_masks_and_predictions(models, data, arch, method):
    X, _ = data
    spec = PruneSpec.make(method, 0.5, seed=4)
    a = prune(models[arch], spec, X_reference=X, groups=GROUPS)
    b = prune(models[arch], spec, X_reference=X, groups=GROUPS)
    assert a.masks.keys() == b.masks.keys()
    assert all(torch.equal(a.masks[k], b.masks[k]) for k in a.masks)
    assert torch.equal(_raw(a.module, X), _raw(b.module, X))
    assert a.key == b.key


def test_random_pruning_with_another_seed_gives_other_masks(models):
    a = prune(models["plain"], PruneSpec.make("random", 0.5, seed=1))
    b = prune(models["plain"], PruneSpec.make("random", 0.5, seed=2))
    assert a.masks.keys() == b.masks.keys()
    assert all(not torch.equal(a.masks[k], b.masks[k]) for k in a.masks)
    assert a.key != b.key


def test_masks_mark_exactly_the_zeroed_weights(models):
    result = prune(models["batchnorm"], PruneSpec.make("random", 0.3, seed=9))
    params = dict(result.module.named_parameters())
    for name, mask in result.masks.items():
        assert mask.dtype == torch.bool and mask.shape == params[name].shape
        assert torch.equal(params[name] != 0, mask)


# --------------------------------------------------------------------------- fine-tuning

FT = FineTuneSpec(epochs=3, learning_rate=1e-2, batch_size=32, seed=0)


@pytest.mark.parametrize("arch", list(ARCHS))
def test_fine_tuning_keeps_pruned_weights_zero_and_moves_the_kept_ones(models, data, arch):
    X, y = data
    result = prune(models[arch], PruneSpec.make("magnitude_layer", 0.3))
    before = {n: p.detach().clone() for n, p in result.module.named_parameters()}
    calls = []
    tuned = fine_tune(result, X, y, KIND[arch], FT, progress=lambda e, n, what: calls.append((e, n, what)))
    assert [c[:2] for c in calls] == [(1, 3), (2, 3), (3, 3)]
    assert all(np.isfinite(float(c[2].rsplit(" ", 1)[-1])) for c in calls)  # '… training loss 0.4321'
    params = dict(tuned.module.named_parameters())
    for name, mask in result.masks.items():
        assert torch.all(params[name][~mask] == 0)  # exactly zero, not merely small
        moved = (params[name][mask] != before[name][mask]).float().mean().item()
        # kept weights train (a unit whose outgoing weights were all pruned gets no gradient)
        assert moved > 0.5, (name, moved)
    for name, p in result.module.named_parameters():  # the input result is untouched
        assert torch.equal(p, before[name])
    assert tuned.fine_tuned["epochs"] == 3 and len(tuned.fine_tuned["loss_history"]) == 3
    assert tuned.masked_module is tuned.module
    assert tuned.size.nonzeros == result.size.nonzeros
    assert tuned.key != result.key


def test_fine_tuning_a_scripted_model_leaves_the_upload_without_gradients(data):
    X, y = data
    model = _load(residual_mlp())
    before = module_hash(model.scripted)
    tuned = fine_tune(prune(model, PruneSpec.make("neuron_l1", 0.5)), X, y, "logit", FT)
    assert all(p.grad is None for p in model.scripted.parameters())
    assert module_hash(model.scripted) == before
    assert all(p.is_leaf for p in tuned.module.parameters())


def test_fine_tuning_is_deterministic_for_a_seed(models, data):
    X, y = data
    result = prune(models["batchnorm"], PruneSpec.make("random", 0.5, seed=1))
    a = fine_tune(result, X, y, "logit", FT)
    b = fine_tune(result, X, y, "logit", FT)
    c = fine_tune(result, X, y, "logit", FineTuneSpec(epochs=3, learning_rate=1e-2, batch_size=32, seed=1))
    assert torch.equal(_raw(a.module, X), _raw(b.module, X))
    assert a.module.state_dict().keys() == b.module.state_dict().keys()
    assert all(torch.equal(v, b.module.state_dict()[k]) for k, v in a.module.state_dict().items())
    assert not torch.equal(_raw(a.module, X), _raw(c.module, X))


def test_fine_tuning_leaves_the_global_random_state_alone(models, data):
    X, y = data
    result = prune(models["plain"], PruneSpec.make("magnitude_layer", 0.5))
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    fine_tune(result, X, y, "logit", FT)
    assert torch.equal(torch.rand(3), expected)


def test_fine_tuning_a_compacted_model_drops_the_stale_twin(models, data):
    X, y = data
    result = prune(models["two_class"], PruneSpec.make("neuron_l1", 0.5))
    tuned = fine_tune(result, X, y, "two_class_logits", FT)
    assert tuned.state == COMPACTED and tuned.masked_module is None
    assert tuned.size.parameters == result.size.parameters
    assert not torch.equal(_raw(tuned.module, X), _raw(result.module, X))


def test_fine_tune_spec_is_validated(models, data):
    X, y = data
    result = prune(models["plain"], PruneSpec.make("magnitude_layer", 0.5))
    for bad in (FineTuneSpec(epochs=0), FineTuneSpec(learning_rate=0.0), FineTuneSpec(batch_size=1)):
        with pytest.raises(SpecError):
            fine_tune(result, X, y, "logit", bad)


def test_fine_tuning_refuses_rows_that_do_not_fit(models, data):
    X, y = data
    result = prune(models["plain"], PruneSpec.make("magnitude_layer", 0.5))
    with pytest.raises(SpecError, match="do not fit"):
        fine_tune(result, X[:, :5], y, "logit", FT)
    X_nan = X.copy()
    X_nan[3, 2] = np.nan
    with pytest.raises(SpecError, match="missing or infinite"):
        fine_tune(result, X_nan, y, "logit", FT)
    with pytest.raises(SpecError, match="too few"):
        fine_tune(result, X[:1], y[:1], "logit", FT)


# --------------------------------------------------------------------------- export and sizes


def _schema() -> FeatureSchema:
    return FeatureSchema(
        (FeatureSpec("a", "categorical", categories=("x", "y", "z")), FeatureSpec("b", "numeric", 1.0, 2.0),
         FeatureSpec("c", "categorical", categories=("p", "q")), FeatureSpec("d", "numeric"), FeatureSpec("e", "numeric")),
        target="default", bad_value="yes", split_seed=7,
    )


@pytest.mark.parametrize("arch,method", [
    ("plain", "magnitude_layer"), ("plain", "neuron_l1"), ("batchnorm", "neuron_l2"), ("batchnorm", "random"),
    ("residual", "neuron_l1"), ("residual", "magnitude_global"), ("two_class", "neuron_l2"),
    ("plain", "input_features"),
])
def test_pruned_model_exports_as_torchscript_and_reloads_identically(data, arch, method):
    X, _ = data
    schema = _schema()
    model = _load(ARCHS[arch](), schema)
    result = prune(model, PruneSpec.make(method, 0.5), X_reference=X, groups=schema.groups, input_names=schema.input_names)
    assert result.schema == schema
    blob = model_to_bytes(result.shipped, result.export_schema)
    reloaded = load_model(blob, "pruned.pt")
    if method == "input_features":  # the export reads only the kept variables and says what fills the others
        assert reloaded.schema.raw_columns == [v for v in schema.raw_columns if v not in result.dropped_variables]
        assert [d["name"] for d in reloaded.schema.extra["dropped_variables"]] == list(result.dropped_variables)
        assert reloaded.n_inputs == len(result.input_keep) < N_IN
    else:
        assert reloaded.schema == schema
        assert reloaded.n_inputs == N_IN
    expected = _raw(result.module, X)
    assert torch.equal(_raw(reloaded.scripted, result.inputs_for(X)), expected)
    assert torch.equal(_raw(reloaded.module, result.inputs_for(X)), expected)
    assert reloaded.n_parameters == result.size.parameters
    assert len(blob) == result.size.file_bytes


@pytest.mark.parametrize("arch", list(ARCHS))
def test_file_bytes_reused_by_structure_equal_a_fresh_save_of_every_setting(data, arch):
    """A slider move reuses the file length measured for the same structure: it must equal saving the new model."""
    from core.prune import size as size_module

    X, _ = data
    schema = _schema()
    model = _load(ARCHS[arch](), schema)
    size_module._FILE_BYTES.clear()
    keys = set()
    for method, ratio in [("magnitude_layer", 0.2), ("magnitude_layer", 0.7), ("random", 0.5), ("neuron_l1", 0.25),
                          ("neuron_l1", 0.5), ("input_features", 0.3)]:
        result = prune(model, PruneSpec.make(method, ratio), X_reference=X, groups=schema.groups, input_names=schema.input_names)
        assert result.size.file_bytes == len(model_to_bytes(result.shipped, result.export_schema)), (method, ratio)
        keys.add((result.state, method.startswith("neuron"), size_module.structure_key(result.shipped, result.export_schema)))
    masked = {k for s, n, k in keys if s == "masked" and not n}
    assert len(masked) <= 1  # every weight-masked copy has one structure: measured once


def test_structure_key_changes_with_anything_that_changes_the_file_length():
    from core.prune.size import structure_key

    base = plain_mlp()
    key = structure_key(base, None)
    assert key is not None and key == structure_key(plain_mlp(seed=9), None)  # other weights, same structure
    assert structure_key(plain_mlp(hidden=(16, 11)), None) != key  # a removed neuron
    assert structure_key(base, _schema()) != key  # the schema is embedded
    odd = plain_mlp()
    odd[0].in_features = 999  # a scalar attribute TorchScript writes out
    assert structure_key(odd, None) != key
    listed = plain_mlp()
    listed.sizes = [16, 12]  # a list of numbers is written by value, too
    relisted = plain_mlp()
    relisted.sizes = [16, 120]
    assert structure_key(listed, None) != structure_key(relisted, None)
    tied = plain_mlp()
    tied.extra = nn.Linear(12, 16)
    tied.extra.weight = tied[2].weight  # a shared tensor is saved once
    untied = plain_mlp()
    untied.extra = nn.Linear(12, 16)
    untied.extra.weight = nn.Parameter(untied[2].weight.detach().clone())
    assert structure_key(tied, None) != structure_key(untied, None)
    assert structure_key(torch.jit.script(base), None) is None  # a ScriptModule is measured directly


def test_original_size_is_measured_once_per_model(models):
    a = prune(models["plain"], PruneSpec.make("magnitude_layer", 0.5))
    b = prune(models["plain"], PruneSpec.make("neuron_l1", 0.3))
    assert a.original_size is b.original_size
    assert a.original_size == measure_size(models["plain"].module, None)


def test_sizes_are_counted_for_masked_and_compacted_models(models):
    model = models["batchnorm"]
    masked = prune(model, PruneSpec.make("magnitude_layer", 0.5))
    compact = prune(model, PruneSpec.make("neuron_l1", 0.5))
    orig = masked.original_size
    assert orig == measure_size(model.module, None)
    assert orig.parameters == model.n_parameters == orig.nonzeros
    assert orig.multiply_adds == sum(w.size for w in linear_weights(model.module))
    assert orig.file_bytes == len(model_to_bytes(model.module))
    # masked: dense size and compute unchanged, only the non-zeros drop
    assert masked.size.parameters == orig.parameters and masked.size.dense_bytes == orig.dense_bytes
    assert masked.size.multiply_adds == orig.multiply_adds
    assert abs(masked.size.file_bytes - orig.file_bytes) < 0.01 * orig.file_bytes
    zeros = sum(l.total_weights - l.nonzero_weights for l in masked.layers)
    assert masked.size.nonzeros == orig.nonzeros - zeros
    # compacted: everything shrinks, and the numbers are the module's own
    assert compact.size.parameters == _n_params(compact.module) < orig.parameters
    assert compact.size.nonzeros <= compact.size.parameters
    assert compact.size.dense_bytes < orig.dense_bytes
    assert compact.size.file_bytes < orig.file_bytes
    assert compact.size.file_bytes == len(model_to_bytes(compact.module))
    assert compact.size.multiply_adds == sum(w.size for w in linear_weights(compact.module)) < orig.multiply_adds
    frame = compact.size_frame()
    assert list(frame["quantity"]) == ["parameters", "nonzeros", "dense_bytes", "file_bytes", "multiply_adds"]
    assert (frame["change"] < 0).all()
    layers = compact.layer_frame()
    assert list(layers["layer"]) == ["0", "4", "8"]  # the keys of overrides and masks stay the module names ...
    widths = [f"{a}→{b}" for a, b in zip(layers["inputs_total"], layers["neurons_total"])]
    assert list(layers["label"]) == [f"Linear {w} (#{n})" for w, n in zip(widths, ["0", "4", "8"])]  # ... read as type, width, place


def test_a_named_layer_keeps_its_name_in_its_label():
    from core.prune.structure import layer_label

    assert layer_label("fc1", 61, 64) == "Linear 61→64 (fc1)" and layer_label("4", 64, 32) == "Linear 64→32 (#4)"


# --------------------------------------------------------------------------- sweep


def test_pareto_front_marks_exactly_the_non_dominated_points():
    frame = pd.DataFrame({
        "nonzeros": [10, 20, 30, 20, 40, 5, 40],
        "auc": [0.70, 0.80, 0.75, 0.78, 0.85, 0.60, 0.85],
        "brier": [0.20, 0.15, 0.10, 0.18, 0.19, 0.25, 0.30],
    })
    assert list(pareto_front(frame, "nonzeros", "auc")) == [True, True, False, False, True, True, False]
    # lower is better for the Brier score: the smaller and better-calibrated points survive
    assert list(pareto_front(frame, "nonzeros", "brier")) == [True, True, True, False, False, True, False]
    with pytest.raises(SpecError):
        pareto_front(frame, "nonzeros", "no_such_metric")


def _brute_force_front(frame: pd.DataFrame, size: str, metric: str) -> list[bool]:
    out = []
    for i in range(len(frame)):
        s, v = frame[size].iloc[i], frame[metric].iloc[i]
        dominated = any(
            (frame[size].iloc[j] <= s and frame[metric].iloc[j] >= v) and (frame[size].iloc[j] < s or frame[metric].iloc[j] > v)
            for j in range(len(frame)) if j != i
        )
        out.append(not dominated)
    return out


@pytest.mark.parametrize("arch", ["batchnorm", "residual"])
def test_sweep_has_a_row_per_method_and_ratio_with_a_pareto_column(models, data, arch):
    X, y = data
    model = models[arch]
    ctx = make_context(model, X, y, "logit")
    calls = []
    methods, ratios = ("magnitude_layer", "random", "neuron_l1"), (0.0, 0.3, 0.6, 0.9)
    res = sweep(model, ctx, methods=methods, ratios=ratios, seed=1, progress=lambda d, t, what: calls.append((d, t, what)))
    table = res.table
    assert len(table) == 12
    assert sorted(zip(table["method"], table["ratio"])) == sorted((m, r) for m in methods for r in ratios)
    assert [c[:2] for c in calls] == [(i, 12) for i in range(1, 13)]
    for col in ("parameters", "nonzeros", "file_bytes", "auc", "ks", "accuracy", "delta_auc", "flips", "psi", "pareto"):
        assert col in table
    assert table["pareto"].dtype == bool
    no_dupes = table.drop_duplicates(["nonzeros", "auc"])
    assert list(table.loc[no_dupes.index, "pareto"]) == _brute_force_front(no_dupes, "nonzeros", "auc")
    # ratio 0 reproduces the original exactly
    zero = table[table["ratio"] == 0.0]
    assert (zero["delta_auc"] == 0).all() and (zero["flips"] == 0).all()
    assert (zero["nonzeros"] == res.original["nonzeros"]).all()
    assert res.original["parameters"] == model.n_parameters
    front = res.with_front("parameters", "ks")
    assert front["pareto"].any()
    states = dict(zip(table["method"] + table["ratio"].astype(str), table["state"]))
    assert states["neuron_l10.6"] == (COMPACTED if arch == "batchnorm" else MASKED)


def test_sweep_skips_methods_the_model_cannot_take(data):
    X, y = data
    model = _load(nn.Sequential(nn.Linear(N_IN, 1)))
    ctx = make_context(model, X, y, "logit")
    res = sweep(model, ctx, methods=("magnitude_layer", "neuron_l1"), ratios=(0.0, 0.5))
    assert set(res.table["method"]) == {"magnitude_layer"} and "neuron_l1" in res.skipped
    nothing = sweep(model, ctx, methods=("neuron_l2",), ratios=(0.5,))
    assert nothing.table.empty and "pareto" in nothing.table and "neuron_l2" in nothing.skipped


def test_sweep_refuses_bad_ratios_and_methods(models, data):
    X, y = data
    ctx = make_context(models["plain"], X, y, "logit")
    with pytest.raises(SpecError):
        sweep(models["plain"], ctx, methods=("magnitude_layer",), ratios=(0.5, 1.2))
    with pytest.raises(SpecError):
        sweep(models["plain"], ctx, methods=("nope",), ratios=(0.5,))


@pytest.mark.parametrize("method", ["magnitude_layer", "neuron_l1"])
def test_layer_sensitivity_has_a_row_per_layer_and_ratio(models, data, method):
    X, y = data
    model = models["plain"]
    ctx = make_context(model, X, y, "logit")
    calls = []
    frame = layer_sensitivity(model, ctx, method=method, ratios=(0.25, 0.9), progress=lambda *a: calls.append(a))
    layers = ["0", "2", "4"] if method == "magnitude_layer" else ["0", "2"]
    assert list(zip(frame["layer"], frame["ratio"])) == [(l, r) for l in layers for r in (0.25, 0.9)]
    assert len(calls) == len(frame)
    assert np.allclose(frame["auc_drop"], ctx_auc(ctx) - frame["auc"])
    # pruning one layer leaves the others intact, so sparsity grows with the ratio within a layer
    for _, g in frame.groupby("layer"):
        assert g["sparsity"].is_monotonic_increasing and (g["sparsity"] > 0).all()


def ctx_auc(ctx) -> float:
    from core.metrics import auc

    return auc(ctx.y, ctx.original_scores)


def test_layer_sensitivity_refuses_input_pruning(models, data):
    X, y = data
    ctx = make_context(models["plain"], X, y, "logit")
    with pytest.raises(SpecError):
        layer_sensitivity(models["plain"], ctx, method="input_features")


# --------------------------------------------------------------------------- sample model, end to end


def test_sample_model_neuron_l1_at_half_compacts_below_6209_parameters(sample_holdout):
    from core.workspace import compare_workspace, prune_workspace

    ws = sample_holdout
    model = ws.model
    assert model.n_parameters == 6209
    before = module_hash(model.scripted)
    pruned = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5))
    r = pruned.result
    assert r.state == COMPACTED
    assert r.size.parameters == _n_params(r.module) < 6209
    assert r.original_size.parameters == 6209
    assert np.abs(predict_pbad(r.masked_module, ws.X_eval, ws.output.kind) - pruned.scores).max() <= 1e-6
    cmp = compare_workspace(ws, pruned)
    assert 0.5 < cmp.pruned.auc <= 1.0 and np.isfinite(cmp.delta("auc"))
    reloaded = load_model(model_to_bytes(r.module, r.schema), "pruned.pt")
    assert reloaded.schema == model.schema
    assert np.array_equal(raw_outputs(reloaded.module, ws.X_eval), raw_outputs(r.module, ws.X_eval))
    assert module_hash(model.scripted) == before
