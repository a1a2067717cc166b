"""due-list follow-ups: what staff did about a child's new stage or nappy size (crm.due)

Revision ID: 0008v
Revises: 0008r
Create Date: 2026-12-06 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0008v'
down_revision = '0008r'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crm_due_follow_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('due_on', sa.Date(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('detail', sa.String(length=24), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['child_id'], ['children.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'child_id', 'kind', 'due_on',
                            name='uq_crm_due_follow_ups_once'),
    )
    op.create_index('ix_crm_due_follow_ups_child_id', 'crm_due_follow_ups', ['child_id'])
    op.create_index('ix_crm_due_follow_ups_due_on', 'crm_due_follow_ups', ['due_on'])


def downgrade() -> None:
    op.drop_table('crm_due_follow_ups')
