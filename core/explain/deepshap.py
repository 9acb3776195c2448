"""Exact DeepSHAP for plain chains of layers, batched over (row, background) pairs.

``shap.DeepExplainer`` computes DeepLIFT's *rescale rule* once per explained row against every
background row and averages: φ_i(x) = mean_b  g_i(x, b) · (x_i − b_i), where g(x, b) is the
gradient of the output with every elementwise nonlinearity's derivative replaced by the secant
slope Δout/Δin between the row's and the background row's activations. It gets there with one
forward/backward pass per explained row through PyTorch hooks, which costs 1–2.5 s for 500 rows on
the sample model: far too slow to follow a pruning slider.

For a chain ``affine → activation → affine → … → affine`` the same quantity is a product of
matrices: every affine stretch (Linear, BatchNorm1d in eval mode, Standardize, Dropout in eval mode, Identity)
has one Jacobian shared by all pairs, and every activation contributes a diagonal multiplier per
pair. So the forward pass runs once for the explained rows and once for the background (not once
per pair), and the multipliers are back-propagated for all pairs at once with batched torch ops,
in row chunks so the (rows × background × width) tensors stay within a memory budget.

Exactly what shap does, reproduced (shap 0.51 ``deep_pytorch.py``, handler ``nonlinear_1d``):
  * multiplier = Δout / Δin with Δ = (row activation − background activation);
  * where |Δin| < 1e-6 the ordinary gradient is used instead, evaluated at the *background*
    side (shap averages the gradients of the background half of its doubled batch);
  * Linear / BatchNorm / Dropout / Identity / Flatten pass gradients unchanged (``linear_1d``,
    ``passthrough``).
The activations shap handles that way and this module supports: ReLU, LeakyReLU, ELU, SELU,
GELU, Tanh, Sigmoid, Softplus. SiLU is also supported with the same rule (shap's DeepExplainer
does not hook it and silently returns plain gradients; the rescale rule here is still additive).

Precision: shap runs the model in float32 and forms Δout/Δin in float32. Smooth activations
(Sigmoid, Tanh, ELU, Softplus, GELU) then lose digits when Δin is small, and a float64 forward
pass would *disagree* with shap by up to ~4e-4 of max |φ| for exactly that reason. Running the
forward pass in the model's own dtype (as shap does) and the pairwise back-propagation in float32
matched shap to ~3e-7 of max |φ| in measurements here and is 2–3× faster than float64, so float32
is the default; ``precision="float64"`` keeps the back-propagation in float64.
"""
from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from core.model.layers import SelectInputs, Standardize
from core.progress import Progress, report

NEAR_ZERO = 1e-6  # shap's threshold on |Δin| below which the gradient replaces Δout/Δin
# Memory bound for the (rows × background × width) pair tensors of one chunk. Small chunks are
# also the fastest: 8 MiB ran 500 × 100 pairs on the sample model in ~16 ms against ~45 ms for a
# single 256 MiB chunk (fresh large allocations page-fault and fall out of cache).
DEFAULT_MAX_CHUNK_BYTES = 8 * 2**20
_PAIR_TENSORS = 4  # (row × background × width) tensors alive at once while back-propagating

# Elementwise activations handled with the rescale rule (shap's nonlinear_1d list, plus SiLU).
RESCALE_ACTIVATIONS = (nn.ReLU, nn.LeakyReLU, nn.ELU, nn.SELU, nn.GELU, nn.Tanh, nn.Sigmoid, nn.Softplus, nn.SiLU)
# Layers that are linear (affine) per row in eval mode.
_PASSTHROUGH = (nn.Dropout, nn.AlphaDropout, nn.Identity, nn.Flatten)
_READOUT = {"logit": (1.0,), "probability": (1.0,), "two_class_logits": (-1.0, 1.0), "two_class_probabilities": (-1.0, 1.0)}


class UnsupportedNetwork(Exception):
    """The module is not a plain chain the fast path can walk; ``str(exc)`` says why."""


