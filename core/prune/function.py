"""How a model is cut: masks that zero weights, channels, heads or inputs, and physical removal.

Masking keeps every tensor's shape; compaction goes through torch-pruning's dependency graph
(which removes a channel's producing rows, BatchNorm entries and consuming columns together,
``core.prune.depgraph``) or, for input variables of a chain, folds the removed inputs' reference
values into the first layer's bias and drops their columns. Results of a graph twin are written
back into a copy of the uploaded TorchScript module (same code, smaller tensors), so the user's
own ``forward`` is what ships.
"""
from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch
import torch_pruning as tp
from torch import nn

from core.model.layers import SelectInputs, Standardize
from core.prune.structure import PrunableLayer, copy_module, next_linear, param_name, submodule


def mask_lowest(scores: torch.Tensor, k: int) -> torch.Tensor:
    """Mask that removes exactly the ``k`` lowest scores; ties at the threshold go in index order, every time.

    The removed set is the first ``k`` of a stable sort, found by one partition (linear time: a
    slider move masks every layer of a network with hundreds of thousands of weights) — the
    scores below the k-th smallest, then as many of those equal to it as are still needed.
    """
    flat = scores.detach().reshape(-1).cpu().numpy()
    n = len(flat)
    if k <= 0:
        return torch.ones(scores.shape, dtype=torch.bool)
    if k >= n:
        return torch.zeros(scores.shape, dtype=torch.bool)
    if np.isnan(flat).any():  # NaN has no place in a partition order; the stable sort puts it last
        remove = np.zeros(n, dtype=bool)
        remove[np.argsort(flat, kind="stable")[:k]] = True
    else:
        kth = np.partition(flat, k - 1)[k - 1]
        remove = flat < kth
        remove[np.flatnonzero(flat == kth)[: k - int(remove.sum())]] = True
    return torch.from_numpy(~remove).reshape(scores.shape)


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
    """torch-pruning's DepGraph of an eager chain (any real numbers are valid inputs)."""
    return tp.DependencyGraph().build_dependency(module, example_inputs=torch.zeros(2, n_inputs))


def apply_masks(module: nn.Module, masks: dict[str, torch.Tensor]) -> None:
    """Multiply each named parameter by its 0/1 mask, in place (on a working copy only)."""
    params = dict(module.named_parameters())
    with torch.no_grad():
        for name, m in masks.items():
            params[name].mul_(m.to(params[name].dtype))


def _merge(masks: dict[str, torch.Tensor], name: str, keep: torch.Tensor) -> None:
    masks[name] = masks[name] & keep if name in masks else keep


def slice_masks(module: nn.Module, slices: Iterable[tuple[str, str, bool, list[int], int]],
                producers_only: bool = False) -> dict[str, torch.Tensor]:
    """Keep-masks that zero every slice of DepGraph groups on a same-shape copy (the masked twin).

    A Linear loses its rows and bias entries (outputs) or columns (inputs); an Embedding its
    dimension columns; a BatchNorm the weight and bias of the channel (its output is then exactly
    zero); an unwrapped parameter the entries along its pruning dimension. ``producers_only``
    zeroes only the output side: if DepGraph mapped the channels right, the consuming columns then
    see zeros and the function is the same (``core.prune.algorithms`` checks exactly that).
    """
    params = dict(module.named_parameters())
    masks: dict[str, torch.Tensor] = {}
    for name, mtype, out_side, idxs, dim in slices:
        if producers_only and not out_side:
            continue
        if name in params:  # an unwrapped parameter (a CLS token, a tokenizer weight)
            p = params[name]
            keep = torch.ones_like(p, dtype=torch.bool)
            keep.index_fill_(dim % p.dim(), torch.tensor(idxs, dtype=torch.long), False)
            _merge(masks, name, keep)
            continue
        try:
            sub = submodule(module, name)
        except AttributeError:
            continue
        idx = torch.tensor(idxs, dtype=torch.long)
        if mtype in ("Linear", "NonDynamicallyQuantizableLinear"):
            w = sub.weight
            keep = torch.ones_like(w, dtype=torch.bool)
            if out_side:
                keep[idx, :] = False
                if sub.bias is not None:
                    b = torch.ones_like(sub.bias, dtype=torch.bool)
                    b[idx] = False
                    _merge(masks, f"{name}.bias", b)
            else:
                keep[:, idx] = False
            _merge(masks, f"{name}.weight", keep)
        elif mtype == "Embedding":
            keep = torch.ones_like(sub.weight, dtype=torch.bool)
            keep[:, idx] = False
            _merge(masks, f"{name}.weight", keep)
        elif mtype.startswith("BatchNorm"):
            for pname in ("weight", "bias"):
                t = getattr(sub, pname, None)
                if t is not None:
                    keep = torch.ones_like(t, dtype=torch.bool)
                    keep[idx] = False
                    _merge(masks, f"{name}.{pname}", keep)
    return masks


