"""Reading a spreadsheet the office saved: CSV (see ``jobs.parsing`` for encodings and
delimiters) or XLSX, into a header and rows of cells, each row with the number the file itself
shows (so an error can name the cell as Excel does: ``C7``).

XLSX is read with openpyxl in read-only mode and never evaluated: a formula cell is taken as the
text of its formula (``=HYPERLINK(...)``), which then fails as data wherever data is expected.
Cells formatted as dates come as dates; a plain number where a date is expected is taken as an
Excel serial date by the planner (``planning.as_date``).
"""

from __future__ import annotations

import csv
import io
import zipfile
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Literal

from ..jobs.parsing import csv_records
from ..problems import BadRequest, PayloadTooLarge

__all__ = ["Cell", "Sheet", "SourceRow", "column_letter", "read_sheet"]

#: A cell as read: text, a number, a date (XLSX), or nothing.
Cell = str | int | float | bool | date | datetime | time | None

Format = Literal["csv", "xlsx"]

_ZIP = b"PK\x03\x04"
#: Columns read from an XLSX sheet: far more than any award needs, and a bound on the work a
#: sheet claiming 16,384 columns can cause.
MAX_COLUMNS = 200
_OLE = b"\xd0\xcf\x11\xe0"  # Excel 97-2003 .xls, and other OLE files


@dataclass(frozen=True)
class SourceRow:
    #: The row number the file shows (the header is row 1 when it is the first row).
    number: int
    cells: tuple[Cell, ...]


@dataclass(frozen=True)
class Sheet:
    format: Format
    header: tuple[str, ...]
    rows: tuple[SourceRow, ...]
    #: CSV only: how the text was read, to write results back the same way.
    encoding: str | None = None
    delimiter: str | None = None


def column_letter(index: int) -> str:
    """A, B, ... Z, AA for the 0-based column ``index``."""
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


def _blank(cells: Iterable[Cell]) -> bool:
    return all(c is None or (isinstance(c, str) and not c.strip()) for c in cells)


def _too_many(max_rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the file has more than {max_rows} rows; split it into files of at most {max_rows} rows")


def _sheet(format: Format, records: Iterable[tuple[int, tuple[Cell, ...]]], *, max_rows: int, encoding: str | None = None,
           delimiter: str | None = None) -> Sheet:
    header: tuple[str, ...] | None = None
    rows: list[SourceRow] = []
    for number, cells in records:
        if _blank(cells):
            continue  # blank rows (and Excel's formatted but empty rows at the end) are no data
        if header is None:
            header = tuple("" if c is None else str(c).strip() for c in cells)
            while header and not header[-1]:
                header = header[:-1]
            continue
        if len(rows) >= max_rows:
            raise _too_many(max_rows)
        rows.append(SourceRow(number, cells))
    if header is None:
        raise BadRequest("the file is empty: it needs a header row naming its columns, then one row per award")
    if not rows:
        raise BadRequest("the file has a header row but no rows to award")
    return Sheet(format, header, tuple(rows), encoding, delimiter)


def _csv(body: bytes, *, max_rows: int) -> Sheet:
    records, encoding, delimiter = csv_records(body)

    def numbered() -> Iterable[tuple[int, tuple[Cell, ...]]]:
        number = 0
        try:
            for record in records:
                number += 1
                yield number, tuple(record)
        except csv.Error as exc:
            raise BadRequest(f"the CSV file cannot be read after row {number}: {exc}") from None

    return _sheet("csv", numbered(), max_rows=max_rows, encoding=encoding, delimiter=delimiter)


def _xlsx(body: bytes, *, max_rows: int) -> Sheet:
    from openpyxl import load_workbook  # only needed for XLSX files

    try:
        workbook = load_workbook(io.BytesIO(body), read_only=True, data_only=False, keep_links=False)
    except _BROKEN as exc:
        raise _not_xlsx(exc) from None
    try:
        worksheet = workbook.worksheets[0]
        # Read-only rows come in order from row 1, gaps filled with empty rows, so counting
        # them gives the numbers Excel shows. Columns past the first MAX_COLUMNS are not read.
        width = worksheet.max_column if isinstance(worksheet.max_column, int) and worksheet.max_column > 0 else MAX_COLUMNS
        rows = worksheet.iter_rows(values_only=True, max_col=min(width, MAX_COLUMNS))
        return _sheet("xlsx", enumerate((tuple(_plain(v) for v in r) for r in rows), start=1), max_rows=max_rows)
    except _BROKEN as exc:  # XML that is broken, or that defusedxml refuses (entity bombs, DTDs)
        raise _not_xlsx(exc) from None
    finally:
        workbook.close()


#: What a broken or hostile workbook raises while read (SyntaxError: XML parse errors).
_BROKEN = (zipfile.BadZipFile, KeyError, ValueError, TypeError, IndexError, OSError, SyntaxError)


def _not_xlsx(exc: Exception) -> BadRequest:
    return BadRequest(f"the file is not an XLSX workbook Excel can open ({type(exc).__name__})")


def _plain(value: object) -> Cell:
    """An XLSX value as a plain cell: a Decimal as a float, anything else unusual (rich text,
    a time span, an array formula) as its text."""
    if value is None or isinstance(value, (str, int, float, bool, date, datetime, time)):
        return value
    if isinstance(value, Decimal):
        return float(value)
    text = getattr(value, "text", None)  # an array or data-table formula: its formula text
    return str(text if isinstance(text, str) else value)


def read_sheet(body: bytes, *, filename: str = "", max_rows: int) -> Sheet:
    """The first sheet of an XLSX file, or a CSV file, with its header and its non-blank rows."""
    if not body:
        raise BadRequest("the file is empty")
    if body.startswith(_OLE) or filename.lower().endswith(".xls"):
        raise BadRequest("this is an old Excel 97-2003 (.xls) file: save it as an Excel workbook (.xlsx) or as CSV")
    if body.startswith(_ZIP):
        return _xlsx(body, max_rows=max_rows)
    return _csv(body, max_rows=max_rows)
