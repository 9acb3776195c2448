"""Reading uploaded tables (CSV, Parquet, Excel) into a DataFrame, refusing what cannot be trusted.

Uploaded files are hostile until proven otherwise: sizes are bounded, encodings and separators
are sniffed (European exports use ``;`` and decimal commas), and every problem becomes a
``DataError`` with a sentence and a fix. The caller's bytes are never modified.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass

import pandas as pd

from core.errors import DataError
from core.formatting import size_and_limit

MAX_DATA_BYTES = 200 * 1024 * 1024
MAX_COLUMNS = 10_000
MAX_CELLS = 60_000_000


@dataclass(frozen=True)
class Table:
    """A raw uploaded table plus what the reader had to decide (sheet, separator, encoding)."""

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    sheets: tuple[str, ...] = ()


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
