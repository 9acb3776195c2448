"""What to prune: the spec (method, ratio, per-layer overrides, seed, weight kinds) and its validation."""
from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import numpy as np

from core.errors import SpecError
from core.model.loading import LoadedModel
from core.prune.methods import HEADS, MAGNITUDE_LAYER, get_method, method_label
from core.prune.structure import WEIGHT_KIND_LABELS, WEIGHT_KINDS, PrunableLayer, prunable_layers

MAX_RATIO = 0.99


@dataclass(frozen=True)
class PruneSpec:
    """What to prune: method, share to remove, per-layer exceptions, the seed of any randomness and,
    for weight methods, which kinds of weight matrix take part.

    ``ratio`` is the share of weights (unstructured), of units per layer (neurons, heads, embedding
    dimensions) or of input variables (input method) to remove. ``overrides`` maps a layer (or
    attention module) name to its own ratio. ``kinds`` limits a weight method to some of
    "linear", "embedding", "attention" (empty: all), e.g. to keep embeddings dense.
    """

    method: str = MAGNITUDE_LAYER
    ratio: float = 0.5
    overrides: tuple[tuple[str, float], ...] = ()
    seed: int = 0
    kinds: tuple[str, ...] = ()

    @staticmethod
    def make(method: str, ratio: float, overrides: Mapping[str, float] | None = None, seed: int = 0,
             kinds: Iterable[str] | None = None) -> PruneSpec:
        chosen = tuple(k for k in WEIGHT_KINDS if k in set(kinds)) if kinds is not None else ()
        unknown = sorted(set(kinds or ()) - set(WEIGHT_KINDS))
        if unknown:
            raise SpecError(f"Unknown weight kind(s): {', '.join(unknown)}.", f"Use any of: {', '.join(WEIGHT_KINDS)}.")
        if kinds is not None and not chosen:
            raise SpecError("No kind of weight matrix is included.", f"Include at least one of: {', '.join(WEIGHT_KINDS)}.")
        return PruneSpec(method, float(ratio), tuple(sorted((str(k), float(v)) for k, v in (overrides or {}).items())),
                         int(seed), () if chosen == WEIGHT_KINDS else chosen)

    @property
    def label(self) -> str:
        return method_label(self.method)

    @property
    def weight_kinds(self) -> tuple[str, ...]:
        return self.kinds or WEIGHT_KINDS

    @property
    def key(self) -> str:
        parts = [self.method, round(self.ratio, 6), [list(o) for o in self.overrides], self.seed]
        if self.kinds:
            parts.append(list(self.kinds))
        return json.dumps(parts)

    def ratio_for(self, layer: str) -> float:
        return dict(self.overrides).get(layer, self.ratio)

    def to_dict(self) -> dict:
        out = {"method": self.method, "method_label": self.label, "ratio": self.ratio,
               "overrides": dict(self.overrides), "seed": self.seed}
        if self.kinds:  # recorded only when a weight method was limited to some kinds of weight matrix
            out["weight_kinds"] = list(self.kinds)
        return out


def _check_ratio(value: float, what: str) -> None:
    if not np.isfinite(value) or value < 0 or value > MAX_RATIO:
        raise SpecError(
            f"The pruning ratio {value} for {what} is outside [0, {MAX_RATIO}].",
            "A ratio is the share to remove: 0 keeps everything, 0.5 removes half; at least a little must stay.",
        )


def _attention_names(model: LoadedModel) -> list[str]:
    from core.model.graph import kind_of

    return [n for n, m in model.scripted.named_modules() if kind_of(m) == "MultiheadAttention"]


def validate_spec(model: LoadedModel, spec: PruneSpec) -> list[PrunableLayer]:
    """The model's prunable layers, once the spec is known to make sense for this model."""
    method = get_method(spec.method)
    _check_ratio(spec.ratio, "the whole model")
    layers = prunable_layers(model)
    names = {l.name: l for l in layers}
    targets = set(names) | (set(_attention_names(model)) if method.unit == HEADS else set())
    if spec.kinds and not method.unstructured:
        raise SpecError(
            f"Choosing kinds of weight matrix applies to weight methods, not to pruning {method.unit}.",
            "Remove the weight-kind choice or pick a magnitude or random method.",
        )
    if method.unstructured and not any(l.weight_kind in spec.weight_kinds for l in layers):
        wanted = ", ".join(WEIGHT_KIND_LABELS[k] for k in spec.weight_kinds)
        raise SpecError(f"The model has no {wanted} to prune.", "Include another kind of weight matrix.")
    for name, r in spec.overrides:
        if name not in targets:
            raise SpecError(
                f"The per-layer setting names a layer '{name}' that the model does not have.",
                f"Prunable layers are: {', '.join(sorted(targets))}.",
            )
        _check_ratio(r, f"layer '{name}'")
        if method.removes_neurons and name in names and names[name].is_output and r > 0:
            raise SpecError(
                f"Layer '{name}' produces the model's scores; its output units are never removed.",
                "Set its ratio to 0 or prune it with an unstructured method.",
            )
        if not method.per_layer:
            raise SpecError(
                f"Per-layer settings do not apply to pruning {method.unit} (it removes inputs, not layer weights).",
                "Remove the per-layer settings or pick another method.",
            )
    if method.removes_neurons and not any(not l.is_output and l.weight_kind == "linear" for l in layers):
        raise SpecError(
            "The model has no hidden layer, so there are no neurons to remove.",
            "Use an unstructured or input-variable method.",
        )
    return layers
