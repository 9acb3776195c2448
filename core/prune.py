"""Pruning: a spec in, a new model with its masks, per-layer stats and honest size accounting out.

Two kinds of result, labelled so nobody confuses them:
* ``masked``   — weights are set to zero but the tensors keep their shape; the file and the
                 inference cost stay the same (only a sparse format could exploit the zeros).
* ``compacted`` — neurons or inputs are physically removed; the network has fewer parameters,
                  a smaller file and fewer multiply-adds.

Structured pruning compacts through torch-pruning's dependency graph when the model has an eager
twin (a verified plain chain of standard layers); anything else gets structured *masking*. The
input model is never touched: every method works on a deep copy.
"""
from __future__ import annotations

import copy
import hashlib
import json
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
import torch_pruning as tp
from torch import nn

from .errors import SpecError
from .layers import SelectInputs
from .model import LoadedModel, model_to_bytes
from .schema import FeatureSchema

MAGNITUDE_LAYER = "magnitude_layer"
MAGNITUDE_GLOBAL = "magnitude_global"
RANDOM = "random"
NEURON_L1 = "neuron_l1"
NEURON_L2 = "neuron_l2"
INPUT_FEATURES = "input_features"

METHOD_LABELS = {
    MAGNITUDE_LAYER: "Magnitude, layer by layer (unstructured)",
    MAGNITUDE_GLOBAL: "Magnitude, global (unstructured)",
    RANDOM: "Random weights (baseline)",
    NEURON_L1: "Neurons by L1 norm (structured)",
    NEURON_L2: "Neurons by L2 norm (structured)",
    INPUT_FEATURES: "Input variables (structured)",
}
METHODS = tuple(METHOD_LABELS)
UNSTRUCTURED = (MAGNITUDE_LAYER, MAGNITUDE_GLOBAL, RANDOM)
STRUCTURED = (NEURON_L1, NEURON_L2, INPUT_FEATURES)
MASKED, COMPACTED = "masked", "compacted"
MAX_RATIO = 0.99


# --------------------------------------------------------------------------- spec


@dataclass(frozen=True)
class PruneSpec:
    """What to prune: method, share to remove, per-layer exceptions and the seed of any randomness.

    ``ratio`` is the share of weights (unstructured), of hidden neurons per layer (neuron
    methods) or of input variables (input method) to remove. ``overrides`` maps a layer name to
    its own ratio.
    """

    method: str = MAGNITUDE_LAYER
    ratio: float = 0.5
    overrides: tuple[tuple[str, float], ...] = ()
    seed: int = 0

    @staticmethod
    def make(method: str, ratio: float, overrides: Mapping[str, float] | None = None, seed: int = 0) -> "PruneSpec":
        return PruneSpec(method, float(ratio), tuple(sorted((str(k), float(v)) for k, v in (overrides or {}).items())), int(seed))

    @property
    def label(self) -> str:
        return METHOD_LABELS.get(self.method, self.method)

    @property
    def key(self) -> str:
        return json.dumps([self.method, round(self.ratio, 6), [list(o) for o in self.overrides], self.seed])

    def ratio_for(self, layer: str) -> float:
        return dict(self.overrides).get(layer, self.ratio)

    def to_dict(self) -> dict:
        return {"method": self.method, "method_label": self.label, "ratio": self.ratio,
                "overrides": dict(self.overrides), "seed": self.seed}


def _check_ratio(value: float, what: str) -> None:
    if not np.isfinite(value) or value < 0 or value > MAX_RATIO:
        raise SpecError(
            f"The pruning ratio {value} for {what} is outside [0, {MAX_RATIO}].",
            "A ratio is the share to remove: 0 keeps everything, 0.5 removes half; at least a little must stay.",
        )


# --------------------------------------------------------------------------- layers


@dataclass(frozen=True)
class PrunableLayer:
    """A Linear layer as the user sees it (its name in the uploaded model) and where it sits."""

    name: str
    leaf_index: int
    in_features: int
    out_features: int
    is_output: bool