@dataclass(frozen=True)
class Chain:
    """A network seen as alternating affine stretches and elementwise activations.

    ``forward_steps`` reproduce the model's own eval-mode computation (used for activations and
    outputs, in the model's dtype). ``jacobians[k]`` is the float64 Jacobian of the affine stretch
    *before* activation k (the last entry: after the last activation); ``None`` means identity.
    ``readout`` turns the network's output into log(P(bad)/P(good)): [1] for one logit,
    [-1, 1] for two class logits (z1 − z0). A final Sigmoid/Softmax has already been stripped.
    """

    forward_steps: tuple[tuple[bool, Callable[[torch.Tensor], torch.Tensor]], ...]  # (is activation, fn)
    activations: tuple[nn.Module, ...]
    jacobians: tuple[torch.Tensor | None, ...]
    readout: torch.Tensor
    n_inputs: int
    dtype: torch.dtype
    stripped: str | None = None

    @property
    def widths(self) -> tuple[int, ...]:
        """Width of the input and of every activation (the pair tensors' last dimension)."""
        out = [self.n_inputs]
        for jac in self.jacobians[:-1]:
            out.append(out[-1] if jac is None else int(jac.shape[0]))
        return tuple(out)


# --------------------------------------------------------------------------- building the chain


def leaf_layers(module: nn.Module) -> list[nn.Module]:
    """Layers of a (possibly nested) nn.Sequential in call order; anything else is not a chain."""
    if isinstance(module, torch.jit.ScriptModule):
        raise UnsupportedNetwork("it is a TorchScript module, whose forward pass cannot be read as a chain")
    if not isinstance(module, nn.Sequential):
        raise UnsupportedNetwork(
            f"it is a custom module ({type(module).__name__}) whose forward pass may not be a plain chain"
        )
    out: list[nn.Module] = []
    for child in module:
        if isinstance(child, nn.Sequential):
            out.extend(leaf_layers(child))
        else:
            out.append(child)
    return out


def _non_inplace(act: nn.Module) -> nn.Module:
    """An activation that never overwrites its input (recorded inputs must survive the call)."""
    if getattr(act, "inplace", False):
        act = copy.copy(act)  # shallow: shares nothing mutable; the caller's layer is untouched
        act.inplace = False
    return act


