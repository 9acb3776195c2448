"""How numbers are printed: one owner, so the dashboard, the reports and the messages never disagree."""
from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd


def fmt_num(value: Any, digits: int = 4) -> str:
    """Fixed decimals; 'n/a' for missing or undefined values (never 'nan' in a committee pack)."""
    if value is None:
        return "n/a"
    try:
        v = float(value)
    except (TypeError, ValueError):
        return str(value)
    return "n/a" if not math.isfinite(v) else f"{v:.{digits}f}"


def fmt_signed(value: Any, digits: int = 4) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v:+.{digits}f}"


def fmt_int(value: Any) -> str:
    try:
        return f"{int(value):,}"
    except (TypeError, ValueError):
        return "n/a"


def fmt_pct(value: Any, digits: int = 1) -> str:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v * 100:.{digits}f}%"


def fmt_cell(value: Any) -> str:
    """Generic table cell: ints with separators, floats with 4 decimals, the rest as text."""
    if isinstance(value, (bool, np.bool_)):
        return "yes" if value else "no"
    if isinstance(value, (int, np.integer)):
        return fmt_int(value)
    if isinstance(value, (float, np.floating)):
        return fmt_num(value)
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    return str(value)


def display_frame(frame: pd.DataFrame, formats: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A copy with every cell as the exact text both renderers print."""
    formats = dict(formats or {})
    out = pd.DataFrame(index=range(len(frame)))
    for col in frame.columns:
        fn = formats.get(col, fmt_cell)
        out[str(col)] = [fn(v) for v in frame[col].tolist()]
    return out


def human_size(n_bytes: int) -> str:
    """File size as a person reads it; limits shown in the same unit so "above the limit" is visible."""
    n = float(n_bytes)
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1000 or unit == "GB":
            return f"{int(n)} bytes" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1000
    return f"{n:.1f} GB"  # pragma: no cover


def size_and_limit(n_bytes: int, limit: int) -> tuple[str, str]:
    """Both sizes in readable units, falling back to exact bytes when rounding would make them look equal."""
    a, b = human_size(n_bytes), human_size(limit)
    if a == b:
        return f"{n_bytes:,} bytes", f"{limit:,} bytes"
    return a, b