def prunable_layers(model: LoadedModel) -> list[PrunableLayer]:
    """Linear layers in call order of the leaves; the last one produces the scores (never shrunk)."""
    leaves = [(n, m) for n, m in model.scripted.named_modules() if not list(m.children())]
    out = []
    for i, (name, m) in enumerate(leaves):
        if getattr(m, "original_name", type(m).__name__) == "Linear":
            o, n_in = (int(d) for d in m.weight.shape)
            out.append(PrunableLayer(name or "(root)", i, n_in, o, False))
    if out:
        last = out[-1]
        out[-1] = PrunableLayer(last.name, last.leaf_index, last.in_features, last.out_features, True)
    return out


def validate_spec(model: LoadedModel, spec: PruneSpec) -> list[PrunableLayer]:
    if spec.method not in METHOD_LABELS:
        raise SpecError(f"Unknown pruning method '{spec.method}'.", f"Use one of: {', '.join(METHODS)}.")
    _check_ratio(spec.ratio, "the whole model")
    layers = prunable_layers(model)
    names = {l.name: l for l in layers}
    for name, r in spec.overrides:
        if name not in names:
            raise SpecError(
                f"The per-layer setting names a layer '{name}' that the model does not have.",
                f"Prunable (Linear) layers are: {', '.join(names)}.",
            )
        _check_ratio(r, f"layer '{name}'")
        if spec.method in (NEURON_L1, NEURON_L2) and names[name].is_output and r > 0:
            raise SpecError(
                f"Layer '{name}' produces the model's scores; its output units are never removed.",
                "Set its ratio to 0 or prune it with an unstructured method.",
            )
        if spec.method == INPUT_FEATURES:
            raise SpecError(
                "Per-layer settings do not apply to input-variable pruning (it removes inputs, not layer weights).",
                "Remove the per-layer settings or pick another method.",
            )
    if spec.method in (NEURON_L1, NEURON_L2) and not any(not l.is_output for l in layers):
        raise SpecError(
            "The model has no hidden layer, so there are no neurons to remove.",
            "Use an unstructured or input-variable method.",
        )
    return layers


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class LayerStats:
    name: str
    kind: str
    total_weights: int  # weights of this layer in the original model
    nonzero_weights: int  # non-zero weights left (compacted layers count only what remains)
    neurons_total: int
    neurons_kept: int  # output units with at least one non-zero incoming weight, or kept after compaction
    inputs_total: int
    inputs_kept: int

    @property
    def sparsity(self) -> float:
        return 1.0 - self.nonzero_weights / self.total_weights if self.total_weights else 0.0

    def to_dict(self) -> dict:
        return {"layer": self.name, "kind": self.kind, "total_weights": self.total_weights,
                "nonzero_weights": self.nonzero_weights, "sparsity": self.sparsity,
                "neurons_total": self.neurons_total, "neurons_kept": self.neurons_kept,
                "inputs_total": self.inputs_total, "inputs_kept": self.inputs_kept}


@dataclass(frozen=True)
class ModelSize:
    """Sizes of a model as it would be shipped; every number is counted, none is estimated."""

    parameters: int
    nonzeros: int
    dense_bytes: int  # parameters and buffers as stored tensors
    file_bytes: int  # the TorchScript file RiskPrune exports (schema embedded)
    multiply_adds: int  # per applicant, through the Linear layers as stored (zeros still multiply)

    def to_dict(self) -> dict:
        return {"parameters": self.parameters, "nonzeros": self.nonzeros, "dense_bytes": self.dense_bytes,
                "file_bytes": self.file_bytes, "multiply_adds": self.multiply_adds}


