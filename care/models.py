"""The care package's tables (imported by migrations/env.py and the tests' load_all_models).

Questions and complaints (`care.tickets`):

- `Ticket`: one question or complaint of one parent, with its first-response promise
  (`first_response_due_at`, worked out once when it is opened, so a later change of opening
  hours does not move promises already made);
- `TicketMessage`: the conversation, the parent's and the staff's messages, and the staff's
  internal notes (`internal`: never shown to the parent, never in their export);
- `TicketAttachment`: a photo sent with a message (re-encoded like diary photos, the file in
  the photo store under a random key);
- `TicketEvent`: what happened to the ticket (opened, replies, status, assignment,
  escalation …); each one is also written to the customer's contact history;
- `CannedReply`: short answers staff reuse, in both languages;
- `InboundMailIntegration`: the mail provider's key for the inbound-email endpoint (only a
  hash is stored), like the shop's integrations.

Only `Ticket.user_id` names a customer; the other user columns name staff members.
"""
from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime


class Ticket(Base):
    __tablename__ = "care_tickets"
    __table_args__ = (Index("ix_care_tickets_status_due", "status", "first_response_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))
    #: care.tickets.CATEGORIES, SEVERITIES, STATUSES; department: crm.contact.DEPARTMENTS
    category: Mapped[str] = mapped_column(String(16))
    severity: Mapped[str] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(16), default="new")
    department: Mapped[str] = mapped_column(String(16), default="service")
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                    index=True)
    subject: Mapped[str] = mapped_column(String(200))
    #: The site page the parent asked from (a same-site path), or "".
    from_path: Mapped[str] = mapped_column(String(500), default="")
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_response_due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    first_responded_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", cascade="all, delete-orphan", passive_deletes=True,
        order_by="TicketMessage.id")


class TicketMessage(Base):
    __tablename__ = "care_ticket_messages"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("care_tickets.id", ondelete="CASCADE"),
                                           index=True)
    #: "customer" (the ticket's parent) or "staff" (`staff_id`, kept while the account is).
    author_kind: Mapped[str] = mapped_column(String(8))
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    internal: Mapped[bool] = mapped_column(Boolean, default=False)
    body: Mapped[str] = mapped_column(Text)
    #: "site" or "email"
    via: Mapped[str] = mapped_column(String(8), default="site")
    #: An emailed reply's Message-ID: the same email threaded twice is one message.
    email_message_id: Mapped[str | None] = mapped_column(String(255), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")
    attachments: Mapped[list[TicketAttachment]] = relationship(
        back_populates="message", cascade="all, delete-orphan", passive_deletes=True,
        order_by="TicketAttachment.id")


class TicketAttachment(Base):
    __tablename__ = "care_ticket_attachments"

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(
        ForeignKey("care_ticket_messages.id", ondelete="CASCADE"), index=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("care_tickets.id", ondelete="CASCADE"),
                                           index=True)
    storage_key: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    message: Mapped[TicketMessage] = relationship(back_populates="attachments")


class TicketEvent(Base):
    __tablename__ = "care_ticket_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("care_tickets.id", ondelete="CASCADE"),
                                           index=True)
    #: care.tickets.EVENT_KINDS
    kind: Mapped[str] = mapped_column(String(24))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    staff_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class CannedReply(Base):
    __tablename__ = "care_canned_replies"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(120))
    body_en: Mapped[str] = mapped_column(Text, default="")
    body_zh: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class InboundMailIntegration(Base):
    __tablename__ = "care_inbound_integrations"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    key_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
