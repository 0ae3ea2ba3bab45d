"""The console's name-correction requests: what learners asked from their backpack, for the
issuer's staff (role awarder) to approve (the credential is corrected and reissued, as the staff
member) or decline."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Query
from fastapi.responses import RedirectResponse, Response

from ..awards import service as awards
from ..awards.document import credential_url
from ..backpack import corrections
from ..status.service import list_signing
from ..web.deps import RuntimeDep, SessionDep
from .credentials import when
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Awarder = Annotated[IssuerAccess, Depends(access("awarder"))]


@router.get("/console/{issuer_id}/corrections")
async def correction_requests(acc: Awarder, session: SessionDep, runtime: RuntimeDep, done: Annotated[str | None, Query(max_length=20)] = None) -> Response:
    waiting = await corrections.pending(session, acc.issuer.id)
    return console_page(
        acc, "console/corrections/list.html", title="Name correction requests", waiting=waiting, done=done, when=when,
        public_url=lambda credential_id: credential_url(runtime.settings.base_url, credential_id),
    )


@router.post("/console/{issuer_id}/corrections/{correction_id}/approve")
async def approve(acc: Awarder, correction_id: str, session: SessionDep, runtime: RuntimeDep) -> Response:
    signing = awards.Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses)
    await corrections.approve(
        session, principal=acc.principal, signing=signing, list_signing=list_signing(runtime), issuer_id=acc.issuer.id,
        correction_id=correction_id, now=datetime.now(UTC),
    )
    return RedirectResponse(f"/console/{acc.issuer.id}/corrections?done=approved", status_code=303)


@router.post("/console/{issuer_id}/corrections/{correction_id}/decline")
async def decline(acc: Awarder, correction_id: str, session: SessionDep) -> Response:
    await corrections.decline(session, principal=acc.principal, issuer_id=acc.issuer.id, correction_id=correction_id, now=datetime.now(UTC))
    return RedirectResponse(f"/console/{acc.issuer.id}/corrections?done=declined", status_code=303)
