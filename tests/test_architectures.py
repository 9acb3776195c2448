"""Every tabular architecture a credit team ships (issue 15, engine side).

Five models built in ``tests/architectures.py`` — entity embeddings on integer codes, an
FT-Transformer with two encoder layers, a residual MLP, a TabM-like ensemble of heads and an MLP
behind a standardisation module — are each uploaded as TorchScript, bound (width probed on real
rows), pruned by every method that applies to them, compared, explained, exported (TorchScript
and ONNX) and reloaded with identical predictions. Compaction is asserted to remove parameters
and to compute exactly what its masked twin computes; masking is asserted to keep every shape.
"""
from __future__ import annotations

import importlib
import io
import json
import time
import zipfile

import numpy as np
import pandas as pd
import pytest
import torch
from architectures import CATEGORICAL, COLUMNS, NUMERIC, TARGET, inputs, loan_book, loan_book_text, scripted_bytes, train
from torch import nn

from core.data import FeatureSchema
from core.errors import ModelError, SpecError
from core.explain import FAST_PATH, SAMPLED, draw_sample, exact_shapley, explain, importance_shift, sampled_shapley
from core.model import TWIN_CHAIN, TWIN_EAGER, TWIN_GRAPH, load_model, model_to_bytes, probe, raw_outputs
from core.prune import COMPACTED, MASKED, PruneSpec, get_method, method_keys, prunable_layers, prune
from core.prune.blocks import prunable_units
from core.report.export import PRUNE_INFO_FILE, onnx_bytes, onnx_max_difference, torchscript_bytes
from core.workspace import attributions_for, bind, compare_workspace, prune_workspace

pytestmark = pytest.mark.usefixtures("one_torch_thread")  # tiny networks: one torch thread

ARCHS = ("embedding_mlp", "ft_transformer", "residual_mlp", "tabm_like", "standardised_mlp")
CHAINS = ("standardised_mlp",)  # rebuilt as a chain of standard layers; the others get a graph twin
# what each architecture offers beyond weights and input variables
STRUCTURED = {
    "embedding_mlp": {"neuron_l1", "neuron_l2", "embedding_dims"},
    "ft_transformer": {"neuron_l1", "neuron_l2", "attention_heads"},
    "residual_mlp": {"neuron_l1", "neuron_l2"},
    "tabm_like": {"neuron_l1", "neuron_l2"},
    "standardised_mlp": {"neuron_l1", "neuron_l2"},
}
ALWAYS = {"magnitude_layer", "magnitude_global", "random", "input_features"}
TOL = 1e-5



@pytest.fixture(scope="module")
def book() -> pd.DataFrame:
    return loan_book()


@pytest.fixture(scope="module")
def uploads(book) -> dict[str, bytes]:
    """Each architecture trained on the first 800 rows and saved as a user would (no schema)."""
    return {name: scripted_bytes(train(name, book.iloc[:800])) for name in ARCHS}


@pytest.fixture(scope="module")
def workspaces(book, uploads) -> dict:
    return {name: bind(load_model(uploads[name], f"{name}.pt"), book, TARGET, "1", feature_columns=COLUMNS,
                       eval_mode="holdout") for name in ARCHS}


def _raw(module: nn.Module, X: np.ndarray) -> np.ndarray:
    return raw_outputs(module, np.asarray(X, dtype=np.float32))


def _member(blob: bytes, suffix: str) -> bytes:
    zf = zipfile.ZipFile(io.BytesIO(blob))
    return zf.read(next(n for n in zf.namelist() if n.endswith(suffix)))


def _params(module: nn.Module) -> int:
    return sum(p.numel() for p in module.parameters())


# --------------------------------------------------------------------------- loading: width from the data, not a layer


@pytest.mark.parametrize("name", ARCHS)
def test_upload_loads_and_its_width_is_probed_on_the_data_rows(uploads, workspaces, name):
    loaded = load_model(uploads[name], f"{name}.pt")
    ws = workspaces[name]
    assert ws.model.n_inputs == len(COLUMNS) == ws.X_eval.shape[1]
    if name in CHAINS:  # preprocessing in front of an MLP is rebuilt as Standardize: a chain, its width known at load
        assert loaded.n_inputs == len(COLUMNS) and ws.model.twin_kind == TWIN_CHAIN
    else:
        assert loaded.n_inputs is None  # nothing in the file says how many columns it reads
        assert ws.model.twin_kind == TWIN_GRAPH
    assert "verified identical" in ws.model.structure_note
    with torch.inference_mode():
        twin = ws.model.eager(torch.from_numpy(ws.X_eval))
    np.testing.assert_allclose(twin.numpy(), _raw(ws.model.scripted, ws.X_eval).reshape(twin.shape), atol=1e-6)


