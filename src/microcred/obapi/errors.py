"""Errors of the OB 3.0 API, as the specification requires: an ``Imsx_StatusInfo`` body with
``application/json`` (https://www.imsglobal.org/spec/ob/v3p0/#imsx_statusinfo)."""

from __future__ import annotations

from fastapi.responses import JSONResponse, Response

from ..problems import ProblemError

__all__ = ["MethodNotAllowed", "imsx_status"]

class MethodNotAllowed(ProblemError):
    status, slug, title = 405, "method-not-allowed", "Method not allowed"

    def __init__(self, method: str, allowed: list[str]) -> None:
        super().__init__(f"{method} is not an operation of this endpoint: use {' or '.join(allowed)}", headers={"Allow": ", ".join(allowed)})


#: The code minor value for each status the API answers (Imsx_CodeMinorFieldValue).
_MINOR = {
    400: "invalid_data",
    401: "unauthorizedrequest",
    403: "forbidden",
    404: "not_found",
    405: "not_allowed",
    406: "not_acceptable",
    500: "internal_server_error",
    503: "server_busy",  # the database is out of reach: retry (with Retry-After)
}


def imsx_status(problem: ProblemError, status: int) -> Response:
    """``problem`` as an Imsx_StatusInfo. The API names 400 for every bad request, so a
    request that breaks a rule (422 elsewhere in the service) is a 400 here."""
    if status not in _MINOR:
        status = 500 if status >= 500 else 400
    minor = _MINOR[status]
    if status == 400 and problem.errors and all("parameter" in e for e in problem.errors):
        minor = "invalid_query_parameter"
    body = {
        "imsx_codeMajor": "failure",
        "imsx_severity": "error",
        "imsx_description": problem.detail,
        "imsx_codeMinor": {"imsx_codeMinorField": [{"imsx_codeMinorFieldName": "TargetEndSystem", "imsx_codeMinorFieldValue": minor}]},
    }
    return JSONResponse(body, status_code=status, headers=problem.headers)
