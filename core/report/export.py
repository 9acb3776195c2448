"""Shipping a pruned model: TorchScript (with its schema) and ONNX, written atomically.

An engineer deploys exactly what the committee saw: the TorchScript export is the in-app module
itself (compacted where pruning could compact), so reloading it gives the dashboard's numbers bit
for bit. A model that no longer reads some variables ships as ``PruneResult.shipped``: it takes
only the kept columns, and its embedded schema describes only the kept variables and records the
removed ones with the values fed in their place. ONNX is for runtimes without PyTorch; every ONNX
file is run through onnxruntime and compared with torch before it is handed out, so a silently
wrong conversion never ships. Embedding gathers and attention export at opset ``ONNX_OPSET`` (17).
"""
from __future__ import annotations

import contextlib
import io
import json
import logging
import warnings

import numpy as np
import torch
from torch import nn

from core.errors import ModelError
from core.files import atomic_write_bytes
from core.model.eager import rebuild_eager
from core.model.graph import kind_of
from core.model.layers import FillInputs
from core.model.outputs import raw_outputs
from core.model.serialization import model_to_bytes
from core.model.twins import graph_twin
from core.prune.result import PruneResult

PRUNE_INFO_FILE = "riskprune_prune.json"
_ATTENTION = ("MultiheadAttention", "TransformerEncoderLayer", "TransformerDecoderLayer")
ONNX_TOLERANCE = 1e-5
ONNX_OPSET = 17


# --------------------------------------------------------------------------- provenance


def prune_info(result: PruneResult) -> dict:
    """What was done to the model, stored inside the exported file so it describes itself."""
    return {
        "format": "riskprune-prune/1",
        "spec": result.spec.to_dict(),
        "state": result.state,
        "state_note": result.state_note,
        "fine_tuned": result.fine_tuned,
        "dropped_inputs": list(result.dropped_inputs),
        "dropped_variables": list(result.dropped_variables),
        "input_fills": [f.to_dict() for f in result.input_fills],
        "inputs_read": None if result.input_keep is None else len(result.input_keep),
        "blocks": [b.to_dict() for b in result.block_states()],
        "source_model_sha256": result.model_hash,
        "sparsity": result.sparsity,
        "size": result.size.to_dict() if result.size else None,
        "original_size": result.original_size.to_dict() if result.original_size else None,
        "alignment": alignment_info(result.module),
    }


def alignment_info(module: nn.Module) -> dict | None:
    """The score map appended to the pruned network (``core.alignment``), as the module records it; None if none.

    The record sits on the aligned module, which is the model itself or, when input variables were
    removed, the part behind the input selector.
    """
    for m in module.modules():
        record = getattr(m, "alignment_record", None)
        if isinstance(record, str) and record:
            return json.loads(record)
    return None


# --------------------------------------------------------------------------- TorchScript


def torchscript_bytes(result: PruneResult) -> bytes:
    """The pruned module as TorchScript, with the feature schema and the prune record embedded.

    The shipped module is scripted as is (no re-tracing, no copy of weights through another format),
    so ``load_model`` on these bytes predicts exactly what ``result.score`` predicts.
    """
    extra = {PRUNE_INFO_FILE: json.dumps(prune_info(result), sort_keys=True, indent=1, default=str)}
    try:
        return model_to_bytes(result.shipped, result.export_schema, extra)
    except Exception as exc:  # torch.jit.script raises many types on unsupported code
        raise ModelError(
            f"The pruned model could not be saved as TorchScript ({str(exc).splitlines()[0][:160]}).",
            "Report this model structure to the RiskPrune maintainers.",
        ) from exc


# --------------------------------------------------------------------------- ONNX


@contextlib.contextmanager
def _quiet(*loggers: str):
    """The exporters log progress and optional-package notices at WARNING; an export either works or says why."""
    saved = [(logging.getLogger(n), logging.getLogger(n).level) for n in loggers]
    for log, _ in saved:
        log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        for log, level in saved:
            log.setLevel(level)


class _OneInput(nn.Module):
    """``forward(x)`` around a module whose forward takes ``*args`` (the graph twin), for torch.export."""

    def __init__(self, inner: nn.Module) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.inner(x)


def _export_onnx(module: nn.Module, n_inputs: int, dynamo: bool, example_rows: np.ndarray | None = None) -> bytes:
    example = (torch.zeros(2, n_inputs) if example_rows is None or len(example_rows) < 2
               else torch.from_numpy(np.ascontiguousarray(example_rows[:2], dtype=np.float32)),)
    with warnings.catch_warnings(), _quiet("torch.onnx", "torch.export", "torch._dynamo", "torch.fx.experimental.symbolic_shapes"):
        warnings.simplefilter("ignore")
        if dynamo:
            program = torch.onnx.export(
                _OneInput(module).eval(), example, dynamo=True, input_names=["inputs"], output_names=["outputs"],
                dynamic_shapes=({0: torch.export.Dim("applicants")},), verbose=False,
            )
            return program.model_proto.SerializeToString()
        buf = io.BytesIO()
        torch.onnx.export(
            module, example, buf, dynamo=False, input_names=["inputs"], output_names=["outputs"],
            dynamic_axes={"inputs": {0: "applicants"}, "outputs": {0: "applicants"}}, opset_version=ONNX_OPSET,
        )
        return buf.getvalue()


def onnx_max_difference(onnx_model: bytes, module: nn.Module, X: np.ndarray) -> float:
    """Largest |onnxruntime − torch| over the raw outputs on rows ``X``."""
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = 1
    opts.log_severity_level = 3
    session = ort.InferenceSession(onnx_model, opts, providers=["CPUExecutionProvider"])
    name = session.get_inputs()[0].name
    got = session.run(None, {name: np.ascontiguousarray(X, dtype=np.float32)})[0]
    got = np.asarray(got, dtype=np.float64).reshape(len(X), -1)
    want = raw_outputs(module, X)
    if got.shape != want.shape:
        return float("inf")
    return float(np.abs(got - want).max()) if len(X) else 0.0