def test_embedding_model_that_used_to_be_refused_with_59_inputs_runs_on_its_20_columns(uploads, book):
    """Issue 15: the first Linear takes 12 numerics + 21 embedding dims; the data has 20 raw columns."""
    model = load_model(uploads["embedding_mlp"], "emb.pt")
    first = [l for l in prunable_layers(model) if l.kind == "Linear"][0]
    assert first.in_features == len(NUMERIC) + 21 != len(COLUMNS)
    ws = bind(model, loan_book(200, seed=3), TARGET, "1", feature_columns=COLUMNS)
    assert ws.model.n_inputs == 20 and np.isfinite(ws.original_scores).all()


def test_wrong_columns_are_refused_with_what_the_model_expected(uploads, book):
    ft = load_model(uploads["ft_transformer"], "ft.pt")
    with pytest.raises(ModelError, match="reads column .* but only 16 columns were given"):
        bind(ft, book, TARGET, "1", feature_columns=COLUMNS[:16])
    emb = load_model(uploads["embedding_mlp"], "emb.pt")
    shuffled = COLUMNS[1:] + COLUMNS[:1]  # codes land in numeric slots: a code the table never saw
    with pytest.raises(ModelError, match="embedding lookup received a code outside its table"):
        bind(emb, book, TARGET, "1", feature_columns=shuffled)


class _Loops(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.out = nn.Linear(len(COLUMNS), 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = x
        for _ in range(1_000_000_000):
            s = s + 1.0
        return self.out(s)


def test_a_forward_pass_that_loops_is_stopped_within_the_time_limit(book, monkeypatch):
    probe_module = importlib.import_module("core.model.probe")  # the package re-exports the function as `probe`
    monkeypatch.setattr(probe_module, "PROBE_TIMEOUT_S", 1.5)
    model = load_model(model_to_bytes(torch.jit.script(_Loops())), "loop.pt")
    started = time.perf_counter()
    with pytest.raises(ModelError, match="did not answer within 2 s"):
        bind(model, book, TARGET, "1", feature_columns=COLUMNS)
    assert time.perf_counter() - started < 8.0  # the child was killed; nothing keeps running


def test_probe_reports_output_width_and_is_cached(uploads, book):
    model = load_model(uploads["tabm_like"], "t.pt")
    X = inputs(book)
    first = probe(model.scripted, X, key=model.content_hash)
    again = probe(model.scripted, X, key=model.content_hash)
    assert (first.output_width, first.n_columns, first.finite) == (1, 20, True)
    assert again is first


# --------------------------------------------------------------------------- pruning by every applicable method


def _applicable(name: str) -> list[str]:
    return sorted(ALWAYS | STRUCTURED[name])


@pytest.mark.parametrize("name,method", [(n, m) for n in ARCHS for m in _applicable(n)])
def test_every_applicable_method_prunes_compares_exports_and_reloads_identically(workspaces, name, method):
    ws = workspaces[name]
    pruned = prune_workspace(ws, PruneSpec.make(method, 0.5))
    r = pruned.result
    X = ws.X_eval
    out = _raw(r.module, X)
    assert np.isfinite(out).all()
    if r.state == COMPACTED:  # claimed removal must be real and must equal the masked twin
        assert r.size.parameters < r.original_size.parameters == ws.model.n_parameters
        assert _params(r.masked_module) == ws.model.n_parameters
        assert np.abs(out - _raw(r.masked_module, X)).max() <= TOL
        assert any(l.state == COMPACTED for l in r.layers)
    else:
        assert r.state == MASKED and _params(r.module) == ws.model.n_parameters
    cmp = compare_workspace(ws, pruned)
    assert np.isfinite([cmp.pruned.auc, cmp.pruned.ks, cmp.pruned.brier]).all()
    # TorchScript export reloads and predicts bit for bit on the columns it still reads
    blob = torchscript_bytes(r)
    reloaded = load_model(blob, "pruned.pt")
    assert np.array_equal(_raw(reloaded.scripted, r.inputs_for(X)), out)
    assert reloaded.n_parameters == r.size.parameters
    assert len(model_to_bytes(r.shipped, r.export_schema)) == r.size.file_bytes  # the size table counts what ships
    record = json.loads(_member(blob, PRUNE_INFO_FILE))
    assert record["spec"]["method"] == method and record["state"] == r.state
    assert {b["block"]: b["state"] for b in record["blocks"]} == {b.block: b.state for b in r.block_states()}


@pytest.mark.parametrize("name", ARCHS)
def test_methods_that_do_not_apply_are_refused_with_a_reason(workspaces, name):
    ws = workspaces[name]
    for method in set(method_keys()) - ALWAYS - STRUCTURED[name]:
        with pytest.raises(SpecError):
            prune_workspace(ws, PruneSpec.make(method, 0.5))


def test_ft_transformer_embedding_dims_are_refused_because_layernorm_couples_them(workspaces):
    with pytest.raises(SpecError, match="LayerNorm"):
        prune_workspace(workspaces["ft_transformer"], PruneSpec.make("embedding_dims", 0.5))


def test_ft_transformer_feed_forward_units_are_compacted_and_attention_stays(workspaces):
    ws = workspaces["ft_transformer"]
    r = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5)).result
    states = {b.block: b.state for b in r.block_states()}
    assert states["enc.0"] == states["enc.1"] == COMPACTED
    assert states["enc.0.self_attn"] == states["enc.1.self_attn"] == "unchanged"
    linear1 = dict(r.module.named_parameters())["enc.0.linear1.weight"]
    assert tuple(linear1.shape) == (16, 16)  # 32 feed-forward units -> 16; d_model untouched
    assert "LayerNorm" in " ".join(r.block_notes.values())  # the stream group says why it stays


