from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ARRAY, Integer, and_, bindparam, func, literal_column, or_, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.sql.expression import BindParameter

from ..db.models import Achievement, Credential, Job, Pathway, PathwayCompletion, PathwayComponent

__all__ = ["ComponentCredential", "PathwayRepository"]

#: The first half of the two-part advisory lock keys: "a learner's pathways" in this service's locks.
_LEARNER_LOCK_CLASS = 0x6D63_7001

# Every award asks which active pathways its achievements belong to, and gets them with all
# their components in the same answer: one query, which finds nothing for most awards. It starts
# from the components' achievement index (OFFSET 0 keeps the planner from flattening the
# subquery and scanning every active pathway instead, as it did without table statistics).
_TOUCHED: BindParameter[str] = bindparam("achievement_ids", expanding=True)
_TOUCHED_PATHWAYS = (
    select(PathwayComponent.pathway_id)
    .where(PathwayComponent.achievement_id.in_(_TOUCHED))
    .distinct()
    .offset(literal_column("0"))
    .subquery("touched")
)
_PATHWAYS_OF = (
    select(Pathway, PathwayComponent)
    .select_from(_TOUCHED_PATHWAYS)
    .join(Pathway, and_(Pathway.id == _TOUCHED_PATHWAYS.c.pathway_id, Pathway.status == "active"))
    .join(PathwayComponent, PathwayComponent.pathway_id == Pathway.id)
    .order_by(Pathway.id, PathwayComponent.position)
)

# Taken one statement for a whole chunk, in ascending order so that two transactions locking
# overlapping learners never wait for each other in a cycle.
_ORDERED_KEYS = select(func.unnest(bindparam("keys", type_=ARRAY(Integer))).label("k")).order_by("k").subquery()
_LOCK_LEARNERS = select(func.pg_advisory_xact_lock(_LEARNER_LOCK_CLASS, _ORDERED_KEYS.c.k)).select_from(_ORDERED_KEYS)

_CHUNK = 500


@dataclass(frozen=True)
class ComponentCredential:
    """A credential that may count toward a pathway (read as plain columns, committed rows)."""

    id: str
    achievement_id: str
    recipient_email: str | None
    recipient_did: str | None
    recipient_name: str | None
    completed_at: datetime
    issued_at: datetime


def _chunks(values: Sequence[str]) -> Iterable[list[str]]:
    for start in range(0, len(values), _CHUNK):
        yield list(values[start : start + _CHUNK])


class PathwayRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, pathway: Pathway, components: Sequence[PathwayComponent]) -> None:
        self.session.add(pathway)
        await self.session.flush()
        self.session.add_all(components)
        await self.session.flush()

    async def replace_components(self, pathway_id: str, components: Sequence[PathwayComponent]) -> None:
        for old in (await self.components([pathway_id]))[pathway_id]:
            await self.session.delete(old)
        await self.session.flush()
        self.session.add_all(components)
        await self.session.flush()

    async def get(self, issuer_id: str, pathway_id: str, *, for_update: bool = False) -> Pathway | None:
        statement = select(Pathway).where(Pathway.id == pathway_id, Pathway.issuer_id == issuer_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def for_issuer(self, issuer_id: str) -> Sequence[Pathway]:
        statement = select(Pathway).where(Pathway.issuer_id == issuer_id).order_by(Pathway.created_at, Pathway.id)
        return (await self.session.scalars(statement)).all()

    async def components(self, pathway_ids: Sequence[str]) -> dict[str, list[PathwayComponent]]:
        found: dict[str, list[PathwayComponent]] = {pathway_id: [] for pathway_id in pathway_ids}
        if pathway_ids:
            statement = (
                select(PathwayComponent)
                .where(PathwayComponent.pathway_id.in_(pathway_ids))
                .order_by(PathwayComponent.pathway_id, PathwayComponent.position)
            )
            for component in await self.session.scalars(statement):
                found[component.pathway_id].append(component)
        return found

    async def touched_by(self, achievement_ids: Sequence[str]) -> dict[str, tuple[Pathway, list[PathwayComponent]]]:
        """The active pathways with any of these achievements among their components, each
        with all its components."""
        found: dict[str, tuple[Pathway, list[PathwayComponent]]] = {}
        for pathway, component in await self.session.execute(_PATHWAYS_OF, {"achievement_ids": list(achievement_ids)}):
            found.setdefault(pathway.id, (pathway, []))[1].append(component)
        return found

    async def achievement_names(self, achievement_ids: Sequence[str]) -> dict[str, str | None]:
        rows = await self.session.execute(select(Achievement.id, Achievement.definition).where(Achievement.id.in_(achievement_ids)))
        return {achievement_id: definition.get("name") for achievement_id, definition in rows}

    async def achievements(self, achievement_ids: Sequence[str]) -> dict[str, Achievement]:
        rows = await self.session.scalars(select(Achievement).where(Achievement.id.in_(achievement_ids)))
        return {a.id: a for a in rows}

    async def lock_learners(self, keys: Sequence[int]) -> None:
        """Hold each learner's pathway lock until the transaction ends (PostgreSQL; SQLite
        serializes every write transaction anyway)."""
        if keys and (await self.session.connection()).dialect.name == "postgresql":
            await self.session.execute(_LOCK_LEARNERS, {"keys": sorted(set(keys))})

    async def completions(self, pathway_ids: Sequence[str], recipient_keys: Sequence[str]) -> dict[tuple[str, str], str]:
        """(pathway id, recipient key) -> the pathway credential, for those already completed."""
        found: dict[tuple[str, str], str] = {}
        for keys in _chunks(list(recipient_keys)):
            rows = await self.session.execute(
                select(PathwayCompletion.pathway_id, PathwayCompletion.recipient_key, PathwayCompletion.credential_id).where(
                    PathwayCompletion.pathway_id.in_(pathway_ids), PathwayCompletion.recipient_key.in_(keys)
                )
            )
            found.update({(pathway_id, key): credential_id for pathway_id, key, credential_id in rows})
        return found

    async def counting_credentials(
        self, *, issuer_ids: Sequence[str], achievement_ids: Sequence[str], emails: Sequence[str], dids: Sequence[str], now: datetime
    ) -> list[ComponentCredential]:
        """The learners' credentials for these achievements that count now: neither revoked nor
        suspended nor expired. Learners are matched by email, or by DID when they have no email."""
        columns = (
            Credential.id, Credential.achievement_id, Credential.recipient_email, Credential.recipient_did,
            Credential.recipient_name, Credential.completed_at, Credential.issued_at,
        )
        counting = (
            Credential.issuer_id.in_(issuer_ids),
            Credential.achievement_id.in_(achievement_ids),
            Credential.revoked_at.is_(None),
            Credential.suspended_at.is_(None),
            or_(Credential.valid_until.is_(None), Credential.valid_until > now),
        )
        found: list[ComponentCredential] = []
        for values in _chunks(list(emails)):
            rows = await self.session.execute(select(*columns).where(*counting, Credential.recipient_email.in_(values)))
            found.extend(ComponentCredential(*row) for row in rows)
        for values in _chunks(list(dids)):
            rows = await self.session.execute(
                select(*columns).where(*counting, Credential.recipient_email.is_(None), Credential.recipient_did.in_(values))
            )
            found.extend(ComponentCredential(*row) for row in rows)
        return found

    async def documents(self, credential_ids: Sequence[str]) -> dict[str, dict[str, Any]]:
        """The credentials as stored, hence as their URLs serve them."""
        found: dict[str, dict[str, Any]] = {}
        for ids in _chunks(list(credential_ids)):
            rows = await self.session.execute(select(Credential.id, Credential.document).where(Credential.id.in_(ids)))
            found.update({credential_id: document for credential_id, document in rows})
        return found

    async def learners(self, achievement_ids: Sequence[str]) -> tuple[list[str], list[str]]:
        """Everyone holding a credential for any of these achievements: their emails, and the
        DIDs of those identified by a DID alone."""
        emails = await self.session.scalars(
            select(Credential.recipient_email)
            .where(Credential.achievement_id.in_(achievement_ids), Credential.recipient_email.is_not(None))
            .distinct()
            .order_by(Credential.recipient_email)
        )
        dids = await self.session.scalars(
            select(Credential.recipient_did)
            .where(Credential.achievement_id.in_(achievement_ids), Credential.recipient_email.is_(None), Credential.recipient_did.is_not(None))
            .distinct()
            .order_by(Credential.recipient_did)
        )
        return [e for e in emails if e], [d for d in dids if d]

    async def evaluation_job(self, pathway_id: str) -> str | None:
        return await self.session.scalar(
            select(Job.id).where(Job.pathway_id == pathway_id).order_by(Job.created_at.desc(), Job.id.desc()).limit(1)
        )
