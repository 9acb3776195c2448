"""Column names and column roles: one header normalisation, name look-ups that forgive what exports do,
and the columns a model must never be fed by default (identifiers) or cannot be fed without a schema (text).

Exports pad headers (``"default "``), prepend a byte-order mark, repeat names or leave them empty.
One normalisation is applied to the file's header *and* to every name a user types (target,
features, segments), so ``--target "default "`` finds the column the reader named ``default``.
Duplicates are renamed the way pandas does (``age``, ``age.1``) and reported, never refused
or silently merged. A name that is still not found gets the closest matches and, unless the
file is very wide, every column — never a truncated list.
"""
from __future__ import annotations

import difflib
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from core.errors import DataError

MAX_LISTED_COLUMNS = 100  # an error lists every column up to this many, else the closest matches and the count
MIN_COUNTER_ROWS = 10  # a monotone run of unique whole numbers this long is a row counter, not a variable

_STRIP = "\ufeff\u200b\u200e\u200f\u2060"  # BOM, zero-width and direction marks that exports leave behind
_ID_NAME = re.compile(
    r"(^|[_\s.\-])(id|key|no|nr|number|ref|uuid|guid)$"  # customer_id, contract no, account_number
    r"|(^|[_\s.\-])id([_\s.\-]|$)"  # ID, id_client, SK_ID_CURR
    r"|^unnamed: ?\d+$|^index$|^row[_\s]?(id|no|nr|num|number)?$",  # an exported pandas index, a row counter
    re.IGNORECASE,
)
_CAMEL_ID = re.compile(r"[a-z0-9](ID|Id)$")  # CustomerID, LoanId


def clean_name(name: object) -> str:
    """The normal form of a column name: text, without surrounding spaces, BOM or zero-width marks."""
    if name is None or name is pd.NA or (isinstance(name, float) and np.isnan(name)):
        return ""
    text = str(name)
    previous = None
    while previous != text:
        previous = text
        text = text.strip().strip(_STRIP)
    return text


@dataclass(frozen=True)
class HeaderChange:
    """One header cell the reader renamed: its position, the text in the file, the name used, and why."""

    position: int
    original: str
    name: str
    why: str  # "spaces" | "empty" | "duplicate"


def normalise_header(names: Sequence[object]) -> tuple[list[str], tuple[HeaderChange, ...]]:
    """Clean every name, name empty cells ``Unnamed: i`` and make repeats unique (``age``, ``age.1``).

    Returns the names to use, position by position, and what was changed (for a note to the user).
    """
    cleaned = [clean_name(n) for n in names]
    changes: list[HeaderChange] = []
    for i, (raw, name) in enumerate(zip(names, cleaned)):
        if not name:
            cleaned[i] = f"Unnamed: {i}"
            changes.append(HeaderChange(i, "" if raw is None else str(raw), cleaned[i], "empty"))
        elif name != str(raw):
            changes.append(HeaderChange(i, str(raw), name, "spaces"))
    taken = set(cleaned)
    seen: set[str] = set()
    for i, name in enumerate(cleaned):
        if name not in seen:
            seen.add(name)
            continue
        k = 1
        while f"{name}.{k}" in taken:
            k += 1
        cleaned[i] = f"{name}.{k}"
        taken.add(cleaned[i])
        changes = [c for c in changes if c.position != i]
        changes.append(HeaderChange(i, str(names[i]), cleaned[i], "duplicate"))
    return cleaned, tuple(sorted(changes, key=lambda c: c.position))


def header_notes(changes: Sequence[HeaderChange]) -> tuple[str, ...]:
    """One sentence per kind of header change, naming the columns (what the data page shows)."""
    notes = []
    dupes = [c for c in changes if c.why == "duplicate"]
    if dupes:
        shown = ", ".join(f"'{c.original.strip()}' (column {c.position + 1}) → '{c.name}'" for c in dupes[:20])
        more = f" and {len(dupes) - 20} more" if len(dupes) > 20 else ""
        notes.append(f"Column names repeat, so the later ones were renamed: {shown}{more}. "
                     "Check which one the model was trained on.")
    empty = [c for c in changes if c.why == "empty"]
    if empty:
        notes.append(f"{len(empty)} column(s) have no name and were called "
                     f"{', '.join(repr(c.name) for c in empty[:10])}{' …' if len(empty) > 10 else ''}.")
    spaces = [c for c in changes if c.why == "spaces"]
    if spaces:
        notes.append(f"{len(spaces)} column name(s) had surrounding spaces or invisible marks removed "
                     f"(e.g. {spaces[0].original!r} → '{spaces[0].name}').")
    return tuple(notes)


