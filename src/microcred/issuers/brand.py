"""Use cases of an issuer's branding: save its logo and colours (checked by :mod:`.branding`)."""

from __future__ import annotations

import base64
import binascii
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..db.models import Issuer
from ..events import Event, record
from ..problems import UnprocessableContent, field_error
from ..public.assets import logo_url
from .branding import BrandingError, Logo, Palette, check_logo, palette
from .schemas import BrandingIn, BrandingOut
from .service import get_issuer

__all__ = ["branding_out", "save_branding", "save_branding_from_api"]


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


async def save_branding_from_api(
    session: AsyncSession, *, principal: Principal, issuer_id: str, data: BrandingIn, logo_given: bool, now: datetime
) -> tuple[Issuer, list[str]]:
    """The API's branding: the logo as a ``data:`` URL, checked as an upload is."""
    logo = _logo_from_data_url(data.logo) if data.logo is not None else None
    colours: Palette | None = None
    notes: list[str] = []
    if data.colours is not None:
        try:
            colours, notes = palette(data.colours.brand, data.colours.accent)
        except BrandingError as exc:
            field, _, why = str(exc).partition(": ")
            raise UnprocessableContent(str(exc), errors=[field_error(f"/colours/{field}", why)]) from None
    issuer = await save_branding(
        session, principal=principal, issuer_id=issuer_id, logo=logo, remove_logo=logo_given and data.logo is None, colours=colours, now=now
    )
    return issuer, notes


def _logo_from_data_url(value: str) -> Logo:
    head, comma, payload = value.partition(",")
    if not comma or not head.startswith("data:") or not head.endswith(";base64"):
        raise UnprocessableContent("the logo must be a data: URL in base64", errors=[field_error("/logo", "expected data:<type>;base64,<data>")])
    try:
        content = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise UnprocessableContent("the logo's base64 is not valid", errors=[field_error("/logo", "not valid base64")]) from None
    try:
        return check_logo(content)  # the type is read from the bytes, not from the data: URL's word
    except BrandingError as exc:
        raise UnprocessableContent(f"the logo was refused: {exc}", errors=[field_error("/logo", str(exc))]) from None


def branding_out(issuer: Issuer, base_url: str, notes: list[str] | None = None) -> BrandingOut:
    logo = logo_url(issuer, base_url)
    return BrandingOut(
        logo_url=logo, logo_media_type=issuer.logo_media_type if logo else None, brand_colour=issuer.brand_colour,
        accent_colour=issuer.accent_colour, notes=notes or [],
    )
