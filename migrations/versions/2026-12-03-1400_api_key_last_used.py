"""API keys: when each was last used (written at most once a minute per key)

Revision ID: 3f8b1d6c2a90
Revises: 6a0699889a55
Create Date: 2026-12-03 14:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '3f8b1d6c2a90'
down_revision: str | None = '6a0699889a55'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_column('last_used_at')
