"""staff accounts, their roles per issuer, sign-in links and attempts, and browser sessions (the console)

Revision ID: 6a0699889a55
Revises: 7c2e91a4d5b3
Create Date: 2026-12-03 13:23:36.209983
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '6a0699889a55'
down_revision: str | None = '7c2e91a4d5b3'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('staff_members',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('email', sa.String(length=320), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=True),
    sa.Column('is_admin', sa.Boolean(), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('disabled_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_members')),
    sa.UniqueConstraint('email', name=op.f('uq_staff_members_email'))
    )
    op.create_table('staff_sign_in_attempts',
    sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
    sa.Column('address_hash', sa.String(length=64), nullable=False),
    sa.Column('client_hash', sa.String(length=64), nullable=True),
    sa.Column('at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_sign_in_attempts'))
    )
    with op.batch_alter_table('staff_sign_in_attempts', schema=None) as batch_op:
        batch_op.create_index('ix_staff_sign_in_attempts_address_at', ['address_hash', 'at'], unique=False)
        batch_op.create_index('ix_staff_sign_in_attempts_client_at', ['client_hash', 'at'], unique=False)

    op.create_table('staff_roles',
    sa.Column('staff_id', sa.String(length=36), nullable=False),
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_staff_roles_issuer_id_issuers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_roles_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('staff_id', 'issuer_id', name=op.f('pk_staff_roles'))
    )
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_roles_issuer_id'), ['issuer_id'], unique=False)

    op.create_table('staff_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_sessions_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_staff_sessions'))
    )
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sessions_staff_id'), ['staff_id'], unique=False)

    op.create_table('staff_sign_in_links',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('staff_id', sa.String(length=36), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['staff_id'], ['staff_members.id'], name=op.f('fk_staff_sign_in_links_staff_id_staff_members'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('token_hash', name=op.f('pk_staff_sign_in_links'))
    )
    with op.batch_alter_table('staff_sign_in_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_staff_sign_in_links_staff_id'), ['staff_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('staff_sign_in_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sign_in_links_staff_id'))

    op.drop_table('staff_sign_in_links')
    with op.batch_alter_table('staff_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_sessions_staff_id'))

    op.drop_table('staff_sessions')
    with op.batch_alter_table('staff_roles', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_staff_roles_issuer_id'))

    op.drop_table('staff_roles')
    with op.batch_alter_table('staff_sign_in_attempts', schema=None) as batch_op:
        batch_op.drop_index('ix_staff_sign_in_attempts_client_at')
        batch_op.drop_index('ix_staff_sign_in_attempts_address_at')

    op.drop_table('staff_sign_in_attempts')
    op.drop_table('staff_members')
