"""Bulk awarding from a spreadsheet, in the steps the staff console walks through: upload (the
file is kept), column mapping (remembered per issuer), dry run (what each row will do, before
anything is signed), submit (the bulk job every API batch becomes too), results file.

The job is the existing one (``jobs.service.submit_rows``) and awards through
``awards.service.award_many``: a row is awarded once whatever is retried, because each payload
carries its external id, or else has the natural key (achievement, learner, completion date)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, get_args

from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements.repository import AchievementRepository, PublishedVersion
from ..auth.principal import Principal
from ..awards.document import credential_document, credential_url
from ..awards.repository import CredentialRepository
from ..db.base import new_id
from ..db.models import BulkMapping, BulkUpload, Issuer, Job
from ..issuers.service import get_issuer, profile
from ..jobs.repository import JobRepository
from ..jobs.service import submit_rows
from ..problems import BadRequest, Conflict, NotFound, PayloadTooLarge, ProblemError
from .export import MEDIA_TYPES, SheetFormat, write_csv, write_xlsx
from .mapping import FIELDS, resolve
from .planning import DateOrder, RowPlan, add_error, classify, missing_columns, shape_rows
from .reading import Sheet, read_sheet
from .repository import BulkRepository

__all__ = [
    "AchievementChoice",
    "DryRun",
    "FileOut",
    "KEEP_UNSUBMITTED",
    "MAX_UPLOAD_BYTES",
    "achievements_for",
    "choose_mapping",
    "dry_run",
    "get_upload",
    "progress",
    "recent_uploads",
    "results_file",
    "sheet_of",
    "start_upload",
    "submit_upload",
    "template_file",
]

#: The largest file the console takes (100,000 rows of a few columns fit well inside).
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
#: How long a file uploaded but never submitted is kept.
KEEP_UNSUBMITTED = timedelta(days=7)
_FIELD_KEYS = {f.key for f in FIELDS}
_MONTH_FIRST = frozenset({"US", "PH", "FM", "MH", "PW"})  # countries that write month/day/year


@dataclass(frozen=True)
class DryRun:
    upload: BulkUpload
    sheet: Sheet
    #: Fields every award needs that no column is mapped to: nothing can be awarded until set.
    missing: list[str]
    rows: list[RowPlan]
    counts: dict[str, int]


@dataclass(frozen=True)
class FileOut:
    filename: str
    media_type: str
    content: bytes


def _date_order(issuer: Issuer) -> DateOrder:
    return "mdy" if (issuer.address_country_code or "").upper() in _MONTH_FIRST else "dmy"


def sheet_of(upload: BulkUpload, *, max_rows: int) -> Sheet:
    return read_sheet(upload.content, filename=upload.filename, max_rows=max_rows)


async def start_upload(
    session: AsyncSession, *, principal: Principal, issuer_id: str, filename: str, body: bytes, max_rows: int, now: datetime
) -> BulkUpload:
    """Keep an uploaded file, with the column mapping guessed (or remembered) for it."""
    principal.require(issuer_id, "award")
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    if len(body) > MAX_UPLOAD_BYTES:
        raise PayloadTooLarge(f"the file is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB; split it")
    sheet = read_sheet(body, filename=filename, max_rows=max_rows)
    repository = BulkRepository(session)
    await repository.forget_unsubmitted(issuer_id, before=now - KEEP_UNSUBMITTED)
    remembered = await repository.mapping(issuer_id)
    upload = BulkUpload(
        id=new_id(),
        issuer_id=issuer_id,
        filename=(filename or f"upload.{sheet.format}")[-255:],
        source_format=sheet.format,
        content=body,
        csv_delimiter=sheet.delimiter,
        mapping=resolve(sheet.header, remembered.columns if remembered else None),
        date_order=remembered.date_order if remembered else _date_order(issuer),
        created_by=principal.client_id[:64],
        created_at=now,
    )
    await repository.add(upload)
    return upload


async def recent_uploads(session: AsyncSession, *, principal: Principal, issuer_id: str, limit: int = 10) -> Sequence[tuple[BulkUpload, Job | None]]:
    """The issuer's latest files, to come back to a dry run or a job's progress and results."""
    principal.require(issuer_id, "award")
    return await BulkRepository(session).recent(issuer_id, limit=limit)


async def get_upload(session: AsyncSession, *, principal: Principal, issuer_id: str, upload_id: str, for_update: bool = False) -> BulkUpload:
    principal.require(issuer_id, "award")
    upload = await BulkRepository(session).upload(issuer_id, upload_id, for_update=for_update)
    if upload is None:
        raise NotFound(f"no upload {upload_id!r}")
    return upload


async def choose_mapping(
    session: AsyncSession,
    *,
    principal: Principal,
    issuer_id: str,
    upload_id: str,
    columns: Mapping[str, int | None],
    date_order: str,
    default_achievement: str | None,
    max_rows: int,
    now: datetime,
) -> BulkUpload:
    """Set the upload's column mapping (field -> column index, None for none) and remember it,
    by column names, for the issuer's next file."""
    upload = await get_upload(session, principal=principal, issuer_id=issuer_id, upload_id=upload_id, for_update=True)
    if upload.job_id is not None:
        raise BadRequest("this file was submitted already; upload it again to change its columns")
    if date_order not in get_args(DateOrder):
        raise BadRequest("the date order is dmy (day-month-year) or mdy (month/day/year)")
    header = sheet_of(upload, max_rows=max_rows).header
    chosen: dict[str, int] = {}
    for key, index in columns.items():
        if key not in _FIELD_KEYS:
            raise BadRequest(f"no field {key!r}")
        if index is None:
            continue
        if not 0 <= index < len(header):
            raise BadRequest(f"the file has no column {index + 1}")
        if index in chosen.values():
            raise BadRequest(f"column {header[index] or index + 1!r} is chosen for two fields")
        chosen[key] = index
    upload.mapping = chosen
    upload.date_order = date_order
    upload.default_achievement = default_achievement or None
    await BulkRepository(session).remember(
        BulkMapping(issuer_id=issuer_id, columns={k: header[i] for k, i in chosen.items()}, date_order=date_order, updated_at=now)
    )
    await session.flush()
    return upload


