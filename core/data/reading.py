"""Reading uploaded tables (CSV, Parquet, Excel) into a DataFrame, refusing what cannot be trusted.

Uploaded files are hostile until proven otherwise: sizes are bounded, encodings and separators
are sniffed (European exports use ``;`` and decimal commas), NUL bytes and nested Parquet values
are refused, and every problem becomes a ``DataError`` with a sentence and a fix. The caller's
bytes are never modified.

Portfolio-sized files (a million applicants) are parsed column-wise by pyarrow's multi-threaded
CSV and Parquet readers straight from the caller's bytes (no decoded copy of the text), and the
Arrow columns are handed to pandas without a second full copy (``self_destruct``). Numbers keep
their file precision (int64 / float64): identifiers and amounts above 2**24 are not exactly
representable in float32; the model's float32 matrix is built later, column by column. A CSV
the fast reader cannot parse (ragged rows, quoted line breaks) falls back to pandas' parser, so
what was readable before stays readable. The header goes through ``normalise_header``: BOM and
surrounding spaces removed, empty names named, repeated names made unique and reported.
"""
from __future__ import annotations

import codecs
import csv
import io
import math
import threading
import warnings
from dataclasses import dataclass

import pandas as pd

from core.data.columns import HeaderChange, header_notes, normalise_header
from core.errors import DataError
from core.files import check_upload_size
from core.progress import Progress, report

MAX_DATA_BYTES = 512 * 1024 * 1024
MAX_COLUMNS = 10_000
MAX_CELLS = 60_000_000
HEAD_BYTES = 256 * 1024  # the part of a CSV read as text to sniff its separator, decimal mark and header
PROGRESS_SECONDS = 0.25
PROGRESS_MIN_BYTES = 8 * 1024 * 1024  # smaller CSVs parse in well under a second: no progress lines
# pandas' default missing-value markers, so both parsers read the same cells as missing
NA_VALUES = ("", "#N/A", "#N/A N/A", "#NA", "-1.#IND", "-1.#QNAN", "-NaN", "-nan", "1.#IND", "1.#QNAN", "<NA>", "N/A",
             "NA", "NULL", "NaN", "None", "n/a", "nan", "null")


@dataclass(frozen=True)
class Table:
    """A raw uploaded table plus what the reader had to decide (sheet, separator, encoding, header changes)."""

    frame: pd.DataFrame
    notes: tuple[str, ...] = ()
    sheets: tuple[str, ...] = ()
    header_changes: tuple[HeaderChange, ...] = ()


def _check_size(data: bytes, limit: int) -> None:
    check_upload_size(data, limit, DataError, what="data file",
                      empty_hint="Upload a CSV, Parquet or Excel file with a header row and data rows.",
                      large_hint="Upload a sample of the rows (a few hundred thousand are plenty for validation).")


def _binary() -> DataError:
    return DataError(
        "The file contains binary (NUL) characters, so it is not a text CSV.",
        "Upload a CSV, Parquet (.parquet) or Excel (.xlsx) file with a matching extension.",
    )


def _is_utf8(data: bytes | memoryview, chunk: int = 16 * 1024 * 1024) -> bool:
    """Whether the bytes are valid UTF-8, checked in chunks so no decoded copy of the whole file exists."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    view = memoryview(data)
    try:
        for start in range(0, len(view), chunk):
            decoder.decode(view[start:start + chunk], final=start + chunk >= len(view))
    except UnicodeDecodeError:
        return False
    return True


def _as_utf8(data: bytes) -> tuple[bytes | memoryview, str]:
    """The file as UTF-8 bytes (a zero-copy view when it already is UTF-8) and the encoding it was in."""
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" export is UTF-16
        try:
            text = data.decode("utf-16")
        except UnicodeDecodeError:
            raise DataError(
                "The file starts like UTF-16 text but cannot be decoded as such.",
                "Save it as 'CSV UTF-8' and upload again.",
            ) from None
        if "\x00" in text:
            raise _binary()
        return text.encode("utf-8"), "utf-16"
    if b"\x00" in data[:4096]:
        raise DataError(
            "The file is binary, not a text CSV.",
            "Upload a CSV, Parquet (.parquet) or Excel (.xlsx) file with a matching extension.",
        )
    if data.find(b"\x00") != -1:
        raise _binary()
    bom = data.startswith(codecs.BOM_UTF8)
    body = memoryview(data)[3:] if bom else memoryview(data)
    if _is_utf8(body):
        return body, "utf-8-sig" if bom else "utf-8"
    for enc in ("cp1252", "latin-1"):
        try:
            return data.decode(enc).encode("utf-8"), enc
        except UnicodeDecodeError:
            continue
    raise DataError("The file's text encoding could not be read.", "Save it as UTF-8 CSV.")  # pragma: no cover


def _head_text(utf8: bytes | memoryview) -> str:
    """The first lines of the file as text (whole lines only, unless the first line alone is longer)."""
    head = bytes(utf8[:HEAD_BYTES])
    if len(utf8) > HEAD_BYTES:
        cut = max(head.rfind(b"\n"), head.rfind(b"\r"))
        head = head[:cut] if cut > 0 else head
    return head.decode("utf-8", errors="replace")


def _sniff_separator(text: str) -> str:
    head = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(head, delimiters=",;\t|").delimiter
    except csv.Error:
        counts = {d: head.count(d) for d in ",;\t|"}
        best = max(counts, key=counts.get)
        return best if counts[best] else ","


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


def _check_width(n_columns: int) -> None:
    if n_columns > MAX_COLUMNS:
        raise DataError(
            f"The file has {n_columns:,} columns, above the limit of {MAX_COLUMNS:,}.",
            "Keep only the model's input columns and the target.",
        )


class _CountingReader(io.RawIOBase):
    """A read-only file over the caller's bytes that counts what the parser has consumed (for progress)."""

    def __init__(self, data: bytes | memoryview) -> None:
        self._view = memoryview(data)
        self.pos = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:  # type: ignore[override]
        n = min(len(buffer), len(self._view) - self.pos)
        buffer[:n] = self._view[self.pos:self.pos + n]
        self.pos += n
        return n


