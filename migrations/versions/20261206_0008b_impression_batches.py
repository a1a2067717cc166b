"""impression batches: reported cards wait here and the scheduler logs them

Revision ID: 0008b
Revises: 0008a
Create Date: 2026-12-06 21:30:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0008b'
down_revision = '0008a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'impression_batches',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('received_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('slates', sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )


def downgrade() -> None:
    op.drop_table('impression_batches')
