"""A learner's credentials: those this service awarded to their email address, and those their
hosts put in their collection (upsertCredential), read as one list in issue order."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, String, func, literal, select, union_all
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Credential, LearnerCredential

__all__ = ["CollectionRepository", "Entry"]

#: (where it is kept: "issued" or "upserted", its row id)
Entry = tuple[str, str]


class CollectionRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    def _entries(self, *, email: str, learner_id: str, since: datetime | None) -> Select[Any]:
        issued = select(Credential.issued_at.label("at"), literal("issued", String).label("source"), Credential.id.label("row_id")).where(
            Credential.recipient_email == email
        )
        upserted = select(
            LearnerCredential.issued_at.label("at"), literal("upserted", String).label("source"), LearnerCredential.id.label("row_id")
        ).where(LearnerCredential.learner_id == learner_id)
        if since is not None:
            issued = issued.where(Credential.issued_at > since)
            upserted = upserted.where(LearnerCredential.issued_at > since)
        entries = union_all(issued, upserted).subquery("entries")
        return select(entries.c.at, entries.c.source, entries.c.row_id)

    async def count(self, *, email: str, learner_id: str, since: datetime | None) -> int:
        entries = self._entries(email=email, learner_id=learner_id, since=since).subquery()
        return int(await self.session.scalar(select(func.count()).select_from(entries)) or 0)

    async def page(self, *, email: str, learner_id: str, since: datetime | None, limit: int, offset: int) -> list[Entry]:
        """Oldest first, so the pages a host has read stay put as new credentials arrive."""
        entries = self._entries(email=email, learner_id=learner_id, since=since).subquery()
        statement = select(entries.c.source, entries.c.row_id).order_by(entries.c.at, entries.c.source, entries.c.row_id).limit(limit).offset(offset)
        return [(source, row_id) for source, row_id in (await self.session.execute(statement)).all()]

    async def issued_documents(self, ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        if not ids:
            return {}
        rows = await self.session.execute(select(Credential.id, Credential.document).where(Credential.id.in_(ids)))
        return {row_id: document for row_id, document in rows}

    async def upserted(self, ids: Sequence[str]) -> dict[str, LearnerCredential]:
        if not ids:
            return {}
        rows = await self.session.scalars(select(LearnerCredential).where(LearnerCredential.id.in_(ids)))
        return {row.id: row for row in rows}

    async def upserted_by_key(self, learner_id: str, credential_key: str) -> LearnerCredential | None:
        return await self.session.scalar(
            select(LearnerCredential).where(LearnerCredential.learner_id == learner_id, LearnerCredential.credential_key == credential_key)
        )

    async def issued_to(self, credential_id: str, email: str) -> bool:
        """This service awarded the credential ``credential_id`` to ``email``."""
        found = await self.session.scalar(select(Credential.id).where(Credential.id == credential_id, Credential.recipient_email == email))
        return found is not None

    async def add(self, row: LearnerCredential) -> None:
        self.session.add(row)
        await self.session.flush()
