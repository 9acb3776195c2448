"""torch-pruning's dependency graph on an eager twin, with the checks it does not make itself.

DepGraph (Fang et al. 2023, "DepGraph: Towards Any Structural Pruning", CVPR) groups every
parameter slice that must go when one channel goes: a hidden neuron's incoming row and bias, its
BatchNorm channel, the next layer's column — and across residual additions, every producer and
consumer of a shared stream channel. Three things it gets silently wrong on tabular networks, and
what this module does about each:

* **Concatenations with parts it cannot size** (a slice of the raw input next to embedding
  outputs): it then maps a channel of one part onto another part's columns. The sizes of every
  ``torch.cat`` are recorded while the graph is traced (a ``TorchFunctionMode``) and handed to it;
  a concatenation whose parts still cannot be aligned marks every group through it unsafe.
* **Concatenation along tokens** (``(N, tokens, d)`` along dim 1) looks like a channel
  concatenation to it; such nodes are told to pass channels through.
* **Normalisation across channels** (LayerNorm, and the residual stream of a transformer): a
  removed channel changes every other channel's scale, so no masked model computes what the
  compacted one computes. Groups that touch a LayerNorm, GroupNorm or ``nn.MultiheadAttention``'s
  width are reported as not prunable with that reason instead of being cut.

Every cut is verified afterwards (``core.prune.algorithms``): the compacted model must compute
what the masked model computes, and parameters must really fall.
"""
from __future__ import annotations

import types
import warnings
from dataclasses import dataclass

import torch
import torch_pruning as tp
from torch import nn
from torch.overrides import TorchFunctionMode
from torch_pruning import ops

from core.prune.structure import submodule

NEURONS, HEADS, EMBEDDING_DIMS = "neurons", "heads", "embedding_dims"
_CAT_FUNCS = {torch.cat, torch.concat, torch.concatenate, torch.ops.aten.cat.default}
_INEXACT = (nn.LayerNorm, nn.GroupNorm, nn.InstanceNorm1d, nn.MultiheadAttention, nn.LSTM)


class _ConcatRecorder(TorchFunctionMode):
    """Records, for every concatenation's autograd node, the dim and the sizes of its parts."""

    def __init__(self) -> None:
        super().__init__()
        self.records: dict = {}

    def __torch_function__(self, func, types_, args=(), kwargs=None):
        kwargs = kwargs or {}
        out = func(*args, **kwargs)
        if func in _CAT_FUNCS and isinstance(out, torch.Tensor) and out.grad_fn is not None:
            tensors = args[0] if args else kwargs.get("tensors")
            dim = args[1] if len(args) > 1 else kwargs.get("dim", 0)
            ndim = out.dim()
            dim = int(dim) % ndim if ndim else 0
            self.records[out.grad_fn] = (dim, ndim, [int(t.shape[dim]) if t.dim() else 0 for t in tensors])
        return out


