"""How one layer is cut: masks that zero weights, neurons or inputs, and physical removal.

Masking keeps every tensor's shape; compaction goes through torch-pruning's dependency graph
(which removes a neuron's incoming row, bias, BatchNorm channel and the next layer's column
together) or, for inputs, replaces the first layer with a narrower one behind a selector.
"""
from __future__ import annotations

import numpy as np
import torch
import torch_pruning as tp
from torch import nn

from core.model.layers import SelectInputs
from core.prune.structure import PrunableLayer, next_linear, param_name


def mask_lowest(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Mask that removes exactly the ``k`` lowest scores (stable order breaks ties the same way every time)."""
    flat = scores.reshape(-1)
    mask = torch.ones_like(flat, dtype=torch.bool)
    if k > 0:
        order = torch.from_numpy(np.argsort(flat.detach().cpu().numpy(), kind="stable")[:k])
        mask[order] = False
    return mask.reshape(scores.shape)


def count_to_remove(ratio: float, n: int, keep_at_least: int = 0) -> int:
    """How many of ``n`` units a ratio removes (rounded), never leaving fewer than ``keep_at_least``."""
    return int(min(max(int(round(ratio * n)), 0), n - keep_at_least))


def mask_neurons(module: nn.Module, leaves: list[nn.Module], layers: list[PrunableLayer], remove: dict[str, list[int]],
                 chain: bool) -> dict[str, torch.Tensor]:
    """Zero removed neurons' incoming weights and bias, and, in a chain, their outgoing weights.

    Zeroing the outgoing column is what makes the masked twin compute exactly what the compacted
    network computes even through BatchNorm (whose output for a zero input is not zero).
    """
    masks: dict[str, torch.Tensor] = {}
    by_name = {l.name: l for l in layers}
    for name, idx in remove.items():
        l = by_name[name]
        lin = leaves[l.leaf_index]
        rows = torch.ones_like(lin.weight, dtype=torch.bool)
        rows[idx, :] = False
        pname = param_name(module, lin.weight)
        masks[pname] = masks.get(pname, torch.ones_like(rows)) & rows
        if lin.bias is not None:
            b = torch.ones_like(lin.bias, dtype=torch.bool)
            b[idx] = False
            masks[param_name(module, lin.bias)] = b
        nxt = next_linear(leaves, l.leaf_index) if chain else None
        if nxt is not None and nxt.weight.shape[1] == l.out_features:
            cols = torch.ones_like(nxt.weight, dtype=torch.bool)
            cols[:, idx] = False
            nname = param_name(module, nxt.weight)
            masks[nname] = masks.get(nname, torch.ones_like(cols)) & cols
    apply_masks(module, masks)
    return masks


def dependency_graph(module: nn.Module, n_inputs: int):
    """torch-pruning's DepGraph of an eager module: which parameters must be cut together."""
    return tp.DependencyGraph().build_dependency(module, example_inputs=torch.zeros(2, n_inputs))


def compact_neurons(module: nn.Module, leaves: list[nn.Module], layers: list[PrunableLayer], remove: dict[str, list[int]], graph) -> None:
    """Physically remove the given output neurons of each layer, with everything coupled to them."""
    by_name = {l.name: l for l in layers}
    for name, idx in remove.items():
        lin = leaves[by_name[name].leaf_index]
        group = graph.get_pruning_group(lin, tp.prune_linear_out_channels, idxs=list(idx))
        group.prune()


def apply_masks(module: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Multiply each named parameter by its 0/1 mask, in place (on a working copy only)."""
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, m in masks.items():
            params[name].mul_(m.to(params[name].dtype))


def mask_input_columns(module: nn.Module, first: nn.Module, dropped: list[int]) -> dict[str, torch.Tensor]:
    """Zero the first layer's columns of dropped inputs (structured masking of inputs)."""
    col_mask = torch.ones_like(first.weight, dtype=torch.bool)
    col_mask[:, dropped] = False
    masks = {param_name(module, first.weight): col_mask}
    apply_masks(module, masks)
    return masks


def remove_input_columns(leaves: list[nn.Module], first_index: int, keep: list[int], n_inputs: int) -> nn.Sequential:
    """A chain whose first Linear takes only the kept inputs, behind a selector keeping the interface.

    The selection goes right before the first Linear: per-input layers ahead of it (e.g. a
    BatchNorm1d on the raw inputs) keep their full width and the model its input interface.
    """
    old = leaves[first_index]
    new = nn.Linear(len(keep), old.out_features, bias=old.bias is not None)
    with torch.no_grad():
        new.weight.copy_(old.weight[:, keep])
        if old.bias is not None:
            new.bias.copy_(old.bias)
    new_leaves = list(leaves[:first_index]) + [SelectInputs(torch.tensor(keep), n_inputs), new] + list(leaves[first_index + 1:])
    return nn.Sequential(*new_leaves).eval()
