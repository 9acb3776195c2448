"""When and how much: the procedure of each pruning method, from a spec to a ``Cut``.

Each procedure picks what to remove with a criterion from ``core.prune.importance`` and removes
it with ``core.prune.function`` (the role of Torch-Pruning's ``pruner/algorithms``). It works on
working copies only; the loaded model is never touched. Methods are registered, with their
labels and what their ratio means, in ``core.prune.methods``.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.model.loading import LoadedModel
from core.prune.function import (
    apply_masks,
    compact_neurons,
    count_to_remove,
    dependency_graph,
    mask_input_columns,
    mask_lowest,
    mask_neurons,
    remove_input_columns,
)
from core.prune.importance import input_importance, neuron_importance, random_scores, weight_magnitude
from core.prune.result import COMPACTED, MASKED
from core.prune.structure import PrunableLayer, param_name, working_copy

if TYPE_CHECKING:
    from core.prune.spec import PruneSpec


@dataclass(frozen=True, eq=False)
class Cut:
    """What a procedure hands back: the pruned module, its same-shape masked twin and masks."""

    module: nn.Module
    masked_module: nn.Module  # the same function with original shapes, zeros where removed
    masks: dict[str, torch.Tensor]  # param name in ``module`` -> True where kept
    state: str  # MASKED or COMPACTED
    note: str
    dropped_inputs: tuple[str, ...] = ()
    dropped_variables: tuple[str, ...] = ()


@dataclass(frozen=True)
class Reference:
    """Rows and names that may inform a cut (input-variable pruning only uses them)."""

    X: np.ndarray | None = None
    groups: Sequence[str] | None = None  # the variable of each model input
    input_names: Sequence[str] | None = None


UNSTRUCTURED_NOTE = "weights set to zero; tensors keep their shape, so file size and compute do not shrink"


def _masked_weights(model: LoadedModel, masks_by_layer: dict[str, torch.Tensor], layers: list[PrunableLayer]) -> Cut:
    module, leaves, _ = working_copy(model)
    by_param = {param_name(module, leaves[l.leaf_index].weight): masks_by_layer[l.name] for l in layers if l.name in masks_by_layer}
    apply_masks(module, by_param)
    return Cut(module, module, by_param, MASKED, UNSTRUCTURED_NOTE)


def _layer_weights(model: LoadedModel, layers: list[PrunableLayer]) -> dict[str, torch.Tensor]:
    leaves = [m for _, m in model.module.named_modules() if not list(m.children())]
    return {l.name: leaves[l.leaf_index].weight for l in layers}


def layerwise(score, model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    """Remove the lowest-scoring share of every layer's weights (each layer its own ratio)."""
    weights = _layer_weights(model, layers)
    masks = {l.name: mask_lowest(score(weights[l.name], spec, l), count_to_remove(spec.ratio_for(l.name), weights[l.name].numel()))
             for l in layers}
    return _masked_weights(model, masks, layers)


def magnitude_layerwise(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    return layerwise(lambda w, s, l: weight_magnitude(w), model, spec, layers, reference)


def random_layerwise(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    return layerwise(lambda w, s, l: random_scores(w.shape, s.seed, l.leaf_index), model, spec, layers, reference)


def magnitude_global(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    """One magnitude threshold across all layers without an override; overridden layers go layer-wise."""
    weights = _layer_weights(model, layers)
    overridden = {n for n, _ in spec.overrides}
    masks: dict[str, torch.Tensor] = {}
    pooled = [l.name for l in layers if l.name not in overridden]
    if pooled:
        flat = torch.cat([weight_magnitude(weights[n]).reshape(-1) for n in pooled])
        keep = mask_lowest(flat, count_to_remove(spec.ratio, flat.numel()))
        offset = 0
        for n in pooled:
            w = weights[n]
            masks[n] = keep[offset:offset + w.numel()].reshape(w.shape)
            offset += w.numel()
    for l in layers:
        if l.name not in masks:
            w = weights[l.name]
            masks[l.name] = mask_lowest(weight_magnitude(w), count_to_remove(spec.ratio_for(l.name), w.numel()))
    return _masked_weights(model, masks, layers)


def _neurons_to_remove(spec: PruneSpec, layers: list[PrunableLayer], leaves, graph, p: int) -> dict[str, list[int]]:
    out = {}
    for l in layers:
        if l.is_output:
            continue
        k = count_to_remove(spec.ratio_for(l.name), l.out_features, keep_at_least=1)
        if k == 0:
            continue
        imp = neuron_importance(leaves, l, p, graph)
        out[l.name] = sorted(int(i) for i in np.argsort(imp.cpu().numpy(), kind="stable")[:k])
    return out


def neurons(p: int):
    """Hidden neurons with the lowest Lp group norm, compacted through DepGraph where the chain allows."""

    def procedure(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
        module, leaves, chain = working_copy(model)
        graph = dependency_graph(module, model.n_inputs) if chain else None
        remove = _neurons_to_remove(spec, layers, leaves, graph, p)
        twin, twin_leaves, _ = working_copy(model)
        twin_masks = mask_neurons(twin, twin_leaves, layers, remove, chain)
        if not chain:
            return Cut(twin, twin, twin_masks, MASKED, f"neurons masked, not removed: {model.structure_note}")
        compact_neurons(module, leaves, layers, remove, graph)
        masks = {n: torch.ones_like(q, dtype=torch.bool) for n, q in module.named_parameters() if q.dim() == 2}
        n_removed = sum(len(v) for v in remove.values())
        return Cut(module, twin, masks, COMPACTED, f"{n_removed} hidden neurons physically removed together with every weight "
                                                   "wired to them (torch-pruning's dependency graph)")

    return procedure


def input_variables(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    """The least important input variables (all their one-hot inputs together) leave the first layer."""
    groups = reference.groups
    variables, imp = input_importance(model, reference.X, groups)
    k = count_to_remove(spec.ratio, len(variables), keep_at_least=1)
    dropped_vars = [variables[i] for i in sorted(np.argsort(imp, kind="stable")[:k])]
    group_of = list(groups) if groups is not None else [f"input {j}" for j in range(model.n_inputs)]
    dropped_idx = [j for j, g in enumerate(group_of) if g in set(dropped_vars)]
    keep_idx = [j for j in range(model.n_inputs) if j not in set(dropped_idx)]
    names = list(reference.input_names) if reference.input_names is not None else group_of
    dropped = dict(dropped_inputs=tuple(names[j] for j in dropped_idx), dropped_variables=tuple(dropped_vars))

    twin, twin_leaves, chain = working_copy(model)
    twin_masks = mask_input_columns(twin, twin_leaves[layers[0].leaf_index], dropped_idx)
    if not chain:
        return Cut(twin, twin, twin_masks, MASKED, f"inputs masked (first-layer columns zeroed): {model.structure_note}", **dropped)
    if not dropped_idx:
        return Cut(twin, twin, twin_masks, COMPACTED, "no input removed at this ratio", **dropped)
    _, leaves, _ = working_copy(model)
    compact = remove_input_columns(leaves, layers[0].leaf_index, keep_idx, model.n_inputs)
    masks = {n: torch.ones_like(q, dtype=torch.bool) for n, q in compact.named_parameters() if q.dim() == 2}
    note = f"{len(dropped_idx)} of {model.n_inputs} inputs ({len(dropped_vars)} variables) physically removed from the first layer"
    return Cut(compact, twin, masks, COMPACTED, note, **dropped)
