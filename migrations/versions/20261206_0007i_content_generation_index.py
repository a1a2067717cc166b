"""content items' updated_at indexed: the content generation pages check

The child home keeps each stage's candidates per process for as long as no item changed;
it asks max(updated_at) on every visit, which the index answers without a scan.

Revision ID: 0007i
Revises: 0007
Create Date: 2026-12-06 15:30:00
"""
from alembic import op

revision = '0007i'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(op.f('ix_content_items_updated_at'), 'content_items', ['updated_at'])


def downgrade() -> None:
    op.drop_index(op.f('ix_content_items_updated_at'), table_name='content_items')
