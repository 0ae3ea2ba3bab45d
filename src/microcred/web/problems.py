"""Render every error as RFC 9457 ``application/problem+json``: our ProblemErrors, FastAPI's
validation errors (with a JSON pointer per field), unknown routes, a database out of reach (503
with Retry-After) and anything unexpected (a generic 500 that reveals nothing of the internals).

The last two are answered by :class:`Unhandled`, a middleware, not by an ``Exception`` handler:
Starlette re-raises an exception after its ``Exception`` handler answered, so uvicorn logged it
a second time and closed the keep-alive connection after every 500."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ..db.errors import is_unavailable
from ..problems import PROBLEM_BASE, BadRequest, ProblemError, ServiceUnavailable, UnprocessableContent, body_pointer

__all__ = ["PROBLEM_JSON", "RETRY_AFTER_SECONDS", "Unhandled", "allowed_methods", "install_problem_handlers", "problem_response"]

PROBLEM_JSON = "application/problem+json"
#: What a client is told to wait when the database is out of reach (a restart, a failover).
RETRY_AFTER_SECONDS = 5
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


_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def allowed_methods(app: Any, scope: Scope) -> list[str]:
    """Every method some route takes at this path. Starlette's 405 names only the methods of the
    first route whose path matched, though routes of one path are often several (GET and POST)."""
    found = [
        method
        for method in _METHODS
        if any(route.matches({**scope, "method": method})[0] == Match.FULL for route in app.router.routes)
    ]
    return found or [scope.get("method", "GET")]


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
        if exc.status_code == 405:
            problem.headers["Allow"] = ", ".join(allowed_methods(request.app, request.scope))
        problem.status = exc.status_code  # type: ignore[misc]
        body = problem.to_dict(instance=request.url.path)
        body["type"] = "about:blank"
        try:
            body["title"] = HTTPStatus(exc.status_code).phrase  # RFC 9457 4.2.1: about:blank's title is the status phrase
        except ValueError:
            body["title"] = "HTTP error"
        return JSONResponse(body, status_code=exc.status_code, headers=problem.headers, media_type=PROBLEM_JSON)

    app.add_exception_handler(ProblemError, on_problem)
    app.add_exception_handler(RequestValidationError, on_validation)
    app.add_exception_handler(StarletteHTTPException, on_http)
    app.add_middleware(Unhandled)  # last added, so outermost: it sees what the others raise


class Unhandled:
    """Answer any exception no handler took: 503 with Retry-After when the database is out of
    reach (no fault of the request; worth retrying), else a 500 that reveals nothing. Logged
    once; the exception goes no further, so the connection stays open."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def sending(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, sending)
        except Exception as exc:
            if started:  # half a response is out: nothing sound can follow it
                raise
            await _unhandled_response(scope, exc)(scope, receive, send)


def _unhandled_response(scope: Scope, exc: Exception) -> JSONResponse:
    path = scope.get("path", "")
    if is_unavailable(exc):
        log.warning("database out of reach on %s %s: %s: %s", scope.get("method"), path, type(exc).__name__, exc)
        problem = ServiceUnavailable(
            "the database is out of reach; nothing was saved. Retry after a few seconds.",
            headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
        )
        return JSONResponse(problem.to_dict(instance=path), status_code=503, headers=problem.headers, media_type=PROBLEM_JSON)
    log.error("unhandled error on %s %s", scope.get("method"), path, exc_info=exc)
    body = {
        "type": PROBLEM_BASE + "internal-error",
        "title": "Internal server error",
        "status": 500,
        "detail": "the service failed to handle this request; nothing was saved. The error is logged.",
        "instance": path,
    }
    return JSONResponse(body, status_code=500, media_type=PROBLEM_JSON)
