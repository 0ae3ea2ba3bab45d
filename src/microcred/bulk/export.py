"""Writing spreadsheets back to the office: a results file, an achievement's template.

Nothing written becomes a formula when opened: text starting with ``=``, ``+``, ``-``, ``@``, a
tab or a carriage return gets a leading apostrophe (OWASP's advice against CSV injection), and
XLSX cells are written as text cells whatever they hold, so ``=HYPERLINK(...)`` read from an
uploaded file comes back as the text it was.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence
from typing import Any, Literal

__all__ = ["MEDIA_TYPES", "SheetFormat", "neutralise", "write_csv", "write_xlsx"]

SheetFormat = Literal["csv", "xlsx"]
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
}
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")

Value = str | int | float | None


def neutralise(value: str) -> str:
    """The text, made inert for a spreadsheet: never read as a formula."""
    return "'" + value if value.startswith(_FORMULA_STARTS) else value


def _cells(row: Sequence[Value]) -> list[Value]:
    return [neutralise(v) if isinstance(v, str) else v for v in row]


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Value]], *, delimiter: str = ",") -> bytes:
    """UTF-8 with a byte order mark (so Excel reads it as UTF-8), CRLF line ends."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    writer.writerow(_cells(header))
    for row in rows:
        writer.writerow(["" if v is None else v for v in _cells(row)])
    return out.getvalue().encode("utf-8-sig")


def write_xlsx(
    header: Sequence[str], rows: Iterable[Sequence[Value]], *, title: str, notes: Sequence[Sequence[str]] = (), notes_title: str = "Notes"
) -> bytes:
    """One sheet of data (``header`` then ``rows``), and a second of ``notes`` when given."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title[:31])

    def line(target: Any, values: Sequence[Value]) -> list[Any]:
        cells = []
        for value in _cells(values):
            cell = WriteOnlyCell(target, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # text, even if openpyxl took it for a formula
            cells.append(cell)
        return cells

    sheet.append(line(sheet, header))
    for row in rows:
        sheet.append(line(sheet, row))
    if notes:
        notes_sheet = workbook.create_sheet(notes_title[:31])
        for note in notes:
            notes_sheet.append(line(notes_sheet, note))
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
