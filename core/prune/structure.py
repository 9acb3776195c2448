"""Where a network can be cut: its Linear layers in call order, and independent working copies.

Pruning never touches the loaded model; every method starts from a deep copy whose parameters
are leaves (see ``copy_module``).
"""
from __future__ import annotations

import copy
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.model.loading import LoadedModel


def layer_label(name: str, in_features: int, out_features: int, kind: str = "Linear") -> str:
    """A layer as a reader recognises it: type, width and position, e.g. "Linear 61→64 (#0)".

    Module names of a plain ``nn.Sequential`` are bare positions ("0", "4", "7"), which say nothing
    on a chart axis; the name stays the key everywhere (overrides, masks, CSVs), this is its label.
    """
    where = f"#{name}" if str(name).isdigit() else str(name)
    return f"{kind} {int(in_features)}→{int(out_features)} ({where})"


@dataclass(frozen=True)
class PrunableLayer:
    """A Linear layer as the user sees it (its name in the uploaded model) and where it sits."""

    name: str
    leaf_index: int
    in_features: int
    out_features: int
    is_output: bool

    @property
    def label(self) -> str:
        return layer_label(self.name, self.in_features, self.out_features)


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
    """A deep copy to prune and its leaves in call order; eager when a verified twin exists."""
    if model.eager is not None:
        m = copy_module(model.eager).eval()
        return m, list(m), True
    m = copy_module(model.scripted).eval()
    return m, [x for _, x in m.named_modules() if not list(x.children())], False


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
