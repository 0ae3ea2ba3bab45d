"""Stored images, served from the service's own origin for a year (the URL is the content hash)."""

from __future__ import annotations

import re

from fastapi import APIRouter, Depends, Response

from ..problems import NotFound
from ..web.deps import SessionDep, check_url
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service

router = APIRouter(tags=["public"], responses=PROBLEMS, dependencies=[Depends(check_url)], route_class=StrictJsonRoute)

_DIGEST = re.compile(r"[0-9a-f]{64}")


@router.get("/images/{digest}", response_class=Response, responses={200: {"content": {"image/png": {}, "image/jpeg": {}, "image/svg+xml": {}}, "description": "The image"}})
async def stored_image(digest: str, session: SessionDep) -> Response:
    """An achievement's badge image, copied here when the achievement named it."""
    found = await service.stored(session, digest) if _DIGEST.fullmatch(digest) else None
    if found is None:
        raise NotFound("no such image")
    media_type, content = found
    headers = {
        "Cache-Control": "public, max-age=31536000, immutable",
        "X-Content-Type-Options": "nosniff",
        # an SVG opened on its own runs nothing and loads nothing
        "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; sandbox",
    }
    return Response(content, media_type=media_type, headers=headers)
