"""learner email delivery: the email outbox and the issuer's email settings

Revision ID: 7c2e9a4d1f03
Revises: 3d8f1b6c2a95
Create Date: 2026-12-03 14:50:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '7c2e9a4d1f03'
down_revision: str | None = '3d8f1b6c2a95'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        'email_deliveries',
        sa.Column('id', sa.String(length=36), nullable=False),
        sa.Column('issuer_id', sa.String(length=64), nullable=False),
        sa.Column('credential_id', sa.String(length=36), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('recipient', sa.String(length=320), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_email_deliveries_credential_id_credentials'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_email_deliveries_issuer_id_issuers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_email_deliveries')),
        sa.UniqueConstraint('credential_id', 'kind', name=op.f('uq_email_deliveries_credential_id_kind')),
    )
    op.create_index('ix_email_deliveries_due', 'email_deliveries', ['status', 'next_attempt_at'], unique=False)
    op.create_index('ix_email_deliveries_issuer_created', 'email_deliveries', ['issuer_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_email_deliveries_credential_id'), 'email_deliveries', ['credential_id'], unique=False)
    # Plain ADD COLUMNs (no table copy on SQLite, where dropping issuers would cascade).
    op.add_column('issuers', sa.Column('email_enabled', sa.Boolean(), server_default=sa.true(), nullable=False))
    op.add_column('issuers', sa.Column('email_rate_per_second', sa.Float(), server_default='10', nullable=False))
    op.add_column('issuers', sa.Column('email_sender_name', sa.String(length=128), nullable=True))
    op.add_column('issuers', sa.Column('email_reply_to', sa.String(length=320), nullable=True))
    op.add_column('issuers', sa.Column('notify_on_revocation', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade() -> None:
    with op.batch_alter_table('issuers') as batch:
        for column in ('notify_on_revocation', 'email_reply_to', 'email_sender_name', 'email_rate_per_second', 'email_enabled'):
            batch.drop_column(column)
    op.drop_index(op.f('ix_email_deliveries_credential_id'), table_name='email_deliveries')
    op.drop_index('ix_email_deliveries_issuer_created', table_name='email_deliveries')
    op.drop_index('ix_email_deliveries_due', table_name='email_deliveries')
    op.drop_table('email_deliveries')