async def _achievements(session: AsyncSession, issuer_id: str) -> tuple[dict[str, tuple[str, str]], dict[str, str]]:
    """(id or course code, also case-folded -> (id, status)), (id -> course code, else id)."""
    lookup: dict[str, tuple[str, str]] = {}
    names: dict[str, str] = {}
    for achievement in await AchievementRepository(session).for_issuer(issuer_id):
        # As the award path sees it: its latest published version is awarded, unless retired.
        status = "retired" if achievement.status == "retired" else "published" if achievement.version > 0 else "draft"
        code = achievement.definition.get("human_code")
        lookup[achievement.id] = (achievement.id, status)
        names[achievement.id] = code if isinstance(code, str) and code else achievement.id
        if isinstance(code, str) and code:
            lookup.setdefault(code, (achievement.id, status))
            lookup.setdefault(code.casefold(), (achievement.id, status))
    return lookup, names


@dataclass(frozen=True)
class AchievementChoice:
    id: str
    code: str | None
    name: str
    awardable: bool


async def achievements_for(session: AsyncSession, *, principal: Principal, issuer_id: str) -> list[AchievementChoice]:
    """The issuer's achievements, for a template download or the achievement of a whole file."""
    principal.require(issuer_id, "award")
    choices = []
    for achievement in await AchievementRepository(session).for_issuer(issuer_id):
        code = achievement.definition.get("human_code")
        choices.append(
            AchievementChoice(
                achievement.id, code if isinstance(code, str) else None, str(achievement.definition.get("name") or achievement.id),
                achievement.version > 0 and achievement.status != "retired",
            )
        )
    return choices


