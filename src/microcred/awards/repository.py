from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import ARRAY, String, and_, any_, bindparam, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import AchievementVersion, Credential

__all__ = ["CredentialRepository"]


class CredentialRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def get(self, issuer_id: str, credential_id: str) -> Credential | None:
        return await self.session.scalar(
            select(Credential).where(Credential.id == credential_id, Credential.issuer_id == issuer_id)
        )

    async def by_dedup_key(self, issuer_id: str, dedup_key: str) -> Credential | None:
        return await self.session.scalar(
            select(Credential).where(Credential.issuer_id == issuer_id, Credential.dedup_key == dedup_key)
        )

    async def insert_unless_awarded(self, credential: Credential) -> bool:
        """Insert, or do nothing if the issuer already has a credential with this dedup key
        (one statement, no savepoint; the unique constraint settles races between workers)."""
        values = {c.key: getattr(credential, c.key) for c in Credential.__table__.columns}
        dialect = self.session.bind.dialect.name if self.session.bind is not None else ""
        insert_ = postgresql.insert if dialect == "postgresql" else sqlite.insert
        statement = (
            insert_(Credential)
            .values(**values)
            .on_conflict_do_nothing(index_elements=["issuer_id", "dedup_key"])
            .returning(Credential.id)
        )
        return (await self.session.scalar(statement)) is not None

    async def by_dedup_keys(self, issuer_id: str, dedup_keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """dedup key -> (credential id, request hash), for the keys already awarded."""
        found: dict[str, tuple[str, str]] = {}
        postgres = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        for start in range(0, len(dedup_keys), 500):
            keys = list(dedup_keys[start : start + 500])
            # On PostgreSQL one array parameter, so the plan (and its cached generic form) is an
            # index lookup whatever the table statistics say; an IN list of 500 parameters was
            # planned as a scan once the prepared statement went generic (bench/README.md).
            matches = (
                Credential.dedup_key == any_(bindparam("keys", keys, type_=ARRAY(String)))
                if postgres
                else Credential.dedup_key.in_(keys)
            )
            rows = await self.session.execute(
                select(Credential.dedup_key, Credential.id, Credential.request_hash).where(
                    Credential.issuer_id == issuer_id, matches
                )
            )
            found.update({key: (cid, digest) for key, cid, digest in rows})
        return found

    async def page(
        self,
        issuer_id: str,
        *,
        recipient_email: str | None,
        recipient_did: str | None,
        achievement_id: str | None,
        issued_after: datetime | None,
        issued_before: datetime | None,
        after: tuple[datetime, str] | None,
        limit: int,
    ) -> Sequence[tuple[Credential, int]]:
        """Newest first, keyset-paginated on (issued_at, id); each with its achievement version."""
        statement = (
            select(Credential, AchievementVersion.version)
            .join(AchievementVersion, AchievementVersion.id == Credential.achievement_version_id)
            .where(Credential.issuer_id == issuer_id)
        )
        if recipient_email is not None:
            statement = statement.where(Credential.recipient_email == recipient_email)
        if recipient_did is not None:
            statement = statement.where(Credential.recipient_did == recipient_did)
        if achievement_id is not None:
            statement = statement.where(Credential.achievement_id == achievement_id)
        if issued_after is not None:
            statement = statement.where(Credential.issued_at >= issued_after)
        if issued_before is not None:
            statement = statement.where(Credential.issued_at < issued_before)
        if after is not None:
            at, last_id = after
            statement = statement.where(
                or_(Credential.issued_at < at, and_(Credential.issued_at == at, Credential.id < last_id))
            )
        statement = statement.order_by(Credential.issued_at.desc(), Credential.id.desc()).limit(limit)
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]
