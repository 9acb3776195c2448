"""A pruning's outcome: the new module, its masks, per-layer counts and honest size accounting.

Two kinds of result, labelled so nobody confuses them:
* ``masked``   — weights are set to zero but the tensors keep their shape; the file and the
                 inference cost stay the same (only a sparse format could exploit the zeros).
* ``compacted`` — neurons or inputs are physically removed; the network has fewer parameters,
                  a smaller file and fewer multiply-adds.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import torch
from torch import nn

from core.data.schema import FeatureSchema
from core.prune.size import ModelSize
from core.prune.structure import PrunableLayer, is_linear, layer_label

if TYPE_CHECKING:
    from core.prune.spec import PruneSpec


MASKED, COMPACTED = "masked", "compacted"


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

    @property
    def label(self) -> str:
        """Type, original width and position ("Linear 61→64 (#0)"); ``name`` stays the key."""
        return layer_label(self.name, self.inputs_total, self.neurons_total, self.kind)

    def to_dict(self) -> dict:
        return {"layer": self.name, "label": self.label, "kind": self.kind, "total_weights": self.total_weights,
                "nonzero_weights": self.nonzero_weights, "sparsity": self.sparsity,
                "neurons_total": self.neurons_total, "neurons_kept": self.neurons_kept,
                "inputs_total": self.inputs_total, "inputs_kept": self.inputs_kept}


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
    # The score map appended after pruning (and fine-tuning), when one was: its description and key.
    alignment: dict | None = field(default=None, repr=False)

    @property
    def sparsity(self) -> float:
        """Share of the original Linear weights that are zero or removed."""
        total = sum(l.total_weights for l in self.layers)
        return 1.0 - sum(l.nonzero_weights for l in self.layers) / total if total else 0.0

    @property
    def key(self) -> str:
        ft = json.dumps(self.fine_tuned, sort_keys=True, default=str) if self.fine_tuned else ""
        ref = f"|{self.reference_key}" if self.reference_key else ""
        aligned = f"|aligned {self.alignment['key']}" if self.alignment else ""
        return hashlib.sha256(f"{self.model_hash}|{self.spec.key}{ref}|{ft}{aligned}".encode()).hexdigest()[:32]

    def layer_frame(self):
        import pandas as pd

        return pd.DataFrame([l.to_dict() for l in self.layers])

    def size_frame(self):
        import pandas as pd

        o, p = self.original_size.to_dict(), self.size.to_dict()
        return pd.DataFrame([{"quantity": k, "original": o[k], "pruned": p[k], "change": p[k] - o[k]} for k in o])


def layer_stats(module: nn.Module, masked_module: nn.Module, layers: list[PrunableLayer], state: str,
                dropped_inputs: int = 0) -> tuple[LayerStats, ...]:
    """Per-layer counts read off the masked twin (same shapes as the original, zeros where removed)."""
    leaves = [m for _, m in masked_module.named_modules() if not list(m.children())]
    linears = [m for m in leaves if is_linear(m)]
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
