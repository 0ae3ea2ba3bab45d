"""Use cases of an issuer's branding: save its logo and colours (checked by :mod:`.branding`)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..db.models import Issuer
from ..events import Event, record
from .branding import Logo, Palette
from .service import get_issuer

__all__ = ["save_branding"]


async def save_branding(
    session: AsyncSession, *, principal: Principal, issuer_id: str, logo: Logo | None, remove_logo: bool, colours: Palette | None, now: datetime
) -> Issuer:
    """Store a new logo (or remove it) and the colours (None: back to the service's own)."""
    principal.require(issuer_id, "manage")
    issuer = await get_issuer(session, principal=principal, issuer_id=issuer_id, for_update=True)
    changed = []
    if logo is not None:
        issuer.logo, issuer.logo_media_type, issuer.logo_digest = logo.content, logo.media_type, logo.digest
        changed.append("logo")
    elif remove_logo and issuer.logo_digest is not None:
        issuer.logo = issuer.logo_media_type = issuer.logo_digest = None
        changed.append("logo")
    brand, accent = (colours.brand, colours.accent) if colours is not None else (None, None)
    if (brand, accent) != (issuer.brand_colour, issuer.accent_colour):
        issuer.brand_colour, issuer.accent_colour = brand, accent
        changed.append("colours")
    issuer.updated_at = now
    await session.flush()
    if changed:
        await record(session, Event("issuer.branding_updated", issuer.id, principal.client_id, issuer.id, now, {"fields": changed}))
    return issuer
