"""Which eager twin a model gets, and the proof that it computes what the upload computes.

Structured compaction (torch-pruning's DepGraph) and the fast exact SHAP path need an eager
``nn.Module``; an upload is TorchScript. Three kinds of twin, tried in this order:

* ``chain``: the scripted network is a plain chain of standard layers, rebuilt as an
  ``nn.Sequential`` (``core.model.eager``). Verified on random rows at load time (a chain takes any
  real numbers), and again on the dataset's rows at bind time.
* ``graph``: any other scripted module, re-executed from its own TorchScript graph with standard
  layers rebuilt eagerly (``core.model.graph``): embedding + MLP, residual blocks,
  ``nn.TransformerEncoderLayer`` / ``nn.MultiheadAttention``, parallel heads, preprocessing in
  front. Verified only on **real rows** — integer codes must be valid codes, so random rows
  would prove nothing (or crash an embedding lookup).
* ``eager``: a model handed over as a Python ``nn.Module`` (the notebook API) is its own twin,
  verified against its TorchScript form.

A twin is trusted only if its outputs match the scripted model's within ``TOLERANCE`` (absolute,
scaled by the output's magnitude when above 1); otherwise the model keeps no twin and every
structured pruning is masking, labelled so.
"""
from __future__ import annotations

import warnings
from dataclasses import replace

import numpy as np
import torch
from torch import nn

from core.model.eager import rebuild_eager, structural_output_hint
from core.model.graph import NotInterpretable, interpret
from core.model.loading import LoadedModel
from core.model.probe import probe
from core.threads import single_threaded

TOLERANCE = 1e-5
TWIN_CHAIN, TWIN_GRAPH, TWIN_EAGER = "chain", "graph", "eager"
TWIN_LABELS = {
    TWIN_CHAIN: "rebuilt as a chain of standard layers",
    TWIN_GRAPH: "re-executed from its TorchScript graph with standard layers",
    TWIN_EAGER: "the Python module itself",
}
VERIFY_ROWS = 512
EXAMPLE_ROWS = 32  # real rows kept with a bound model: DepGraph traces a graph twin on them


def max_difference(a: nn.Module, b: nn.Module, X: np.ndarray) -> float:
    """Largest |a(X) − b(X)| over all outputs, relative to the output scale when it exceeds 1 (inf if shapes differ)."""
    xt = torch.from_numpy(np.ascontiguousarray(X, dtype=np.float32))
    with torch.inference_mode(), warnings.catch_warnings(), single_threaded():
        warnings.simplefilter("ignore")
        ya = a.eval()(xt)
        yb = b.eval()(xt)
    if not isinstance(ya, torch.Tensor) or not isinstance(yb, torch.Tensor):
        return float("inf")
    ya = ya.reshape(ya.shape[0], -1).to(torch.float64)
    yb = yb.reshape(yb.shape[0], -1).to(torch.float64)
    if ya.shape != yb.shape:
        return float("inf")
    if not len(ya):
        return 0.0
    scale = max(1.0, float(ya.abs().max()))
    return float((ya - yb).abs().max()) / scale


def graph_twin(scripted: torch.jit.ScriptModule, X: np.ndarray) -> tuple[nn.Module | None, str]:
    """The interpreted twin, kept only if it reproduces the scripted outputs on the rows ``X``."""
    try:
        twin = interpret(scripted)
    except NotInterpretable as exc:
        return None, f"its TorchScript graph cannot be re-executed eagerly ({exc})"
    except Exception as exc:  # an unexpected graph shape is a reason to mask, never a crash
        return None, f"its TorchScript graph could not be read ({type(exc).__name__}: {str(exc).splitlines()[0][:100]})"
    try:
        diff = max_difference(scripted, twin, X[:VERIFY_ROWS])
    except NotInterpretable as exc:
        return None, f"its TorchScript graph cannot be re-executed eagerly ({exc})"
    except Exception as exc:
        return None, f"its eager re-execution failed on the data ({str(exc).splitlines()[0][:100]})"
    if not diff <= TOLERANCE:
        return None, f"its eager re-execution differs from the upload by up to {diff:.1e} on the data"
    return twin, f"{TWIN_LABELS[TWIN_GRAPH]} (outputs verified identical on {min(len(X), VERIFY_ROWS)} rows of the data)"


def bind_rows(model: LoadedModel, X: np.ndarray) -> LoadedModel:
    """The model as it will be used on this dataset: width probed on real rows, twin verified on them.

    The first forward pass on the data runs in a killable child process with a time limit
    (``core.model.probe``); only then does anything run the model in this process. A chain twin
    built at load time is checked again on the real rows; a model without one gets the graph twin
    if it reproduces the upload on these rows. The loaded model itself is never modified.
    """
    X = np.asarray(X, dtype=np.float32)
    probe(model.scripted, X, key=model.content_hash)
    width = int(X.shape[1])
    model = replace(model, example_rows=np.array(X[:EXAMPLE_ROWS], copy=True))
    if model.eager is not None and model.twin_kind in (TWIN_CHAIN, TWIN_EAGER):
        try:
            diff = max_difference(model.scripted, model.eager, X[:VERIFY_ROWS])
        except Exception:
            diff = float("inf")
        if diff <= TOLERANCE:
            return replace(model, n_inputs=width)
        return replace(model, n_inputs=width, eager=None, twin_kind="",
                       structure_note=f"its {model.twin_kind} twin differs from the upload on the data (by {diff:.1e})")
    if model.eager is not None:  # a graph twin verified on other rows: verify again on these
        model = replace(model, eager=None, twin_kind="")
    twin, note = graph_twin(model.scripted, X)
    if twin is None:
        return replace(model, n_inputs=width, structure_note=note)
    return replace(model, n_inputs=width, eager=twin, twin_kind=TWIN_GRAPH, structure_note=note)


def chain_twin(scripted: torch.jit.ScriptModule, n_inputs: int) -> tuple[nn.Sequential | None, str, str | None]:
    """(twin, note, output hint) of a plain chain, verified on random rows of its width."""
    eager, note = rebuild_eager(scripted, n_inputs)
    return eager, note, structural_output_hint(eager)
