"""Check a pooled connection before use only when it has sat idle: the next request after a
database restart still works, without a round trip on every request under load.

SQLAlchemy's `pool_pre_ping` sends `SELECT 1` on every checkout. Under load a connection
goes back to the pool and out again within milliseconds, and that ping was one of a page's
four to six round trips: on the 2-core bench machine, where PostgreSQL's backends share the
cores with the app, dropping it served about a tenth more child homes and hellos a second.

`ping_when_idle` pings only a connection that has been idle in the pool for at least
`idle_seconds` (HikariCP's "alive bypass window", 500 ms there, is the same idea). A fresh
connection is not pinged (it has just connected), nor is one used a moment ago. A ping that
finds the server gone makes the pool drop every connection made before it and hand out a new
one, as `pool_pre_ping` does, so the request goes through. What the window gives up: a
server that restarts within it between two uses of a connection fails that connection's
next statement; the request gets the clean 503 (webapp.errors.render_unavailable), the
failed statement invalidates the pool, and the request after it works.
"""
from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import event, exc
from sqlalchemy.engine import Engine

#: The connection `info` key holding when it went back to the pool (monotonic seconds).
IDLE_SINCE = "idle_since"


def ping_when_idle(engine: Engine, idle_seconds: float,
                   clock: Callable[[], float] = time.monotonic) -> None:
    """Ping `engine`'s pooled connections on checkout when they were idle `idle_seconds` or
    more (0: on every checkout but a fresh connection's). `clock` is for tests."""
    dialect = engine.dialect

    @event.listens_for(engine, "checkin")
    def _checked_in(_dbapi_connection: Any, record: Any) -> None:
        if record is not None:
            record.info[IDLE_SINCE] = clock()

    @event.listens_for(engine, "checkout")
    def _checked_out(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(IDLE_SINCE)
        if since is None or clock() - since < idle_seconds:
            return  # a fresh connection, or one that was in use a moment ago
        try:
            dialect.do_ping(dbapi_connection)
        except dialect.loaded_dbapi.Error as error:
            if dialect.is_disconnect(error, dbapi_connection, None):
                # The server went away: every older connection is as dead as this one.
                raise exc.InvalidatePoolError() from error
            raise
