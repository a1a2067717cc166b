"""redemption addresses erased: a sample's shipping address is kept only while a parcel needs it

Revision ID: 0010c
Revises: 0010b
Create Date: 2026-12-07 22:40:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0010c'
down_revision = '0010b'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('reward_redemptions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('address_erased_at', db.UTCDateTime(timezone=True),
                                      nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('reward_redemptions', schema=None) as batch_op:
        batch_op.drop_column('address_erased_at')
