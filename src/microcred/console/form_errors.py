"""Errors of a console form, each tied to the field it is about.

The services and the API models name a field at fault with a JSON Pointer into the API's body
(``#/recipient/email``); a form names its inputs (``email``). A page gives the pointers its
inputs stand for, and gets back one message per input (for ``aria-describedby`` beside it) and
what belongs to no input (for the summary at the top).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from ..problems import ProblemError, body_pointer

__all__ = ["FormErrors", "attempt", "from_problem", "from_validation"]


class FormErrors:
    """Messages per input name, and the ones that belong to no input."""

    def __init__(self) -> None:
        self.fields: dict[str, str] = {}
        self.general: list[str] = []

    def __bool__(self) -> bool:
        return bool(self.fields or self.general)

    def add(self, pointer: str, detail: str, inputs: Mapping[str, str]) -> None:
        """File ``detail`` under the input whose pointer is ``pointer`` or the nearest one above it."""
        path = pointer.removeprefix("#")
        while path:
            name = inputs.get(path)
            if name is not None:
                self.fields.setdefault(name, detail)
                return
            path = path.rpartition("/")[0]
        self.general.append(detail)


def from_problem(problem: ProblemError, inputs: Mapping[str, str]) -> FormErrors:
    errors = FormErrors()
    for error in problem.errors:
        if "pointer" in error:
            errors.add(error["pointer"], error["detail"], inputs)
    if not errors.fields:
        errors.general.insert(0, problem.detail)
    return errors


#: The model's wording for a few common mistakes, in a form's words.
_WORDS = {
    "missing": "This is required.",
    "string_too_short": "This is required.",
    "too_short": "Choose at least one.",
    "int_parsing": "Enter a whole number.",
    "date_parsing": "Enter a date as YYYY-MM-DD.",
    "date_from_datetime_parsing": "Enter a date as YYYY-MM-DD.",
    "literal_error": "Choose one of the options.",
}


def from_validation(exc: ValidationError, inputs: Mapping[str, str]) -> FormErrors:
    errors = FormErrors()
    for error in exc.errors():
        message = _WORDS.get(error["type"]) or str(error["msg"]).removeprefix("Value error, ")
        if error["type"] == "string_too_short" and (error.get("ctx") or {}).get("min_length", 1) > 1:
            message = str(error["msg"])
        errors.add(body_pointer(error["loc"]), message, inputs)
    return errors


@asynccontextmanager
async def attempt(session: AsyncSession) -> AsyncIterator[None]:
    """Run a service call in a savepoint: when it refuses (raises), what it wrote is undone and
    the page can say why, while the request's transaction (and what it loaded: the staff
    member, the issuer) goes on. Rolling back the whole transaction would commit nothing wrong,
    but would expire those objects under the page."""
    async with session.begin_nested():
        yield
