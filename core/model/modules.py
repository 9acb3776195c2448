"""Models handed over as Python objects: a data scientist's own ``nn.Module`` in a notebook.

The module is scripted (or, when its code is not scriptable, traced on real rows) so it gets the
same content hash, schema embedding, size accounting and export as an upload; the module itself
becomes the eager twin (``twin_kind`` "eager"), verified against its TorchScript form on the rows.
DepGraph then sees the user's real modules, so compaction works for anything torch-pruning
supports. Nothing is pickled and the caller's module is never modified (a deep copy is used).
"""
from __future__ import annotations

import copy
import warnings
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from core.data.schema import FeatureSchema
from core.errors import ModelError
from core.model.loading import LoadedModel, load_model
from core.model.serialization import model_to_bytes
from core.model.twins import TWIN_EAGER, bind_rows


def script_module(module: nn.Module, X: np.ndarray | None = None) -> tuple[torch.jit.ScriptModule, str]:
    """(TorchScript form, how it was made): scripted when the code allows, else traced on rows ``X``."""
    eager = copy.deepcopy(module).eval()
    try:
        return torch.jit.script(eager), "scripted"
    except Exception as script_error:
        if X is None or not len(X):
            raise ModelError(
                f"The module cannot be scripted ({str(script_error).splitlines()[0][:160]}).",
                "Make its forward TorchScript-compatible, or pass data rows so it can be traced.",
            ) from script_error
        example = torch.from_numpy(np.ascontiguousarray(np.asarray(X)[:8], dtype=np.float32))
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                return torch.jit.trace(eager, example, check_trace=False), "traced (its code is not scriptable)"
        except Exception as trace_error:
            raise ModelError(
                f"The module can be neither scripted nor traced ({str(trace_error).splitlines()[0][:160]}).",
                "Export a TorchScript file yourself and load that instead.",
            ) from trace_error


def load_module(module: nn.Module, X: np.ndarray, schema: FeatureSchema | None = None,
                name: str = "model.pt") -> LoadedModel:
    """A Python module as a bound ``LoadedModel``: scripted, reloaded like an upload, its own verified twin.

    ``X`` are model-ready rows (e.g. ``schema.transform(frame)``): the module's width and twin are
    checked on them exactly as for an upload.
    """
    if not isinstance(module, nn.Module):
        raise ModelError(f"Expected a torch nn.Module, got {type(module).__name__}.", "Pass the network object itself.")
    scripted, how = script_module(module, X)
    data = model_to_bytes(scripted, schema)
    loaded = load_model(data, name)
    if not loaded.is_chain:
        eager = copy.deepcopy(module).eval()
        for p in eager.parameters():
            p.requires_grad_(True)
        loaded = replace(loaded, eager=eager, twin_kind=TWIN_EAGER,
                         structure_note=f"your Python module itself ({how} for export)")
    bound = bind_rows(loaded, np.asarray(X, dtype=np.float32))
    if bound.twin_kind == TWIN_EAGER:
        bound = replace(bound, structure_note=f"your Python module itself, verified against its TorchScript form ({how})")
    return bound
