"""The W3C VC-API, at the paths the specification gives (https://w3c-ccg.github.io/vc-api/).

Issuing and status changes need an API key of the issuer (scopes ``award`` and ``revoke``);
verification is for anyone, like ``/api/v1/verify``. The VC-API answers 400 for any request it
cannot use, where the rest of this API would say 422: its test suites and clients expect 400.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Coroutine
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response, status
from fastapi.exceptions import RequestValidationError

from ..credentials import SUITES
from ..problems import BadRequest
from ..verification.service import Verification
from ..web.deps import PrincipalDep, RuntimeDep, SessionDep, check_url
from ..web.openapi import PROBLEMS, RATE_LIMITED
from ..web.problems import validation_problem
from ..web.routes import StrictJsonRoute
from . import service
from .schemas import (
    IssueCredentialRequest,
    IssueCredentialResponse,
    UpdateCredentialStatusRequest,
    UpdateCredentialStatusResponse,
    VerifyCredentialRequest,
    VerifyPresentationRequest,
    VerifyPresentationResult,
    VerifyResult,
)


class _BadRequestRoute(StrictJsonRoute):
    """A body the route cannot use is a 400 (with the same field errors a 422 would carry);
    JSON is read strictly (duplicate members and deep nesting refused)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def route(request: Request) -> Response:
            try:
                return await handle(request)
            except RequestValidationError as exc:
                problem = validation_problem(list(exc.errors()))
                raise BadRequest(problem.detail, errors=problem.errors) from exc

        return route


#: What the rest of the API answers with 422 is a 400 here (see _BadRequestRoute); 422 stays listed
#: only so that FastAPI does not document its own validation error in its place.
_PROBLEMS = {**PROBLEMS, 422: {**PROBLEMS[422], "description": "Not answered by the VC-API: a body it cannot use is a 400"}}
router = APIRouter(tags=["vc-api"], responses=_PROBLEMS, route_class=_BadRequestRoute, dependencies=[Depends(check_url)])

_NOT_VERIFIED: dict[int | str, dict[str, Any]] = {
    400: {
        **PROBLEMS[400],
        "description": "Not verified (`verified: false`, with the VC-API's `checks`, `warnings` and `errors` as extension "
        "members), or a request that cannot be read",
    }
}


def _verification(runtime: RuntimeDep) -> Verification:
    return Verification(runtime, runtime.fetcher)


VerificationDep = Annotated[Verification, Depends(_verification)]


def _issue_endpoint(suite: str | None) -> Callable[..., Awaitable[IssueCredentialResponse]]:
    async def issue_credential(
        body: IssueCredentialRequest, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
    ) -> IssueCredentialResponse:
        signed = await service.issue(
            session, principal=principal, issuing=service.issuing(runtime), request=body, now=datetime.now(UTC), path_suite=suite
        )
        return IssueCredentialResponse(verifiable_credential=signed)

    return issue_credential


_ISSUE_DOC = (
    "Sign a VC 2.0 or VC 1.1 credential for the key's issuer (an admin key names it in `options.issuer`), which must be "
    "configured for the VC-API (`vc_api.enabled`). The credential's `issuer` must be the issuer's configured identifier "
    "(`vc_api.issuer` in the issuer's profile) or absent. Every term must be defined by a bundled context."
)
router.add_api_route(
    "/credentials/issue",
    _issue_endpoint(None),
    methods=["POST"],
    status_code=status.HTTP_201_CREATED,
    response_model=IssueCredentialResponse,
    name="issue_credential",
    summary="Issue a credential",
    description=_ISSUE_DOC + " The cryptosuite is `options.cryptosuite`, else the issuer's.",
)
for _suite in sorted(SUITES):
    router.add_api_route(
        f"/{_suite}/credentials/issue",
        _issue_endpoint(_suite),
        methods=["POST"],
        status_code=status.HTTP_201_CREATED,
        response_model=IssueCredentialResponse,
        name=f"issue_credential_{_suite.replace('-', '_')}",
        summary=f"Issue a credential with {_suite}",
        description=_ISSUE_DOC + f" Signed with {_suite}, whatever the issuer's default.",
    )


@router.post("/credentials/status", response_model=UpdateCredentialStatusResponse)
async def update_credential_status(
    body: UpdateCredentialStatusRequest, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep
) -> UpdateCredentialStatusResponse:
    """Revoke (`statusPurpose` revocation, `status` true: final), suspend or unsuspend a credential the VC-API
    issued with status entries. The status list is re-signed at once. 404 for a credential this issuer did not issue."""
    return await service.update_status(session, principal=principal, issuing=service.issuing(runtime), request=body, now=datetime.now(UTC))


@router.post("/credentials/verify", response_model=VerifyResult, responses=_NOT_VERIFIED | RATE_LIMITED)
async def verify_credential(body: VerifyCredentialRequest, verification: VerificationDep) -> VerifyResult:
    """Verify a VC 2.0 or VC 1.1 credential with an embedded Data Integrity proof (eddsa-rdfc-2022, eddsa-jcs-2022,
    Ed25519Signature2020): data model, contexts and terms, proof, validity period, status. 200 when it is valid."""
    return await service.verify_credential(verification, body)


@router.post("/presentations/verify", response_model=VerifyPresentationResult, responses=_NOT_VERIFIED | RATE_LIMITED)
async def verify_presentation(body: VerifyPresentationRequest, verification: VerificationDep) -> VerifyPresentationResult:
    """Verify a presentation's `authentication` proof (answering `options.challenge`, naming `options.domain`) and
    every credential in it; `presentation` instead of `verifiablePresentation` verifies an unsigned one's credentials
    only. 200 when all are valid."""
    return await service.verify_presentation(verification, body)
