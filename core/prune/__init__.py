"""Prune: specs, importance criteria, removal functions, the method registry, sizes, fine-tuning, sweeps.

Laid out like Torch-Pruning's package: ``importance`` (what matters), ``function`` (how one
layer is cut), ``algorithms`` and ``methods`` (when and how much, by method), ``size`` (measuring).
"""
from core.prune.blocks import block_summary, prunable_units
from core.prune.finetune import FineTuneSpec, fine_tune
from core.prune.importance import input_importance
from core.prune.inputs import InputFill, ablation_importance, reference_fills
from core.prune.methods import (
    ATTENTION_HEADS,
    EMBEDDING_DIMENSIONS,
    EMBEDDING_DIMS,
    HEADS,
    INPUT_FEATURES,
    INPUT_VARIABLES,
    MAGNITUDE_GLOBAL,
    MAGNITUDE_LAYER,
    NEURON_L1,
    NEURON_L2,
    NEURONS,
    RANDOM,
    REGISTRY,
    WEIGHTS,
    PruningMethod,
    get_method,
    method_keys,
    method_label,
    register,
)
from core.prune.pruner import prune
from core.prune.result import COMPACTED, MASKED, UNCHANGED, BlockState, LayerStats, PruneResult
from core.prune.sensitivity import layer_sensitivity
from core.prune.size import ModelSize, measure_size, original_size_of
from core.prune.spec import MAX_RATIO, PruneSpec, validate_spec
from core.prune.structure import (
    ATTENTION,
    EMBEDDING,
    LINEAR,
    WEIGHT_KIND_LABELS,
    WEIGHT_KINDS,
    PrunableLayer,
    copy_module,
    layer_frame,
    linear_weights,
    prunable_layers,
)
from core.prune.sweep import DEFAULT_RATIOS, SIZE_COLUMNS, EvalContext, SweepResult, make_context, pareto_front, sweep

__all__ = [
    "block_summary", "prunable_units", "InputFill", "ablation_importance", "reference_fills", "ATTENTION_HEADS",
    "EMBEDDING_DIMENSIONS", "EMBEDDING_DIMS",
    "HEADS", "UNCHANGED", "BlockState", "ATTENTION", "EMBEDDING", "LINEAR", "WEIGHT_KIND_LABELS", "WEIGHT_KINDS",
    "layer_frame",
    "FineTuneSpec", "fine_tune", "INPUT_FEATURES", "INPUT_VARIABLES", "MAGNITUDE_GLOBAL", "MAGNITUDE_LAYER", "NEURON_L1",
    "NEURON_L2", "NEURONS", "RANDOM", "REGISTRY", "WEIGHTS", "PruningMethod", "get_method", "method_keys", "method_label",
    "register", "input_importance", "prune", "COMPACTED", "MASKED", "LayerStats", "PruneResult", "layer_sensitivity",
    "ModelSize", "measure_size", "original_size_of", "MAX_RATIO", "PruneSpec", "validate_spec", "PrunableLayer",
    "copy_module", "linear_weights", "prunable_layers", "DEFAULT_RATIOS", "SIZE_COLUMNS", "EvalContext", "SweepResult",
    "make_context", "pareto_front", "sweep",
]
