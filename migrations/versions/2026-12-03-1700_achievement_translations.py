"""achievement translations: each published version in the other languages it was written in

Revision ID: 7c4a2e9d5b61
Revises: 2b7e5d9a4c61
Create Date: 2026-12-03 17:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c4a2e9d5b61'
down_revision: str | None = '2b7e5d9a4c61'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of achievement_versions on SQLite would cascade to credentials.
    op.add_column('achievement_versions', sa.Column('translations', sa.JSON(), nullable=True))


def downgrade() -> None:
    op.drop_column('achievement_versions', 'translations')
