"""db.liveness: a pooled connection is pinged before use only after it sat idle, and a ping
that finds it dead gets the request a new connection instead of an error.

The clock is a counter the tests move (no sleeping, no dependence on the machine's speed).
The dead connections are real: a SQLite connection closed behind the pool's back, and on
PostgreSQL (TEST_DATABASE_URL) a server backend ended with pg_terminate_backend."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import exc, select, text
from sqlalchemy.engine import Engine

import db
from db import liveness
from tests.fake_clock import FakeMonotonic
from webapp import create_app

WINDOW = 1.0


@pytest.fixture()
def clock() -> FakeMonotonic:
    return FakeMonotonic(1000.0)


@pytest.fixture()
def engine(database_url: str, clock: FakeMonotonic) -> Iterator[Engine]:
    """One pooled connection (so every checkout is the same one until it is replaced), and
    a count of the pings sent."""
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    liveness.ping_when_idle(engine, WINDOW, clock=clock)
    real_ping = engine.dialect.do_ping
    engine.info_pings = []  # type: ignore[attr-defined]

    def counting_ping(dbapi_connection: Any) -> bool:
        engine.info_pings.append(dbapi_connection)  # type: ignore[attr-defined]
        return real_ping(dbapi_connection)

    engine.dialect.do_ping = counting_ping  # type: ignore[method-assign]
    yield engine
    engine.dispose()


def _pings(engine: Engine) -> int:
    return len(engine.info_pings)  # type: ignore[attr-defined]


def _use(engine: Engine) -> Any:
    """Check a connection out, run a statement, give it back: the DBAPI connection used."""
    with engine.connect() as conn:
        assert conn.scalar(select(1)) == 1
        return conn.connection.dbapi_connection


def test_a_fresh_or_recently_used_connection_is_not_pinged(engine: Engine, clock: FakeMonotonic
                                                           ) -> None:
    first = _use(engine)  # just connected: nothing to check
    clock.now += WINDOW * 0.9
    assert _use(engine) is first  # back in use within the window: trusted
    clock.now += WINDOW * 0.9  # idle time counts from the last check-in, not the first
    _use(engine)
    assert _pings(engine) == 0


def test_a_connection_idle_for_the_window_is_pinged_once_per_checkout(
        engine: Engine, clock: FakeMonotonic) -> None:
    first = _use(engine)
    clock.now += WINDOW
    assert _use(engine) is first  # alive: the same connection, after one ping
    assert _pings(engine) == 1
    _use(engine)  # used again at once
    assert _pings(engine) == 1
    clock.now += WINDOW * 5
    _use(engine)
    assert _pings(engine) == 2


def test_a_window_of_zero_pings_every_checkout_but_a_fresh_connections(
        database_url: str, clock: FakeMonotonic) -> None:
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    liveness.ping_when_idle(engine, 0, clock=clock)
    pings: list[object] = []
    real_ping = engine.dialect.do_ping
    engine.dialect.do_ping = lambda c: pings.append(c) or real_ping(c)  # type: ignore
    try:
        for _ in range(3):
            _use(engine)
        assert len(pings) == 2
    finally:
        engine.dispose()


def _kill(engine: Engine, dbapi_connection: Any) -> None:
    """End the pooled connection as a restarting server or a dropped network would."""
    if engine.dialect.name == "sqlite":
        dbapi_connection.close()  # behind the pool's back
        return
    pid = dbapi_connection.info.backend_pid
    killer = db.make_engine(engine.url.render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT")
    try:
        with killer.connect() as conn:
            assert conn.scalar(text("SELECT pg_terminate_backend(:pid)"), {"pid": pid})
    finally:
        killer.dispose()


def test_a_dead_idle_connection_is_replaced_and_the_request_goes_through(
        engine: Engine, clock: FakeMonotonic) -> None:
    first = _use(engine)
    _kill(engine, first)
    clock.now += WINDOW
    replacement = _use(engine)  # no error: the ping found it dead, the pool reconnected
    assert replacement is not first
    assert _pings(engine) == 1
    clock.now += WINDOW * 0.5
    assert _use(engine) is replacement  # the new one is fresh: not pinged
    assert _pings(engine) == 1


def test_within_the_window_a_dead_connection_fails_once_then_the_pool_recovers(
        engine: Engine, clock: FakeMonotonic) -> None:
    """The window's price, written down: a connection that died a moment after its last use
    is handed out unchecked; its statement fails as a disconnect (the pages answer that with
    a clean 503), the pool drops it, and the next checkout works."""
    first = _use(engine)
    _kill(engine, first)
    clock.now += WINDOW * 0.5
    with pytest.raises(exc.DBAPIError) as failed:
        _use(engine)
    assert failed.value.connection_invalidated
    assert _use(engine) is not first
    assert _pings(engine) == 0


def test_a_ping_that_fails_for_another_reason_is_not_taken_for_a_dead_server(
        engine: Engine, clock: FakeMonotonic) -> None:
    _use(engine)
    clock.now += WINDOW
    dbapi = engine.dialect.loaded_dbapi

    def broken_ping(_connection: Any) -> bool:
        raise dbapi.Error("not a disconnect")

    engine.dialect.do_ping = broken_ping  # type: ignore[method-assign]
    with pytest.raises(exc.DBAPIError, match="not a disconnect"):
        _use(engine)


def test_the_app_pings_after_the_configured_idle_time(tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The pages' engine: no ping per checkout (SQLAlchemy's pre-ping is off), this module's
    instead, with DATABASE_PING_AFTER_IDLE_SECONDS as its window: with 0, a connection
    closed behind the pool's back is replaced before the next request uses it."""
    app = create_app("testing", DATABASE_URL=f"sqlite:///{tmp_path / 'ping.db'}",
                     DATABASE_PING_AFTER_IDLE_SECONDS=0)
    engine = app.extensions["session_factory"].kw["bind"]
    assert engine.pool._pre_ping is False
    try:
        first = _use(engine)
        first.close()
        assert _use(engine) is not first
    finally:
        engine.dispose()