async def _check_documents(session: AsyncSession, issuer_id: str, rows: list[RowPlan], *, now: datetime) -> None:
    """Build (not sign) each award's credential, as the job will: what only the achievement can
    say (a grade for a course that describes none, a completion date in the future...) is found
    now, named by its cell."""
    issuer = await session.get(Issuer, issuer_id)
    if issuer is None:
        raise NotFound(f"no issuer {issuer_id!r}")
    issuer_profile = profile(issuer)
    repository = AchievementRepository(session)
    versions: dict[str, PublishedVersion | None] = {}
    for row in rows:
        if row.award is None:
            continue
        achievement_id = row.award.achievement_id
        if achievement_id not in versions:
            versions[achievement_id] = await repository.current_version(issuer_id, achievement_id)
        version = versions[achievement_id]
        if version is None or version.retired:
            add_error(row, "#/achievement_id", "retired: no new awards" if version else "not a published achievement of this issuer")
            continue
        try:
            credential_document(
                row.award, credential_id="dry-run", base_url="https://dry-run.invalid", issuer_profile=issuer_profile,
                achievement=version.document, hash_email=False, now=now,
            )
        except ProblemError as problem:
            for error in problem.errors or [{"pointer": "#", "detail": problem.detail}]:
                add_error(row, error.get("pointer", "#"), error.get("detail", problem.detail))


async def _plan(session: AsyncSession, upload: BulkUpload, *, max_rows: int, now: datetime) -> DryRun:
    sheet = sheet_of(upload, max_rows=max_rows)
    columns = {k: int(v) for k, v in upload.mapping.items()}
    missing = missing_columns(columns, default_achievement=upload.default_achievement)
    lookup, _ = await _achievements(session, upload.issuer_id)
    rows = shape_rows(
        sheet, columns=columns, order=upload.date_order, achievements=lookup, default_achievement=upload.default_achievement  # type: ignore[arg-type]
    )
    await _check_documents(session, upload.issuer_id, rows, now=now)
    repository = CredentialRepository(session)
    keys = [r.key for r in rows if r.payload is not None]
    externals = sorted({str(r.payload["external_id"]) for r in rows if r.payload is not None and "external_id" in r.payload})
    classify(
        rows,
        awarded=await repository.by_dedup_keys(upload.issuer_id, keys),
        awarded_external=await repository.by_external_ids(upload.issuer_id, externals),
    )
    counts = Counter(r.outcome for r in rows)
    return DryRun(upload, sheet, missing, rows, {k: counts.get(k, 0) for k in ("award", "duplicate", "error")})


async def dry_run(
    session: AsyncSession, *, principal: Principal, issuer_id: str, upload_id: str, max_rows: int, now: datetime
) -> DryRun:
    """What each row would do if submitted now; nothing is signed or stored."""
    upload = await get_upload(session, principal=principal, issuer_id=issuer_id, upload_id=upload_id)
    if upload.job_id is not None:
        raise Conflict("this file was submitted already: its results say what became of each row")
    return await _plan(session, upload, max_rows=max_rows, now=now)


async def submit_upload(session: AsyncSession, *, principal: Principal, issuer_id: str, upload_id: str, max_rows: int, now: datetime) -> Job:
    """Make the upload a bulk job (once: submitting again gives the same job). Rows in error go
    in failed with the dry run's reasons, so the results file has every row."""
    upload = await get_upload(session, principal=principal, issuer_id=issuer_id, upload_id=upload_id, for_update=True)
    if upload.job_id is not None and (job := await JobRepository(session).get(upload.job_id)) is not None:
        return job
    plan = await _plan(session, upload, max_rows=max_rows, now=now)
    if plan.missing:
        raise BadRequest(f"choose a column for: {', '.join(plan.missing)}")
    payloads: list[dict[str, Any]] = []
    for row in plan.rows:
        if row.payload is None or row.outcome == "error":
            # The job fails such a row with its reason (awards.service.award_many); the rest
            # only helps the results file say which row it was.
            payloads.append({"_invalid": "; ".join(row.errors), "email": row.email, "name": row.name, "achievement": row.achievement})
        else:
            payloads.append(row.payload)
    job = await submit_rows(session, principal=principal, issuer_id=issuer_id, source_format=upload.source_format, payloads=payloads, now=now)
    upload.job_id = job.id
    upload.row_numbers = [row.number for row in plan.rows]
    upload.content = b""
    await session.flush()
    return job


async def progress(session: AsyncSession, *, principal: Principal, issuer_id: str, upload_id: str) -> tuple[BulkUpload, Job]:
    upload = await get_upload(session, principal=principal, issuer_id=issuer_id, upload_id=upload_id)
    job = await JobRepository(session).get(upload.job_id) if upload.job_id else None
    if job is None:
        raise NotFound("this file has not been submitted")
    return upload, job


