"""What a model's output means and how every output head becomes P(bad) or its log-odds.

A credit model may end in one logit, one probability, two class logits or two class
probabilities; the kind is detected from the structure (a final Sigmoid/Softmax) and the values
on real rows, can be overridden by the user, and is always shown with how it was decided.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from scipy import special
from torch import nn

from core.errors import ModelError, SpecError
from core.model.loading import LoadedModel

OUTPUT_KINDS = ("logit", "probability", "two_class_logits", "two_class_probabilities")
OUTPUT_KIND_LABELS = {
    "logit": "one logit (P(bad) = sigmoid(output))",
    "probability": "one probability of bad",
    "two_class_logits": "two-class logits (P(bad) = softmax(output)[:, 1])",
    "two_class_probabilities": "two-class probabilities (P(bad) = column 1)",
}


@dataclass(frozen=True)
class OutputSpec:
    """What the model's output means and how it was decided (shown to the user)."""

    kind: str
    how: str

    @property
    def label(self) -> str:
        return OUTPUT_KIND_LABELS[self.kind]


def raw_outputs(module: nn.Module, X: np.ndarray, batch_size: int = 65_536) -> np.ndarray:
    """Forward pass in eval mode without gradients; always returns a 2-D float64 array (N, k)."""
    module.eval()
    outs = []
    with torch.inference_mode():
        for start in range(0, max(len(X), 1), batch_size):
            xb = torch.from_numpy(np.ascontiguousarray(X[start:start + batch_size], dtype=np.float32))
            out = module(xb)
            if not isinstance(out, torch.Tensor):
                raise ModelError(
                    "The model returns something other than a single tensor.",
                    "Export a model whose forward returns one tensor of scores.",
                )
            outs.append(out.detach().reshape(out.shape[0], -1).to(torch.float64).numpy())
    return np.concatenate(outs, axis=0) if outs else np.zeros((0, 1))


def detect_output_kind(raw: np.ndarray, hint: str | None = None) -> OutputSpec:
    """Decide what the outputs mean: structure first (a final Sigmoid/Softmax), then values."""
    if raw.ndim != 2 or raw.shape[1] not in (1, 2):
        width = raw.shape[1] if raw.ndim == 2 else "?"
        raise ModelError(
            f"The model returns {width} values per applicant; RiskPrune needs one score "
            "(a logit or probability of default) or two class scores.",
            "Export a binary default model (output shape (N,), (N, 1) or (N, 2)).",
        )
    finite = np.isfinite(raw)
    if not finite.all():
        n_bad = int((~finite.all(axis=1)).sum())
        raise ModelError(
            f"The model returns NaN or infinite scores for {n_bad} of {len(raw)} applicants.",
            "Check the model's weights and that the inputs are scaled the way it was trained.",
        )
    in_unit = bool(((raw >= 0) & (raw <= 1)).all())
    if raw.shape[1] == 1:
        if hint == "probability":
            return OutputSpec("probability", "the model ends with a Sigmoid layer")
        if in_unit and hint is None and len(raw) >= 20:
            return OutputSpec("probability", "every output lies between 0 and 1")
        return OutputSpec("logit", "outputs are unbounded real numbers (a logit)")
    if hint == "two_class_probabilities":
        return OutputSpec("two_class_probabilities", "the model ends with a Softmax layer")
    if in_unit and np.allclose(raw.sum(axis=1), 1.0, atol=1e-4):
        return OutputSpec("two_class_probabilities", "the two outputs are non-negative and sum to 1")
    return OutputSpec("two_class_logits", "two unbounded outputs (class logits); column 1 is bad")


def pbad_from_raw(raw: np.ndarray, kind: str) -> np.ndarray:
    """P(bad) in [0, 1] from raw outputs of the given kind (class 1 = bad for two outputs)."""
    if kind == "logit":
        return special.expit(raw[:, 0])  # no overflow warning for very negative logits
    if kind == "probability":
        return np.clip(raw[:, 0], 0.0, 1.0)
    if kind == "two_class_logits":
        z = raw - raw.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e[:, 1] / e.sum(axis=1)
    if kind == "two_class_probabilities":
        return np.clip(raw[:, 1] / raw.sum(axis=1), 0.0, 1.0)
    raise ModelError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")


def logit_from_raw(raw: np.ndarray, kind: str, eps: float = 1e-12) -> np.ndarray:
    """log(P(bad) / P(good)): the additive scale on which attributions are computed."""
    if kind == "logit":
        return raw[:, 0].copy()
    if kind == "two_class_logits":
        return raw[:, 1] - raw[:, 0]
    if kind == "probability":
        p = np.clip(raw[:, 0], eps, 1 - eps)
        return np.log(p) - np.log1p(-p)
    if kind == "two_class_probabilities":
        p = np.clip(raw, eps, None)
        return np.log(p[:, 1]) - np.log(p[:, 0])
    raise ModelError(f"Unknown output kind '{kind}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")


def logit_of_output(out: torch.Tensor, kind: str, eps: float = 1e-7) -> torch.Tensor:
    """log(P(bad)/P(good)) from the model's own output, differentiable, for every output kind."""
    out = out.reshape(out.shape[0], -1)
    if kind == "logit":
        return out[:, 0]
    if kind == "probability":
        p = out[:, 0].clamp(eps, 1 - eps)
        return torch.log(p) - torch.log1p(-p)
    if kind == "two_class_logits":
        return out[:, 1] - out[:, 0]
    if kind == "two_class_probabilities":
        p = out.clamp_min(eps)
        return torch.log(p[:, 1]) - torch.log(p[:, 0])
    raise SpecError(f"Unknown output kind '{kind}'.", "Resolve the model's output kind first.")


def predict_pbad(module: nn.Module, X: np.ndarray, kind: str) -> np.ndarray:
    return pbad_from_raw(raw_outputs(module, X), kind)


def predict_logit(module: nn.Module, X: np.ndarray, kind: str) -> np.ndarray:
    return logit_from_raw(raw_outputs(module, X), kind)


def resolve_output(model: LoadedModel, X: np.ndarray, override: str | None = None) -> OutputSpec:
    """Detect the output kind on real rows; a user override wins but is still shape-checked."""
    if len(X) and X.shape[1] != model.n_inputs:
        raise ModelError(
            f"The model expects {model.n_inputs} inputs but the data has {X.shape[1]}.",
            "Select exactly the columns the model was trained on, in training order.",
        )
    try:
        raw = raw_outputs(model.scripted, X[: min(len(X), 2048)])
    except ModelError:
        raise
    except Exception as exc:
        raise ModelError(
            f"The model failed on the data ({str(exc).splitlines()[0][:160]}).",
            "Check that the model's input size and the selected columns match.",
        ) from exc
    spec = detect_output_kind(raw, model.output_hint)
    if override is not None and override != spec.kind:
        if override not in OUTPUT_KINDS:
            raise ModelError(f"Unknown output kind '{override}'.", f"Use one of {', '.join(OUTPUT_KINDS)}.")
        if (override.startswith("two_class")) != (raw.shape[1] == 2):
            raise ModelError(
                f"The model returns {raw.shape[1]} value(s) per applicant, which cannot be "
                f"{OUTPUT_KIND_LABELS[override]}.",
                "Pick an output kind that matches the model's output width.",
            )
        return OutputSpec(override, "set by the user")
    return spec
