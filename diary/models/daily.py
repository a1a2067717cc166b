"""The parent's daily tools: running timers (feeds, sleep, tummy time) and the record of
vaccinations and check-ups given."""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from db import Base, UTCDateTime


class Timer(Base):
    """One timer of one child, started with a tap and stopped (or discarded) later, from any
    device of any caregiver: it lives here, not in a browser.

    `running_kind` is the kind while the timer runs and NULL once it is stopped or discarded:
    the unique key (child, running_kind) allows one running timer of a kind per child (NULLs
    never clash), and stopping is a conditional UPDATE on it, so two devices stopping the same
    timer at once make exactly one entry."""

    __tablename__ = "child_timers"
    __table_args__ = (UniqueConstraint("child_id", "running_kind",
                                       name="uq_child_timers_one_running"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(8))  # a name in diary.timers.TIMER_KINDS
    side: Mapped[str | None] = mapped_column(String(8))  # feeds: "left" / "right"
    running_kind: Mapped[str | None] = mapped_column(String(8))
    status: Mapped[str] = mapped_column(String(10), default="running")  # stopped / discarded
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    started_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The timeline entry the stopped timer became.
    entry_id: Mapped[int | None] = mapped_column(
        ForeignKey("entries.id", ondelete="SET NULL"), index=True)


class Vaccination(Base):
    """A vaccination or check-up given: ticked off a reminder (its content key, never its
    title: the diary does not read content) or entered by hand (a name)."""

    __tablename__ = "vaccinations"
    __table_args__ = (UniqueConstraint("child_id", "reminder_key",
                                       name="uq_vaccinations_reminder_once"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(16))  # "vaccination" / "checkup"
    reminder_key: Mapped[str | None] = mapped_column(String(80))
    name: Mapped[str] = mapped_column(String(120), default="")
    given_on: Mapped[date] = mapped_column(Date)
    note: Mapped[str] = mapped_column(String(200), default="")
    recorded_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
