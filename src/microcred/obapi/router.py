"""The OB 3.0 API under /ims/ob/v3p0: discovery is public; every other operation needs an
OAuth 2.0 access token with its scope, and acts for the learner who granted it. Errors are
Imsx_StatusInfo, as the specification requires."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Query, Request, Security, status
from fastapi.responses import JSONResponse, PlainTextResponse, Response
from fastapi.security import OAuth2AuthorizationCodeBearer, SecurityScopes

from .. import __version__
from ..credentials import strict_json
from ..learners.service import profile_document, replace_profile
from ..oauth import service as oauth
from ..oauth.scopes import CREDENTIAL_READONLY, CREDENTIAL_UPSERT, OB_SCOPES, PROFILE_READONLY, PROFILE_UPDATE
from ..problems import BadRequest
from ..schemas_common import contains_nul
from ..verification.service import Verification
from ..web.deps import RuntimeDep, SessionDep, check_url
from ..web.routes import rendering_errors
from . import service
from .discovery import API_PREFIX, service_description
from .errors import MethodNotAllowed, imsx_status
from .schemas import GetOpenBadgeCredentialsResponse, Imsx_StatusInfo, LearnerProfile

__all__ = ["router"]

router = APIRouter(prefix=API_PREFIX, tags=["Open Badges 3.0 API"], dependencies=[Depends(check_url)], route_class=rendering_errors(imsx_status))

#: The most credentials one page holds, whatever ``limit`` asks for; and the default.
MAX_LIMIT = 100
DEFAULT_LIMIT = 50
_JWS = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+")
_JSON_TYPES = ("application/json", "application/vc+ld+json", "application/ld+json")

_WHY = {
    400: "The request cannot be served as sent",
    401: "No, unknown, expired or revoked access token (WWW-Authenticate says which)",
    403: "The access token lacks this operation's scope",
    404: "Not found",
    500: "An unexpected failure; nothing was saved",
}


def _errors(*codes: int) -> dict[int | str, dict[str, Any]]:
    """The error answers of an operation, as the specification lists them (with DEFAULT)."""
    described: dict[int | str, dict[str, Any]] = {code: {"model": Imsx_StatusInfo, "description": _WHY[code]} for code in codes}
    return described | {"default": {"model": Imsx_StatusInfo, "description": "The request was invalid or cannot be served"}}


# Declares the OAuth 2.0 scheme and each operation's scope in openapi.yaml; the access token is
# checked by oauth.authenticate_bearer, which answers each failure with its own 401 or 403.
_oauth2 = OAuth2AuthorizationCodeBearer(
    authorizationUrl="/oauth/authorize",
    tokenUrl="/oauth/token",
    refreshUrl="/oauth/token",
    scopes=OB_SCOPES,
    scheme_name="OAuth2ACG",
    description="OAuth 2.0 authorization code grant with PKCE (S256); clients register at /oauth/register (RFC 7591).",
    auto_error=False,
)


async def _access(security: SecurityScopes, request: Request, session: SessionDep, _declared: Annotated[str | None, Depends(_oauth2)]) -> oauth.Access:
    return await oauth.authenticate_bearer(session, request.headers.get("authorization"), required=security.scopes, now=datetime.now(UTC))


@router.get("/discovery", operation_id="getServiceDescription", responses=_errors(500) | {200: {"description": "The ServiceDescriptionDocument (OpenAPI 3.0)", "content": {"application/json": {"schema": {"type": "object"}}}}})
async def get_service_description(runtime: RuntimeDep) -> JSONResponse:
    """getServiceDescription: how to register, authorize and call this API. Not protected."""
    return JSONResponse(service_description(runtime.settings, version=__version__), headers={"Cache-Control": "public, max-age=300"})


def _since(value: datetime | None) -> datetime | None:
    if value is None:
        return None
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except (OverflowError, ValueError):
        raise BadRequest("since is out of range", errors=[{"parameter": "since", "detail": "out of range"}]) from None


def _links(base: str, *, limit: int, offset: int, total: int, since: str | None) -> str:
    """RFC 8288 links to the first, last, previous and next pages (OB 3.0 §6.4)."""

    def url(at: int) -> str:
        query = {"limit": limit, "offset": at} | ({"since": since} if since else {})
        return f"<{base}?{urlencode(query)}>"

    last = max(total - 1, 0) // limit * limit
    links = []
    if offset + limit < total:
        links.append(f'{url(offset + limit)}; rel="next"')
    links.append(f'{url(last)}; rel="last"')
    links.append(f'{url(0)}; rel="first"')
    if offset > 0:
        links.append(f'{url(max(offset - limit, 0))}; rel="prev"')
    return ", ".join(links)


@router.get(
    "/credentials",
    operation_id="getCredentials",
    response_model=GetOpenBadgeCredentialsResponse,
    responses=_errors(400, 401, 403, 500) | {200: {"description": "One page of the learner's credentials, oldest first; `X-Total-Count` counts them all, `Link` leads to the other pages"}},
)
async def get_credentials(
    request: Request,
    access: Annotated[oauth.Access, Security(_access, scopes=[CREDENTIAL_READONLY])],
    session: SessionDep,
    runtime: RuntimeDep,
    limit: Annotated[int, Query(ge=1, description=f"credentials per page (at most {MAX_LIMIT})")] = DEFAULT_LIMIT,
    offset: Annotated[int, Query(ge=0, le=2**31 - 1, description="the first credential to return (zero-based)")] = 0,
    since: Annotated[datetime | None, Query(description="only credentials issued after this time")] = None,
) -> JSONResponse:
    """getCredentials: the credentials this service awarded to the learner's verified email
    address, and those their hosts put in their collection."""
    limit = min(limit, MAX_LIMIT)
    found = await service.list_credentials(session, learner=access.learner, limit=limit, offset=offset, since=_since(since))
    headers = {
        "X-Total-Count": str(found.total),
        "Link": _links(runtime.settings.base_url + request.url.path, limit=limit, offset=offset, total=found.total, since=request.query_params.get("since")),
        "Cache-Control": "no-store",
    }
    return JSONResponse({"credential": found.credentials, "compactJwsString": found.compact_jws}, headers=headers)


_CREDENTIAL_CONTENT = {
    "application/json": {"schema": {"type": "object", "description": "An AchievementCredential (JSON-LD, Data Integrity proof)"}},
    "text/plain": {"schema": {"type": "string", "description": "An AchievementCredential signed as a VC-JWT (compact JWS)"}},
}


async def _sent_credential(request: Request) -> dict[str, Any] | str:
    media = request.headers.get("content-type", "").split(";")[0].strip().lower()
    body = await request.body()
    if media == "text/plain":
        try:
            text = body.decode("utf-8").strip()
        except UnicodeDecodeError:
            raise BadRequest("a text/plain body must be a compact JWS in UTF-8") from None
        if not _JWS.fullmatch(text):
            raise BadRequest("a text/plain body must be an AchievementCredential signed as a VC-JWT (a compact JWS)")
        return text
    if media in _JSON_TYPES:
        try:
            document = strict_json.loads(body)
            if not isinstance(document, dict):
                raise BadRequest("the body must be an AchievementCredential: a JSON object")
            if contains_nul(document):
                raise BadRequest("the credential must not contain the NUL character (U+0000)")
        except (ValueError, RecursionError, UnicodeDecodeError) as exc:
            raise BadRequest(f"the body is not a JSON object: {exc}"[:300]) from None
        return document
    raise BadRequest("send the credential as application/json (JSON-LD) or as text/plain (a VC-JWT)")


@router.post(
    "/credentials",
    operation_id="upsertCredential",
    status_code=status.HTTP_201_CREATED,
    response_class=Response,
    responses=_errors(400, 401, 403, 500)
    | {
        200: {"description": "The credential replaced the one with its id; the body is the credential sent", "content": _CREDENTIAL_CONTENT},
        201: {"description": "The credential was added; the body is the credential sent", "content": _CREDENTIAL_CONTENT},
    },
    openapi_extra={"requestBody": {"required": True, "content": _CREDENTIAL_CONTENT | {"application/vc+ld+json": _CREDENTIAL_CONTENT["application/json"]}}},
)
async def upsert_credential(
    request: Request,
    access: Annotated[oauth.Access, Security(_access, scopes=[CREDENTIAL_UPSERT])],
    session: SessionDep,
    runtime: RuntimeDep,
) -> Response:
    """upsertCredential: verify the credential (signature, schema, dates, status) and keep it in
    the learner's collection, replacing the one with the same `id` (200) or adding it (201). A
    credential that names an email address must name the learner's."""
    sent = await _sent_credential(request)
    upserted = await service.upsert_credential(
        session,
        Verification(runtime, runtime.fetcher, session=session),
        learner=access.learner,
        sent=sent,
        base_url=runtime.settings.base_url,
        now=datetime.now(UTC),
    )
    code = status.HTTP_201_CREATED if upserted.created else status.HTTP_200_OK
    if isinstance(upserted.credential, str):
        return PlainTextResponse(upserted.credential, status_code=code)
    return JSONResponse(upserted.credential, status_code=code)


