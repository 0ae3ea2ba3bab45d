"""learner passkeys (WebAuthn) and their challenges (the backpack)

Revision ID: 8c4e2a6f1d37
Revises: 7c4a2e9d5b61
Create Date: 2026-12-03 16:40:00.000000
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '8c4e2a6f1d37'
down_revision: str | None = '7c4a2e9d5b61'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('learner_passkey_challenges',
    sa.Column('challenge_hash', sa.String(length=64), nullable=False),
    sa.Column('purpose', sa.String(length=16), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=True),
    sa.Column('browser_hash', sa.String(length=64), nullable=True),
    sa.Column('client_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_learner_passkey_challenges_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('challenge_hash', name=op.f('pk_learner_passkey_challenges'))
    )
    with op.batch_alter_table('learner_passkey_challenges', schema=None) as batch_op:
        batch_op.create_index('ix_learner_passkey_challenges_client_created', ['client_hash', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_passkey_challenges_created_at'), ['created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_learner_passkey_challenges_learner_id'), ['learner_id'], unique=False)

    op.create_table('learner_passkeys',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('learner_id', sa.String(length=36), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('credential_id', sa.String(length=1400), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.JSON(), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['learner_id'], ['learners.id'], name=op.f('fk_learner_passkeys_learner_id_learners'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_learner_passkeys')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_learner_passkeys_credential_id'))
    )
    with op.batch_alter_table('learner_passkeys', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_learner_passkeys_learner_id'), ['learner_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('learner_passkeys', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_passkeys_learner_id'))

    op.drop_table('learner_passkeys')
    with op.batch_alter_table('learner_passkey_challenges', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_learner_passkey_challenges_learner_id'))
        batch_op.drop_index(batch_op.f('ix_learner_passkey_challenges_created_at'))
        batch_op.drop_index('ix_learner_passkey_challenges_client_created')

    op.drop_table('learner_passkey_challenges')
