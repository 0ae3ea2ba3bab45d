"""Spreadsheets as offices save them, built in the tests: Excel's Dutch CSV (semicolons,
Windows-1252, dd-mm-yyyy), CSV UTF-8 with a byte order mark, quoted newlines, and XLSX with
dates as serial numbers and formula cells."""

from __future__ import annotations

import io
from collections.abc import Sequence
from datetime import date
from typing import Any


def csv_bytes(rows: Sequence[Sequence[str]], *, delimiter: str = ",", encoding: str = "utf-8", bom: bool = False) -> bytes:
    def cell(value: str) -> str:
        if any(c in value for c in (delimiter, '"', "\n", "\r")):
            return '"' + value.replace('"', '""') + '"'
        return value

    text = "\r\n".join(delimiter.join(cell(v) for v in row) for row in rows) + "\r\n"
    return (b"\xef\xbb\xbf" if bom else b"") + text.encode(encoding)


def xlsx_bytes(rows: Sequence[Sequence[Any]], *, date_columns: Sequence[int] = (), serial_dates: bool = False) -> bytes:
    """An XLSX workbook; ``date_columns`` hold dates, formatted as dates (Excel stores them as
    serial numbers either way) or, with ``serial_dates``, as plain numbers."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in rows:
        sheet.append(list(row))
    for column in date_columns:
        for cells in sheet.iter_rows(min_row=2, min_col=column + 1, max_col=column + 1):
            for c in cells:
                if isinstance(c.value, date):
                    if serial_dates:
                        c.value = (c.value - date(1899, 12, 30)).days
                        c.number_format = "General"
                    else:
                        c.number_format = "dd-mm-yyyy"
    out = io.BytesIO()
    workbook.save(out)
    return out.getvalue()
