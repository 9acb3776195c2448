"""What can be pruned in a model, block by block, before anything is pruned.

The Prune page lists a model's blocks (``mlp``, ``emb``, ``enc.0.self_attn``, ``enc.0``), the
weight matrices in each (what the unstructured methods and the layer picker offer), and the
structured units each block offers — hidden neurons, attention heads, embedding dimensions — with
whether they can be **compacted** (removed physically, verified) or only **masked**, and why.
The answers come from the same code the pruning runs (DepGraph on the model's eager twin), so
the table never promises a compaction the pruning then cannot deliver.
"""
from __future__ import annotations

import numpy as np
import pandas as pd

from core.model.loading import LoadedModel
from core.prune.algorithms import Reference, attention_modules, unit_groups
from core.prune.depgraph import EMBEDDING_DIMS, NEURONS
from core.prune.structure import prunable_layers

UNIT_METHODS = {NEURONS: "neuron_l1, neuron_l2", EMBEDDING_DIMS: "embedding_dims", "heads": "attention_heads"}
COLUMNS = ["block", "layer", "kind", "weight_kind", "weights", "unit", "units", "methods", "compaction", "why"]


def prunable_units(model: LoadedModel, X_reference: np.ndarray | None = None) -> pd.DataFrame:
    """One row per weight layer and per structured group: block, layer, kind, what it offers and how.

    ``compaction`` is "compacted" (the units can leave every coupled tensor), "masked" (zeros in
    place only) or "not prunable" (e.g. a stream normalised across channels, the output units);
    ``why`` says why when it is not "compacted".
    """
    layers = prunable_layers(model)
    by_name = {l.name: l for l in layers}
    reference = Reference(X_reference)
    rows = []
    for l in layers:
        rows.append({"block": l.block, "layer": l.name, "kind": l.kind, "weight_kind": l.weight_kind,
                     "weights": l.in_features * l.out_features, "unit": "weights", "units": l.in_features * l.out_features,
                     "methods": "magnitude_layer, magnitude_global, random", "compaction": "masked",
                     "why": "unstructured zeros keep every tensor's shape"})
    for unit in (NEURONS, EMBEDDING_DIMS):
        try:
            groups = unit_groups(model, unit, layers, reference)
        except Exception as exc:  # a twin DepGraph cannot trace: everything stays maskable
            groups = []
            why = f"torch-pruning could not trace the twin ({str(exc).splitlines()[0][:100]})"
            for l in layers:
                if (unit == NEURONS and l.weight_kind == "linear" and not l.is_output) or (unit == EMBEDDING_DIMS and l.kind == "Embedding"):
                    rows.append({"block": l.block, "layer": l.name, "kind": l.kind, "weight_kind": l.weight_kind, "weights": 0,
                                 "unit": unit, "units": l.out_features, "methods": UNIT_METHODS[unit], "compaction": "masked",
                                 "why": why})
        for g in groups:
            layer = by_name.get(g.name)
            if model.eager is None:
                state = "not prunable" if g.refusal else "masked"
                why = g.refusal or f"no eager twin: {model.structure_note}"
            else:
                state = "not prunable" if g.refusal else "compacted"
                why = g.refusal
            rows.append({"block": layer.block if layer else g.name.rsplit(".", 1)[0], "layer": g.name,
                         "kind": layer.kind if layer else "", "weight_kind": layer.weight_kind if layer else "",
                         "weights": 0, "unit": unit, "units": g.count, "methods": UNIT_METHODS[unit],
                         "compaction": state, "why": why})
    for name, heads in attention_modules(model):
        rows.append({"block": name, "layer": name, "kind": "Attention", "weight_kind": "attention", "weights": 0,
                     "unit": "heads", "units": heads, "methods": UNIT_METHODS["heads"], "compaction": "masked",
                     "why": "TorchScript's nn.MultiheadAttention needs width = heads × head size; heads are zeroed, not removed"})
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame


def block_summary(model: LoadedModel, X_reference: np.ndarray | None = None) -> pd.DataFrame:
    """Per block: its weight layers, weights, and the structured units it offers with their state."""
    units = prunable_units(model, X_reference)
    out = []
    for block, part in units.groupby("block", sort=False):
        weights = part[part["unit"] == "weights"]
        structured = part[part["unit"] != "weights"]
        offers = "; ".join(f"{r.units} {r.unit.replace('_', ' ')} of {r.layer} ({r.compaction})" for r in structured.itertuples())
        out.append({"block": block, "layers": ", ".join(weights["layer"]), "weights": int(weights["weights"].sum()),
                    "structured": offers})
    return pd.DataFrame(out, columns=["block", "layers", "weights", "structured"])
