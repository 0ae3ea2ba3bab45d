"""bulk uploads (kept from upload to results) and each issuer's remembered column mapping

The staff console's bulk upload keeps the file between its steps (column mapping, dry run,
submit) and, once submitted, the job it became and which file row each job row came from, for
the results file. The last column mapping an issuer's staff chose is offered for the next file.

Revision ID: 993a21a4ccb7
Revises: 3f8b1d6c2a90
Create Date: 2026-12-03 13:26:44.382216
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import microcred.db.base

revision: str = '993a21a4ccb7'
down_revision: str | None = '3f8b1d6c2a90'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('bulk_mappings',
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.Column('columns', sa.JSON(), nullable=False),
    sa.Column('date_order', sa.String(length=8), nullable=False),
    sa.Column('updated_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_bulk_mappings_issuer_id_issuers'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('issuer_id', name=op.f('pk_bulk_mappings'))
    )
    op.create_table('bulk_uploads',
    sa.Column('id', sa.String(length=36), nullable=False),
    sa.Column('issuer_id', sa.String(length=64), nullable=False),
    sa.Column('filename', sa.String(length=255), nullable=False),
    sa.Column('source_format', sa.String(length=8), nullable=False),
    sa.Column('content', sa.LargeBinary(), nullable=False),
    sa.Column('csv_delimiter', sa.String(length=1), nullable=True),
    sa.Column('mapping', sa.JSON(), nullable=False),
    sa.Column('date_order', sa.String(length=8), nullable=False),
    sa.Column('default_achievement', sa.String(length=100), nullable=True),
    sa.Column('job_id', sa.String(length=36), nullable=True),
    sa.Column('row_numbers', sa.JSON(), nullable=True),
    sa.Column('created_by', sa.String(length=64), nullable=False),
    sa.Column('created_at', microcred.db.base.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['issuer_id'], ['issuers.id'], name=op.f('fk_bulk_uploads_issuer_id_issuers'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['job_id'], ['jobs.id'], name=op.f('fk_bulk_uploads_job_id_jobs'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_bulk_uploads'))
    )
    with op.batch_alter_table('bulk_uploads', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_bulk_uploads_issuer_id'), ['issuer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_bulk_uploads_job_id'), ['job_id'], unique=False)



def downgrade() -> None:
    with op.batch_alter_table('bulk_uploads', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_bulk_uploads_job_id'))
        batch_op.drop_index(batch_op.f('ix_bulk_uploads_issuer_id'))

    op.drop_table('bulk_uploads')
    op.drop_table('bulk_mappings')
