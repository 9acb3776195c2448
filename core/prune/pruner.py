"""The entry point: a spec in, a new model with its masks, per-layer and per-block stats and sizes out.

Structured pruning compacts through torch-pruning's dependency graph when the model has an eager
twin (``core.model.twins``: a chain, a re-executed graph, or the user's own module) and the group
can be cut exactly; anything else gets structured *masking*, labelled per block. The input model
is never touched: every method works on a deep copy.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import replace

import numpy as np

from core.hashing import digest
from core.model.loading import LoadedModel
from core.model.twins import bind_rows
from core.prune.algorithms import Reference
from core.prune.methods import get_method
from core.prune.result import PruneResult, layer_stats
from core.prune.size import ModelSize, example_row, measure_size, original_size_of
from core.prune.spec import PruneSpec, validate_spec
from core.prune.structure import weight_name


def prune(
    model: LoadedModel,
    spec: PruneSpec,
    X_reference: np.ndarray | None = None,
    groups: Sequence[str] | None = None,
    input_names: Sequence[str] | None = None,
    original_size: ModelSize | None = None,
    reference_label: str = "reference rows",
) -> PruneResult:
    """Apply ``spec`` to a copy of ``model``; deterministic for a given spec (and seed).

    ``X_reference`` (training or evaluation inputs), ``groups`` (the variable of each input) and
    ``input_names`` inform input-variable pruning (which variables, and their reference values:
    ``reference_label`` says in the report what the rows are, e.g. "training rows").
    """
    if X_reference is not None and len(X_reference) and np.ndim(X_reference) == 2 and (
            model.n_inputs is None or (model.example_rows is None and np.shape(X_reference)[1] == model.n_inputs)):
        # an unbound model (the Python API, tests): its width and its twin come from these rows
        model = bind_rows(model, np.asarray(X_reference, dtype=np.float32))
    layers = validate_spec(model, spec)
    method = get_method(spec.method)
    reference = Reference(X_reference, groups, input_names, model.schema, reference_label)
    cut = method.procedure(model, spec, layers, reference)
    cut.module.eval()
    cut.masked_module.eval()
    schema = model.schema
    original = {l.name: w for l, w in _original_weights(model, layers)}
    result = PruneResult(
        spec=spec, state=cut.state, state_note=cut.note, module=cut.module, masked_module=cut.masked_module, masks=cut.masks,
        layers=layer_stats(cut.module, cut.masked_module, layers, cut.state, cut.stats_names, cut.module_names, original),
        original_size=original_size or original_size_of(model),
        dropped_inputs=cut.dropped_inputs, dropped_variables=cut.dropped_variables,
        model_hash=model.content_hash, schema=schema,
        reference_key=reference_key(X_reference, groups) if method.uses_reference_rows else "",
        input_keep=cut.input_keep, input_fills=cut.input_fills, block_notes=dict(cut.block_notes),
        input_names=tuple(input_names) if input_names is not None else (),
        stats_names=dict(cut.stats_names), module_names=dict(cut.module_names),
    )
    row = example_row(model)
    return replace(result, size=measure_size(result.shipped, result.export_schema,
                                             result.inputs_for(row) if row is not None else None))


def _original_weights(model: LoadedModel, layers):
    params = dict(model.module.named_parameters())
    for l in layers:
        w = params.get(weight_name(model, l))
        if w is not None:
            yield l, w.detach()


def reference_key(X_reference: np.ndarray | None, groups: Sequence[str] | None) -> str:
    """Fingerprint of the rows and groups that decided an input pruning (the same spec on other
    data can drop other variables, so results must be told apart)."""
    parts: list = []
    if X_reference is not None:
        parts.append(np.ascontiguousarray(X_reference, dtype=np.float64))
    parts.append(json.dumps(list(groups) if groups is not None else None))
    return digest(parts, length=16)
