"""The eager twin: a scripted network rebuilt from standard layers, trusted only once verified.

When the scripted module tree is a plain chain of supported layers, an eager ``nn.Sequential``
is rebuilt and checked output-for-output against the scripted original. The twin is what
torch-pruning can compact and what the fast SHAP path can walk; a network that cannot be
rebuilt stays scripted and can only be masked.
"""
from __future__ import annotations

import torch
from torch import nn

from core.model.layers import SelectInputs, Standardize


def _linear(m) -> nn.Module:
    out_f, in_f = m.weight.shape
    bias = getattr(m, "bias", None)
    lin = nn.Linear(int(in_f), int(out_f), bias=bias is not None)
    with torch.no_grad():
        lin.weight.copy_(m.weight)
        if bias is not None:
            lin.bias.copy_(bias)
    return lin


def _batchnorm(m) -> nn.Module:
    n = int(m.running_mean.shape[0]) if m.running_mean is not None else int(m.weight.shape[0])
    affine = getattr(m, "weight", None) is not None
    # Traced modules drop constants; defaults are safe because the twin is verified afterwards.
    bn = nn.BatchNorm1d(n, eps=float(getattr(m, "eps", 1e-5)), momentum=float(getattr(m, "momentum", 0.1) or 0.1), affine=affine)
    with torch.no_grad():
        if affine:
            bn.weight.copy_(m.weight)
            bn.bias.copy_(m.bias)
        if m.running_mean is not None:
            bn.running_mean.copy_(m.running_mean)
            bn.running_var.copy_(m.running_var)
    return bn


LAYER_BUILDERS = {
    "Linear": _linear,
    "BatchNorm1d": _batchnorm,
    "ReLU": lambda m: nn.ReLU(),
    "LeakyReLU": lambda m: nn.LeakyReLU(float(getattr(m, "negative_slope", 0.01))),
    "ELU": lambda m: nn.ELU(float(getattr(m, "alpha", 1.0))),
    "Tanh": lambda m: nn.Tanh(),
    "Sigmoid": lambda m: nn.Sigmoid(),
    "GELU": lambda m: nn.GELU(approximate=str(getattr(m, "approximate", "none"))),
    "SiLU": lambda m: nn.SiLU(),
    "Softplus": lambda m: nn.Softplus(float(getattr(m, "beta", 1.0)), float(getattr(m, "threshold", 20.0))),
    "Dropout": lambda m: nn.Dropout(float(getattr(m, "p", 0.5))),
    "Identity": lambda m: nn.Identity(),
    "SelectInputs": lambda m: SelectInputs(m.index, int(m.n_inputs)),
    "Standardize": lambda m: Standardize(m.shift, m.scale),
    "Softmax": lambda m: nn.Softmax(dim=int(getattr(m, "dim", -1) if getattr(m, "dim", None) is not None else -1)),
}
_CONTAINERS = {"Sequential", "ModuleList", "ModuleDict"}


# What a custom preprocessing module may do to be rebuilt as ``Standardize``: elementwise arithmetic
# on its input with its own buffers and constants (no loops, no calls, nothing that could run long).
_ELEMENTWISE_OPS = {"prim::GetAttr", "prim::Constant", "aten::sub", "aten::add", "aten::mul", "aten::div"}
# Layers that act on each input alone: ahead of the first Linear they keep one value per input.
PER_INPUT_KINDS = frozenset({"Standardize", "BatchNorm1d", "ReLU", "LeakyReLU", "ELU", "SELU", "GELU", "SiLU", "Tanh",
                             "Sigmoid", "Softplus", "Dropout", "Identity"})


