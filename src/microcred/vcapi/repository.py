from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import VcApiCredential

__all__ = ["VcApiCredentialRepository"]


class VcApiCredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, credential: VcApiCredential) -> VcApiCredential:
        self.session.add(credential)
        await self.session.flush()
        return credential

    async def by_credential_id(self, issuer_id: str, credential_id: str, *, for_update: bool = False) -> Sequence[VcApiCredential]:
        """Every copy the issuer signed under ``credential_id``, oldest first."""
        statement = (
            select(VcApiCredential)
            .where(VcApiCredential.issuer_id == issuer_id, VcApiCredential.credential_id == credential_id)
            .order_by(VcApiCredential.issued_at, VcApiCredential.id)
        )
        if for_update:
            statement = statement.with_for_update()
        return (await self.session.scalars(statement)).all()
