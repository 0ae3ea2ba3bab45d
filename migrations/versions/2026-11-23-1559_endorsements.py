"""endorsements: one issuer's signed EndorsementCredential about another issuer or achievement

Revision ID: 3d3ab9bd39fe
Revises: 5caa1d60e05a
Create Date: 2026-11-23 15:59:00.444282
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '3d3ab9bd39fe'
down_revision: str | None = '5caa1d60e05a'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('endorsements',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.Column('subject_kind', sa.String(length=16), nullable=False),
    sa.Column('subject_issuer_id', sa.String(length=64), nullable=False),
    sa.Column('subject_achievement_id', sa.String(length=36), nullable=True),
    sa.Column('comment', sa.Text(), nullable=True),
    sa.Column('document', sa.JSON(), nullable=False),
    sa.Column('valid_until', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.Column('revocation_list_id', sa.String(length=36), nullable=False),
    sa.Column('revocation_index', sa.Integer(), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', microcred.db.base.UTCDateTime(timezone=True), nullable=True),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_endorsements_issuer_id_issuers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['revocation_list_id'], ['status_lists.id'], name=op.f('fk_endorsements_revocation_list_id_status_lists')),
    sa.ForeignKeyConstraint(['subject_achievement_id'], ['achievements.id'], name=op.f('fk_endorsements_subject_achievement_id_achievements'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['subject_issuer_id'], ['issuers.id'], name=op.f('fk_endorsements_subject_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_endorsements')),
    sa.UniqueConstraint('revocation_list_id', 'revocation_index', name=op.f('uq_endorsements_revocation_list_id_revocation_index'))
    )
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_endorsements_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index('ix_endorsements_subject', ['subject_issuer_id', 'subject_achievement_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('endorsements', schema=None) as batch_op:
        batch_op.drop_index('ix_endorsements_subject')
        batch_op.drop_index(batch_op.f('ix_endorsements_issuer_id'))

    op.drop_table('endorsements')
