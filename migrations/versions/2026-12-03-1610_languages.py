"""languages: a learner's language setting and an issuer's default language

Revision ID: 5e1d7a3c9b42
Revises: 8b2e4c7d1f30
Create Date: 2026-12-03 16:10:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '5e1d7a3c9b42'
down_revision: str | None = '8b2e4c7d1f30'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN: a batch copy of issuers on SQLite would cascade-delete credentials.
    op.add_column('learners', sa.Column('language', sa.String(length=8), nullable=True))
    op.add_column('issuers', sa.Column('default_language', sa.String(length=8), server_default='en', nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('issuers') as batch:
        batch.drop_column('default_language')
    with op.batch_alter_table('learners') as batch:
        batch.drop_column('language')
