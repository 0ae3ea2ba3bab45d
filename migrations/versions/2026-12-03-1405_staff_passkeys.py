"""staff passkeys (WebAuthn), their challenges, sessions confirmed with one, and issuers that require passkeys (the console)

Revision ID: 3f1b7d2c9a64
Revises: 993a21a4ccb7
Create Date: 2026-12-03 14:05:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '3f1b7d2c9a64'
down_revision: str | None = '993a21a4ccb7'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('issuer_passkey_requirements',
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.Column('required_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_issuer_passkey_requirements_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issuer_id', name=op.f('pk_issuer_passkey_requirements'))
    )
    op.create_table('staff_passkey_challenges',
    sa.Column('challenge_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('staff_id', sa.String(length=36), nullable=True),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_passkey_challenges_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('challenge_hash', name=op.f('pk_staff_passkey_challenges'))
    )
    with op.batch_alter_table('staff_passkey_challenges', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_passkey_challenges_expires_at'), ['expires_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_staff_passkey_challenges_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_passkeys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('staff_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.JSON(), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_passkeys_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_passkeys')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_staff_passkeys_credential_id'))
    )
    with op.batch_alter_table('staff_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_passkeys_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_session_passkeys',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('passkey_id', sa.String(length=36), nullable=False),
    sa.Column('verified_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['passkey_id'], ['staff_passkeys.id'], name=op.f('fk_staff_session_passkeys_passkey_id_staff_passkeys'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['token_hash'], ['staff_sessions.token_hash'], name=op.f('fk_staff_session_passkeys_token_hash_staff_sessions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_staff_session_passkeys'))
    )
    with op.batch_alter_table('staff_session_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_session_passkeys_passkey_id'), ['passkey_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('staff_session_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_session_passkeys_passkey_id'))

    op.drop_table('staff_session_passkeys')
    with op.batch_alter_table('staff_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_passkeys_staff_id'))

    op.drop_table('staff_passkeys')
    with op.batch_alter_table('staff_passkey_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_passkey_challenges_staff_id'))
        batch_op.drop_index(batch_op.f('ix_staff_passkey_challenges_expires_at'))

    op.drop_table('staff_passkey_challenges')
    op.drop_table('issuer_passkey_requirements')