@dataclass(frozen=True, eq=False)
class PruneResult:
    spec: PruneSpec
    state: str  # MASKED or COMPACTED
    state_note: str
    module: nn.Module
    # The same function with the original shapes and zeros where removed (== module when masked).
    # None after fine-tuning a compacted model: the weights moved, the twin no longer matches.
    masked_module: nn.Module | None
    masks: dict[str, torch.Tensor] = field(repr=False)  # param name in ``module`` → True where kept
    layers: tuple[LayerStats, ...] = ()
    size: ModelSize | None = None
    original_size: ModelSize | None = None
    dropped_inputs: tuple[str, ...] = ()
    dropped_variables: tuple[str, ...] = ()
    fine_tuned: dict | None = None  # epochs, learning rate, seed, rows, loss history when fine-tuned
    model_hash: str = ""
    schema: FeatureSchema | None = field(default=None, repr=False)  # travels with every export
    # Fingerprint of the reference rows and groups that decided an input pruning ("" otherwise):
    # the same spec on other data can drop other variables, so the key must tell them apart.
    reference_key: str = ""

    @property
    def sparsity(self) -> float:
        """Share of the original Linear weights that are zero or removed."""
        total = sum(l.total_weights for l in self.layers)
        return 1.0 - sum(l.nonzero_weights for l in self.layers) / total if total else 0.0

    @property
    def key(self) -> str:
        ft = json.dumps(self.fine_tuned, sort_keys=True, default=str) if self.fine_tuned else ""
        ref = f"|{self.reference_key}" if self.reference_key else ""
        return hashlib.sha256(f"{self.model_hash}|{self.spec.key}{ref}|{ft}".encode()).hexdigest()[:32]

    def layer_frame(self):
        import pandas as pd

        return pd.DataFrame([l.to_dict() for l in self.layers])

    def size_frame(self):
        import pandas as pd

        o, p = self.original_size.to_dict(), self.size.to_dict()
        return pd.DataFrame([{"quantity": k, "original": o[k], "pruned": p[k], "change": p[k] - o[k]} for k in o])


# --------------------------------------------------------------------------- size accounting


def linear_multiply_adds(module: nn.Module) -> int:
    return int(sum(m.weight.numel() for m in module.modules() if _is_linear(m)))


def _is_linear(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear) or getattr(m, "original_name", "") == "Linear"


def linear_weights(module: nn.Module) -> list[np.ndarray]:
    """Weight matrices of the Linear layers in call order (copies; for display and checks)."""
    leaves = [m for _, m in module.named_modules() if not list(m.children())]
    return [m.weight.detach().cpu().numpy().copy() for m in leaves if _is_linear(m)]


def measure_size(module: nn.Module, schema: FeatureSchema | None) -> ModelSize:
    params = list(module.parameters())
    buffers = [b for b in module.buffers() if b.is_floating_point() or b.dtype == torch.long]
    return ModelSize(
        parameters=int(sum(p.numel() for p in params)),
        nonzeros=int(sum(int(torch.count_nonzero(p)) for p in params)),
        dense_bytes=int(sum(t.numel() * t.element_size() for t in params + buffers)),
        file_bytes=len(model_to_bytes(module, schema)),
        multiply_adds=linear_multiply_adds(module),
    )


_ORIGINAL_SIZES: dict[str, ModelSize] = {}
_ORIGINAL_SIZES_MAX = 32


def original_size_of(model: LoadedModel) -> ModelSize:
    """Size of the unpruned model, measured once per uploaded file (keyed by its content hash).

    Measuring means scripting and serialising the network (tens of milliseconds); every prune
    and every sweep point compares against the same original, so it is cached. The loaded model
    is never mutated, so the hash identifies the measurement.
    """
    key = model.content_hash
    size = _ORIGINAL_SIZES.get(key) if key else None
    if size is None:
        size = measure_size(model.module, model.schema)
        if key:
            if len(_ORIGINAL_SIZES) >= _ORIGINAL_SIZES_MAX:
                _ORIGINAL_SIZES.pop(next(iter(_ORIGINAL_SIZES)))
            _ORIGINAL_SIZES[key] = size
    return size


