"""The scheduler process: APScheduler's BlockingScheduler calling the journeys jobs.

Run it with `flask --app wsgi scheduler run` (`make run` starts it beside the web app). Jobs
are module-level functions; times are UTC; coalescing and one instance per job mean a slow
or missed run is caught up once, not many times. Exactly-once does not depend on this
process being alone: the delivery ledger's unique key does that.
"""
from __future__ import annotations

import logging
from datetime import UTC

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask

import db
from clock import utcnow

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def writer_factory(app: Flask):  # type: ignore[no-untyped-def]
    """Sessions for jobs: their own engine, with immediate write transactions on SQLite."""
    engine = db.make_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    return db.make_session_factory(db.writer_engine(engine))


def build(app: Flask) -> BlockingScheduler:
    from journeys import jobs

    factory = writer_factory(app)
    scheduler = BlockingScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    scheduler.add_job(jobs.run_journeys_tick, "interval", minutes=5, args=[factory],
                      kwargs={"workers": app.config["JOURNEYS_TICK_WORKERS"]},
                      id="journeys-tick", next_run_time=utcnow())
    scheduler.add_job(jobs.run_campaigns, "interval", hours=1, args=[factory],
                      id="campaigns", next_run_time=utcnow())
    for job in extra_jobs(app, factory):
        scheduler.add_job(**job)
    return scheduler


def extra_jobs(app: Flask, factory) -> list[dict]:  # type: ignore[no-untyped-def]
    """Email jobs, when the email pipeline is present (digests, outbox)."""
    jobs: list[dict] = []
    try:
        from webapp.emailjobs import account_mail_job, digest_job, housekeeping_job, outbox_job
    except ImportError:
        return jobs
    jobs.append({"func": housekeeping_job, "trigger": "interval", "hours": 24, "args": [app],
                 "id": "housekeeping", "next_run_time": utcnow()})
    jobs.append({"func": account_mail_job, "trigger": "interval", "seconds": 30, "args": [app],
                 "id": "account-mail", "next_run_time": utcnow()})
    jobs.append({"func": digest_job, "trigger": "interval", "minutes": 5, "args": [app],
                 "id": "digests", "next_run_time": utcnow()})
    jobs.append({"func": outbox_job, "trigger": "interval", "minutes": 1, "args": [app],
                 "id": "outbox", "next_run_time": utcnow()})
    return jobs


def run(app: Flask) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    scheduler = build(app)
    log.info("scheduler starting with jobs: %s", [j.id for j in scheduler.get_jobs()])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
