"""Model loading: TorchScript only, schema extraction, eager twin, output kinds -> P(bad)."""
from __future__ import annotations

import io

import numpy as np
import pytest
import torch
from torch import nn

from core.data import FeatureSchema, FeatureSpec
from core.errors import ModelError
from core.model import (
    detect_output_kind,
    load_model,
    logit_from_raw,
    model_to_bytes,
    module_hash,
    pbad_from_raw,
    predict_pbad,
    raw_outputs,
    resolve_output,
)


def _mlp(n_in=6, head=1, tail=None, seed=0):
    torch.manual_seed(seed)
    layers = [nn.Linear(n_in, 8), nn.BatchNorm1d(8), nn.ReLU(), nn.Dropout(0.1), nn.Linear(8, head)]
    if tail is not None:
        layers.append(tail)
    m = nn.Sequential(*layers).eval()
    with torch.no_grad():  # non-trivial running stats so BatchNorm matters
        m[1].running_mean.uniform_(-0.5, 0.5)
        m[1].running_var.uniform_(0.5, 2.0)
    return m


class Squeeze(nn.Module):
    def __init__(self):
        super().__init__()
        self.net = nn.Sequential(nn.Linear(4, 5), nn.Tanh(), nn.Linear(5, 1))

    def forward(self, x):
        return self.net(x).squeeze(-1)


class Residual(nn.Module):
    def __init__(self):
        super().__init__()
        self.inp = nn.Linear(4, 6)
        self.block = nn.Linear(6, 6)
        self.act = nn.ReLU()
        self.out = nn.Linear(6, 1)

    def forward(self, x):
        h = self.act(self.inp(x))
        return self.out(h + self.act(self.block(h)))


def test_scripted_chain_gets_a_verified_eager_twin():
    m = _mlp(tail=nn.Sigmoid())
    loaded = load_model(model_to_bytes(m))
    assert loaded.eager is not None
    X = np.random.default_rng(0).normal(size=(50, 6)).astype("float32")
    np.testing.assert_allclose(raw_outputs(loaded.eager, X), raw_outputs(loaded.scripted, X), atol=1e-6)
    assert loaded.n_inputs == 6
    assert loaded.output_hint == "probability"


def test_residual_network_has_no_eager_twin_and_says_why():
    loaded = load_model(model_to_bytes(torch.jit.script(Residual().eval())))
    assert loaded.eager is None
    assert "chain" in loaded.structure_note


def test_traced_model_loads_too():
    m = _mlp()
    traced = torch.jit.trace(m, torch.randn(3, 6))
    loaded = load_model(model_to_bytes(traced))
    assert loaded.eager is not None


def test_embedded_schema_is_extracted():
    schema = FeatureSchema(
        (FeatureSpec("age", "numeric", 35.0, 10.0), FeatureSpec("home", "categorical", categories=("own", "rent"))),
        target="default", bad_value="1", split_seed=3,
    )
    m = nn.Sequential(nn.Linear(3, 2), nn.ReLU(), nn.Linear(2, 1))
    loaded = load_model(model_to_bytes(m, schema))
    assert loaded.schema == schema
    assert loaded.schema.input_names == ["age", "home=own", "home=rent"]


def test_schema_width_mismatch_is_refused():
    schema = FeatureSchema((FeatureSpec("age", "numeric"),))
    with pytest.raises(ModelError, match="schema describes 1 inputs"):
        load_model(model_to_bytes(nn.Sequential(nn.Linear(3, 1)), schema))


@pytest.mark.parametrize(
    "tail, head, expected",
    [
        (None, 1, "logit"),
        (nn.Sigmoid(), 1, "probability"),
        (None, 2, "two_class_logits"),
        (nn.Softmax(dim=1), 2, "two_class_probabilities"),
    ],
)
def test_output_kind_is_detected_and_turned_into_pbad(tail, head, expected):
    m = _mlp(head=head, tail=tail)
    loaded = load_model(model_to_bytes(m))
    X = np.random.default_rng(1).normal(size=(200, 6)).astype("float32")
    spec = resolve_output(loaded, X)
    assert spec.kind == expected
    p = predict_pbad(loaded.module, X, spec.kind)
    with torch.no_grad():
        out = m(torch.from_numpy(X)).double()
    if expected == "logit":
        ref = torch.sigmoid(out[:, 0])
    elif expected == "probability":
        ref = out[:, 0]
    elif expected == "two_class_logits":
        ref = torch.softmax(out, 1)[:, 1]
    else:
        ref = out[:, 1]
    np.testing.assert_allclose(p, ref.numpy(), atol=1e-6)
    assert ((p >= 0) & (p <= 1)).all()


def test_one_dimensional_output_is_accepted_as_logit():
    loaded = load_model(model_to_bytes(torch.jit.script(Squeeze().eval())))
    X = np.random.default_rng(2).normal(size=(30, 4)).astype("float32")
    assert raw_outputs(loaded.scripted, X).shape == (30, 1)
    assert resolve_output(loaded, X).kind == "logit"


def test_logit_scale_is_consistent_across_kinds():
    z = np.array([[-2.0], [0.3], [4.0]])
    p = 1 / (1 + np.exp(-z))
    np.testing.assert_allclose(logit_from_raw(p, "probability"), z[:, 0], atol=1e-9)
    two = np.hstack([np.zeros_like(z), z])
    np.testing.assert_allclose(logit_from_raw(two, "two_class_logits"), z[:, 0])
    np.testing.assert_allclose(pbad_from_raw(two, "two_class_logits"), p[:, 0])


def test_three_outputs_are_refused_with_a_reason():
    with pytest.raises(ModelError, match="3 values per applicant"):
        detect_output_kind(np.zeros((5, 3)))


def test_nan_outputs_are_refused():
    raw = np.array([[0.1], [np.nan], [0.3]])
    with pytest.raises(ModelError, match="NaN or infinite scores for 1 of 3"):
        detect_output_kind(raw)


def test_user_override_must_match_output_width():
    loaded = load_model(model_to_bytes(_mlp()))
    X = np.random.default_rng(3).normal(size=(40, 6)).astype("float32")
    assert resolve_output(loaded, X).kind == "logit"
    assert resolve_output(loaded, X, "probability").how == "set by the user"
    with pytest.raises(ModelError, match="cannot be"):
        resolve_output(loaded, X, "two_class_logits")


def test_pickled_module_is_refused_with_export_hint():
    buf = io.BytesIO()
    torch.save(_mlp(), buf)
    with pytest.raises(ModelError, match="torch.jit.script"):
        load_model(buf.getvalue())


def test_state_dict_is_explained():
    buf = io.BytesIO()
    torch.save(_mlp().state_dict(), buf)
    with pytest.raises(ModelError, match="only weights"):
        load_model(buf.getvalue())


def test_loading_never_modifies_the_bytes_and_round_trips():
    m = _mlp()
    data = model_to_bytes(m)
    before = bytes(data)
    loaded = load_model(data)
    assert data == before
    again = load_model(model_to_bytes(loaded.eager))
    assert module_hash(again.eager) == module_hash(loaded.eager)