class _Graph(tp.DependencyGraph):
    """A DependencyGraph that sizes concatenations from what really ran (see the module docstring)."""

    def _trace(self, model, example_inputs, forward_fn, output_transform):
        recorder = _ConcatRecorder()
        with recorder:
            module2node = super()._trace(model, example_inputs, forward_fn, output_transform)
        self.unsafe_nodes: set = set()
        for module, node in list(module2node.items()):
            if node.type == ops.OPTYPE.CONCAT:
                self._size_concat(node, recorder.records.get(node.grad_fn))
            elif node.type == ops.OPTYPE.SLICE:
                self._fix_slice(module2node, module, node)
        return module2node

    def _fix_slice(self, module2node, module, node) -> None:
        """A slice along rows or tokens keeps every channel: make it a pass-through (torch-pruning
        maps it as a channel slice and fails on open bounds such as ``x[:, 0]``)."""
        sizes = list(getattr(node.grad_fn, "_saved_self_sym_sizes", ()) or ())
        ndim = len(sizes)
        dim = int(module.dim) % ndim if ndim else int(module.dim)
        channel_dim = ndim - 1 if ndim == 3 else 1
        if ndim and dim != channel_dim:
            op = ops._ElementWiseOp(self._op_id, "SliceBackward0")
            self._op_id += 1
            node.module, node.type, node.module_class = op, ops.OPTYPE.ELEMENTWISE, op.__class__
            module2node.pop(module)
            module2node[op] = node
            return
        size = int(sizes[dim]) if ndim else None
        start = 0 if module.start is None else int(module.start)
        end = size if module.end is None or (size is not None and module.end > size) else int(module.end)
        if end is None:
            self.unsafe_nodes.add(node)
            return
        module.start, module.end, module.step = start, end, int(module.step or 1)

    def _size_concat(self, node, record) -> None:
        original = node.grad_fn
        if record is None:
            self.unsafe_nodes.add(node)
            return
        dim, ndim, sizes = record
        proxy = types.SimpleNamespace(_saved_dim=0, next_functions=getattr(original, "next_functions", ()),
                                      name=getattr(original, "name", lambda: "CatBackward0"))
        node.grad_fn = proxy
        if not (ndim == 2 and dim == 1):
            if ndim >= 3 and dim == ndim - 1:
                self.unsafe_nodes.add(node)  # channels concatenated in a channel-last layout: no index mapping
            return  # tokens or rows concatenated: every part keeps all channels, pass them through
        proxy._saved_dim = 1
        nexts = [f for f, _ in getattr(original, "next_functions", ())]
        positions = []
        for inp in node.inputs:
            hits = [j for j, f in enumerate(nexts) if f is inp.grad_fn and j not in positions]
            if not hits:
                self.unsafe_nodes.add(node)
                return
            positions.append(hits[0])
        if positions != sorted(positions) or not positions or any(sizes[j] for j in range(positions[0])):
            self.unsafe_nodes.add(node)
            return
        bounds = positions[1:] + [len(sizes)]
        node.module.concat_sizes = [sum(sizes[p:b]) for p, b in zip(positions, bounds)]


def build_graph(module: nn.Module, example: torch.Tensor) -> _Graph:
    """DepGraph of an eager module, traced on real rows (which must require grad for every path to be seen)."""
    x = example.detach().clone().to(torch.float32).requires_grad_(True) * 1.0  # non-leaf: every use has a grad_fn
    with warnings.catch_warnings(), torch.inference_mode(False), torch.enable_grad():
        warnings.simplefilter("ignore")
        module.eval()
        return _Graph().build_dependency(module, example_inputs=x, verbose=False)


@dataclass(frozen=True)
class Member:
    """One parameter slice of a group: which module, output or input side."""

    name: str
    module_type: str
    output_side: bool


@dataclass(frozen=True)
class GroupInfo:
    """A structured unit group found by DepGraph: its root layer, what the unit is, and whether it may be cut."""

    name: str
    unit: str
    count: int
    members: tuple[Member, ...]
    refusal: str = ""  # why the group cannot be cut exactly ("" when it can)


def _member_name(graph: _Graph, node) -> str | None:
    module = node.module
    if isinstance(module, (nn.Parameter, torch.Tensor)):
        name = graph._param_to_name.get(module)
        return name
    return graph._module2name.get(module)


def _attention_paths(module: nn.Module) -> set[str]:
    return {name for name, m in module.named_modules() if isinstance(m, nn.MultiheadAttention)}


