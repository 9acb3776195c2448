"""Model: safe loading of TorchScript uploads, the verified eager twin, and what the output means."""
from core.model.eager import rebuild_eager
from core.model.graph import GraphTwin, NotInterpretable, interpret
from core.model.layers import FillInputs, SelectInputs
from core.model.loading import MAX_MODEL_BYTES, LayerInfo, LoadedModel, describe_layers, load_model
from core.model.modules import load_module, script_module
from core.model.outputs import (
    OUTPUT_KIND_LABELS,
    OUTPUT_KINDS,
    OutputSpec,
    detect_output_kind,
    logit_from_raw,
    logit_of_output,
    pbad_from_raw,
    predict_logit,
    predict_pbad,
    raw_outputs,
    resolve_output,
)
from core.model.probe import PROBE_TIMEOUT_S, ProbeResult, probe
from core.model.serialization import model_to_bytes, module_hash
from core.model.twins import TWIN_CHAIN, TWIN_EAGER, TWIN_GRAPH, bind_rows, max_difference

__all__ = [
    "rebuild_eager", "GraphTwin", "NotInterpretable", "interpret", "FillInputs", "SelectInputs", "MAX_MODEL_BYTES", "LayerInfo",
    "LoadedModel", "describe_layers", "load_model",
    "OUTPUT_KIND_LABELS", "OUTPUT_KINDS", "OutputSpec", "detect_output_kind", "logit_from_raw", "logit_of_output",
    "pbad_from_raw", "predict_logit", "predict_pbad", "raw_outputs", "resolve_output", "model_to_bytes", "module_hash",
    "load_module", "script_module", "PROBE_TIMEOUT_S", "ProbeResult", "probe", "TWIN_CHAIN", "TWIN_EAGER", "TWIN_GRAPH",
    "bind_rows", "max_difference",
]
