from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response, status

from ..web.deps import PrincipalDep, RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from .parsing import CSV_COLUMNS
from .schemas import JobOut

router = APIRouter(tags=["bulk awards"], responses=PROBLEMS, route_class=StrictJsonRoute)

_BATCH_BODY = {
    "required": True,
    "content": {
        "text/csv": {"schema": {"type": "string"}, "example": ",".join(CSV_COLUMNS[:5]) + "\n"},
        "application/json": {"schema": {"type": "array", "items": {"$ref": "#/components/schemas/AwardIn"}}},
    },
}


@router.post(
    "/api/v1/issuers/{issuer_id}/awards/batch",
    status_code=status.HTTP_202_ACCEPTED,
    response_model=JobOut,
    openapi_extra={"requestBody": _BATCH_BODY},
)
async def submit_batch(issuer_id: str, request: Request, response: Response, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> JobOut:
    """Award many completions from a CSV file or a JSON list (up to 100,000 rows). Answers 202
    with a job; valid rows are awarded, invalid rows reported, and rows awarded before (by an
    earlier file or request) are not awarded twice."""
    job = await service.submit_job(
        session,
        principal=principal,
        issuer_id=issuer_id,
        body=await request.body(),
        content_type=request.headers.get("content-type", ""),
        max_rows=runtime.settings.max_batch_rows,
        now=datetime.now(UTC),
    )
    response.headers["Location"] = f"/api/v1/jobs/{job.id}"
    return await service.job_out(session, job, base_url=runtime.settings.base_url, rows_limit=0)


@router.get("/api/v1/jobs/{job_id}", response_model=JobOut)
async def get_job(
    job_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    rows_after: Annotated[int, Query(ge=0, le=2_147_483_647, description="show rows after this row number")] = 0,
    rows_limit: Annotated[int, Query(ge=0, le=1000)] = 100,
    row_status: Annotated[Literal["pending", "awarded", "duplicate", "incomplete", "failed"] | None, Query()] = None,
) -> JobOut:
    """Progress, and per row the credential or the error."""
    job = await service.get_job(session, principal=principal, job_id=job_id)
    return await service.job_out(
        session, job, base_url=runtime.settings.base_url, rows_after=rows_after, rows_limit=rows_limit, row_status=row_status
    )
