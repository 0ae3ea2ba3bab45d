"""The console's branding page: the issuer's logo (uploaded, checked and stored by the service)
and its colours (checked for WCAG AA contrast), which its credential pages and PDFs show."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import UploadFile

from ..issuers.brand import save_branding
from ..issuers.branding import MAX_LOGO_BYTES, BrandingError, Logo, Palette, check_logo, palette
from ..public.assets import logo_url
from ..web.deps import RuntimeDep, SessionDep
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Owner = Annotated[IssuerAccess, Depends(access("owner"))]

DEFAULT_BRAND = "#19487a"
DEFAULT_ACCENT = "#0b57d0"


def _page(acc: IssuerAccess, base_url: str, *, values: dict[str, str] | None = None, errors: dict[str, str] | None = None,
          notices: list[str] | None = None, status: int = 200) -> HTMLResponse:
    issuer = acc.issuer
    return console_page(
        acc,
        "console/branding/branding.html",
        title="Branding",
        status=status,
        can_edit=acc.can("owner"),
        values=values or {"brand": issuer.brand_colour or DEFAULT_BRAND, "accent": issuer.accent_colour or DEFAULT_ACCENT},
        errors=errors or {},
        notices=notices or [],
        logo=logo_url(issuer, base_url),
        max_kb=MAX_LOGO_BYTES // 1024,
    )


@router.get("/console/{issuer_id}/branding")
async def branding_page(acc: Viewer, runtime: RuntimeDep, request: Request) -> HTMLResponse:
    saved = request.query_params.get("done") == "saved"
    return _page(acc, runtime.settings.base_url, notices=["The branding was saved."] if saved else [])


@router.post("/console/{issuer_id}/branding")
async def save(acc: Owner, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = await request.form()
    try:
        values = {name: str(form.get(name) or "").strip() for name in ("brand", "accent")}
        flags = {name: form.get(name) == "yes" for name in ("default_colours", "remove_logo")}
        upload = form.get("logo")
        content = await upload.read(MAX_LOGO_BYTES + 1) if isinstance(upload, UploadFile) and upload.filename else None
    finally:
        await form.close()  # the upload, spooled to disk
    errors: dict[str, str] = {}
    logo: Logo | None = None
    if content is not None:
        try:
            logo = check_logo(content)
        except BrandingError as exc:
            errors["logo"] = str(exc)
    colours: Palette | None = None
    notes: list[str] = []
    if not flags["default_colours"]:
        try:
            colours, notes = palette(values["brand"], values["accent"])
        except BrandingError as exc:
            field, _, message = str(exc).partition(": ")
            errors[field] = message
    if errors:
        return _page(acc, runtime.settings.base_url, values=values, errors=errors, status=422)
    await save_branding(
        session, principal=acc.principal, issuer_id=acc.issuer.id, logo=logo, remove_logo=flags["remove_logo"],
        colours=colours, now=datetime.now(UTC),
    )
    if notes:  # saved, with an adjustment the owner should know about
        return _page(acc, runtime.settings.base_url, notices=["The branding was saved.", *notes])
    return RedirectResponse(f"/console/{acc.issuer.id}/branding?done=saved", status_code=303)
