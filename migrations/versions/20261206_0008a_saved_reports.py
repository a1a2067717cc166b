"""saved pivot reports and their weekly mailings (crm.pivot, crm.mailings)

Revision ID: 0008a
Revises: 0008h
Create Date: 2026-12-06 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0008a'
down_revision = '0008h'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'crm_saved_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=True),
        sa.Column('weekly', sa.Boolean(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_crm_saved_reports_owner_id', 'crm_saved_reports', ['owner_id'])
    op.create_table(
        'crm_report_mailings',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('report_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('week', sa.String(length=8), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['report_id'], ['crm_saved_reports.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('report_id', 'user_id', 'week',
                            name='uq_crm_report_mailings_once'),
    )
    op.create_index('ix_crm_report_mailings_user_id', 'crm_report_mailings', ['user_id'])


def downgrade() -> None:
    op.drop_table('crm_report_mailings')
    op.drop_table('crm_saved_reports')
