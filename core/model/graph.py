"""An eager twin of *any* TorchScript module: its own graph, re-executed node by node.

torch-pruning's dependency graph (DepGraph, Fang et al. 2023) finds which weights must be cut
together by running an **eager** module and walking autograd, with hooks on standard layers
(``nn.Linear``, ``nn.Embedding``, norms, ``nn.MultiheadAttention``). On a loaded TorchScript
module it "succeeds" and changes nothing. Rebuilding a twin per architecture (templates) needs
every user's ``forward`` to look like the template; reading the scripted graph does not.

``GraphTwin`` mirrors the scripted module tree under the same names: standard layers become
their ``torch.nn`` originals with the same state (so DepGraph hooks them and knows how to cut
them), every other module is interpreted from its own TorchScript graph — constants, attribute
reads, ``aten`` operators (called through ``torch.ops`` with the graph's exact overload),
lists, tuples, ``if`` branches, calls into submodules and into ``torch.nn.functional``. The
twin is trusted only after it reproduces the scripted outputs on real rows (``core.model.twins``).

What it refuses (``NotInterpretable``, so the model stays masked-only): writes to module state,
loops over values, calls to user-defined free functions (only ``torch.nn.functional`` /
``torch.functional`` are resolved, by attribute lookup — nothing is ever imported by a name found
in an upload), objects, ``with`` blocks, forks and custom classes.
"""
from __future__ import annotations

import math
import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

SCALAR_TYPES = {0: torch.uint8, 1: torch.int8, 2: torch.int16, 3: torch.int32, 4: torch.int64, 5: torch.float16,
                6: torch.float32, 7: torch.float64, 11: torch.bool, 15: torch.bfloat16}
SCALAR_TYPE_CODES = {v: k for k, v in SCALAR_TYPES.items()}
MEMORY_FORMATS = {0: torch.contiguous_format, 1: torch.preserve_format, 2: torch.channels_last, 3: torch.channels_last_3d}
LAYOUTS = {0: torch.strided}
_FUNCTION_NAMESPACES = {"torch.nn.functional": F, "torch.functional": torch.functional}


class NotInterpretable(Exception):
    """The scripted module uses something the twin cannot re-execute; ``str(exc)`` says what."""


# --------------------------------------------------------------------------- standard layers


def _copy_state(eager: nn.Module, scripted: nn.Module) -> nn.Module:
    state = {k: v.detach().clone() for k, v in scripted.state_dict().items()}
    eager.load_state_dict(state, strict=True)
    return eager.eval()


def _linear(m) -> nn.Module:
    out_f, in_f = (int(d) for d in m.weight.shape)
    return _copy_state(nn.Linear(in_f, out_f, bias=m.bias is not None), m)


def _embedding(m) -> nn.Module:
    n, d = (int(v) for v in m.weight.shape)
    padding = getattr(m, "padding_idx", None)  # only shapes gradients; absent from traced modules
    if getattr(m, "max_norm", None) is not None:
        raise NotInterpretable("an Embedding with max_norm rewrites its own weights when called")
    return _copy_state(nn.Embedding(n, d, padding_idx=padding, scale_grad_by_freq=bool(getattr(m, "scale_grad_by_freq", False))), m)


def _batchnorm(m) -> nn.Module:
    # a traced module keeps only what its graph reads: constants such as eps are inlined, so they
    # fall back to torch's defaults here and the twin's verification decides
    running = getattr(m, "running_mean", None)
    n = int(running.shape[0]) if running is not None else int(m.weight.shape[0])
    momentum = getattr(m, "momentum", 0.1)
    bn = nn.BatchNorm1d(n, eps=float(getattr(m, "eps", 1e-5)), momentum=float(momentum) if momentum is not None else None,
                        affine=getattr(m, "weight", None) is not None, track_running_stats=running is not None)
    return _copy_state(bn, m)


