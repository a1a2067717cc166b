"""The request's database session, and the one way views write: `with transaction() as s:`.

One session per request (created lazily, closed at teardown). `transaction()` commits on
success and rolls back on any exception, so a failed form never leaves half a record.
"""
from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from flask import Flask, current_app, g
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import db
from db import liveness, read_only


def init_app(app: Flask, session_factory: sessionmaker | None = None) -> None:
    if session_factory is None:
        session_factory = db.make_session_factory(_engine(app, app.config["DATABASE_URL"]))
    app.extensions["session_factory"] = session_factory
    app.teardown_appcontext(_close_session)


def _engine(app: Flask, url: str) -> Engine:
    """An engine for the pages: a pooled connection idle for a while is pinged before use
    (db.liveness), reads need no transaction on PostgreSQL and a transaction that only read
    ends without throwing prepared statements away (db.read_only)."""
    engine = db.make_engine(url)
    liveness.ping_when_idle(engine, app.config["DATABASE_PING_AFTER_IDLE_SECONDS"])
    read_only.track_writes(engine)
    read_only.begin_at_first_write(engine)
    return engine


def get_session() -> Session:
    if "db_session" not in g:
        g.db_session = current_app.extensions["session_factory"]()
    return g.db_session


def _close_session(_exc: BaseException | None) -> None:
    """A request that only read commits (PostgreSQL keeps its prepared statements: see
    db.read_only); anything else, or a request that failed, rolls back."""
    for name in ("db_session", "reports_session"):
        session = g.pop(name, None)
        if session is None:
            continue
        if _exc is None:
            read_only.close(session)
        else:
            session.close()


def reports_session() -> Session:
    """The session the analysts' report pages read with: on the reports database
    (REPORTS_DATABASE_URL, e.g. a PostgreSQL read replica) when one is set, else the
    request's own session. Read only: nothing is ever committed through it."""
    url = current_app.config.get("REPORTS_DATABASE_URL")
    if not url:
        return get_session()
    if "reports_session" not in g:
        factory = current_app.extensions.get("reports_session_factory")
        if factory is None:
            factory = current_app.extensions["reports_session_factory"] = \
                db.make_session_factory(_engine(current_app, url))
        g.reports_session = factory()
    return g.reports_session


def reports_session_or(session: Session) -> Session:
    """`reports_session()` when a reports database is set, else `session` (a job's own, where
    no request session should be opened): for report figures read outside the pages, e.g.
    the weekly report email."""
    if not current_app.config.get("REPORTS_DATABASE_URL"):
        return session
    return reports_session()


@contextmanager
def transaction() -> Iterator[Session]:
    session = get_session()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
