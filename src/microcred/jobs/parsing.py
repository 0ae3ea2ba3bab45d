"""Reading a bulk-award file: a JSON list of award bodies, or a CSV with one award per row.

CSV columns (header row required; empty cells are left out): achievement_id, recipient_email,
recipient_name, recipient_did, completion_date, grade, result_description_id, credits_earned,
activity_start_date, activity_end_date, valid_until, external_id, evidence_url,
evidence_narrative, language.

CSV text is read as spreadsheets save it: UTF-8 with or without a byte order mark, else
Windows-1252 (what Excel writes as "CSV" on a Western-European Windows), with commas or
semicolons (Excel's CSV where the decimal mark is a comma, e.g. Dutch) between cells. The staff
console's bulk upload (``microcred.bulk``) reads CSV files through the same functions.
"""

from __future__ import annotations

import codecs
import csv
import io
from collections.abc import Iterator
from typing import Any

from ..credentials import strict_json
from ..problems import BadRequest, PayloadTooLarge

__all__ = ["CSV_COLUMNS", "csv_records", "decode_text", "parse_batch", "sniff_delimiter"]

CSV_COLUMNS = (
    "achievement_id",
    "recipient_email",
    "recipient_name",
    "recipient_did",
    "completion_date",
    "grade",
    "result_description_id",
    "credits_earned",
    "activity_start_date",
    "activity_end_date",
    "valid_until",
    "external_id",
    "evidence_url",
    "evidence_narrative",
    "language",
)


def parse_batch(body: bytes, *, content_type: str, max_rows: int) -> tuple[str, list[dict[str, Any]]]:
    """The format and the rows, each shaped like the body of a single award."""
    media = content_type.split(";", 1)[0].strip().lower()
    if media in ("text/csv", "application/csv"):
        rows = _csv_rows(body, max_rows=max_rows)
        return "csv", rows
    if media in ("application/json", ""):
        return "json", _json_rows(body, max_rows=max_rows)
    raise BadRequest(
        f"send the file as text/csv or application/json, not {media}",
        errors=[{"header": "Content-Type", "detail": "text/csv or application/json"}],
    )


def _too_many(count: int, max_rows: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"the file has {count} rows or more; at most {max_rows} per batch: split it")


def _json_rows(body: bytes, *, max_rows: int) -> list[dict[str, Any]]:
    try:
        data = strict_json.loads(body)
    except (ValueError, UnicodeDecodeError) as exc:
        raise BadRequest(f"the body is not valid JSON: {exc}") from None
    if isinstance(data, dict) and isinstance(data.get("awards"), list):
        data = data["awards"]
    if not isinstance(data, list):
        raise BadRequest("send a JSON list of awards (or {\"awards\": [...]})", errors=[{"pointer": "#", "detail": "not a list"}])
    if len(data) > max_rows:
        raise _too_many(len(data), max_rows)
    if not data:
        raise BadRequest("the file holds no awards", errors=[{"pointer": "#", "detail": "empty"}])
    # Rows that are not objects are kept and fail alone, like any other invalid row.
    return [row if isinstance(row, dict) else {"_invalid": row} for row in data]


def decode_text(body: bytes) -> tuple[str, str]:
    """The text of a CSV file and the encoding it was read in: UTF-8 (a byte order mark is
    dropped; UTF-16 files with one are read too), else Windows-1252. UTF-8 is tried first because
    text that is not UTF-8 almost never decodes as UTF-8 by chance, while every byte but five
    decodes as Windows-1252."""
    if body.startswith(codecs.BOM_UTF8):
        encoding = "utf-8-sig"
    elif body.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        encoding = "utf-16"
    else:
        try:
            return body.decode("utf-8"), "utf-8"
        except UnicodeDecodeError:
            encoding = "cp1252"
    try:
        return body.decode(encoding), encoding
    except UnicodeDecodeError:
        raise BadRequest("the CSV file is neither UTF-8 nor Windows-1252 text: save it as \"CSV UTF-8\"") from None


def sniff_delimiter(text: str) -> str:
    """Comma, semicolon or tab: whichever the header line (outside quotes) has most of; a comma
    when it has none."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in text:
        if char == '"':
            quoted = not quoted
        elif not quoted and char in "\r\n":
            break
        elif not quoted and char in counts:
            counts[char] += 1
    best = max(counts, key=lambda c: counts[c])
    return best if counts[best] else ","


def csv_records(body: bytes) -> tuple[Iterator[list[str]], str, str]:
    """The records of a CSV file (cells may hold quoted newlines), its encoding and delimiter."""
    text, encoding = decode_text(body)
    delimiter = sniff_delimiter(text)
    return csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), encoding, delimiter


def _csv_rows(body: bytes, *, max_rows: int) -> list[dict[str, Any]]:
    text, _ = decode_text(body)
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=sniff_delimiter(text))
    header = reader.fieldnames or []
    unknown = [name for name in header if name not in CSV_COLUMNS]
    if not header or unknown:
        raise BadRequest(
            f"unknown CSV column(s): {', '.join(unknown)}" if unknown else "the CSV file has no header row",
            errors=[{"pointer": "#/0", "detail": f"columns: {', '.join(CSV_COLUMNS)}"}],
        )
    rows: list[dict[str, Any]] = []
    try:
        for record in reader:
            if len(rows) >= max_rows:
                raise _too_many(len(rows) + 1, max_rows)
            rows.append(_award_from_csv(record))
    except csv.Error as exc:
        raise BadRequest(f"the CSV file cannot be read at line {reader.line_num}: {exc}") from None
    if not rows:
        raise BadRequest("the file holds no awards")
    return rows


def _award_from_csv(record: dict[str | Any, Any]) -> dict[str, Any]:
    if None in record:  # more cells than columns
        return {"_invalid": "the row has more cells than the header has columns"}
    cell = {k: v.strip() for k, v in record.items() if isinstance(v, str) and v.strip()}
    award: dict[str, Any] = {}
    for key in ("achievement_id", "completion_date", "activity_start_date", "activity_end_date", "valid_until", "external_id", "credits_earned", "language"):
        if key in cell:
            award[key] = cell[key]
    recipient = {name: cell[f"recipient_{name}"] for name in ("email", "name", "did") if f"recipient_{name}" in cell}
    award["recipient"] = recipient
    if "grade" in cell or "result_description_id" in cell:
        award["result"] = {"value": cell.get("grade", "")}
        if "result_description_id" in cell:
            award["result"]["result_description_id"] = cell["result_description_id"]
    if "evidence_url" in cell or "evidence_narrative" in cell:
        evidence = {"url": cell.get("evidence_url"), "narrative": cell.get("evidence_narrative")}
        award["evidence"] = [{k: v for k, v in evidence.items() if v}]
    return award
