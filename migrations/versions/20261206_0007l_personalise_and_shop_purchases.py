"""personalise choice, shop integrations and unmatched order lines

`users.personalise_suggestions` ("Personalise my suggestions", on by default: existing
accounts keep today's behaviour), the brand shop's integrations (only a hash of each key is
stored) and the order lines that matched no customer or product (kept and reported).

Revision ID: 0007l
Revises: 0007i
Create Date: 2026-12-06 18:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0007l'
down_revision = '0007i'
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('personalise_suggestions', sa.Boolean(), nullable=False,
                                      server_default=sa.true()))
    op.create_table(
        'shop_integrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('key_prefix', sa.String(length=12), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_shop_integrations')),
        sa.UniqueConstraint('key_hash', name=op.f('uq_shop_integrations_key_hash')),
        sa.UniqueConstraint('name', name=op.f('uq_shop_integrations_name')),
    )
    op.create_table(
        'unmatched_order_lines',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('order_line_id', sa.String(length=64), nullable=False),
        sa.Column('reason', sa.String(length=16), nullable=False),
        sa.Column('source', sa.String(length=90), nullable=False),
        sa.Column('ordered_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('email', sa.String(length=254), nullable=True),
        sa.Column('member_no', sa.String(length=32), nullable=True),
        sa.Column('sku', sa.String(length=80), nullable=False),
        sa.Column('quantity', sa.Integer(), nullable=False),
        sa.Column('amount_minor', sa.BigInteger(), nullable=False),
        sa.Column('currency', sa.String(length=3), nullable=False),
        sa.Column('received_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_unmatched_order_lines')),
        sa.UniqueConstraint('order_line_id', name=op.f('uq_unmatched_order_lines_order_line_id')),
    )
    op.create_index(op.f('ix_unmatched_order_lines_email'), 'unmatched_order_lines', ['email'])
    op.create_index(op.f('ix_unmatched_order_lines_member_no'), 'unmatched_order_lines',
                    ['member_no'])


def downgrade() -> None:
    op.drop_table('unmatched_order_lines')
    op.drop_table('shop_integrations')
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('personalise_suggestions')