def test_attention_heads_are_masked_exactly(workspaces):
    """A masked head contributes nothing: the layer equals attention recomputed over the kept heads only."""
    ws = workspaces["ft_transformer"]
    r = prune_workspace(ws, PruneSpec.make("attention_heads", 0.5)).result
    assert r.state == MASKED and "heads" in r.state_note
    from core.model.graph import STANDARD_LAYERS

    mha = STANDARD_LAYERS["MultiheadAttention"](getattr(r.module.enc, "0").self_attn)  # eager, same (masked) state
    E, H = int(mha.embed_dim), int(mha.num_heads)
    hd = E // H
    W, b = mha.in_proj_weight.detach().double(), mha.in_proj_bias.detach().double()
    kept = [h for h in range(H) if W[h * hd:(h + 1) * hd].abs().sum() > 0]
    assert len(kept) == H // 2
    x = torch.randn(5, 7, E, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        got = mha(x, x, x, need_weights=False)[0].double()
    xd = x.double()
    q, k, v = (xd @ W[i * E:(i + 1) * E].T + b[i * E:(i + 1) * E] for i in range(3))
    heads = []
    for h in kept:
        s = slice(h * hd, (h + 1) * hd)
        att = torch.softmax(q[..., s] @ k[..., s].transpose(1, 2) / hd ** 0.5, dim=-1)
        heads.append((s, att @ v[..., s]))
    Wo, bo = mha.out_proj.weight.detach().double(), mha.out_proj.bias.detach().double()
    want = bo + sum(o @ Wo[:, s].T for s, o in heads)
    assert torch.allclose(got, want, atol=1e-5)


def test_residual_stream_channels_are_cut_together_across_blocks(workspaces):
    ws = workspaces["residual_mlp"]
    r = prune_workspace(ws, PruneSpec.make("neuron_l2", 0.5)).result
    assert r.state == COMPACTED
    p = dict(r.module.named_parameters())
    stream = p["inp.weight"].shape[0]
    assert stream == 12  # 24 -> 12: the input projection and both blocks' outputs lose the same channels
    assert p["blocks.0.fc2.weight"].shape[0] == p["blocks.1.fc2.weight"].shape[0] == stream
    assert p["blocks.0.norm.weight"].shape[0] == p["head.weight"].shape[1] == stream
    assert p["blocks.0.fc1.weight"].shape == (20, stream)  # 40 hidden -> 20, reading the cut stream


def test_embedding_dims_leave_exactly_their_own_columns_of_the_first_layer(workspaces):
    """The concatenation [numerics, emb.0, emb.1, …]: removing emb.1's dims removes only its columns."""
    ws = workspaces["embedding_mlp"]
    r = prune_workspace(ws, PruneSpec.make("embedding_dims", 0.0, {"emb.1": 0.5})).result
    assert r.state == COMPACTED
    masked_first = dict(r.masked_module.named_parameters())["mlp.0.weight"].detach()
    zero_cols = [j for j in range(masked_first.shape[1]) if not masked_first[:, j].any()]
    start = len(NUMERIC) + 4  # after 12 numerics and emb.0's 4 dims
    assert len(zero_cols) == 1 and start <= zero_cols[0] < start + 2
    assert dict(r.module.named_parameters())["emb.1.weight"].shape == (3, 1)


def test_weight_kinds_can_keep_embeddings_dense(workspaces):
    ws = workspaces["embedding_mlp"]
    r = prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.6, kinds=("linear",))).result
    by_kind = {l.name: (l.weight_kind, l.sparsity) for l in r.layers}
    assert all(s == 0 for k, s in by_kind.values() if k == "embedding")
    assert all(s > 0.5 for k, s in by_kind.values() if k == "linear")
    with pytest.raises(SpecError, match="no attention projections"):
        prune_workspace(ws, PruneSpec.make("magnitude_layer", 0.5, kinds=("attention",)))


