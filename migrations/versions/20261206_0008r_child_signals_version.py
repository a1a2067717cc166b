"""children.signals_version: stored suggestions know they are stale without a query

It goes up when a measurement is written or removed and when anyone in the family clicks,
saves, dismisses or buys (diary.families.signals_changed); the child page keys its stored
list of suggestions on it.

Revision ID: 0008r
Revises: 0008
Create Date: 2026-12-06 19:30:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0008r'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('signals_version', sa.Integer(), nullable=False,
                                      server_default='0'))


def downgrade() -> None:
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('signals_version')
