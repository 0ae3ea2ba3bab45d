"""The console's bulk upload (issue 12, item 5): upload a CSV or XLSX file, choose its columns
(the last choice is remembered), see the dry run per row, submit, follow the job, download the
results; and an empty template per achievement. Every step calls ``microcred.bulk.service``."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.datastructures import UploadFile

from ..bulk import service as bulk
from ..bulk.mapping import FIELDS
from ..bulk.planning import as_text
from ..bulk.reading import column_letter
from ..config import Settings
from ..problems import BadRequest, ProblemError
from ..staff import service as staff_service
from ..staff.roles import role_allows
from ..web.deps import RuntimeDep, SessionDep
from .web import IssuerAccess, access, console_page, console_router, fragment, session_cookie_name

__all__ = ["may_upload", "router"]

router = console_router()

Awarder = Annotated[IssuerAccess, Depends(access("awarder"))]
_SHOWN_ROWS = 500
_OUTCOME_WORDS = {"award": "Will be awarded", "duplicate": "Already awarded", "error": "Error"}


def may_upload(sessions: async_sessionmaker[AsyncSession], settings: Settings) -> Callable[[str, dict[bytes, bytes]], Awaitable[bool]]:
    """Whether a request's staff session may upload for the issuer (awarder or above): then the
    body limit is the batch file's (``web.limits.BodyLimit``), not that of a form."""
    name = session_cookie_name(settings)

    async def check(issuer_id: str, headers: dict[bytes, bytes]) -> bool:
        pairs = (part.strip().partition("=") for part in headers.get(b"cookie", b"").decode("latin-1").split(";"))
        token = next((value for key, _, value in pairs if key == name), None)
        if not token:
            return False
        async with sessions() as session:  # read only: rolled back, the request itself notes the visit
            member = await staff_service.signed_in_member(session, session_token=token, now=datetime.now(UTC), idle_seconds=settings.staff_idle_seconds)
            found = await staff_service.role_for(session, member, issuer_id) if member is not None else None
        return found is not None and role_allows(found[1], "awarder")

    return check


def _base(acc: IssuerAccess) -> str:
    return f"/console/{acc.issuer.id}/bulk"


async def _upload_page(acc: IssuerAccess, session: SessionDep, *, error: str | None = None, status: int = 200) -> Response:
    achievements = await bulk.achievements_for(session, principal=acc.principal, issuer_id=acc.issuer.id)
    recent = await bulk.recent_uploads(session, principal=acc.principal, issuer_id=acc.issuer.id)
    return console_page(
        acc, "console/bulk/upload.html", status=status, title="Bulk upload", achievements=achievements, error=error, bulk_base=_base(acc),
        recent=recent,
        max_mb=bulk.MAX_UPLOAD_BYTES // (1024 * 1024),
    )


@router.get("/console/{issuer_id}/bulk")
async def upload_form(acc: Awarder, session: SessionDep) -> Response:
    return await _upload_page(acc, session)


