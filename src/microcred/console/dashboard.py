"""An issuer's console home: what is happening (dashboard.service's figures), and the way to
each area (the navigation)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends
from fastapi.responses import Response

from ..dashboard.service import dashboard as figures
from ..timeline.service import actor_names
from ..web.deps import SessionDep
from .credentials import when
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()


@router.get("/console/{issuer_id}/")
async def dashboard(acc: Annotated[IssuerAccess, Depends(access("viewer"))], session: SessionDep) -> Response:
    d = await figures(session, principal=acc.principal, issuer_id=acc.issuer.id, now=datetime.now(UTC))
    actors = await actor_names(session, [e.actor for e in d.recent_audit])
    return console_page(acc, "console/dashboard/index.html", title=acc.issuer.name, d=d, actors=actors, when=when)
