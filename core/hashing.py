"""Content hashes: the one way RiskPrune names an input, an output or a computation.

Every cache key, manifest entry and "this is the file the model was trained on" check is a
SHA-256 of exact bytes, so a validator can recompute it with ``sha256sum``.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np


def sha256_hex(data: bytes) -> str:
    """Hex SHA-256 of ``data`` (what ``sha256sum`` prints for the same file)."""
    return hashlib.sha256(data).hexdigest()


def digest(parts: Iterable[bytes | str | np.ndarray], length: int | None = None) -> str:
    """Hex SHA-256 over several parts in order: bytes as they are, text as UTF-8, arrays by shape,
    dtype and contiguous bytes (so equal numbers in another layout hash the same)."""
    h = hashlib.sha256()
    for part in parts:
        if isinstance(part, np.ndarray):
            arr = np.ascontiguousarray(part)
            h.update(f"{arr.shape}|{arr.dtype.str}|".encode())
            h.update(arr.tobytes())
        elif isinstance(part, str):
            h.update(part.encode("utf-8"))
        else:
            h.update(bytes(part))
        h.update(b"\x1f")
    out = h.hexdigest()
    return out[:length] if length else out
