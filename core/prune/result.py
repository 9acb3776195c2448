"""A pruning's outcome: the new module, its masks, per-layer and per-block counts, honest sizes.

Two kinds of result, labelled so nobody confuses them — overall and for every layer and block:
* ``masked``   — weights are set to zero but the tensors keep their shape; the file and the
                 inference cost stay the same (only a sparse format could exploit the zeros).
* ``compacted`` — neurons, dimensions or inputs are physically removed; the network has fewer
                  parameters, a smaller file and fewer multiply-adds.

Removed input variables are a third thing, reported apart: the model's *interface* shrinks (the
exported model takes fewer columns) whether or not weights were removed with them.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.data.schema import FeatureSchema, FeatureSpec
from core.prune.size import ModelSize
from core.prune.structure import PrunableLayer, layer_label

if TYPE_CHECKING:
    from core.prune.spec import PruneSpec


MASKED, COMPACTED = "masked", "compacted"
UNCHANGED = "unchanged"


@dataclass(frozen=True)
class LayerStats:
    """One weight matrix after pruning, counted on the masked twin (original shapes, zeros where removed).

    ``neurons`` are the layer's output units (a Linear's rows, an Embedding's dimensions), ``inputs``
    what feeds them (a Linear's columns, an Embedding's codes). ``state`` says what happened to the
    layer itself: compacted (its tensor shrank), masked (zeros in place) or unchanged.
    """

    name: str
    kind: str
    total_weights: int  # weights of this layer in the original model
    nonzero_weights: int  # non-zero weights left (compacted layers count only what remains)
    neurons_total: int
    neurons_kept: int  # output units with at least one non-zero incoming weight, or kept after compaction
    inputs_total: int
    inputs_kept: int
    block: str = ""
    state: str = UNCHANGED
    weight_kind: str = "linear"

    @property
    def sparsity(self) -> float:
        return 1.0 - self.nonzero_weights / self.total_weights if self.total_weights else 0.0

    @property
    def label(self) -> str:
        """Type, original width and position ("Linear 61→64 (#0)"); ``name`` stays the key."""
        return layer_label(self.name, self.inputs_total, self.neurons_total, self.kind)

    def to_dict(self) -> dict:
        return {"layer": self.name, "label": self.label, "block": self.block, "kind": self.kind,
                "weight_kind": self.weight_kind, "state": self.state, "total_weights": self.total_weights,
                "nonzero_weights": self.nonzero_weights, "sparsity": self.sparsity,
                "neurons_total": self.neurons_total, "neurons_kept": self.neurons_kept,
                "inputs_total": self.inputs_total, "inputs_kept": self.inputs_kept}


@dataclass(frozen=True)
class BlockState:
    """What pruning did to one block (an MLP, an embedding list, an encoder layer's attention, the inputs)."""

    block: str
    state: str
    layers: tuple[str, ...]
    note: str = ""

    def to_dict(self) -> dict:
        return {"block": self.block, "state": self.state, "layers": ", ".join(self.layers), "note": self.note}


@dataclass(frozen=True, eq=False)
class PruneResult:
    spec: PruneSpec
    state: str  # MASKED or COMPACTED
    state_note: str
    module: nn.Module  # takes the workspace's full input row (a selector in front when inputs were removed)
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
    input_keep: tuple[int, ...] | None = None  # inputs the pruned model still reads (None: all)
    input_fills: tuple = ()  # InputFill of every removed variable: its reference value and where it comes from
    block_notes: dict = field(default_factory=dict)
    input_names: tuple[str, ...] = ()  # names of the original model inputs (for a schema-less export)
    stats_names: dict = field(default_factory=dict, repr=False)  # layer → weight name in ``masked_module``
    module_names: dict = field(default_factory=dict, repr=False)  # layer → weight name in ``module``
    # The score map appended after pruning (and fine-tuning), when one was: its description and key.
    alignment: dict | None = field(default=None, repr=False)

    @property
    def sparsity(self) -> float:
        """Share of the original weights (every weight matrix) that are zero or removed."""
        total = sum(l.total_weights for l in self.layers)
        return 1.0 - sum(l.nonzero_weights for l in self.layers) / total if total else 0.0

    @property
    def key(self) -> str:
        ft = json.dumps(self.fine_tuned, sort_keys=True, default=str) if self.fine_tuned else ""
        ref = f"|{self.reference_key}" if self.reference_key else ""
        aligned = f"|aligned {self.alignment['key']}" if self.alignment else ""
        return hashlib.sha256(f"{self.model_hash}|{self.spec.key}{ref}|{ft}{aligned}".encode()).hexdigest()[:32]

    # ---------------------------------------------------------------- the shipped model and its inputs

    @property
    def shipped(self) -> nn.Module:
        """The model as exported: it takes only the inputs it still reads (``inputs_for``)."""
        if self.input_keep is None:
            return self.module
        return self.module[1:] if isinstance(self.module, nn.Sequential) else self.module

    @property
    def n_shipped_inputs(self) -> int | None:
        return None if self.input_keep is None else len(self.input_keep)

    def inputs_for(self, X: np.ndarray) -> np.ndarray:
        """The columns of a full input matrix (the workspace's) that the shipped model takes."""
        X = np.asarray(X)
        return X if self.input_keep is None else X[:, list(self.input_keep)]

    def score(self, X: np.ndarray, kind: str) -> np.ndarray:
        """P(bad) of the shipped model on the rows of a full input matrix (only its kept columns are fed)."""
        from core.model.outputs import predict_pbad

        return predict_pbad(self.shipped, self.inputs_for(X), kind)

    @property
    def export_schema(self) -> FeatureSchema | None:
        """The schema the exported file carries: the kept variables only, the removed ones recorded
        with their fill values. A schema-less model that lost inputs gets one naming its columns, so
        the file still reloads against the same data."""
        if self.input_keep is None:
            return self.schema
        records = {f.variable: {"filled_with": f.how, "reference": f.raw, "inputs": list(f.inputs),
                                "input_values": list(f.values)} for f in self.input_fills}
        if self.schema is not None:
            return self.schema.without(records)
        kept = [self.input_names[j] for j in self.input_keep] if self.input_names else [f"input {j}" for j in self.input_keep]
        base = FeatureSchema(tuple(FeatureSpec(str(n), "numeric") for n in kept), extra={
            "note": "written by RiskPrune for a schema-less model: each column is fed as is (mean 0, std 1)"})
        return FeatureSchema(base.features, None, None, None,
                             {**base.extra, "dropped_variables": [dict(v, name=k) for k, v in records.items()]})

    # ---------------------------------------------------------------- tables

    def layer_frame(self):
        import pandas as pd

        return pd.DataFrame([l.to_dict() for l in self.layers])

    def block_states(self) -> tuple[BlockState, ...]:
        """Per block: compacted if any of its layers shrank, masked if any has new zeros, else unchanged."""
        order: dict[str, list[LayerStats]] = {}
        for l in self.layers:
            order.setdefault(l.block, []).append(l)
        out = []
        if self.input_keep is not None or "inputs" in self.block_notes:
            out.append(BlockState("inputs", COMPACTED if self.input_keep is not None else UNCHANGED, (),
                                  self.block_notes.get("inputs", "")))
        for block, ls in order.items():
            states = {l.state for l in ls}
            state = COMPACTED if COMPACTED in states else MASKED if MASKED in states else UNCHANGED
            out.append(BlockState(block, state, tuple(l.name for l in ls), self.block_notes.get(block, "")))
        return tuple(out)

    def block_frame(self):
        import pandas as pd

        return pd.DataFrame([b.to_dict() for b in self.block_states()], columns=["block", "state", "layers", "note"])

    def fill_frame(self):
        """The removed variables and the values fed in their place (for the report and the Prune page)."""
        import pandas as pd

        return pd.DataFrame([{"variable": f.variable, "value": f.raw, "how": f.how, "inputs": ", ".join(f.inputs),
                              "model_input_values": ", ".join(f"{v:.6g}" for v in f.values)} for f in self.input_fills],
                            columns=["variable", "value", "how", "inputs", "model_input_values"])

    def weight_matrix(self, layer: str) -> np.ndarray:
        """The named layer's weight in the masked twin (original shape, zeros where removed)."""
        for l in self.layers:
            if l.name == layer:
                break
        else:
            from core.errors import SpecError

            raise SpecError(f"The model has no layer '{layer}'.", "Pick one of the layers listed for this pruning.")
        if self.masked_module is not None:
            params, name = dict(self.masked_module.named_parameters()), self.stats_names.get(layer)
        else:
            params, name = dict(self.module.named_parameters()), self.module_names.get(layer)
        if name not in params:
            from core.errors import SpecError

            raise SpecError(f"The weights of layer '{layer}' are not available for this result.", "Prune again.")
        return params[name].detach().cpu().numpy().copy()

    def size_frame(self):
        import pandas as pd

        o, p = self.original_size.to_dict(), self.size.to_dict()
        return pd.DataFrame([{"quantity": k, "original": o[k], "pruned": p[k], "change": p[k] - o[k]} for k in o])


def original_shape(layer: PrunableLayer) -> tuple[int, int]:
    return (layer.in_features, layer.out_features) if layer.kind == "Embedding" else (layer.out_features, layer.in_features)


def layer_stats(module: nn.Module, masked_module: nn.Module, layers: list[PrunableLayer], state: str,
                stats_names: dict[str, str] | None = None, module_names: dict[str, str] | None = None,
                original: dict[str, torch.Tensor] | None = None) -> tuple[LayerStats, ...]:
    """Per-layer counts read off the masked twin; each layer's own state from the shapes and zeros."""
    masked_params = dict(masked_module.named_parameters())
    module_params = dict(module.named_parameters())
    stats_names = stats_names or {}
    module_names = module_names or stats_names
    out = []
    for l in layers:
        w = masked_params.get(stats_names.get(l.name, ""))
        if w is None:
            continue
        w = w.detach()
        nz = w != 0
        unit_axis = 1 if l.kind == "Embedding" else 0  # an Embedding's units are its dimensions (columns)
        in_axis = 1 - unit_axis
        shipped = module_params.get(module_names.get(l.name, ""))
        if shipped is not None and tuple(shipped.shape) != original_shape(l):
            layer_state = COMPACTED
        elif ((original is not None and l.name in original and int(nz.sum()) < int((original[l.name] != 0).sum()))
              or (original is None and state == MASKED and int(nz.sum()) < w.numel())):
            layer_state = MASKED
        else:
            layer_state = UNCHANGED
        out.append(LayerStats(
            name=l.name, kind=l.kind, total_weights=int(w.numel()), nonzero_weights=int(nz.sum()),
            neurons_total=int(w.shape[unit_axis]), neurons_kept=int(nz.any(dim=in_axis).sum()),
            inputs_total=int(w.shape[in_axis]), inputs_kept=int(nz.any(dim=unit_axis).sum()),
            block=l.block, state=layer_state, weight_kind=l.weight_kind,
        ))
    return tuple(out)
