"""The outbox sender as its own process (`flask outbox send`): several senders share the
queued email and each email goes out exactly once; the loop survives a failed round and stops
when asked; the scheduler leaves email to the senders when SCHEDULER_SENDS_EMAIL is off."""
from __future__ import annotations

import itertools
import logging
import threading

import pytest
from sqlalchemy import func, select

import db
from diary import account_mail as account_queue
from diary.models import AccountEmail
from journeys.models import Delivery
from mailer import MemoryMailer
from tests.conftest import migrated_database_url, run_at_once
from tests.journeys.test_digests import (
    NOW,
    content,  # noqa: F401 - a fixture
    digest_rows,
    import_content,
    make_parent,
    schedule,
)
from webapp import create_app, scheduler, sender

pytestmark = pytest.mark.clock_at("2026-11-23T01:00")  # NOW: the digests are due

PARENTS = 12


@pytest.fixture()
def shared(tmp_path):
    """A committed database (SQLite file, or PostgreSQL with TEST_DATABASE_URL) holding
    twelve due digests and two account emails, as sender processes would share it."""
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    with factory() as s, s.begin():
        import_content(s, tmp_path)
        for i in range(PARENTS):
            parent = make_parent(s, f"parent{i}@example.com")
            if i < 2:
                account_queue.queue(s, account_queue.RESET_PASSWORD, parent.email, user=parent)
    with factory() as s:
        assert schedule(s, NOW) == PARENTS
    yield url, factory
    engine.dispose()
    drop()


def sender_app(url, tmp_path, name):  # type: ignore[no-untyped-def]
    """One sender process: its own app, engine and mail connection."""
    app = create_app("testing", DATABASE_URL=url, UPLOAD_DIR=tmp_path / name / "uploads",
                     RECO_ARTIFACT_DIR=tmp_path / name / "reco")
    app.extensions["mailer"] = MemoryMailer()
    return app


def test_two_senders_at_once_send_each_due_email_exactly_once(shared, tmp_path):
    url, factory = shared
    apps = [sender_app(url, tmp_path, "a"), sender_app(url, tmp_path, "b")]
    turn = itertools.count()
    errors = run_at_once(lambda: sender.send_once(apps[next(turn)], batch=2))
    assert errors == []
    sent = [m for app in apps for m in app.extensions["mailer"].sent]
    digests_sent = sorted(m.to for m in sent if "This week" in m.subject)
    assert digests_sent == sorted(f"parent{i}@example.com" for i in range(PARENTS))
    assert len(sent) == PARENTS + 2  # and the two password-reset emails, once each
    with factory() as s:
        statuses = s.execute(select(Delivery.status, func.count())
                             .where(Delivery.channel == "email")
                             .group_by(Delivery.status)).all()
        assert statuses == [("sent", PARENTS)]
        assert s.execute(select(AccountEmail.status, func.count())
                         .group_by(AccountEmail.status)).all() == [("sent", 2)]
    # a second round of both finds nothing left
    before = len(sent)
    turn = itertools.count()
    assert run_at_once(lambda: sender.send_once(apps[next(turn)], batch=2)) == []
    assert sum(len(app.extensions["mailer"].sent) for app in apps) == before


def test_the_command_sends_one_round_with_once(app, runner, session, mailer, content):
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    result = runner.invoke(args=["outbox", "send", "--once"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("outbox: sent 1, failed 0, dead 0, suppressed 0, "
                                    "deferred 0; account mail: ")
    assert [m.to for m in mailer.sent if "This week" in m.subject] == ["mum@example.com"]
    assert [r.status for r in digest_rows(session, mum)] == ["sent"]
    again = runner.invoke(args=["outbox", "send", "--once"])
    assert again.output.startswith("outbox: sent 0,")
    assert len([m for m in mailer.sent if "This week" in m.subject]) == 1


@pytest.mark.parametrize("args", [["--interval", "-1"], ["--batch", "0"],
                                  ["--batch", "abc"]])
def test_the_command_refuses_bad_options(runner, args):
    result = runner.invoke(args=["outbox", "send", "--once", *args])
    assert result.exit_code == 2
    assert "Invalid value" in result.output


def test_the_loop_survives_a_failed_round_and_stops_when_asked(app, monkeypatch, caplog):
    calls = []

    def once(_app, batch):  # type: ignore[no-untyped-def]
        calls.append(batch)
        if len(calls) == 1:
            raise ConnectionError("database restarting")
        return sender.Round(sender.outbox.OutboxStats(claimed=1, sent=1), {"sent": 0})

    monkeypatch.setattr(sender, "send_once", once)
    caplog.set_level(logging.INFO, logger="webapp.sender")
    stop = threading.Event()
    assert sender.serve(app, 0, stop, batch=7, rounds=3) == 3
    assert calls == [7, 7, 7]
    messages = [r.getMessage() for r in caplog.records if r.name == "webapp.sender"]
    assert messages[0] == "sender: round failed; trying again in 0 s"
    assert messages[1].startswith("sender: outbox: sent 1,")
    ids = [r.request_id for r in caplog.records if r.name == "webapp.sender"]
    assert all(i.startswith("sender-") for i in ids) and len(set(ids)) == len(ids)
    stop.set()
    assert sender.serve(app, 0, stop, rounds=3) == 0  # asked to stop: no further round
    assert len(calls) == 3


def test_a_signal_stops_the_loop(app, monkeypatch):
    stop = threading.Event()
    installed = {}
    monkeypatch.setattr(sender.signal, "signal", lambda sig, fn: installed.setdefault(sig, fn))
    sender.stop_on_signals(stop)
    installed[sender.signal.SIGTERM](sender.signal.SIGTERM, None)
    assert stop.is_set()
    assert set(installed) == {sender.signal.SIGTERM, sender.signal.SIGINT}


def test_the_scheduler_leaves_email_to_dedicated_senders(session_factory, tmp_path):
    def job_ids(**overrides):  # type: ignore[no-untyped-def]
        app = create_app("testing", SESSION_FACTORY=session_factory,
                         UPLOAD_DIR=tmp_path / "u", **overrides)
        return [job.id for job in scheduler.build(app).get_jobs()]

    every = job_ids()
    assert {"outbox", "account-mail"} <= set(every)
    without = job_ids(SCHEDULER_SENDS_EMAIL=False)
    assert without == [j for j in every if j not in ("outbox", "account-mail")]
