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

from sqlalchemy import (
    JSON,
    Boolean,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime
from diary.integration_keys import IntegrationKeyColumns


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


class InboundMailIntegration(IntegrationKeyColumns, Base):
    """The mail provider that forwards parents' emailed replies
    (`POST /api/care/inbound-email`), with its key (`diary.integration_keys`)."""
    __tablename__ = "care_inbound_integrations"
# --- surveys and the help centre's votes (care.surveys, care.help) ------------------------------

class SurveyOffer(Base):
    """One survey offered to one person (CSAT 1–5 or NPS 0–10), and their answer.

    (user, trigger, subject_ref) is unique: a moment ("ticket:12", "child:5", the first
    month of digests) is offered once, whoever races to offer it. `link_key` is the random
    half of the signed answer links (`care.surveys.make_answer_token`): an id alone could,
    after the row is gone, name a newer one."""

    __tablename__ = "survey_offers"
    __table_args__ = (UniqueConstraint("user_id", "trigger", "subject_ref",
                                       name="uq_survey_offers_once"),
                      Index("ix_survey_offers_user_time", "user_id", "offered_at"),
                      Index("ix_survey_offers_offered_at", "offered_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # csat | nps
    trigger: Mapped[str] = mapped_column(String(16))  # ticket | birth | digests | quarterly
    subject_ref: Mapped[str] = mapped_column(String(64), default="")
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)  # inbox, email
    link_key: Mapped[str] = mapped_column(String(32))
    offered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    score: Mapped[int | None] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    answered_via: Mapped[str | None] = mapped_column(String(8))  # site | email
    commented_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    follow_up: Mapped[SurveyFollowUp | None] = relationship(back_populates="offer")


class SurveyThrottle(Base):
    """Per person, when they were last offered a survey (any kind) and an NPS survey. An
    offer wins the person's slot with one conditional UPDATE of this row, so two offers made
    at once (a resolved ticket and the scheduler) cannot both pass the weekly limit."""

    __tablename__ = "survey_throttles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    last_offer_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_nps_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SurveyMoment(Base):
    """A key moment waiting to be asked about (a birth recorded: 14 days later); the
    scheduler offers it once (`offered`), or gives up after a while (`skipped`)."""

    __tablename__ = "survey_moments"
    __table_args__ = (UniqueConstraint("user_id", "trigger", "subject_ref",
                                       name="uq_survey_moments_once"),
                      Index("ix_survey_moments_due", "status", "due_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    trigger: Mapped[str] = mapped_column(String(16))
    subject_ref: Mapped[str] = mapped_column(String(64), default="")
    due_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending|offered|skipped
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SurveyFollowUp(Base):
    """A low score's follow-up task for customer service (open → done)."""

    __tablename__ = "survey_follow_ups"
    __table_args__ = (Index("ix_survey_follow_ups_status", "status", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("survey_offers.id", ondelete="CASCADE"),
                                          unique=True)
    status: Mapped[str] = mapped_column(String(8), default="open")  # open | done
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                               ondelete="SET NULL"))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    offer: Mapped[SurveyOffer] = relationship(back_populates="follow_up")


class FaqVote(Base):
    """"Was this helpful?": one vote per person (or anonymous browser) per FAQ, changeable.
    `voter` is "u<user id>" for a signed-in person, "a<random>" for a visitor's browser."""

    __tablename__ = "faq_votes"
    __table_args__ = (UniqueConstraint("item_id", "voter", name="uq_faq_votes_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    voter: Mapped[str] = mapped_column(String(40))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                index=True)
    helpful: Mapped[bool] = mapped_column(Boolean)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