def _layernorm(m) -> nn.Module:
    weight = getattr(m, "weight", None)
    shape = tuple(int(s) for s in getattr(m, "normalized_shape", tuple(weight.shape) if weight is not None else ()))
    affine = weight is not None
    ln = nn.LayerNorm(shape, eps=float(getattr(m, "eps", 1e-5)), elementwise_affine=affine,
                      bias=affine and getattr(m, "bias", None) is not None)
    return _copy_state(ln, m)


def _mha(m) -> nn.Module:
    embed = int(m.embed_dim)
    attn = nn.MultiheadAttention(
        embed, int(m.num_heads), dropout=float(m.dropout), bias=m.in_proj_bias is not None,
        add_bias_kv=m.bias_k is not None, kdim=int(m.kdim), vdim=int(m.vdim), batch_first=bool(m.batch_first),
    )
    return _copy_state(attn, m)


def _encoder_layer(m) -> nn.Module:
    code = int(m.activation_relu_or_gelu)
    if code not in (1, 2):
        raise NotInterpretable("a TransformerEncoderLayer with a custom activation function")
    d_model = int(m.linear1.weight.shape[1])
    layer = nn.TransformerEncoderLayer(
        d_model, int(m.self_attn.num_heads), int(m.linear1.weight.shape[0]), dropout=float(m.dropout.p),
        activation="relu" if code == 1 else "gelu", layer_norm_eps=float(m.norm1.eps),
        batch_first=bool(m.self_attn.batch_first), norm_first=bool(m.norm_first), bias=m.linear1.bias is not None,
    )
    return _copy_state(layer, m)


def _stateless(factory: Callable[[Any], nn.Module]) -> Callable[[Any], nn.Module]:
    return lambda m: factory(m).eval()


STANDARD_LAYERS: dict[str, Callable[[Any], nn.Module]] = {
    "Linear": _linear,
    "NonDynamicallyQuantizableLinear": _linear,
    "Embedding": _embedding,
    "BatchNorm1d": _batchnorm,
    "LayerNorm": _layernorm,
    "MultiheadAttention": _mha,
    "TransformerEncoderLayer": _encoder_layer,
    "ReLU": _stateless(lambda m: nn.ReLU()),
    "LeakyReLU": _stateless(lambda m: nn.LeakyReLU(float(m.negative_slope))),
    "ELU": _stateless(lambda m: nn.ELU(float(m.alpha))),
    "SELU": _stateless(lambda m: nn.SELU()),
    "GELU": _stateless(lambda m: nn.GELU(approximate=str(m.approximate))),
    "SiLU": _stateless(lambda m: nn.SiLU()),
    "Tanh": _stateless(lambda m: nn.Tanh()),
    "Sigmoid": _stateless(lambda m: nn.Sigmoid()),
    "Softplus": _stateless(lambda m: nn.Softplus(float(m.beta), float(m.threshold))),
    "Dropout": _stateless(lambda m: nn.Dropout(float(m.p))),
    "Identity": _stateless(lambda m: nn.Identity()),
    "Flatten": _stateless(lambda m: nn.Flatten(int(m.start_dim), int(m.end_dim))),
    "Softmax": _stateless(lambda m: nn.Softmax(dim=m.dim)),
}


def _prelu(m) -> nn.Module:
    return _copy_state(nn.PReLU(int(m.weight.numel())), m)


STANDARD_LAYERS["PReLU"] = _prelu


def kind_of(module: nn.Module) -> str:
    """The class name a module was defined as (``original_name`` for scripted modules)."""
    return getattr(module, "original_name", type(module).__name__)


# --------------------------------------------------------------------------- compiling a graph


@dataclass
class _Instr:
    kind: str
    ins: tuple[int, ...]
    outs: tuple[int, ...]
    data: Any = None
    blocks: tuple[_Block, ...] = ()


@dataclass
class _Block:
    params: tuple[int, ...]
    instrs: tuple[_Instr, ...]
    returns: tuple[int, ...]


def _type_name(t) -> str:
    return str(t)


