"""Saving a network as self-describing TorchScript, and a hash that proves a module was not modified."""
from __future__ import annotations

import hashlib
import io

import torch
from torch import nn

from core.data.schema import SCHEMA_FILE, FeatureSchema


def model_to_bytes(module: nn.Module, schema: FeatureSchema | None = None, extra: dict[str, str] | None = None) -> bytes:
    """Serialise as TorchScript with the schema embedded, so the file is self-describing."""
    scripted = module if isinstance(module, torch.jit.ScriptModule) else torch.jit.script(module.eval())
    files = dict(extra or {})
    if schema is not None:
        files[SCHEMA_FILE] = schema.to_json()
    buf = io.BytesIO()
    torch.jit.save(scripted, buf, _extra_files=files)
    return buf.getvalue()


def module_hash(module: nn.Module) -> str:
    """Hash of a module's parameters and buffers: proves a model was not modified in place."""
    h = hashlib.sha256()
    for name, t in list(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
