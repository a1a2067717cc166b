"""The scheduler process and every job it runs, in one place.

Run it with `flask --app wsgi scheduler run` (`make run` starts it beside the web app).
`JOBS` lists each job with its trigger; the job functions below are module-level (APScheduler
calls them by reference), take the app, and hand the domain what it needs from it: a writer
session factory, the email settings and the links built from the app's URL map. Times are
UTC; coalescing and one instance per job mean a slow or missed run is caught up once, not
many times. Exactly-once does not depend on this process being alone: the delivery ledger's
unique key does that.
"""
from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

from apscheduler.schedulers.blocking import BlockingScheduler
from flask import Flask
from sqlalchemy.orm import sessionmaker

import db
from clock import utcnow
from crm import segments
from diary import sessions
from journeys import digests, jobs, outbox
from recommender import partitions
from rewards import catalogue
from webapp import account_mail
from webapp.links import site_links

log = logging.getLogger(__name__)

JOB_DEFAULTS = {"coalesce": True, "max_instances": 1, "misfire_grace_time": 300}


def writer_factory(app: Flask) -> sessionmaker:
    """Sessions for jobs: their own engine, with immediate write transactions on SQLite."""
    engine = db.make_engine(app.config["DATABASE_URL"], pool_pre_ping=True)
    return db.make_session_factory(db.writer_engine(engine))


def _factory(app: Flask) -> sessionmaker:
    """The app's job session factory, made once per app (one engine per process)."""
    factory = app.extensions.get("job_session_factory")
    if factory is None:
        factory = app.extensions["job_session_factory"] = writer_factory(app)
    return factory


def email_settings(app: Flask) -> outbox.EmailSettings:
    """The app's email settings; digests carry the recommender's suggestions, from the
    artifact the web workers use (a new one is picked up without a restart)."""
    settings = outbox.EmailSettings.from_config(app.config, site_links(app))
    store = app.extensions["reco_artifacts"]
    return replace(settings, suggesting=digests.Suggesting(
        store.current, float(app.config["RECO_CONTROL_SHARE"])))


# --- the jobs ----------------------------------------------------------------------------------

def journeys_tick_job(app: Flask) -> None:
    """Enrol new children and push what their stages bring (inbox, email rows); a journey
    whose entry rule is a saved segment asks crm who is in it."""
    jobs.run_journeys_tick(_factory(app), workers=app.config["JOURNEYS_TICK_WORKERS"],
                           audience=segments.audience)


def campaigns_job(app: Flask) -> None:
    """Birthdays and "we miss you": record, push, measure conversions (of every campaign,
    the marketers' too, and of the journeys' goals)."""
    jobs.run_campaigns(_factory(app))


def marketing_job(app: Flask) -> None:
    """The marketers' campaigns that are due, to their saved segments (crm resolves them)."""
    jobs.run_marketing(_factory(app), segments.audience)


def digests_job(app: Flask) -> None:
    """Queue the digests that are due (the outbox sends them)."""
    digests.run_schedule(_factory(app), cap=email_settings(app).digest_cap)


def outbox_job(app: Flask) -> None:
    """Send the ledger's pending email (digests, campaigns, pushed items)."""
    mailer = app.extensions["mailer"]
    outbox.send_due(_factory(app), lambda: mailer, None, 100, email_settings(app))


def account_mail_job(app: Flask) -> None:
    """Account email a web worker did not send (resets, address checks, invitations)."""
    account_mail.send_due(app, _factory(app))


def reco_retrain_job(app: Flask) -> None:
    """Nightly: a new suggestion model from the log's recent window (web workers load it
    within RECO_RELOAD_SECONDS)."""
    from recommender import jobs as reco_jobs

    with _factory(app)() as session, session.begin():
        model = reco_jobs.retrain(session, Path(app.config["RECO_ARTIFACT_DIR"]),
                                  app.config["RECO_TRAIN_DAYS"], utcnow())
    log.info("recommender: trained %s (%s)", model.version, model.metrics.get("events"))


def impressions_job(app: Flask) -> None:
    """Every half minute: the suggestion cards browsers reported (POST /api/impressions)
    become impressions in the log, a few hundred batches per transaction."""
    from recommender import impressions

    factory = _factory(app)
    for _ in range(IMPRESSION_ROUNDS):
        with factory() as session, session.begin():
            taken, logged = impressions.drain(session)
        if logged:
            log.info("impressions: %d logged from %d batches", logged, taken)
        if taken < impressions.DRAIN_BATCHES:
            return


#: At most this many drains a run: a backlog is worked off over the next runs.
IMPRESSION_ROUNDS = 20


def crm_scores_job(app: Flask) -> None:
    """Nightly: every customer's RFM, value tier and group, P(alive) and CLV (crm.scores),
    fitted on the site's own purchase history."""
    from crm import scores

    with _factory(app)() as session, session.begin():
        report = scores.compute_scores(session, utcnow())
    log.info("crm: %s", report.summary())


