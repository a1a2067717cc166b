"""The outbox sender as its own process: `flask outbox send [--once] [--interval N]`.

It sends what the scheduler and the web requests queued: the delivery ledger's email rows
(`journeys.outbox.send_due`: digests, campaigns, pushed items) and the account email queue
(`webapp.account_mail.send_due`: resets, address checks, invitations, reports). Several
senders may run at once, on one host or many: the ledger's rows are claimed `FOR UPDATE SKIP
LOCKED` with a lease on PostgreSQL (each sender takes other rows; on SQLite the writer's
`BEGIN IMMEDIATE` serialises the claims), and an account email is claimed by a conditional
UPDATE of its lease. Either way each email goes to one sender.

When dedicated senders run, set SCHEDULER_SENDS_EMAIL=0 so the scheduler stops running its
own outbox and account-mail jobs (they would be safe beside the senders, only redundant).
"""
from __future__ import annotations

import logging
import signal
import threading
from dataclasses import dataclass
from typing import Any

from flask import Flask
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

import db
from journeys import outbox

log = logging.getLogger(__name__)


def job_factory(app: Flask) -> sessionmaker:
    """Sessions for sending: the app's database, with immediate write transactions on SQLite
    (a test's connection-bound factory is used as it is)."""
    factory = app.extensions.get("sender_session_factory")
    if factory is None:
        base = app.extensions["session_factory"]
        bind = base.kw.get("bind")
        factory = db.make_session_factory(db.writer_engine(bind)) \
            if isinstance(bind, Engine) else base
        app.extensions["sender_session_factory"] = factory
    return factory


@dataclass
class Round:
    """What one round sent: the ledger's email (outbox stats) and the account email."""
    outbox: outbox.OutboxStats
    account_mail: dict[str, int]

    def summary(self) -> str:
        o = self.outbox
        return (f"outbox: sent {o.sent}, failed {o.failed}, dead {o.dead}, suppressed "
                f"{o.suppressed}, deferred {o.deferred}; account mail: "
                + ", ".join(f"{k} {v}" for k, v in sorted(self.account_mail.items())))


def send_once(app: Flask, batch: int = 100) -> Round:
    """One round: the ledger's due email, then the account email that is due."""
    from webapp import account_mail
    from webapp.scheduler import email_settings

    factory = job_factory(app)
    mailer = app.extensions["mailer"]
    with app.app_context():
        stats = outbox.send_due(factory, lambda: mailer, None, batch, email_settings(app))
        mail = account_mail.send_due(app, factory, limit=batch)
    return Round(stats, dict(mail or {}))


def serve(app: Flask, interval: float, stop: threading.Event, batch: int = 100,
          rounds: int | None = None) -> int:
    """Send a round every `interval` seconds until `stop` is set (SIGTERM/SIGINT set it; the
    round in progress finishes first) or `rounds` rounds ran. A failed round is logged and
    the next one tries again: the rows it claimed go back to the queue when their lease ends.
    Returns the number of rounds run."""
    from webapp import logs

    done = 0
    while not stop.is_set() and (rounds is None or done < rounds):
        # Each round has an id like a request's, on every record it logs.
        token = logs.request_id_var.set(f"sender-{logs.new_request_id()[:12]}")
        try:
            result = send_once(app, batch)
            if result.outbox.claimed or any(result.account_mail.values()):
                log.info("sender: %s", result.summary())
        except Exception:  # noqa: BLE001 - a database or mail hiccup must not end the sender
            log.exception("sender: round failed; trying again in %s s", interval)
        finally:
            logs.request_id_var.reset(token)
        done += 1
        if rounds is not None and done >= rounds:
            break
        stop.wait(interval)
    return done


def stop_on_signals(stop: threading.Event) -> None:
    """SIGTERM (docker stop, systemd) and SIGINT end the loop after the current round."""
    def handler(signum: int, _frame: Any) -> None:
        log.info("sender: signal %s, stopping after this round", signum)
        stop.set()

    signal.signal(signal.SIGTERM, handler)
    signal.signal(signal.SIGINT, handler)
