"""The scheduler's email jobs: queue digests that are due, send what the outbox holds, and
send account email (resets, address checks, invitations) that a web worker did not."""
from __future__ import annotations

from flask import Flask
from sqlalchemy.orm import sessionmaker

from journeys import digests, outbox
from webapp.scheduler import writer_factory

_factories: dict[int, sessionmaker] = {}


def _factory(app: Flask) -> sessionmaker:
    return _factories.setdefault(id(app), writer_factory(app))


def digest_job(app: Flask) -> None:
    with app.app_context():
        settings = outbox.EmailSettings.from_config(app.config)
        digests.run_schedule(_factory(app), cap=settings.digest_cap)


def outbox_job(app: Flask) -> None:
    with app.app_context():
        mailer = app.extensions["mailer"]
        outbox.send_due(_factory(app), lambda: mailer, None, 100,
                        outbox.EmailSettings.from_config(app.config))


def account_mail_job(app: Flask) -> None:
    from webapp import account_mail
    account_mail.send_due(app, _factory(app))


def housekeeping_job(app: Flask) -> None:
    """Daily: forget ended sign-in sessions."""
    from clock import utcnow
    from diary import sessions

    with _factory(app)() as session, session.begin():
        sessions.prune(session, utcnow())
