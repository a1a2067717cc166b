"""surveys (offers, throttle, key moments, follow-ups) and the help centre's votes (care)

Revision ID: 0009s
Revises: 0009r
Create Date: 2026-12-06 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0009s'
down_revision = '0009r'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'survey_offers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('subject_ref', sa.String(length=64), nullable=False),
        sa.Column('channels', sa.JSON(), nullable=False),
        sa.Column('link_key', sa.String(length=32), nullable=False),
        sa.Column('offered_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('score', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=False),
        sa.Column('answered_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('answered_via', sa.String(length=8), nullable=True),
        sa.Column('commented_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'trigger', 'subject_ref', name='uq_survey_offers_once'),
    )
    op.create_index('ix_survey_offers_user_time', 'survey_offers', ['user_id', 'offered_at'])
    op.create_index('ix_survey_offers_offered_at', 'survey_offers', ['offered_at'])
    op.create_table(
        'survey_throttles',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('last_offer_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_nps_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('user_id'),
    )
    op.create_table(
        'survey_moments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('trigger', sa.String(length=16), nullable=False),
        sa.Column('subject_ref', sa.String(length=64), nullable=False),
        sa.Column('due_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('user_id', 'trigger', 'subject_ref', name='uq_survey_moments_once'),
    )
    op.create_index('ix_survey_moments_due', 'survey_moments', ['status', 'due_at'])
    op.create_table(
        'survey_follow_ups',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('offer_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('done_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['offer_id'], ['survey_offers.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('offer_id'),
    )
    op.create_index('ix_survey_follow_ups_status', 'survey_follow_ups', ['status', 'created_at'])
    op.create_table(
        'faq_votes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('item_id', sa.Integer(), nullable=False),
        sa.Column('voter', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('helpful', sa.Boolean(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['item_id'], ['content_items.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('item_id', 'voter', name='uq_faq_votes_once'),
    )
    op.create_index('ix_faq_votes_item_id', 'faq_votes', ['item_id'])
    op.create_index('ix_faq_votes_user_id', 'faq_votes', ['user_id'])


def downgrade() -> None:
    op.drop_table('faq_votes')
    op.drop_table('survey_follow_ups')
    op.drop_table('survey_moments')
    op.drop_table('survey_throttles')
    op.drop_table('survey_offers')
