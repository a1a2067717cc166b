"""customer scores: RFM, value tier and group, CLV per customer (crm.models.CustomerScore)

Revision ID: 0008
Revises: 0007m
Create Date: 2026-12-06 19:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0008'
down_revision = '0007m'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'customer_scores',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('computed_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('recency_days', sa.Integer(), nullable=True),
        sa.Column('frequency', sa.Integer(), nullable=False),
        sa.Column('monetary_minor', sa.BigInteger(), nullable=False),
        sa.Column('r_score', sa.SmallInteger(), nullable=False),
        sa.Column('f_score', sa.SmallInteger(), nullable=False),
        sa.Column('m_score', sa.SmallInteger(), nullable=False),
        sa.Column('tier', sa.String(length=8), nullable=False),
        sa.Column('value_group', sa.String(length=16), nullable=False),
        sa.Column('expected_purchases_90d', sa.Float(), nullable=False),
        sa.Column('p_alive', sa.Float(), nullable=False),
        sa.Column('clv_minor', sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_index('ix_customer_scores_tier', 'customer_scores', ['tier'])
    op.create_index('ix_customer_scores_value_group', 'customer_scores', ['value_group'])
    op.create_index('ix_customer_scores_clv_minor', 'customer_scores', ['clv_minor'])


def downgrade() -> None:
    op.drop_table('customer_scores')
