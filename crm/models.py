"""The CRM's own tables.

`CustomerScore` is one row per customer (a parent account, never staff), rewritten by the
nightly scoring job (`crm.scores`): RFM, value tier and group, and the CLV model's
expectations. Segments, the customer 360 page and the analyst lists read it instead of
fitting models on every page view; `computed_at` says how fresh it is.

`Segment` is a marketer's or analyst's saved list of conditions (`crm.segments`).

`ContactEvent` is a contact with a customer that no other table records: a staff call or
note (later tickets and surveys). Emails, inbox pushes and campaign decisions are recorded
where they happen (`journeys.models`) and the contact history reads them there
(`crm.contact`); they are never copied here.

`CustomerMerge` records each merge of two accounts of one customer (`crm.duplicates`): who,
when, both member numbers, why they were thought one person, and every row that moved.
Append-only and without foreign keys, like the staff access log, so it explains a merge
after either account is gone.
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
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import Mapped, ORMExecuteState, Session, mapped_column

from clock import utcnow
from db import Base, UTCDateTime
from diary.errors import N_, DiaryError


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
class Segment(Base):
    """A saved list of conditions over customers (`crm.segments`): all must hold.

    `definition` is the validated JSON ({"conditions": [{"field", "op", "value"}, ...]});
    `version` goes up with every edit, so a form opened before someone else's edit is refused
    instead of overwriting it."""

    __tablename__ = "segments"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), unique=True)
    description: Mapped[str] = mapped_column(Text, default="")
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
class ContactEvent(Base):
    """One contact with a customer recorded by the CRM itself (see the module's docstring).

    `source_kind` + `source_id` say where it came from ("staff_note" with no id for a note
    written on the customer's page; a ticket system's id later): one row per source record."""

    __tablename__ = "contact_events"
    __table_args__ = (Index("ix_contact_events_user_time", "user_id", "occurred_at"),
                      UniqueConstraint("source_kind", "source_id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: A name in `crm.contact.DEPARTMENTS`, `CHANNELS`, `DIRECTIONS`, `OUTCOMES`.
    department: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(16))
    direction: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(120))
    body: Mapped[str] = mapped_column(Text, default="")
    #: The staff member who wrote it; the member number stays when the account goes.
    author_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"),
                                                  index=True)
    author_member_no: Mapped[str | None] = mapped_column(String(12))
    source_kind: Mapped[str] = mapped_column(String(16))
    source_id: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class CustomerMerge(Base):
    """One merge: `merged` (deactivated) into `survivor`, by a staff member."""

    __tablename__ = "customer_merges"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    staff_user_id: Mapped[int] = mapped_column(Integer)
    staff_member_no: Mapped[str] = mapped_column(String(12))
    staff_role: Mapped[str] = mapped_column(String(16))
    survivor_user_id: Mapped[int] = mapped_column(Integer, index=True)
    survivor_member_no: Mapped[str] = mapped_column(String(12))
    merged_user_id: Mapped[int] = mapped_column(Integer, index=True)
    merged_member_no: Mapped[str] = mapped_column(String(12))
    #: Why the two were thought one person: names in `crm.duplicates.REASONS`.
    reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: Rows that moved to the survivor, per kind ("memberships", "deliveries" …).
    moved: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: Rows left with the merged account, per kind, and why (a copy the survivor has).
    kept: Mapped[dict[str, int]] = mapped_column(JSON, default=dict)
    #: The ids that moved per kind, the profile fields filled in, the consents after the
    #: merge and the merged account's last scores: everything to explain it later.
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(String(500), default="")


class MergeRecordAppendOnly(DiaryError):
    def __init__(self) -> None:
        super().__init__(N_("A merge record cannot be changed or deleted."))


@event.listens_for(CustomerMerge, "before_update")
@event.listens_for(CustomerMerge, "before_delete")
def _refuse_change(_mapper: Any, _connection: Any, _target: Any) -> None:
    raise MergeRecordAppendOnly()


@event.listens_for(Session, "do_orm_execute")
def _refuse_bulk_change(state: ORMExecuteState) -> None:
    if (state.is_update or state.is_delete) and state.bind_mapper is not None and \
            state.bind_mapper.class_ is CustomerMerge:
        raise MergeRecordAppendOnly()


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
