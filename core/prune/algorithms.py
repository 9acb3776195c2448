"""When and how much: the procedure of each pruning method, from a spec to a ``Cut``.

Each procedure picks what to remove with a criterion from ``core.prune.importance`` (or
``core.prune.inputs``) and removes it with ``core.prune.function`` (the role of Torch-Pruning's
``pruner/algorithms``). It works on working copies only; the loaded model is never touched.
Methods are registered, with their labels and what their ratio means, in ``core.prune.methods``.

What each kind of cut does to each architecture, honestly:

* **weights** (magnitude, random): zeros in any weight matrix the spec includes — Linear layers,
  Embedding tables, attention projections; shapes stay (masked).
* **neurons / embedding dimensions**: grouped by DepGraph on the model's eager twin and
  *compacted* (the channels physically leave every coupled tensor) where the group can be cut
  exactly; the compacted model must then compute what its structured-masked twin computes
  (≤ ``TOLERANCE``) and hold fewer parameters, or the cut falls back to masking. A model without a
  twin has its units masked at their source (rows and bias of a Linear, columns of an Embedding).
* **attention heads**: masked (q/k/v rows and out-projection columns zeroed): TorchScript's
  ``nn.MultiheadAttention`` needs width = heads × head size, so a head cannot leave an uploaded
  model without changing its width.
* **input variables**: any architecture; the variables leave the model's interface and are fed
  their reference values inside (``core.model.layers.FillInputs``); in a chain the values fold
  into the first layer's bias and the columns are removed (compacted).
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np
import torch
from torch import nn

from core.data.schema import FeatureSchema
from core.errors import SpecError
from core.model.eager import PER_INPUT_KINDS
from core.model.graph import kind_of
from core.model.layers import FillInputs, SelectInputs
from core.model.loading import LoadedModel
from core.model.twins import TWIN_CHAIN, TWIN_EAGER, TWIN_GRAPH, max_difference
from core.prune.depgraph import EMBEDDING_DIMS, NEURONS, GroupInfo, analyse, build_graph, group_importance, group_of, slices
from core.prune.function import apply_masks, count_to_remove, fold_inputs, head_masks, mask_lowest, slice_masks, with_tensors
from core.prune.importance import column_norms, head_importance, input_importance, random_scores, row_norms, weight_magnitude
from core.prune.inputs import InputFill, ablation_importance, fill_vector, reference_fills
from core.prune.result import COMPACTED, MASKED
from core.prune.structure import EMBEDDING, LINEAR, PrunableLayer, copy_module, submodule, weight_name

if TYPE_CHECKING:
    from core.prune.spec import PruneSpec

TOLERANCE = 1e-5


@dataclass(frozen=True, eq=False)
class Cut:
    """What a procedure hands back: the pruned module, its same-shape masked twin, masks and bookkeeping.

    ``module`` takes the workspace's full input row (a selector in front when inputs were
    removed); ``input_keep`` lists the inputs it still reads. ``stats_names``/``module_names``
    map each weight layer to its weight's parameter name in ``masked_module``/``module``;
    ``block_notes`` say per block what happened or why nothing could.
    """

    module: nn.Module
    masked_module: nn.Module  # the same function with original shapes, zeros where removed
    masks: dict[str, torch.Tensor]  # param name in ``module`` -> True where kept
    state: str  # MASKED or COMPACTED
    note: str
    dropped_inputs: tuple[str, ...] = ()
    dropped_variables: tuple[str, ...] = ()
    input_keep: tuple[int, ...] | None = None
    input_fills: tuple[InputFill, ...] = ()
    stats_names: dict[str, str] = field(default_factory=dict)
    module_names: dict[str, str] = field(default_factory=dict)
    block_notes: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Reference:
    """Rows and names that may inform a cut (input pruning judges and fills with them; a graph
    twin is traced on them)."""

    X: np.ndarray | None = None
    groups: Sequence[str] | None = None  # the variable of each model input
    input_names: Sequence[str] | None = None
    schema: FeatureSchema | None = None
    label: str = "reference rows"


UNSTRUCTURED_NOTE = "weights set to zero; tensors keep their shape, so file size and compute do not shrink"


def _names(model: LoadedModel, layers: list[PrunableLayer], prefix: str = "") -> dict[str, str]:
    return {l.name: prefix + weight_name(model, l) for l in layers}


def selected_layers(spec: PruneSpec, layers: list[PrunableLayer]) -> list[PrunableLayer]:
    """The layers an unstructured spec prunes: those of the weight kinds it includes."""
    return [l for l in layers if l.weight_kind in spec.weight_kinds]


# --------------------------------------------------------------------------- weights (unstructured)


def _masked_weights(model: LoadedModel, masks_by_layer: dict[str, torch.Tensor], layers: list[PrunableLayer]) -> Cut:
    module = copy_module(model.module).eval()
    names = _names(model, layers)
    by_param = {names[l.name]: masks_by_layer[l.name] for l in layers if l.name in masks_by_layer}
    apply_masks(module, by_param)
    return Cut(module, module, by_param, MASKED, UNSTRUCTURED_NOTE, stats_names=names, module_names=names)


def _layer_weights(model: LoadedModel, layers: list[PrunableLayer]) -> dict[str, torch.Tensor]:
    params = dict(model.module.named_parameters())
    return {l.name: params[weight_name(model, l)] for l in layers}


def _salt(layer: PrunableLayer, position: int) -> int:
    return layer.leaf_index if layer.leaf_index >= 0 else 100_000 + position


def layerwise(score, model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    """Remove the lowest-scoring share of every included layer's weights (each layer its own ratio)."""
    chosen = selected_layers(spec, layers)
    weights = _layer_weights(model, chosen)
    masks = {l.name: mask_lowest(score(weights[l.name], spec, l, k), count_to_remove(spec.ratio_for(l.name), weights[l.name].numel()))
             for k, l in enumerate(chosen)}
    return _masked_weights(model, masks, layers)