# --------------------------------------------------------------------------- helpers


def copy_module(module: nn.Module) -> nn.Module:
    """An independent deep copy whose parameters are leaves.

    ``copy.deepcopy`` of a ScriptModule clones its parameters *through autograd* (non-leaf
    tensors with a ``CloneBackward`` link to the original): an optimiser refuses them and a
    backward pass would write gradients into the uploaded model. Cutting the link makes the copy
    truly independent.
    """
    m = copy.deepcopy(module)
    with torch.no_grad():
        for p in m.parameters():
            if p.grad_fn is not None:
                wanted = p.requires_grad
                p.detach_()
                p.requires_grad_(wanted)
    return m


def _working_copy(model: LoadedModel) -> tuple[nn.Module, list[nn.Module], bool]:
    """A deep copy to prune and its leaves in call order; eager when a verified twin exists."""
    if model.eager is not None:
        m = copy_module(model.eager).eval()
        return m, list(m), True
    m = copy_module(model.scripted).eval()
    return m, [x for _, x in m.named_modules() if not list(x.children())], False


def _param_name(root: nn.Module, target: torch.Tensor) -> str:
    for name, p in root.named_parameters():
        if p is target:
            return name
    raise KeyError("parameter not found")


def _keep_smallest_out(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Mask that removes exactly the ``k`` lowest scores (stable order breaks ties the same way every time)."""
    flat = scores.reshape(-1)
    mask = torch.ones_like(flat, dtype=torch.bool)
    if k > 0:
        order = torch.from_numpy(np.argsort(flat.detach().cpu().numpy(), kind="stable")[:k])
        mask[order] = False
    return mask.reshape(scores.shape)


def _n_remove(ratio: float, n: int, keep_at_least: int = 0) -> int:
    return int(min(max(int(round(ratio * n)), 0), n - keep_at_least))


# --------------------------------------------------------------------------- unstructured


def _unstructured(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer]) -> tuple[nn.Module, dict]:
    module, leaves, _ = _working_copy(model)
    weights = {l.name: leaves[l.leaf_index].weight for l in layers}
    masks: dict[str, torch.Tensor] = {}
    overridden = {n for n, _ in spec.overrides}
    if spec.method == MAGNITUDE_GLOBAL:
        pooled = [l.name for l in layers if l.name not in overridden]
        if pooled:
            flat = torch.cat([weights[n].detach().abs().reshape(-1) for n in pooled])
            keep = _keep_smallest_out(flat, _n_remove(spec.ratio, flat.numel()))
            offset = 0
            for n in pooled:
                w = weights[n]
                masks[n] = keep[offset:offset + w.numel()].reshape(w.shape)
                offset += w.numel()
    for l in layers:
        if l.name in masks:
            continue
        w = weights[l.name]
        k = _n_remove(spec.ratio_for(l.name), w.numel())
        if spec.method == RANDOM:
            gen = torch.Generator().manual_seed(int(spec.seed) * 1_000_003 + l.leaf_index)
            scores = torch.rand(w.shape, generator=gen)
        else:
            scores = w.detach().abs()
        masks[l.name] = _keep_smallest_out(scores, k)
    with torch.no_grad():
        for n, m in masks.items():
            weights[n].mul_(m.to(weights[n].dtype))
    by_param = {_param_name(module, weights[n]): m for n, m in masks.items()}
    return module, by_param


# --------------------------------------------------------------------------- structured: neurons


def _neuron_importance(module: nn.Sequential, leaves: list[nn.Module], layer: PrunableLayer, p: int, graph) -> torch.Tensor:
    """L1/L2 mass of each neuron.

    In a chain the dependency graph knows everything removed with the neuron (its incoming row
    and bias, any BatchNorm channel, the next layer's column), so the whole group is scored
    (torch-pruning's group magnitude, averaged over the group). Without a graph only the
    incoming row is known for sure, so that is what is scored.
    """
    lin = leaves[layer.leaf_index]
    if graph is not None:
        group = graph.get_pruning_group(lin, tp.prune_linear_out_channels, idxs=list(range(layer.out_features)))
        return tp.importance.GroupMagnitudeImportance(p=p, normalizer=None)(group).detach()
    return lin.weight.detach().abs().pow(p).sum(dim=1)


def _neurons_to_remove(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], module, leaves, graph) -> dict[str, list[int]]:
    p = 1 if spec.method == NEURON_L1 else 2
    out = {}
    for l in layers:
        if l.is_output:
            continue
        k = _n_remove(spec.ratio_for(l.name), l.out_features, keep_at_least=1)
        if k == 0:
            continue
        imp = _neuron_importance(module, leaves, l, p, graph)
        out[l.name] = sorted(int(i) for i in np.argsort(imp.cpu().numpy(), kind="stable")[:k])
    return out


def _next_linear(leaves: list[nn.Module], after: int) -> nn.Module | None:
    for m in leaves[after + 1:]:
        if _is_linear(m):
            return m
    return None


def _structured_mask(module: nn.Module, leaves: list[nn.Module], layers: list[PrunableLayer], remove: dict[str, list[int]], chain: bool) -> dict[str, torch.Tensor]:
    """Zero removed neurons' incoming weights and bias, and, in a chain, their outgoing weights.

    Zeroing the outgoing column is what makes the masked twin compute exactly what the compacted
    network computes even through BatchNorm (whose output for a zero input is not zero).
    """
    masks: dict[str, torch.Tensor] = {}
    by_name = {l.name: l for l in layers}
    with torch.no_grad():
        for name, idx in remove.items():
            l = by_name[name]
            lin = leaves[l.leaf_index]
            rows = torch.ones_like(lin.weight, dtype=torch.bool)
            rows[idx, :] = False
            pname = _param_name(module, lin.weight)
            masks[pname] = masks.get(pname, torch.ones_like(rows)) & rows
            if lin.bias is not None:
                b = torch.ones_like(lin.bias, dtype=torch.bool)
                b[idx] = False
                masks[_param_name(module, lin.bias)] = b
            nxt = _next_linear(leaves, l.leaf_index) if chain else None
            if nxt is not None and nxt.weight.shape[1] == l.out_features:
                cols = torch.ones_like(nxt.weight, dtype=torch.bool)
                cols[:, idx] = False
                nname = _param_name(module, nxt.weight)
                masks[nname] = masks.get(nname, torch.ones_like(cols)) & cols
        params = dict(module.named_parameters())
        for pname, m in masks.items():
            params[pname].mul_(m.to(params[pname].dtype))
    return masks


def _dependency_graph(module: nn.Module, n_inputs: int):
    return tp.DependencyGraph().build_dependency(module, example_inputs=torch.zeros(2, n_inputs))


def _compact_neurons(module: nn.Module, leaves: list[nn.Module], layers: list[PrunableLayer], remove: dict[str, list[int]], graph) -> None:
    by_name = {l.name: l for l in layers}
    for name, idx in remove.items():
        lin = leaves[by_name[name].leaf_index]
        group = graph.get_pruning_group(lin, tp.prune_linear_out_channels, idxs=list(idx))
        group.prune()


def _neurons(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer]):
    module, leaves, chain = _working_copy(model)
    graph = _dependency_graph(module, model.n_inputs) if chain else None
    remove = _neurons_to_remove(model, spec, layers, module, leaves, graph)
    twin, twin_leaves, _ = _working_copy(model)
    twin_masks = _structured_mask(twin, twin_leaves, layers, remove, chain)
    if not chain:
        note = f"neurons masked, not removed: {model.structure_note}"
        return twin, twin, twin_masks, MASKED, note
    _compact_neurons(module, leaves, layers, remove, graph)
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in module.named_parameters() if p.dim() == 2}
    n_removed = sum(len(v) for v in remove.values())
    return module, twin, masks, COMPACTED, f"{n_removed} hidden neurons physically removed (torch-pruning dependency graph)"


# --------------------------------------------------------------------------- structured: inputs


def input_importance(model: LoadedModel, X_reference: np.ndarray | None, groups: Sequence[str] | None) -> tuple[list[str], np.ndarray]:
    """Importance of each input variable: first-layer weight norm × the input's spread in the data.

    Inputs are compared on what they can move: a large weight on an input that never varies (or a
    rare dummy) matters little. One-hot dummies of one variable are pooled (root of summed
    squares), because a data source is bought and monitored per variable, not per category.
    """
    first = prunable_layers(model)[0]
    if X_reference is not None and (np.ndim(X_reference) != 2 or np.shape(X_reference)[1] != model.n_inputs):
        raise SpecError(
            f"The reference rows have shape {np.shape(X_reference)}, but the model takes {model.n_inputs} inputs.",
            "Pass the prepared input matrix (one column per model input).",
        )
    leaves = [m for _, m in model.scripted.named_modules() if not list(m.children())]
    w = leaves[first.leaf_index].weight.detach().to(torch.float64).numpy()
    col_norm = np.sqrt((w ** 2).sum(axis=0))
    spread = np.ones(w.shape[1]) if X_reference is None or len(X_reference) < 2 else _first_layer_inputs(model, first, X_reference).std(axis=0)
    per_input = col_norm * spread
    names = list(groups) if groups is not None else [f"input {j}" for j in range(w.shape[1])]
    if len(names) != w.shape[1]:
        raise SpecError(f"{len(names)} input groups were given for {w.shape[1]} inputs.", "Pass one group per model input.")
    variables = list(dict.fromkeys(names))
    imp = np.array([np.sqrt(sum(per_input[j] ** 2 for j in range(len(names)) if names[j] == v)) for v in variables])
    return variables, imp


def _first_layer_inputs(model: LoadedModel, first: PrunableLayer, X: np.ndarray) -> np.ndarray:
    """What the first Linear layer actually sees: the rows after any per-input layers before it.

    A leading BatchNorm1d rescales every input, so the raw spread would misjudge importance.
    Only a verified chain can be cut at the first Linear; other networks use the raw rows.
    """
    X64 = np.asarray(X, dtype=np.float64)
    if model.eager is None or first.leaf_index == 0:
        return X64
    with torch.inference_mode():
        h = model.eager[:first.leaf_index].eval()(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    return h.to(torch.float64).numpy()


def _inputs(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], X_reference, groups, input_names):
    variables, imp = input_importance(model, X_reference, groups)
    k = _n_remove(spec.ratio, len(variables), keep_at_least=1)
    dropped_vars = [variables[i] for i in sorted(np.argsort(imp, kind="stable")[:k])]
    group_of = list(groups) if groups is not None else [f"input {j}" for j in range(model.n_inputs)]
    dropped_idx = [j for j, g in enumerate(group_of) if g in set(dropped_vars)]
    keep_idx = [j for j in range(model.n_inputs) if j not in set(dropped_idx)]
    names = list(input_names) if input_names is not None else group_of

    twin, twin_leaves, chain = _working_copy(model)
    first = twin_leaves[layers[0].leaf_index]
    col_mask = torch.ones_like(first.weight, dtype=torch.bool)
    col_mask[:, dropped_idx] = False
    with torch.no_grad():
        first.weight.mul_(col_mask.to(first.weight.dtype))
    twin_masks = {_param_name(twin, first.weight): col_mask}
    dropped = (tuple(names[j] for j in dropped_idx), tuple(dropped_vars))
    if not chain:
        return twin, twin, twin_masks, MASKED, f"inputs masked (first-layer columns zeroed): {model.structure_note}", dropped
    if not dropped_idx:
        return twin, twin, twin_masks, COMPACTED, "no input removed at this ratio", dropped

    module, leaves, _ = _working_copy(model)
    old = leaves[layers[0].leaf_index]
    new = nn.Linear(len(keep_idx), old.out_features, bias=old.bias is not None)
    with torch.no_grad():
        new.weight.copy_(old.weight[:, keep_idx])
        if old.bias is not None:
            new.bias.copy_(old.bias)
    # The selection goes right before the first Linear: per-input layers ahead of it (e.g. a
    # BatchNorm1d on the raw inputs) keep their full width and the model its input interface.
    at = layers[0].leaf_index
    new_leaves = list(leaves[:at]) + [SelectInputs(torch.tensor(keep_idx), model.n_inputs), new] + list(leaves[at + 1:])
    compact = nn.Sequential(*new_leaves).eval()
    masks = {n: torch.ones_like(p, dtype=torch.bool) for n, p in compact.named_parameters() if p.dim() == 2}
    note = f"{len(dropped_idx)} of {model.n_inputs} inputs ({len(dropped_vars)} variables) physically removed from the first layer"
    return compact, twin, masks, COMPACTED, note, dropped


# --------------------------------------------------------------------------- entry point


def layer_stats(module: nn.Module, masked_module: nn.Module, layers: list[PrunableLayer], state: str, dropped_inputs: int = 0) -> tuple[LayerStats, ...]:
    """Per-layer counts read off the masked twin (same shapes as the original, zeros where removed)."""
    leaves = [m for _, m in masked_module.named_modules() if not list(m.children())]
    linears = [m for m in leaves if _is_linear(m)]
    out = []
    for l, lin in zip(layers, linears):
        w = lin.weight.detach()
        nz = w != 0
        out.append(LayerStats(
            name=l.name, kind="Linear", total_weights=int(w.numel()), nonzero_weights=int(nz.sum()),
            neurons_total=l.out_features, neurons_kept=int(nz.any(dim=1).sum()),
            inputs_total=l.in_features, inputs_kept=int(nz.any(dim=0).sum()),
        ))
    return tuple(out)


def prune(
    model: LoadedModel,
    spec: PruneSpec,
    X_reference: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    input_names: Sequence[str] | None = None,
    original_size: ModelSize | None = None,
) -> PruneResult:
    """Apply ``spec`` to a copy of ``model``; deterministic for a given spec (and seed).

    ``X_reference`` (training or evaluation inputs) and ``groups`` (the variable of each input)
    are used by input-variable pruning only.
    """
    layers = validate_spec(model, spec)
    dropped: tuple[tuple[str, ...], tuple[str, ...]] = ((), ())
    if spec.method in UNSTRUCTURED:
        module, masks = _unstructured(model, spec, layers)
        twin, state = module, MASKED
        note = "weights set to zero; tensors keep their shape, so file size and compute do not shrink"
    elif spec.method in (NEURON_L1, NEURON_L2):
        module, twin, masks, state, note = _neurons(model, spec, layers)
    else:
        module, twin, masks, state, note, dropped = _inputs(model, spec, layers, X_reference, groups, input_names)
    module.eval()
    twin.eval()
    schema = model.schema
    reference_key = _reference_key(X_reference, groups) if spec.method == INPUT_FEATURES else ""
    return PruneResult(
        spec=spec, state=state, state_note=note, module=module, masked_module=twin, masks=masks,
        layers=layer_stats(module, twin, layers, state),
        size=measure_size(module, schema),
        original_size=original_size or original_size_of(model),
        dropped_inputs=dropped[0], dropped_variables=dropped[1],
        model_hash=model.content_hash, schema=schema, reference_key=reference_key,
    )


def _reference_key(X_reference: np.ndarray | None, groups: Sequence[str] | None) -> str:
    h = hashlib.sha256()
    if X_reference is not None:
        X = np.ascontiguousarray(X_reference, dtype=np.float64)
        h.update(str(X.shape).encode())
        h.update(X.tobytes())
    h.update(json.dumps(list(groups) if groups is not None else None).encode())
    return h.hexdigest()[:16]
