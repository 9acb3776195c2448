"""The method registry: every pruning method by key, with its label, what its ratio removes and its procedure.

Pages, sweeps, the CLI and the report look methods up here instead of testing method strings, so
adding a method is one ``register`` call (the procedure lives in ``core.prune.algorithms``).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from core.errors import SpecError
from core.prune import depgraph
from core.prune.algorithms import (
    Cut,
    Reference,
    attention_heads,
    input_variables,
    magnitude_global,
    magnitude_layerwise,
    random_layerwise,
    structured,
)

if TYPE_CHECKING:
    from core.model.loading import LoadedModel
    from core.prune.spec import PruneSpec
    from core.prune.structure import PrunableLayer

WEIGHTS, NEURONS, INPUT_VARIABLES = "weights", "hidden neurons", "input variables"
HEADS, EMBEDDING_DIMENSIONS = "attention heads", "embedding dimensions"
Procedure = Callable[["LoadedModel", "PruneSpec", "list[PrunableLayer]", Reference], Cut]


@dataclass(frozen=True)
class PruningMethod:
    """One way of pruning, as the user and every caller see it.

    ``unit`` is what the ratio is a share of: weights (unstructured: zeros in place), hidden
    neurons of each layer (including transformer feed-forward units and residual-coupled
    channels), attention heads of each attention layer, dimensions of each embedding table, or
    input variables of the model (structured: removed where the network allows). Per-layer ratios
    apply to everything but inputs.
    """

    key: str
    label: str
    unit: str
    procedure: Procedure
    uses_reference_rows: bool = False

    @property
    def structured(self) -> bool:
        return self.unit != WEIGHTS

    @property
    def per_layer(self) -> bool:
        return self.unit != INPUT_VARIABLES

    @property
    def removes_neurons(self) -> bool:
        return self.unit == NEURONS

    @property
    def unstructured(self) -> bool:
        return self.unit == WEIGHTS


REGISTRY: dict[str, PruningMethod] = {}


def register(method: PruningMethod) -> PruningMethod:
    REGISTRY[method.key] = method
    return method


MAGNITUDE_LAYER = register(PruningMethod("magnitude_layer", "Magnitude, layer by layer (unstructured)", WEIGHTS, magnitude_layerwise)).key
MAGNITUDE_GLOBAL = register(PruningMethod("magnitude_global", "Magnitude, global (unstructured)", WEIGHTS, magnitude_global)).key
RANDOM = register(PruningMethod("random", "Random weights (baseline)", WEIGHTS, random_layerwise)).key
NEURON_L1 = register(PruningMethod("neuron_l1", "Neurons by L1 norm (structured)", NEURONS, structured(depgraph.NEURONS, 1))).key
NEURON_L2 = register(PruningMethod("neuron_l2", "Neurons by L2 norm (structured)", NEURONS, structured(depgraph.NEURONS, 2))).key
INPUT_FEATURES = register(PruningMethod("input_features", "Input variables (structured)", INPUT_VARIABLES, input_variables,
                                        uses_reference_rows=True)).key
ATTENTION_HEADS = register(PruningMethod("attention_heads", "Attention heads by L2 norm (structured)", HEADS,
                                         attention_heads(2))).key
EMBEDDING_DIMS = register(PruningMethod("embedding_dims", "Embedding dimensions by L2 norm (structured)", EMBEDDING_DIMENSIONS,
                                        structured(depgraph.EMBEDDING_DIMS, 2))).key


def method_keys() -> tuple[str, ...]:
    """Every registered method, in registration order (the order menus and sweeps show)."""
    return tuple(REGISTRY)


def method_label(key: str) -> str:
    return REGISTRY[key].label if key in REGISTRY else key


def get_method(key: str) -> PruningMethod:
    try:
        return REGISTRY[key]
    except KeyError:
        raise SpecError(f"Unknown pruning method '{key}'.", f"Use one of: {', '.join(REGISTRY)}.") from None