@router.get("/profile", operation_id="getProfile", response_model=LearnerProfile, responses=_errors(400, 401, 403, 404, 500))
async def get_profile(access: Annotated[oauth.Access, Security(_access, scopes=[PROFILE_READONLY])], runtime: RuntimeDep) -> JSONResponse:
    """getProfile: the learner's OB 3.0 Profile, with the email address they verified."""
    return JSONResponse(profile_document(access.learner, base_url=runtime.settings.base_url), headers={"Cache-Control": "no-store"})


@router.put(
    "/profile",
    operation_id="putProfile",
    response_model=LearnerProfile,
    responses=_errors(400, 401, 403, 404, 500),
    openapi_extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object", "description": "The whole Profile"}}}}},
)
async def put_profile(
    request: Request, access: Annotated[oauth.Access, Security(_access, scopes=[PROFILE_UPDATE])], session: SessionDep, runtime: RuntimeDep
) -> JSONResponse:
    """putProfile: replace the learner's Profile. Its `id` and `email` are the service's: a
    different value of either is refused (400)."""
    try:
        body = strict_json.loads(await request.body())
    except (ValueError, RecursionError, UnicodeDecodeError):
        raise BadRequest("the body must be a Profile: a JSON object") from None
    document = await replace_profile(session, access.learner, body, base_url=runtime.settings.base_url)
    return JSONResponse(document, headers={"Cache-Control": "no-store"})


def _refuse_other_methods(path: str, allowed: list[str]) -> None:
    """405 as an Imsx_StatusInfo for the methods ``path`` does not have (Starlette would answer
    before any route of this router, with the service's problem+json)."""

    async def not_allowed(request: Request) -> Response:
        raise MethodNotAllowed(request.method, allowed)

    others = [m for m in ("GET", "POST", "PUT", "PATCH", "DELETE") if m not in allowed]
    router.add_api_route(path, not_allowed, methods=others, include_in_schema=False, name=f"not_allowed_{path.strip('/')}")


for _path, _allowed in (("/discovery", ["GET"]), ("/credentials", ["GET", "POST"]), ("/profile", ["GET", "PUT"])):
    _refuse_other_methods(_path, _allowed)
