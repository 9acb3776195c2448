"""Measuring a model as it would be shipped: parameters, non-zeros, tensor bytes, file bytes, multiply-adds.

Every number is counted on the module (file bytes by actually serialising it), none is estimated
(the role of Torch-Pruning's ``utils/op_counter.py``). Multiply-adds are counted by running the
model on one applicant under ``torch.utils.flop_counter.FlopCounterMode`` (matrix products,
including attention's, as they run — a transformer applies each Linear once per token), with
gradients enabled so that ``nn.TransformerEncoderLayer`` takes its decomposed path instead of the
fused kernel the counter cannot see. Without a row to run, the Linear weights are counted.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from core.cache import named_memo
from core.data.schema import FeatureSchema
from core.hashing import digest
from core.model.cost import counted_multiply_adds
from core.model.loading import LoadedModel
from core.model.serialization import model_to_bytes
from core.prune.structure import is_linear


@dataclass(frozen=True)
class ModelSize:
    """Sizes of a model as it would be shipped; every number is counted, none is estimated."""

    parameters: int
    nonzeros: int
    dense_bytes: int  # parameters and buffers as stored tensors
    file_bytes: int  # the TorchScript file RiskPrune exports (schema embedded)
    multiply_adds: int  # per applicant, through the Linear layers as stored (zeros still multiply)

    def to_dict(self) -> dict:
        return {"parameters": self.parameters, "nonzeros": self.nonzeros, "dense_bytes": self.dense_bytes,
                "file_bytes": self.file_bytes, "multiply_adds": self.multiply_adds}


def linear_multiply_adds(module: nn.Module) -> int:
    return int(sum(m.weight.numel() for m in module.modules() if is_linear(m)))


def measure_size(module: nn.Module, schema: FeatureSchema | None, example: np.ndarray | None = None) -> ModelSize:
    """Sizes of ``module`` as shipped with ``schema``; ``example`` (one input row) lets compute be counted."""
    params = list(module.parameters())
    buffers = [b for b in module.buffers() if b.is_floating_point() or b.dtype == torch.long]
    macs = counted_multiply_adds(module, example) if example is not None else None
    return ModelSize(
        parameters=int(sum(p.numel() for p in params)),
        nonzeros=int(sum(int(torch.count_nonzero(p)) for p in params)),
        dense_bytes=int(sum(t.numel() * t.element_size() for t in params + buffers)),
        file_bytes=file_bytes_of(module, schema),
        multiply_adds=macs if macs is not None else linear_multiply_adds(module),
    )


# --------------------------------------------------------------------------- file bytes

_SCALARS = (bool, int, float, str, type(None))


def _plain(value) -> bool:
    """A scalar, or a list / tuple / dict of scalars: attributes TorchScript writes into the file by value."""
    if isinstance(value, _SCALARS):
        return True
    if isinstance(value, (list, tuple)):
        return all(isinstance(v, _SCALARS) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, _SCALARS) and isinstance(v, _SCALARS) for k, v in value.items())
    return False


_FILE_BYTES = named_memo("core.prune.size.file_bytes", 64)


def structure_key(module: nn.Module, schema: FeatureSchema | None) -> str | None:
    """Everything the length of a module's TorchScript file depends on, and none of its weight values; None for a ScriptModule.

    The archive is stored uncompressed and canonical (``model_to_bytes``), so its length is fixed
    by the code (module classes and their scalar attributes, which TorchScript writes as constants),
    the names, shapes, dtypes and storages of the tensors, and the schema — a masked copy, whose
    zeros are stored like any other value, has the length of any model of the same structure.
    Tensors are keyed by which storage they live in, so tied weights (saved once) count.
    """
    if isinstance(module, torch.jit.ScriptModule):
        return None  # saving it needs no scripting: measuring is cheap
    parts: list[str] = [schema.to_json() if schema is not None else ""]
    for name, m in module.named_modules():
        if isinstance(m, torch.jit.ScriptModule):
            return None  # TorchScript inside an eager module: its attributes are not visible here, so measure
        cls = type(m)
        attrs = sorted((k, repr(v)) for k, v in vars(m).items() if not k.startswith("_") and _plain(v))
        parts.append(f"{name}|{cls.__module__}.{cls.__qualname__}|{id(cls)}|{attrs}")
    storages: dict[int, int] = {}
    for name, t in module.state_dict(keep_vars=True).items():
        where = storages.setdefault(t.untyped_storage().data_ptr(), len(storages))
        parts.append(f"{name}|{tuple(t.shape)}|{t.stride()}|{t.dtype}|{where}|{t.untyped_storage().nbytes()}")
    return digest(parts, length=32)


def file_bytes_of(module: nn.Module, schema: FeatureSchema | None) -> int:
    """Length of the TorchScript file ``module`` is exported as, measured by serialising it.

    Scripting an eager module takes tens of milliseconds, and a slider move masks a new copy of the
    same network each time, so the length is measured once per ``structure_key`` and reused for
    every model of that structure (``tests/test_prune.py`` checks it against a fresh save).
    """
    key = structure_key(module, schema)
    if key is None:
        return len(model_to_bytes(module, schema))
    return _FILE_BYTES.get_or_compute(key, lambda: len(model_to_bytes(module, schema)))


def example_row(model: LoadedModel) -> np.ndarray | None:
    """One input row the model is known to run on: a real row when bound, else zeros of a known width."""
    if model.example_rows is not None and len(model.example_rows):
        return np.asarray(model.example_rows[:1], dtype=np.float32)
    if model.n_inputs:
        return np.zeros((1, int(model.n_inputs)), dtype=np.float32)
    return None


_ORIGINAL_SIZES = named_memo("core.prune.size.original_size", 32)


def original_size_of(model: LoadedModel) -> ModelSize:
    """Size of the unpruned model, measured once per uploaded file (keyed by its content hash).

    Measuring means scripting and serialising the network (tens of milliseconds); every prune
    and every sweep point compares against the same original, so it is cached. The loaded model
    is never mutated, so the hash identifies the measurement.
    """
    def measure() -> ModelSize:
        return measure_size(model.module, model.schema, example_row(model))

    if not model.content_hash:
        return measure()
    return _ORIGINAL_SIZES.get_or_compute(f"{model.content_hash}|{model.n_inputs}", measure)
