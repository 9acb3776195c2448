"""Shipping a pruned model: TorchScript (with its schema) and ONNX, written atomically.

An engineer deploys exactly what the committee saw: the TorchScript export is the in-app module
itself (compacted where pruning could compact), so reloading it gives the dashboard's numbers bit
for bit. ONNX is for runtimes without PyTorch; every ONNX file is run through onnxruntime and
compared with torch before it is handed out, so a silently wrong conversion never ships.
"""
from __future__ import annotations

import io
import json
import warnings

import numpy as np
import torch
from torch import nn

from core.errors import ModelError
from core.files import atomic_write_bytes
from core.model.eager import rebuild_eager
from core.model.outputs import raw_outputs
from core.model.serialization import model_to_bytes
from core.prune.result import PruneResult

PRUNE_INFO_FILE = "riskprune_prune.json"
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
        "source_model_sha256": result.model_hash,
        "sparsity": result.sparsity,
        "size": result.size.to_dict() if result.size else None,
        "original_size": result.original_size.to_dict() if result.original_size else None,
        "alignment": alignment_info(result.module),
    }


def alignment_info(module: nn.Module) -> dict | None:
    """The score map appended to the pruned network (``core.alignment``), as the module records it; None if none."""
    record = getattr(module, "alignment_record", None)
    return json.loads(record) if isinstance(record, str) and record else None


# --------------------------------------------------------------------------- TorchScript


def torchscript_bytes(result: PruneResult) -> bytes:
    """The pruned module as TorchScript, with the feature schema and the prune record embedded.

    The module is scripted as is (no re-tracing, no copy of weights through another format), so
    ``load_model`` on these bytes predicts exactly what ``result.module`` predicts.
    """
    extra = {PRUNE_INFO_FILE: json.dumps(prune_info(result), sort_keys=True, indent=1, default=str)}
    try:
        return model_to_bytes(result.module, result.schema, extra)
    except Exception as exc:  # torch.jit.script raises many types on unsupported code
        raise ModelError(
            f"The pruned model could not be saved as TorchScript ({str(exc).splitlines()[0][:160]}).",
            "Report this model structure to the RiskPrune maintainers.",
        ) from exc


# --------------------------------------------------------------------------- ONNX


def _export_onnx(module: nn.Module, n_inputs: int, dynamo: bool) -> bytes:
    example = (torch.zeros(2, n_inputs),)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if dynamo:
            program = torch.onnx.export(
                module, example, dynamo=True, input_names=["inputs"], output_names=["outputs"],
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


def _probe_rows(n_inputs: int, X_check: np.ndarray | None) -> np.ndarray:
    gen = np.random.default_rng(0)
    probe = gen.normal(0.0, 2.0, size=(64, n_inputs)).astype(np.float32)
    if X_check is not None and len(X_check):
        probe = np.concatenate([np.asarray(X_check[:512], dtype=np.float32), probe])
    return probe


def onnx_bytes(result: PruneResult, n_inputs: int, X_check: np.ndarray | None = None,
               tolerance: float = ONNX_TOLERANCE) -> bytes:
    """The pruned model as ONNX (raw outputs, batch size free), verified against torch.

    Tries the TorchScript-based exporter on the module itself, then on an eager rebuild of a
    scripted module, then the dynamo exporter on the eager form. Each candidate is run with
    onnxruntime on ``X_check`` (e.g. the evaluation rows) plus random rows and rejected if any
    output differs from torch by more than ``tolerance``.
    """
    module = result.module.eval()
    candidates: list[tuple[str, nn.Module, bool]] = [("module", module, False)]
    eager = module
    if isinstance(module, torch.jit.ScriptModule):
        eager, note = rebuild_eager(module, n_inputs)
        if eager is not None:
            candidates.append(("eager twin", eager, False))
    if eager is not None and not isinstance(eager, torch.jit.ScriptModule):
        candidates.append(("eager twin (dynamo)", eager, True))
    probe = _probe_rows(n_inputs, X_check)
    reasons = []
    for label, candidate, dynamo in candidates:
        try:
            data = _export_onnx(candidate, n_inputs, dynamo)
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
