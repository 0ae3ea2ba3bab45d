"""Annotated dependencies, so a route signature reads like a sentence."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.ext.asyncio import AsyncSession

from ..auth.principal import Principal
from ..auth.service import authenticate
from ..runtime import Runtime

__all__ = ["PrincipalDep", "RuntimeDep", "SessionDep"]


def get_runtime(request: Request) -> Runtime:
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


async def get_principal(request: Request, session: SessionDep) -> Principal:
    return await authenticate(session, request.headers.get("authorization"))


PrincipalDep = Annotated[Principal, Depends(get_principal)]
