"""The fitted maps as small modules appended to the pruned network, so exported files carry them.

Every map acts on the log-odds of bad read off the model's raw output, and the result is emitted in
the same output kind the model had (a one-logit model stays one logit, a probability model stays
a probability, two-class heads stay two columns with class 1 = bad), so nothing downstream has
to know an alignment happened. All modules are TorchScript-scriptable and export to ONNX (opset
17) with the TorchScript-based exporter: the piecewise-linear map finds its segment by counting
knots below the input (a comparison and a sum) rather than ``torch.searchsorted``, which that
exporter does not support. Maps compute in float64 and hand back the input's dtype.
"""
from __future__ import annotations

import copy

import torch
from torch import nn

from core.errors import SpecError

LOGIT_EPS = 1e-7  # probabilities are clamped to [eps, 1 − eps] before the log-odds (as core.model.logit_of_output)


# --------------------------------------------------------------------------- reading the log-odds


class LogitOfLogit(nn.Module):
    """One-logit head: the output is the log-odds of bad."""

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        return out.reshape(out.shape[0], -1)[:, 0]


class LogitOfProbability(nn.Module):
    """One-probability head: log(p / (1 − p)) with p clamped away from 0 and 1."""

    def __init__(self) -> None:
        super().__init__()
        self.eps = LOGIT_EPS

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        p = out.reshape(out.shape[0], -1)[:, 0].clamp(self.eps, 1.0 - self.eps)
        return torch.log(p) - torch.log1p(-p)


class LogitOfTwoClassLogits(nn.Module):
    """Two class logits: the log-odds of bad is their difference (class 1 = bad)."""

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        out = out.reshape(out.shape[0], -1)
        return out[:, 1] - out[:, 0]


class LogitOfTwoClassProbabilities(nn.Module):
    """Two class probabilities: log(p_bad / p_good)."""

    def __init__(self) -> None:
        super().__init__()
        self.eps = LOGIT_EPS

    def forward(self, out: torch.Tensor) -> torch.Tensor:
        p = out.reshape(out.shape[0], -1).clamp_min(self.eps)
        return torch.log(p[:, 1]) - torch.log(p[:, 0])


# --------------------------------------------------------------------------- emitting the same kind


class EmitLogit(nn.Module):
    """The mapped log-odds as the model's one logit, in the pruned output's shape ((N,) or (N, 1))."""

    def forward(self, z: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return z.reshape_as(like)


class EmitProbability(nn.Module):
    """sigmoid of the mapped log-odds, in the pruned output's shape."""

    def forward(self, z: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(z).reshape_as(like)


class EmitTwoClassLogits(nn.Module):
    """Two class logits [0, z]: softmax(…)[:, 1] = sigmoid(z), the mapped P(bad)."""

    def forward(self, z: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return torch.stack([torch.zeros_like(z), z], dim=1).reshape_as(like)


class EmitTwoClassProbabilities(nn.Module):
    """Two class probabilities softmax([0, z]) = [1 − sigmoid(z), sigmoid(z)], summing to 1."""

    def forward(self, z: torch.Tensor, like: torch.Tensor) -> torch.Tensor:
        return torch.softmax(torch.stack([torch.zeros_like(z), z], dim=1), dim=1).reshape_as(like)


_READERS = {"logit": LogitOfLogit, "probability": LogitOfProbability,
            "two_class_logits": LogitOfTwoClassLogits, "two_class_probabilities": LogitOfTwoClassProbabilities}
_EMITTERS = {"logit": EmitLogit, "probability": EmitProbability,
             "two_class_logits": EmitTwoClassLogits, "two_class_probabilities": EmitTwoClassProbabilities}


def logit_reader(kind: str) -> nn.Module:
    """The module that turns a raw output of ``kind`` into the log-odds of bad (shape (N,))."""
    if kind not in _READERS:
        raise SpecError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(_READERS)}.")
    return _READERS[kind]()


def emitter(kind: str) -> nn.Module:
    """The module that turns mapped log-odds back into a raw output of ``kind``."""
    if kind not in _EMITTERS:
        raise SpecError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(_EMITTERS)}.")
    return _EMITTERS[kind]()


# --------------------------------------------------------------------------- the maps


class AffineLogitMap(nn.Module):
    """z ↦ slope · z + intercept on the log-odds (two buffers; slope > 0 keeps the ranking)."""

    def __init__(self, slope: float, intercept: float) -> None:
        super().__init__()
        self.register_buffer("slope", torch.tensor(float(slope), dtype=torch.float64))
        self.register_buffer("intercept", torch.tensor(float(intercept), dtype=torch.float64))

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return (z.to(torch.float64) * self.slope + self.intercept).to(z.dtype)


class PiecewiseLinearLogitMap(nn.Module):
    """Linear interpolation through knots (x strictly increasing, y non-decreasing), flat outside them.

    The segment of each input is the number of interior knots at or below it — a comparison and
    a sum, which exports to ONNX where ``searchsorted`` does not; with at most a few hundred knots
    the (N × K) comparison is cheap.
    """

    def __init__(self, knots_x: torch.Tensor, knots_y: torch.Tensor) -> None:
        super().__init__()
        x = torch.as_tensor(knots_x, dtype=torch.float64).reshape(-1).clone()
        y = torch.as_tensor(knots_y, dtype=torch.float64).reshape(-1).clone()
        if len(x) < 2 or len(x) != len(y) or not bool((x[1:] > x[:-1]).all()) or not bool((y[1:] >= y[:-1]).all()):
            raise SpecError(
                "A monotone map needs at least two knots with increasing inputs and non-decreasing outputs.",
                "Fit the map with core.alignment.fit_alignment.",
            )
        self.register_buffer("knots_x", x)
        self.register_buffer("knots_y", y)
        self.register_buffer("slopes", (y[1:] - y[:-1]) / (x[1:] - x[:-1]))
        self.register_buffer("upper", x[1:].clone())  # right end of each segment
        self.last_segment = int(len(x) - 2)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        zc = z.to(torch.float64).clamp(self.knots_x[0], self.knots_x[-1])
        segment = (zc.unsqueeze(1) >= self.upper.unsqueeze(0)).sum(dim=1).clamp(max=self.last_segment)
        return (self.knots_y[segment] + self.slopes[segment] * (zc - self.knots_x[segment])).to(z.dtype)


class AlignedModel(nn.Module):
    """A pruned network followed by a score map: read the log-odds, map them, emit the same output kind.

    ``alignment_record`` is the fitted map's description (JSON), kept as a TorchScript string
    attribute so an exported file still says what was appended and with which parameters.
    """

    def __init__(self, pruned: nn.Module, reader: nn.Module, mapping: nn.Module, emit: nn.Module, record: str = "") -> None:
        super().__init__()
        self.pruned = pruned
        self.reader = reader
        self.mapping = mapping
        self.emit = emit
        self.alignment_record = str(record)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.pruned(x)
        return self.emit(self.mapping(self.reader(out)), out)


def build_aligned(pruned: nn.Module, kind: str, mapping: nn.Module, record: str = "") -> nn.Module:
    """``pruned`` (deep-copied, so the caller's module is never changed) followed by ``mapping``, in eval mode.

    A scripted pruned network (one that could only be masked) gets a scripted wrapper: a Python
    module around a ScriptModule cannot be traced for ONNX, a ScriptModule all the way down can.
    """
    aligned = AlignedModel(copy.deepcopy(pruned), logit_reader(kind), mapping, emitter(kind), record).eval()
    return torch.jit.script(aligned) if isinstance(pruned, torch.jit.ScriptModule) else aligned
