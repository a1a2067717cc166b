"""The scheduler process runs every job from one table, and each job works with the app it
is given: the digest and the outbox send email whose links come from the app's URL map."""
from __future__ import annotations

import inspect
import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from clock import utcnow
from journeys.models import Delivery, TickRun
from recommender import partitions
from webapp import scheduler


@pytest.fixture()
def app_overrides():
    return {"JOURNEYS_TICK_WORKERS": 1}  # the test's session is bound to one connection


def test_the_scheduler_runs_every_job_and_nothing_switches_email_off():
    assert [(job.id, job.trigger) for job in scheduler.JOBS] == [
        ("journeys-tick", {"minutes": 5}), ("campaigns", {"hours": 1}),
        ("marketing", {"minutes": 5}), ("digests", {"minutes": 5}), ("outbox", {"minutes": 1}),
        ("account-mail", {"seconds": 30}), ("impressions", {"seconds": 30}),
            ("housekeeping", {"hours": 24}),
        ("interaction-partitions", {"weeks": 4}), ("reco-retrain", {"hours": 24}),
        ("crm-scores", {"hours": 24}), ("crm-report-mail", {"hours": 6}),
        ("ticket-escalation", {"minutes": 5}), ("surveys", {"hours": 1})]
    # a missing email module is an error at start-up, not a scheduler without email
    assert "ImportError" not in inspect.getsource(scheduler)


def test_build_registers_the_jobs_with_the_app(app):
    built = scheduler.build(app)
    jobs = {job.id: job for job in built.get_jobs()}
    assert list(jobs) == [job.id for job in scheduler.JOBS]
    for job in scheduler.JOBS:
        assert jobs[job.id].func is job.func and jobs[job.id].args == (app,)
        seconds = timedelta(**job.trigger).total_seconds()
        assert jobs[job.id].trigger.interval.total_seconds() == seconds


def test_the_jobs_send_a_digest_with_links_from_the_url_map(app, session, session_factory,
                                                             make_family, mailer, clock_at):
    clock_at("2026-11-23T01:00")  # Monday 09:00 in Shanghai: weekly digests are due
    app.extensions["job_session_factory"] = session_factory  # the test's database
    user, child = make_family(born=False)
    for job in scheduler.JOBS:
        job.func(app)
    session.expire_all()
    kinds = set(session.scalars(select(TickRun.kind)))
    assert {"journeys", "campaigns", "marketing", "digests"} <= kinds
    digest = session.scalar(select(Delivery).where(Delivery.user_id == user.id,
                                                   Delivery.item_key.like("digest:%")))
    assert digest is not None and digest.status == "sent" and digest.sent_at <= utcnow()
    [email] = [e for e in mailer.sent if e.to == user.email]
    links = re.findall(r'href="([^"]+)"', email.html or "")
    assert links and all(link.startswith(("http://localhost/e/c/", "http://localhost/e/u/"))
                         for link in links)
    assert child.name in email.subject


def test_the_partitions_job_makes_this_month_and_the_configured_months_ahead(
        app, session, session_factory, clock_at):
    clock_at("2028-02-29T15:00")
    app.extensions["job_session_factory"] = session_factory
    app.config["INTERACTION_PARTITIONS_AHEAD"] = 2
    scheduler.interaction_partitions_job(app)
    scheduler.interaction_partitions_job(app)  # again: nothing more, nothing fails
    made = partitions.existing(session)
    if session.get_bind().dialect.name == "postgresql":
        assert made == ["interactions_2028_02", "interactions_2028_03", "interactions_2028_04"]
    else:
        assert made == []  # SQLite: one plain table
