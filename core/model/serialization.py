"""Saving a network as self-describing TorchScript, and a hash that proves a module was not modified."""
from __future__ import annotations

import hashlib
import io
import re
import zipfile

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
    return canonical_archive(buf.getvalue())


_MANGLE = re.compile(rb"___torch_mangle_(\d+)")
_CONSTANTS = re.compile(rb"(?:^  \w+ : Final\[[^\n]*\n)+", re.M)  # a class's run of constant declarations


def _sorted_constants(code: bytes) -> bytes:
    """Constant declarations in name order: TorchScript writes them in set order, which Python's hash seed changes."""
    return _CONSTANTS.sub(lambda m: b"".join(sorted(m.group(0).splitlines(keepends=True))), code)


def canonical_archive(data: bytes) -> bytes:
    """The same TorchScript archive, byte for byte the same whichever process wrote it.

    ``torch.jit.save`` names classes after a process-wide counter (``___torch_mangle_17``),
    writes a random serialization id and lists a class's constants in an order Python's hash seed
    changes, so one model saved in two processes gives two files of different bytes and even
    different lengths: the file size a sweep reports would depend on the worker that measured it,
    and a validator could not reproduce an exported model's SHA-256. Here class numbers are
    renumbered in order of first appearance, constants are sorted by name, the id is zeroed,
    entries get a fixed timestamp, and the optional ``*.debug_pkl`` source maps (length-prefixed
    pickles that cannot be renumbered; only used in TorchScript error messages) are left out. Code and
    ``data.pkl`` name classes in plain text (pickle GLOBAL opcodes), so renaming them is safe;
    ``tests/test_export.py`` loads the result and checks its outputs.
    """
    src = zipfile.ZipFile(io.BytesIO(data))
    numbers: dict[bytes, bytes] = {}

    def renumber(m: re.Match) -> bytes:
        return b"___torch_mangle_" + numbers.setdefault(m.group(1), str(len(numbers)).encode())

    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_STORED) as dst:
        for name in src.namelist():
            if name.endswith(".debug_pkl"):
                continue
            body = src.read(name)
            if name.endswith((".py", ".pkl")):
                body = _MANGLE.sub(renumber, body)
            if name.endswith(".py"):
                body = _sorted_constants(body)
            if name.endswith("/.data/serialization_id"):
                body = b"0" * len(body)
            dst.writestr(zipfile.ZipInfo(_MANGLE.sub(renumber, name.encode()).decode(), date_time=(1980, 1, 1, 0, 0, 0)), body)
    return out.getvalue()


def module_hash(module: nn.Module) -> str:
    """Hash of a module's parameters and buffers: proves a model was not modified in place."""
    h = hashlib.sha256()
    for name, t in list(module.state_dict().items()):
        h.update(name.encode())
        h.update(t.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()
