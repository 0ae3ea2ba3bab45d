"""learners and OAuth 2.0 for the OB 3.0 API

Learner accounts (bound to a verified email), their sign-in links and browser sessions, the
credentials their hosts upsert; OAuth clients, authorization codes and tokens (all secrets kept as
SHA-256); and an index to find a learner's credentials from every issuer by recipient_email.

Revision ID: 0d79e8a78cd1
Revises: 5caa1d60e05a
Create Date: 2026-11-23 15:59:53.768586
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '0d79e8a78cd1'
down_revision: str | None = '3d3ab9bd39fe'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learner_sign_in_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('next_path', sa.String(length=4096), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_learner_sign_in_links'))
    )
    with op.batch_alter_table('learner_sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_sign_in_links_email'), ['email'], unique=False)

    op.create_table('learners',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('profile', sa.JSON(), nullable=False),
    sa.Column('verified_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learners')),
    sa.UniqueConstraint('email', name=op.f('uq_learners_email'))
    )
    op.create_table('oauth_clients',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('secret_hash', sa.String(length=64), nullable=True),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('registration', sa.JSON(), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_oauth_clients'))
    )
    op.create_table('learner_credentials',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=False),
    sa.Column('credential_key', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.Text(), nullable=False),
    sa.Column('document', sa.JSON(), nullable=True),
    sa.Column('compact_jws', sa.Text(), nullable=True),
    sa.Column('issued_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_learner_credentials_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_credentials')),
    sa.UniqueConstraint('learner_id', 'credential_key', name=op.f('uq_learner_credentials_learner_id_credential_key'))
    )
    with op.batch_alter_table('learner_credentials', schema=None) as batch_op:
        batch_op.create_index('ix_learner_credentials_learner_issued', ['learner_id', 'issued_at'], unique=False)

    op.create_table('learner_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_learner_sessions_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_learner_sessions'))
    )
    with op.batch_alter_table('learner_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_sessions_learner_id'), ['learner_id'], unique=False)

    op.create_table('oauth_authorization_codes',
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=False),
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('redirect_uri', sa.String(length=2048), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('code_challenge', sa.String(length=128), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], name=op.f('fk_oauth_authorization_codes_client_id_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_oauth_authorization_codes_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('code_hash', name=op.f('pk_oauth_authorization_codes'))
    )
    with op.batch_alter_table('oauth_authorization_codes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_authorization_codes_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_authorization_codes_learner_id'), ['learner_id'], unique=False)

    op.create_table('oauth_tokens',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('family_id', sa.String(length=36), nullable=False),
    sa.Column('client_id', sa.String(length=64), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=False),
    sa.Column('scope', sa.String(length=1000), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revoked_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['client_id'], ['oauth_clients.id'], name=op.f('fk_oauth_tokens_client_id_oauth_clients'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_oauth_tokens_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_oauth_tokens'))
    )
    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_oauth_tokens_client_id'), ['client_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_tokens_family_id'), ['family_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_oauth_tokens_learner_id'), ['learner_id'], unique=False)

    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.create_index('ix_credentials_recipient_email_issued', ['recipient_email', 'issued_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_credentials_recipient_email_issued')

    with op.batch_alter_table('oauth_tokens', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_learner_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_family_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_tokens_client_id'))

    op.drop_table('oauth_tokens')
    with op.batch_alter_table('oauth_authorization_codes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_codes_learner_id'))
        batch_op.drop_index(batch_op.f('ix_oauth_authorization_codes_client_id'))

    op.drop_table('oauth_authorization_codes')
    with op.batch_alter_table('learner_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_sessions_learner_id'))

    op.drop_table('learner_sessions')
    with op.batch_alter_table('learner_credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_learner_credentials_learner_issued')

    op.drop_table('learner_credentials')
    op.drop_table('oauth_clients')
    op.drop_table('learners')
    with op.batch_alter_table('learner_sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_sign_in_links_email'))

    op.drop_table('learner_sign_in_links')
