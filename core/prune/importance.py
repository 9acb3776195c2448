"""What matters: importance scores that decide which weights, neurons or input variables go first.

The role of Torch-Pruning's ``pruner/importance.py``: every score is "higher = keep longer", and
the removal functions in ``core.prune.function`` cut the lowest scores first.
"""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch_pruning as tp
from torch import nn

from core.errors import SpecError
from core.model.loading import LoadedModel
from core.prune.structure import PrunableLayer, prunable_layers


def weight_magnitude(weight: torch.Tensor) -> torch.Tensor:
    """|w|: the classic unstructured criterion (Han et al. 2015, "Learning both weights and connections")."""
    return weight.detach().abs()


def random_scores(shape: torch.Size, seed: int, salt: int) -> torch.Tensor:
    """Seeded uniform scores: the random baseline every pruning criterion must beat.

    ``salt`` (the layer's position) gives every layer its own stream of the same seed.
    """
    gen = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(salt))
    return torch.rand(shape, generator=gen)


def neuron_importance(leaves: list[nn.Module], layer: PrunableLayer, p: int, graph) -> torch.Tensor:
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


def row_norms(weight: torch.Tensor, p: int) -> torch.Tensor:
    """Lp mass of each output unit's incoming weights: a neuron's importance when only its own
    layer is known (no dependency graph to find its consumers)."""
    return weight.detach().abs().pow(p).sum(dim=1)


def column_norms(weight: torch.Tensor, p: int) -> torch.Tensor:
    """Lp mass of each column: an embedding dimension's importance across all codes."""
    return weight.detach().abs().pow(p).sum(dim=0)


def head_importance(mha: nn.Module, p: int) -> torch.Tensor:
    """Lp mass of each attention head's slice of the q/k/v projections and of the output projection
    (a magnitude proxy for the head importance of Michel et al. 2019)."""
    embed, n_heads = int(mha.embed_dim), int(mha.num_heads)
    head_dim = embed // n_heads
    if getattr(mha, "in_proj_weight", None) is not None:
        qkv = [mha.in_proj_weight.detach()[k * embed:(k + 1) * embed] for k in range(3)]
    else:
        qkv = [getattr(mha, f"{part}_proj_weight").detach() for part in ("q", "k", "v")]
    out = mha.out_proj.weight.detach()
    scores = []
    for h in range(n_heads):
        rows = slice(h * head_dim, (h + 1) * head_dim)
        mass = sum(float(w[rows].abs().pow(p).sum()) for w in qkv) + float(out[:, rows].abs().pow(p).sum())
        scores.append(mass)
    return torch.tensor(scores, dtype=torch.float64)


def input_importance(model: LoadedModel, X_reference: np.ndarray | None, groups: Sequence[str] | None) -> tuple[list[str], np.ndarray]:
    """Importance of each input variable: first-layer weight norm × the input's spread in the data.

    Inputs are compared on what they can move: a large weight on an input that never varies (or a
    rare dummy) matters little. One-hot dummies of one variable are pooled (root of summed
    squares), because a data source is bought and monitored per variable, not per category.
    """
    first = [l for l in prunable_layers(model) if l.kind == "Linear"][0]
    if X_reference is not None and (np.ndim(X_reference) != 2 or np.shape(X_reference)[1] != model.n_inputs):
        raise SpecError(
            f"The reference rows have shape {np.shape(X_reference)}, but the model takes {model.n_inputs} inputs.",
            "Pass the prepared input matrix (one column per model input).",
        )
    leaves = [m for _, m in model.scripted.named_modules() if not list(m.children())]
    w = leaves[first.leaf_index].weight.detach().to(torch.float64).numpy()
    col_norm = np.sqrt((w ** 2).sum(axis=0))
    spread = np.ones(w.shape[1]) if X_reference is None or len(X_reference) < 2 else first_layer_inputs(model, first, X_reference).std(axis=0)
    per_input = col_norm * spread
    names = list(groups) if groups is not None else [f"input {j}" for j in range(w.shape[1])]
    if len(names) != w.shape[1]:
        raise SpecError(f"{len(names)} input groups were given for {w.shape[1]} inputs.", "Pass one group per model input.")
    variables = list(dict.fromkeys(names))
    imp = np.array([np.sqrt(sum(per_input[j] ** 2 for j in range(len(names)) if names[j] == v)) for v in variables])
    return variables, imp


def first_layer_inputs(model: LoadedModel, first: PrunableLayer, X: np.ndarray) -> np.ndarray:
    """What the first Linear layer actually sees: the rows after any per-input layers before it.

    A leading BatchNorm1d rescales every input, so the raw spread would misjudge importance.
    Only a verified chain can be cut at the first Linear; other networks use the raw rows.
    """
    X64 = np.asarray(X, dtype=np.float64)
    if not model.is_chain or first.leaf_index == 0:
        return X64
    with torch.inference_mode():
        h = model.eager[:first.leaf_index].eval()(torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32)))
    return h.to(torch.float64).numpy()
