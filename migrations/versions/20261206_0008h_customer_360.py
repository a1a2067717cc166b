"""customer 360: lookup keys, order ids, contact events, merge records, trigram indexes

- `users.email_key`, `phone_key`, `name_key` and `children.name_key` (`diary.lookup_keys`):
  what staff search by and duplicates are found by, indexed, filled here for existing rows;
- `interactions.order_ref`: the shop's order line id of a purchase (its idempotency key is
  only a hash), indexed where present;
- `contact_events` (staff calls and notes) and `customer_merges` (the record of each merge);
- on PostgreSQL, trigram GIN indexes (`pg_trgm`) on the keys and the email address, for
  searches that forgive typos; made by hand (db.HAND_MADE_INDEXES). When the extension cannot
  be created (a database user without the right), the migration goes on without them and
  the search falls back to its exact and prefix passes (`crm.search`).

Revision ID: 0008h
Revises: 0008s
Create Date: 2026-12-06 20:00:00
"""
import logging

import sqlalchemy as sa
from alembic import op

import db
from diary import lookup_keys

revision = '0008h'
down_revision = '0008s'
branch_labels = None
depends_on = None

log = logging.getLogger("alembic.runtime.migration")

BATCH = 5000
#: (index, table, column expression): the PostgreSQL trigram indexes.
TRIGRAM_INDEXES = (
    ("ix_users_name_key_trgm", "users", "name_key"),
    # the local part only: every address at one provider shares the domain's trigrams,
    # which would make each search read most of the index
    ("ix_users_email_trgm", "users", "split_part(email, '@', 1)"),
    ("ix_users_phone_key_trgm", "users", "phone_key"),
    ("ix_children_name_key_trgm", "children", "name_key"),
)
HAS_ORDER_REF = "order_ref IS NOT NULL"


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_key', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('phone_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('name_key', sa.String(length=80), nullable=True))
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.add_column(sa.Column('name_key', sa.String(length=60), nullable=True))
    _fill_keys()
    op.create_index(op.f('ix_users_email_key'), 'users', ['email_key'])
    op.create_index(op.f('ix_users_phone_key'), 'users', ['phone_key'])
    op.create_index(op.f('ix_users_name_key'), 'users', ['name_key'])
    op.create_index(op.f('ix_children_name_key'), 'children', ['name_key'])

    # interactions is partitioned on PostgreSQL: a plain ALTER reaches every partition
    # (batch mode would rebuild the table).
    op.add_column('interactions', sa.Column('order_ref', sa.String(length=64), nullable=True))
    op.create_index('ix_interactions_order_ref', 'interactions', ['order_ref'],
                    postgresql_where=sa.text(HAS_ORDER_REF), sqlite_where=sa.text(HAS_ORDER_REF))

    op.create_table(
        'contact_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('occurred_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('department', sa.String(length=16), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('direction', sa.String(length=8), nullable=False),
        sa.Column('outcome', sa.String(length=16), nullable=False),
        sa.Column('subject', sa.String(length=120), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('author_id', sa.Integer(), nullable=True),
        sa.Column('author_member_no', sa.String(length=12), nullable=True),
        sa.Column('source_kind', sa.String(length=16), nullable=False),
        sa.Column('source_id', sa.String(length=64), nullable=True),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['author_id'], ['users.id'],
                                name=op.f('fk_contact_events_author_id_users'),
                                ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_contact_events_user_id_users'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_contact_events')),
        sa.UniqueConstraint('source_kind', 'source_id',
                            name=op.f('uq_contact_events_source_kind_source_id')),
    )
    op.create_index('ix_contact_events_user_time', 'contact_events', ['user_id', 'occurred_at'])
    op.create_index(op.f('ix_contact_events_author_id'), 'contact_events', ['author_id'])

    op.create_table(
        'customer_merges',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('staff_user_id', sa.Integer(), nullable=False),
        sa.Column('staff_member_no', sa.String(length=12), nullable=False),
        sa.Column('staff_role', sa.String(length=16), nullable=False),
        sa.Column('survivor_user_id', sa.Integer(), nullable=False),
        sa.Column('survivor_member_no', sa.String(length=12), nullable=False),
        sa.Column('merged_user_id', sa.Integer(), nullable=False),
        sa.Column('merged_member_no', sa.String(length=12), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('moved', sa.JSON(), nullable=False),
        sa.Column('kept', sa.JSON(), nullable=False),
        sa.Column('details', sa.JSON(), nullable=False),
        sa.Column('note', sa.String(length=500), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_customer_merges')),
    )
    op.create_index(op.f('ix_customer_merges_survivor_user_id'), 'customer_merges',
                    ['survivor_user_id'])
    op.create_index(op.f('ix_customer_merges_merged_user_id'), 'customer_merges',
                    ['merged_user_id'])

    if op.get_bind().dialect.name == "postgresql":
        _trigram_indexes()


def _fill_keys() -> None:
    """The keys of the accounts and children already there, a batch at a time."""
    bind = op.get_bind()
    users = sa.table('users', sa.column('id', sa.Integer), sa.column('email', sa.String),
                     sa.column('phone', sa.String), sa.column('display_name', sa.String),
                     sa.column('email_key', sa.String), sa.column('phone_key', sa.String),
                     sa.column('name_key', sa.String))
    children = sa.table('children', sa.column('id', sa.Integer), sa.column('name', sa.String),
                        sa.column('name_key', sa.String))
    after = 0
    while True:
        rows = bind.execute(sa.select(users.c.id, users.c.email, users.c.phone,
                                      users.c.display_name).where(users.c.id > after)
                            .order_by(users.c.id).limit(BATCH)).all()
        if not rows:
            break
        bind.execute(users.update().where(users.c.id == sa.bindparam('uid')).values(
            email_key=sa.bindparam('ek'), phone_key=sa.bindparam('pk'),
            name_key=sa.bindparam('nk')), [
            {'uid': r.id, 'ek': lookup_keys.email_key(r.email),
             'pk': lookup_keys.phone_key(r.phone), 'nk': lookup_keys.name_key(r.display_name)}
            for r in rows])
        after = rows[-1].id
    after = 0
    while True:
        rows = bind.execute(sa.select(children.c.id, children.c.name)
                            .where(children.c.id > after).order_by(children.c.id)
                            .limit(BATCH)).all()
        if not rows:
            break
        bind.execute(children.update().where(children.c.id == sa.bindparam('cid')).values(
            name_key=sa.bindparam('nk')), [
            {'cid': r.id, 'nk': (lookup_keys.name_key(r.name) or '')[:60] or None}
            for r in rows])
        after = rows[-1].id


def _trigram_indexes() -> None:
    bind = op.get_bind()
    savepoint = bind.begin_nested()
    try:
        bind.exec_driver_sql("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    except sa.exc.DBAPIError as error:
        savepoint.rollback()
        log.warning("pg_trgm could not be created (%s): customer search runs without "
                    "trigram indexes", error.orig)
        return
    savepoint.commit()
    for name, table, column in TRIGRAM_INDEXES:
        bind.exec_driver_sql(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (({column}) gin_trgm_ops)")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for name, _, _ in TRIGRAM_INDEXES:
            op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_table('customer_merges')
    op.drop_table('contact_events')
    op.drop_index('ix_interactions_order_ref', table_name='interactions')
    op.drop_column('interactions', 'order_ref')
    op.drop_index(op.f('ix_children_name_key'), table_name='children')
    op.drop_index(op.f('ix_users_name_key'), table_name='users')
    op.drop_index(op.f('ix_users_phone_key'), table_name='users')
    op.drop_index(op.f('ix_users_email_key'), table_name='users')
    with op.batch_alter_table('children', schema=None) as batch_op:
        batch_op.drop_column('name_key')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('name_key')
        batch_op.drop_column('phone_key')
        batch_op.drop_column('email_key')
