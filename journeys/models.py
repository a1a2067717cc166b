"""Journeys, enrolments, the delivery ledger (outbox), inbox messages, email preferences.

Exactly-once is a property of the schema: every push is first a `Delivery` row whose unique
key is (recipient, child, item, channel, occurrence). Whoever inserts the row owns the push;
a second scheduler, a retry or a re-run hits the unique key and does nothing.
"""
from __future__ import annotations

import hashlib
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
    text,
    true,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime


class Journey(Base):
    __tablename__ = "journeys"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(80), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | paused
    #: Who may enter: {"stage": "any"|"expecting"|"born", "interests": [...], "region": "...",
    #: "segment": <id of a saved segment>} (a segment is resolved by the `Audience` the
    #: scheduler hands the engine, see `journeys.audiences`).
    entry_rule: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    version: Mapped[int] = mapped_column(Integer, default=1)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Share of entering families held out (nothing pushed), to measure the journey's lift.
    holdout_share: Mapped[float] = mapped_column(Float, default=0.0, server_default=text("0"))
    #: What counts as a conversion ("visit" | "product_click" | "purchase"; None: no goal),
    #: within `goal_days` of entering the journey.
    goal: Mapped[str | None] = mapped_column(String(16))
    goal_days: Mapped[int] = mapped_column(Integer, default=14, server_default=text("14"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    stages: Mapped[list[JourneyStage]] = relationship(
        back_populates="journey", cascade="all, delete-orphan", order_by="JourneyStage.position")


class JourneyStage(Base):
    """A window of pregnancy weeks or (corrected) baby weeks/months, and what it pushes.

    `steps` is a list of {"push": ["article", "reminder", "product"], "channels": ["inbox"],
    "delay_days": 0, "when_interest": "skin_care" | None, "limit": 2}.
    """

    __tablename__ = "journey_stages"
    __table_args__ = (UniqueConstraint("journey_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(40))  # stable name used in ledger occurrences
    position: Mapped[int] = mapped_column(Integer)
    name: Mapped[str] = mapped_column(String(120))
    window_unit: Mapped[str] = mapped_column(String(16))
    window_from: Mapped[int] = mapped_column(Integer)
    window_to: Mapped[int] = mapped_column(Integer)
    steps: Mapped[list[dict[str, Any]]] = mapped_column(JSON, default=list)

    journey: Mapped[Journey] = relationship(back_populates="stages")


class Enrolment(Base):
    __tablename__ = "enrolments"
    __table_args__ = (UniqueConstraint("journey_id", "child_id"),
                      Index("ix_enrolments_active", "status", "id"),
                      Index("ix_enrolments_due", "status", "next_check_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    journey_id: Mapped[int] = mapped_column(ForeignKey("journeys.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"),
                                          index=True)
    status: Mapped[str] = mapped_column(String(16), default="active")  # active | exited
    stage_key: Mapped[str | None] = mapped_column(String(40))
    stage_entered_on: Mapped[date | None] = mapped_column(Date)
    exit_reason: Mapped[str | None] = mapped_column(String(40))
    enrolled_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_tick_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When something can next happen (a new stage or a delayed step): ticks skip the
    #: enrolment until then, so an idle tick over 100,000 children touches almost nothing.
    next_check_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the child first passed the journey's entry rules in one of its stages: the start
    #: of the goal window. `holdout` is decided then (per family) and never changes.
    entered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    holdout: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Delivery(Base):
    """The ledger and the outbox in one: the unique key makes every push happen once."""

    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("user_id", "child_id", "item_key", "channel", "occurrence",
                         name="uq_deliveries_once"),
        Index("ix_deliveries_outbox", "channel", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(Integer, default=0)  # 0 for per-user messages
    item_key: Mapped[str] = mapped_column(String(120))  # "article:slug", "digest:2026-W48" …
    channel: Mapped[str] = mapped_column(String(16))  # inbox | email
    occurrence: Mapped[str] = mapped_column(String(80))  # "j3:pw-20", "2026-11-23" …
    journey_id: Mapped[int | None] = mapped_column(Integer)
    #: pending → sent | failed (will retry) → dead | suppressed (not sent, on purpose)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class InboxMessage(Base):
    __tablename__ = "inbox_messages"
    __table_args__ = (Index("ix_inbox_user_unread", "user_id", "read_at", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    delivery_id: Mapped[int] = mapped_column(ForeignKey("deliveries.id", ondelete="CASCADE"),
                                             unique=True)
    item_id: Mapped[int | None] = mapped_column(ForeignKey("content_items.id",
                                                           ondelete="SET NULL"))
    stage_key: Mapped[str | None] = mapped_column(String(40))
    #: Text of messages that are not content items (campaign greetings), per locale.
    title: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class EmailPreference(Base):
    """How and when a parent wants email (one row per user, created on first change)."""

    __tablename__ = "email_preferences"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    frequency: Mapped[str] = mapped_column(String(8), default="weekly")  # weekly | daily
    send_hour: Mapped[int] = mapped_column(Integer, default=9)  # local hour
    quiet_start: Mapped[int] = mapped_column(Integer, default=21)
    quiet_end: Mapped[int] = mapped_column(Integer, default=8)
    paused_until: Mapped[date | None] = mapped_column(Date)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)  # empty = all
    #: Satisfaction surveys by email (a few a year; always in the site inbox). Not a
    #: consent: a service message, sent unless turned off here or by unsubscribing.
    surveys_by_email: Mapped[bool] = mapped_column(Boolean, default=True,
                                                   server_default=true())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class Suppression(Base):
    """Addresses we must not email: hard bounces and complaints (unsubscribes are consents)."""

    __tablename__ = "suppressions"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    reason: Mapped[str] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class TickRun(Base):
    """Progress of a scheduler tick, so a crash resumes and staff can see what ran."""

    __tablename__ = "tick_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # journeys | digests | outbox
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    as_of: Mapped[datetime] = mapped_column(UTCDateTime)
    processed: Mapped[int] = mapped_column(Integer, default=0)
    created: Mapped[int] = mapped_column(Integer, default=0)
    last_id: Mapped[int] = mapped_column(Integer, default=0)
    note: Mapped[str] = mapped_column(String(200), default="")


class CampaignSend(Base):
    """A life-moment campaign's decision for one recipient: sent, or held out (for lift).

    One row per (campaign, user, child, occurrence) — e.g. ("baby_birthday", 7, 3, "2027") —
    so a campaign reaches each person once per occasion; `holdout` rows are the control group.
    """

    __tablename__ = "campaign_sends"
    __table_args__ = (UniqueConstraint("campaign", "user_id", "child_id", "occurrence"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign: Mapped[str] = mapped_column(String(32))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    child_id: Mapped[int] = mapped_column(Integer, default=0)
    occurrence: Mapped[str] = mapped_column(String(32))
    holdout: Mapped[bool] = mapped_column(Boolean, default=False)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id",
                                                              ondelete="SET NULL"))
    goal: Mapped[str] = mapped_column(String(32))  # "visit" | "product_click" | "purchase"
    goal_days: Mapped[int] = mapped_column(Integer, default=7)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    converted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def click_key(delivery_id: int | None, user_id: int | None, item_key: str | None,
              path: str) -> str:
    """What makes an email click new: the delivery and person the link was made for, and
    its item (or its path when it names no item). A digest, so the unique key stays short."""
    parts = ("" if delivery_id is None else str(delivery_id),
             "" if user_id is None else str(user_id), item_key or path)
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _click_key_of_row(context: Any) -> str:
    row = context.get_current_parameters()
    return click_key(row.get("delivery_id"), row.get("user_id"), row.get("item_key"),
                     row["url"])


class EmailClick(Base):
    """A click on a signed tracking link in an email (the recommender/CRM read these).

    One row per link: (delivery, person, item — or the path when the link names no item),
    whose digest is `click_key` (unique; made from the row's own columns unless given). The
    first GET makes the row and `clicked_at` is that first click; reloads, a second tap and mail
    scanners fetching the link again are not new clicks, and nothing counts them: no repeat
    count or last-click time is kept, as what the CRM and the campaign reports ask is
    whether and when someone first followed a link, and repeats are mostly machines.
    """

    __tablename__ = "email_clicks"

    id: Mapped[int] = mapped_column(primary_key=True)
    click_key: Mapped[str] = mapped_column(String(64), unique=True, default=_click_key_of_row)
    delivery_id: Mapped[int | None] = mapped_column(ForeignKey("deliveries.id",
                                                              ondelete="SET NULL"), index=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                                index=True)
    item_key: Mapped[str | None] = mapped_column(String(120))
    url: Mapped[str] = mapped_column(String(500))
    clicked_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class MarketingCampaign(Base):
    """A campaign a marketer made in the studio: a saved segment as its audience, a trigger,
    a reviewed message (a content item of kind "message"), a holdout share and a goal.

    `segment_id` names a saved segment (`crm.models.Segment`); journeys never read that table
    (it sits above them): the scheduler hands `journeys.marketing.run` an `Audience` that turns
    the id into a select of user ids, and crm refuses to delete a segment a campaign uses.
    Its sends are `CampaignSend` rows named `key` ("m12"), like the life-moment campaigns'.
    """

    __tablename__ = "marketing_campaigns"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    segment_id: Mapped[int] = mapped_column(Integer, index=True)
    #: "once" (everyone in the segment when it starts), "on_entry" (everyone, as they enter
    #: the segment, once each) or "on_date" (everyone in the segment at `send_at`).
    trigger: Mapped[str] = mapped_column(String(16))
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The key of the content message (kind "message") whose published version is sent.
    message_key: Mapped[str] = mapped_column(String(80))
    channels: Mapped[list[str]] = mapped_column(JSON, default=list)
    holdout_share: Mapped[float] = mapped_column(Float, default=0.1)
    goal: Mapped[str] = mapped_column(String(16))
    goal_days: Mapped[int] = mapped_column(Integer, default=14)
    #: draft → active ⇄ paused; "done" once a one-off campaign has run.
    status: Mapped[str] = mapped_column(String(16), default="draft")
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_run_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    @property
    def key(self) -> str:
        """Its name in `CampaignSend.campaign` and in the ledger's item keys."""
        return f"m{self.id}"
