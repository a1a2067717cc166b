"""Transactions that only read: no BEGIN or COMMIT on PostgreSQL, and never a rollback that
throws the prepared statements away.

No BEGIN or COMMIT for reads. A page that only reads (a hello: the signed-in person's row; a
child home: three statements) paid two round trips for BEGIN and COMMIT besides its own. With
`begin_at_first_write` a psycopg connection reads in autocommit: each SELECT runs on its own,
which under READ COMMITTED, PostgreSQL's default, reads what it would have read inside a
transaction (there too every statement takes its own snapshot, and a plain SELECT holds no
lock that matters). The first statement that may write begins the transaction, right before
it: anything but a plain SELECT (INSERT, UPDATE, DELETE, SAVEPOINT, a WITH, raw SQL), and a
SELECT that locks (FOR UPDATE / FOR SHARE, an advisory transaction lock), whose lock must
last until the commit. So writes stay all or nothing, and a request that fails after writing
rolls back whole, as before. Django runs the same way (autocommit, transactions where code
writes). Engines on another isolation level, or connections asking for one, keep a
transaction from the first statement.

COMMIT, not ROLLBACK, where a transaction only read. psycopg 3 prepares a statement once it
has run five times on a connection; the server then skips parsing and planning it. But
psycopg forgets every prepared statement whenever a transaction rolls back, and a page that
only read used to end with a rollback (Session.close). A transaction that wrote nothing ends
the same with COMMIT as with ROLLBACK. Whether it wrote is known for sure, not guessed:
`track_writes` marks a connection's transaction as soon as a statement that may write runs
on it (as above), and `close` commits only when nothing was marked and the session holds no
unflushed change; otherwise it rolls back as before. (A connection reading in autocommit has
nothing to commit: psycopg sends no COMMIT for it.)
"""
from __future__ import annotations

import logging
import re
from functools import lru_cache
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

#: The connection `info` key saying whether its transaction has run a statement that may write
#: (False from BEGIN on; absent on an engine without `track_writes`, which counts as written).
WROTE = "transaction_wrote"
#: The connection `info` key saying that `begin_at_first_write` put it in autocommit for this
#: transaction's reads (so it, and nothing else, takes the connection out again).
READING_OUTSIDE = "reading_outside_a_transaction"
#: Statements that cannot write: SQLAlchemy renders every SELECT starting with this word;
#: BEGIN is how SQLite transactions start here (db._configure_sqlite).
_READS = ("SELECT", "BEGIN")
#: ...unless it locks: rows (FOR UPDATE, FOR NO KEY UPDATE, FOR SHARE, FOR KEY SHARE) or an
#: advisory lock (pg_advisory_xact_lock). Matched loosely on purpose: a false alarm (a
#: column called "advisory") only begins a transaction early. Looked for at each "FOR" the
#: upper-cased text holds (a search of the whole 6.6 KB child home statement with one
#: case-blind pattern took 0.3 ms; this takes 10 µs).
_ROW_LOCK = re.compile(r"FOR\s+(?:(?:NO\s+KEY\s+)?UPDATE|(?:KEY\s+)?SHARE)\b")
#: The isolation level whose statements read alike inside and outside a transaction.
_READ_COMMITTED = "READ COMMITTED"

log = logging.getLogger(__name__)


@lru_cache(maxsize=2048)
def may_write(statement: str) -> bool:
    """Whether `statement` may write or lock (see the module's docstring). Cached: the pages
    run the same few statement strings (SQLAlchemy's compiled cache hands out the same text),
    and the child home's is 6.6 KB."""
    if not statement.startswith(_READS):
        return True
    text = statement.upper()
    if "ADVISORY" in text:
        return True
    at = text.find("FOR")
    while at != -1:
        before = text[at - 1] if at else " "
        if not (before.isalnum() or before == "_") and _ROW_LOCK.match(text, at):
            return True
        at = text.find("FOR", at + 3)
    return False


def track_writes(engine: Engine) -> None:
    """Mark each transaction on `engine`'s connections that runs a statement that may write."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.info[WROTE] = False

    @event.listens_for(engine, "before_cursor_execute")
    def _on_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if may_write(statement):
            connection.info[WROTE] = True


def begin_at_first_write(engine: Engine) -> None:
    """On a psycopg engine, read in autocommit and begin the transaction right before the
    first statement that may write (see the module's docstring). Other engines: nothing
    (SQLite's BEGIN costs no round trip)."""
    if engine.dialect.driver != "psycopg":
        return
    from psycopg.pq import TransactionStatus

    idle = TransactionStatus.IDLE
    dialect = engine.dialect

    @event.listens_for(engine, "begin")
    def _read_outside(connection: Any) -> None:
        dbapi = connection.connection.dbapi_connection
        reading = (dialect.default_isolation_level == _READ_COMMITTED
                   and getattr(dialect, "isolation_level", None) is None
                   and "isolation_level" not in connection.get_execution_options()
                   and not dbapi.autocommit and dbapi.info.transaction_status == idle)
        if reading:
            dbapi.autocommit = True
        connection.info[READING_OUTSIDE] = reading

    @event.listens_for(engine, "before_cursor_execute")
    def _begin_before_write(connection: Any, _cursor: Any, statement: str,
                            *_args: Any) -> None:
        if connection.info.get(READING_OUTSIDE) and may_write(statement):
            connection.info[READING_OUTSIDE] = False
            _in_transactions(connection.connection.dbapi_connection, idle)

    @event.listens_for(engine, "checkin")
    def _back_to_normal(dbapi_connection: Any, record: Any) -> None:
        # Whoever checks the connection out next (a raw connection, another isolation
        # level) finds it as psycopg made it: beginning transactions by itself.
        if record is not None and record.info.pop(READING_OUTSIDE, False):
            _in_transactions(dbapi_connection, idle)


def _in_transactions(dbapi_connection: Any, idle: Any) -> None:
    """Autocommit off, so psycopg sends BEGIN before the next statement; a connection that
    is broken (its status no longer idle) is left for that statement to report."""
    if dbapi_connection is not None and dbapi_connection.autocommit \
            and dbapi_connection.info.transaction_status == idle:
        dbapi_connection.autocommit = False


def only_read(session: Session) -> bool:
    """True when `session` is inside a transaction that has written nothing: no statement
    that may write (`may_write`) ran on its connection since it began (only an engine set up
    with `track_writes` knows; any other never counts as read-only) and no added, changed or
    deleted object waits for a flush."""
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
