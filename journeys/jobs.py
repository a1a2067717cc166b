"""Scheduler jobs as module-level functions (APScheduler calls them by reference).

Each job owns its transactions: one per batch, so a crash loses at most the batch in
flight, and the ledger makes the retry harmless.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import sessionmaker

from db import utcnow
from journeys import defaults, engine
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
                      batch_size: int = 500) -> TickSummary:
    """Enrol new children, then advance every enrolment in batches; returns what it did."""
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
        cache = engine.TickCache(now)
        after = 0
        while True:
            with session.begin():
                result = engine.tick_batch(session, now, after, batch_size, cache)
                summary.processed += result.processed
                summary.pushed += result.pushed
                summary.exited += result.exited
                summary.batches += 1
                run = session.merge(run)
                run.processed, run.created, run.last_id = summary.processed, summary.pushed, \
                    result.last_id
                if result.done:
                    run.finished_at = utcnow()
            after = result.last_id
            if result.done:
                break
    log.info("journeys tick as of %s: %s", now.isoformat(), summary)
    return summary


def run_campaigns(factory: sessionmaker, now: datetime | None = None,
                  we_miss_you_days: int | None = None):  # type: ignore[no-untyped-def]
    """Life-moment campaigns: record and send what is due (one transaction), then measure
    conversions (another). Hourly is enough: birthdays start at local midnight in each zone.
    Returns `campaigns.RunStats` with `converted` filled in."""
    from journeys import campaigns

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
    log.info("campaigns as of %s: %s", now.isoformat(), stats)
    return stats
