"""email paces: each issuer's next email slot, shared by every sender of the service

Revision ID: 2b7e5d9a4c61
Revises: 9c4a2e7f1b58
Create Date: 2026-12-03 16:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '2b7e5d9a4c61'
down_revision: str | None = '9c4a2e7f1b58'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'email_paces',
        sa.Column('issuer_id', sa.String(length=64), nullable=False),
        sa.Column('next_slot_at', sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_email_paces_issuer_id_issuers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('issuer_id', name=op.f('pk_email_paces')),
    )


def downgrade() -> None:
    op.drop_table('email_paces')