def _probe_rows(n_inputs: int, X_check: np.ndarray | None, random_rows: bool = True) -> np.ndarray:
    gen = np.random.default_rng(0)
    parts = []
    if X_check is not None and len(X_check):
        parts.append(np.asarray(X_check[:512], dtype=np.float32))
    if random_rows or not parts:
        parts.append(gen.normal(0.0, 2.0, size=(64, n_inputs)).astype(np.float32))
    return np.concatenate(parts)


def _holds_script(module: nn.Module) -> bool:
    return any(isinstance(m, torch.jit.ScriptModule) for m in module.modules())


def _takes_any_reals(module: nn.Module, n_inputs: int) -> bool:
    """Whether random real rows are valid inputs (not for models that look codes up in tables)."""
    return not any(kind_of(m) == "Embedding" for m in module.modules())


def _eager_forms_of(module: nn.Module, width: int, rows: np.ndarray | None) -> list[tuple[str, nn.Module]]:
    if isinstance(module, nn.Sequential) and len(module) == 1 and isinstance(module[0], FillInputs):
        module = module[0]
    if isinstance(module, FillInputs) and isinstance(module.inner, torch.jit.ScriptModule):
        full = None
        if rows is not None and len(rows):
            with torch.no_grad():
                full = module.fill.unsqueeze(0).repeat(len(rows), 1)
                full[:, module.keep] = torch.from_numpy(np.ascontiguousarray(rows, dtype=np.float32))
            full = full.numpy()
        out = []
        for label, eager in _eager_forms(module.inner, module.n_inputs, full):
            out.append((f"{label} behind the input filler", FillInputs(eager, module.keep, module.fill).eval()))
        return out
    return _eager_forms(module, width, rows)


def _eager_forms(module: nn.Module, n_inputs: int, rows: np.ndarray | None) -> list[tuple[str, nn.Module]]:
    """Eager equivalents of a scripted module for the exporters: its chain twin, else its graph twin
    (verified on real rows), and for a model filling removed inputs, the same wrapper around them."""
    if not isinstance(module, torch.jit.ScriptModule):
        return [("eager module", module)]
    eager, _ = rebuild_eager(module, n_inputs)
    if eager is not None:
        return [("eager twin", eager)]
    if rows is None or not len(rows):
        return []
    twin, _ = graph_twin(module, rows)
    return [("graph twin", twin)] if twin is not None else []


def onnx_bytes(result: PruneResult, n_inputs: int, X_check: np.ndarray | None = None,
               tolerance: float = ONNX_TOLERANCE) -> bytes:
    """The shipped model as ONNX (raw outputs, batch size free), verified against torch.

    ``n_inputs`` and ``X_check`` are in the workspace's terms (every input column); a model that
    no longer reads some variables is exported, checked and fed with its kept columns only. Tries
    the TorchScript-based exporter on the module itself, then on its eager form (chain or graph
    twin; a removed-inputs wrapper around a scripted model gets its inner model's eager form), then
    the dynamo exporter on the eager form. Each candidate is run with onnxruntime on ``X_check``
    (e.g. the evaluation rows; random rows are added only for models that take any real numbers)
    and rejected if any output differs from torch by more than ``tolerance``.
    """
    module = result.shipped.eval()
    width = len(result.input_keep) if result.input_keep is not None else int(n_inputs)
    check = result.inputs_for(X_check) if X_check is not None and len(X_check) else None
    candidates: list[tuple[str, nn.Module, bool]] = [("module", module, False)]
    if not isinstance(module, torch.jit.ScriptModule) and _holds_script(module):
        # an eager wrapper around a scripted model cannot be traced; its scripted form can be exported
        with contextlib.suppress(Exception):  # if it cannot be scripted, the eager forms below are tried
            candidates.append(("scripted module", torch.jit.script(module), False))
    for label, eager in _eager_forms_of(module, width, check):
        if "graph twin" not in label:  # tracing a re-executed graph freezes the batch size; torch.export does not
            candidates.append((label, eager, False))
        candidates.append((f"{label} (dynamo)", eager, True))
    if any(kind_of(m) in _ATTENTION for m in module.modules()):
        # TorchScript's attention layers carry fused fast-path branches the TorchScript-based exporter
        # cannot translate (and it prints the whole graph when it gives up): torch.export goes first
        candidates.sort(key=lambda c: not c[2])
    probe = _probe_rows(width, check, random_rows=_takes_any_reals(module, width))
    reasons = []
    for label, candidate, dynamo in candidates:
        try:
            data = _export_onnx(candidate, width, dynamo, probe[:2])
        except Exception as exc:  # exporters raise assorted types; the reason is what matters
            reasons.append(f"{label}: {str(exc).splitlines()[0][:120]}")
            continue
        try:
            diff = onnx_max_difference(data, module, probe)
        except Exception as exc:
            reasons.append(f"{label}: onnxruntime could not run it ({str(exc).splitlines()[0][:120]})")
            continue
        if diff <= tolerance:
            return data
        reasons.append(f"{label}: outputs differ from PyTorch by up to {diff:.2e}")
    raise ModelError(
        "The pruned model cannot be exported to ONNX faithfully (" + "; ".join(reasons) + ").",
        "Use the TorchScript export, which reproduces the in-app predictions exactly.",
    )


# --------------------------------------------------------------------------- writing

write_atomic = atomic_write_bytes  # exports use the one atomic writer of core.files
