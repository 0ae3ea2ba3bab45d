"""the backpack: learners' other addresses, share-all links, and each credential's visibility

A learner's further verified addresses (and the one-time links that verify them), their "share
all" links, and on credentials the visibility the learner chose (listed by default) with the
secret part of an unlisted page's URL.

Revision ID: 7c2e9a41b0d3
Revises: 3d8f1b6c2a95
Create Date: 2026-12-03 14:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c2e9a41b0d3'
down_revision: str | None = '3d8f1b6c2a95'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "learner_addresses",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("verified_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name=op.f("fk_learner_addresses_learner_id_learners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("email", name=op.f("pk_learner_addresses")),
    )
    op.create_index(op.f("ix_learner_addresses_learner_id"), "learner_addresses", ["learner_id"])
    op.create_table(
        "learner_address_links",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name=op.f("fk_learner_address_links_learner_id_learners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token_hash", name=op.f("pk_learner_address_links")),
    )
    op.create_index(op.f("ix_learner_address_links_learner_id"), "learner_address_links", ["learner_id"])
    op.create_table(
        "learner_share_links",
        sa.Column("token", sa.String(length=64), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=False),
        sa.Column("include_unlisted", sa.Boolean(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name=op.f("fk_learner_share_links_learner_id_learners"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_learner_share_links")),
    )
    op.create_index(op.f("ix_learner_share_links_learner_id"), "learner_share_links", ["learner_id"])
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("visibility", sa.String(length=16), server_default="listed", nullable=False))
        batch.add_column(sa.Column("page_secret", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("page_secret")
        batch.drop_column("visibility")
    op.drop_index(op.f("ix_learner_share_links_learner_id"), table_name="learner_share_links")
    op.drop_table("learner_share_links")
    op.drop_index(op.f("ix_learner_address_links_learner_id"), table_name="learner_address_links")
    op.drop_table("learner_address_links")
    op.drop_index(op.f("ix_learner_addresses_learner_id"), table_name="learner_addresses")
    op.drop_table("learner_addresses")
