"""Issuers may opt into the microcred extension context (off: stock contexts only)

Revision ID: 6c2e9a41d0f3
Revises: 8ee4af937182
Create Date: 2026-12-03 09:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '6c2e9a41d0f3'
down_revision: str | None = '8ee4af937182'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('issuers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('extension_context', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('issuers', schema=None) as batch_op:
        batch_op.drop_column('extension_context')
