"""Timers for feeds, sleep and tummy time: one tap starts one, any caregiver stops it later.

Why in the database: a parent starts a feed on the phone at 3 a.m. and the other parent
stops it on the tablet; a reload, a closed tab or another device must not lose it. The page
shows the time elapsed since the stored start (the server is the truth; a small script only
ticks the display).

At most one timer of a kind runs per child: the unique key (child_id, running_kind) refuses
a second one, also when two devices start one at the same moment. Stopping and discarding are
conditional UPDATEs (`... WHERE running_kind IS NOT NULL`): of two devices stopping the same
timer at once, exactly one changes the row and writes the entry; the other is told it was
already stopped.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from clock import utcnow
from diary import entries
from diary.age import effective_age_on, local_date
from diary.entry_kinds import KINDS, EntryInput, check_kind_fits
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.models import Child, Entry, Timer, User


@dataclass(frozen=True)
class TimerKind:
    name: str  # stored in child_timers.kind
    entry_kind: str  # the timeline entry it becomes (diary.entry_kinds.KINDS)
    label: str
    max_minutes: int  # the longest the entry kind's validator takes
    #: The child page offers it until this age in whole months (None: at every age).
    offered_until_months: int | None = None


#: The kinds of timer, in the order the child page shows their buttons. Tummy time is for
#: babies who are not yet on the move (WHO guidelines on physical activity, sedentary
#: behaviour and sleep for children under 5 years, 2019: "for those not yet mobile"): a
#: toddler's page does not offer it.
TIMER_KINDS: dict[str, TimerKind] = {k.name: k for k in (
    TimerKind("feed", "feeding", N_("Feed"), 180),
    TimerKind("sleep", "sleep", N_("Sleep"), 1440),
    TimerKind("tummy", "tummy_time", N_("Tummy time"), 120, offered_until_months=12),
)}


def offered(child: Child, on: date) -> tuple[str, ...]:
    """The timers the child page offers a born child on `on`, by the age development goes
    by (corrected for a preterm baby). Any kind can still be started (the API, a page open
    since before a birthday) and a running one is always shown."""
    assert child.birth_date is not None
    # `on` can precede the birth date: a family's zone moved west on the birth day.
    months = effective_age_on(child.birth_date, child.gestational_weeks_at_birth,
                              child.gestational_days_at_birth, on).months \
        if on >= child.birth_date else 0
    return tuple(kind.name for kind in TIMER_KINDS.values()
                 if kind.offered_until_months is None or months < kind.offered_until_months)


#: The breast a feed is on; a feed timer needs one.
SIDES = ("left", "right")
RUNNING, STOPPED, DISCARDED = "running", "stopped", "discarded"


def _check_kind(kind: str) -> TimerKind:
    found = TIMER_KINDS.get(kind)
    if found is None:
        raise ValidationError(N_("Unknown kind of timer."), "kind")
    return found


def start(session: Session, child: Child, user: User, kind: str, side: str | None = None,
          now: datetime | None = None) -> Timer:
    """A new running timer, or Conflict when one of this kind already runs for the child."""
    timer_kind = _check_kind(kind)
    now = now or utcnow()
    if timer_kind.name == "feed":
        if side not in SIDES:
            raise ValidationError(N_("Please choose the left or the right side."), "side")
    else:
        side = None
    check_kind_fits(timer_kind.entry_kind, child.birth_date,
                    local_date(now, child.family.timezone))
    timer = Timer(child_id=child.id, kind=kind, side=side, running_kind=kind, status=RUNNING,
                  started_at=now, started_by_id=user.id)
    try:
        with session.begin_nested():  # the unique key decides a race of two devices
            session.add(timer)
    except IntegrityError:
        raise Conflict(N_("A timer of this kind is already running.")) from None
    return timer


_RUNNING = select(Timer).where(Timer.child_id == bindparam("child_id"),
                               Timer.running_kind.is_not(None))


def running(session: Session, child: Child) -> dict[str, Timer]:
    """The child's running timers by kind (asked on every visit of the child page: the
    statement is built once)."""
    return {t.kind: t for t in session.scalars(_RUNNING, {"child_id": child.id})}


def timer_of(session: Session, child: Child, timer_id: int) -> Timer:
    """The child's timer with this id; another child's (or no) timer is NotFound."""
    timer = session.get(Timer, timer_id)
    if timer is None or timer.child_id != child.id:
        raise NotFound()
    return timer


def elapsed_minutes(timer: Timer, now: datetime) -> int:
    """Minutes since the start, to the nearest whole minute (half a minute up), at least 1:
    a 20-second feed is 1 minute."""
    seconds = (now - timer.started_at).total_seconds()
    return max(1, math.floor((seconds + 30) / 60))


def _finish(session: Session, timer: Timer, status: str, now: datetime) -> bool:
    """Flip a running timer to `status`; False if it was no longer running (someone else
    stopped or discarded it first). The one statement that decides."""
    result: Any = session.execute(
        update(Timer).where(Timer.id == timer.id, Timer.running_kind.is_not(None))
        .values(running_kind=None, status=status, ended_at=now)
        .execution_options(synchronize_session=False))
    if result.rowcount != 1:
        return False
    session.expire(timer)
    return True


def stop(session: Session, child: Child, user: User, timer_id: int, minutes: int | None = None,
         now: datetime | None = None) -> Entry:
    """Stop the timer and write its entry (started at the timer's start, lasting the time it
    ran, or `minutes` when the parent stopped it late: between 1 and the time it ran).

    Conflict when it was already stopped or discarded (from another device)."""
    now = now or utcnow()
    timer = timer_of(session, child, timer_id)
    if timer.running_kind is None:
        # Told first: the minutes of a timer someone else ended are no longer the question
        # (the conditional UPDATE below still decides two stops at the same moment).
        raise Conflict(N_("This timer was already stopped."))
    timer_kind = TIMER_KINDS[timer.kind]
    ran = elapsed_minutes(timer, now)
    if minutes is not None and not 1 <= minutes <= ran:
        raise ValidationError(N_("Enter between 1 and %(max)d minutes."), "minutes", max=ran)
    duration = minutes if minutes is not None else ran
    if duration > timer_kind.max_minutes:
        raise ValidationError(
            N_("The timer ran for %(ran)d minutes, longer than that can be: enter the real "
               "minutes or discard it."), "minutes", ran=ran)
    started_at, side = timer.started_at, timer.side
    if not _finish(session, timer, STOPPED, now):
        raise Conflict(N_("This timer was already stopped."))
    data: dict[str, Any] = {"duration_min": duration}
    if timer_kind.entry_kind == "feeding":
        data["method"] = f"breast_{side}"
    entry = entries.create_entry(session, child, user,
                                 EntryInput(timer_kind.entry_kind, started_at, data=data))
    session.flush()
    timer.entry_id = entry.id
    return entry


def discard(session: Session, child: Child, timer_id: int, now: datetime | None = None) -> None:
    """Throw a running timer away (started by mistake); Conflict when it no longer runs."""
    timer = timer_of(session, child, timer_id)
    if not _finish(session, timer, DISCARDED, now or utcnow()):
        raise Conflict(N_("This timer was already stopped."))


def history(session: Session, child: Child, limit: int = 10) -> list[Timer]:
    """The child's latest stopped or discarded timers, newest first."""
    return list(session.scalars(
        select(Timer).where(Timer.child_id == child.id, Timer.running_kind.is_(None))
        .order_by(Timer.started_at.desc(), Timer.id.desc()).limit(limit)))


def export_rows(session: Session, child_ids: list[int]) -> list[dict[str, Any]]:
    """Every timer of these children, for the data export."""
    if not child_ids:
        return []
    rows = session.scalars(select(Timer).where(Timer.child_id.in_(child_ids))
                           .order_by(Timer.id))
    return [{"child_id": t.child_id, "kind": t.kind, "side": t.side, "status": t.status,
             "started_at": t.started_at.isoformat(),
             "ended_at": t.ended_at.isoformat() if t.ended_at else None,
             "entry_id": t.entry_id} for t in rows]


assert all(k.entry_kind in KINDS for k in TIMER_KINDS.values())
