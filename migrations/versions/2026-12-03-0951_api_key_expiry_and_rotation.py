"""API keys: an optional expiry, and when the key was last rotated

Revision ID: 6a0c4e2f9d17
Revises: 6c2e9a41d0f3
Create Date: 2026-12-03 09:45:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '6a0c4e2f9d17'
down_revision: str | None = '6c2e9a41d0f3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True))
        batch_op.add_column(sa.Column('rotated_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('api_clients', schema=None) as batch_op:
        batch_op.drop_column('rotated_at')
        batch_op.drop_column('expires_at')