def _shown(name: str) -> str:
    """A name as written in a list: bare when unambiguous, quoted when it holds commas, quotes or spaces at its ends."""
    return name if name and name == name.strip() and not any(ch in name for ch in ",'\"") else repr(name)


def describe_columns(columns: Iterable[object], near: str | None = None) -> str:
    """The sentence an error shows: the closest matches first, then every column (or the count)."""
    cols = [str(c) for c in columns]
    parts = []
    if near is not None:
        lowered = {c.lower(): c for c in cols}
        close = difflib.get_close_matches(clean_name(near).lower(), list(lowered), n=5, cutoff=0.6)
        if close:
            parts.append(f"Closest: {', '.join(_shown(lowered[c]) for c in close)}.")
    if len(cols) <= MAX_LISTED_COLUMNS:
        parts.append(f"All {len(cols)} columns: {', '.join(_shown(c) for c in cols)}.")
    else:
        parts.append(f"The file has {len(cols):,} columns; use a name exactly as in its header.")
    return " ".join(parts)


def resolve_column(columns: Iterable[object], name: object, what: str = "column") -> str:
    """The column meant by a user-given ``name`` after the header normalisation, or a DataError
    naming the closest matches and the columns.

    ``what`` words the error ("target column", "feature", "segment column").
    """
    cols = [str(c) for c in columns]
    wanted = clean_name(name)
    if wanted in cols:
        return wanted
    raise DataError(f"The data has no {what} '{wanted}'.", describe_columns(cols, near=wanted))


def resolve_columns(columns: Iterable[object], names: Iterable[object], what: str = "column") -> list[str]:
    """``resolve_column`` for several names at once; the error names every name that is missing."""
    cols = [str(c) for c in columns]
    out, missing = [], []
    for n in names:
        wanted = clean_name(n)
        (out if wanted in cols else missing).append(wanted)
    if missing:
        plural = "s" if len(missing) > 1 else ""
        raise DataError(
            f"The data has no {what}{plural} {', '.join(repr(m) for m in missing)}.",
            describe_columns(cols, near=missing[0]),
        )
    return out


# --------------------------------------------------------------------------- column roles


def is_number_column(series: pd.Series) -> bool:
    """Numbers a model can take directly (booleans are not: they are flags to encode)."""
    return pd.api.types.is_numeric_dtype(series) and not pd.api.types.is_bool_dtype(series)


def numeric_columns(frame: pd.DataFrame, exclude: str | None = None) -> list[str]:
    return [c for c, d in zip(frame.columns, frame.dtypes) if c != exclude and _is_number_dtype(d)]


def text_columns(frame: pd.DataFrame, exclude: str | None = None) -> list[str]:
    """Columns holding text (or flags): a schema-less model cannot be fed them."""
    return [c for c, d in zip(frame.columns, frame.dtypes) if c != exclude and not _is_number_dtype(d)
            and not pd.api.types.is_datetime64_any_dtype(d)]


def text_columns_note(columns: Sequence[str]) -> str | None:
    """Why text columns are left out for a model without an embedded schema (None when there are none)."""
    if not columns:
        return None
    shown = ", ".join(f"'{c}'" for c in columns[:10]) + (f" and {len(columns) - 10} more" if len(columns) > 10 else "")
    return (f"Text column(s) {shown} are not fed to the model: it carries no feature schema, so RiskPrune cannot "
            "know how it encoded them (one-hot, codes, which categories). Export the model with its schema to use them.")


@dataclass(frozen=True)
class IdentifierFlag:
    """A column that identifies applicants instead of describing them, and why it was judged so."""

    column: str
    reason: str


BLOCK_CELLS = 4_000_000  # up to this many cells, numeric columns are fetched in one call (wide files)


def _is_number_dtype(dtype: object) -> bool:
    return pd.api.types.is_numeric_dtype(dtype) and not pd.api.types.is_bool_dtype(dtype)


class ColumnValues:
    """Numeric columns of a frame as float64 arrays (NaN where empty), fetched cheaply.

    Pandas builds a Series on every column access (~0.1 ms), which dominates on files with
    thousands of columns; a small frame's numeric columns are therefore fetched in one call. A
    large frame is read column by column with no cache (a float64 column is a view, not a copy),
    so no second copy of a million-row table is ever held.
    """

    def __init__(self, frame: pd.DataFrame, columns: Sequence[str]) -> None:
        self.frame = frame
        self._block: dict[str, np.ndarray] = {}
        cols = list(dict.fromkeys(columns))
        if cols and len(frame) * len(cols) <= BLOCK_CELLS:
            block = frame[cols].to_numpy(dtype="float64", na_value=np.nan)
            self._block = {c: block[:, i] for i, c in enumerate(cols)}

    def holds(self, column: str) -> bool:
        return column in self._block

    def __call__(self, column: str) -> np.ndarray:
        got = self._block.get(column)
        return got if got is not None else self.frame[column].to_numpy(dtype="float64", na_value=np.nan)


