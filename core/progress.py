"""The one progress callback every long computation takes: ``progress(done, total, what)``.

``total`` 0 marks a step without a count (e.g. "rendering report.pdf").

Sweeps, fine-tuning, attributions and report builds all report through this signature, so the
dashboard draws one kind of progress bar and the CLI prints one kind of progress line.
"""
from __future__ import annotations

from collections.abc import Callable

Progress = Callable[[int, int, str], None]


def report(progress: Progress | None, done: int, total: int, what: str) -> None:
    """Call ``progress`` when one was given (``None`` means nobody is watching)."""
    if progress is not None:
        progress(int(done), int(total), str(what))