def test_tabm_heads_keep_their_output_units_and_lose_hidden_neurons(workspaces):
    r = prune_workspace(workspaces["tabm_like"], PruneSpec.make("neuron_l1", 0.5)).result
    p = dict(r.module.named_parameters())
    for k in range(4):
        assert p[f"heads.{k}.0.weight"].shape == (8, 16) and p[f"heads.{k}.2.weight"].shape == (1, 8)


# --------------------------------------------------------------------------- input variables for any architecture


@pytest.mark.parametrize("name", ARCHS)
def test_removed_variables_leave_the_interface_and_are_fed_their_reference_values(workspaces, name):
    ws = workspaces[name]
    r = prune_workspace(ws, PruneSpec.make("input_features", 0.3)).result
    assert len(r.dropped_variables) == 6 and len(r.input_keep) == 14
    fills = {f.variable: f for f in r.input_fills}
    train_rows = ws.X_train.astype(np.float64)
    for v, f in fills.items():
        col = train_rows[:, COLUMNS.index(v)]
        values, counts = np.unique(col, return_counts=True)
        whole = bool(np.all(np.mod(col, 1) == 0)) and len(values) <= 50
        if v in CATEGORICAL or whole:  # a code (or a whole-number column): its most frequent value, never a mean
            assert f.values == (values[np.argmax(counts)],) and "most frequent" in f.how
        else:
            assert f.values[0] == pytest.approx(col.mean()) and f.how == "mean of the training rows"
    # the shipped model on the kept columns == the original with the removed columns at their values
    X = ws.X_eval.copy()
    for f in fills.values():
        X[:, list(f.positions)] = f.values
    np.testing.assert_allclose(_raw(r.shipped, r.inputs_for(ws.X_eval)), _raw(ws.model.scripted, X), atol=1e-5)
    schema = r.export_schema
    assert schema.raw_columns == [c for c in COLUMNS if c not in fills]
    assert {d["name"] for d in schema.extra["dropped_variables"]} == set(fills)


def test_exported_input_pruned_model_reloads_in_the_dashboard_on_the_raw_columns(workspaces, book):
    ws = workspaces["embedding_mlp"]
    pruned = prune_workspace(ws, PruneSpec.make("input_features", 0.3))
    reloaded = load_model(torchscript_bytes(pruned.result), "pruned.pt")
    ws2 = bind(reloaded, book, TARGET, "1", eval_mode="holdout")  # its schema names the 14 columns it reads
    assert ws2.model.n_inputs == 14
    np.testing.assert_array_equal(ws2.original_scores, pruned.scores)


def test_standardised_mlp_is_a_chain_compacted_by_neuron_and_input_pruning(workspaces):
    """The standardisation module in front is rebuilt as Standardize: neurons and input variables are
    physically removed like in any chain, and the exported file reloads as a chain."""
    ws = workspaces["standardised_mlp"]
    assert ws.model.twin_kind == TWIN_CHAIN
    for method in ("neuron_l1", "input_features"):
        r = prune_workspace(ws, PruneSpec.make(method, 0.5)).result
        assert r.state == COMPACTED and r.size.parameters < ws.model.n_parameters, r.state_note
        assert np.abs(_raw(r.module, ws.X_eval) - _raw(r.masked_module, ws.X_eval)).max() <= TOL
        reloaded = load_model(torchscript_bytes(r), "pruned.pt")
        assert reloaded.twin_kind == TWIN_CHAIN
        assert np.array_equal(_raw(reloaded.scripted, r.inputs_for(ws.X_eval)), _raw(r.module, ws.X_eval))


# --------------------------------------------------------------------------- ONNX


ONNX_CASES = [("embedding_mlp", "neuron_l1"), ("embedding_mlp", "input_features"), ("residual_mlp", "neuron_l1"),
              ("tabm_like", "embedding_dims"), ("standardised_mlp", "neuron_l2"),
              pytest.param("ft_transformer", "neuron_l1", marks=pytest.mark.slow)]


