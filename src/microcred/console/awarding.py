"""The single-award form (awarder): one learner, one achievement, one completion; the credential
is signed by the same service call the API's ``POST .../awards`` makes. Bulk files are
:mod:`microcred.console.bulk`'s."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Depends, Form
from fastapi.responses import Response
from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ..achievements import service as achievements
from ..awards import service as awards
from ..awards.schemas import AwardIn
from ..problems import ProblemError
from ..web.deps import RuntimeDep, SessionDep
from .form_errors import FormErrors, attempt, from_problem, from_validation
from .web import IssuerAccess, access, console_page, console_router

__all__ = ["router"]

router = console_router()

Awarder = Annotated[IssuerAccess, Depends(access("awarder"))]
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")  # what a date input sends; the model checks the day exists

#: The API body's fields each input stands for (errors are filed under the input).
INPUTS = {
    "/recipient": "email",
    "/recipient/email": "email",
    "/recipient/name": "name",
    "/achievement_id": "achievement_id",
    "/completion_date": "completion_date",
    "/result": "grade",
    "/result/value": "grade",
    "/result/result_description_id": "grade",
}
LABELS = {
    "email": "Learner's email",
    "name": "Learner's name",
    "achievement_id": "Achievement",
    "completion_date": "Completion date",
    "grade": "Grade or result",
}


@dataclass
class AwardForm:
    email: str = ""
    name: str = ""
    achievement_id: str = ""
    completion_date: str = ""
    grade: str = ""
    errors: FormErrors = field(default_factory=FormErrors)

    def body(self) -> dict[str, Any]:
        """The API's award body for what was typed (empty inputs left out, so the model names them)."""
        recipient = {k: v for k, v in (("email", self.email), ("name", self.name)) if v}
        body: dict[str, Any] = {"achievement_id": self.achievement_id, "recipient": recipient, "completion_date": self.completion_date or None}
        if self.grade:
            body["result"] = {"value": self.grade}
        return body


async def _published(session: AsyncSession, acc: IssuerAccess) -> list[tuple[str, str]]:
    """The achievements one may award now: published ones, by name."""
    found = await achievements.list_achievements(session, principal=acc.principal, issuer_id=acc.issuer.id)
    chosen = [(a.id, str(a.definition.get("name") or a.id)) for a in found if a.status == "published"]
    return sorted(chosen, key=lambda pair: pair[1].casefold())


async def _form(session: AsyncSession, acc: IssuerAccess, form: AwardForm, *, status: int = 200) -> Response:
    return console_page(
        acc, "console/awarding/form.html", status=status, title="Award a credential",
        form=form, labels=LABELS, achievements=await _published(session, acc),
    )


@router.get("/console/{issuer_id}/award")
async def award_form(acc: Awarder, session: SessionDep) -> Response:
    return await _form(session, acc, AwardForm())


@router.post("/console/{issuer_id}/award")
async def award(
    acc: Awarder,
    session: SessionDep,
    runtime: RuntimeDep,
    email: Annotated[str, Form(max_length=320)] = "",
    name: Annotated[str, Form(max_length=512)] = "",
    achievement_id: Annotated[str, Form(max_length=36)] = "",
    completion_date: Annotated[str, Form(max_length=40)] = "",
    grade: Annotated[str, Form(max_length=100)] = "",
) -> Response:
    """Sign and store the credential; the answer links to its public page. The same learner,
    achievement and date again gives the credential awarded the first time."""
    form = AwardForm(email.strip(), name.strip(), achievement_id.strip(), completion_date.strip(), grade.strip())
    if not form.name:
        form.errors.fields["name"] = "Enter the learner's name as it should appear on the credential."
    if not form.email:
        form.errors.fields["email"] = "Enter the learner's email address."
    if not form.achievement_id:
        form.errors.fields["achievement_id"] = "Choose the achievement to award."
    if not _DATE.match(form.completion_date):
        form.errors.fields["completion_date"] = "Enter the day the learner completed the course, as YYYY-MM-DD."
    try:
        data = AwardIn.model_validate(form.body())
    except ValidationError as exc:
        for input_name, message in from_validation(exc, INPUTS).fields.items():
            form.errors.fields.setdefault(input_name, message)
        return await _form(session, acc, form, status=422)
    if form.errors:
        return await _form(session, acc, form, status=422)
    now = datetime.now(UTC)
    settings = runtime.settings
    try:
        async with attempt(session):
            result = await awards.award(
                session,
                principal=acc.principal,
                signing=awards.Signing(runtime.keystore, runtime.loader, settings.base_url, runtime.statuses),
                issuer_id=acc.issuer.id,
                data=data,
                idempotency_key=None,
                now=now,
            )
    except ProblemError as problem:
        if problem.status in (403, 404) and not problem.errors:
            raise
        form.errors = from_problem(problem, INPUTS)
        return await _form(session, acc, form, status=problem.status)
    achievement_name = dict(await _published(session, acc)).get(data.achievement_id, data.achievement_id)
    return console_page(
        acc, "console/awarding/done.html", status=201 if result.created else 200,
        title="Credential awarded" if result.created else "Already awarded",
        url=awards.award_out(result, base_url=settings.base_url, now=now).url, created=result.created,
        learner=form.name, email=form.email, achievement=achievement_name,
    )
