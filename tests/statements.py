"""Where statements ran: for tests of the pages' engine (db.read_only), which on PostgreSQL
reads outside a transaction and begins one at the first statement that may write."""
from __future__ import annotations

from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Engine

#: (the statement's first word, whether it ran inside a transaction; None off PostgreSQL)
Ran = tuple[str, bool | None]


def transaction_log(engine: Engine) -> list[Ran]:
    """Every statement run on `engine` from now on, with whether the server had it inside a
    transaction (psycopg's transaction status right after it)."""
    seen: list[Ran] = []
    postgres = engine.dialect.name == "postgresql"

    def after(conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        inside = None
        if postgres:
            from psycopg.pq import TransactionStatus
            status = conn.connection.dbapi_connection.info.transaction_status
            inside = status != TransactionStatus.IDLE
        seen.append((statement.split(None, 1)[0].upper(), inside))

    event.listen(engine, "after_cursor_execute", after)
    return seen


def insides(log: list[Ran]) -> list[bool | None]:
    return [inside for _, inside in log]
