"""How numbers are printed: one owner, so the dashboard, the reports and the messages never disagree.

A number that does not exist is said in words, never printed as ``nan``, ``inf`` or ``None``: the bad
rate of approved applicants when nobody is approved, AUC or KS when only one outcome is present, any
ratio over zero. ``shown(key, value)`` prints a value or the reason it is undefined (``UNDEFINED``),
``display_na`` turns the missing cells of a table into words for the dashboard, and ``csv_bytes``
does the same for every CSV download.
"""
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


def fmt_points(value: Any, digits: int = 1, unit: str = "pts") -> str:
    """A change of a share in percentage points (0.012 → "+1.2 pts"); 'n/a' when either share is undefined."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return "n/a"
    return "n/a" if not math.isfinite(v) else f"{v * 100:+.{digits}f} {unit}"


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


def first_upper(text: str) -> str:
    """Sentence case that keeps every other letter: "scoring 'RiskPrune' rows" → "Scoring 'RiskPrune' rows".

    ``str.capitalize`` lower-cases the rest of the text, which turns names ("RiskPrune", column
    names, "DeepSHAP") into wrong ones.
    """
    return text[:1].upper() + text[1:] if text else text


# --------------------------------------------------------------------------- undefined numbers, in words

# Why a metric can be undefined on real applicants: the words printed instead of a number.
UNDEFINED = {
    "approved_bad_rate": "undefined: nobody approved",
    "precision": "undefined: nobody declined",
    "f1": "undefined: nobody declined",
    "accuracy": "undefined: no applicants",
    "auc": "undefined: only one outcome among these applicants",
    "gini": "undefined: only one outcome among these applicants",
    "ks": "undefined: only one outcome among these applicants",
    "ks_score": "undefined: only one outcome among these applicants",
    "recall": "undefined: no bad outcome among these applicants",
    "air": "undefined: nobody approved",
    "spearman": "undefined: the importances do not vary",
    "spearman_scores": "undefined: the scores do not vary",
    "kendall": "undefined: the importances do not vary",
    "rel_change": "undefined: no importance in the original model",
}
NOT_AVAILABLE = "n/a"


def is_finite(value: Any) -> bool:
    """True for a real, finite number (False for None, NaN, ±inf and text)."""
    if isinstance(value, (bool, np.bool_)):
        return True
    try:
        return math.isfinite(float(value))
    except (TypeError, ValueError):
        return False


def undefined(key: str) -> str:
    """The words for an undefined ``key`` ("undefined: nobody approved"), or "undefined" when no reason is known."""
    return UNDEFINED.get(key, "undefined")


def shown(key: str, value: Any, fmt=fmt_num) -> str:
    """A number as printed by ``fmt``, or the reason it does not exist ("undefined: nobody approved"), never "nan"."""
    return fmt(value) if is_finite(value) else undefined(key)


def _missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, (float, np.floating)):
        return not math.isfinite(float(value))
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def display_na(frame: pd.DataFrame, text: str = NOT_AVAILABLE, words: Mapping[str, str] | None = None,
               formats: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """The frame for ``st.dataframe``: columns holding a missing or infinite value become text, with ``text`` there.

    Columns without such a value keep their numbers (and the page's number formats, which a page
    applies only to columns still numeric); ``words`` gives a column its own word for the gap (e.g.
    ``{"air_pruned": "undefined: nobody approved"}``) and ``formats`` its number format once it is
    text (``fmt_cell`` otherwise). Why a cell is empty belongs in the page's caption or the column's help.
    """
    words, formats = dict(words or {}), dict(formats or {})
    out = frame.copy()
    for col in out.columns:
        values = out[col].tolist()
        if any(_missing(v) for v in values):
            numbers = [v for v in values if not _missing(v) and isinstance(v, (int, float, np.integer, np.floating))]
            whole = bool(numbers) and all(float(v).is_integer() for v in numbers)  # counts a NaN turned into floats
            gap, fmt = words.get(str(col), text), formats.get(str(col), fmt_int if whole else fmt_cell)
            out[col] = [gap if _missing(v) else v if isinstance(v, str) else fmt(v) for v in values]
    return out


def csv_text_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy for CSV export: ±inf as "+∞" / "−∞" (e.g. the open ends of score bins), NaN and None as "n/a"."""
    out = frame.copy()
    for col in out.columns:
        values = out[col].tolist()
        if any(_missing(v) for v in values):
            out[col] = [("+∞" if v > 0 else "−∞") if isinstance(v, (float, np.floating)) and math.isinf(v)
                        else NOT_AVAILABLE if _missing(v) else v for v in values]
    return out


def csv_bytes(frame: pd.DataFrame) -> bytes:
    """UTF-8 CSV of ``frame`` in which an undefined number reads "n/a" (never "nan", "inf" or an empty cell)."""
    return csv_text_frame(frame).to_csv(index=False).encode("utf-8")
