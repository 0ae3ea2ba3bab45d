"""Verification for anyone: an API for machines and a page for people. No API key."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Depends, Query, Request
from starlette.datastructures import UploadFile
from fastapi.responses import HTMLResponse
from starlette.background import BackgroundTask

from ..credentials import CredentialError, VerificationReport
from ..fetch import FetchError
from ..i18n import ngettext
from ..problems import BadRequest, UnprocessableContent
from ..public.page import render_verify_page
from ..runtime import Runtime
from ..usage.service import counted
from ..web.deps import RuntimeDep, check_url
from ..web.openapi import PROBLEMS, RATE_LIMITED
from .service import Verification

router = APIRouter(tags=["verify"], responses=PROBLEMS, dependencies=[Depends(check_url)])

_REPORT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "The verifier's report: verdict (valid, expired, revoked, suspended, not_yet_valid, tampered, "
        "unknown_key, malformed), a summary (issuer, learner, achievement) and every check",
        "content": {"application/json": {"schema": {"type": "object"}}},
    }
}
_BODY = {
    "requestBody": {
        "description": "The credential: JSON-LD, a VC-JWT, a baked PNG or SVG, our PDF certificate, or any of them as the "
        "multipart field `file`",
        "content": {
            t: {"schema": {"type": "string", "format": "binary"}}
            for t in ("application/ld+json", "application/vc+jwt", "image/png", "image/svg+xml", "application/pdf", "multipart/form-data")
        },
    }
}


def _verification(runtime: RuntimeDep) -> Verification:
    return Verification(runtime, runtime.fetcher)


VerificationDep = Annotated[Verification, Depends(_verification)]


async def _uploaded(request: Request) -> bytes:
    """The body itself, or the ``file`` field of a multipart form."""
    if request.headers.get("content-type", "").startswith("multipart/form-data"):
        async with request.form(max_files=1, max_fields=10) as form:
            upload = form.get("file")
            if isinstance(upload, str):
                return upload.encode()
            if not isinstance(upload, UploadFile):
                raise BadRequest("send the credential as the multipart field 'file'", errors=[{"pointer": "#/file", "detail": "missing"}])
            return await upload.read()
    return await request.body()


async def _report(verification: Verification, *, url: str | None = None, data: bytes | None = None) -> VerificationReport:
    try:
        if url is not None:
            return await verification.of_url(url)
        assert data is not None
        return await verification.of_bytes(data)
    except FetchError as exc:
        raise UnprocessableContent(f"could not fetch the credential: {exc}", errors=[{"parameter": "url", "detail": str(exc), "reason": exc.reason}]) from exc
    except CredentialError as exc:
        raise UnprocessableContent(f"not a credential we can read: {exc.message}", errors=[{"pointer": "#", "detail": exc.message}]) from exc


def _counted(request: Request, runtime: Runtime, report: VerificationReport) -> BackgroundTask | None:
    """The count of a verification of one of our own credentials (usage.service), run after the answer."""
    found = report.summary.get("id")
    prefix = f"{runtime.settings.base_url}/credentials/"
    if not isinstance(found, str) or not found.startswith(prefix) or "/" in found.removeprefix(prefix):
        return None
    return counted(request, runtime.sessions, found.removeprefix(prefix), "verification")


def _count(background: BackgroundTasks, request: Request, runtime: Runtime, report: VerificationReport) -> None:
    if (task := _counted(request, runtime, report)) is not None:
        background.add_task(task)


@router.post("/api/v1/verify", responses=_REPORT | RATE_LIMITED, openapi_extra=_BODY)
async def verify_file(request: Request, verification: VerificationDep, background: BackgroundTasks) -> dict[str, Any]:
    """Verify a credential sent in the body (or as the multipart field `file`)."""
    report = await _report(verification, data=await _uploaded(request))
    _count(background, request, verification.runtime, report)
    return report.to_dict()


@router.get("/api/v1/verify", responses=_REPORT | RATE_LIMITED)
async def verify_url(request: Request, verification: VerificationDep, background: BackgroundTasks, url: Annotated[str, Query(min_length=1, max_length=2048, description="an https URL of a credential")]) -> dict[str, Any]:
    """Fetch a credential URL (https only; private, loopback and link-local addresses refused;
    size, time and redirects bounded) and verify what it answers."""
    report = await _report(verification, url=url)
    _count(background, request, verification.runtime, report)
    return report.to_dict()


# The page is for people, not part of the API: kept out of openapi.yaml. Its errors are shown on
# the page (with the matching status code) rather than as problem+json.
@router.get("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page(request: Request, verification: VerificationDep, url: Annotated[str | None, Query(max_length=2048)] = None) -> HTMLResponse:
    """The verify page: paste a credential URL or drop a file, and read the verdict and each step."""
    return await _page(request, verification, url=url or None)


@router.post("/verify", response_class=HTMLResponse, include_in_schema=False)
async def verify_page_upload(request: Request, verification: VerificationDep) -> HTMLResponse:
    return await _page(request, verification, data=await _uploaded(request))


async def _page(request: Request, verification: VerificationDep, *, url: str | None = None, data: bytes | None = None) -> HTMLResponse:
    action = str(request.url_for("verify_page_upload").path)
    if url is None and data is None:
        return HTMLResponse(render_verify_page(None, None, action))
    try:
        report = await _report(verification, url=url, data=data)
    except (BadRequest, UnprocessableContent) as problem:
        return HTMLResponse(render_verify_page(None, problem.detail, action), status_code=problem.status)
    return HTMLResponse(render_verify_page(report.to_dict(), None, action), background=_counted(request, verification.runtime, report))


def too_many_verifications(wait: int) -> HTMLResponse:
    """The verify page for a person over the verification limit (web/rate_limits.py counts)."""
    message = ngettext(
        "You have checked many credentials in a short time. Try again in %(seconds)d second.",
        "You have checked many credentials in a short time. Try again in %(seconds)d seconds.",
        wait,
    ) % {"seconds": wait}
    return HTMLResponse(render_verify_page(None, message, "/verify"), status_code=429)
