"""email clicks count once per link

Every GET of a click link used to add a row. Now a link (delivery, person, item or path)
has one row: `click_key`, unique. Existing repeats are folded into their earliest row (its
`clicked_at` is the first click, which is what the campaign reports read).

Revision ID: 0006s
Revises: 0006r
Create Date: 2026-12-06 10:00:00
"""
import hashlib

import sqlalchemy as sa
from alembic import op

revision = '0006s'
down_revision = '0006r'
branch_labels = None
depends_on = None


def _key(delivery_id, user_id, item_key, url):
    """journeys.models.click_key as it was written with this migration (kept here so a
    later change there cannot change what this migration did)."""
    parts = ("" if delivery_id is None else str(delivery_id),
             "" if user_id is None else str(user_id), item_key or url)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table('email_clicks', schema=None) as batch_op:
        batch_op.add_column(sa.Column('click_key', sa.String(length=64), nullable=True))

    clicks = sa.table('email_clicks', sa.column('id', sa.Integer),
                      sa.column('click_key', sa.String), sa.column('delivery_id', sa.Integer),
                      sa.column('user_id', sa.Integer), sa.column('item_key', sa.String),
                      sa.column('url', sa.String), sa.column('clicked_at', sa.DateTime))
    conn = op.get_bind()
    kept: set[str] = set()
    doomed: list[int] = []
    keys: list[dict] = []
    rows = conn.execute(sa.select(clicks.c.id, clicks.c.delivery_id, clicks.c.user_id,
                                  clicks.c.item_key, clicks.c.url)
                        .order_by(clicks.c.clicked_at, clicks.c.id))
    for row in rows:  # earliest first: the first click of each link stays
        key = _key(row.delivery_id, row.user_id, row.item_key, row.url)
        if key in kept:
            doomed.append(row.id)
        else:
            kept.add(key)
            keys.append({"b_id": row.id, "b_key": key})
    for start in range(0, len(doomed), 500):
        conn.execute(clicks.delete().where(clicks.c.id.in_(doomed[start:start + 500])))
    if keys:
        conn.execute(clicks.update().where(clicks.c.id == sa.bindparam("b_id"))
                     .values(click_key=sa.bindparam("b_key")), keys)

    with op.batch_alter_table('email_clicks', schema=None) as batch_op:
        batch_op.alter_column('click_key', existing_type=sa.String(length=64), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_email_clicks_click_key'), ['click_key'])


def downgrade() -> None:
    with op.batch_alter_table('email_clicks', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_email_clicks_click_key'), type_='unique')
        batch_op.drop_column('click_key')
