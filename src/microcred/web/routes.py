"""Routes that answer errors in the shape another specification requires.

The service's own API answers RFC 9457 problem+json (:mod:`microcred.web.problems`). Endpoints
that implement someone else's specification answer as it says: the OB 3.0 API with an
``Imsx_StatusInfo``, the OAuth 2.0 endpoints with an OAuth error object. Their routers use the
route class made here: it catches what handling the request raised (ProblemErrors from services
and dependencies, FastAPI's validation errors, anything unexpected) and hands it to the
specification's renderer. The transaction has already been rolled back by then (SessionDep).
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import Request, Response, params
from fastapi.exceptions import RequestValidationError
from fastapi.routing import APIRoute
from starlette.exceptions import HTTPException as StarletteHTTPException

from ..credentials import strict_json
from ..db.errors import is_unavailable
from ..problems import ProblemError, ServiceUnavailable
from .problems import RETRY_AFTER_SECONDS, validation_problem

__all__ = ["ErrorRenderer", "StrictJsonRoute", "rendering_errors"]

#: Writes ``problem`` as the specification's error response with HTTP status ``status``.
ErrorRenderer = Callable[[ProblemError, int], Response]
log = logging.getLogger("microcred")


def _is_json(content_type: str | None) -> bool:
    """What FastAPI reads as JSON: no Content-Type, or application/json or application/*+json."""
    if not content_type:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    return media == "application/json" or (media.startswith("application/") and media.endswith("+json"))


class StrictJsonRoute(APIRoute):
    """A route whose JSON body is read by the one strict reader (``credentials.strict_json``).

    FastAPI decodes bodies with ``json.loads``, which keeps the last of duplicate members and
    recurses once per nesting level. Here the body is decoded strictly first and handed to
    FastAPI already decoded (Starlette keeps it as the request's JSON); what the strict reader
    refuses is the validation error FastAPI gives for JSON it cannot decode, so each API
    answers it in its own way (422 problem, the VC-API's 400, the OB API's imsx status).
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()
        if self.body_field is None or isinstance(self.body_field.field_info, params.Form):
            return handle  # no body, or a form: FastAPI reads no JSON here

        async def strict_handler(request: Request) -> Response:
            if _is_json(request.headers.get("content-type")):
                body = await request.body()
                if body:
                    try:
                        request._json = strict_json.loads(body)
                    except strict_json.StrictJSONError as exc:
                        raise RequestValidationError(
                            [{"type": "json_invalid", "loc": ("body",), "msg": str(exc), "input": {}, "ctx": {"error": str(exc)}}]
                        ) from exc
                    except ValueError:
                        pass  # not JSON at all: FastAPI says so in its usual words
            return await handle(request)

        return strict_handler


def rendering_errors(render: ErrorRenderer) -> type[APIRoute]:
    """An APIRoute class (reading JSON strictly) whose errors ``render`` writes."""

    class SpecificationRoute(StrictJsonRoute):
        def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
            handle = super().get_route_handler()

            async def route_handler(request: Request) -> Response:
                try:
                    return await handle(request)
                except ProblemError as problem:
                    return render(problem, problem.status)
                except RequestValidationError as exc:
                    invalid = validation_problem(list(exc.errors()))
                    return render(invalid, invalid.status)
                except StarletteHTTPException as exc:
                    return render(ProblemError(str(exc.detail), headers=dict(exc.headers or {})), exc.status_code)
                except Exception as exc:
                    if is_unavailable(exc):  # no fault of the request: worth retrying
                        log.warning("database out of reach on %s %s: %s", request.method, request.url.path, type(exc).__name__)
                        away = ServiceUnavailable("The service cannot reach its database just now; nothing was saved. Try again in a few seconds.")
                        response = render(away, 503)
                        response.headers["Retry-After"] = str(RETRY_AFTER_SECONDS)
                        return response
                    log.exception("unhandled error on %s %s", request.method, request.url.path)
                    internal = ProblemError("the service failed to handle this request; nothing was saved. The error is logged.")
                    return render(internal, 500)

            return route_handler

    return SpecificationRoute
