"""Reading uploaded tables and turning them into a labelled evaluation set.

Uploaded files are hostile until proven otherwise: sizes are bounded, encodings and separators
are sniffed (European exports use ``;`` and decimal commas), and every problem becomes a
``DataError`` with a sentence and a fix. The caller's bytes and frames are never modified.
"""
from __future__ import annotations

import csv
import hashlib
import re
import io
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .errors import DataError
from .files import size_and_limit
from .schema import FeatureSchema

MAX_DATA_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 10_000
MAX_CELLS = 60_000_000
MIN_ROWS = 10
_BAD_WORDS = ("bad", "1", "true", "yes", "y", "default", "defaulted", "charged off")


def content_hash(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class Table:
    """A raw uploaded table plus what the reader had to decide (sheet, separator, encoding)."""

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    sheets: tuple[str, ...] = ()


@dataclass(frozen=True)
class Dataset:
    """Model-ready evaluation data: inputs X (float32), labels y (1 = bad) and provenance."""

    X: np.ndarray
    y: np.ndarray
    input_names: tuple[str, ...]
    groups: tuple[str, ...]
    target: str
    bad_value: str
    frame: pd.DataFrame = field(repr=False)
    notes: tuple[str, ...] = ()

    @property
    def n_rows(self) -> int:
        return int(len(self.y))

    @property
    def bad_rate(self) -> float:
        return float(self.y.mean()) if len(self.y) else float("nan")

    @property
    def fingerprint(self) -> str:
        """Hash of exactly what the model sees; the cache key for every computation on it."""
        h = hashlib.sha256()
        h.update(np.ascontiguousarray(self.X).tobytes())
        h.update(np.ascontiguousarray(self.y).tobytes())
        h.update("\x1f".join(self.input_names).encode())
        return h.hexdigest()


def _check_size(data: bytes, limit: int) -> None:
    if len(data) == 0:
        raise DataError("The data file is empty.", "Upload a CSV, Parquet or Excel file with a header row and data rows.")
    if len(data) > limit:
        size, cap = size_and_limit(len(data), limit)
        raise DataError(
            f"The data file is {size}, above the upload limit of {cap}.",
            "Upload a sample of the rows (a few hundred thousand are plenty for validation).",
        )


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export is UTF-16
        try:
            return data.decode("utf-16"), "utf-16"
        except UnicodeDecodeError:
            raise DataError(
                "The file starts like UTF-16 text but cannot be decoded as such.",
                "Save it as 'CSV UTF-8' and upload again.",
            ) from None
    for enc in ("utf-8-sig", "cp1252", "latin-1"):
        try:
            return data.decode(enc), enc
        except UnicodeDecodeError:
            continue
    raise DataError("The file's text encoding could not be read.", "Save it as UTF-8 CSV.")  # pragma: no cover


def _sniff_separator(text: str) -> str:
    head = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: head.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


def _read_csv(data: bytes) -> Table:
    if b"\x00" in data[:4096] and not data.startswith((b"\xff\xfe", b"\xfe\xff")):
        raise DataError(
            "The file is binary, not a text CSV.",
            "Upload a CSV, Parquet (.parquet) or Excel (.xlsx) file with a matching extension.",
        )
    text, encoding = _decode(data)
    if "\x00" in text:
        raise DataError(
            "The file contains binary (NUL) characters, so it is not a text CSV.",
            "Upload a CSV, Parquet (.parquet) or Excel (.xlsx) file with a matching extension.",
        )
    if not text.strip():
        raise DataError("The data file holds no text.", "Upload a file with a header row and data rows.")
    sep = _sniff_separator(text)
    try:
        header = next(csv.reader(io.StringIO(text), delimiter=sep), [])
        decimal = "," if sep != "," and _looks_decimal_comma(text, sep) else "."
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
        raise DataError(
            f"The CSV could not be parsed ({str(exc)[:120]}).",
            "Check the file is a plain table: one header row, one row per applicant.",
        ) from exc
    _check_header([h.strip() for h in header])
    try:
        frame = pd.read_csv(io.StringIO(text), sep=sep, decimal=decimal, skipinitialspace=False)
    except (pd.errors.ParserError, ValueError) as exc:
        raise DataError(
            f"The CSV could not be parsed ({str(exc).splitlines()[0][:120]}).",
            "Check that every row has the same number of separators as the header.",
        ) from exc
    frame.columns = [str(c).strip() for c in frame.columns]
    notes = []
    if sep != ",":
        notes.append(f"Read with separator '{sep}'" + (" and decimal comma." if decimal == "," else "."))
    if encoding not in ("utf-8-sig", "utf-16"):
        notes.append(f"Text encoding detected as {encoding}.")
    return Table(frame, tuple(notes))


def _looks_decimal_comma(text: str, sep: str) -> bool:
    rows = list(csv.reader(io.StringIO("\n".join(text.splitlines()[1:51])), delimiter=sep))
    cells = [c.strip() for r in rows for c in r]
    # Majority vote: one "1,2" in a text column must not turn a column of 1.5s into text.
    comma_numbers = sum(1 for c in cells if "," in c and "." not in c and _is_number(c.replace(",", ".", 1)))
    dot_numbers = sum(1 for c in cells if "." in c and "," not in c and _is_number(c))
    return comma_numbers > dot_numbers


def _is_number(s: str) -> bool:
    try:
        float(s)
        return True
    except ValueError:
        return False


def _check_header(names: list[str]) -> None:
    seen: dict[str, int] = {}
    for n in names:
        seen[n] = seen.get(n, 0) + 1
    dupes = [n for n, k in seen.items() if k > 1]
    if dupes:
        shown = ", ".join(f"'{d}' ({seen[d]}×)" for d in dupes[:5])
        raise DataError(
            f"Column names repeat: {shown}.",
            "Rename the columns so each name is unique; RiskPrune cannot guess which one is meant.",
        )
    if len(names) > MAX_COLUMNS:
        raise DataError(
            f"The file has {len(names):,} columns, above the limit of {MAX_COLUMNS:,}.",
            "Keep only the model's input columns and the target.",
        )


def _read_parquet(data: bytes) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        table = pq.read_table(io.BytesIO(data))
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            "The Parquet file is damaged or not Parquet.", "Re-export it, or upload a CSV instead."
        ) from exc
    nested = [f.name for f in table.schema if pa.types.is_nested(f.type)]
    if nested:
        raise DataError(
            f"Parquet column(s) {', '.join(repr(n) for n in nested[:5])} hold nested values "
            "(lists or structs).",
            "Flatten them into one plain column per value before uploading.",
        )
    _check_header([str(n) for n in table.column_names])
    return Table(table.to_pandas())