@pytest.mark.parametrize("name,method", ONNX_CASES)
def test_onnx_export_matches_torch_on_the_kept_columns(workspaces, name, method):
    ws = workspaces[name]
    if method not in _applicable(name):
        method = "neuron_l1"
    r = prune_workspace(ws, PruneSpec.make(method, 0.5)).result
    data = onnx_bytes(r, ws.model.n_inputs, ws.X_eval)
    X = r.inputs_for(ws.X_eval)
    assert onnx_max_difference(data, r.shipped, X) <= 1e-5
    assert onnx_max_difference(data, r.shipped, X[:3]) <= 1e-5  # batch size is free


# --------------------------------------------------------------------------- explaining


@pytest.mark.parametrize("name", ARCHS)
def test_every_architecture_is_explained_additively_with_an_error_bound(workspaces, name):
    ws = workspaces[name]
    sample = draw_sample(len(ws.eval_idx), 30, 20, seed=1)
    pruned = prune_workspace(ws, PruneSpec.make("input_features", 0.3))
    a = attributions_for(ws, None, sample)
    b = attributions_for(ws, pruned, sample)
    assert a.feature_names == tuple(COLUMNS)  # labelled with the variables' names
    if name in CHAINS:  # a chain (preprocessing rebuilt as Standardize): the fast exact DeepSHAP path
        assert a.explainer == b.explainer == FAST_PATH and a.exact and a.error_bound is None
        scale = max(1.0, np.abs(a.outputs).max())
        assert a.additivity_gap <= TOL * scale and b.additivity_gap <= TOL * scale
    else:
        assert a.explainer == b.explainer == SAMPLED and not a.exact
        assert a.additivity_gap <= 1e-9 and b.additivity_gap <= 1e-9
        assert np.isfinite(a.error_bound) and a.error_bound > 0 and a.standard_errors.shape == a.values.shape
        assert 1.96 * a.standard_errors.mean() < 0.25 * np.abs(a.values).mean() * len(COLUMNS)
        assert "error bound" in a.note and "seed" in a.note
    dropped = [COLUMNS.index(v) for v in pruned.result.dropped_variables]
    assert np.abs(b.values[:, dropped]).max() < 1e-6  # a variable the model no longer reads gets no credit
    shift = importance_shift(a, b, ws.data.groups)
    assert len(shift.table) == len(COLUMNS)
    assert attributions_for(ws, None, sample) is a  # cached


def test_sampled_shapley_matches_exact_shapley_within_its_error_bound():
    torch.manual_seed(0)
    net = nn.Sequential(nn.Linear(6, 12), nn.Tanh(), nn.Linear(12, 1)).eval()

    def f(Z):
        with torch.no_grad():
            return net(torch.from_numpy(np.asarray(Z, dtype=np.float32)))[:, 0].double().numpy()

    rng = np.random.default_rng(0)
    X, bg = rng.normal(size=(4, 6)).astype(np.float32), rng.normal(size=(25, 6)).astype(np.float32)
    groups = ["a", "a", "b", "c", "d", "e"]  # a one-hot-like pair moves together
    exact = exact_shapley(f, X, bg, groups)
    est = sampled_shapley(f, X, bg, groups, seed=3, orders=16)
    assert np.abs(est.values.sum(axis=1) - (est.outputs - est.base_value)).max() < 1e-9
    z = np.abs(est.values - exact) / est.standard_errors
    assert z.max() < 4.5 and np.abs(est.values - exact).max() < 0.02
    again = sampled_shapley(f, X, bg, groups, seed=3, orders=16)
    np.testing.assert_array_equal(again.values, est.values)
    # a background subset keeps the values additive (efficiency correction) and widens the bound
    sub = sampled_shapley(f, X, bg, groups, seed=3, background_per_row=6)
    assert sub.corrected and np.abs(sub.values.sum(axis=1) - (sub.outputs - sub.base_value)).max() < 1e-9


def test_sampled_shapley_error_bound_covers_the_exact_values_and_antithetic_orders_lower_the_error():
    torch.manual_seed(2)
    net = nn.Sequential(nn.Linear(6, 24), nn.Tanh(), nn.Linear(24, 12), nn.ReLU(), nn.Linear(12, 1)).eval()
    with torch.no_grad():
        for p in net.parameters():
            p.mul_(2.0)  # strong interactions: permutation noise worth bounding

    def f(Z):
        with torch.no_grad():
            return net(torch.from_numpy(np.asarray(Z, dtype=np.float32)))[:, 0].double().numpy()

    rng = np.random.default_rng(7)
    X, bg = rng.normal(size=(6, 6)).astype(np.float32), rng.normal(size=(24, 6)).astype(np.float32)
    exact = exact_shapley(f, X, bg)
    err = {True: [], False: []}
    covered = []
    for seed in range(12):
        for anti in (True, False):
            est = sampled_shapley(f, X, bg, seed=seed, antithetic=anti)
            err[anti].append(np.sqrt(((est.values - exact) ** 2).mean()))
            if anti:
                covered.append((np.abs(est.values - exact) <= 1.96 * est.standard_errors).mean())
        sub = sampled_shapley(f, X, bg, seed=seed, background_per_row=8, orders=1)
        covered.append((np.abs(sub.values - exact) <= 1.96 * sub.standard_errors).mean())
    assert np.mean(covered) >= 0.93  # the stated 95 % bound is honest (conservative for antithetic pairs)
    assert np.mean(err[True]) < 0.85 * np.mean(err[False])