def crm_report_mail_job(app: Flask) -> None:
    """Every few hours: the week's report email to every analyst, for each saved report
    marked "weekly" — queued once per (report, analyst, ISO week) by the mailing table's
    unique key, sent by the account-mail job."""
    from crm import reports

    with _factory(app)() as session, session.begin():
        stats = reports.queue_weekly(session, utcnow())
    if stats.queued:
        log.info("crm: %d weekly report emails queued for %s", stats.queued, stats.week)


def ticket_escalation_job(app: Flask) -> None:
    """Every few minutes: escalate tickets past their first-response promise, each exactly
    once (the ticket's `escalated_at` decides), to TICKET_ESCALATION_LEAD when set."""
    from care import tickets
    from webapp.tickets import escalation_lead

    with _factory(app)() as session, session.begin():
        done = tickets.escalate_breached(session, utcnow(),
                                         escalation_lead(session, app.config))
    if done:
        log.info("care: %d tickets escalated", len(done))
def surveys_job(app: Flask) -> None:
    """Hourly: satisfaction surveys at key moments (two weeks after a birth was recorded,
    after the first month of digests) and the quarter's NPS, once per person and moment and
    never more than one a week (care.surveys); the account-mail job sends their emails."""
    from care import surveys

    with _factory(app)() as session, session.begin():
        stats = surveys.run_moments(session, utcnow())
    if stats.offered:
        log.info("care: %s", stats.summary())


def housekeeping_job(app: Flask) -> None:
    """Daily: forget ended sign-in sessions, and the shipping addresses of samples sent or
    cancelled longer ago than REWARD_ADDRESS_DAYS."""
    with _factory(app)() as session, session.begin():
        now = utcnow()
        sessions.prune(session, now)
        erased = catalogue.erase_old_addresses(
            session, now, timedelta(days=app.config["REWARD_ADDRESS_DAYS"]))
    if erased:
        log.info("housekeeping: %d shipping addresses blanked", erased)


def interaction_partitions_job(app: Flask) -> None:
    """Monthly: the interaction log's month partitions, this month and a few ahead
    (PostgreSQL; nothing to do on SQLite). Rows that came before their month was made wait
    in the DEFAULT partition and move into it when it is made."""
    with _factory(app)() as session, session.begin():
        made = partitions.ensure_ahead(session, app.config["INTERACTION_PARTITIONS_AHEAD"])
    if made:
        log.info("interaction partitions made: %s", made)


@dataclass(frozen=True)
class Job:
    id: str
    func: Callable[[Flask], None]
    trigger: dict[str, Any] = field(default_factory=dict)  # APScheduler "interval" arguments


JOBS: tuple[Job, ...] = (
    Job("journeys-tick", journeys_tick_job, {"minutes": 5}),
    Job("campaigns", campaigns_job, {"hours": 1}),
    Job("marketing", marketing_job, {"minutes": 5}),
    Job("digests", digests_job, {"minutes": 5}),
    Job("outbox", outbox_job, {"minutes": 1}),
    Job("account-mail", account_mail_job, {"seconds": 30}),
    Job("impressions", impressions_job, {"seconds": 30}),
    Job("housekeeping", housekeeping_job, {"hours": 24}),
    # Interval triggers have no months: every four weeks (and at every start) keeps at
    # least two months made ahead; the DEFAULT partition covers any gap.
    Job("interaction-partitions", interaction_partitions_job, {"weeks": 4}),
    Job("reco-retrain", reco_retrain_job, {"hours": 24}),
    Job("crm-scores", crm_scores_job, {"hours": 24}),
    Job("crm-report-mail", crm_report_mail_job, {"hours": 6}),
    Job("ticket-escalation", ticket_escalation_job, {"minutes": 5}),
    Job("surveys", surveys_job, {"hours": 1}),
)


#: The jobs dedicated senders (`flask outbox send`) take over when SCHEDULER_SENDS_EMAIL is off.
EMAIL_JOBS = frozenset({"outbox", "account-mail"})


def jobs_for(app: Flask) -> tuple[Job, ...]:
    if app.config.get("SCHEDULER_SENDS_EMAIL", True):
        return JOBS
    return tuple(job for job in JOBS if job.id not in EMAIL_JOBS)


def build(app: Flask) -> BlockingScheduler:
    scheduler = BlockingScheduler(timezone=UTC, job_defaults=JOB_DEFAULTS)
    for job in jobs_for(app):
        scheduler.add_job(job.func, "interval", args=[app], id=job.id,
                          next_run_time=utcnow(), **job.trigger)
    return scheduler


def run(app: Flask) -> None:
    from webapp import logs

    logs.configure_process(app)  # JSON lines when LOG_FORMAT=json (production's default)
    scheduler = build(app)
    log.info("scheduler starting with jobs: %s", [j.id for j in scheduler.get_jobs()])
    try:
        scheduler.start()
    except (KeyboardInterrupt, SystemExit):
        log.info("scheduler stopped")
