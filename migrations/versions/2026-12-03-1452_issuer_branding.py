"""issuer branding: a logo stored by the service and the credential page's colours

Revision ID: 8b2e4c7d1f30
Revises: 7c2e9a41b0d3
Create Date: 2026-12-03 14:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '8b2e4c7d1f30'
down_revision: str | None = '7c2e9a41b0d3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Plain ADD COLUMN (no batch copy of the table on SQLite: a copy would delete every
    # credential through ON DELETE CASCADE).
    op.add_column('issuers', sa.Column('logo', sa.LargeBinary(), nullable=True))
    op.add_column('issuers', sa.Column('logo_media_type', sa.String(length=32), nullable=True))
    op.add_column('issuers', sa.Column('logo_digest', sa.String(length=64), nullable=True))
    op.add_column('issuers', sa.Column('brand_colour', sa.String(length=7), nullable=True))
    op.add_column('issuers', sa.Column('accent_colour', sa.String(length=7), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('issuers') as batch:
        for name in ('accent_colour', 'brand_colour', 'logo_digest', 'logo_media_type', 'logo'):
            batch.drop_column(name)
