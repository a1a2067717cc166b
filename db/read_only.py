"""End a transaction that only read with COMMIT, so PostgreSQL keeps its prepared statements.

psycopg 3 prepares a statement once it has run five times on a connection; the server then
skips parsing and planning it. But psycopg forgets every prepared statement whenever a
transaction rolls back (its `Connection.rollback` clears the cache and deallocates them all),
and a page that only reads used to end its transaction with a rollback (Session.close). So no
statement ever stayed prepared, and every page planned every statement again: on the child
home that was most of PostgreSQL's time (pg_stat_statements: the inbox headline query planned
for 1 ms to run for 0.1 ms).

A transaction that wrote nothing ends the same with COMMIT as with ROLLBACK. Whether it wrote
is known for sure, not guessed: `track_writes` marks a connection's transaction as soon as
any statement but a SELECT runs on it (INSERT, UPDATE, DELETE, a SAVEPOINT, a WITH, raw SQL:
anything else counts as a write), and `close` commits only when nothing was marked and the
session holds no unflushed change; otherwise it rolls back as before.
"""
from __future__ import annotations

import logging
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

#: The connection `info` key saying whether its transaction has run a statement that may write
#: (False from BEGIN on; absent on an engine without `track_writes`, which counts as written).
WROTE = "transaction_wrote"
#: Statements that cannot write: SQLAlchemy renders every SELECT starting with this word;
#: BEGIN is how SQLite transactions start here (db._configure_sqlite).
_READS = ("SELECT", "BEGIN")

log = logging.getLogger(__name__)


def track_writes(engine: Engine) -> None:
    """Mark each transaction on `engine`'s connections that runs anything but a SELECT."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if not statement.startswith(_READS):
            connection.info[WROTE] = True


def only_read(session: Session) -> bool:
    """True when `session` is inside a transaction that has written nothing: no statement but
    SELECTs ran on its connection since BEGIN (only an engine set up with `track_writes`
    knows; any other never counts as read-only) and no added, changed or deleted object
    waits for a flush."""
    if not session.in_transaction() or session.new or session.dirty or session.deleted:
        return False
    return session.connection().info.get(WROTE, True) is False


def close(session: Session) -> None:
    """Close `session`; a transaction that only read is committed first (see the module's
    docstring: a rollback would throw PostgreSQL's prepared statements away)."""
    try:
        if only_read(session):
            session.commit()
    except Exception:  # nothing was written: a failed COMMIT loses nothing; close rolls back
        log.warning("committing a read-only transaction failed", exc_info=True)
    finally:
        session.close()
