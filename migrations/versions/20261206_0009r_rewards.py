"""rewards: the points ledger and balances, the samples catalogue, redemptions

Revision ID: 0009r
Revises: 0009t
Create Date: 2026-12-06 21:30:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0009r'
down_revision = '0009t'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'reward_balances',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('balance', sa.Integer(), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('balance >= 0', name='ck_reward_balances_not_negative'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'reward_points',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('rule', sa.String(length=24), nullable=False),
        sa.Column('points', sa.Integer(), nullable=False),
        sa.Column('ref', sa.String(length=80), nullable=False),
        sa.Column('local_day', sa.Date(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('reverses_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reverses_id'], ['reward_points.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'rule', 'ref', name='uq_reward_points_once'),
        sa.UniqueConstraint('reverses_id', name='uq_reward_points_reverses_id'),
    )
    op.create_index('ix_reward_points_cap', 'reward_points', ['user_id', 'rule', 'local_day'])
    op.create_index('ix_reward_points_history', 'reward_points',
                    ['user_id', 'created_at', 'id'])
    op.create_table(
        'reward_items',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name_en', sa.String(length=80), nullable=False),
        sa.Column('name_zh', sa.String(length=80), nullable=False),
        sa.Column('description_en', sa.Text(), nullable=False),
        sa.Column('description_zh', sa.Text(), nullable=False),
        sa.Column('cost', sa.Integer(), nullable=False),
        sa.Column('stock', sa.Integer(), nullable=False),
        sa.Column('active', sa.Boolean(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.CheckConstraint('cost > 0', name='ck_reward_items_cost_positive'),
        sa.CheckConstraint('stock >= 0', name='ck_reward_items_stock_not_negative'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'reward_redemptions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('cost', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('request_key', sa.String(length=32), nullable=False),
        sa.Column('recipient', sa.String(length=40), nullable=False),
        sa.Column('phone', sa.String(length=20), nullable=False),
        sa.Column('province', sa.String(length=40), nullable=False),
        sa.Column('city', sa.String(length=40), nullable=False),
        sa.Column('address', sa.String(length=200), nullable=False),
        sa.Column('postcode', sa.String(length=10), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('cancelled_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('handled_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['item_id'], ['reward_items.id']),
        sa.ForeignKeyConstraint(['handled_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'request_key', name='uq_reward_redemptions_once'),
    )
    op.create_index('ix_reward_redemptions_status', 'reward_redemptions',
                    ['status', 'created_at'])
    op.create_index('ix_reward_redemptions_user_id', 'reward_redemptions', ['user_id'])
    op.create_index('ix_reward_redemptions_item_id', 'reward_redemptions', ['item_id'])


def downgrade() -> None:
    op.drop_table('reward_redemptions')
    op.drop_table('reward_items')
    op.drop_table('reward_points')
    op.drop_table('reward_balances')
