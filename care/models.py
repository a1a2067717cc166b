"""The care package's tables (imported by migrations/env.py and the tests' load_all_models)."""
from __future__ import annotations

from datetime import datetime

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