def _read_excel(data: bytes, sheet: str | None) -> Table:
    try:
        book = pd.ExcelFile(io.BytesIO(data), engine="openpyxl")
    except Exception as exc:  # openpyxl raises many unrelated types on damaged zips
        raise DataError(
            "The Excel file could not be opened (damaged, password-protected or old .xls).",
            "Save it as .xlsx or CSV and upload again.",
        ) from exc
    sheets = tuple(str(s) for s in book.sheet_names)
    chosen = sheet if sheet is not None else sheets[0]
    if chosen not in sheets:
        raise DataError(f"The workbook has no sheet '{chosen}'.", f"Pick one of: {', '.join(sheets)}.")
    raw = book.parse(chosen, header=None, nrows=1)
    _check_header([str(c).strip() for c in raw.iloc[0].tolist()] if len(raw) else [])
    frame = book.parse(chosen)
    frame.columns = [str(c).strip() for c in frame.columns]
    notes = ()
    if len(sheets) > 1:
        notes = (f"The workbook has {len(sheets)} sheets; reading '{chosen}'. Pick another sheet if needed.",)
    return Table(frame, notes, sheets)


def read_table(data: bytes, filename: str, sheet: str | None = None, max_bytes: int = MAX_DATA_BYTES) -> Table:
    """Parse an uploaded CSV/Parquet/Excel file into a DataFrame, refusing what cannot be trusted."""
    _check_size(data, max_bytes)
    name = filename.lower()
    if name.endswith((".parquet", ".pq")):
        table = _read_parquet(data)
    elif name.endswith((".xlsx", ".xlsm")):
        table = _read_excel(data, sheet)
    elif name.endswith(".xls"):
        raise DataError("Old binary Excel (.xls) files are not supported.", "Save the sheet as .xlsx or CSV.")
    elif name.endswith((".csv", ".txt", ".tsv")):
        table = _read_csv(data)
    else:
        raise DataError(
            f"'{filename}' is not a supported data file.",
            "Upload a .csv, .parquet or .xlsx file.",
        )
    frame = table.frame
    if frame.shape[1] == 0 or len(frame) == 0:
        raise DataError("The data file has no data rows.", "Upload a file with a header row and at least one row per applicant.")
    if frame.shape[0] * frame.shape[1] > MAX_CELLS:
        raise DataError(
            f"The table has {frame.shape[0]:,} × {frame.shape[1]:,} cells, above the {MAX_CELLS:,} limit.",
            "Upload fewer rows or only the columns the model uses.",
        )
    return table


