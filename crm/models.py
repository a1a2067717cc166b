"""The CRM's own tables.

`CustomerScore` is one row per customer (a parent account, never staff), rewritten by the
nightly scoring job (`crm.scores`): RFM, value tier and group, and the CLV model's
expectations. Segments, the customer 360 page and the analyst lists read it instead of
fitting models on every page view; `computed_at` says how fresh it is.
"""
from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    Float,
    ForeignKey,
    Integer,
    SmallInteger,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, UTCDateTime


class CustomerScore(Base):
    __tablename__ = "customer_scores"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    computed_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Days since the last purchase (None: never bought).
    recency_days: Mapped[int | None] = mapped_column(Integer)
    #: Purchase days (distinct local days with at least one purchase).
    frequency: Mapped[int] = mapped_column(Integer, default=0)
    #: Everything bought, in minor units.
    monetary_minor: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Quintile scores 1..5 (5 best); 0 for customers who never bought.
    r_score: Mapped[int] = mapped_column(SmallInteger, default=0)
    f_score: Mapped[int] = mapped_column(SmallInteger, default=0)
    m_score: Mapped[int] = mapped_column(SmallInteger, default=0)
    #: "high" | "medium" | "low"
    tier: Mapped[str] = mapped_column(String(8), index=True)
    #: "most_valuable" | "most_growable" | "below_zero" | "other"
    value_group: Mapped[str] = mapped_column(String(16), index=True)
    #: BG/NBD: expected purchases in the next 90 days, and the probability of being "alive".
    expected_purchases_90d: Mapped[float] = mapped_column(Float, default=0.0)
    p_alive: Mapped[float] = mapped_column(Float, default=0.0)
    #: Discounted customer lifetime value (BG/NBD × Gamma-Gamma), minor units.
    clv_minor: Mapped[int] = mapped_column(BigInteger, default=0, index=True)


class DueFollowUp(Base):
    """What staff did about one due-list entry (`crm.due`): a customer whose child enters a
    new stage or nappy size on `due_on`. The list itself is worked out from the children's
    dates and weights; only the follow-up is stored, one row per (customer, child, kind,
    due date), made when staff first set a status (no row: "open")."""

    __tablename__ = "crm_due_follow_ups"
    __table_args__ = (UniqueConstraint("user_id", "child_id", "kind", "due_on",
                                       name="uq_crm_due_follow_ups_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"),
                                          index=True)
    #: "stage" | "nappy" (crm.vocabulary.DUE_KINDS)
    kind: Mapped[str] = mapped_column(String(8))
    due_on: Mapped[date] = mapped_column(Date, index=True)
    #: "open" | "contacted" | "converted" | "declined" (crm.vocabulary.FOLLOW_UP_STATUSES)
    status: Mapped[str] = mapped_column(String(12), default="open")
    #: What is due: the new stage's key ("month:7") or nappy size ("M").
    detail: Mapped[str] = mapped_column(String(24), default="")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))


class SavedReport(Base):
    """An analyst's pivot report (`crm.pivot`): its name and definition, and whether it goes
    out in the weekly report email to every analyst."""

    __tablename__ = "crm_saved_reports"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    #: {"source", "rows", "columns", "measure", "filters"} — checked by crm.pivot.parse.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                 index=True)
    weekly: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ReportMailing(Base):
    """One saved report emailed to one analyst in one ISO week ("2026-W48"): the unique key
    makes the weekly email go once, however often the job runs or how many run at once."""

    __tablename__ = "crm_report_mailings"
    __table_args__ = (UniqueConstraint("report_id", "user_id", "week",
                                       name="uq_crm_report_mailings_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    report_id: Mapped[int] = mapped_column(ForeignKey("crm_saved_reports.id",
                                                      ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    week: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
