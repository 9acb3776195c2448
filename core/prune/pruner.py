"""The entry point: a spec in, a new model with its masks, per-layer stats and sizes out.

Structured pruning compacts through torch-pruning's dependency graph when the model has an eager
twin (a verified plain chain of standard layers); anything else gets structured *masking*. The
input model is never touched: every method works on a deep copy.
"""
from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from core.hashing import digest
from core.model.loading import LoadedModel
from core.prune.algorithms import Reference
from core.prune.methods import get_method
from core.prune.result import PruneResult, layer_stats
from core.prune.size import ModelSize, measure_size, original_size_of
from core.prune.spec import PruneSpec, validate_spec


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
    method = get_method(spec.method)
    cut = method.procedure(model, spec, layers, Reference(X_reference, groups, input_names))
    cut.module.eval()
    cut.masked_module.eval()
    schema = model.schema
    return PruneResult(
        spec=spec, state=cut.state, state_note=cut.note, module=cut.module, masked_module=cut.masked_module, masks=cut.masks,
        layers=layer_stats(cut.module, cut.masked_module, layers, cut.state),
        size=measure_size(cut.module, schema),
        original_size=original_size or original_size_of(model),
        dropped_inputs=cut.dropped_inputs, dropped_variables=cut.dropped_variables,
        model_hash=model.content_hash, schema=schema,
        reference_key=reference_key(X_reference, groups) if method.uses_reference_rows else "",
    )


def reference_key(X_reference: np.ndarray | None, groups: Sequence[str] | None) -> str:
    """Fingerprint of the rows and groups that decided an input pruning (the same spec on other
    data can drop other variables, so results must be told apart)."""
    parts: list = []
    if X_reference is not None:
        parts.append(np.ascontiguousarray(X_reference, dtype=np.float64))
    parts.append(json.dumps(list(groups) if groups is not None else None))
    return digest(parts, length=16)