def _python_op(name: str) -> Callable | None:
    """Operators on Python values (ints, floats, bools, strings, lists): what TorchScript means by them."""
    return _PY_OPS.get(name)


def _index(seq, i):
    return seq[i]


def _append(seq, x):
    seq.append(x)
    return seq


def _slice_list(seq, start=None, end=None, step=1):
    return seq[start:end:step]


def _divmod_int(a, b):
    return a // b


_PY_OPS: dict[str, Callable] = {
    "__getitem__": _index, "len": len, "append": _append, "list": list, "__contains__": lambda c, x: x in c,
    "__is__": operator.is_, "__isnot__": operator.is_not, "__not__": operator.not_, "__and__": operator.and_,
    "__or__": operator.or_, "__xor__": operator.xor, "eq": operator.eq, "ne": operator.ne, "lt": operator.lt,
    "gt": operator.gt, "le": operator.le, "ge": operator.ge, "add": operator.add, "sub": operator.sub,
    "mul": operator.mul, "div": operator.truediv, "floordiv": _divmod_int, "remainder": operator.mod,
    "neg": operator.neg, "pow": operator.pow, "abs": abs, "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt,
    "log": math.log, "exp": math.exp, "min": min, "max": max, "Int": int, "Float": float, "Bool": bool,
    "str": str, "format": lambda fmt, *args: str(fmt).format(*args), "slice": _slice_list,
    "dim": lambda t: t.dim(), "numel": lambda t: t.numel(), "ScalarImplicit": lambda t: t.item(),
    "warn": lambda *a: None, "keys": lambda d: list(d.keys()), "values": lambda d: list(d.values()),
    "items": lambda d: list(d.items()), "get": lambda d, k, default=None: d.get(k, default),
    "__range_length": lambda lo, hi, step: max(0, -(-(hi - lo) // step)) if step > 0 else max(0, -(-(lo - hi) // -step)),
    "__derive_index": lambda index, start, step: start + index * step,
    "_set_item": lambda c, k, v: c.__setitem__(k, v), "__setitem__": lambda c, k, v: c.__setitem__(k, v),
}


def _converter(type_str: str) -> Callable[[Any], Any] | None:
    """Graph constants encode dtypes, memory formats and layouts as ints; eager ops want the objects."""
    base = type_str.rstrip("?")
    if base == "ScalarType":
        return lambda v: SCALAR_TYPES[v] if isinstance(v, int) else v
    if base == "MemoryFormat":
        return lambda v: MEMORY_FORMATS[v] if isinstance(v, int) else v
    if base == "Layout":
        return lambda v: LAYOUTS[v] if isinstance(v, int) else v
    return None


def _has_tensor_argument(schema) -> bool:
    return any("Tensor" in _type_name(a.type) for a in schema.arguments)


def _is_generic(schema) -> bool:
    types = [_type_name(a.type) for a in schema.arguments] + [_type_name(r.type) for r in schema.returns]
    return any(t in ("t", "Any") or t.startswith(("t[", "t(", "Dict(")) or "t[]" in t
               for t in types)


def _aten_call(node) -> tuple[Callable, Any]:
    """The callable that runs one ``aten::`` node in eager mode, and how its arguments are passed."""
    kind = node.kind()
    base = kind.split("::", 1)[1]
    try:
        schema_text = node.schema()
    except RuntimeError:
        schema_text = "(no schema)"
    if base == "size":
        return (lambda t, d=None: list(t.size()) if d is None else t.size(d)), None
    if base == "tensor":
        return (lambda data, dtype=None, device=None, requires_grad=False: torch.tensor(
            data, dtype=SCALAR_TYPES.get(dtype, dtype) if dtype is not None else None, device=device,
            requires_grad=bool(requires_grad))), None
    if schema_text == "(no schema)":
        op = _python_op(base)
        if op is None:
            raise NotInterpretable(f"operator '{kind}' has no schema the twin can follow")
        return op, None
    schema = torch._C.parse_schema(schema_text)
    if not _has_tensor_argument(schema) or _is_generic(schema):
        op = _python_op(base)
        if op is not None:
            return op, None
        if _is_generic(schema):
            raise NotInterpretable(f"operator '{kind}' on generic values")
    name = schema.name.split("::", 1)[1]
    packet = getattr(torch.ops.aten, name, None)
    if packet is None:
        raise NotInterpretable(f"operator '{kind}' is not available in this PyTorch")
    overload = getattr(packet, schema.overload_name or "default", None)
    if overload is None:
        raise NotInterpretable(f"operator '{kind}.{schema.overload_name}' is not available in this PyTorch")
    spec = [(a.name, bool(a.kwarg_only), _converter(_type_name(a.type))) for a in schema.arguments]
    return overload, spec


def _function_call(const_node) -> Callable:
    """A ``prim::CallFunction`` target, resolved only inside torch's own functional namespaces."""
    qual = str(const_node.output().type())
    name = qual[len("__torch__."):] if qual.startswith("__torch__.") else qual
    namespace, _, func = name.rpartition(".")
    module = _FUNCTION_NAMESPACES.get(namespace)
    fn = getattr(module, func, None) if module is not None and not func.startswith("__") else None
    if not callable(fn):
        raise NotInterpretable(f"it calls the helper function '{name}', whose code the twin cannot read")
    return fn


def _compile_block(block, functions: dict[int, Callable]) -> _Block:
    instrs = []
    for node in block.nodes():
        kind = node.kind()
        ins = tuple(v.unique() for v in node.inputs())
        outs = tuple(v.unique() for v in node.outputs())
        blocks = tuple(_compile_block(b, functions) for b in node.blocks())
        data: Any = None
        if kind == "prim::Loop":
            # a loop over values (ModuleList iterations are unrolled by TorchScript and never get here)
            # would run node by node in Python, far slower than the probe that let the model in
            raise NotInterpretable("its forward pass loops over values, which the twin does not re-execute")
        if kind == "prim::Constant":
            out = node.output()
            if _type_name(out.type()).startswith("__torch__.") or "Function" in _type_name(out.type()):
                functions[out.unique()] = _function_call(node)
                continue
            data = out.toIValue()
        elif kind in ("prim::GetAttr", "prim::CallMethod"):
            data = node.s("name")
        elif kind == "prim::CallFunction":
            data = None
        elif kind.startswith("aten::"):
            data = _aten_call(node)
        elif kind in ("prim::TupleIndex",):
            data = None
        elif kind not in _PRIM:
            raise NotInterpretable(f"the graph uses '{kind}'")
        instrs.append(_Instr(kind, ins, outs, data, blocks))
    return _Block(tuple(v.unique() for v in block.inputs()) if hasattr(block, "inputs") else (),
                  tuple(instrs), tuple(v.unique() for v in block.outputs()))


def _compile_graph(graph) -> tuple[_Block, dict[int, Callable]]:
    functions: dict[int, Callable] = {}
    body = _compile_block(graph.block() if hasattr(graph, "block") else graph, functions)
    params = tuple(v.unique() for v in graph.inputs())
    returns = tuple(v.unique() for v in graph.outputs())
    return _Block(params, body.instrs, returns), functions


def _num_to_tensor(v):
    return torch.tensor(v)


_PRIM = {
    "prim::ListConstruct", "prim::TupleConstruct", "prim::DictConstruct", "prim::ListUnpack", "prim::TupleUnpack",
    "prim::TupleIndex", "prim::If", "prim::unchecked_cast", "prim::NumToTensor", "prim::Uninitialized",
    "prim::RaiseException", "prim::Print", "prim::dtype", "prim::device", "prim::layout", "prim::is_cuda",
    "prim::requires_grad", "prim::min", "prim::max", "prim::CallFunction", "prim::data", "prim::TupleSlice",
    "prim::type",
}


# --------------------------------------------------------------------------- the twin


class GraphTwin(nn.Module):
    """Eager re-execution of one scripted module: standard children rebuilt, the rest interpreted.

    Parameters and buffers keep their scripted names (``emb.3.weight``, ``enc.0.linear1.bias``), so
    masks and compacted tensors move between the twin and a copy of the scripted model by name.
    """

    def __init__(self, scripted: nn.Module, _depth: int = 0) -> None:
        super().__init__()
        if _depth > 32:
            raise NotInterpretable("modules are nested more than 32 deep")
        self.__dict__["_kind"] = kind_of(scripted)
        for name, child in scripted.named_children():
            kind = kind_of(child)
            builder = STANDARD_LAYERS.get(kind)
            if builder is not None:
                try:
                    self.add_module(name, builder(child))
                    continue
                except Exception as exc:  # e.g. a traced layer lost the attributes it is built from
                    if not _has_method(child, "forward"):
                        raise NotInterpretable(f"layer '{name}' ({kind}) could not be read "
                                               f"({str(exc).splitlines()[0][:80]})") from exc
            self.add_module(name, GraphTwin(child, _depth + 1))  # its own graph, re-executed
        for name, p in scripted.named_parameters(recurse=False):
            self.register_parameter(name, nn.Parameter(p.detach().clone(), requires_grad=p.requires_grad))
        for name, b in scripted.named_buffers(recurse=False):
            self.register_buffer(name, b.detach().clone())
        self.__dict__["_values"] = {}
        self.__dict__["_methods"] = {}
        method_names = [m for m in ("forward",) if _has_method(scripted, m)]
        for m in method_names:
            self._methods[m] = self._compile_method(scripted, m)
        for graph, _ in self._methods.values():
            self._read_attributes(scripted, graph)

    @staticmethod
    def _compile_method(scripted: nn.Module, name: str):
        graph = scripted._c._get_method(name).graph
        return _compile_graph(graph)

    def _read_attributes(self, scripted: nn.Module, block: _Block) -> None:
        """Copy plain attributes the graph reads (index lists, flags, tensors that are not buffers)."""
        for ins in block.instrs:
            if ins.kind == "prim::GetAttr":
                name = ins.data
                if name in self._modules or name in self._parameters or name in self._buffers or name == "training":
                    continue
                if hasattr(scripted, name):
                    value = getattr(scripted, name)
                    if isinstance(value, torch.Tensor):
                        value = value.detach().clone()
                    elif isinstance(value, nn.Module):
                        continue
                    self._values[name] = value
            for b in ins.blocks:
                self._read_attributes(scripted, b)

    def forward(self, *args):
        if "forward" not in self._methods:
            raise NotInterpretable(f"module '{self._kind}' has no forward method")
        return self._run_method("forward", args)

    def _run_method(self, name: str, args: tuple):
        if name not in self._methods:
            raise NotInterpretable(f"module '{self._kind}' calls its method '{name}', which the twin did not compile")
        block, functions = self._methods[name]
        env: dict[int, Any] = {block.params[0]: self}
        for v, a in zip(block.params[1:], args):
            env[v] = a
        result = _run(block, env, functions)
        return result[0] if len(result) == 1 else result

    def attribute(self, name: str):
        if name == "training":
            return self.training
        if name in self._modules:
            return self._modules[name]
        if name in self._parameters:
            return self._parameters[name]
        if name in self._buffers:
            return self._buffers[name]
        if name in self._values:
            return self._values[name]
        raise NotInterpretable(f"module '{self._kind}' reads an attribute '{name}' the twin does not have")


def _has_method(scripted: nn.Module, name: str) -> bool:
    try:
        scripted._c._get_method(name)
        return True
    except RuntimeError:
        return False


def _get_attr(obj, name: str):
    if isinstance(obj, GraphTwin):
        return obj.attribute(name)
    if name == "training" and isinstance(obj, nn.Module):
        return obj.training
    return getattr(obj, name)


def _call_method(obj, name: str, args: list):
    if isinstance(obj, GraphTwin):
        if name == "forward":
            return obj(*args)
        return obj._run_method(name, tuple(args))
    if name == "forward":
        return obj(*args)
    raise NotInterpretable(f"a call to method '{name}' of a standard layer")


def _run(block: _Block, env: dict[int, Any], functions: dict[int, Callable]) -> tuple:
    for ins in block.instrs:
        k = ins.kind
        if k == "prim::Constant":
            env[ins.outs[0]] = ins.data
            continue
        if k == "prim::If":
            branch = ins.blocks[0] if env[ins.ins[0]] else ins.blocks[1]
            out = _run(branch, env, functions)
            for o, v in zip(ins.outs, out):
                env[o] = v
            continue
        args = [env[i] for i in ins.ins] if k != "prim::CallFunction" else [env[i] for i in ins.ins[1:]]
        if k.startswith("aten::"):
            fn, spec = ins.data
            if spec is None:
                env[ins.outs[0]] = fn(*args)
            else:
                pos, kw = [], {}
                for (name, kw_only, conv), value in zip(spec, args):
                    if conv is not None and value is not None:
                        value = conv(value)
                    if kw_only:
                        kw[name] = value
                    else:
                        pos.append(value)
                env[ins.outs[0]] = fn(*pos, **kw)
            continue
        if k == "prim::GetAttr":
            env[ins.outs[0]] = _get_attr(args[0], ins.data)
        elif k == "prim::CallMethod":
            env[ins.outs[0]] = _call_method(args[0], ins.data, args[1:])
        elif k == "prim::CallFunction":
            fn = functions.get(ins.ins[0])
            if fn is None:
                raise NotInterpretable("a call to a function the twin could not resolve")
            env[ins.outs[0]] = fn(*args)
        elif k == "prim::ListConstruct":
            env[ins.outs[0]] = list(args)
        elif k == "prim::TupleConstruct":
            env[ins.outs[0]] = tuple(args)
        elif k == "prim::DictConstruct":
            env[ins.outs[0]] = dict(zip(args[0::2], args[1::2]))
        elif k in ("prim::ListUnpack", "prim::TupleUnpack"):
            values = list(args[0])
            if len(values) != len(ins.outs):
                raise RuntimeError(f"cannot unpack {len(values)} values into {len(ins.outs)}")
            for o, v in zip(ins.outs, values):
                env[o] = v
        elif k == "prim::TupleIndex":
            env[ins.outs[0]] = args[0][args[1]]
        elif k in ("prim::unchecked_cast", "prim::data"):
            env[ins.outs[0]] = args[0]
        elif k == "prim::NumToTensor":
            env[ins.outs[0]] = _num_to_tensor(args[0])
        elif k == "prim::Uninitialized":
            env[ins.outs[0]] = None
        elif k == "prim::RaiseException":
            raise RuntimeError(str(args[0]) if args else "the model raised an exception")
        elif k == "prim::Print":
            pass
        elif k == "prim::dtype":
            env[ins.outs[0]] = SCALAR_TYPE_CODES.get(args[0].dtype, args[0].dtype)
        elif k == "prim::device":
            env[ins.outs[0]] = args[0].device
        elif k == "prim::layout":
            env[ins.outs[0]] = 0
        elif k == "prim::is_cuda":
            env[ins.outs[0]] = bool(args[0].is_cuda)
        elif k == "prim::requires_grad":
            env[ins.outs[0]] = bool(args[0].requires_grad)
        elif k == "prim::min":
            env[ins.outs[0]] = min(args) if len(args) > 1 else min(args[0])
        elif k == "prim::max":
            env[ins.outs[0]] = max(args) if len(args) > 1 else max(args[0])
        else:
            raise NotInterpretable(f"the graph uses '{k}'")
    return tuple(env[r] for r in block.returns)


def interpret(scripted: nn.Module) -> GraphTwin:
    """The eager twin of ``scripted`` (unverified: ``core.model.twins`` checks it on real rows)."""
    if not isinstance(scripted, torch.jit.ScriptModule):
        raise NotInterpretable("it is not a TorchScript module")
    return GraphTwin(scripted).eval()
