"""interaction log: interactions and their idempotency keys

On PostgreSQL `interactions` is partitioned by month of `occurred_at` (RANGE), with a DEFAULT
partition so that no insert ever fails; the months themselves are made ahead by
`recommender.partitions.ensure_months` (a scheduler job), not here. Its primary key is
(id, occurred_at) because a partitioned table's unique keys must hold the partition key; on
SQLite it is `id INTEGER PRIMARY KEY` (the rowid), see `db.SQLITE_ROWID`.

Revision ID: 0007
Revises: 0006a
Create Date: 2026-12-06 16:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0007'
down_revision = '0006a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'interaction_keys',
        sa.Column('key', sa.String(length=64), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('key', name=op.f('pk_interaction_keys')),
    )
    op.create_table(
        'interactions',
        sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True,
                  nullable=False),
        sa.Column('occurred_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('child_id', sa.Integer(), nullable=True),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('stage', sa.String(length=24), nullable=True),
        sa.Column('surface', sa.String(length=16), nullable=False),
        sa.Column('position', sa.Integer(), nullable=True),
        sa.Column('model_version', sa.String(length=40), nullable=True),
        sa.Column('request_id', sa.String(length=32), nullable=True),
        sa.Column('quantity', sa.Integer(), nullable=True),
        sa.Column('amount_minor', sa.BigInteger(), nullable=True),
        sa.Column('currency', sa.String(length=3), nullable=True),
        sa.Column('idempotency_key', sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['children.id'],
                                name=op.f('fk_interactions_child_id_children'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['item_id'], ['content_items.id'],
                                name=op.f('fk_interactions_item_id_content_items'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_interactions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', 'occurred_at', name=op.f('pk_interactions')),
        postgresql_partition_by='RANGE (occurred_at)',
        info={db.SQLITE_ROWID: 'id'},
    )
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('CREATE TABLE interactions_default PARTITION OF interactions DEFAULT')
    op.create_index(op.f('ix_interactions_occurred_at'), 'interactions', ['occurred_at'])
    op.create_index('ix_interactions_user_time', 'interactions', ['user_id', 'occurred_at'])
    op.create_index('ix_interactions_item_time', 'interactions', ['item_id', 'occurred_at'])


def downgrade() -> None:
    op.drop_table('interactions')
    op.drop_table('interaction_keys')
