from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import defer

from ..db.models import BulkMapping, BulkUpload, Job

__all__ = ["BulkRepository"]


class BulkRepository:
    def __init__(self, session: AsyncSession) -> None:
        self.session = session

    async def add(self, upload: BulkUpload) -> None:
        self.session.add(upload)
        await self.session.flush()

    async def upload(self, issuer_id: str, upload_id: str, *, for_update: bool = False) -> BulkUpload | None:
        statement = select(BulkUpload).where(BulkUpload.id == upload_id, BulkUpload.issuer_id == issuer_id)
        if for_update:
            statement = statement.with_for_update()
        return await self.session.scalar(statement)

    async def forget_unsubmitted(self, issuer_id: str, *, before: datetime) -> None:
        await self.session.execute(
            delete(BulkUpload).where(BulkUpload.issuer_id == issuer_id, BulkUpload.job_id.is_(None), BulkUpload.created_at < before)
        )

    async def recent(self, issuer_id: str, *, limit: int) -> Sequence[tuple[BulkUpload, Job | None]]:
        """The issuer's latest uploads, newest first, each with its job if submitted (the files'
        contents are not loaded)."""
        statement = (
            select(BulkUpload, Job)
            .outerjoin(Job, Job.id == BulkUpload.job_id)
            .where(BulkUpload.issuer_id == issuer_id)
            .options(defer(BulkUpload.content))
            .order_by(BulkUpload.created_at.desc(), BulkUpload.id)
            .limit(limit)
        )
        return [(row[0], row[1]) for row in (await self.session.execute(statement)).all()]

    async def mapping(self, issuer_id: str) -> BulkMapping | None:
        return await self.session.get(BulkMapping, issuer_id)

    async def remember(self, mapping: BulkMapping) -> None:
        """Insert or replace the issuer's mapping in one statement (two members choosing at once
        cannot collide on the primary key)."""
        connection = await self.session.connection()
        insert = postgresql.insert if connection.dialect.name == "postgresql" else sqlite.insert
        values = {"issuer_id": mapping.issuer_id, "columns": mapping.columns, "date_order": mapping.date_order, "updated_at": mapping.updated_at}
        statement = insert(BulkMapping).values(values)
        await self.session.execute(
            statement.on_conflict_do_update(
                index_elements=[BulkMapping.issuer_id],
                set_={"columns": statement.excluded["columns"], "date_order": statement.excluded["date_order"], "updated_at": statement.excluded["updated_at"]},
            )
        )