_RESULT_HEADER = ("Row", "Email", "Name", "Achievement", "Outcome", "Credential URL", "Error")
_OUTCOMES = {"awarded": "awarded", "duplicate": "already awarded", "failed": "not awarded", "pending": "waiting"}


def _error_text(error: dict[str, Any] | None) -> str:
    if not error:
        return ""
    detail = str(error.get("detail", ""))
    pointers = [f"{e.get('pointer', '')}: {e.get('detail', '')}" for e in error.get("errors") or [] if e.get("pointer") not in (None, "#")]
    return detail if not pointers or detail in pointers else f"{detail} ({'; '.join(pointers)})"


async def results_file(
    session: AsyncSession, *, principal: Principal, issuer_id: str, upload_id: str, base_url: str, format: SheetFormat
) -> FileOut:
    """Each row of the file, in its order: what became of it, its credential's URL or the error."""
    upload, job = await progress(session, principal=principal, issuer_id=issuer_id, upload_id=upload_id)
    _, names = await _achievements(session, issuer_id)
    numbers = upload.row_numbers or []
    repository = JobRepository(session)
    lines: list[list[str | int | None]] = []
    after = 0
    while batch := await repository.rows(job.id, after=after, limit=1000, status=None):
        for row in batch:
            payload = row.payload
            recipient: dict[str, Any] = payload["recipient"] if isinstance(payload.get("recipient"), dict) else {}
            achievement = payload.get("achievement_id")
            lines.append(
                [
                    numbers[row.row_number - 1] if row.row_number <= len(numbers) else row.row_number,
                    str(recipient.get("email") or payload.get("email") or ""),
                    str(recipient.get("name") or payload.get("name") or ""),
                    names.get(achievement, achievement) if isinstance(achievement, str) else str(payload.get("achievement") or ""),
                    _OUTCOMES.get(row.status, row.status),
                    credential_url(base_url, row.credential_id) if row.credential_id and row.status != "failed" else "",
                    _error_text(row.error),
                ]
            )
        after = batch[-1].row_number
    stem = upload.filename.rsplit(".", 1)[0] or "upload"
    if format == "xlsx":
        content = write_xlsx(_RESULT_HEADER, lines, title="Results")
    else:
        content = write_csv(_RESULT_HEADER, lines, delimiter=";" if upload.csv_delimiter == ";" else ",")
    return FileOut(f"{stem}-results.{format}", MEDIA_TYPES[format], content)


_TEMPLATE_HEADER = ("email", "name", "achievement", "completion_date", "grade", "external_id")


async def template_file(session: AsyncSession, *, principal: Principal, issuer_id: str, achievement_id: str, format: SheetFormat) -> FileOut:
    """An empty file for one achievement: the columns the mapping step recognises, and (XLSX)
    a second sheet saying how to fill them in."""
    principal.require(issuer_id, "award")
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id)
    achievement = await AchievementRepository(session).get(issuer_id, achievement_id)
    if achievement is None:
        raise NotFound(f"no achievement {achievement_id!r}")
    code = achievement.definition.get("human_code") or achievement.id
    name = str(achievement.definition.get("name") or code)
    example = "28-06-2024" if _date_order(issuer) == "dmy" else "06/28/2024"
    safe = "".join(c if c.isalnum() or c in "-_" else "-" for c in str(code))[:60]
    if format == "csv":
        return FileOut(f"{safe}-template.csv", MEDIA_TYPES["csv"], write_csv(_TEMPLATE_HEADER, []))
    notes = (
        (f"One row per learner who completed {name}.",),
        ("email", "the learner's email address (needed)"),
        ("name", "the learner's name as it goes on the credential"),
        ("achievement", f"{code} (the course code of {name}, or its id)"),
        ("completion_date", f"the day the learner completed it: {example} or 2024-06-28, or an Excel date"),
        ("grade", "the grade, if the course gives one"),
        ("external_id", "your own reference for this completion (optional; a row sent twice is awarded once)"),
    )
    content = write_xlsx(_TEMPLATE_HEADER, [], title="Awards", notes=notes, notes_title="How to fill in")
    return FileOut(f"{safe}-template.xlsx", MEDIA_TYPES["xlsx"], content)
