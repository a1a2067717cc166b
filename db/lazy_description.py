"""psycopg cursors whose `description` is built when it is read, not on every statement.

psycopg answers `cursor.description` with a new list of `Column` objects each time it is
asked, one object per column (its name decoded, its type looked up): about 2 µs a column.
SQLAlchemy asks once per statement, but once a statement's compiled form is cached it keeps
the result's metadata too and only checks that a description exists. Every signed-in page
loads the viewer's user and session row (36 columns), the child home reads 44 more: psycopg
built some 80 column objects a visit that nothing looked at, about 6 % of the page's work.

`LazyDescriptionCursor.description` says the same as psycopg's (None, or the result's
columns) but builds the columns on the first look inside: `len()` needs none, indexing or
iterating builds them all from the result the description was taken from (a later
statement on the same cursor does not change it), exactly as psycopg would have.
tests/test_db_lazy_description.py compares both on PostgreSQL.
"""
from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any, overload

from psycopg import Column, Cursor
from psycopg.pq import ExecStatus

#: psycopg's rule: a result has a description when it has fields or is one of these.
_TUPLES = (ExecStatus.TUPLES_OK, ExecStatus.SINGLE_TUPLE, ExecStatus.TUPLES_CHUNK)


class _ResultOf:
    """What psycopg's `Column` reads from a cursor, pinned to one result."""

    __slots__ = ("pgresult", "_encoding", "adapters")

    def __init__(self, pgresult: Any, encoding: str, adapters: Any) -> None:
        self.pgresult = pgresult
        self._encoding = encoding
        self.adapters = adapters


class LazyColumns(Sequence[Column]):
    """A result's columns, made when first indexed or iterated."""

    __slots__ = ("_cursor", "_result", "_columns")

    def __init__(self, cursor: Cursor[Any], result: Any) -> None:
        self._cursor = cursor
        self._result = result
        self._columns: list[Column] | None = None

    def _made(self) -> list[Column]:
        if self._columns is None:
            source = _ResultOf(self._result, self._cursor._encoding, self._cursor.adapters)
            self._columns = [Column(source, i)  # type: ignore[arg-type]
                             for i in range(self._result.nfields)]
        return self._columns

    def __len__(self) -> int:
        return int(self._result.nfields)

    @overload
    def __getitem__(self, index: int) -> Column: ...
    @overload
    def __getitem__(self, index: slice) -> list[Column]: ...

    def __getitem__(self, index: int | slice) -> Column | list[Column]:
        return self._made()[index]

    def __iter__(self) -> Iterator[Column]:
        return iter(self._made())

    def __repr__(self) -> str:
        return repr(self._made())


class LazyDescriptionCursor(Cursor[Any]):
    """A psycopg cursor whose description is a `LazyColumns` (see the module docstring)."""

    @property
    def description(self) -> LazyColumns | None:  # type: ignore[override]
        result = self.pgresult
        if result and (result.nfields or result.status in _TUPLES):
            return LazyColumns(self, result)
        return None


def on_connect(dbapi_connection: Any, _record: Any) -> None:
    """An engine's "connect" listener: the connection's cursors describe lazily."""
    if dbapi_connection.cursor_factory is Cursor:
        dbapi_connection.cursor_factory = LazyDescriptionCursor
