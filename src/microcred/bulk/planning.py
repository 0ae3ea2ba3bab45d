"""From a sheet and its column mapping to what each row will do: the award it asks for (the body
of a single award, as the API takes it), or the cells at fault, named as Excel names them
(``C7: not a date``). Then, knowing what the issuer awarded before, each row is an award, a
duplicate (of a credential, or of an earlier row), or an error: the dry run, before anything is
signed. The job awards the same payloads, so the dry run and the job agree."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import Any, Literal

from pydantic import ValidationError

from ..awards.schemas import AwardIn
from ..awards.service import dedup_key, request_hash
from ..problems import body_pointer
from .mapping import FIELDS
from .reading import Cell, Sheet, SourceRow, column_letter

__all__ = ["DateOrder", "Outcome", "RowPlan", "add_error", "as_date", "as_text", "classify", "missing_columns", "shape_rows"]

DateOrder = Literal["dmy", "mdy"]
Outcome = Literal["award", "duplicate", "error"]

_LABELS = {f.key: f.label for f in FIELDS}
_EXCEL_EPOCH = date(1899, 12, 30)  # serial 1 is 1900-01-01 (Excel counts a 29 February 1900 that never was)
_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_LOCAL = re.compile(r"^(\d{1,2})[-/.](\d{1,2})[-/.](\d{4})$")


@dataclass
class RowPlan:
    #: The row number the file shows.
    number: int
    #: What the row names, for people to recognise it (as written in the file).
    email: str = ""
    name: str = ""
    achievement: str = ""
    #: The award's body, as the API takes it (None when the row has errors).
    payload: dict[str, Any] | None = None
    errors: list[str] = field(default_factory=list)
    outcome: Outcome = "error"
    #: A duplicate's earlier award: the credential, or the earlier row of this file.
    credential_id: str | None = None
    earlier_row: int | None = None
    key: str = ""
    digest: str = ""
    #: The cell of the row's external id (or the row), to name in an error about it.
    external_ref: str = ""
    #: The award, validated (None when the row has errors).
    award: AwardIn | None = None
    #: field key -> the cell it was read from (``C7``)
    refs: dict[str, str] = field(default_factory=dict)


def as_text(cell: Cell) -> str:
    """A cell as text: numbers without a needless ``.0``, dates in ISO."""
    if cell is None:
        return ""
    if isinstance(cell, bool):
        return "TRUE" if cell else "FALSE"
    if isinstance(cell, float):
        return str(int(cell)) if cell.is_integer() else repr(cell)
    if isinstance(cell, datetime):
        return cell.date().isoformat() if cell.time() == time() else cell.isoformat()
    if isinstance(cell, (date, time)):
        return cell.isoformat()
    return str(cell).strip()


def as_date(cell: Cell, *, order: DateOrder) -> date | datetime:
    """A date cell, an Excel serial number, ISO text or day-month-year text (month-day-year when
    ``order`` says so). Raises ValueError saying what was found."""
    if isinstance(cell, datetime):
        return cell.date() if cell.time() == time() else cell
    if isinstance(cell, date):
        return cell
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        if 61 <= cell < 2958466:  # 1900-03-01 .. 9999-12-31
            return _EXCEL_EPOCH + timedelta(days=int(cell))
        raise ValueError("not a date")
    text = as_text(cell)
    try:
        if match := _ISO.match(text):
            return date(int(match[1]), int(match[2]), int(match[3]))
        if match := _LOCAL.match(text):
            first, second, year = int(match[1]), int(match[2]), int(match[3])
            day, month = (first, second) if order == "dmy" else (second, first)
            return date(year, month, day)
        if "T" in text:
            return datetime.fromisoformat(text)
    except ValueError:
        pass
    example = "28-06-2024" if order == "dmy" else "06/28/2024"
    raise ValueError(f"not a date ({text[:40]!r}; write {example} or 2024-06-28)")


def missing_columns(columns: Mapping[str, int], *, default_achievement: str | None) -> list[str]:
    """The fields every award needs that no column is mapped to."""
    missing = []
    if "email" not in columns and "did" not in columns:
        missing.append(_LABELS["email"])
    if "completion_date" not in columns:
        missing.append(_LABELS["completion_date"])
    if "achievement" not in columns and not default_achievement:
        missing.append(_LABELS["achievement"])
    return missing


# Where pydantic's complaint about an award body points, which field (so which column) it is.
_POINTER_FIELD = {
    "#/recipient/email": "email",
    "#/recipient/name": "name",
    "#/recipient/did": "did",
    "#/recipient": "email",
    "#/completion_date": "completion_date",
    "#/result/value": "grade",
    "#/result/result_description_id": "grade",
    "#/result": "grade",
    "#/external_id": "external_id",
    "#/credits_earned": "credits_earned",
    "#/valid_until": "valid_until",
    "#/achievement_id": "achievement",
}


def _shape(
    row: SourceRow,
    *,
    columns: Mapping[str, int],
    order: DateOrder,
    achievements: Mapping[str, tuple[str, str]],
    default_achievement: str | None,
) -> RowPlan:
    cells = row.cells

    def cell(key: str) -> Cell:
        index = columns.get(key)
        return cells[index] if index is not None and index < len(cells) else None

    def ref(key: str) -> str:
        index = columns.get(key)
        return f"{column_letter(index)}{row.number}" if index is not None else f"row {row.number}"

    plan = RowPlan(row.number, email=as_text(cell("email")), name=as_text(cell("name")), achievement=as_text(cell("achievement")))
    plan.refs = {key: ref(key) for key in columns}
    errors = plan.errors
    text = {key: as_text(cell(key)) for key in columns}
    for key, value in text.items():
        if value.startswith("="):  # a formula, read as its text and never calculated
            errors.append(f"{ref(key)}: a formula, not a value ({value[:60]}); type the value itself")
    award: dict[str, Any] = {"recipient": {}}
    if text.get("email"):
        award["recipient"]["email"] = text["email"]
    if text.get("name"):
        award["recipient"]["name"] = text["name"]
    if text.get("did"):
        award["recipient"]["did"] = text["did"]
    if not text.get("email") and not text.get("did"):
        errors.append(f"{ref('email' if 'email' in columns else 'did')}: empty; the learner's email is needed")

    code = text.get("achievement") or ""
    if not code and default_achievement:
        code = default_achievement
    if not code:
        errors.append(f"{ref('achievement')}: empty; the achievement's course code or id is needed")
    else:
        found = achievements.get(code) or achievements.get(code.casefold())
        if found is None:
            errors.append(f"{ref('achievement')}: no achievement has the course code or id {code!r}")
        elif found[1] == "retired":
            errors.append(f"{ref('achievement')}: the achievement {code!r} is retired: it awards no new credentials")
        elif found[1] != "published":
            errors.append(f"{ref('achievement')}: the achievement {code!r} is not published")
        else:
            award["achievement_id"] = found[0]

    for key in ("completion_date", "valid_until"):
        if key in columns and cell(key) not in (None, ""):
            try:
                award[key] = as_date(cell(key), order=order).isoformat()
            except ValueError as exc:
                errors.append(f"{ref(key)}: {exc}")
        elif key == "completion_date":
            errors.append(f"{ref(key)}: empty; the completion date is needed")
    if text.get("grade"):
        award["result"] = {"value": text["grade"]}
    if text.get("external_id"):
        award["external_id"] = text["external_id"]
    if text.get("credits_earned"):
        credits = cell("credits_earned")
        award["credits_earned"] = (
            credits if isinstance(credits, (int, float)) and not isinstance(credits, bool) else text["credits_earned"].replace(",", ".")
        )
    if text.get("evidence_url"):
        award["evidence"] = [{"url": text["evidence_url"]}]
    if errors:
        return plan
    try:
        data = AwardIn.model_validate(award)
    except ValidationError as exc:
        for error in exc.errors():
            add_error(plan, body_pointer(error["loc"]), str(error["msg"]).removeprefix("Value error, "))
        return plan
    plan.external_ref = ref("external_id")
    plan.award = data
    plan.payload = data.model_dump(mode="json", exclude_none=True)
    plan.key, plan.digest = dedup_key(data), request_hash(data)
    return plan


def add_error(plan: RowPlan, pointer: str, detail: str) -> None:
    """Record an error about a field of the award body (a JSON pointer such as
    ``#/completion_date``), named by the cell it came from; the row is then an error."""
    key = next((k for p, k in _POINTER_FIELD.items() if pointer == p or pointer.startswith(p + "/")), None)
    if key is None and pointer.startswith("#/evidence"):
        key = "evidence_url"
    where = plan.refs.get(key or "", f"row {plan.number}")
    message = f"{where}: {detail}"
    if message not in plan.errors:
        plan.errors.append(message)
    plan.payload, plan.award, plan.outcome = None, None, "error"


def shape_rows(
    sheet: Sheet,
    *,
    columns: Mapping[str, int],
    order: DateOrder,
    achievements: Mapping[str, tuple[str, str]],
    default_achievement: str | None = None,
) -> list[RowPlan]:
    """Every row's award, or its errors. ``achievements`` maps ids and course codes (also
    case-folded) to the achievement's id and status (published, draft, retired); only published
    ones are awarded."""
    return [
        _shape(row, columns=columns, order=order, achievements=achievements, default_achievement=default_achievement)
        for row in sheet.rows
    ]


def classify(
    plans: Sequence[RowPlan], *, awarded: Mapping[str, tuple[str, str]], awarded_external: Mapping[str, tuple[str, str]]
) -> None:
    """Set each row's outcome: a duplicate of a credential awarded before (``awarded``: dedup
    key -> (credential id, request hash); ``awarded_external`` likewise by external id) or of an
    earlier row, an error (also when an external id is reused for a different award), or an
    award. The same rules the job applies (``awards.service.award_many``)."""
    seen: dict[str, tuple[int, str]] = {}
    for plan in plans:
        if plan.payload is None:
            plan.outcome = "error"
            continue
        external = plan.payload.get("external_id")
        before = awarded.get(plan.key) or (awarded_external.get(external) if external else None)
        if before is not None:
            if before[1] == plan.digest:
                plan.outcome, plan.credential_id = "duplicate", before[0]
            else:
                plan.outcome = "error"
                plan.errors.append(f"{plan.external_ref}: the external id {external!r} was already used for a different award")
            continue
        if plan.key in seen:
            row, digest = seen[plan.key]
            if digest == plan.digest:
                plan.outcome, plan.earlier_row = "duplicate", row
            else:
                plan.outcome = "error"
                what = f"the external id {external!r}" if external else "the same learner, achievement and completion date"
                plan.errors.append(f"{plan.external_ref}: {what} as row {row}, with other details (grade, name...)")
            continue
        seen[plan.key] = (plan.number, plan.digest)
        plan.outcome = "award"