def label_text(value: object) -> str:
    """Canonical text of a target value, so 1, 1.0, '1' and True/'True' compare as users expect."""
    if isinstance(value, (bool, np.bool_)):
        return "True" if value else "False"
    if isinstance(value, (float, np.floating)) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def target_values(frame: pd.DataFrame, target: str) -> list[str]:
    if target not in frame.columns:
        raise DataError(
            f"The dataset has no target column '{target}'.",
            f"Pick the column that says whether the applicant defaulted (columns: {', '.join(map(str, frame.columns[:10]))}…).",
        )
    return sorted({label_text(v) for v in frame[target].dropna().tolist()})


def guess_bad_value(values: list[str]) -> str | None:
    lowered = {v.lower(): v for v in values}
    for word in _BAD_WORDS:
        if word in lowered:
            return lowered[word]
    return None


def resolve_bad_value(values: list[str], bad_value: object) -> str:
    """The target value meant by ``bad_value``: exact text first, then the same word in another case."""
    bad = label_text(bad_value)
    if bad not in values:  # 'yes' for Yes/No, 'true' for True/False
        same = [v for v in values if v.lower() == bad.lower()]
        if len(same) == 1:
            return same[0]
    return bad


def encode_target(frame: pd.DataFrame, target: str, bad_value: str) -> np.ndarray:
    values = target_values(frame, target)
    n_missing = int(frame[target].isna().sum())
    if n_missing:
        raise DataError(
            f"The target column '{target}' is empty in {n_missing} row(s).",
            "Remove rows without an outcome; they cannot be used to validate a model.",
        )
    if len(values) == 1:
        raise DataError(
            f"The target column '{target}' holds only one outcome ('{values[0]}'), so good and bad "
            "applicants cannot be told apart.",
            "Upload data with both good and bad outcomes, or pick the column that flags defaults.",
        )
    if len(values) != 2:
        shown = ", ".join(f"'{v}'" for v in values[:6])
        raise DataError(
            f"The target column '{target}' must have exactly two outcomes, but has {len(values)}: {shown}.",
            "Pick a binary default flag (e.g. good/bad or 0/1), or recode the column.",
        )
    bad = resolve_bad_value(values, bad_value)
    if bad not in values:
        raise DataError(
            f"'{bad_value}' does not occur in the target column '{target}' (values: {', '.join(values)}).",
            "Pick the value that marks a default (bad outcome).",
        )
    return np.fromiter((label_text(v) == bad for v in frame[target].tolist()), dtype=np.int8, count=len(frame))


def numeric_columns(frame: pd.DataFrame, exclude: str | None = None) -> list[str]:
    return [
        c for c in frame.columns
        if c != exclude and pd.api.types.is_numeric_dtype(frame[c]) and not pd.api.types.is_bool_dtype(frame[c])
    ]


def looks_like_identifier(frame: pd.DataFrame, column: str) -> bool:
    """An applicant/contract number: named like an id and holding distinct whole numbers.

    Feeding such a column to a model is always a mapping mistake, so the default mapping skips it.
    """
    name = str(column).lower()
    if not re.search(r"(^|[_\s-])(id|key|no|nr|number|ref)$|^id[_\s-]", name):
        return False
    values = frame[column].dropna()
    return len(values) > 0 and values.is_unique and bool(np.all(np.mod(values.to_numpy(dtype="float64"), 1) == 0))


