"""product reviews: a parent's rating and words about a product, hidden or restored by staff

Revision ID: 0009v
Revises: 0009d
Create Date: 2026-12-06 22:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0009v'
down_revision = '0009d'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'product_reviews',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('rating', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('hidden_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('hidden_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['hidden_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'item_id', name='uq_product_reviews_once'),
    )
    op.create_index('ix_product_reviews_user_id', 'product_reviews', ['user_id'])
    op.create_index('ix_product_reviews_item', 'product_reviews',
                    ['item_id', 'hidden_at', 'created_at'])
    op.create_index('ix_product_reviews_created', 'product_reviews', ['created_at'])


def downgrade() -> None:
    op.drop_table('product_reviews')
