"""The run manifest: everything a validator needs to reproduce a report, in one JSON file.

Settings alone do not reproduce a run: the same settings on another model file, another data
extract or another library version can give other numbers. So the manifest records the inputs
by SHA-256, every setting and seed, the package versions, the headline numbers and the SHA-256 of
every file written, which lets a validator check that the files in front of them are the ones
this run produced.
"""
from __future__ import annotations

import contextlib
import importlib.metadata
import json
import math
import platform
import sys
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from core.hashing import sha256_hex

MANIFEST_FORMAT = "riskprune-manifest/1"
PACKAGES = ("torch", "numpy", "pandas", "scipy", "scikit-learn", "shap", "torch-pruning", "onnx", "onnxruntime",
            "plotly", "matplotlib", "reportlab", "python-pptx", "python-docx", "streamlit")


def package_versions(packages: tuple[str, ...] = PACKAGES) -> dict[str, str | None]:
    """Installed versions (None when a package is not installed); read from metadata, no imports."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in packages:
        try:
            out[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            out[name] = None
    return out


def utc_now() -> str:
    return datetime.now(UTC).replace(microsecond=0).isoformat()


def _clean(value: Any) -> Any:
    """JSON-safe copy: NaN/inf become None (JSON has no NaN), numpy scalars become Python ones."""
    if isinstance(value, Mapping):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        with contextlib.suppress(ValueError, AttributeError):
            value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def build_manifest(
    *,
    settings: Mapping[str, Any],
    inputs: Mapping[str, Mapping[str, Any]],
    outputs: Mapping[str, bytes] | None = None,
    results: Mapping[str, Any] | None = None,
    seeds: Mapping[str, int] | None = None,
    created: str | None = None,
    command: list[str] | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict:
    """Assemble the manifest.

    ``inputs`` maps a role ("model", "data") to what is known of the file (name, sha256, bytes);
    ``outputs`` maps each written file name to its bytes (hashed here, never stored);
    ``results`` holds the key numbers; ``seeds`` every seed that influenced a number; ``extra``
    adds top-level sections (the acceptance policy, its verdict, the validation pack).
    """
    return _clean({
        "format": MANIFEST_FORMAT,
        "created_utc": created or utc_now(),
        "tool": "RiskPrune",
        "command": list(command) if command is not None else None,
        "platform": {"system": platform.system(), "machine": platform.machine(), "python": sys.version.split()[0]},
        "packages": package_versions(),
        "inputs": {k: dict(v) for k, v in inputs.items()},
        "settings": dict(settings),
        "seeds": dict(seeds or {}),
        "results": dict(results or {}),
        "outputs": {name: {"sha256": sha256_hex(data), "bytes": len(data)} for name, data in (outputs or {}).items()},
        **dict(extra or {}),
    })


def manifest_bytes(manifest: Mapping[str, Any]) -> bytes:
    return (json.dumps(_clean(manifest), indent=2, sort_keys=True, allow_nan=False) + "\n").encode("utf-8")
