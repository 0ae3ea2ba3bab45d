"""stored images: achievement badge images copied to the service's own origin

Revision ID: 9c4a2e7f1b58
Revises: 5e1d7a3c9b42
Create Date: 2026-12-03 16:30:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '9c4a2e7f1b58'
down_revision: str | None = '5e1d7a3c9b42'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'stored_images',
        sa.Column('digest', sa.String(length=64), nullable=False),
        sa.Column('media_type', sa.String(length=32), nullable=False),
        sa.Column('content', sa.LargeBinary(), nullable=False),
        sa.Column('source_url', sa.String(length=2048), nullable=False),
        sa.Column('created_at', sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('digest', name=op.f('pk_stored_images')),
    )


def downgrade() -> None:
    op.drop_table('stored_images')
