"""server-side sessions, verified addresses, per-row link keys, account email queue

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-06

Existing accounts start unverified (nobody ever proved they read their address); they are
asked to confirm at their next visit, and digests wait until they do. Every existing user and
invitation gets its own random link key / nonce.
"""
import secrets

import sqlalchemy as sa
from alembic import op

import db

revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def _fill_random(table: str, column: str) -> None:
    conn = op.get_bind()
    rows = sa.table(table, sa.column("id", sa.Integer), sa.column(column, sa.String))
    for (row_id,) in conn.execute(sa.select(rows.c.id)).all():
        conn.execute(rows.update().where(rows.c.id == row_id)
                     .values({column: secrets.token_hex(16)}))


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('link_key', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('email_verified_at', db.UTCDateTime(timezone=True),
                                      nullable=True))
    _fill_random('users', 'link_key')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.alter_column('link_key', existing_type=sa.String(length=32), nullable=False)

    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.add_column(sa.Column('nonce', sa.String(length=32), nullable=True))
    _fill_random('invitations', 'nonce')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.alter_column('nonce', existing_type=sa.String(length=32), nullable=False)

    op.create_table(
        'user_sessions',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('expires_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_seen_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('remember', sa.Boolean(), nullable=False),
        sa.Column('user_agent', sa.String(length=200), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_user_sessions_user_id_users'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_user_sessions')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_user_sessions_key_hash')),
    )
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_sessions_user_id'), ['user_id'], unique=False)

    op.create_table(
        'account_emails',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('to_address', sa.String(length=254), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('invitation_id', sa.Integer(), nullable=True),
        sa.Column('locale', sa.String(length=8), nullable=False),
        sa.Column('payload', sa.JSON(), nullable=False),
        sa.Column('status', sa.String(length=8), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('claimed_until', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('sent_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=1000), nullable=True),
        sa.ForeignKeyConstraint(['invitation_id'], ['invitations.id'],
                                name=op.f('fk_account_emails_invitation_id_invitations'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'],
                                name=op.f('fk_account_emails_user_id_users'),
                                ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_account_emails')),
    )
    with op.batch_alter_table('account_emails', schema=None) as batch_op:
        batch_op.create_index('ix_account_emails_due', ['status', 'next_attempt_at'],
                              unique=False)
        batch_op.create_index('ix_account_emails_to_kind', ['to_address', 'kind', 'created_at'],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table('account_emails', schema=None) as batch_op:
        batch_op.drop_index('ix_account_emails_to_kind')
        batch_op.drop_index('ix_account_emails_due')
    op.drop_table('account_emails')
    with op.batch_alter_table('user_sessions', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_sessions_user_id'))
    op.drop_table('user_sessions')
    with op.batch_alter_table('invitations', schema=None) as batch_op:
        batch_op.drop_column('nonce')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('email_verified_at')
        batch_op.drop_column('link_key')