@router.post("/console/{issuer_id}/bulk")
async def upload(acc: Awarder, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await request.form()
    try:
        file = form.get("file")
        if not isinstance(file, UploadFile) or not file.filename:
            return await _upload_page(acc, session, error="Choose a CSV or XLSX file to upload.", status=400)
        filename, body = file.filename, await file.read(bulk.MAX_UPLOAD_BYTES + 1)
    finally:
        await form.close()
    try:
        created = await bulk.start_upload(
            session, principal=acc.principal, issuer_id=acc.issuer.id, filename=filename, body=body,
            max_rows=runtime.settings.max_batch_rows, now=datetime.now(UTC),
        )
    except ProblemError as problem:
        if problem.status >= 500:
            raise
        return await _upload_page(acc, session, error=f"{filename}: {problem.detail}", status=problem.status)
    return RedirectResponse(f"{_base(acc)}/{created.id}/columns", status_code=303)


@router.get("/console/{issuer_id}/bulk/{upload_id}/columns")
async def columns_form(acc: Awarder, upload_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    found = await bulk.get_upload(session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id)
    if found.job_id is not None:
        return RedirectResponse(f"{_base(acc)}/{found.id}", status_code=303)
    sheet = bulk.sheet_of(found, max_rows=runtime.settings.max_batch_rows)
    first = sheet.rows[0].cells
    columns = [
        (index, f"{column_letter(index)}: {name or '(no name)'}", as_text(first[index]) if index < len(first) else "")
        for index, name in enumerate(sheet.header)
    ]
    achievements = await bulk.achievements_for(session, principal=acc.principal, issuer_id=acc.issuer.id)
    return console_page(
        acc, "console/bulk/columns.html", title="Choose the columns", upload=found, fields=FIELDS, columns=columns,
        achievements=[a for a in achievements if a.awardable], rows=len(sheet.rows), bulk_base=_base(acc),
    )


@router.post("/console/{issuer_id}/bulk/{upload_id}/columns")
async def choose_columns(acc: Awarder, upload_id: str, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await request.form()
    chosen: dict[str, int | None] = {}
    for field in FIELDS:
        value = form.get(f"column_{field.key}")
        if isinstance(value, str) and value.strip():
            if not value.strip().isdigit():
                raise BadRequest(f"the column for {field.label} is not a column number")
            chosen[field.key] = int(value)
        else:
            chosen[field.key] = None
    order = form.get("date_order")
    default = form.get("default_achievement")
    await bulk.choose_mapping(
        session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id, columns=chosen,
        date_order=order if isinstance(order, str) else "", default_achievement=default if isinstance(default, str) and default else None,
        max_rows=runtime.settings.max_batch_rows, now=datetime.now(UTC),
    )
    return RedirectResponse(f"{_base(acc)}/{upload_id}/dry-run", status_code=303)


@router.get("/console/{issuer_id}/bulk/{upload_id}/dry-run")
async def dry_run(
    acc: Awarder, upload_id: str, session: SessionDep, runtime: RuntimeDep,
    show: Annotated[Literal["all", "award", "duplicate", "error"] | None, Query()] = None,
) -> Response:
    """Per row: awarded, already awarded, or the cells at fault. A long file with errors opens on
    its errors (the table shows at most 500 rows)."""
    found = await bulk.get_upload(session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id)
    if found.job_id is not None:
        return RedirectResponse(f"{_base(acc)}/{upload_id}", status_code=303)
    plan = await bulk.dry_run(
        session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id, max_rows=runtime.settings.max_batch_rows,
        now=datetime.now(UTC),
    )
    if show is None:
        show = "error" if plan.counts["error"] and len(plan.rows) > _SHOWN_ROWS else "all"
    rows = [r for r in plan.rows if show == "all" or r.outcome == show]
    return console_page(
        acc, "console/bulk/dry_run.html", title="Dry run: what each row will do", plan=plan, rows=rows[:_SHOWN_ROWS], matching=len(rows),
        show=show, words=_OUTCOME_WORDS, bulk_base=_base(acc),
    )


@router.post("/console/{issuer_id}/bulk/{upload_id}/submit")
async def submit(acc: Awarder, upload_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    await bulk.submit_upload(
        session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id, max_rows=runtime.settings.max_batch_rows,
        now=datetime.now(UTC),
    )
    return RedirectResponse(f"{_base(acc)}/{upload_id}", status_code=303)


@router.get("/console/{issuer_id}/bulk/{upload_id}")
async def progress(acc: Awarder, upload_id: str, session: SessionDep) -> Response:
    if (await bulk.get_upload(session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id)).job_id is None:
        return RedirectResponse(f"{_base(acc)}/{upload_id}/dry-run", status_code=303)  # not submitted yet
    found, job = await bulk.progress(session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id)
    return console_page(acc, "console/bulk/progress.html", title=f"Awarding {found.filename}", upload=found, job=job, bulk_base=_base(acc))


@router.get("/console/{issuer_id}/bulk/{upload_id}/status")
async def progress_status(acc: Awarder, upload_id: str, session: SessionDep) -> Response:
    """The progress figures alone, for htmx to swap in every few seconds until the job is done."""
    found, job = await bulk.progress(session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id)
    return fragment("console/bulk/_status.html", upload=found, job=job, bulk_base=_base(acc), oob=True)


def _download(file: bulk.FileOut) -> Response:
    ascii_name = "".join(c if c.isascii() and (c.isalnum() or c in "-_.") else "_" for c in file.filename)
    return Response(
        file.content, media_type=file.media_type,
        headers={"Content-Disposition": f'attachment; filename="{ascii_name}"', "Cache-Control": "no-store", "X-Content-Type-Options": "nosniff"},
    )


@router.get("/console/{issuer_id}/bulk/{upload_id}/results.{format}")
async def results(acc: Awarder, upload_id: str, format: Literal["csv", "xlsx"], session: SessionDep, runtime: RuntimeDep) -> Response:
    return _download(
        await bulk.results_file(
            session, principal=acc.principal, issuer_id=acc.issuer.id, upload_id=upload_id, base_url=runtime.settings.base_url, format=format
        )
    )


@router.get("/console/{issuer_id}/bulk/templates/{achievement_id}.{format}")
async def template(acc: Awarder, achievement_id: str, format: Literal["csv", "xlsx"], session: SessionDep) -> Response:
    return _download(await bulk.template_file(session, principal=acc.principal, issuer_id=acc.issuer.id, achievement_id=achievement_id, format=format))
