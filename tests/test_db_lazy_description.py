"""db.lazy_description: psycopg cursors made by db.make_engine describe their results as
psycopg does, but build the column objects only when someone looks at them — which
SQLAlchemy, once a statement's result metadata is cached, does not. PostgreSQL only (with
TEST_DATABASE_URL; CI runs the suite on both databases)."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import db
from db import lazy_description
from db.lazy_description import LazyColumns, LazyDescriptionCursor
from diary.models import Family

FIELDS = ("name", "type_code", "display_size", "internal_size", "precision", "scale",
          "null_ok")
MIXED = ("SELECT 1 AS n, 'two'::varchar(7) AS word, 3.25::numeric(5, 2) AS price, "
         "now() AS at, NULL::int AS nothing")


@pytest.fixture()
def pg_engine(database_url: str) -> Iterator[Engine]:
    if not database_url.startswith("postgresql"):
        pytest.skip("psycopg's cursors (PostgreSQL only)")
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    yield engine
    engine.dispose()


@pytest.fixture()
def raw(pg_engine: Engine) -> Iterator[Any]:
    """A pooled DBAPI connection of the engine (its close rolls back and returns it)."""
    connection = pg_engine.raw_connection()
    yield connection
    connection.close()


def _facts(description: Any) -> list[tuple[Any, ...]]:
    return [tuple(getattr(column, field) for field in FIELDS) for column in description]


def test_the_engine_s_cursors_describe_lazily_and_alike(raw: Any) -> None:
    lazy = raw.cursor()
    assert type(lazy) is LazyDescriptionCursor
    plain = psycopg.Cursor(raw.dbapi_connection)
    lazy.execute(MIXED)
    plain.execute(MIXED)
    described = lazy.description
    assert isinstance(described, LazyColumns) and len(described) == 5
    assert described._columns is None  # len() builds nothing
    assert _facts(described) == _facts(plain.description)
    assert [c.name for c in described] == ["n", "word", "price", "at", "nothing"]
    assert described[1].internal_size == plain.description[1].internal_size
    assert [c.name for c in described[1:3]] == ["word", "price"]


def test_a_description_keeps_its_own_result(raw: Any) -> None:
    cursor = raw.cursor()
    cursor.execute("SELECT 1 AS first_one")
    first = cursor.description
    cursor.execute("SELECT 2 AS second_one, 3 AS third_one")
    assert [c.name for c in first] == ["first_one"]
    assert [c.name for c in cursor.description] == ["second_one", "third_one"]


def test_no_rows_no_description_as_psycopg_says(raw: Any) -> None:
    cursor = raw.cursor()
    cursor.execute("SET LOCAL statement_timeout = '5s'")
    assert cursor.description is None
    cursor.execute("SELECT")  # no columns, but a result of rows: psycopg says []
    assert cursor.description is not None and list(cursor.description) == []


def test_sqlalchemy_builds_no_column_once_a_statement_is_cached(
        pg_engine: Engine, monkeypatch: pytest.MonkeyPatch) -> None:
    built: list[int] = []
    real = lazy_description.Column

    def counted(source: Any, index: int) -> Any:
        built.append(index)
        return real(source, index)

    monkeypatch.setattr(lazy_description, "Column", counted)
    statement = select(Family.id, Family.name, Family.timezone).order_by(Family.id).limit(3)
    with Session(pg_engine) as session:
        session.execute(statement).all()  # compiled now: its result metadata is kept
        built.clear()
        session.execute(statement).all()
        assert built == []
        # A text statement has no kept metadata: its columns are built, and keyed right.
        row = session.execute(text("SELECT 7 AS seven, 'x' AS ex")).mappings().one()
    assert dict(row) == {"seven": 7, "ex": "x"}
    assert built == [0, 1]


def test_a_connection_with_its_own_cursor_class_keeps_it(raw: Any) -> None:
    class Own(psycopg.Cursor[Any]):
        pass

    connection = raw.dbapi_connection
    connection.cursor_factory = Own
    lazy_description.on_connect(connection, None)
    assert connection.cursor_factory is Own
    connection.cursor_factory = psycopg.Cursor
    lazy_description.on_connect(connection, None)
    assert connection.cursor_factory is LazyDescriptionCursor
