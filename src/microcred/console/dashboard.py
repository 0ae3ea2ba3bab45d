"""An issuer's console home: what is happening, and the way to each area."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.responses import Response

from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()


@router.get("/console/{issuer_id}/")
async def dashboard(acc: Annotated[IssuerAccess, Depends(access("viewer"))]) -> Response:
    return console_page(acc, "console/dashboard.html", title=acc.issuer.name)
