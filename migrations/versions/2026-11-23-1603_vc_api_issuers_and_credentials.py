"""W3C VC-API: issuer settings, and the credentials it signed

Revision ID: 8ee4af937182
Revises: 5caa1d60e05a
Create Date: 2026-11-23 16:03:06.661117
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '8ee4af937182'
down_revision: str | None = '4e90e3e84bfa'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('vcapi_credentials',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.Column('credential_id', sa.String(length=1000), nullable=True),
    sa.Column('issued_as', sa.String(length=512), nullable=False),
    sa.Column('cryptosuite', sa.String(length=64), nullable=False),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('issued_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revocation_list_id', sa.String(length=36), nullable=True),
    sa.Column('revocation_index', sa.Integer(), nullable=True),
    sa.Column('suspension_list_id', sa.String(length=36), nullable=True),
    sa.Column('suspension_index', sa.Integer(), nullable=True),
    sa.Column('revoked_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('suspended_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_vcapi_credentials_issuer_id_issuers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revocation_list_id'], ['status_lists.id'], name=op.f('fk_vcapi_credentials_revocation_list_id_status_lists')),
    sa.ForeignKeyConstraint(['suspension_list_id'], ['status_lists.id'], name=op.f('fk_vcapi_credentials_suspension_list_id_status_lists')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_vcapi_credentials')),
    sa.UniqueConstraint('revocation_list_id', 'revocation_index', name=op.f('uq_vcapi_credentials_revocation_list_id_revocation_index')),
    sa.UniqueConstraint('suspension_list_id', 'suspension_index', name=op.f('uq_vcapi_credentials_suspension_list_id_suspension_index'))
    )
    with op.batch_alter_table('vcapi_credentials', schema=None) as batch_op:
        batch_op.create_index('ix_vcapi_credentials_issuer_credential', ['issuer_id', 'credential_id'], unique=False)

    with op.batch_alter_table('issuers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('vc_api_enabled', sa.Boolean(), server_default=sa.false(), nullable=False))
        batch_op.add_column(sa.Column('vc_api_did_method', sa.String(length=16), server_default='did:web', nullable=False))
        batch_op.add_column(sa.Column('vc_api_status', sa.Boolean(), server_default=sa.false(), nullable=False))



def downgrade() -> None:
    with op.batch_alter_table('issuers', schema=None) as batch_op:
        batch_op.drop_column('vc_api_status')
        batch_op.drop_column('vc_api_did_method')
        batch_op.drop_column('vc_api_enabled')

    with op.batch_alter_table('vcapi_credentials', schema=None) as batch_op:
        batch_op.drop_index('ix_vcapi_credentials_issuer_credential')

    op.drop_table('vcapi_credentials')
