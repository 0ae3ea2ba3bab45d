"""the backpack: learners' other addresses, share-all links, name-correction requests, and each credential's visibility

A learner's further verified addresses (and the one-time links that verify them), their "share
all" links, their requests to correct a credential's name, and on credentials the visibility the learner chose (listed by default) with the
secret part of an unlisted page's URL.

Revision ID: 7c2e9a41b0d3
Revises: 7c2e9a4d1f03
Create Date: 2026-12-03 14:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '7c2e9a41b0d3'
down_revision: str | None = '7c2e9a4d1f03'
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
    op.create_table(
        "name_corrections",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("issuer_id", sa.String(length=64), nullable=False),
        sa.Column("credential_id", sa.String(length=36), nullable=False),
        sa.Column("learner_id", sa.String(length=36), nullable=True),
        sa.Column("requested_name", sa.String(length=512), nullable=False),
        sa.Column("note", sa.String(length=1000), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("replacement_id", sa.String(length=36), nullable=True),
        sa.ForeignKeyConstraint(["credential_id"], ["credentials.id"], name=op.f("fk_name_corrections_credential_id_credentials"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["issuer_id"], ["issuers.id"], name=op.f("fk_name_corrections_issuer_id_issuers"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["learner_id"], ["learners.id"], name=op.f("fk_name_corrections_learner_id_learners"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_name_corrections")),
    )
    op.create_index(op.f("ix_name_corrections_credential_id"), "name_corrections", ["credential_id"])
    op.create_index(op.f("ix_name_corrections_learner_id"), "name_corrections", ["learner_id"])
    op.create_index("ix_name_corrections_issuer_status", "name_corrections", ["issuer_id", "status", "created_at"])
    with op.batch_alter_table("credentials") as batch:
        batch.add_column(sa.Column("visibility", sa.String(length=16), server_default="listed", nullable=False))
        batch.add_column(sa.Column("page_secret", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("credentials") as batch:
        batch.drop_column("page_secret")
        batch.drop_column("visibility")
    op.drop_table("name_corrections")
    op.drop_index(op.f("ix_learner_share_links_learner_id"), table_name="learner_share_links")
    op.drop_table("learner_share_links")
    op.drop_index(op.f("ix_learner_address_links_learner_id"), table_name="learner_address_links")
    op.drop_table("learner_address_links")
    op.drop_index(op.f("ix_learner_addresses_learner_id"), table_name="learner_addresses")
    op.drop_table("learner_addresses")
