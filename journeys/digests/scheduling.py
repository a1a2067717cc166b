"""Digest scheduling: who is due when, once per period, within the frequency cap.

`schedule_due(session, now)` writes one ledger row per person and period
(`digest:2026-W48` / `digest:2026-11-23`, channel "email", child 0) for everyone whose
local send time has come. The ledger's unique key makes it once per period, even with two
schedulers. People over the frequency cap get a "suppressed" row with reason "cap" instead
(their inbox already has the content), so staff can see why nothing went out. People are
read in keyset batches with a handful of set-based queries per batch; `run_schedule` is the
scheduler job's loop (one transaction per batch, progress in a `TickRun` row).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import and_, exists, func, or_, select
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from diary.models import Membership, User
from journeys import ledger
from journeys.models import Delivery, EmailPreference, Suppression, TickRun
from journeys.preferences import Schedule, zone

KIND = "digest"
CHANNEL = "email"
DEFAULT_CAP = 3
CAP_WINDOW = timedelta(days=7)

@dataclass
class BatchResult:
    processed: int = 0
    scheduled: int = 0
    capped: int = 0
    last_id: int = 0
    done: bool = False


def _eligible(session: Session, after_id: int, batch_size: int) -> list[Any]:
    """Opted-in, active, unsuppressed people with a proven address and a family, with their
    email timing."""
    stmt = (select(User.id, User.timezone, EmailPreference.frequency, EmailPreference.send_hour,
                   EmailPreference.quiet_start, EmailPreference.quiet_end,
                   EmailPreference.paused_until)
            .outerjoin(EmailPreference, EmailPreference.user_id == User.id)
            .where(User.id > after_id, User.digest_opt_in.is_(True), User.is_active.is_(True),
                   User.email_verified_at.is_not(None),
                   ~exists().where(Suppression.email == User.email),
                   exists().where(Membership.user_id == User.id))
            .order_by(User.id).limit(batch_size))
    return list(session.execute(stmt))


def recent_email_counts(session: Session, user_ids: list[int], now: datetime
                        ) -> dict[int, int]:
    """Email per person in the rolling 7 days: sent ones, and ones still queued (so a slow
    outbox cannot let a burst through the cap)."""
    if not user_ids:
        return {}
    since = now - CAP_WINDOW
    stmt = (select(Delivery.user_id, func.count())
            .where(Delivery.user_id.in_(user_ids), Delivery.channel == CHANNEL,
                   or_(and_(Delivery.status == "sent", Delivery.sent_at > since),
                       and_(Delivery.status.in_(("pending", "failed")),
                            Delivery.created_at > since)))
            .group_by(Delivery.user_id))
    return {uid: count for uid, count in session.execute(stmt)}


def schedule_batch(session: Session, now: datetime, after_id: int = 0,
                   batch_size: int = 1000, cap: int = DEFAULT_CAP) -> BatchResult:
    """Schedule digests for up to `batch_size` eligible people with id > after_id."""
    people = _eligible(session, after_id, batch_size)
    result = BatchResult(processed=len(people), last_id=people[-1].id if people else after_id,
                         done=len(people) < batch_size)
    due: dict[int, str] = {}  # user id → period
    for p in people:
        schedule = Schedule.from_values(p.frequency, p.send_hour, p.quiet_start, p.quiet_end,
                                        p.paused_until)
        local = now.astimezone(zone(p.timezone))
        if schedule.is_paused(local.date()) or not schedule.is_due(local):
            continue
        due[p.id] = schedule.period(local)
    if not due:
        return result
    keys = {f"{KIND}:{period}" for period in due.values()}
    have = {(uid, key) for uid, key in session.execute(
        select(Delivery.user_id, Delivery.item_key).where(
            Delivery.user_id.in_(list(due)), Delivery.channel == CHANNEL,
            Delivery.child_id == 0, Delivery.item_key.in_(keys)))}
    due = {uid: period for uid, period in due.items() if (uid, f"{KIND}:{period}") not in have}
    counts = recent_email_counts(session, list(due), now)
    pending, capped = [], []
    for uid, period in due.items():
        row = {"user_id": uid, "child_id": 0, "item_key": f"{KIND}:{period}",
               "channel": CHANNEL, "occurrence": period, "journey_id": None,
               "payload": {"kind": KIND}, "status": "pending"}
        if counts.get(uid, 0) >= cap:
            row["status"], row["payload"] = "suppressed", {"kind": KIND, "reason": "cap"}
            capped.append(row)
        else:
            pending.append(row)
    result.scheduled = ledger.push(session, pending) if pending else 0
    result.capped = ledger.push(session, capped) if capped else 0
    session.flush()
    return result


def schedule_due(session: Session, now: datetime, *, cap: int = DEFAULT_CAP,
                 batch_size: int = 1000) -> int:
    """Schedule every due digest in the caller's transaction; returns how many were queued."""
    after, scheduled = 0, 0
    while True:
        result = schedule_batch(session, now, after, batch_size, cap)
        scheduled += result.scheduled
        after = result.last_id
        if result.done:
            return scheduled


@dataclass
class ScheduleSummary:
    processed: int = 0
    scheduled: int = 0
    capped: int = 0
    batches: int = 0


def run_schedule(factory: sessionmaker, now: datetime | None = None, *, cap: int = DEFAULT_CAP,
                 batch_size: int = 1000) -> ScheduleSummary:
    """The scheduler job: one transaction per batch, progress in a `TickRun` row."""
    now = now or utcnow()
    summary = ScheduleSummary()
    with factory() as session:
        with session.begin():
            run = TickRun(kind="digests", as_of=now)
            session.add(run)
        after = 0
        while True:
            with session.begin():
                result = schedule_batch(session, now, after, batch_size, cap)
                summary.processed += result.processed
                summary.scheduled += result.scheduled
                summary.capped += result.capped
                summary.batches += 1
                run = session.merge(run)
                run.processed, run.created, run.last_id = summary.processed, \
                    summary.scheduled, result.last_id
                run.note = f"capped {summary.capped}"
                if result.done:
                    run.finished_at = utcnow()
            after = result.last_id
            if result.done:
                return summary