def head_masks(module: nn.Module, attention: str, heads: list[int]) -> dict[str, torch.Tensor]:
    """Keep-masks removing whole heads of an ``nn.MultiheadAttention`` (scripted or eager).

    A head is its slice of the query, key and value projections (rows and biases) and its columns
    of the output projection. With its query and key rows zero every score is 0 (uniform
    attention), with its value rows zero it returns 0, and its output columns are zero anyway: the
    model computes exactly what the same network without that head computes (Michel et al. 2019,
    "Are Sixteen Heads Really Better than One?", mask heads the same way).
    """
    mha = submodule(module, attention)
    embed, n_heads = int(mha.embed_dim), int(mha.num_heads)
    head_dim = embed // n_heads
    rows = [r for h in heads for r in range(h * head_dim, (h + 1) * head_dim)]
    masks: dict[str, torch.Tensor] = {}
    if getattr(mha, "in_proj_weight", None) is not None:
        all_rows = torch.tensor([r + k * embed for k in range(3) for r in rows], dtype=torch.long)
        keep = torch.ones_like(mha.in_proj_weight, dtype=torch.bool)
        keep[all_rows, :] = False
        masks[f"{attention}.in_proj_weight"] = keep
        if getattr(mha, "in_proj_bias", None) is not None:
            b = torch.ones_like(mha.in_proj_bias, dtype=torch.bool)
            b[all_rows] = False
            masks[f"{attention}.in_proj_bias"] = b
    else:
        for part in ("q", "k", "v"):
            w = getattr(mha, f"{part}_proj_weight")
            keep = torch.ones_like(w, dtype=torch.bool)
            keep[torch.tensor(rows, dtype=torch.long), :] = False
            masks[f"{attention}.{part}_proj_weight"] = keep
        if getattr(mha, "in_proj_bias", None) is not None:
            b = torch.ones_like(mha.in_proj_bias, dtype=torch.bool)
            b[torch.tensor([r + k * embed for k in range(3) for r in rows], dtype=torch.long)] = False
            masks[f"{attention}.in_proj_bias"] = b
    out = mha.out_proj.weight
    keep = torch.ones_like(out, dtype=torch.bool)
    keep[:, torch.tensor(rows, dtype=torch.long)] = False
    masks[f"{attention}.out_proj.weight"] = keep
    return masks


def with_tensors(scripted: torch.jit.ScriptModule, state: dict[str, torch.Tensor]) -> torch.jit.ScriptModule:
    """A copy of the scripted module whose parameters and buffers are replaced by ``state`` (by name).

    This is how a cut computed on the graph twin ships: the upload's own TorchScript code runs
    with the smaller tensors (the caller verifies it computes what the twin computes).
    """
    out = copy_module(scripted)
    params = dict(out.named_parameters())
    buffers = dict(out.named_buffers())
    for name, tensor in state.items():
        owner_path, _, attr = name.rpartition(".")
        owner = submodule(out, owner_path) if owner_path else out
        if name in params:
            setattr(owner, attr, nn.Parameter(tensor.detach().clone(), requires_grad=params[name].requires_grad))
        elif name in buffers:
            setattr(owner, attr, tensor.detach().clone())
    return out.eval()


def fold_inputs(leaves: list[nn.Module], first_index: int, keep: list[int], fill: np.ndarray,
                n_inputs: int) -> tuple[nn.Sequential, nn.Sequential]:
    """(compacted chain, masked chain) without the removed inputs of a chain, their reference values folded in.

    The layers before the first Linear act per input (Standardize, BatchNorm1d, activations, Dropout), so a
    removed input's value at the first Linear is the prefix applied to its reference value; its
    contribution ``W[:, removed] @ h_fill[removed]`` is the same for every applicant and moves into
    the bias. The compacted chain takes only the kept inputs (per-input layers sliced to them);
    the masked chain keeps every shape with those columns zeroed and the same bias.
    """
    removed = [j for j in range(n_inputs) if j not in set(keep)]
    prefix = nn.Sequential(*[copy_module(m) for m in leaves[:first_index]]).eval()
    with torch.no_grad():
        h_fill = prefix(torch.from_numpy(np.asarray(fill, dtype=np.float32)[None, :]))[0].to(torch.float64)
    old = leaves[first_index]
    w64 = old.weight.detach().to(torch.float64)
    shift = (w64[:, removed] @ h_fill[removed]).to(old.weight.dtype) if removed else torch.zeros(old.out_features)
    new = nn.Linear(len(keep), old.out_features, bias=True)
    masked = nn.Linear(n_inputs, old.out_features, bias=True)
    with torch.no_grad():
        bias = (old.bias.detach() if old.bias is not None else torch.zeros(old.out_features)) + shift
        new.weight.copy_(old.weight[:, keep])
        new.bias.copy_(bias)
        masked.weight.copy_(old.weight)
        masked.weight[:, removed] = 0.0
        masked.bias.copy_(bias)
    sliced = [_slice_per_input(m, keep) for m in leaves[:first_index]]
    rest = [copy_module(m) for m in leaves[first_index + 1:]]
    compact = nn.Sequential(*sliced, new, *[copy_module(m) for m in rest]).eval()
    twin = nn.Sequential(*[copy_module(m) for m in leaves[:first_index]], masked, *rest).eval()
    return compact, twin


def _slice_per_input(m: nn.Module, keep: list[int]) -> nn.Module:
    if isinstance(m, nn.BatchNorm1d):
        bn = nn.BatchNorm1d(len(keep), eps=m.eps, momentum=m.momentum, affine=m.affine,
                            track_running_stats=m.track_running_stats)
        with torch.no_grad():
            if m.affine:
                bn.weight.copy_(m.weight[keep])
                bn.bias.copy_(m.bias[keep])
            if m.running_mean is not None:
                bn.running_mean.copy_(m.running_mean[keep])
                bn.running_var.copy_(m.running_var[keep])
        return bn.eval()
    if isinstance(m, SelectInputs):
        return SelectInputs(m.index[torch.tensor(keep, dtype=torch.long)], len(keep))
    if isinstance(m, Standardize):
        return Standardize(m.shift[keep], m.scale[keep]).eval()
    return copy_module(m)
