"""What every API route may answer besides success, for the OpenAPI document."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

__all__ = ["PROBLEMS", "Problem"]


class FieldProblem(BaseModel):
    pointer: str | None = None
    parameter: str | None = None
    header: str | None = None
    detail: str


class Problem(BaseModel):
    """RFC 9457 problem details."""

    type: str
    title: str
    status: int
    detail: str
    instance: str | None = None
    errors: list[FieldProblem] | None = None


_PROBLEM = {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}}
PROBLEMS: dict[int | str, dict[str, Any]] = {
    code: {"model": Problem, "description": text, "content": _PROBLEM}
    for code, text in (
        (400, "The request cannot be read"),
        (401, "No or unknown API key"),
        (403, "The API key lacks a scope"),
        (404, "No such resource (or not the caller's)"),
        (413, "The body is too large"),
        (422, "A field breaks a rule; `errors` names each"),
    )
}
