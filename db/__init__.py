"""Database plumbing shared by the web app, the CLI, the scheduler and the tests.

No Flask here: domain packages import `Base` and the column types, and whoever owns the
transaction (a view, a CLI command, a job, a test) gets a session from `make_session_factory`.
"""
from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any, cast

from sqlalchemy import DateTime, Integer, MetaData, Table, create_engine, event
from sqlalchemy.engine import CursorResult, Engine, Result
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.schema import CreateColumn, PrimaryKeyConstraint
from sqlalchemy.sql import Executable
from sqlalchemy.types import TypeDecorator

#: Stable constraint names, so Alembic migrations are the same on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


#: The largest value an Integer column holds (PostgreSQL's int4; every id is one): a larger
#: number in a query fails in SQL instead of finding nothing, so inputs are bounded by it.
INT_MAX = 2**31 - 1


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored in UTC and always returned timezone-aware.

    SQLite has no time zones, so we store naive UTC there and re-attach UTC on the way out;
    PostgreSQL gets `timestamptz`. Naive datetimes are refused: they are a bug waiting to
    happen when families live in different time zones.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column; attach a timezone")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


#: Table `info` key naming the column that alone is the table's primary key on SQLite, where
#: the model's primary key also holds a PostgreSQL partition key (`recommender.models.
#: Interaction`). PostgreSQL requires every unique key of a partitioned table to contain the
#: partition key, so there the key is (id, occurred_at) and `id` a BIGSERIAL (autoincrement
#: on a column of a composite key). SQLite has no partitions and cannot autoincrement a
#: column of a composite key; there the table keeps `id INTEGER PRIMARY KEY` (the rowid,
#: assigned by SQLite), which is what the two hooks below make of the same Table. The model
#: and the migration both pass the same `info`, so they build the same table on each
#: database, and the ORM fetches new ids on both (RETURNING on PostgreSQL, the rowid here).
SQLITE_ROWID = "sqlite_rowid"


def _sqlite_rowid_of(table: Any) -> str | None:
    info = getattr(table, "info", None)
    return info.get(SQLITE_ROWID) if info else None


@compiles(CreateColumn, "sqlite")
def _sqlite_column(element: Any, compiler: Any, **kw: Any) -> str:
    column = element.element
    if _sqlite_rowid_of(column.table) != column.name:
        return compiler.visit_create_column(element, **kw)  # type: ignore[no-any-return]
    if not isinstance(column.type.dialect_impl(compiler.dialect), Integer):
        raise TypeError(f"{column.table.name}.{column.name}: a rowid column is an integer")
    # Exactly "INTEGER": only that declared type makes the column the rowid's alias.
    return f"{compiler.preparer.format_column(column)} INTEGER NOT NULL"


@compiles(PrimaryKeyConstraint, "sqlite")
def _sqlite_primary_key(constraint: Any, compiler: Any, **kw: Any) -> str:
    rowid = _sqlite_rowid_of(constraint.table)
    if rowid is None:
        return compiler.visit_primary_key_constraint(constraint, **kw)  # type: ignore[no-any-return]
    name = ""
    if constraint.name is not None:
        name = f"CONSTRAINT {compiler.preparer.format_constraint(constraint)} "
    return f"{name}PRIMARY KEY ({compiler.preparer.quote(rowid)})"


def _configure_sqlite(engine: Engine) -> None:
    """Foreign keys on, WAL for concurrent readers, and real BEGIN/SAVEPOINT handling.

    pysqlite's own transaction handling breaks SAVEPOINT (used by nested transactions and by
    the test suite), so we take it over as the SQLAlchemy docs recommend.
    """

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        if engine.url.database not in (None, "", ":memory:"):
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        # Writers that read first (the scheduler's jobs) ask for the write lock up front with
        # execution_options(sqlite_begin="immediate"): a deferred BEGIN could not upgrade
        # while another writer holds the lock and would fail instead of waiting.
        immediate = connection.get_execution_options().get("sqlite_begin") == "immediate"
        connection.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


def make_engine(url: str, **kwargs: Any) -> Engine:
    """An engine for `url`, with the per-dialect settings this project relies on."""
    engine = create_engine(url, **kwargs)
    if engine.dialect.name == "sqlite":
        _configure_sqlite(engine)
    elif engine.dialect.driver == "psycopg":
        cache_long_statements()
        from db import lazy_description

        event.listen(engine, "connect", lazy_description.on_connect)
    return engine


