"""access tokens: personal access tokens for the JSON API (/api/v1), stored as hashes

Revision ID: 0010a
Revises: 0009v
Create Date: 2026-12-07 00:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0010a'
down_revision = '0009v'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'access_tokens',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('token_prefix', sa.String(length=16), nullable=False),
        sa.Column('scope', sa.String(length=8), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_used_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('token_hash'),
    )
    op.create_index('ix_access_tokens_user_id', 'access_tokens', ['user_id'])


def downgrade() -> None:
    op.drop_index('ix_access_tokens_user_id', table_name='access_tokens')
    op.drop_table('access_tokens')
