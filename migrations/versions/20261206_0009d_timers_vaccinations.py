"""daily tools: running timers per child, vaccinations and check-ups given

Revision ID: 0009d
Revises: 0009s
Create Date: 2026-12-06 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0009d'
down_revision = '0009s'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'child_timers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('side', sa.String(length=8), nullable=True),
        sa.Column('running_kind', sa.String(length=8), nullable=True),
        sa.Column('status', sa.String(length=10), nullable=False),
        sa.Column('started_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_by_id', sa.Integer(), nullable=True),
        sa.Column('ended_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('entry_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['child_id'], ['children.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['started_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['entry_id'], ['entries.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('child_id', 'running_kind', name='uq_child_timers_one_running'),
    )
    op.create_index('ix_child_timers_started_by_id', 'child_timers', ['started_by_id'])
    op.create_index('ix_child_timers_entry_id', 'child_timers', ['entry_id'])
    op.create_table(
        'vaccinations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=False),
        sa.Column('category', sa.String(length=16), nullable=False),
        sa.Column('reminder_key', sa.String(length=80), nullable=True),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('given_on', sa.Date(), nullable=False),
        sa.Column('note', sa.String(length=200), nullable=False),
        sa.Column('recorded_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['child_id'], ['children.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['recorded_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('child_id', 'reminder_key', name='uq_vaccinations_reminder_once'),
    )
    op.create_index('ix_vaccinations_recorded_by_id', 'vaccinations', ['recorded_by_id'])


def downgrade() -> None:
    op.drop_table('vaccinations')
    op.drop_table('child_timers')
