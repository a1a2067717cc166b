"""survey email preference: a parent may turn survey emails off (and unsubscribing does)

Revision ID: 0010b
Revises: 0010a
Create Date: 2026-12-07 22:10:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0010b'
down_revision = '0010a'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('email_preferences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('surveys_by_email', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))


def downgrade() -> None:
    with op.batch_alter_table('email_preferences', schema=None) as batch_op:
        batch_op.drop_column('surveys_by_email')
