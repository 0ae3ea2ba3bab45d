"""OAuth 2.0 errors, answered as the RFCs say (``{"error": ..., "error_description": ...}``),
and the bearer token errors of the resource server (RFC 6750 §3).

::

    ProblemError
    ├── OAuthError (400)        an error code from RFC 6749 §5.2, RFC 7591 §3.2.2 or RFC 7009
    │   └── InvalidClient (401) client authentication failed (RFC 6749 §5.2)
    ├── InvalidToken (401)      no, unknown, expired or revoked access token (RFC 6750 §3.1)
    └── InsufficientScope (403) the token lacks the operation's scope (RFC 6750 §3.1)
"""

from __future__ import annotations

from collections.abc import Callable

from fastapi.responses import JSONResponse, Response

from ..problems import ProblemError

__all__ = ["InsufficientScope", "InvalidClient", "InvalidToken", "OAuthError", "oauth_error_renderer"]

_NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


class OAuthError(ProblemError):
    status, slug, title = 400, "oauth-error", "OAuth error"

    def __init__(self, error: str, description: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(description, headers=headers)
        #: the error code a client acts on, e.g. invalid_grant
        self.error = error


class InvalidClient(OAuthError):
    status = 401

    def __init__(self, description: str) -> None:
        super().__init__("invalid_client", description, headers={"WWW-Authenticate": 'Basic realm="microcred"'})


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', "'")


class InvalidToken(ProblemError):
    status, slug, title = 401, "invalid-token", "Unauthorized"

    def __init__(self, description: str, *, presented: bool = True) -> None:
        # A request without any token gets the bare challenge, with no error code (RFC 6750 §3.1).
        challenge = 'Bearer realm="microcred"'
        if presented:
            challenge += f', error="invalid_token", error_description="{_quoted(description)}"'
        super().__init__(description, headers={"WWW-Authenticate": challenge})


class InsufficientScope(ProblemError):
    status, slug, title = 403, "insufficient-scope", "Forbidden"

    def __init__(self, scope: str) -> None:
        description = f"this access token was not granted the scope {scope}"
        super().__init__(
            description,
            headers={"WWW-Authenticate": f'Bearer realm="microcred", error="insufficient_scope", scope="{scope}"'},
        )


def oauth_error_renderer(default_error: str) -> Callable[[ProblemError, int], Response]:
    """Write errors as OAuth error objects; a problem that is not an OAuthError (a malformed
    request FastAPI refused, say) gets ``default_error``."""

    def render(problem: ProblemError, status: int) -> Response:
        if isinstance(problem, OAuthError):
            error = problem.error
        elif status >= 500:
            error, status = "server_error", 500
        else:
            error, status = default_error, 400
        body = {"error": error, "error_description": problem.detail}
        return JSONResponse(body, status_code=status, headers={**_NO_STORE, **problem.headers})

    return render