def magnitude_layerwise(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    return layerwise(lambda w, s, l, k: weight_magnitude(w), model, spec, layers, reference)


def random_layerwise(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    return layerwise(lambda w, s, l, k: random_scores(w.shape, s.seed, _salt(l, k)), model, spec, layers, reference)


def magnitude_global(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    """One magnitude threshold across all included layers without an override; overridden layers go layer-wise."""
    chosen = selected_layers(spec, layers)
    weights = _layer_weights(model, chosen)
    overridden = {n for n, _ in spec.overrides}
    masks: dict[str, torch.Tensor] = {}
    pooled = [l.name for l in chosen if l.name not in overridden]
    if pooled:
        flat = torch.cat([weight_magnitude(weights[n]).reshape(-1) for n in pooled])
        keep = mask_lowest(flat, count_to_remove(spec.ratio, flat.numel()))
        offset = 0
        for n in pooled:
            w = weights[n]
            masks[n] = keep[offset:offset + w.numel()].reshape(w.shape)
            offset += w.numel()
    for l in chosen:
        if l.name not in masks:
            w = weights[l.name]
            masks[l.name] = mask_lowest(weight_magnitude(w), count_to_remove(spec.ratio_for(l.name), w.numel()))
    return _masked_weights(model, masks, layers)


# --------------------------------------------------------------------------- neurons and embedding dimensions


def _example(model: LoadedModel, reference: Reference) -> torch.Tensor:
    """Rows to trace the twin on: real rows when known (codes must be valid), else random rows for a chain."""
    if model.example_rows is not None and len(model.example_rows):
        return torch.from_numpy(np.ascontiguousarray(model.example_rows[:32], dtype=np.float32))
    if reference.X is not None and len(reference.X):
        return torch.from_numpy(np.ascontiguousarray(np.asarray(reference.X)[:32], dtype=np.float32))
    if model.is_chain and model.n_inputs:
        return torch.from_numpy(np.random.default_rng(0).normal(0.0, 1.0, size=(32, model.n_inputs)).astype(np.float32))
    raise SpecError("Structured pruning of this model needs some of its data rows.",
                    "Bind the model to its data first (the rows are used to trace its layers).")


CHECK_ROWS = 96  # reference rows (besides the traced example rows) every compaction is verified on


def _check_rows(model: LoadedModel, reference: Reference, example: torch.Tensor) -> np.ndarray:
    rows = [example.numpy()]
    if reference.X is not None and len(reference.X) and np.shape(reference.X)[1:] == tuple(example.shape[1:]):
        rows.append(np.asarray(reference.X, dtype=np.float32)[:CHECK_ROWS])
    return np.concatenate(rows)


def unit_groups(model: LoadedModel, unit: str, layers: list[PrunableLayer], reference: Reference | None = None) -> list[GroupInfo]:
    """The structured groups of one unit kind (neurons or embedding dims) the model offers, with
    refusals; DepGraph on the twin when there is one, else one group per layer (masking only)."""
    outputs = {l.name for l in layers if l.is_output}
    if model.eager is None:
        kind = LINEAR if unit == NEURONS else EMBEDDING
        return [GroupInfo(l.name, unit, l.out_features if unit == NEURONS else l.out_features, (),
                          "its channels are the model's output units" if l.is_output else "")
                for l in layers if l.weight_kind == kind]
    twin = copy_module(model.eager).eval()
    graph = build_graph(twin, _example(model, reference or Reference()))
    names = _twin_names(model, layers)
    found = [g for g in analyse(graph, twin, {names.get(o, o) for o in outputs}) if g.unit == unit]
    back = {v: k for k, v in names.items()}
    return [GroupInfo(back.get(g.name, g.name), g.unit, g.count, g.members, g.refusal) for g in found]


def _twin_names(model: LoadedModel, layers: list[PrunableLayer]) -> dict[str, str]:
    """Layer name in the upload -> module name in the twin (a chain twin numbers its leaves)."""
    if model.twin_kind == TWIN_CHAIN or model.is_chain:
        return {l.name: str(l.leaf_index) for l in layers if l.leaf_index >= 0}
    return {l.name: l.name for l in layers}


def _masked_at_source(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], unit: str, p: int, why: str) -> Cut:
    """Units masked where they are produced: a Linear's rows and bias, an Embedding's columns."""
    module = copy_module(model.module).eval()
    params = dict(module.named_parameters())
    masks: dict[str, torch.Tensor] = {}
    removed = 0
    for l in layers:
        if unit == NEURONS and (l.weight_kind != LINEAR or l.is_output):
            continue
        if unit == EMBEDDING_DIMS and l.weight_kind != EMBEDDING:
            continue
        wname = weight_name(model, l)
        w = params[wname]
        k = count_to_remove(spec.ratio_for(l.name), l.out_features, keep_at_least=1)
        if k == 0:
            continue
        imp = row_norms(w, p) if unit == NEURONS else column_norms(w, p)
        idx = torch.from_numpy(np.sort(np.argsort(imp.cpu().numpy(), kind="stable")[:k]).copy())
        keep = torch.ones_like(w, dtype=torch.bool)
        if unit == NEURONS:
            keep[idx, :] = False
            bname = wname[: -len("weight")] + "bias"
            if bname in params and params[bname] is not None:
                b = torch.ones_like(params[bname], dtype=torch.bool)
                b[idx] = False
                masks[bname] = b
        else:
            keep[:, idx] = False
        masks[wname] = keep
        removed += k
    apply_masks(module, masks)
    what = "neurons" if unit == NEURONS else "embedding dimensions"
    names = _names(model, layers)
    return Cut(module, module, masks, MASKED, f"{removed} {what} masked at their source, not removed: {why}",
               stats_names=names, module_names=names)


def _has_units(groups: list[GroupInfo]) -> bool:
    return any(not g.refusal and g.count > 1 for g in groups)


def structured(unit: str, p: int):
    """Units (hidden neurons or embedding dimensions) with the lowest Lp group norm, compacted where DepGraph allows."""

    def procedure(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
        what = "neurons" if unit == NEURONS else "embedding dimensions"
        if model.eager is None:
            if not any((l.weight_kind == LINEAR and not l.is_output) if unit == NEURONS else l.weight_kind == EMBEDDING
                       for l in layers):
                raise SpecError(f"The model has no {'hidden layer' if unit == NEURONS else 'Embedding table'}, so there are no {what} to remove.",
                                "Use an unstructured or input-variable method.")
            return _masked_at_source(model, spec, layers, unit, p, model.structure_note)
        example = _example(model, reference)
        twin_names = _twin_names(model, layers)
        outputs = {twin_names.get(l.name, l.name) for l in layers if l.is_output}
        compact = copy_module(model.eager).eval()
        try:
            graph = build_graph(compact, example)
            found = analyse(graph, compact, outputs)
        except Exception as exc:  # torch-pruning cannot trace this twin: mask, and say why
            return _masked_at_source(model, spec, layers, unit, p,
                                     f"torch-pruning could not trace the model ({type(exc).__name__}: "
                                     f"{str(exc).splitlines()[0][:100] if str(exc) else ''})")
        groups = [g for g in found if g.unit == unit]
        back = {v: k for k, v in twin_names.items()}
        notes = {}
        producer = "Embedding" if unit == EMBEDDING_DIMS else "Linear"
        for g in found:
            if g.refusal and (g.unit == unit or any(m.output_side and m.module_type == producer for m in g.members)):
                lead = back.get(g.name, g.name)
                coupled = len({m.name for m in g.members})
                notes[_block_of(lead, layers)] = (f"{what} of the group led by '{lead}' ({coupled} coupled tensors) "
                                                  f"not pruned: {g.refusal}")
        usable = [g for g in groups if not g.refusal]
        if not usable:
            reasons = "; ".join(sorted(set(notes.values()))) or f"there are no {what} to remove"
            raise SpecError(f"The model has no {what} that can be pruned ({reasons}).", "Use another pruning method.")
        plan: list[tuple[GroupInfo, list[int]]] = []
        for g in usable:
            k = count_to_remove(spec.ratio_for(back.get(g.name, g.name)), g.count, keep_at_least=1)
            if k == 0:
                continue
            imp = group_importance(group_of(graph, compact, g.name, list(range(g.count))), p)
            plan.append((g, sorted(int(i) for i in np.argsort(imp.cpu().numpy(), kind="stable")[:k])))
        all_slices = []
        for g, idxs in plan:
            all_slices.extend(slices(graph, group_of(graph, compact, g.name, idxs)))
        masked = copy_module(model.eager).eval()
        masks = slice_masks(masked, all_slices)
        apply_masks(masked, masks)
        rows = _check_rows(model, reference, example)
        if not model.is_chain and plan:
            source = copy_module(model.eager).eval()
            apply_masks(source, slice_masks(source, all_slices, producers_only=True))
            gap = max_difference(source, masked, rows)
            if not gap <= TOLERANCE:
                return _masked_at_source(model, spec, layers, unit, p,
                                         f"torch-pruning's grouping of this graph could not be verified (its coupled "
                                         f"slices change the output by {gap:.1e} beyond the removed {what})")
        before = sum(t.numel() for t in compact.parameters())
        for g, idxs in plan:
            group_of(graph, compact, g.name, idxs).prune()
        compact.eval()
        after = sum(t.numel() for t in compact.parameters())
        n_removed = sum(len(i) for _, i in plan)
        diff = max_difference(compact, masked, rows) if plan else 0.0
        if plan and (after >= before or not diff <= TOLERANCE):
            why = (f"the compacted network differs from its masked twin by {diff:.1e}" if after < before
                   else "torch-pruning removed no parameters")
            return _fallback_masked(model, masked, masks, layers, f"{n_removed} {what} masked, not removed ({why})", notes)
        module, masked_out = compact, masked
        if model.twin_kind in (TWIN_GRAPH, TWIN_EAGER):  # ship the model's own TorchScript with the smaller tensors
            try:
                module = with_tensors(model.scripted, compact.state_dict())
                masked_out = with_tensors(model.scripted, masked.state_dict())
                ship_diff = max_difference(module, compact, rows) if plan else 0.0
            except Exception:  # the uploaded code refuses the smaller tensors outright
                module, masked_out, ship_diff = None, masked, float("inf")
            if module is None or not ship_diff <= TOLERANCE:
                return _fallback_masked(model, masked_out, masks, layers,
                                        f"{n_removed} {what} masked, not removed (the uploaded code does not run the same "
                                        f"with the smaller tensors: {ship_diff:.1e})", notes)
        names = {l.name: twin_names[l.name] + ".weight" if model.is_chain else l.param for l in layers if l.name in twin_names}
        full = {n: torch.ones_like(q, dtype=torch.bool) for n, q in module.named_parameters() if q.dim() == 2}
        cut_blocks = sorted({_block_of(back.get(g.name, g.name), layers) for g, _ in plan})
        for b in cut_blocks:
            notes.setdefault(b, f"{what} compacted (removed with every coupled tensor, torch-pruning dependency graph)")
        note = (f"{n_removed} {what} physically removed together with every weight wired to them (torch-pruning's "
                f"dependency graph; the compacted model is verified identical to its masked twin, max difference "
                f"{diff:.1e})") if plan else f"no {what} removed at this ratio"
        return Cut(module, masked_out, full, COMPACTED, note, stats_names=names, module_names=names, block_notes=notes)

    return procedure


def _block_of(layer_name: str, layers: list[PrunableLayer]) -> str:
    for l in layers:
        if l.name == layer_name:
            return l.block
    return layer_name.rsplit(".", 1)[0] if "." in layer_name else "(root)"


def _fallback_masked(model: LoadedModel, masked: nn.Module, masks: dict, layers, note: str, notes: dict) -> Cut:
    """The structured-masked twin is the result (shapes kept) when compaction cannot be trusted."""
    if model.twin_kind in (TWIN_GRAPH, TWIN_EAGER) and not isinstance(masked, torch.jit.ScriptModule):
        masked = with_tensors(model.scripted, masked.state_dict())
    names = {l.name: (f"{l.leaf_index}.weight" if model.is_chain else l.param) for l in layers}
    return Cut(masked, masked, masks, MASKED, note, stats_names=names, module_names=names, block_notes=notes)


# --------------------------------------------------------------------------- attention heads


def attention_modules(model: LoadedModel) -> list[tuple[str, int]]:
    """(name, heads) of every ``nn.MultiheadAttention`` in the upload whose head count is recorded
    (a traced model inlines it, so its heads cannot be told apart)."""
    out = []
    for name, m in model.scripted.named_modules():
        if kind_of(m) == "MultiheadAttention" and getattr(m, "num_heads", None) is not None \
                and getattr(m, "embed_dim", None) is not None:
            out.append((name, int(m.num_heads)))
    return out


def attention_heads(p: int):
    """Whole attention heads with the lowest Lp mass, masked (see the module docstring for why not compacted)."""

    def procedure(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
        found = attention_modules(model)
        if not found:
            if any(kind_of(m) == "MultiheadAttention" for m in model.scripted.modules()):
                raise SpecError("The model's attention layers do not record their number of heads (a traced model "
                                "inlines it), so its heads cannot be told apart.",
                                "Export the model with torch.jit.script to prune heads, or use another method.")
            raise SpecError("The model has no attention layer, so there are no heads to remove.", "Use another pruning method.")
        module = copy_module(model.scripted).eval()
        masks: dict[str, torch.Tensor] = {}
        notes, removed = {}, 0
        for name, n_heads in found:
            k = count_to_remove(spec.ratio_for(name), n_heads, keep_at_least=1)
            notes[name] = ("heads masked (their projections zeroed), not removed: TorchScript's nn.MultiheadAttention "
                           "needs its width to equal heads × head size, so an uploaded model cannot lose a head "
                           "without changing every layer that reads its output")
            if k == 0:
                continue
            imp = head_importance(submodule(module, name), p)
            heads = sorted(int(i) for i in np.argsort(imp.numpy(), kind="stable")[:k])
            for pname, keep in head_masks(module, name, heads).items():
                masks[pname] = masks[pname] & keep if pname in masks else keep
            removed += k
        apply_masks(module, masks)
        names = {l.name: l.param for l in layers}
        return Cut(module, module, masks, MASKED, f"{removed} attention heads masked (q/k/v rows and output columns "
                   "set to zero), not removed", stats_names=names, module_names=names, block_notes=notes)

    return procedure


# --------------------------------------------------------------------------- input variables


def _foldable(model: LoadedModel, layers: list[PrunableLayer]) -> int | None:
    """Leaf index of a chain's first Linear when only per-input layers precede it (else None)."""
    if not model.is_chain:
        return None
    first = [l for l in layers if l.kind == "Linear"][0]
    leaves = list(model.eager)
    if all(type(m).__name__ in PER_INPUT_KINDS for m in leaves[:first.leaf_index]):
        return first.leaf_index
    return None


def input_variables(model: LoadedModel, spec: PruneSpec, layers: list[PrunableLayer], reference: Reference) -> Cut:
    """The least important input variables (all their one-hot inputs together) leave the model's interface.

    Chains are judged by the first layer's weights × the inputs' spread (``input_importance``) and
    compacted (reference values folded into the bias); any other architecture is judged by
    reference-value ablation and keeps its weights behind a ``FillInputs`` interface.
    """
    n = int(model.n_inputs or 0)
    if n <= 0:
        raise SpecError("The model's input width is not known yet.", "Bind the model to its data before pruning inputs.")
    group_of_input = list(reference.groups) if reference.groups is not None else [f"input {j}" for j in range(n)]
    if len(group_of_input) != n:
        raise SpecError(f"{len(group_of_input)} input groups were given for {n} inputs.", "Pass one group per model input.")
    names = list(reference.input_names) if reference.input_names is not None else group_of_input
    X = reference.X
    if X is not None and (np.ndim(X) != 2 or np.shape(X)[1] != n):
        raise SpecError(
            f"The reference rows have shape {np.shape(X)}, but the model takes {n} inputs.",
            "Pass the prepared input matrix (one column per model input).",
        )
    variables = list(dict.fromkeys(group_of_input))
    fills_all = reference_fills(variables, group_of_input, names, X, reference.schema, reference.label)
    first = _foldable(model, layers)
    if first is not None:
        variables, imp = input_importance(model, X, group_of_input)
    else:
        if X is None or not len(X):
            raise SpecError("Input-variable pruning of this model needs reference rows to judge the variables.",
                            "Pass the training (or evaluation) rows as reference rows.")
        imp = ablation_importance(model.module, X, group_of_input, fills_all)
    k = count_to_remove(spec.ratio, len(variables), keep_at_least=1)
    dropped_vars = [variables[i] for i in sorted(np.argsort(imp, kind="stable")[:k])]
    dropped_set = set(dropped_vars)
    dropped_idx = [j for j, g in enumerate(group_of_input) if g in dropped_set]
    keep_idx = [j for j in range(n) if j not in set(dropped_idx)]
    fills = tuple(f for f in fills_all if f.variable in dropped_set)
    dropped = dict(dropped_inputs=tuple(names[j] for j in dropped_idx), dropped_variables=tuple(dropped_vars))
    layer_names = _names(model, layers)
    if not dropped_idx:
        module = copy_module(model.module).eval()
        return Cut(module, module, {}, COMPACTED if first is not None else MASKED, "no input removed at this ratio",
                   stats_names=layer_names, module_names=layer_names, **dropped)
    fill_row = fill_vector(n, fills)
    interface = f"{len(dropped_vars)} of {len(variables)} variables ({len(dropped_idx)} of {n} inputs) no longer read"
    values = "; ".join(f"{f.variable} = {f.raw if isinstance(f.raw, str) else f'{f.raw:.6g}'} ({f.how})" for f in fills)
    if first is not None:
        compact, masked = fold_inputs(list(model.eager), first, keep_idx, fill_row, n)
        module = nn.Sequential(SelectInputs(torch.tensor(keep_idx), n), *compact).eval()
        masks = {nm: torch.ones_like(q, dtype=torch.bool) for nm, q in module.named_parameters() if q.dim() == 2}
        shifted = {l.name: f"{l.leaf_index + 1}.weight" for l in layers}
        note = f"{interface}: physically removed from the first layer, reference values folded into its bias ({values})"
        return Cut(module, masked, masks, COMPACTED, note, input_keep=tuple(keep_idx), input_fills=fills,
                   stats_names=layer_names, module_names=shifted,
                   block_notes={"inputs": f"compacted: {interface}"}, **dropped)
    inner = copy_module(model.scripted).eval()
    wrapped = FillInputs(inner, torch.tensor(keep_idx), torch.from_numpy(fill_row.astype(np.float32)))
    module = nn.Sequential(SelectInputs(torch.tensor(keep_idx), n), wrapped).eval()
    prefixed = {l.name: f"1.inner.{l.param}" for l in layers}
    note = (f"{interface}: the exported model takes {len(keep_idx)} columns and feeds each removed variable its "
            f"reference value inside ({values}); the weights that read them are kept")
    return Cut(module, module, {}, MASKED, note, input_keep=tuple(keep_idx), input_fills=fills,
               stats_names=prefixed, module_names=prefixed,
               block_notes={"inputs": f"interface compacted: {interface}; weights kept"}, **dropped)
