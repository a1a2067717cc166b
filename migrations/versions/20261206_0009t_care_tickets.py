"""questions and complaints: tickets, messages, attachments, events, canned replies and the
inbound-mail integrations (care.tickets)

Revision ID: 0009t
Revises: 0009c
Create Date: 2026-12-06 21:00:00
"""
import sqlalchemy as sa
from alembic import op

import db

revision = '0009t'
down_revision = '0009c'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        'care_tickets',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('child_id', sa.Integer(), nullable=True),
        sa.Column('category', sa.String(length=16), nullable=False),
        sa.Column('severity', sa.String(length=8), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('department', sa.String(length=16), nullable=False),
        sa.Column('assignee_id', sa.Integer(), nullable=True),
        sa.Column('subject', sa.String(length=200), nullable=False),
        sa.Column('from_path', sa.String(length=500), nullable=False),
        sa.Column('opened_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('first_response_due_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('first_responded_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('resolved_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('escalated_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['child_id'], ['children.id'], ondelete='SET NULL'),
        sa.ForeignKeyConstraint(['assignee_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_care_tickets_user_id', 'care_tickets', ['user_id'])
    op.create_index('ix_care_tickets_assignee_id', 'care_tickets', ['assignee_id'])
    op.create_index('ix_care_tickets_status_due', 'care_tickets',
                    ['status', 'first_response_due_at'])
    op.create_table(
        'care_ticket_messages',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('author_kind', sa.String(length=8), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('internal', sa.Boolean(), nullable=False),
        sa.Column('body', sa.Text(), nullable=False),
        sa.Column('via', sa.String(length=8), nullable=False),
        sa.Column('email_message_id', sa.String(length=255), nullable=True),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['care_tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('email_message_id'),
    )
    op.create_index('ix_care_ticket_messages_ticket_id', 'care_ticket_messages', ['ticket_id'])
    op.create_table(
        'care_ticket_attachments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('message_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('storage_key', sa.String(length=64), nullable=False),
        sa.Column('width', sa.Integer(), nullable=False),
        sa.Column('height', sa.Integer(), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['message_id'], ['care_ticket_messages.id'],
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['ticket_id'], ['care_tickets.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_care_ticket_attachments_message_id', 'care_ticket_attachments',
                    ['message_id'])
    op.create_index('ix_care_ticket_attachments_ticket_id', 'care_ticket_attachments',
                    ['ticket_id'])
    op.create_table(
        'care_ticket_events',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=24), nullable=False),
        sa.Column('at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('staff_id', sa.Integer(), nullable=True),
        sa.Column('detail', sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(['ticket_id'], ['care_tickets.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['staff_id'], ['users.id'], ondelete='SET NULL'),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_care_ticket_events_ticket_id', 'care_ticket_events', ['ticket_id'])
    op.create_table(
        'care_canned_replies',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('title', sa.String(length=120), nullable=False),
        sa.Column('body_en', sa.Text(), nullable=False),
        sa.Column('body_zh', sa.Text(), nullable=False),
        sa.Column('updated_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_table(
        'care_inbound_integrations',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('key_hash', sa.String(length=64), nullable=False),
        sa.Column('key_prefix', sa.String(length=12), nullable=False),
        sa.Column('created_at', db.UTCDateTime(timezone=True), nullable=False),
        sa.Column('last_used_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('revoked_at', db.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('key_hash'),
        sa.UniqueConstraint('name'),
    )


def downgrade() -> None:
    op.drop_table('care_inbound_integrations')
    op.drop_table('care_canned_replies')
    op.drop_table('care_ticket_events')
    op.drop_table('care_ticket_attachments')
    op.drop_table('care_ticket_messages')
    op.drop_table('care_tickets')