@pytest.mark.slow  # shap's ExactExplainer compiles its kernels on first use (~15 s)
def test_exact_shapley_reference_agrees_with_shap_exact_explainer():
    import shap

    torch.manual_seed(1)
    net = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Linear(8, 1)).eval()

    def f(Z):
        with torch.no_grad():
            return net(torch.from_numpy(np.asarray(Z, dtype=np.float32)))[:, 0].double().numpy()

    rng = np.random.default_rng(2)
    X, bg = rng.normal(size=(3, 4)), rng.normal(size=(10, 4))
    ref = shap.ExactExplainer(f, shap.maskers.Independent(bg, max_samples=10))(X).values
    np.testing.assert_allclose(exact_shapley(f, X, bg), ref, atol=1e-6)


def test_one_hot_variables_of_a_non_chain_are_explained_per_variable():
    torch.manual_seed(4)
    net = torch.jit.script(nn.Sequential(nn.Linear(5, 6), nn.Tanh(), nn.Linear(6, 1)).eval())
    rng = np.random.default_rng(5)
    X = np.c_[np.eye(3)[rng.integers(0, 3, 40)], rng.normal(size=(40, 2))].astype(np.float32)
    groups = ["home", "home", "home", "age", "income"]
    att = explain(net, X[:10], X[10:], "logit", method="sampled", groups=groups)
    assert att.level == "variable" and att.feature_names == ("home", "age", "income")
    assert att.grouped(groups) is att and att.additivity_gap < 1e-9


# --------------------------------------------------------------------------- what can be pruned, per block


def test_blocks_table_says_what_each_block_offers_and_whether_it_compacts(workspaces):
    ws = workspaces["ft_transformer"]
    units = prunable_units(ws.model, ws.X_train)
    weights = units[units["unit"] == "weights"]
    assert {"cat_emb", "enc.0.self_attn", "enc.0", "(root)"} <= set(weights["block"])
    assert set(weights["weight_kind"]) == {"linear", "embedding", "attention"}
    ffn = units[(units["unit"] == "neurons") & (units["layer"] == "enc.0.linear1")].iloc[0]
    assert ffn["compaction"] == "compacted" and ffn["units"] == 32
    heads = units[units["unit"] == "heads"]
    assert list(heads["layer"]) == ["enc.0.self_attn", "enc.1.self_attn"] and set(heads["compaction"]) == {"masked"}
    assert (units[units["compaction"] == "not prunable"]["why"].str.contains("LayerNorm|output")).all()


# --------------------------------------------------------------------------- schema codes and the Python API


def test_schema_code_kind_maps_text_categories_to_codes_with_reference_values(book):
    text = loan_book_text(book)
    schema = FeatureSchema.fit(text.iloc[:800], COLUMNS, target=TARGET, bad_value="1", categorical="code")
    X = schema.transform(text)
    assert X.shape == (len(book), len(COLUMNS))  # one input per variable: codes, not one-hot
    for name in CATEGORICAL:
        j = schema.raw_columns.index(name)
        np.testing.assert_array_equal(X[:, j], book[name].to_numpy(np.float32))
        counts = text.iloc[:800][name].value_counts()
        assert schema.features[j].reference == sorted(counts[counts == counts.max()].index)[0]  # ties: first in order
    again = FeatureSchema.from_json(schema.to_json())
    assert again == schema
    smaller = schema.without({"purpose": {"reference": "purpose_a"}})
    assert "purpose" not in smaller.raw_columns and smaller.extra["dropped_variables"][0]["name"] == "purpose"