def _identifier_reason(values: np.ndarray | None, series: Callable[[], pd.Series], name: str) -> str | None:
    """``values``: the column as float64 for a numeric column, None for text (then ``series`` gives it)."""
    named = bool(_ID_NAME.search(name) or _CAMEL_ID.search(name))
    if values is not None:
        if not named:  # only a gapless, strictly monotone run can be a counter: a prefix refutes most columns
            head = values[:1000]
            if len(values) < MIN_COUNTER_ROWS or np.isnan(head).any():
                return None
            steps = np.diff(head)
            if not (np.all(steps > 0) or np.all(steps < 0)):
                return None
        values = values[~np.isnan(values)]
        if len(values) == 0 or not np.all(np.isfinite(values)) or not np.all(np.mod(values, 1) == 0):
            return None
        if named:
            if pd.unique(values).size == values.size:
                return "named like an identifier and holds a different whole number in every row"
            return None
        if len(values) >= MIN_COUNTER_ROWS:
            steps = np.diff(values)
            if np.all(steps > 0) or np.all(steps < 0):  # strictly monotone, hence unique
                return "holds a different whole number in every row, in monotone order (a row counter or exported index)"
        return None
    if named:
        present = series().dropna()
        if len(present) >= 2 and present.is_unique:
            return "named like an identifier and holds a different value in every row"
    return None


def identifier_reason(frame: pd.DataFrame, column: str) -> str | None:
    """Why ``column`` looks like an applicant/contract number (None when it does not).

    A model fed such a column learns nothing true about risk, so the default input mapping skips
    it: values unique per row *and* either a name like id/ID/customer_id or whole numbers in
    strictly monotone order (a row counter or an exported index).
    """
    series = frame[column]
    values = series.to_numpy(dtype="float64", na_value=np.nan) if is_number_column(series) else None
    return _identifier_reason(values, lambda: series, str(column))


def looks_like_identifier(frame: pd.DataFrame, column: str) -> bool:
    """An applicant/contract number: feeding it to a model is always a mapping mistake."""
    return identifier_reason(frame, column) is not None


@dataclass(frozen=True)
class ColumnRoles:
    """Every column but the target sorted by what it can be for a schema-less model, in file order."""

    numeric: tuple[str, ...]  # numbers (identifiers included)
    identifiers: tuple[IdentifierFlag, ...]
    text: tuple[str, ...]  # text and flags, identifiers excluded

    @property
    def inputs(self) -> list[str]:
        """The default inputs: numeric columns that are not identifiers."""
        ids = {f.column for f in self.identifiers}
        return [c for c in self.numeric if c not in ids]


def column_roles(frame: pd.DataFrame, exclude: str | None = None, values: ColumnValues | None = None) -> ColumnRoles:
    """One pass over the columns, by dtype first (wide files have thousands of columns)."""
    kinds = [(c, d) for c, d in zip(frame.columns, frame.dtypes) if c != exclude]
    numeric = [c for c, d in kinds if _is_number_dtype(d)]
    values = values if values is not None else ColumnValues(frame, numeric)
    number = set(numeric)
    ids, text = [], []
    for c, d in kinds:
        reason = _identifier_reason(values(c) if c in number else None, lambda c=c: frame[c], str(c))
        if reason is not None:
            ids.append(IdentifierFlag(str(c), reason))
        elif c not in number and not pd.api.types.is_datetime64_any_dtype(d):
            text.append(c)
    return ColumnRoles(tuple(numeric), tuple(ids), tuple(text))


def identifier_columns(frame: pd.DataFrame, exclude: str | None = None) -> tuple[IdentifierFlag, ...]:
    """Every identifier-like column of the frame, with its reason (shown as a flag on the data page)."""
    return column_roles(frame, exclude).identifiers


def default_inputs(frame: pd.DataFrame, target: str, n_inputs: int | None = None) -> list[str]:
    """The default column mapping of a schema-less model: numeric non-identifier columns in file order.

    The CLI and the dashboard both start from this list. When the file has more such columns than
    the model has inputs, the first ``n_inputs`` are taken and the user is shown the choice to
    correct.
    """
    cols = column_roles(frame, exclude=clean_name(target)).inputs
    return cols[:n_inputs] if n_inputs is not None else cols
