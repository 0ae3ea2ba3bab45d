"""Endorsements this issuer gives (list for every role; issue and revoke for managers): signed
OB 3.0 EndorsementCredentials of another issuer of this service, or of one of its published
achievements. The same service calls as the endorsements API."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any

from fastapi import Depends, Form
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ..endorsements import service as endorsements
from ..endorsements.schemas import EndorsementIn
from ..problems import ProblemError
from ..status.service import list_signing
from ..web.deps import RuntimeDep, SessionDep
from .form_errors import FormErrors, attempt, from_problem, from_validation
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Viewer = Annotated[IssuerAccess, Depends(access("viewer"))]
Manager = Annotated[IssuerAccess, Depends(access("manager"))]

INPUTS = {
    "/subject_issuer_id": "subject_issuer_id",
    "/subject_achievement_id": "subject_achievement_id",
    "/name": "name",
    "/endorsement_comment": "endorsement_comment",
    "/valid_until": "valid_until",
}
LABELS = {
    "subject_issuer_id": "Issuer endorsed",
    "subject_achievement_id": "Achievement endorsed",
    "name": "Title",
    "endorsement_comment": "What you vouch for",
    "valid_until": "Valid until",
}
_EMPTY = {k: "" for k in LABELS}


async def _page(
    session: AsyncSession,
    acc: IssuerAccess,
    base_url: str,
    *,
    status: int = 200,
    errors: FormErrors | None = None,
    values: dict[str, str] | None = None,
    notice: str | None = None,
) -> Response:
    found = await endorsements.list_endorsements(session, principal=acc.principal, issuer_id=acc.issuer.id)
    listed = [endorsements.endorsement_out(e, base_url=base_url) for e in found]
    return console_page(
        acc, "console/endorsements/index.html", status=status, title="Endorsements",
        endorsements=listed, errors=errors or FormErrors(), values=values or _EMPTY, labels=LABELS, notice=notice,
    )


@router.get("/console/{issuer_id}/endorsements")
async def endorsement_list(acc: Viewer, session: SessionDep, runtime: RuntimeDep) -> Response:
    return await _page(session, acc, runtime.settings.base_url)


@router.post("/console/{issuer_id}/endorsements")
async def create_endorsement(
    acc: Manager,
    session: SessionDep,
    runtime: RuntimeDep,
    subject_issuer_id: Annotated[str, Form(max_length=64)] = "",
    subject_achievement_id: Annotated[str, Form(max_length=36)] = "",
    name: Annotated[str, Form(max_length=512)] = "",
    endorsement_comment: Annotated[str, Form(max_length=10_000)] = "",
    valid_until: Annotated[str, Form(max_length=20)] = "",
) -> Response:
    """Sign an endorsement; credentials the endorsed issuer awards from now on carry it."""
    values = {
        "subject_issuer_id": subject_issuer_id.strip(), "subject_achievement_id": subject_achievement_id.strip(),
        "name": name.strip(), "endorsement_comment": endorsement_comment.strip(), "valid_until": valid_until.strip(),
    }
    settings = runtime.settings
    errors = FormErrors()
    body: dict[str, Any] = {k: v for k, v in values.items() if v and k != "valid_until"}
    if values["valid_until"]:
        try:  # valid through the day given
            body["valid_until"] = datetime.combine(date.fromisoformat(values["valid_until"]) + timedelta(days=1), time(), UTC)
        except ValueError:
            errors.fields["valid_until"] = "Enter a date as YYYY-MM-DD."
    try:
        data = EndorsementIn.model_validate(body)
    except ValidationError as exc:
        for field, message in from_validation(exc, INPUTS).fields.items():
            errors.fields.setdefault(field, message)
    if errors:
        return await _page(session, acc, settings.base_url, status=422, errors=errors, values=values)
    try:
        async with attempt(session):
            made = await endorsements.create_endorsement(
                session,
                principal=acc.principal,
                signing=endorsements.EndorsementSigning(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses),
                issuer_id=acc.issuer.id,
                data=data,
                now=datetime.now(UTC),
            )
    except ProblemError as problem:
        if problem.status in (403,) and not problem.errors:
            raise
        return await _page(session, acc, settings.base_url, status=problem.status, errors=from_problem(problem, INPUTS), values=values)
    subject = made.subject_achievement_id or made.subject_issuer_id
    return await _page(session, acc, settings.base_url, status=201, notice=f"The endorsement of {subject} is signed.")


@router.post("/console/{issuer_id}/endorsements/{endorsement_id}/revoke")
async def revoke_endorsement(acc: Manager, session: SessionDep, runtime: RuntimeDep, endorsement_id: str) -> Response:
    """Revoke for good: new awards no longer carry it, and those that do report it revoked."""
    await endorsements.revoke_endorsement(
        session, principal=acc.principal, signing=list_signing(runtime), issuer_id=acc.issuer.id,
        endorsement_id=endorsement_id, now=datetime.now(UTC),
    )
    return await _page(session, acc, runtime.settings.base_url, notice="The endorsement is revoked.")
