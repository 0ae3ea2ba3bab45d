from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from datetime import datetime

from sqlalchemy import ARRAY, ColumnElement, Select, String, Table, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import AchievementVersion, Credential

__all__ = ["CredentialRepository"]

_CREDENTIALS: Table = Credential.__table__  # type: ignore[assignment]
# A Core statement on the table, built once per dialect: the ORM's bulk-insert path and a
# statement rebuilt with .values() per award cost more than the INSERT itself.
_INSERT_UNLESS_AWARDED = {
    # No conflict target: the unique (dedup_key, issuer_id) and (external_id, issuer_id) both
    # mean "already awarded"; the caller looks up which.
    name: dialect_insert(_CREDENTIALS).on_conflict_do_nothing().returning(_CREDENTIALS.c.id)
    for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))
}


# On PostgreSQL, one lookup per key in the unique (dedup_key, issuer_id) index, whatever the
# planner believes about the table. "issuer_id = :issuer AND dedup_key = ANY(:keys)" was planned,
# once the prepared statement went generic and without table statistics (CI runs with autovacuum
# off), as a scan of every credential of the issuer for each chunk: 50 ms per chunk at 20,000
# credentials, and growing (bench/README.md). Here only the unique index matches the subquery, and
# OFFSET 0 keeps the issuer condition (checked outside) from being pushed into it.
def _awarded_by(column: Any, param: str, name: str, alias: str) -> Select[Any]:
    """(value, credential id, request hash) for each of ``param``'s values an issuer awarded
    under, one lookup per value in ``column``'s unique (value, issuer_id) index (OFFSET 0 keeps
    the issuer condition, checked outside, from being pushed into it)."""
    values = func.unnest(bindparam(param, type_=ARRAY(String))).table_valued(name).render_derived(name=alias)
    found = (
        select(Credential.issuer_id, column, Credential.id, Credential.request_hash)
        .where(column == values.c[name])
        .offset(literal_column("0"))
        .lateral("awarded")
    )
    return (
        select(found.c[column.key], found.c.id, found.c.request_hash)
        .select_from(values)
        .join(found, found.c.issuer_id == bindparam("issuer_id"))
    )


_AWARDED_KEYS_PG = _awarded_by(Credential.dedup_key, "keys", "key", "k")

# The same for external ids, in the unique (external_id, issuer_id) index. "issuer_id = :issuer
# AND external_id IN (...)" could take any issuer_id index and filter (as a test run's planner,
# with statistics saying the issuer was rare, did). An external id many issuers use ("42") costs
# a few more entries of this index, never a row of the table.
_AWARDED_EXTERNAL_IDS_PG = _awarded_by(Credential.external_id, "external_ids", "external_id", "e")


def _in_state(state: str, now: datetime) -> ColumnElement[bool]:
    """The SQL of status.service.credential_state: revoked, else suspended, else expired, else active."""
    revoked, suspended = Credential.revoked_at.is_not(None), Credential.suspended_at.is_not(None)
    expired = and_(Credential.valid_until.is_not(None), Credential.valid_until < now)
    if state == "revoked":
        return revoked
    if state == "suspended":
        return and_(~revoked, suspended)
    if state == "expired":
        return and_(~revoked, ~suspended, expired)
    if state == "active":
        return and_(~revoked, ~suspended, or_(Credential.valid_until.is_(None), Credential.valid_until >= now))
    raise ValueError(f"unknown credential state {state!r}")


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

    async def by_external_id(self, issuer_id: str, external_id: str) -> Credential | None:
        return await self.session.scalar(
            select(Credential).where(Credential.issuer_id == issuer_id, Credential.external_id == external_id)
        )

    async def by_external_ids(self, issuer_id: str, external_ids: Sequence[str]) -> dict[str, tuple[str, str]]:
        """external id -> (credential id, request hash), for the external ids already awarded."""
        found: dict[str, tuple[str, str]] = {}
        postgres = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        for start in range(0, len(external_ids), 500):
            chunk = list(external_ids[start : start + 500])
            if postgres:
                rows = await self.session.execute(_AWARDED_EXTERNAL_IDS_PG, {"issuer_id": issuer_id, "external_ids": chunk})
            else:
                rows = await self.session.execute(
                    select(Credential.external_id, Credential.id, Credential.request_hash).where(
                        Credential.issuer_id == issuer_id, Credential.external_id.in_(chunk)
                    )
                )
            found.update({external_id: (cid, digest) for external_id, cid, digest in rows if external_id is not None})
        return found

    async def insert_unless_awarded(self, credential: Credential) -> bool:
        """Insert, or do nothing if the issuer already has a credential with this dedup key or
        external id (one statement, no savepoint; the unique constraints settle races between
        workers)."""
        connection = await self.session.connection()
        statement = _INSERT_UNLESS_AWARDED[connection.dialect.name]
        # A column left unset with a server default (a credential's visibility) takes that default.
        values = {c.key: v for c in _CREDENTIALS.columns if (v := getattr(credential, c.key)) is not None or c.server_default is None}
        return (await connection.execute(statement, values)).scalar() is not None

    async def by_dedup_keys(self, issuer_id: str, dedup_keys: Sequence[str]) -> dict[str, tuple[str, str]]:
        """dedup key -> (credential id, request hash), for the keys already awarded."""
        found: dict[str, tuple[str, str]] = {}
        postgres = self.session.bind is not None and self.session.bind.dialect.name == "postgresql"
        for start in range(0, len(dedup_keys), 500):
            keys = list(dedup_keys[start : start + 500])
            if postgres:
                rows = await self.session.execute(_AWARDED_KEYS_PG, {"issuer_id": issuer_id, "keys": keys})
            else:
                rows = await self.session.execute(
                    select(Credential.dedup_key, Credential.id, Credential.request_hash).where(
                        Credential.issuer_id == issuer_id, Credential.dedup_key.in_(keys)
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
        state: str | None = None,
        now: datetime | None = None,
        learner: str | None = None,
    ) -> Sequence[tuple[Credential, int]]:
        """Newest first, keyset-paginated on (issued_at, id); each with its achievement version.
        ``learner``: any part of the learner's name or email address, case-insensitive (trigram
        indexes answer it on PostgreSQL; SQLite folds the case of ASCII letters only)."""
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
        if learner:
            pattern = "%" + learner.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
            statement = statement.where(
                or_(Credential.recipient_name.ilike(pattern, escape="\\"), Credential.recipient_email.ilike(pattern, escape="\\"))
            )
        if issued_after is not None:
            statement = statement.where(Credential.issued_at >= issued_after)
        if issued_before is not None:
            statement = statement.where(Credential.issued_at < issued_before)
        if state is not None:
            if now is None:
                raise ValueError("a state filter needs now")
            statement = statement.where(_in_state(state, now))
        if after is not None:
            at, last_id = after
            statement = statement.where(
                or_(Credential.issued_at < at, and_(Credential.issued_at == at, Credential.id < last_id))
            )
        statement = statement.order_by(Credential.issued_at.desc(), Credential.id.desc()).limit(limit)
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]
