"""content publications: who approved which version, and admin overrides

Revision ID: 0006r
Revises: 0006
Create Date: 2026-12-06 10:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0006r'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('content_publications',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('item_id', sa.Integer(), nullable=False),
    sa.Column('version', sa.Integer(), nullable=False),
    sa.Column('mode', sa.String(length=16), nullable=False),
    sa.Column('reason', sa.String(length=300), nullable=False),
    sa.Column('published_by_id', sa.Integer(), nullable=True),
    sa.Column('published_by_name', sa.String(length=80), nullable=False),
    sa.Column('live_from', db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], name=op.f('fk_content_publications_item_id_content_items'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['published_by_id'], ['users.id'], name=op.f('fk_content_publications_published_by_id_users'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_content_publications'))
    )
    with op.batch_alter_table('content_publications', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_content_publications_item_id'), ['item_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('content_publications', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_content_publications_item_id'))

    op.drop_table('content_publications')
