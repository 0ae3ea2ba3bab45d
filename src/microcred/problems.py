"""One error tree for the service, rendered once as RFC 9457 ``application/problem+json``.

::

    ProblemError                    any 4xx/5xx a client should understand
    ├── BadRequest (400)            the request cannot be read
    │   └── NotVerified (400)       the VC-API verified a credential or presentation: it is not valid
    ├── Unauthorized (401)          no or unknown API key
    ├── Forbidden (403)             the key lacks a scope for this action
    ├── NotFound (404)              no such resource, or not the caller's
    ├── Conflict (409)              e.g. an Idempotency-Key reused with another body
    ├── PayloadTooLarge (413)
    ├── UnprocessableContent (422)  the request is well-formed but breaks a rule (field errors)
    └── ServiceUnavailable (503)

Services raise these; :mod:`microcred.web.problems` writes them. ``errors`` lists each field at
fault as ``{"pointer": "#/recipient/email", "detail": "..."}`` (JSON Pointer into the body,
or ``{"parameter": ...}`` / ``{"header": ...}`` for query parameters and headers).
"""

from __future__ import annotations

from typing import Any, ClassVar

__all__ = [
    "BadRequest",
    "Conflict",
    "FieldError",
    "Forbidden",
    "NotFound",
    "NotVerified",
    "PayloadTooLarge",
    "body_pointer",
    "ProblemError",
    "ServiceUnavailable",
    "TooManyRequests",
    "Unauthorized",
    "UnprocessableContent",
    "field_error",
]

PROBLEM_BASE = "https://w3id.org/microcred/problems/"

FieldError = dict[str, str]


# pydantic names the branch of a union it tried (e.g. ``date`` and ``datetime`` for a
# ``date | datetime`` field) inside an error's location; a pointer into the body has no such part.
_UNION_BRANCHES = frozenset({"date", "datetime", "str", "int", "float", "bool", "list", "dict", "none", "is-instance"})


def body_pointer(loc: tuple[Any, ...] | list[Any]) -> str:
    """A JSON Pointer (``#/recipient/email``) for a pydantic error location inside a body."""
    parts = [
        str(p).replace("~", "~0").replace("/", "~1")
        for p in loc
        if not (isinstance(p, str) and (p in _UNION_BRANCHES or "[" in p))
    ]
    return "#/" + "/".join(parts)


def field_error(pointer: str, detail: str) -> FieldError:
    """A field at fault; ``pointer`` is a JSON Pointer into the request body (e.g. ``/name``)."""
    return {"pointer": "#" + pointer if pointer.startswith("/") else pointer, "detail": detail}


class ProblemError(Exception):
    status: ClassVar[int] = 500
    slug: ClassVar[str] = "internal-error"
    title: ClassVar[str] = "Internal server error"

    def __init__(
        self,
        detail: str,
        *,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        **extensions: Any,
    ) -> None:
        super().__init__(detail)
        self.detail = detail
        self.errors = errors or []
        self.headers = headers or {}
        self.extensions = extensions

    @property
    def type(self) -> str:
        return PROBLEM_BASE + self.slug

    def to_dict(self, *, instance: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "title": self.title, "status": self.status, "detail": self.detail}
        if instance:
            body["instance"] = instance
        if self.errors:
            body["errors"] = self.errors
        body.update(self.extensions)
        return body


class BadRequest(ProblemError):
    status, slug, title = 400, "bad-request", "Bad request"


class NotVerified(BadRequest):
    """A verification that ran and failed; the VC-API's result members (``verified``, ``checks``,
    ``warnings``, ``errors``) ride along as extensions."""

    slug, title = "not-verified", "Not verified"


class Unauthorized(ProblemError):
    status, slug, title = 401, "unauthorized", "Unauthorized"

    def __init__(self, detail: str) -> None:
        super().__init__(detail, headers={"WWW-Authenticate": 'Bearer realm="microcred"'})


class Forbidden(ProblemError):
    status, slug, title = 403, "forbidden", "Forbidden"


class NotFound(ProblemError):
    status, slug, title = 404, "not-found", "Not found"


class Conflict(ProblemError):
    status, slug, title = 409, "conflict", "Conflict"


class PayloadTooLarge(ProblemError):
    status, slug, title = 413, "payload-too-large", "Payload too large"


class UnprocessableContent(ProblemError):
    status, slug, title = 422, "validation-error", "Unprocessable content"


class TooManyRequests(ProblemError):
    status, slug, title = 429, "too-many-requests", "Too many requests"


class ServiceUnavailable(ProblemError):
    status, slug, title = 503, "service-unavailable", "Service unavailable"