def test_python_api_binds_an_eager_module_prunes_it_through_depgraph_and_exports_for_the_dashboard(book, tmp_path):
    from core import api

    module = train("residual_mlp", book.iloc[:800])
    ws = api.bind(module, book, TARGET, "1", features=COLUMNS)
    assert ws.model.twin_kind == TWIN_EAGER and ws.model.eager is not module  # a copy, never the caller's
    assert "neurons" in set(api.blocks(ws)["unit"])
    pruned = api.prune(ws, "neuron_l1", 0.5)
    assert pruned.result.state == COMPACTED and pruned.result.size.parameters < ws.model.n_parameters
    assert np.isfinite(api.compare(ws, pruned, bootstrap=0).pruned.auc)
    out = api.export(ws, pruned, tmp_path / "pruned.pt", onnx_path=tmp_path / "pruned.onnx")
    assert out.onnx_max_difference <= 1e-5
    reloaded = load_model((tmp_path / "pruned.pt").read_bytes(), "pruned.pt")
    ws2 = bind(reloaded, book, TARGET, "1", feature_columns=COLUMNS, eval_mode="holdout")
    np.testing.assert_array_equal(ws2.original_scores, pruned.scores)
    # the caller's module is untouched
    assert sum(p.numel() for p in module.parameters()) == ws.model.n_parameters


def test_prune_binds_an_unbound_model_to_its_reference_rows(uploads, book):
    model = load_model(uploads["tabm_like"], "t.pt")
    r = prune(model, PruneSpec.make("neuron_l2", 0.25), X_reference=inputs(book)[:300])
    assert r.state == COMPACTED and r.size.parameters < model.n_parameters


def test_method_registry_lists_the_new_structured_units():
    assert get_method("attention_heads").unit == "attention heads"
    assert get_method("embedding_dims").unit == "embedding dimensions"
    assert method_keys()[:6] == ("magnitude_layer", "magnitude_global", "random", "neuron_l1", "neuron_l2", "input_features")


@pytest.mark.slow  # trains a model, prunes, explains, exports and renders the report (~1 min)
def test_readme_python_api_example_runs_end_to_end(tmp_path, monkeypatch):
    """The README's notebook example is code that runs, not prose: executed as written."""
    from conftest import ROOT

    text = (ROOT / "README.md").read_text()
    block = text.split("<!-- api-example -->", 1)[1].split("```python", 1)[1].split("```", 1)[0]
    (tmp_path / "sample_data").symlink_to(ROOT / "sample_data")
    monkeypatch.chdir(tmp_path)
    exec(compile(block, "README.md", "exec"), {"__name__": "readme_example"})
    for name in ("pruned.pt", "pruned.onnx", "report/report.html", "report/report.pdf", "report/manifest.json"):
        assert (tmp_path / name).stat().st_size > 0
    reloaded = load_model((tmp_path / "pruned.pt").read_bytes(), "pruned.pt")
    assert reloaded.schema is not None and len(reloaded.schema.raw_columns) == 14
    assert len(reloaded.schema.extra["dropped_variables"]) == 6


def test_fine_tuning_keeps_masked_heads_and_trains_a_compacted_graph_model(workspaces):
    from core.prune import FineTuneSpec, fine_tune

    ws = workspaces["ft_transformer"]
    heads = prune_workspace(ws, PruneSpec.make("attention_heads", 0.5)).result
    tuned = fine_tune(heads, ws.X_train[:200], ws.y_train[:200], ws.output.kind, FineTuneSpec(epochs=1, seed=1))
    before = dict(heads.module.named_parameters())["enc.0.self_attn.in_proj_weight"].detach()
    after = dict(tuned.module.named_parameters())["enc.0.self_attn.in_proj_weight"].detach()
    assert torch.equal(after == 0, before == 0) and not torch.equal(after, before)  # trained, masks held
    ws2 = workspaces["embedding_mlp"]
    compact = prune_workspace(ws2, PruneSpec.make("neuron_l1", 0.5)).result
    tuned2 = fine_tune(compact, ws2.X_train, ws2.y_train, ws2.output.kind, FineTuneSpec(epochs=2, seed=1))
    assert tuned2.size.parameters == compact.size.parameters and tuned2.masked_module is None
    reloaded = load_model(torchscript_bytes(tuned2), "tuned.pt")
    np.testing.assert_array_equal(_raw(reloaded.scripted, ws2.X_eval), _raw(tuned2.module, ws2.X_eval))


