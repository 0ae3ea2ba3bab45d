"""the credentials' unique (dedup_key, issuer_id) index leads with dedup_key

Looking up a chunk's dedup keys could then use no other index: with issuer_id first, a planner
without table statistics took any issuer_id index and scanned every credential of the issuer
for each chunk of a bulk job (bench/README.md).

Revision ID: 5b1f0c2d7e41
Revises: 0ef55a64ffcc
Create Date: 2026-11-23 14:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = '5b1f0c2d7e41'
down_revision: str | None = '0ef55a64ffcc'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('credentials') as batch:
        batch.drop_constraint('uq_credentials_issuer_id_dedup_key', type_='unique')
        batch.create_unique_constraint('uq_credentials_dedup_key_issuer_id', ['dedup_key', 'issuer_id'])


def downgrade() -> None:
    with op.batch_alter_table('credentials') as batch:
        batch.drop_constraint('uq_credentials_dedup_key_issuer_id', type_='unique')
        batch.create_unique_constraint('uq_credentials_issuer_id_dedup_key', ['issuer_id', 'dedup_key'])
