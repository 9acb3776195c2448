"""Where a network can be cut: every weight matrix by name and block, and independent working copies.

A weight layer is a ``Linear``, an ``Embedding`` table, or an attention projection (the packed
q/k/v ``in_proj`` and the ``out_proj`` of ``nn.MultiheadAttention``), named as in the upload
(``mlp.0``, ``emb.3``, ``enc.0.self_attn.in_proj``) and grouped by the block it sits in
(``mlp``, ``emb``, ``enc.0.self_attn``), which is how the Prune page lists them. ``weight_kind``
("linear", "embedding", "attention") is what a spec can include or exclude (e.g. keep embeddings
dense).

Pruning never touches the loaded model; every method starts from a deep copy whose parameters
are leaves (see ``copy_module``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.model.graph import kind_of
from core.model.loading import LoadedModel

LINEAR, EMBEDDING, ATTENTION = "linear", "embedding", "attention"
WEIGHT_KINDS = (LINEAR, EMBEDDING, ATTENTION)
WEIGHT_KIND_LABELS = {LINEAR: "Linear layers", EMBEDDING: "Embedding tables", ATTENTION: "attention projections"}
_LINEAR_KINDS = ("Linear", "NonDynamicallyQuantizableLinear")


def layer_label(name: str, in_features: int, out_features: int, kind: str = "Linear") -> str:
    """A layer as a reader recognises it: type, width and position, e.g. "Linear 61→64 (#0)".

    Module names of a plain ``nn.Sequential`` are bare positions ("0", "4", "7"), which say nothing
    on a chart axis; the name stays the key everywhere (overrides, masks, CSVs), this is its label.
    """
    where = f"#{name}" if str(name).isdigit() else str(name)
    return f"{kind} {int(in_features)}→{int(out_features)} ({where})"


@dataclass(frozen=True)
class PrunableLayer:
    """A weight matrix as the user sees it: its name in the upload, its block and where it sits.

    ``in_features``/``out_features`` are the matrix's columns/rows as the layer uses them (a Linear's
    inputs/outputs; an Embedding's dimensions/codes are reported as inputs = codes, outputs =
    dimensions). ``leaf_index`` is the position among the upload's leaf modules (-1 for the packed
    attention in-projection, which belongs to a non-leaf module). ``param`` is the weight's
    parameter name in the upload.
    """

    name: str
    leaf_index: int
    in_features: int
    out_features: int
    is_output: bool
    kind: str = "Linear"  # "Linear" | "Embedding" | "Attention"
    block: str = ""
    param: str = ""
    weight_kind: str = LINEAR

    @property
    def label(self) -> str:
        return layer_label(self.name, self.in_features, self.out_features, self.kind)


def _parent(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name else "(root)"


def prunable_layers(model: LoadedModel) -> list[PrunableLayer]:
    """Every weight matrix in module order; output layers (whose rows are the scores) are flagged.

    In a chain the last Linear produces the scores. Elsewhere a Linear producing at most two
    values (one logit or probability, two class scores) is taken as an output layer — every
    parallel head of an ensemble ends in one — as is the last Linear of the model.
    """
    scripted = model.scripted
    leaves = [m for _, m in scripted.named_modules() if not list(m.children())]
    leaf_pos = {id(m): i for i, m in enumerate(leaves)}
    kinds = {name: kind_of(m) for name, m in scripted.named_modules()}
    out: list[PrunableLayer] = []
    for name, m in scripted.named_modules():
        kind = kinds[name]
        parent = _parent(name)
        in_attention = kinds.get(parent) == "MultiheadAttention"
        if kind in _LINEAR_KINDS and getattr(m, "weight", None) is not None:
            o, i = (int(d) for d in m.weight.shape)
            if in_attention:
                out.append(PrunableLayer(name, leaf_pos.get(id(m), -1), i, o, False, "Attention", parent, f"{name}.weight", ATTENTION))
            else:
                out.append(PrunableLayer(name or "(root)", leaf_pos.get(id(m), -1), i, o, False, "Linear", parent,
                                         f"{name}.weight" if name else "weight", LINEAR))
        elif kind == "Embedding":
            n, d = (int(v) for v in m.weight.shape)
            out.append(PrunableLayer(name, leaf_pos.get(id(m), -1), n, d, False, "Embedding", parent, f"{name}.weight", EMBEDDING))
        elif kind == "MultiheadAttention":
            w = getattr(m, "in_proj_weight", None)
            if w is not None:
                o, i = (int(d) for d in w.shape)
                out.append(PrunableLayer(f"{name}.in_proj", -1, i, o, False, "Attention", name, f"{name}.in_proj_weight", ATTENTION))
            else:
                for part in ("q", "k", "v"):
                    pw = getattr(m, f"{part}_proj_weight", None)
                    if pw is not None:
                        o, i = (int(d) for d in pw.shape)
                        out.append(PrunableLayer(f"{name}.{part}_proj", -1, i, o, False, "Attention", name,
                                                 f"{name}.{part}_proj_weight", ATTENTION))
    # the attention out-projection belongs to its attention block in the listing
    out = [PrunableLayer(l.name, l.leaf_index, l.in_features, l.out_features, l.is_output, l.kind,
                         l.name.rsplit(".", 1)[0] if l.kind == "Attention" and l.name.endswith("out_proj") else l.block,
                         l.param, l.weight_kind) for l in out]
    linears = [k for k, l in enumerate(out) if l.weight_kind == LINEAR]
    if linears:
        outputs = {linears[-1]}
        if not model.is_chain:
            outputs |= {k for k in linears if out[k].out_features <= 2}
        for k in outputs:
            out[k] = PrunableLayer(out[k].name, out[k].leaf_index, out[k].in_features, out[k].out_features, True,
                                   out[k].kind, out[k].block, out[k].param, out[k].weight_kind)
    return out


def layer_frame(model: LoadedModel):
    """The weight layers as a table (layer, block, kind, weight kind, shape, output flag, weights)."""
    import pandas as pd

    return pd.DataFrame([{
        "layer": l.name, "block": l.block, "kind": l.kind, "weight_kind": l.weight_kind,
        "in_features": l.in_features, "out_features": l.out_features, "is_output": l.is_output,
        "weights": l.in_features * l.out_features,
    } for l in prunable_layers(model)])


def is_linear(m: nn.Module) -> bool:
    return isinstance(m, nn.Linear) or getattr(m, "original_name", "") == "Linear"


def linear_weights(module: nn.Module) -> list[np.ndarray]:
    """Weight matrices of the Linear layers in call order (copies; for display and checks)."""
    leaves = [m for _, m in module.named_modules() if not list(m.children())]
    return [m.weight.detach().cpu().numpy().copy() for m in leaves if is_linear(m)]


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


def working_copy(model: LoadedModel) -> tuple[nn.Module, list[nn.Module], bool]:
    """A deep copy to prune and its leaves in call order; the chain twin when there is one."""
    if model.is_chain:
        m = copy_module(model.eager).eval()
        return m, list(m), True
    m = copy_module(model.scripted).eval()
    return m, [x for _, x in m.named_modules() if not list(x.children())], False


def weight_name(model: LoadedModel, layer: PrunableLayer) -> str:
    """The layer's weight parameter name in ``model.module`` (the chain twin numbers its leaves)."""
    if model.is_chain:
        return f"{layer.leaf_index}.weight"
    return layer.param


def submodule(root: nn.Module, path: str) -> nn.Module:
    """The module at a dotted path; works on TorchScript modules too (they lack ``get_submodule``)."""
    module = root
    for part in path.split(".") if path else ():
        module = getattr(module, part)
    return module


def param_name(root: nn.Module, target: torch.Tensor) -> str:
    for name, p in root.named_parameters():
        if p is target:
            return name
    raise KeyError("parameter not found")


def next_linear(leaves: list[nn.Module], after: int) -> nn.Module | None:
    for m in leaves[after + 1:]:
        if is_linear(m):
            return m
    return None