@pytest.mark.slow  # a subprocess that imports torch and renders the PDF (~20 s)
def test_cli_report_on_an_embedding_model(workspaces, uploads, book, tmp_path):
    import subprocess
    import sys

    from conftest import ROOT

    (tmp_path / "model.pt").write_bytes(uploads["embedding_mlp"])
    book.to_csv(tmp_path / "book.csv", index=False)
    out = tmp_path / "out"
    res = subprocess.run([sys.executable, "-m", "core", "report", "--model", str(tmp_path / "model.pt"), "--data",
                          str(tmp_path / "book.csv"), "--target", TARGET, "--bad", "1", "--method", "input_features",
                          "--ratio", "0.3", "--out", str(out), "--no-sweep", "--explain-rows", "40",
                          "--explain-background", "20", "--bootstrap", "20", "--eval-mode", "holdout"],
                         cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert res.returncode == 0, res.stderr
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["results"]["auc_pruned"] > 0.5
    html = (out / "report.html").read_text()
    assert "Values fed in their place" in html and "most frequent" in html
    reloaded = load_model((out / "pruned_model.pt").read_bytes(), "pruned_model.pt")
    assert reloaded.n_inputs == 14 and len(reloaded.schema.extra["dropped_variables"]) == 6


@pytest.mark.parametrize("name", ["embedding_mlp", "ft_transformer"])
def test_traced_uploads_get_a_graph_twin_and_compact(book, name):
    """torch.jit.trace keeps only what the graph reads (no eps, no head count): layers that cannot be
    rebuilt from attributes are re-executed from their own graph, and the twin is still verified."""
    import warnings

    module = train(name, book.iloc[:800], epochs=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        traced = torch.jit.trace(module, torch.from_numpy(inputs(book)[:16]), check_trace=False)
    ws = bind(load_model(model_to_bytes(traced), "traced.pt"), book, TARGET, "1", feature_columns=COLUMNS)
    assert ws.model.twin_kind == TWIN_GRAPH
    r = prune_workspace(ws, PruneSpec.make("neuron_l1", 0.5)).result
    assert r.state == COMPACTED and r.size.parameters < ws.model.n_parameters
    reloaded = load_model(torchscript_bytes(r), "p.pt")
    np.testing.assert_array_equal(_raw(reloaded.scripted, ws.X_eval), _raw(r.module, ws.X_eval))
    if name == "ft_transformer":
        with pytest.raises(SpecError, match="do not record their number of heads"):
            prune_workspace(ws, PruneSpec.make("attention_heads", 0.5))


def test_numeric_code_columns_keep_their_codes_even_with_unseen_values(book):
    frame = book.copy()
    frame.loc[frame["purpose"] == 3, "purpose"] = 4  # code 3 never occurs in training
    schema = FeatureSchema.fit(frame, COLUMNS, codes=list(CATEGORICAL))
    X = schema.transform(frame)
    j = COLUMNS.index("purpose")
    assert schema.features[j].kind == "code" and schema.features[j].categories == tuple(str(k) for k in range(6))
    np.testing.assert_array_equal(X[:, j], frame["purpose"].to_numpy(np.float32))  # the model sees code 4 as 4
    bad = frame.assign(purpose=frame["purpose"] + 0.5)
    with pytest.raises(Exception, match="fractional"):
        FeatureSchema.fit(bad, COLUMNS, codes=["purpose"])


def test_sampler_skips_switches_that_change_nothing_and_stays_exact_about_them():
    torch.manual_seed(3)
    net = nn.Sequential(nn.Linear(5, 10), nn.Tanh(), nn.Linear(10, 1)).eval()

    def f(Z):
        with torch.no_grad():
            return net(torch.from_numpy(np.asarray(Z, dtype=np.float32)))[:, 0].double().numpy()

    rng = np.random.default_rng(4)
    X = rng.integers(0, 3, size=(5, 5)).astype(np.float32)  # codes: x and b often agree
    bg = rng.integers(0, 3, size=(30, 5)).astype(np.float32)
    bg[:, 2] = 1.0
    X[:, 2] = 1.0  # variable 2 never differs from the background: its Shapley value is exactly 0
    est = sampled_shapley(f, X, bg, seed=0)
    assert np.all(est.values[:, 2] == 0.0)
    assert est.model_rows < len(X) * len(bg) * 2 * (5 - 1)  # agreeing switches were not evaluated
    exact = exact_shapley(f, X, bg)
    assert (np.abs(est.values - exact) <= 1.96 * est.standard_errors + 1e-9).mean() >= 0.9
    assert np.abs(est.values.sum(axis=1) - (est.outputs - est.base_value)).max() < 1e-9


def test_sampling_runs_on_one_torch_thread_and_restores_the_setting():
    from core.threads import single_threaded

    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        with single_threaded():
            assert torch.get_num_threads() == 1
            with single_threaded():  # a second sampler in the same process
                assert torch.get_num_threads() == 1
            assert torch.get_num_threads() == 1  # the outer one is still running
        assert torch.get_num_threads() == 2
    finally:
        torch.set_num_threads(before)