def _bn_scale(bn: nn.BatchNorm1d) -> torch.Tensor:
    """Per-channel slope of an eval-mode BatchNorm (its Jacobian is diag(scale))."""
    scale = 1.0 / torch.sqrt(bn.running_var.detach().to(torch.float64) + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight.detach().to(torch.float64)
    return scale


def build_chain(module: nn.Module, kind: str) -> Chain:
    """Read an eval-mode chain out of ``module`` without modifying it; raise UnsupportedNetwork."""
    if kind not in _READOUT:
        raise UnsupportedNetwork(f"output kind '{kind}' is unknown")
    layers = leaf_layers(module)
    while layers and isinstance(layers[-1], _PASSTHROUGH):  # a trailing Dropout/Identity changes nothing
        layers = layers[:-1]
    stripped = None
    if kind == "probability":
        if not layers or not isinstance(layers[-1], nn.Sigmoid):
            raise UnsupportedNetwork("a probability model must end with a Sigmoid layer to be explained on the logit scale")
        layers, stripped = layers[:-1], "Sigmoid"
    elif kind == "two_class_probabilities":
        last = layers[-1] if layers else None
        if not isinstance(last, nn.Softmax) or last.dim not in (-1, 1, None):
            raise UnsupportedNetwork("a two-class probability model must end with a Softmax over the classes")
        layers, stripped = layers[:-1], "Softmax"

    steps: list[tuple[bool, Callable[[torch.Tensor], torch.Tensor]]] = []
    activations: list[nn.Module] = []
    jacobians: list[torch.Tensor | None] = []
    jac: torch.Tensor | None = None
    n_inputs: int | None = None
    dtype: torch.dtype | None = None
    for i, layer in enumerate(layers):
        name = type(layer).__name__
        if isinstance(layer, nn.Linear):
            w = layer.weight.detach()
            bias = None if layer.bias is None else layer.bias.detach()
            if n_inputs is None:
                n_inputs = int(w.shape[1])
            dtype = dtype or w.dtype
            steps.append((False, lambda h, w=w, b=bias: F.linear(h, w, b)))
            w64 = w.to(torch.float64)
            jac = w64 if jac is None else w64 @ jac
        elif isinstance(layer, nn.BatchNorm1d):
            if layer.running_mean is None or layer.running_var is None:
                raise UnsupportedNetwork(f"layer {i} (BatchNorm1d) keeps no running statistics, so it is not linear per row")
            scale = _bn_scale(layer)
            rm, rv = layer.running_mean.detach(), layer.running_var.detach()
            wt = None if layer.weight is None else layer.weight.detach()
            bs = None if layer.bias is None else layer.bias.detach()
            steps.append((False, lambda h, rm=rm, rv=rv, wt=wt, bs=bs, eps=layer.eps: F.batch_norm(h, rm, rv, wt, bs, False, 0.0, eps)))
            jac = torch.diag(scale) if jac is None else scale[:, None] * jac
        elif isinstance(layer, Standardize):  # (x − shift) / scale per input: Jacobian diag(1 / scale)
            slope = 1.0 / layer.scale.detach().to(torch.float64)
            steps.append((False, layer))
            jac = torch.diag(slope) if jac is None else slope[:, None] * jac
        elif isinstance(layer, SelectInputs):
            if n_inputs is not None:
                raise UnsupportedNetwork(f"layer {i} selects inputs after the first layer")
            n_inputs = layer.n_inputs
            steps.append((False, lambda h, idx=layer.index: h.index_select(1, idx)))
            sel = layer.selection_matrix()
            jac = sel if jac is None else sel @ jac
        elif isinstance(layer, _PASSTHROUGH):
            continue
        elif isinstance(layer, RESCALE_ACTIVATIONS):
            act = _non_inplace(layer)
            steps.append((True, act))
            activations.append(act)
            jacobians.append(jac)
            jac = None
        else:
            raise UnsupportedNetwork(f"layer {i} ({name}) is not one the fast path supports")
    if n_inputs is None:
        raise UnsupportedNetwork("it has no Linear layer")
    if not activations and jac is None:
        raise UnsupportedNetwork("it has no layers to explain")
    jacobians.append(jac)
    readout = torch.tensor(_READOUT[kind], dtype=torch.float64)
    return Chain(tuple(steps), tuple(activations), tuple(jacobians), readout, n_inputs, dtype or torch.float32, stripped)


# --------------------------------------------------------------------------- computing


def _forward(chain: Chain, X: torch.Tensor) -> tuple[list[tuple[torch.Tensor, torch.Tensor]], torch.Tensor]:
    """Eval-mode forward pass recording each activation's input and output."""
    records = []
    h = X
    for is_activation, step in chain.forward_steps:
        if is_activation:
            out = step(h)
            records.append((h, out))
            h = out
        else:
            h = step(h)
    return records, h


def _gradient_at(act: nn.Module, z: torch.Tensor) -> torch.Tensor:
    """d act(z) / dz elementwise, with torch's own conventions at kinks (what shap falls back to)."""
    zz = z.detach().clone().requires_grad_(True)
    with torch.enable_grad():
        (grad,) = torch.autograd.grad(act(zz).sum(), zz)
    return grad


def _output_logit(chain: Chain, out: torch.Tensor) -> np.ndarray:
    out = out.reshape(out.shape[0], -1).to(torch.float64)
    if out.shape[1] != len(chain.readout):
        raise UnsupportedNetwork(
            f"the network returns {out.shape[1]} value(s) per row, not {len(chain.readout)} as its output kind says"
        )
    return (out @ chain.readout).numpy()


def rows_per_chunk(n_background: int, widths: tuple[int, ...], itemsize: int, max_chunk_bytes: int) -> int:
    """How many explained rows fit the pair-tensor memory budget at once (at least one)."""
    per_row = n_background * max(widths) * itemsize * _PAIR_TENSORS
    return max(1, int(max_chunk_bytes // max(per_row, 1)))


def deepshap(
    chain: Chain,
    X: np.ndarray,
    background: np.ndarray,
    *,
    precision: str = "float32",
    max_chunk_bytes: int = DEFAULT_MAX_CHUNK_BYTES,
    progress: Progress | None = None,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """DeepSHAP values of the chain's logit for rows X against ``background``.

    Returns (φ (n, M) float64, f(X) (n,) float64, f(background) (B,) float64) with
    Σ_i φ_i = f(x) − mean f(background) up to float32 rounding.
    """
    pair_dtype = {"float32": torch.float32, "float64": torch.float64}.get(precision)
    if pair_dtype is None:
        raise ValueError(f"precision must be 'float32' or 'float64', not {precision!r}")
    if chain.dtype == torch.float64:
        pair_dtype = torch.float64  # never compute below the model's own precision
    with torch.inference_mode(False), torch.no_grad():
        xt = torch.as_tensor(np.ascontiguousarray(X), dtype=chain.dtype)
        bt = torch.as_tensor(np.ascontiguousarray(background), dtype=chain.dtype)
        rec_x, out_x = _forward(chain, xt)
        rec_b, out_b = _forward(chain, bt)
        f_x, f_b = _output_logit(chain, out_x), _output_logit(chain, out_b)
        grads_b = [_gradient_at(act, zb).to(pair_dtype) for act, (zb, _) in zip(chain.activations, rec_b)]
        jacs = [None if j is None else j.to(pair_dtype) for j in chain.jacobians]
        top = chain.readout if jacs[-1] is None else chain.readout @ chain.jacobians[-1]
        top = top.to(pair_dtype)
        zb_all = [(zb.to(pair_dtype), ab.to(pair_dtype)) for zb, ab in rec_b]
        xp, bp = xt.to(pair_dtype), bt.to(pair_dtype)
        B = bp.shape[0]
        n = xp.shape[0]
        step = rows_per_chunk(B, chain.widths, torch.finfo(pair_dtype).bits // 8, max_chunk_bytes)
        phi = np.empty((n, chain.n_inputs), dtype=np.float64)
        for start in range(0, n, step):
            stop = min(n, start + step)
            g = _backprop_pairs(rec_x, zb_all, grads_b, jacs, top, start, stop, pair_dtype)
            xs = xp[start:stop]
            if g.dim() == 1:  # no activation: one Jacobian for every pair
                chunk = g * (xs - bp.mean(0))
            else:
                chunk = (xs * g.sum(1) - torch.einsum("nbi,bi->ni", g, bp)) / B
            phi[start:stop] = chunk.to(torch.float64).numpy()
            report(progress, stop, n, "explaining applicants")
    return phi, f_x, f_b


def _backprop_pairs(rec_x, zb_all, grads_b, jacs, top, start, stop, dtype) -> torch.Tensor:
    """Multipliers d logit / d input for every (row in start:stop, background row) pair."""
    g = top
    for k in range(len(rec_x) - 1, -1, -1):
        zx, ax = rec_x[k]
        zx, ax = zx[start:stop].to(dtype), ax[start:stop].to(dtype)
        zb, ab = zb_all[k]
        delta_in = zx[:, None, :] - zb[None, :, :]
        mult = (ax[:, None, :] - ab[None, :, :]).div_(delta_in)
        mult = torch.where(delta_in.abs_() < NEAR_ZERO, grads_b[k][None, :, :], mult)
        g = mult.mul_(g)
        if jacs[k] is not None:
            g = g @ jacs[k]
    return g
