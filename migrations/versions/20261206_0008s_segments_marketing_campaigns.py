"""segments; marketer campaigns; journey holdouts and goals

`segments` holds saved conditions over customers (crm.segments). `marketing_campaigns` are the
campaigns marketers make in the studio (journeys.marketing); their sends are campaign_sends
rows like the life-moment campaigns'. Journeys get a holdout share and a goal; enrolments
record when the child entered, whether the family is held out and when it converted.

Revision ID: 0008s
Revises: 0008v
Create Date: 2026-12-06 20:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0008s'
down_revision = '0008v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'segments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('description', sa.Text(), nullable=False),
        sa.Column('definition', sa.JSON(), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('updated_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['updated_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_table(
        'marketing_campaigns',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=120), nullable=False),
        sa.Column('segment_id', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('send_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('message_key', sa.String(length=80), nullable=False),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('holdout_share', sa.Float(), nullable=False),
        sa.Column('goal', sa.String(length=16), nullable=False),
        sa.Column('goal_days', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('version', sa.Integer(), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('started_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_run_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('name'),
    )
    op.create_index('ix_marketing_campaigns_segment_id', 'marketing_campaigns', ['segment_id'])
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.add_column(sa.Column('holdout_share', sa.Float(), nullable=False,
                                      server_default=sa.text('0')))
        batch_op.add_column(sa.Column('goal', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('goal_days', sa.Integer(), nullable=False,
                                      server_default=sa.text('14')))
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('entered_at', db.UTCDateTime(timezone=True),
                                      nullable=True))
        batch_op.add_column(sa.Column('holdout', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('converted_at', db.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('enrolments', schema=None) as batch_op:
        batch_op.drop_column('converted_at')
        batch_op.drop_column('holdout')
        batch_op.drop_column('entered_at')
    with op.batch_alter_table('journeys', schema=None) as batch_op:
        batch_op.drop_column('goal_days')
        batch_op.drop_column('goal')
        batch_op.drop_column('holdout_share')
    op.drop_table('marketing_campaigns')
    op.drop_table('segments')
