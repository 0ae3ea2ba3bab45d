"""The Service Description Document a host reads first (OB 3.0 §6.3, §7.1.1.1): an OpenAPI 3.0
document naming this service, its privacy policy and terms, the API's operations, and the OAuth
2.0 endpoints with the scopes, among them ``x-imssf-registrationUrl`` for dynamic registration.
https://www.imsglobal.org/spec/ob/v3p0/#api-discovery
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from ..config import Settings
from ..oauth.scopes import CREDENTIAL_READONLY, CREDENTIAL_UPSERT, OB_SCOPES, PROFILE_READONLY, PROFILE_UPDATE

__all__ = ["API_PREFIX", "service_description"]

API_PREFIX = "/ims/ob/v3p0"
_STATUS_INFO = {"application/json": {"schema": {"$ref": "#/components/schemas/Imsx_StatusInfo"}}}
_JSON_OBJECT = {"application/json": {"schema": {"type": "object"}}}


def _errors(*codes: int) -> dict[str, Any]:
    return {str(code): {"description": "The request failed; imsx_description says why", "content": _STATUS_INFO} for code in codes} | {
        "default": {"description": "The request was invalid or cannot be served", "content": _STATUS_INFO}
    }


def _operation(operation_id: str, summary: str, scope: str | None, responses: dict[str, Any], **extra: Any) -> dict[str, Any]:
    operation: dict[str, Any] = {"tags": ["OpenBadgeCredentials" if scope else "Discovery"], "operationId": operation_id, "summary": summary}
    operation.update(extra)
    operation["responses"] = responses
    if scope:
        operation["security"] = [{"OAuth2ACG": [scope]}]
    return operation


def _paths() -> dict[str, Any]:
    credential_or_jws = {**_JSON_OBJECT, "text/plain": {"schema": {"type": "string"}}}
    return {
        "/credentials": {
            "get": _operation(
                "getCredentials",
                "The learner's OpenBadgeCredentials, oldest first; X-Total-Count and Link headers page them",
                CREDENTIAL_READONLY,
                {"200": {"description": "GetOpenBadgeCredentialsResponse", "content": _JSON_OBJECT}} | _errors(400, 401, 403, 405, 500),
                parameters=[
                    {"name": "limit", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 1}},
                    {"name": "offset", "in": "query", "required": False, "schema": {"type": "integer", "minimum": 0}},
                    {"name": "since", "in": "query", "required": False, "schema": {"type": "string", "format": "date-time"}},
                ],
            ),
            "post": _operation(
                "upsertCredential",
                "Add a verified AchievementCredential to the learner's collection, or replace the one with its id",
                CREDENTIAL_UPSERT,
                {
                    "200": {"description": "Replaced", "content": credential_or_jws},
                    "201": {"description": "Created", "content": credential_or_jws},
                }
                | _errors(400, 401, 403, 405, 500),
                requestBody={"required": True, "content": credential_or_jws},
            ),
        },
        "/profile": {
            "get": _operation(
                "getProfile", "The learner's Profile", PROFILE_READONLY, {"200": {"description": "Profile", "content": _JSON_OBJECT}} | _errors(400, 401, 403, 404, 405, 500)
            ),
            "put": _operation(
                "putProfile",
                "Replace the learner's Profile (its id and verified email stay)",
                PROFILE_UPDATE,
                {"200": {"description": "Profile", "content": _JSON_OBJECT}} | _errors(400, 401, 403, 404, 405, 500),
                requestBody={"required": True, "content": _JSON_OBJECT},
            ),
        },
        "/discovery": {
            "get": _operation(
                "getServiceDescription", "This document", None, {"200": {"description": "ServiceDescriptionDocument", "content": _JSON_OBJECT}} | _errors(500)
            ),
        },
    }


def service_description(settings: Settings, *, version: str) -> dict[str, Any]:
    base = settings.base_url
    host = urlsplit(base).hostname or base
    return {
        "openapi": "3.0.1",
        "info": {
            "title": f"Open Badges at {host}",
            "description": "Open Badges 3.0 API of microcred: a learner's credentials and profile, with their consent",
            "version": version,
            "termsOfService": settings.terms_of_service_url or base,
            "x-imssf-privacyPolicyUrl": settings.privacy_policy_url or base,
        },
        "servers": [{"url": base + API_PREFIX}],
        "tags": [
            {"name": "OpenBadgeCredentials", "description": "Exchange OpenBadgeCredentials and Profile information"},
            {"name": "Discovery"},
        ],
        "paths": _paths(),
        "components": {
            "securitySchemes": {
                "OAuth2ACG": {
                    "type": "oauth2",
                    "description": "OAuth 2.0 Authorization Code Grant authorization, with PKCE (S256)",
                    "x-imssf-name": f"microcred at {host}",
                    "x-imssf-privacyPolicyUrl": settings.privacy_policy_url or base,
                    "x-imssf-termsOfServiceUrl": settings.terms_of_service_url or base,
                    "x-imssf-registrationUrl": f"{base}/oauth/register",
                    "flows": {
                        "authorizationCode": {
                            "authorizationUrl": f"{base}/oauth/authorize",
                            "tokenUrl": f"{base}/oauth/token",
                            "refreshUrl": f"{base}/oauth/token",
                            "scopes": dict(OB_SCOPES),
                        }
                    },
                }
            },
            "schemas": {
                "Imsx_StatusInfo": {
                    "type": "object",
                    "required": ["imsx_codeMajor", "imsx_severity"],
                    "properties": {
                        "imsx_codeMajor": {"type": "string", "enum": ["failure", "processing", "success", "unsupported"]},
                        "imsx_severity": {"type": "string", "enum": ["error", "status", "warning"]},
                        "imsx_description": {"type": "string"},
                        "imsx_codeMinor": {"type": "object"},
                    },
                }
            },
        },
    }
