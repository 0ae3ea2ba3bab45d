"""The console's issuer profile page: the profile (owners edit it; the issuers service keeps the
EU element the published achievements need), the DID document and keys, and key rotation
behind a confirmation that says what happens to the credentials already issued."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError

from ..i18n import LANGUAGE_NAMES
from ..issuers import service
from ..issuers.schemas import IssuerUpdate
from ..problems import UnprocessableContent
from ..web.deps import RuntimeDep, SessionDep
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Owner = Annotated[IssuerAccess, Depends(access("owner"))]

_FIELDS = (
    "name", "url", "email", "description", "image", "address_country", "address_country_code", "address_region", "linkedin_organization_id",
    "default_language",
)


def _values(issuer: Any) -> dict[str, str]:
    return {name: getattr(issuer, name) or "" for name in _FIELDS}


def _update(form: dict[str, str]) -> dict[str, Any]:
    """The profile fields of the form as an update: the whole address, and an emptied field removed."""
    given = {name: form.get(name, "").strip() for name in _FIELDS}
    address = {"country": given["address_country"], "country_code": given["address_country_code"].upper(), "region": given["address_region"]}
    body: dict[str, Any] = {name: given[name] or None for name in ("name", "url", "email", "description", "image", "linkedin_organization_id")}
    body["address"] = {k: v for k, v in address.items() if v} or None
    body["default_language"] = given["default_language"] or None  # absent: left as it is
    return body


def _field(loc: tuple[Any, ...] | list[Any]) -> str:
    parts = [str(p) for p in loc]
    return "address_" + parts[1] if parts[0] == "address" and len(parts) > 1 else parts[0]


async def _page(
    acc: IssuerAccess, session: SessionDep, runtime: RuntimeDep, *, values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None, problem: str | None = None, status: int = 200, notice: str | None = None,
) -> HTMLResponse:
    keys = await service.published_keys(session, principal=acc.principal, keystore=runtime.keystore, issuer_id=acc.issuer.id)
    document = await service.did_document(session, principal=acc.principal, keystore=runtime.keystore, issuer_id=acc.issuer.id)
    return console_page(
        acc,
        "console/profile/profile.html",
        title="Issuer profile",
        status=status,
        can_edit=acc.can("owner"),
        values=values if values is not None else _values(acc.issuer),
        errors=errors or {},
        problem=problem,
        notice=notice,
        keys=list(reversed(keys)),
        did_document=json.dumps(document, ensure_ascii=False, indent=2),
        did_url=f"{runtime.settings.base_url}/issuers/{acc.issuer.id}/did.json",
        profile_url=f"{runtime.settings.base_url}/issuers/{acc.issuer.id}/profile",
        languages=list(LANGUAGE_NAMES.items()),
    )


@router.get("/console/{issuer_id}/profile")
async def profile_page(acc: Viewer, session: SessionDep, runtime: RuntimeDep, request: Request) -> HTMLResponse:
    notice = {"saved": "The profile was saved.", "rotated": "The key was rotated."}.get(request.query_params.get("done", ""))
    return await _page(acc, session, runtime, notice=notice)


@router.post("/console/{issuer_id}/profile")
async def save_profile(acc: Owner, request: Request, session: SessionDep, runtime: RuntimeDep) -> Response:
    form = {k: v for k, v in (await request.form()).items() if isinstance(v, str)}
    values = {name: form.get(name, "") for name in _FIELDS}
    try:
        data = IssuerUpdate.model_validate(_update(form))
    except ValidationError as exc:
        errors: dict[str, str] = {}
        for error in exc.errors():
            errors.setdefault(_field(error["loc"]), str(error["msg"]).removeprefix("Value error, "))
        return await _page(acc, session, runtime, values=values, errors=errors, problem="Nothing was saved: correct the fields marked below.", status=422)
    if data.name is None:
        return await _page(acc, session, runtime, values=values, errors={"name": "The issuer needs a name."}, problem="Nothing was saved.", status=422)
    try:
        async with session.begin_nested():  # a refused change leaves the profile as it was
            await service.update_issuer(session, principal=acc.principal, issuer_id=acc.issuer.id, data=data, now=datetime.now(UTC))
    except UnprocessableContent as exc:
        await session.refresh(acc.issuer)
        errors = {_field(e["pointer"].removeprefix("#/").split("/")): e["detail"] for e in exc.errors if "pointer" in e}
        return await _page(acc, session, runtime, values=values, errors=errors, problem=f"Nothing was saved: {exc.detail}", status=422)
    return RedirectResponse(f"/console/{acc.issuer.id}/profile?done=saved", status_code=303)


@router.get("/console/{issuer_id}/profile/rotate-key")
async def confirm_rotation(acc: Owner, session: SessionDep, runtime: RuntimeDep) -> HTMLResponse:
    keys = await service.published_keys(session, principal=acc.principal, keystore=runtime.keystore, issuer_id=acc.issuer.id)
    return console_page(
        acc, "console/profile/rotate.html", title="Rotate the signing key?", current=acc.issuer.current_key_id, retired=sum(1 for k in keys if k.valid_until is not None)
    )


@router.post("/console/{issuer_id}/profile/rotate-key")
async def rotate_key(acc: Owner, session: SessionDep, runtime: RuntimeDep) -> Response:
    await service.rotate_key(session, principal=acc.principal, keystore=runtime.keystore, issuer_id=acc.issuer.id)
    return RedirectResponse(f"/console/{acc.issuer.id}/profile?done=rotated", status_code=303)
