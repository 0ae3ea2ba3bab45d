"""one audit hash chain per issuer (and one for the service's own actions), so awards of
different issuers no longer take turns at one head row; covering dedup indexes

The entries written so far stay exactly as they are, in the one chain of the whole service they
were written in: they become the ``legacy`` chain (``chain_seq`` = their ``seq``, the place they
were hashed with), and the old head row becomes that chain's head. Nothing is re-hashed: linking
old entries anew would make a chain that holds out of one that had been tampered with, so
``microcred audit verify`` keeps checking the legacy chain against the hashes it was written
with, and reports a break in it as before. Every chain opened from now on starts from the legacy
chain's last hash, so rewriting the legacy chain would also break the first entry of every
later chain.

``seq`` stays the entry's place in the whole log (listing order, ``before``); new places come
from the ``audit_log_seq`` sequence on PostgreSQL, which waits for no other transaction.

The credentials' unique (dedup_key, issuer_id) index and the unique external id index, now led by
external_id like the other ((issuer_id, external_id) let the planner look external ids up through
any issuer_id index instead), carry the id and request hash (PostgreSQL INCLUDE), so a bulk
chunk's dedup look-ups read only the index.

Revision ID: bf07c4d921dd
Revises: 8c4e2a6f1d37
Create Date: 2026-12-04 09:00:00
"""
from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = 'bf07c4d921dd'
down_revision: str | None = '8c4e2a6f1d37'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_EXTERNAL_BEFORE, _EXTERNAL_AFTER = 'uq_credentials_issuer_id_external_id', 'uq_credentials_external_id_issuer_id'


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == 'postgresql'
    op.add_column('audit_log', sa.Column('chain', sa.String(length=80), nullable=True))
    op.add_column('audit_log', sa.Column('chain_seq', sa.BigInteger(), nullable=True))
    op.execute("UPDATE audit_log SET chain = 'legacy', chain_seq = seq")
    with op.batch_alter_table('audit_log') as batch:
        batch.alter_column('chain', existing_type=sa.String(length=80), nullable=False)
        batch.alter_column('chain_seq', existing_type=sa.BigInteger(), nullable=False)
        batch.create_unique_constraint('uq_audit_log_chain_chain_seq', ['chain', 'chain_seq'])

    op.create_table(
        'audit_chain_heads',
        sa.Column('chain', sa.String(length=80), nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('chain', name=op.f('pk_audit_chain_heads')),
    )
    op.execute("INSERT INTO audit_chain_heads (chain, seq, hash) SELECT 'legacy', seq, hash FROM audit_chain_head WHERE id = 1")
    op.drop_table('audit_chain_head')

    if postgres:
        op.execute(sa.schema.CreateSequence(sa.Sequence('audit_log_seq', start=1)))
        op.execute("SELECT setval('audit_log_seq', max(seq)) FROM audit_log HAVING count(*) > 0")
        # (op.create_unique_constraint cannot name INCLUDE columns outside the constraint's own.)
        op.drop_constraint('uq_credentials_dedup_key_issuer_id', 'credentials', type_='unique')
        op.execute("ALTER TABLE credentials ADD CONSTRAINT uq_credentials_dedup_key_issuer_id UNIQUE (dedup_key, issuer_id) INCLUDE (id, request_hash)")
        op.drop_constraint(_EXTERNAL_BEFORE, 'credentials', type_='unique')
        op.execute(f"ALTER TABLE credentials ADD CONSTRAINT {_EXTERNAL_AFTER} UNIQUE (external_id, issuer_id) INCLUDE (id, request_hash)")
    else:
        with op.batch_alter_table('credentials') as batch:
            batch.drop_constraint(_EXTERNAL_BEFORE, type_='unique')
            batch.create_unique_constraint(_EXTERNAL_AFTER, ['external_id', 'issuer_id'])


def downgrade() -> None:
    """Back to one chain, possible only while no entry was written in a per-issuer chain: the
    hashes of those cover their chains, and folding them into one chain would re-hash them."""
    connection = op.get_bind()
    if connection.scalar(sa.text("SELECT count(*) FROM audit_log WHERE chain <> 'legacy'")):
        raise RuntimeError("audit entries were written in per-issuer chains; they cannot be folded back into one chain without re-hashing them")
    with op.batch_alter_table('credentials') as batch:
        batch.drop_constraint(_EXTERNAL_AFTER, type_='unique')
        batch.create_unique_constraint(_EXTERNAL_BEFORE, ['issuer_id', 'external_id'])
    if connection.dialect.name == 'postgresql':
        op.drop_constraint('uq_credentials_dedup_key_issuer_id', 'credentials', type_='unique')
        op.create_unique_constraint('uq_credentials_dedup_key_issuer_id', 'credentials', ['dedup_key', 'issuer_id'])
        op.execute(sa.schema.DropSequence(sa.Sequence('audit_log_seq')))
    op.create_table(
        'audit_chain_head',
        sa.Column('id', sa.Integer(), autoincrement=False, nullable=False),
        sa.Column('seq', sa.BigInteger(), nullable=False),
        sa.Column('hash', sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head')),
    )
    op.execute("INSERT INTO audit_chain_head (id, seq, hash) SELECT 1, seq, hash FROM audit_chain_heads WHERE chain = 'legacy'")
    op.drop_table('audit_chain_heads')
    with op.batch_alter_table('audit_log') as batch:
        batch.drop_constraint('uq_audit_log_chain_chain_seq', type_='unique')
        batch.drop_column('chain_seq')
        batch.drop_column('chain')
