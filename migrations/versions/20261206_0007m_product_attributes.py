"""product attributes for the recommender: consumable flag and size; what people did, indexed

Products say whether they are bought again and again (nappies, wipes) or once (a bath tub),
and, for products that come in sizes, which step of which size ladder they are (a nappy size
with the weight range it fits). Suggestions read a child's history (whichever caregiver acted)
and a person's on every request: two partial indexes on what people did, leaving out the
impressions that make up most of the log. (The log's stage column is 24 characters
wide from 0007 on: "pregnancy_week:40" is 17.)

Revision ID: 0007m
Revises: 0007l
Create Date: 2026-12-06 18:00:00
"""
import sqlalchemy as sa
from alembic import op

revision = '0007m'
down_revision = '0007l'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.add_column(sa.Column('consumable', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))
        batch_op.add_column(sa.Column('size', sa.JSON(), nullable=True))
    actions = sa.text("kind <> 'impression'")
    op.create_index('ix_interactions_child_actions', 'interactions', ['child_id', 'occurred_at'],
                    postgresql_where=actions, sqlite_where=actions)
    op.create_index('ix_interactions_user_actions', 'interactions', ['user_id', 'occurred_at'],
                    postgresql_where=actions, sqlite_where=actions)


def downgrade() -> None:
    op.drop_index('ix_interactions_user_actions', table_name='interactions')
    op.drop_index('ix_interactions_child_actions', table_name='interactions')
    with op.batch_alter_table('content_items', schema=None) as batch_op:
        batch_op.drop_column('size')
        batch_op.drop_column('consumable')
