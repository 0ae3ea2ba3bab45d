from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import Table, and_, bindparam, func, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from ..db.models import Credential, CredentialUsage

__all__ = ["UsageRepository"]

_USAGE: Table = CredentialUsage.__table__  # type: ignore[assignment]


def _bump(dialect_insert: Any) -> Any:
    """One statement: add one to (credential, day, kind), taking the issuer from the credential;
    a credential that does not exist inserts nothing (no foreign key error to recover from)."""
    source: Any = select(
        Credential.id, bindparam("day"), bindparam("kind"), Credential.issuer_id, literal(1)
    ).where(Credential.id == bindparam("credential_id"))
    statement = dialect_insert(_USAGE).from_select(["credential_id", "day", "kind", "issuer_id", "count"], source)
    return statement.on_conflict_do_update(
        index_elements=["credential_id", "day", "kind"], set_={"count": _USAGE.c.count + 1}
    )


_BUMP = {name: _bump(dialect_insert) for name, dialect_insert in (("postgresql", postgresql.insert), ("sqlite", sqlite.insert))}


class UsageRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def bump(self, credential_id: str, *, kind: str, day: date) -> None:
        connection = await self.session.connection()
        await connection.execute(_BUMP[connection.dialect.name], {"credential_id": credential_id, "day": day, "kind": kind})

    async def of_credential(self, credential_id: str) -> list[tuple[date, str, int]]:
        """Every (day, kind, count) of one credential, oldest first."""
        rows = await self.session.execute(
            select(CredentialUsage.day, CredentialUsage.kind, CredentialUsage.count)
            .where(CredentialUsage.credential_id == credential_id)
            .order_by(CredentialUsage.day, CredentialUsage.kind)
        )
        return [(day, kind, count) for day, kind, count in rows]

    async def totals_for_issuer(self, issuer_id: str, *, since: date) -> dict[str, int]:
        """kind -> uses of the issuer's credentials from ``since`` on."""
        rows = await self.session.execute(
            select(CredentialUsage.kind, func.sum(CredentialUsage.count))
            .where(and_(CredentialUsage.issuer_id == issuer_id, CredentialUsage.day >= since))
            .group_by(CredentialUsage.kind)
        )
        return {kind: int(total or 0) for kind, total in rows}