def default_inputs(frame: pd.DataFrame, target: str, n_inputs: int | None = None) -> list[str]:
    """The default column mapping of a schema-less model: numeric non-identifier columns in file order.

    When the file has more such columns than the model has inputs, the first ``n_inputs`` are taken
    and the user is shown the choice to correct.
    """
    cols = [c for c in numeric_columns(frame, exclude=target) if not looks_like_identifier(frame, c)]
    return cols[:n_inputs] if n_inputs is not None else cols


def prepare_dataset(
    frame: pd.DataFrame,
    target: str,
    bad_value: str,
    schema: FeatureSchema | None = None,
    feature_columns: list[str] | None = None,
    n_inputs: int | None = None,
) -> Dataset:
    """Build inputs and labels: via the model's schema, or from named numeric columns in order."""
    frame = frame.copy()  # never modify the caller's frame
    if len(frame) < MIN_ROWS:
        raise DataError(
            f"The dataset has {len(frame)} row(s); at least {MIN_ROWS} are needed to measure anything.",
            "Upload more applicants (validation usually uses hundreds or more).",
        )
    y = encode_target(frame, target, bad_value)
    if y.min() == y.max():  # pragma: no cover - encode_target guarantees two values
        raise DataError("Only one outcome occurs in the target.", "Upload data with both good and bad outcomes.")
    if schema is not None:
        X = schema.transform(frame)
        names, groups = schema.input_names, schema.groups
    else:
        cols = feature_columns if feature_columns is not None else numeric_columns(frame, exclude=target)
        if target in cols:
            raise DataError(
                f"The target '{target}' is also selected as a model input.",
                "Remove it from the inputs: a model must not see the outcome.",
            )
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise DataError(f"Column(s) {', '.join(map(repr, missing))} are not in the dataset.", "Pick existing columns.")
        if any(not pd.api.types.is_numeric_dtype(frame[c]) for c in cols):
            raise DataError(
                "Without an embedded schema only numeric columns can be fed to the model; "
                f"{', '.join(repr(c) for c in cols if not pd.api.types.is_numeric_dtype(frame[c]))} hold text.",
                "Pick numeric columns, or export the model with its feature schema.",
            )
        X = frame[cols].to_numpy(dtype="float64") if cols else np.zeros((len(frame), 0))
        bad = ~np.isfinite(X)
        if bad.any():
            col = cols[int(np.argwhere(bad)[0][1])]
            raise DataError(
                f"{int(bad.any(axis=1).sum())} row(s) have missing or infinite inputs (first in column '{col}').",
                "Impute or remove those rows before uploading.",
            )
        X = X.astype("float32")
        names, groups = list(cols), list(cols)
    if n_inputs is not None and X.shape[1] != n_inputs:
        raise DataError(
            f"The model expects {n_inputs} inputs but the dataset provides {X.shape[1]}.",
            "Select exactly the columns the model was trained on, in training order.",
        )
    return Dataset(
        X=X, y=y, input_names=tuple(names), groups=tuple(groups), target=target,
        bad_value=resolve_bad_value(target_values(frame, target), bad_value), frame=frame,
    )


def stratified_split(y: np.ndarray, seed: int, fractions: tuple[float, float, float] = (0.6, 0.2, 0.2)) -> dict[str, np.ndarray]:
    """Seeded stratified train/validation/test row indices, so validators can rebuild the split."""
    if not np.isclose(sum(fractions), 1.0) or min(fractions) <= 0:
        raise DataError("Split fractions must be positive and sum to 1.", "Use e.g. (0.6, 0.2, 0.2).")
    rng = np.random.default_rng(seed)
    parts: dict[str, list[np.ndarray]] = {"train": [], "validation": [], "test": []}
    for cls in np.unique(y):
        idx = np.flatnonzero(y == cls)
        rng.shuffle(idx)
        n_train = int(round(fractions[0] * len(idx)))
        n_val = int(round(fractions[1] * len(idx)))
        parts["train"].append(idx[:n_train])
        parts["validation"].append(idx[n_train:n_train + n_val])
        parts["test"].append(idx[n_train + n_val:])
    return {k: np.sort(np.concatenate(v)) for k, v in parts.items()}
