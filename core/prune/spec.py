"""What to prune: the spec (method, ratio, per-layer overrides, seed) and its validation."""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from core.errors import SpecError
from core.model.loading import LoadedModel
from core.prune.methods import MAGNITUDE_LAYER, get_method, method_label
from core.prune.structure import PrunableLayer, prunable_layers

MAX_RATIO = 0.99


@dataclass(frozen=True)
class PruneSpec:
    """What to prune: method, share to remove, per-layer exceptions and the seed of any randomness.

    ``ratio`` is the share of weights (unstructured), of hidden neurons per layer (neuron
    methods) or of input variables (input method) to remove. ``overrides`` maps a layer name to
    its own ratio.
    """

    method: str = MAGNITUDE_LAYER
    ratio: float = 0.5
    overrides: tuple[tuple[str, float], ...] = ()
    seed: int = 0

    @staticmethod
    def make(method: str, ratio: float, overrides: Mapping[str, float] | None = None, seed: int = 0) -> PruneSpec:
        return PruneSpec(method, float(ratio), tuple(sorted((str(k), float(v)) for k, v in (overrides or {}).items())), int(seed))

    @property
    def label(self) -> str:
        return method_label(self.method)

    @property
    def key(self) -> str:
        return json.dumps([self.method, round(self.ratio, 6), [list(o) for o in self.overrides], self.seed])

    def ratio_for(self, layer: str) -> float:
        return dict(self.overrides).get(layer, self.ratio)

    def to_dict(self) -> dict:
        return {"method": self.method, "method_label": self.label, "ratio": self.ratio,
                "overrides": dict(self.overrides), "seed": self.seed}


def _check_ratio(value: float, what: str) -> None:
    if not np.isfinite(value) or value < 0 or value > MAX_RATIO:
        raise SpecError(
            f"The pruning ratio {value} for {what} is outside [0, {MAX_RATIO}].",
            "A ratio is the share to remove: 0 keeps everything, 0.5 removes half; at least a little must stay.",
        )


def validate_spec(model: LoadedModel, spec: PruneSpec) -> list[PrunableLayer]:
    """The model's prunable layers, once the spec is known to make sense for this model."""
    method = get_method(spec.method)
    _check_ratio(spec.ratio, "the whole model")
    layers = prunable_layers(model)
    names = {l.name: l for l in layers}
    for name, r in spec.overrides:
        if name not in names:
            raise SpecError(
                f"The per-layer setting names a layer '{name}' that the model does not have.",
                f"Prunable (Linear) layers are: {', '.join(names)}.",
            )
        _check_ratio(r, f"layer '{name}'")
        if method.removes_neurons and names[name].is_output and r > 0:
            raise SpecError(
                f"Layer '{name}' produces the model's scores; its output units are never removed.",
                "Set its ratio to 0 or prune it with an unstructured method.",
            )
        if not method.per_layer:
            raise SpecError(
                f"Per-layer settings do not apply to pruning {method.unit} (it removes inputs, not layer weights).",
                "Remove the per-layer settings or pick another method.",
            )
    if method.removes_neurons and not any(not l.is_output for l in layers):
        raise SpecError(
            "The model has no hidden layer, so there are no neurons to remove.",
            "Use an unstructured or input-variable method.",
        )
    return layers
