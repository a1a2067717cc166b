"""birth clubs and topic groups: posts, comments, likes, reports, bans, moderators, the
word filter and the moderation log (community.models); the shipped topic groups

Revision ID: 0009c
Revises: 0008b
Create Date: 2026-12-06 21:30:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0009c'
down_revision = '0008b'
branch_labels = None
depends_on = None

SHIPPED_GROUPS = (
    ("sleep", "Sleep", "睡眠", "Naps, nights and everything in between.",
     "小睡、夜觉，以及其间的一切。"),
    ("feeding", "Feeding", "喂养", "Breast, bottle, and the first spoonfuls.",
     "母乳、奶瓶和第一口辅食。"),
    ("returning-to-work", "Returning to work", "重返职场",
     "Childcare, pumping at work and finding a rhythm again.",
     "托育、职场背奶，重新找到生活节奏。"),
)


def _at(name: str, nullable: bool = False) -> sa.Column:
    return sa.Column(name, db.UTCDateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    clubs = op.create_table(
        'clubs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('month', sa.Date(), nullable=True),
        sa.Column('slug', sa.String(length=40), nullable=True),
        sa.Column('name_en', sa.String(length=80), nullable=False),
        sa.Column('name_zh', sa.String(length=80), nullable=False),
        sa.Column('description_en', sa.String(length=300), nullable=False),
        sa.Column('description_zh', sa.String(length=300), nullable=False),
        _at('created_at'),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('month', name='uq_clubs_month'),
        sa.UniqueConstraint('slug', name='uq_clubs_slug'),
    )
    op.create_table(
        'club_members',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('club_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _at('joined_at'),
        sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('club_id', 'user_id', name='uq_club_members_once'),
    )
    op.create_index('ix_club_members_user_id', 'club_members', ['user_id'])
    op.create_table(
        'club_posts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('club_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('photo_key', sa.String(length=64), nullable=True),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('held_reason', sa.String(length=200), nullable=True),
        _at('created_at'),
        _at('published_at', nullable=True),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_club_posts_feed', 'club_posts', ['club_id', 'status', 'created_at'])
    op.create_index('ix_club_posts_author_at', 'club_posts', ['author_id', 'created_at'])
    op.create_table(
        'club_comments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('status', sa.String(length=12), nullable=False),
        sa.Column('held_reason', sa.String(length=200), nullable=True),
        _at('created_at'),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['post_id'], ['club_posts.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_club_comments_post', 'club_comments', ['post_id', 'created_at'])
    op.create_index('ix_club_comments_author_at', 'club_comments', ['author_id', 'created_at'])
    op.create_table(
        'club_likes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _at('created_at'),
        sa.ForeignKeyConstraint(['post_id'], ['club_posts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('post_id', 'user_id', name='uq_club_likes_once'),
    )
    op.create_index('ix_club_likes_user_id', 'club_likes', ['user_id'])
    op.create_table(
        'club_reports',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('post_id', sa.Integer(), nullable=False),
        sa.Column('comment_id', sa.Integer(), nullable=True),
        sa.Column('reporter_id', sa.Integer(), nullable=False),
        sa.Column('reason', sa.String(length=500), nullable=False),
        _at('created_at'),
        _at('resolved_at', nullable=True),
        sa.Column('resolved_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['comment_id'], ['club_comments.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['post_id'], ['club_posts.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['reporter_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['resolved_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_club_reports_open', 'club_reports', ['resolved_at', 'post_id'])
    op.create_index('ix_club_reports_reporter_id', 'club_reports', ['reporter_id'])
    op.create_table(
        'club_bans',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('club_id', sa.Integer(), nullable=True),
        _at('until'),
        sa.Column('reason', sa.String(length=300), nullable=False),
        _at('created_at'),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_club_bans_user_id', 'club_bans', ['user_id'])
    op.create_table(
        'club_moderators',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('club_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        _at('created_at'),
        sa.ForeignKeyConstraint(['club_id'], ['clubs.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('club_id', 'user_id', name='uq_club_moderators_once'),
    )
    op.create_index('ix_club_moderators_user_id', 'club_moderators', ['user_id'])
    op.create_table(
        'club_blocked_words',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('word', sa.String(length=80), nullable=False),
        _at('created_at'),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('word', name='uq_club_blocked_words_word'),
    )
    op.create_table(
        'club_moderation_actions',
        sa.Column('id', sa.Integer(), nullable=False),
        _at('at'),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('staff_member_no', sa.String(length=12), nullable=False),
        sa.Column('action', sa.String(length=16), nullable=False),
        sa.Column('club_id', sa.Integer(), nullable=True),
        sa.Column('post_id', sa.Integer(), nullable=True),
        sa.Column('comment_id', sa.Integer(), nullable=True),
        sa.Column('subject_member_no', sa.String(length=12), nullable=True),
        sa.Column('note', sa.String(length=300), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_club_moderation_actions_club_at', 'club_moderation_actions',
                    ['club_id', 'at'])
    from clock import utcnow
    now = utcnow()
    op.bulk_insert(clubs, [
        {"kind": "topic", "slug": slug, "name_en": en, "name_zh": zh, "description_en": den,
         "description_zh": dzh, "created_at": now}
        for slug, en, zh, den, dzh in SHIPPED_GROUPS])


def downgrade() -> None:
    for table in ('club_moderation_actions', 'club_blocked_words', 'club_moderators',
                  'club_bans', 'club_reports', 'club_likes', 'club_comments', 'club_posts',
                  'club_members', 'clubs'):
        op.drop_table(table)
