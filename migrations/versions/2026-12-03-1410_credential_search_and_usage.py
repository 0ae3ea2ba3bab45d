"""the console's credential search, timelines and usage counts

Indexes for searching an issuer's credentials (by achievement, revoked or suspended, and by any
part of a learner's name or address: trigram GIN indexes, with the pg_trgm extension, on
PostgreSQL), for a credential's timeline (its audit entries and their webhook deliveries), and
the credential_usage table: counts per credential, day and kind, never who.

Revision ID: 3d8f1b6c2a95
Revises: 3f1b7d2c9a64
Create Date: 2026-12-03 13:40:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '3d8f1b6c2a95'
down_revision: str | None = '3f1b7d2c9a64'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    if postgres:
        # A trusted extension since PostgreSQL 13: the database owner may create it.
        op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.create_table(
        'credential_usage',
        sa.Column('credential_id', sa.String(length=36), nullable=False),
        sa.Column('day', sa.Date(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('issuer_id', sa.String(length=64), nullable=False),
        sa.Column('count', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['credential_id'], ['credentials.id'], name=op.f('fk_credential_usage_credential_id_credentials'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_credential_usage_issuer_id_issuers'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('credential_id', 'day', 'kind', name=op.f('pk_credential_usage')),
    )
    op.create_index('ix_credential_usage_issuer_day', 'credential_usage', ['issuer_id', 'day'], unique=False)
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_credentials_issuer_achievement')
        batch_op.create_index('ix_credentials_issuer_achievement_issued', ['issuer_id', 'achievement_id', 'issued_at'], unique=False)
        batch_op.create_index(
            'ix_credentials_issuer_revoked', ['issuer_id', 'issued_at'], unique=False,
            postgresql_where=sa.text('revoked_at IS NOT NULL'), sqlite_where=sa.text('revoked_at IS NOT NULL'),
        )
        batch_op.create_index(
            'ix_credentials_issuer_suspended', ['issuer_id', 'issued_at'], unique=False,
            postgresql_where=sa.text('suspended_at IS NOT NULL'), sqlite_where=sa.text('suspended_at IS NOT NULL'),
        )
        batch_op.create_index(
            'ix_credentials_recipient_name_trgm', ['recipient_name'], unique=False,
            postgresql_using='gin', postgresql_ops={'recipient_name': 'gin_trgm_ops'},
        )
        batch_op.create_index(
            'ix_credentials_recipient_email_trgm', ['recipient_email'], unique=False,
            postgresql_using='gin', postgresql_ops={'recipient_email': 'gin_trgm_ops'},
        )
    op.create_index('ix_audit_log_subject_seq', 'audit_log', ['subject', 'seq'], unique=False)
    op.create_index('ix_webhook_deliveries_event', 'webhook_deliveries', ['event_id'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_webhook_deliveries_event', table_name='webhook_deliveries')
    op.drop_index('ix_audit_log_subject_seq', table_name='audit_log')
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_credentials_recipient_email_trgm')
        batch_op.drop_index('ix_credentials_recipient_name_trgm')
        batch_op.drop_index('ix_credentials_issuer_suspended')
        batch_op.drop_index('ix_credentials_issuer_revoked')
        batch_op.drop_index('ix_credentials_issuer_achievement_issued')
        batch_op.create_index('ix_credentials_issuer_achievement', ['issuer_id', 'achievement_id'], unique=False)
    op.drop_index('ix_credential_usage_issuer_day', table_name='credential_usage')
    op.drop_table('credential_usage')
