"""What every API route may answer besides success, for the OpenAPI document.

Each error answer is documented as ``application/problem+json`` only (the media type the
handlers in :mod:`microcred.web.problems` write), with the ``Problem`` schema.
:func:`install_openapi` adds that schema to ``components/schemas``: routes only point at it
with ``$ref``, so FastAPI would not list it by itself.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from pydantic import BaseModel

__all__ = ["PROBLEMS", "Problem", "RATE_LIMITED", "install_openapi"]


class FieldProblem(BaseModel):
    """One field at fault: a JSON Pointer into the body, a query or path parameter, or a header."""

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
    code: {"description": text, "content": _PROBLEM}
    for code, text in (
        (400, "The request cannot be read"),
        (401, "No or unknown API key"),
        (403, "The API key lacks a scope"),
        (404, "No such resource (or not the caller's)"),
        (413, "The body is too large"),
        (422, "A field breaks a rule; `errors` names each"),
        (500, "An unexpected failure; nothing was saved"),
    )
}

_INTEGER = {"schema": {"type": "integer", "minimum": 1}}
_TEXT = {"schema": {"type": "string"}}
#: The answer of a route with a rate limit per client (web/rate_limits.py) to a client over it.
RATE_LIMITED: dict[int | str, dict[str, Any]] = {
    429: {
        "description": "Too many requests from this client address; wait the `Retry-After` seconds. Every answer of the "
        "route carries `RateLimit-Policy` (the quota `q` per window `w` seconds) and `RateLimit` (`r` more within `t` "
        "seconds), as draft-ietf-httpapi-ratelimit-headers defines them",
        "headers": {
            "Retry-After": {"description": "Whole seconds until a request would be accepted", **_INTEGER},
            "RateLimit-Policy": {"description": 'The policy, e.g. `"verify";q=60;w=60`', **_TEXT},
            "RateLimit": {"description": 'What is left of it, e.g. `"verify";r=0;t=1`', **_TEXT},
        },
        "content": _PROBLEM,
    }
}


def problem_schemas() -> dict[str, dict[str, Any]]:
    """``Problem`` and the schemas it uses, keyed by component name."""
    schema = Problem.model_json_schema(ref_template="#/components/schemas/{model}", mode="serialization")
    definitions: dict[str, dict[str, Any]] = schema.pop("$defs", {})
    return {**definitions, "Problem": schema}


def install_openapi(app: FastAPI) -> None:
    """Make ``app.openapi()`` list the problem schemas among its components."""
    generate: Callable[[], dict[str, Any]] = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schema = generate()
            components = schema.setdefault("components", {}).setdefault("schemas", {})
            for name, definition in problem_schemas().items():
                components.setdefault(name, definition)
            schema["components"]["schemas"] = dict(sorted(components.items()))
            app.openapi_schema = schema
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]
