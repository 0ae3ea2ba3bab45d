"""a credential's external_id is unique per issuer, whatever Idempotency-Key came with it

Until now only the dedup key (the Idempotency-Key when one was sent) was unique, so awards of
one external_id under different keys each made a credential. Credentials without an
external_id (NULL) stay as many as they are.

Duplicates made before this revision keep their credentials: the earliest of each
(issuer_id, external_id) keeps the external_id, the later ones lose it (it is not part of any
signed credential; the audit log's credential.issued events still name it). Their ids are
logged.

Revision ID: 7c2e91a4d5b3
Revises: 6a0c4e2f9d17
Create Date: 2026-12-03 10:00:00
"""
from __future__ import annotations

import logging
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c2e91a4d5b3'
down_revision: str | None = '6a0c4e2f9d17'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

log = logging.getLogger("alembic.runtime.migration")


def upgrade() -> None:
    connection = op.get_bind()
    ranked = sa.text(
        "SELECT id FROM (SELECT id, ROW_NUMBER() OVER (PARTITION BY issuer_id, external_id ORDER BY issued_at, id) AS n "
        "FROM credentials WHERE external_id IS NOT NULL) AS r WHERE n > 1"
    )
    later = [row[0] for row in connection.execute(ranked)]
    for start in range(0, len(later), 500):
        chunk = later[start : start + 500]
        connection.execute(
            sa.text("UPDATE credentials SET external_id = NULL WHERE id IN :ids").bindparams(sa.bindparam("ids", expanding=True)), {"ids": chunk}
        )
    if later:
        log.warning("external_id cleared on %d later duplicate credential(s): %s", len(later), ", ".join(later))
    with op.batch_alter_table('credentials') as batch:
        batch.create_unique_constraint('uq_credentials_issuer_id_external_id', ['issuer_id', 'external_id'])


def downgrade() -> None:
    with op.batch_alter_table('credentials') as batch:
        batch.drop_constraint('uq_credentials_issuer_id_external_id', type_='unique')
