"""Render every error as RFC 9457 ``application/problem+json``: our ProblemErrors, FastAPI's
validation errors (with a JSON pointer per field), unknown routes, and anything unexpected
(a generic 500 that reveals nothing of the internals)."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..problems import PROBLEM_BASE, BadRequest, ProblemError, UnprocessableContent, body_pointer

__all__ = ["PROBLEM_JSON", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
log = logging.getLogger("microcred")


def problem_response(problem: ProblemError, request: Request | None = None) -> JSONResponse:
    return JSONResponse(
        problem.to_dict(instance=request.url.path if request else None),
        status_code=problem.status,
        headers=problem.headers,
        media_type=PROBLEM_JSON,
    )


def _location(loc: tuple[Any, ...] | list[Any]) -> dict[str, str]:
    where, *path = list(loc) or ["body"]
    if where == "body":
        return {"pointer": body_pointer(path)}
    if where in ("query", "path"):
        return {"parameter": str(path[0]) if path else ""}
    if where == "header":
        return {"header": str(path[0]) if path else ""}
    return {"pointer": "#/" + "/".join(str(p) for p in [where, *path])}


def validation_problem(errors: list[dict[str, Any]] | Any) -> ProblemError:
    fields: list[dict[str, str]] = []
    for error in errors:
        message = str(error.get("msg", "invalid")).removeprefix("Value error, ")
        where = _location(tuple(error.get("loc", ())))
        if any(f.items() >= where.items() for f in fields):
            continue  # another branch of the same union field: one error per field is enough
        fields.append({**where, "detail": message})
    unreadable = [e for e in errors if e.get("type") == "json_invalid"]
    if unreadable:
        why = (unreadable[0].get("ctx") or {}).get("error")
        return BadRequest(f"the request body is not valid JSON: {why}" if why else "the request body is not valid JSON", errors=fields)
    first = fields[0] if fields else {"detail": "invalid request"}
    at = first.get("pointer") or first.get("parameter") or first.get("header") or ""
    return UnprocessableContent(f"{at}: {first['detail']}" if at else first["detail"], errors=fields)


def install_problem_handlers(app: FastAPI) -> None:
    async def on_problem(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, ProblemError)
        return problem_response(exc, request)

    async def on_validation(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, RequestValidationError)
        return problem_response(validation_problem(list(exc.errors())), request)

    async def on_http(request: Request, exc: Exception) -> JSONResponse:
        assert isinstance(exc, StarletteHTTPException)
        problem = ProblemError(str(exc.detail), headers=dict(exc.headers or {}))
        problem.status = exc.status_code  # type: ignore[misc]
        body = problem.to_dict(instance=request.url.path)
        body["type"] = "about:blank"
        try:
            body["title"] = HTTPStatus(exc.status_code).phrase  # RFC 9457 4.2.1: about:blank's title is the status phrase
        except ValueError:
            body["title"] = "HTTP error"
        return JSONResponse(body, status_code=exc.status_code, headers=problem.headers, media_type=PROBLEM_JSON)

    async def on_unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        body = {
            "type": PROBLEM_BASE + "internal-error",
            "title": "Internal server error",
            "status": 500,
            "detail": "the service failed to handle this request; nothing was saved. The error is logged.",
            "instance": request.url.path,
        }
        return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_exception_handler(Exception, on_unexpected)
