"""Writing outputs so a crash or a full disk never leaves a half-written export behind."""
from __future__ import annotations

import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path

Payload = bytes | Callable[[], bytes] | Iterable[bytes]


def _chunks(payload: Payload) -> Iterable[bytes]:
    if isinstance(payload, (bytes, bytearray, memoryview)):
        yield bytes(payload)
    elif callable(payload):
        yield payload()
    else:
        yield from payload


def atomic_write_bytes(path: str | os.PathLike, payload: Payload) -> Path:
    """Write bytes (or what a callable returns, or an iterable of chunks) to ``path`` atomically.

    The data go to a temp file in the same folder, are fsynced and then renamed over the target,
    so readers see the old file or the complete new one, never a half-written export; when
    producing or writing fails, the temp file is removed and the target is left untouched.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            for chunk in _chunks(payload):
                fh.write(chunk)
            fh.flush()
            os.fsync(fh.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; exports should be readable like any file
        os.replace(tmp, target)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return target


def check_upload_size(data: bytes, limit: int, error: type[Exception], *, what: str, empty_hint: str, large_hint: str) -> None:
    """Refuse an empty upload and one above ``limit`` (sizes in readable units) before anything parses it."""
    from core.formatting import size_and_limit

    if len(data) == 0:
        raise error(f"The {what} is empty.", empty_hint)
    if len(data) > limit:
        size, cap = size_and_limit(len(data), limit)
        raise error(f"The {what} is {size}, above the upload limit of {cap}.", large_hint)


def atomic_write_text(path: str | os.PathLike, text: str) -> Path:
    return atomic_write_bytes(path, text.encode("utf-8"))