#: The longest statement text psycopg keeps its parse of (see `cache_long_statements`).
PSYCOPG_CACHED_STATEMENT_LENGTH = 16_384


def cache_long_statements() -> None:
    """Let psycopg keep its parse of statements up to 16 KB, not 4 KB.

    psycopg turns a statement's `%(name)s` placeholders into `$n` with a regular expression
    on every execution, except for statements of at most `MAX_CACHED_STATEMENT_LENGTH` bytes
    (and 50 parameters), whose parse it keeps in a 128-entry cache: the limit keeps one-off
    ORM-made INSERTs of many rows out. The child home's one statement (db.one_trip) is 6.6 KB
    and the same text on every visit; parsing it again was about a fifth of its Python cost.
    Our statements are written in code, so the hot ones stay cached; the 50-parameter
    limit, which keeps batched INSERTs out, is left as it is. The setting is psycopg's
    module attribute (read on every execution); tests/test_db_one_trip.py fails if it moves."""
    from psycopg import _queries

    if _queries.MAX_CACHED_STATEMENT_LENGTH < PSYCOPG_CACHED_STATEMENT_LENGTH:
        _queries.MAX_CACHED_STATEMENT_LENGTH = PSYCOPG_CACHED_STATEMENT_LENGTH


def dialect_insert(session: Session, target: Any) -> Any:
    """An INSERT for `target` in the session's dialect, which offers
    `on_conflict_do_nothing(...)` (insert-once writes on PostgreSQL and SQLite alike)."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(target)


def table_of(model: type[Base]) -> Table:
    """A model's Core table, for set-based statements (typed as a Table, not a FromClause)."""
    return cast(Table, model.__table__)


def rowcount(result: Result[Any]) -> int:
    """Rows an UPDATE or DELETE touched (`Session.execute` is typed as returning a plain
    Result; for those statements it is a CursorResult, which counts them)."""
    return cast(CursorResult[Any], result).rowcount or 0


def writer_engine(engine: Engine) -> Engine:
    """The same engine, for batch writers (scheduler jobs): immediate transactions on SQLite."""
    return engine.execution_options(sqlite_begin="immediate")


def make_session_factory(engine: Engine, **kwargs: Any) -> sessionmaker:
    """Sessions that keep loaded attributes after commit (pages render after the commit)."""
    kwargs.setdefault("expire_on_commit", False)
    return sessionmaker(bind=engine, **kwargs)


#: Search structures made by hand in migrations (SQLite FTS5 tables, PostgreSQL GIN indexes),
#: which the models do not describe; Alembic's autogenerate must leave them alone.
HAND_MADE_TABLE_PREFIXES = ("entry_fts", "content_fts")
HAND_MADE_INDEXES = ("ix_entries_search", "ix_content_search",
                     # PostgreSQL trigram indexes of the customer search (migration 0008h)
                     "ix_users_name_key_trgm", "ix_users_email_trgm", "ix_users_phone_key_trgm",
                     "ix_children_name_key_trgm")
#: PostgreSQL partitions of a partitioned table (`recommender.partitions`): made at run time,
#: a month at a time, with their parent's columns and indexes; the models describe the parent.
PARTITION_TABLES = re.compile(r"interactions_(default|[0-9]{4}_[0-9]{2})")


def include_in_autogenerate(obj: Any, name: str | None, type_: str, reflected: bool,
                            compare_to: Any) -> bool:
    if type_ == "table" and name and (name.startswith(HAND_MADE_TABLE_PREFIXES)
                                      or PARTITION_TABLES.fullmatch(name)):
        return False
    table = getattr(obj, "table", None)  # a partition's own indexes go with it
    if type_ == "index" and table is not None and PARTITION_TABLES.fullmatch(table.name):
        return False
    return not (type_ == "index" and name in HAND_MADE_INDEXES)


def core_rows(session: Session, statement: Executable, params: dict[str, Any],
              compiled_cache: Any = None) -> Result[Any]:
    """Run a Core statement (plain columns, no ORM entities) on the session's connection.

    `Session.execute` gives Core statements the ORM's per-statement work as well (about
    30 µs on SQLite, the cost of the query itself); the pages' hot read statements skip it.
    Pending ORM changes are flushed first, as `Session.execute` would (autoflush), so a
    caller that added rows in the same transaction still sees them. `compiled_cache`: the
    statement's own (db.one_trip.StatementCache) instead of the engine's."""
    if session.autoflush:
        session.flush()
    options = None if compiled_cache is None else {"compiled_cache": compiled_cache}
    return session.connection().execute(statement, params, execution_options=options)