def _arrow_csv(utf8: bytes | memoryview, sep: str, decimal: str, name: str, progress: Progress | None):
    """Parse with pyarrow (multi-threaded, column-wise). Progress is reported from the calling thread
    while a worker parses, so a dashboard callback never runs on a foreign thread."""
    import pyarrow as pa
    import pyarrow.csv as pcsv

    def parse(source, column_types=None):
        return pcsv.read_csv(
            source,
            read_options=pcsv.ReadOptions(use_threads=True),
            parse_options=pcsv.ParseOptions(delimiter=sep),
            convert_options=pcsv.ConvertOptions(
                decimal_point=decimal, null_values=list(NA_VALUES), strings_can_be_null=True,
                true_values=["True", "TRUE", "true"], false_values=["False", "FALSE", "false"],  # as pandas: 0/1 stay numbers
                quoted_strings_can_be_null=True, column_types=column_types or {},
            ),
        )

    total = len(utf8)
    if progress is None or total < PROGRESS_MIN_BYTES:
        table = parse(pa.py_buffer(utf8))
    else:
        reader = _CountingReader(utf8)
        result: dict = {}

        def work() -> None:
            try:
                result["table"] = parse(reader)
            except BaseException as exc:  # noqa: BLE001 - handed to the calling thread, re-raised there
                result["error"] = exc

        mb = max(1, math.ceil(total / 2**20))
        worker = threading.Thread(target=work, name="riskprune-csv", daemon=True)
        worker.start()
        last = -1
        while worker.is_alive():
            worker.join(PROGRESS_SECONDS)
            done = min(mb, reader.pos // 2**20)
            if done != last:
                report(progress, done, mb, f"MB of {name} read")
                last = done
        if "error" in result:
            raise result["error"]
        if last != mb:
            report(progress, mb, mb, f"MB of {name} read")
        table = result["table"]
    # pandas keeps dates and times as text; so does RiskPrune (a model never takes them directly)
    temporal = [f.name for f in table.schema if pa.types.is_temporal(f.type)]
    if temporal:
        table = parse(pa.py_buffer(utf8), {n: pa.string() for n in temporal})
    nulls = [i for i, f in enumerate(table.schema) if pa.types.is_null(f.type)]
    for i in nulls:  # an all-empty column: numbers with every value missing, as pandas reads it
        table = table.set_column(i, table.schema.field(i).name, pa.nulls(table.num_rows, pa.float64()))
    return table


def _to_pandas(table) -> pd.DataFrame:
    """Arrow table -> DataFrame without a second full copy (columns handed over one by one, Arrow memory freed)."""
    import numpy as np
    import pyarrow as pa

    flags_with_gaps = [i for i, f in enumerate(table.schema) if pa.types.is_boolean(f.type) and table.column(i).null_count]
    frame = table.to_pandas(split_blocks=True, self_destruct=True)
    for i in flags_with_gaps:  # pandas reads True/empty as True/NaN (object); Arrow gives None: same as pandas
        col = frame.iloc[:, i]
        frame.isetitem(i, col.astype(object).where(col.notna(), np.nan))
    return frame


def _pandas_csv(utf8: bytes | memoryview, sep: str, decimal: str, n_columns: int) -> pd.DataFrame:
    """pandas' parser, columns by position (the header is named by ``normalise_header`` like the fast path).

    A row with more cells than the header is refused (pandas would silently turn the first column
    into the row index, shifting every value one column to the right).
    """
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", pd.errors.ParserWarning)
            return pd.read_csv(io.BytesIO(utf8), sep=sep, decimal=decimal, skipinitialspace=False, encoding="utf-8",
                               header=0, names=list(range(n_columns)), index_col=False)
    except (pd.errors.ParserError, pd.errors.ParserWarning, pd.errors.EmptyDataError, ValueError,
            UnicodeDecodeError) as exc:
        raise DataError(
            f"The CSV could not be parsed ({str(exc).splitlines()[0][:120] if str(exc) else type(exc).__name__}).",
            "Check that every row has the same number of separators as the header.",
        ) from exc


def _read_csv(data: bytes, name: str, progress: Progress | None) -> Table:
    import pyarrow as pa

    utf8, encoding = _as_utf8(data)
    head = _head_text(utf8)
    if not head.strip() and not bytes(utf8).strip():
        raise DataError("The data file holds no text.", "Upload a file with a header row and data rows.")
    sep = _sniff_separator(head)
    try:
        header = next((row for row in csv.reader(io.StringIO(head), delimiter=sep) if row), [])
        decimal = "," if sep != "," and _looks_decimal_comma(head, sep) else "."
    except csv.Error as exc:  # e.g. a cell longer than the csv module's field limit
        raise DataError(
            f"The CSV could not be parsed ({str(exc)[:120]}).",
            "Check the file is a plain table: one header row, one row per applicant.",
        ) from exc
    _check_width(len(header))
    notes = []
    try:
        table = _arrow_csv(utf8, sep, decimal, name, progress)
        names = table.column_names
        report(progress, 0, 0, f"converting the columns of {name}")
        frame = _to_pandas(table)
        del table
    except (pa.ArrowException, OSError, ValueError):
        # Rows with fewer cells than the header, line breaks inside quotes, …: pandas' parser reads
        # these as it always did (slower, more memory); what it refuses is refused with its reason.
        names = header
        frame = _pandas_csv(utf8, sep, decimal, len(header))
    if len(names) != frame.shape[1]:  # pragma: no cover - both readers keep one name per column
        names = [str(c) for c in frame.columns]
    clean, changes = normalise_header(names)
    frame.columns = clean
    if sep != ",":
        notes.append(f"Read with separator '{sep}'" + (" and decimal comma." if decimal == "," else "."))
    if encoding not in ("utf-8", "utf-8-sig", "utf-16"):
        notes.append(f"Text encoding detected as {encoding}.")
    return Table(frame, tuple(notes) + header_notes(changes), header_changes=changes)


def _read_parquet(data: bytes, name: str, progress: Progress | None) -> Table:
    import pyarrow as pa
    import pyarrow.parquet as pq

    try:
        pf = pq.ParquetFile(pa.BufferReader(data))
        schema = pf.schema_arrow
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            "The Parquet file is damaged or not Parquet.", "Re-export it, or upload a CSV instead."
        ) from exc
    nested = [f.name for f in schema if pa.types.is_nested(f.type)]
    if nested:
        raise DataError(
            f"Parquet column(s) {', '.join(repr(n) for n in nested[:5])} hold nested values "
            "(lists or structs).",
            "Flatten them into one plain column per value before uploading.",
        )
    _check_width(len(schema.names))
    try:
        groups = pf.metadata.num_row_groups
        if groups <= 1:
            table = pf.read()
        else:
            parts = []
            for i in range(groups):
                parts.append(pf.read_row_group(i))
                report(progress, i + 1, groups, f"row groups of {name} read")
            table = pa.concat_tables(parts)
            del parts
        report(progress, 0, 0, f"converting the columns of {name}")
        frame = table.to_pandas(split_blocks=True, self_destruct=True)
        del table
    except (pa.ArrowException, OSError, ValueError) as exc:
        raise DataError(
            "The Parquet file is damaged or not Parquet.", "Re-export it, or upload a CSV instead."
        ) from exc
    clean, changes = normalise_header(list(frame.columns))
    frame.columns = clean
    return Table(frame, header_notes(changes), header_changes=changes)


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
    header = raw.iloc[0].tolist() if len(raw) else []
    _check_width(len(header))
    frame = book.parse(chosen)
    notes: tuple[str, ...] = ()
    if len(sheets) > 1:
        notes = (f"The workbook has {len(sheets)} sheets; reading '{chosen}'. Pick another sheet if needed.",)
    names = header if len(header) == frame.shape[1] else list(frame.columns)
    clean, changes = normalise_header(names)
    frame.columns = clean
    return Table(frame, notes + header_notes(changes), sheets, header_changes=changes)


def read_table(data: bytes, filename: str, sheet: str | None = None, max_bytes: int = MAX_DATA_BYTES,
               progress: Progress | None = None) -> Table:
    """Parse an uploaded CSV/Parquet/Excel file into a DataFrame, refusing what cannot be trusted.

    ``progress`` (a ``core.progress.Progress``) hears how far a large file has been read.
    """
    _check_size(data, max_bytes)
    name = filename.lower()
    if name.endswith((".parquet", ".pq")):
        table = _read_parquet(data, filename, progress)
    elif name.endswith((".xlsx", ".xlsm")):
        report(progress, 0, 0, f"reading {filename}")
        table = _read_excel(data, sheet)
    elif name.endswith(".xls"):
        raise DataError("Old binary Excel (.xls) files are not supported.", "Save the sheet as .xlsx or CSV.")
    elif name.endswith((".csv", ".txt", ".tsv")):
        table = _read_csv(data, filename, progress)
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