def analyse(graph: _Graph, module: nn.Module, output_layers: set[str]) -> list[GroupInfo]:
    """Every neuron and embedding-dimension group of ``module``, with a refusal reason where needed.

    Roots are Linear and Embedding layers outside attention modules. A group is refused when it
    reaches an output layer's rows (the scores), a channel-mixing normalisation, an attention
    module's width, or a concatenation whose parts could not be sized.
    """
    attention = _attention_paths(module)
    out: list[GroupInfo] = []
    seen: set[int] = set()
    for root_module in list(graph.module2node.keys()):
        if not isinstance(root_module, (nn.Linear, nn.Embedding)):
            continue
        name = graph._module2name.get(root_module)
        if name is None or id(root_module) in seen:
            continue
        if any(name == a or name.startswith(a + ".") for a in attention):
            continue
        fn = tp.prune_embedding_out_channels if isinstance(root_module, nn.Embedding) else tp.prune_linear_out_channels
        count = int(root_module.embedding_dim if isinstance(root_module, nn.Embedding) else root_module.out_features)
        try:
            group = graph.get_pruning_group(root_module, fn, list(range(count)))
        except Exception as exc:  # DepGraph itself fails on this graph
            out.append(GroupInfo(name, EMBEDDING_DIMS if isinstance(root_module, nn.Embedding) else NEURONS, count, (),
                                 f"torch-pruning could not group it ({str(exc).splitlines()[0][:80]})"))
            seen.add(id(root_module))
            continue
        members, refusal = [], ""
        for dep, _ in group:
            node = dep.target
            mod = node.module
            out_side = graph.is_out_channel_pruning_fn(dep.handler)
            if node in graph.unsafe_nodes:
                refusal = refusal or "it passes through a concatenation whose parts could not be aligned"
            if isinstance(mod, _INEXACT):
                refusal = refusal or (f"it is coupled to {type(mod).__name__} '{graph._module2name.get(mod)}', which "
                                      "normalises across channels, so no masked model computes what the cut one computes")
            if isinstance(mod, (nn.Linear, nn.Embedding)) and out_side:
                seen.add(id(mod))
            mname = _member_name(graph, node)
            if mname is None:
                continue
            if out_side and mname in output_layers:
                refusal = refusal or f"its channels are the output units of '{mname}'"
            if any(mname == a or mname.startswith(a + ".") for a in attention) and not isinstance(mod, _INEXACT):
                refusal = refusal or "it reaches an attention module's width"
            members.append(Member(mname, type(mod).__name__, bool(out_side)))
        unit = EMBEDDING_DIMS if isinstance(root_module, nn.Embedding) else NEURONS
        out.append(GroupInfo(name, unit, count, tuple(dict.fromkeys(members)), refusal))
    order = {n: i for i, (n, _) in enumerate(module.named_modules())}
    return sorted((_named_by_first(g, order) for g in out), key=lambda g: order.get(g.name, len(order)))


def _named_by_first(group: GroupInfo, order: dict[str, int]) -> GroupInfo:
    """A coupled group is named after its first producing layer in module order (e.g. a residual
    stream after its input projection), so the name does not depend on how DepGraph was walked."""
    producers = [m.name for m in group.members if m.output_side and m.module_type in ("Linear", "Embedding")
                 and m.name in order]
    if not producers:
        return group
    first = min(producers, key=lambda n: order[n])
    return GroupInfo(first, group.unit, group.count, group.members, group.refusal)


def group_of(graph: _Graph, module: nn.Module, name: str, idxs: list[int]):
    """The DepGraph group cutting channels ``idxs`` of layer ``name`` (a Linear's outputs or an Embedding's dims)."""
    root = submodule(module, name)
    fn = tp.prune_embedding_out_channels if isinstance(root, nn.Embedding) else tp.prune_linear_out_channels
    return graph.get_pruning_group(root, fn, list(idxs))


def group_importance(group, p: int) -> torch.Tensor:
    """Lp magnitude of each channel over every slice of its group, averaged (torch-pruning's
    GroupMagnitudeImportance; Li et al. 2017 "Pruning Filters for Efficient ConvNets" for p = 1)."""
    imp = tp.importance.GroupMagnitudeImportance(p=p, normalizer=None)
    with torch.no_grad():
        return imp(group).detach()


def slices(graph: _Graph, group) -> list[tuple[str, str, bool, list[int], int]]:
    """(owner name, module type, output side, indices, pruning dim for parameters) of every slice of a group."""
    out = []
    for dep, idxs in group:
        node = dep.target
        name = _member_name(graph, node)
        if name is None:
            continue
        dim = node.pruning_dim if node.type == ops.OPTYPE.PARAMETER else -1
        out.append((name, type(node.module).__name__, graph.is_out_channel_pruning_fn(dep.handler),
                    [int(i) for i in idxs], int(dim)))
    return out
