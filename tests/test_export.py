"""Exports: the TorchScript file reproduces the in-app predictions bit for bit, ONNX matches torch,
and files are written atomically."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
import torch
from torch import nn

from core.errors import ModelError
from core.files import atomic_write_bytes as write_atomic
from core.model import load_model, model_to_bytes, predict_pbad
from core.prune import COMPACTED, MASKED, FineTuneSpec, PruneSpec, fine_tune, prune
from core.report import export
from core.report.export import PRUNE_INFO_FILE, onnx_bytes, onnx_max_difference, torchscript_bytes


def _model(layers: list[nn.Module], seed: int = 0):
    torch.manual_seed(seed)
    net = nn.Sequential(*layers).eval()
    with torch.no_grad():  # non-trivial BatchNorm statistics so the twin check means something
        for m in net:
            if isinstance(m, nn.BatchNorm1d):
                m.running_mean.uniform_(-0.5, 0.5)
                m.running_var.uniform_(0.5, 2.0)
    return load_model(model_to_bytes(torch.jit.script(net)), "test.pt")


def _rows(n_inputs: int, n: int = 300, seed: int = 1) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, n_inputs)).astype(np.float32)


MODELS = {
    "mlp_logit": lambda: (_model([nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 1)]), "logit"),
    "mlp_bn_two_class": lambda: (_model([nn.Linear(5, 12), nn.BatchNorm1d(12), nn.ReLU(), nn.Linear(12, 7), nn.Tanh(), nn.Linear(7, 2)], 3),
                                 "two_class_logits"),
    "mlp_softmax": lambda: (_model([nn.Linear(6, 10), nn.ELU(), nn.Linear(10, 2), nn.Softmax(dim=1)], 7), "two_class_probabilities"),
    "mlp_sigmoid": lambda: (_model([nn.Linear(11, 9), nn.LeakyReLU(0.1), nn.Dropout(0.2), nn.Linear(9, 1), nn.Sigmoid()], 5), "probability"),
}
SPECS = [("magnitude_layer", 0.6), ("neuron_l2", 0.5), ("input_features", 0.4)]


def _assert_reload_identical(result, X, kind):
    data = torchscript_bytes(result)
    reloaded = load_model(data, "pruned_model.pt")
    want = predict_pbad(result.module, X, kind)
    # a model that no longer reads some variables ships taking only the kept columns
    for module in (reloaded.scripted, reloaded.module):
        assert torch.equal(torch.from_numpy(predict_pbad(module, result.inputs_for(X), kind)), torch.from_numpy(want))
    return data, reloaded


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("method,ratio", SPECS)
def test_torchscript_export_reloads_bit_identical(name, method, ratio):
    model, kind = MODELS[name]()
    X = _rows(model.n_inputs)
    result = prune(model, PruneSpec.make(method, ratio, seed=2), X_reference=X)
    _, reloaded = _assert_reload_identical(result, X, kind)
    assert reloaded.n_parameters == result.size.parameters  # what ships is the compacted network, not the masked twin


def test_sample_compacted_export_is_smaller_and_identical(sample_model):
    from conftest import SAMPLE_DATA

    from core.data import read_table
    from core.workspace import bind

    frame = read_table(SAMPLE_DATA.read_bytes(), SAMPLE_DATA.name).frame
    ws = bind(sample_model, frame, sample_model.schema.target, sample_model.schema.bad_value)
    result = prune(sample_model, PruneSpec.make("neuron_l1", 0.5), X_reference=ws.X_eval)
    assert result.state == COMPACTED
    data, reloaded = _assert_reload_identical(result, ws.X_eval, ws.output.kind)
    assert len(data) < sample_model.file_bytes
    assert reloaded.schema == sample_model.schema  # the schema travels with the export
    masked = prune(sample_model, PruneSpec.make("magnitude_global", 0.8))
    assert masked.state == MASKED
    _assert_reload_identical(masked, ws.X_eval, ws.output.kind)


def test_export_embeds_prune_record_and_survives_fine_tuning():
    model, kind = MODELS["mlp_bn_two_class"]()
    X = _rows(model.n_inputs, 200)
    y = (X[:, 0] + 0.5 * X[:, 1] > 0).astype(np.int64)
    result = fine_tune(prune(model, PruneSpec.make("neuron_l1", 0.5)), X, y, kind, FineTuneSpec(epochs=2, seed=4))
    data, _ = _assert_reload_identical(result, X, kind)
    record = json.loads(zipfile.ZipFile(io.BytesIO(data)).read(next(
        n for n in zipfile.ZipFile(io.BytesIO(data)).namelist() if n.endswith(PRUNE_INFO_FILE))))
    assert record["spec"]["method"] == "neuron_l1" and record["spec"]["ratio"] == 0.5
    assert record["fine_tuned"]["epochs"] == 2 and record["fine_tuned"]["seed"] == 4
    assert record["source_model_sha256"] == model.content_hash


@pytest.mark.parametrize("name", sorted(MODELS))
@pytest.mark.parametrize("method,ratio", SPECS)
def test_onnx_export_matches_torch(name, method, ratio):
    model, kind = MODELS[name]()
    X = _rows(model.n_inputs, 257)
    result = prune(model, PruneSpec.make(method, ratio), X_reference=X)
    data = onnx_bytes(result, model.n_inputs, X)
    Xs = result.inputs_for(X)  # the exported model takes the columns it still reads
    assert onnx_max_difference(data, result.shipped, Xs) <= 1e-5
    # independently of the helper: onnxruntime's P(bad) against torch's
    import onnxruntime as ort

    from core.model import pbad_from_raw

    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    raw = session.run(None, {session.get_inputs()[0].name: Xs})[0].reshape(len(X), -1).astype(np.float64)
    assert np.abs(pbad_from_raw(raw, kind) - predict_pbad(result.module, X, kind)).max() <= 1e-5
    # also on a batch size never seen during export: the batch axis is free
    assert onnx_max_difference(data, result.shipped, Xs[:3]) <= 1e-5


def test_onnx_export_of_sample_matches_torch(sample_model):
    X = _rows(sample_model.n_inputs, 100)
    for spec in (PruneSpec.make("neuron_l2", 0.3), PruneSpec.make("magnitude_layer", 0.5)):
        result = prune(sample_model, spec)
        assert onnx_max_difference(onnx_bytes(result, sample_model.n_inputs), result.module, X) <= 1e-5


def test_onnx_export_of_masked_scripted_model():
    """A model with no eager twin (a residual forward) stays scripted; it must still export or say why."""

    class Residual(nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.a = nn.Linear(6, 6)
            self.b = nn.Linear(6, 1)

        def forward(self, x):
            return self.b(torch.relu(self.a(x)) + x)

    torch.manual_seed(0)
    model = load_model(model_to_bytes(torch.jit.script(Residual().eval())), "res.pt")
    assert model.eager is None
    result = prune(model, PruneSpec.make("magnitude_layer", 0.5))
    X = _rows(6)
    data = onnx_bytes(result, 6, X)
    assert onnx_max_difference(data, result.module, X) <= 1e-5


def test_onnx_failure_says_why(monkeypatch):
    model, _ = MODELS["mlp_logit"]()
    result = prune(model, PruneSpec.make("magnitude_layer", 0.5))

    def refuse(*a, **k):
        raise RuntimeError("operator foo is not supported")

    monkeypatch.setattr(export, "_export_onnx", refuse)
    with pytest.raises(ModelError, match="operator foo is not supported") as info:
        onnx_bytes(result, model.n_inputs)
    assert "TorchScript" in str(info.value)  # the hint points to the export that works


@pytest.mark.slow
def test_onnx_mismatch_is_refused(monkeypatch):
    model, _ = MODELS["mlp_logit"]()
    result = prune(model, PruneSpec.make("magnitude_layer", 0.5))
    monkeypatch.setattr(export, "onnx_max_difference", lambda *a, **k: 1e-3)
    with pytest.raises(ModelError, match="differ"):
        onnx_bytes(result, model.n_inputs)


def test_write_atomic_writes_bytes_and_callables(tmp_path):
    target = tmp_path / "sub" / "file.bin"
    write_atomic(target, b"abc")
    assert target.read_bytes() == b"abc"
    write_atomic(target, lambda: b"new content")
    assert target.read_bytes() == b"new content"
    write_atomic(target, iter([b"a", b"b", b"c"]))
    assert target.read_bytes() == b"abc"
    assert sorted(p.name for p in target.parent.iterdir()) == ["file.bin"]


@pytest.mark.parametrize("existing", [None, b"old complete file"])
def test_write_atomic_leaves_no_partial_file_when_producing_fails(tmp_path, existing):
    target = tmp_path / "report.pdf"
    if existing is not None:
        target.write_bytes(existing)

    def chunks():
        yield b"%PDF-1.4 half a report"
        raise RuntimeError("renderer crashed")

    def producer():
        raise RuntimeError("renderer crashed")

    for payload in (chunks(), producer):
        with pytest.raises(RuntimeError, match="renderer crashed"):
            write_atomic(target, payload)
        assert [p.name for p in tmp_path.iterdir()] == ([] if existing is None else ["report.pdf"])
        if existing is not None:
            assert target.read_bytes() == existing


def test_a_model_exported_in_two_fresh_processes_has_the_same_bytes_and_loads_identically(tmp_path):
    """torch.jit.save writes a random serialization id and debug source maps; RiskPrune's export must
    be reproducible, so a validator who reruns the CLI gets a file with the same SHA-256."""
    import subprocess
    import sys

    script = (
        "import sys, torch\nfrom torch import nn\nfrom core.model import model_to_bytes\n"
        "torch.manual_seed(0)\nnet = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 1)).eval()\n"
        "open(sys.argv[1], 'wb').write(model_to_bytes(net))\n"
    )
    paths = [tmp_path / f"run{i}.pt" for i in range(2)]
    for p in paths:
        subprocess.run([sys.executable, "-c", script, str(p)], check=True, timeout=300)
    first, again = (p.read_bytes() for p in paths)
    assert again == first
    names = zipfile.ZipFile(io.BytesIO(first)).namelist()
    assert not any(n.endswith(".debug_pkl") for n in names)
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(5, 7), nn.ReLU(), nn.Linear(7, 1)).eval()
    x = torch.randn(16, 5)
    assert torch.equal(torch.jit.load(io.BytesIO(first))(x), net(x))