def elementwise_candidate(m: nn.Module) -> bool:
    """True for a leaf whose code is only elementwise arithmetic on its input, buffers and constants.

    Such a module (a custom ``(x − mean) / std`` in front of an MLP) may be an affine map per input;
    ``standardize_from`` measures it and the chain's verification decides.
    """
    if not isinstance(m, torch.jit.ScriptModule) or list(m.parameters()) or list(m.children()):
        return False
    try:
        graph = m._c._get_method("forward").graph
    except (RuntimeError, AttributeError):
        return False
    nodes = list(graph.nodes())
    return bool(nodes) and all(n.kind() in _ELEMENTWISE_OPS and not list(n.blocks()) for n in nodes)


def standardize_from(m: nn.Module, width: int) -> Standardize | None:
    """The ``Standardize`` layer computing what ``m`` computes on ``width`` inputs, if it is affine per input.

    Measured in float64 on three constant rows: f(0) gives each input's offset and f(1) − f(0) its
    slope; f(2.5) must lie on that line, and a zero slope is refused. Elementwise arithmetic cannot mix
    inputs, and the rebuilt chain is verified against the upload as a whole afterwards.
    """
    if not elementwise_candidate(m) or width <= 0:
        return None
    z = torch.tensor([0.0, 1.0, 2.5], dtype=torch.float64)[:, None].expand(3, width).contiguous()
    try:
        with torch.no_grad():
            out = m(z)
    except Exception:
        return None
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (3, width):
        return None
    out = out.to(torch.float64)
    offset, slope = out[0], out[1] - out[0]
    on_line = torch.allclose(out[2], offset + 2.5 * slope, rtol=1e-9, atol=1e-12)
    if not torch.isfinite(out).all() or not on_line or (slope == 0).any():
        return None
    scale = 1.0 / slope
    return Standardize(-offset * scale, scale)


def rebuild_eager(scripted: nn.Module, n_inputs: int, seed: int = 0) -> tuple[nn.Sequential | None, str]:
    """Rebuild the scripted network as an eager Sequential when it is a plain chain of layers.

    The module tree alone cannot prove that ``forward`` is a chain (it could add a residual or
    reorder calls), so the rebuilt twin must reproduce the scripted outputs on random inputs. A
    custom standardisation module in front of the first Linear is rebuilt as ``Standardize``.
    """
    leaves = []
    for name, m in scripted.named_modules():
        kind = getattr(m, "original_name", type(m).__name__)
        children = list(m.named_children())
        if children:
            continue
        if kind not in LAYER_BUILDERS:
            in_front = all(type(l).__name__ in PER_INPUT_KINDS for l in leaves)  # still one value per input
            rebuilt = standardize_from(m, n_inputs) if in_front else None
            if rebuilt is None:
                return None, f"layer '{name}' ({kind}) is not one RiskPrune can rebuild"
            leaves.append(rebuilt)
            continue
        try:
            leaves.append(LAYER_BUILDERS[kind](m))
        except (AttributeError, RuntimeError, TypeError) as exc:
            return None, f"layer '{name}' ({kind}) could not be read ({exc})"
    if not leaves:
        return None, "the model has no layers RiskPrune can rebuild"
    eager = nn.Sequential(*leaves).eval()
    gen = torch.Generator().manual_seed(seed)
    probe = torch.randn(64, n_inputs, generator=gen) * 2.0
    try:
        with torch.no_grad():
            a = scripted(probe).reshape(64, -1)
            b = eager(probe).reshape(64, -1)
    except Exception as exc:
        return None, f"a chain of its layers does not run ({str(exc).splitlines()[0][:80]})"
    if a.shape != b.shape or not torch.allclose(a, b, rtol=1e-4, atol=1e-5, equal_nan=True):
        return None, "its forward pass is not a plain chain of its layers (e.g. a residual connection)"
    return eager, "rebuilt as a chain of standard layers (outputs verified identical)"


def structural_output_hint(eager: nn.Sequential | None) -> str | None:
    if eager is None:
        return None
    last = eager[-1]
    if isinstance(last, nn.Sigmoid):
        return "probability"
    if isinstance(last, nn.Softmax):
        return "two_class_probabilities"
    return None
