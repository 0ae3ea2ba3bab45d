from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Header, Query, Response, status

from ..schemas_common import Instant
from ..web.deps import PrincipalDep, RuntimeDep, SessionDep
from ..web.openapi import PROBLEMS
from ..web.routes import StrictJsonRoute
from . import service
from ..status.schemas import CredentialState
from .schemas import AwardIn, AwardOut, CredentialPage

router = APIRouter(prefix="/api/v1/issuers/{issuer_id}", tags=["awards"], responses=PROBLEMS, route_class=StrictJsonRoute)


@router.post(
    "/awards",
    status_code=status.HTTP_201_CREATED,
    response_model=AwardOut,
    responses={200: {"model": AwardOut, "description": "A retry: the credential awarded the first time"}, 409: {**PROBLEMS[422], "description": "Idempotency-Key or external_id reused with a different body"}},
)
async def award(
    issuer_id: str,
    body: AwardIn,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    idempotency_key: Annotated[str | None, Header(max_length=200)] = None,
) -> Response:
    """Award a credential for one completion (201). Retried with the same Idempotency-Key or
    external_id (or the same achievement, learner and completion date) it answers 200 with the
    credential awarded the first time."""
    result = await service.award(
        session,
        principal=principal,
        signing=service.Signing(runtime.keystore, runtime.loader, runtime.settings.base_url, runtime.statuses),
        issuer_id=issuer_id,
        data=body,
        idempotency_key=idempotency_key,
        now=datetime.now(UTC),
    )
    out = service.award_out(result, base_url=runtime.settings.base_url, now=datetime.now(UTC))
    # Serialized here, once, by pydantic: returning the model would have FastAPI validate the
    # whole signed credential a second time on the way out (the response_model above documents it).
    return Response(
        out.model_dump_json(),
        status_code=status.HTTP_201_CREATED if result.created else status.HTTP_200_OK,
        media_type="application/json",
        headers={"Location": out.url},
    )


@router.get("/credentials", response_model=CredentialPage)
async def list_credentials(
    issuer_id: str,
    principal: PrincipalDep,
    session: SessionDep,
    runtime: RuntimeDep,
    recipient: Annotated[str | None, Query(max_length=512, description="an email address or a DID")] = None,
    achievement_id: Annotated[str | None, Query(max_length=36)] = None,
    issued_after: Annotated[Instant | None, Query()] = None,
    issued_before: Annotated[Instant | None, Query()] = None,
    status: Annotated[CredentialState | None, Query(description="only credentials in this state (see `status` of each item)")] = None,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> CredentialPage:
    """Credentials of the issuer, newest first, filtered by recipient, achievement, issue date and
    status (an unknown status is a 422 naming the parameter)."""
    return await service.list_credentials(
        session,
        principal=principal,
        issuer_id=issuer_id,
        base_url=runtime.settings.base_url,
        recipient=recipient,
        achievement_id=achievement_id,
        issued_after=issued_after,  # type: ignore[arg-type]
        issued_before=issued_before,  # type: ignore[arg-type]
        state=status,
        cursor=cursor,
        limit=limit,
        now=datetime.now(UTC),
    )


@router.get("/credentials/{credential_id}", response_model=AwardOut)
async def get_credential(issuer_id: str, credential_id: str, principal: PrincipalDep, session: SessionDep, runtime: RuntimeDep) -> AwardOut:
    result = await service.get_credential(session, principal=principal, issuer_id=issuer_id, credential_id=credential_id)
    return service.award_out(result, base_url=runtime.settings.base_url, now=datetime.now(UTC))
