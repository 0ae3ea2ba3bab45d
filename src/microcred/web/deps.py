"""Annotated dependencies, so a route signature reads like a sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..auth.service import authenticate
from ..problems import BadRequest
from ..runtime import Runtime

__all__ = ["PrincipalDep", "RuntimeDep", "SessionDep"]


async def get_runtime(request: Request) -> Runtime:  # async: a sync dependency costs a thread hop
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


async def get_session(runtime: RuntimeDep) -> AsyncIterator[AsyncSession]:
    """One transaction per request: committed when the route returns, rolled back on any error,
    so a failed request leaves nothing half-written."""
    async with runtime.sessions() as session:
        try:
            yield session
            await session.commit()
        except BaseException:
            await session.rollback()
            raise


# scope="function": commit before the response is sent, so a client never sees 201 for a
# transaction that then fails to commit.
SessionDep = Annotated[AsyncSession, Depends(get_session, scope="function")]


# Declares the bearer scheme in the OpenAPI document (so clients and schema-driven tools know to
# send the key); authenticate() reads the header itself, to answer each mistake with its own 401.
_bearer = HTTPBearer(
    auto_error=False,
    scheme_name="apiKey",
    description="An API key printed by `microcred clients create`, sent as `Authorization: Bearer mc_...`.",
)


async def check_url(request: Request) -> None:
    """400 for a NUL character (``%00``) in a path or query parameter: PostgreSQL cannot compare
    text holding one, so it would otherwise fail deep in a query instead of naming the parameter."""
    bad = [name for name, value in (*request.path_params.items(), *request.query_params.multi_items()) if "\x00" in str(value)]
    if bad:
        raise BadRequest(
            f"{bad[0]}: must not contain the NUL character (%00)",
            errors=[{"parameter": name, "detail": "must not contain the NUL character (%00)"} for name in bad],
        )


async def get_principal(
    request: Request,
    _url: Annotated[None, Depends(check_url)],  # before the session: a bad URL opens no transaction
    session: SessionDep,
    _declared: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    return await authenticate(session, request.headers.get("authorization"), record_use=True)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
