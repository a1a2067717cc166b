"""Scheduler jobs as module-level functions (APScheduler calls them by reference).

Each job owns its transactions: one per batch, so a crash loses at most the batch in
flight, and the ledger makes the retry harmless.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import case, select, update
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from journeys import defaults, engine
from journeys.audiences import Audience
from journeys.models import Journey, TickRun

log = logging.getLogger(__name__)


@dataclass
class TickSummary:
    processed: int = 0
    pushed: int = 0
    exited: int = 0
    enrolled: int = 0
    batches: int = 0


def run_journeys_tick(factory: sessionmaker, now: datetime | None = None,
                      batch_size: int = 500, workers: int = 1,
                      audience: Audience | None = None) -> TickSummary:
    """Enrol new children, then advance every enrolment in batches; returns what it did.
    `audience` resolves journeys' segment entry rules (`journeys.audiences`; without it a
    journey with a segment rule pushes nothing).

    On PostgreSQL `workers` threads share the batches (`FOR UPDATE SKIP LOCKED` hands each
    its own rows, the ledger's unique key makes any overlap harmless). Why threads: a batch
    is about half Python (stage maths, building rows) and half server work (the inserts), so
    two workers keep both cores busy. SQLite has one writer at a time, so it uses one. Each
    worker has its own session, so `factory` must be bound to an engine, not a connection."""
    now = now or utcnow()
    summary = TickSummary()
    with factory() as session:
        with session.begin():
            defaults.ensure_default_journey(session)
            # Every journey takes every child (a paused one just pushes nothing); its entry
            # rules decide, tick by tick, whether anything is pushed to a family.
            for journey in session.scalars(select(Journey)):
                summary.enrolled += defaults.enrol_everyone(session, journey)
            run = TickRun(kind="journeys", as_of=now)
            session.add(run)
        dialect = session.get_bind().dialect.name
    progress = _Progress(run.id, summary)
    if dialect != "postgresql":
        workers = 1
    if workers <= 1:
        _advance(factory, now, batch_size, progress, audience)
    else:
        _in_threads(workers, lambda: _advance(factory, now, batch_size, progress, audience))
    with factory() as session, session.begin():
        session.execute(update(TickRun).where(TickRun.id == run.id)
                        .values(finished_at=utcnow()))
    log.info("journeys tick as of %s: %s", now.isoformat(), summary)
    return summary


class _Progress:
    """The summary the workers add to, and the TickRun row that shows it to staff."""

    def __init__(self, run_id: int, summary: TickSummary) -> None:
        self.run_id, self.summary = run_id, summary
        self.lock = threading.Lock()

    def add(self, session: Session, result: engine.BatchResult) -> None:
        """Counts go into the TickRun row in the batch's own transaction (as increments, so
        two workers never overwrite each other)."""
        with self.lock:
            self.summary.processed += result.processed
            self.summary.pushed += result.pushed
            self.summary.exited += result.exited
            self.summary.batches += 1
        session.execute(update(TickRun).where(TickRun.id == self.run_id).values(
            processed=TickRun.processed + result.processed,
            created=TickRun.created + result.pushed,
            last_id=case((TickRun.last_id < result.last_id, result.last_id),
                         else_=TickRun.last_id)))


def _advance(factory: sessionmaker, now: datetime, batch_size: int,
             progress: _Progress, audience: Audience | None = None) -> None:
    """One worker: batches of due enrolments, one transaction each, until none is left."""
    cache = engine.TickCache(now)  # per worker: its ORM content objects stay in its session
    after = 0
    with factory() as session:
        while True:
            with session.begin():
                result = engine.tick_batch(session, now, after, batch_size, cache, audience)
                progress.add(session, result)
            after = result.last_id
            if result.done:
                return


def _in_threads(count: int, work: Callable[[], None]) -> None:
    """Run `work` in `count` threads; re-raise the first error once all have stopped."""
    errors: list[BaseException] = []

    def guarded() -> None:
        try:
            work()
        except BaseException as error:  # noqa: BLE001 - re-raised in the caller's thread
            errors.append(error)

    threads = [threading.Thread(target=guarded, name=f"tick-{n}") for n in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


def run_campaigns(factory: sessionmaker, now: datetime | None = None,
                  we_miss_you_days: int | None = None):  # type: ignore[no-untyped-def]
    """Life-moment campaigns: record and send what is due (one transaction), then measure
    conversions (another) — of every campaign, the marketers' too, and of the journeys'
    goals. Hourly is enough: birthdays start at local midnight in each zone.
    Returns `campaigns.RunStats` with `converted` filled in (campaign sends and journey
    entries)."""
    from journeys import campaigns, results

    now = now or utcnow()
    days = campaigns.WE_MISS_YOU_DAYS if we_miss_you_days is None else we_miss_you_days
    with factory() as session:
        with session.begin():
            stats = campaigns.run(session, now, days)
            session.add(TickRun(kind="campaigns", as_of=now, processed=stats.eligible,
                                created=stats.pushed, finished_at=utcnow(),
                                note=f"recorded {stats.recorded}, held out {stats.held_out}"))
        with session.begin():
            stats.converted = campaigns.measure_conversions(session, now)
            stats.converted += results.measure_journeys(session, now)
    log.info("campaigns as of %s: %s", now.isoformat(), stats)
    return stats


def run_marketing(factory: sessionmaker, audience: Audience | None,
                  now: datetime | None = None):  # type: ignore[no-untyped-def]
    """The marketers' campaigns that are due: one transaction, recorded as a TickRun.
    Returns `marketing.RunStats`."""
    from journeys import marketing

    now = now or utcnow()
    with factory() as session, session.begin():
        stats = marketing.run(session, now, audience)
        session.add(TickRun(kind="marketing", as_of=now, processed=stats.campaigns,
                            created=stats.pushed, finished_at=utcnow(),
                            note=f"recorded {stats.recorded}, held out {stats.held_out}"))
    log.info("marketer campaigns as of %s: %s", now.isoformat(), stats)
    return stats
