"""Several independent SELECTs sent as one statement: one round trip instead of several.

A page that needs a few unrelated reads (the child home: its daily part and its inbox
headlines) pays for each statement: SQLAlchemy's and the driver's work, and on PostgreSQL a
round trip to the server and back. `one_trip` sends them together as a UNION ALL — each part
wrapped as a subquery, tagged with its name and given columns of its own (NULL in the other
parts' rows) — and hands every part back its own rows, typed as its own statement types
them, in the order the database returns them (SQLite and PostgreSQL keep a part's ORDER BY
in practice; SQL does not promise it, so a reader that shows an order sorts). Every column
of a part must have a type (a bare NULL is refused: PostgreSQL resolves two of them as text,
which a later part's integers do not match).

The parts' bind parameters share one namespace: a name two parts use must carry the same
value (a ValueError says otherwise). Parts are module-level statements, built once: the
combined statement is built once per combination too.

`one_trip_with_entities` adds one part of ORM entities (`select(Child, Membership, Family)`
with explicit joins): its rows come back as the ORM loads them — the session's objects, in
its identity map — and the plain parts beside them, still in one round trip. A page that
must first find the child it shows (and whether the viewer may see it) sends that with its
other reads instead of before them. Relationships are not loaded: an entity that another
should hold (the child's family) is handed over by the caller (`set_committed_value`), or
the session, whose identity map holds objects weakly, may have let it go by the time it is
asked for. The price: every part's rows pass through the ORM's row processing too; on
loopback PostgreSQL that costs about what the round trip saved (bench/README.md, item 11),
so it pays where the database is across a network.

Each combined statement brings its own compiled cache (`StatementCache`): SQLAlchemy finds a
statement's compiled form by its cache key, a nested tuple as big as the statement, which
Python hashes anew on every lookup — 28 µs for the child home's, on every visit. The
statement is built once, so its cache key is the same object every time: its own cache
finds the compiled form by that identity instead.
"""
from __future__ import annotations

import functools
from collections import namedtuple
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Select, cast, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect
from sqlalchemy.sql.sqltypes import NullType

from db import core_rows

Query = Select[Any] | CompoundSelect
#: A part: its statement and its parameters.
Part = tuple[Query, Mapping[str, Any]]
_PART = "one_trip_part"
_ENTITIES = "entities"  # the tag of the entities' rows (no part can take it: the argument's)


class StatementCache:
    """A compiled cache (SQLAlchemy's `compiled_cache` execution option) for one statement
    object: a few (key, compiled) entries, one per engine dialect or compile variant, found
    by comparing the key's parts — by identity first, so the statement's cache key, the
    same object on every execution, is never hashed (see the module docstring)."""

    __slots__ = ("_entries",)
    #: Entries kept (dialects × variants a process meets: a test run has two dialects).
    SIZE = 8

    def __init__(self) -> None:
        self._entries: tuple[tuple[tuple[Any, ...], Any], ...] = ()

    def get(self, key: tuple[Any, ...], default: Any = None) -> Any:
        for stored, compiled in self._entries:
            if len(stored) == len(key) and all(
                    mine is theirs or mine == theirs
                    for mine, theirs in zip(stored, key, strict=True)):
                return compiled
        return default

    def __setitem__(self, key: tuple[Any, ...], compiled: Any) -> None:
        self._entries = (*self._entries[-(self.SIZE - 1):], (key, compiled))

    def __len__(self) -> int:
        return len(self._entries)


@functools.lru_cache(maxsize=64)
def _combined(parts: tuple[tuple[str, Query], ...]
              ) -> tuple[CompoundSelect, dict[str, tuple[int, int, type]], StatementCache]:
    """The UNION ALL of `parts`, where each part's columns sit in its rows (start, end,
    the named-tuple type its rows are made into), and the statement's compiled cache."""
    subqueries = [(name, statement.subquery()) for name, statement in parts]
    slots: dict[str, tuple[int, int, type]] = {}
    position = 1  # column 0 names the part
    for name, sub in subqueries:
        untyped = [column.key for column in sub.c if isinstance(column.type, NullType)]
        if untyped:  # PostgreSQL reads two NULLs as text, which no later integer matches
            raise TypeError(f"part {name!r}: columns {untyped} have no type; "
                            f"cast their NULLs (cast(null(), Integer))")
        keys = [column.key for column in sub.c]
        slots[name] = (position, position + len(keys),
                       namedtuple(f"{name}_row", keys, rename=True))  # type: ignore[misc]
        position += len(keys)
    branches = []
    for index, (name, sub) in enumerate(subqueries):
        columns: list[Any] = [literal(name).label(_PART)]
        for other_name, other in subqueries:
            for column in other.c:
                label = f"{other_name}__{column.key}"
                if other is sub:
                    columns.append(column.label(label))
                elif index == 0:
                    # The first branch names every column's type: rows are read with them.
                    columns.append(cast(null(), column.type).label(label))
                else:
                    columns.append(null().label(label))
        branches.append(select(*columns))
    return union_all(*branches), slots, StatementCache()


@functools.lru_cache(maxsize=64)
def _with_entities(entities: Select[Any], parts: tuple[tuple[str, Query], ...]
                   ) -> tuple[Select[Any], int, dict[str, tuple[int, int, type]],
                              StatementCache]:
    """The ORM statement that reads `entities`' rows beside `parts`' in one UNION ALL: its
    first branch is the entities' columns (with the parts' columns as typed NULLs), the
    parts' branches follow with NULLs in the entities' columns (an entity whose primary key
    is NULL loads as None). Also how many entities lead each row, and the parts' slots
    counted from there; and the statement's compiled cache."""
    plain, slots, _cache = _combined(parts)
    head = entities.subquery()
    part_columns = list(plain.selected_columns)  # the part's tag, then every part's columns
    branches = [select(*head.c, literal(_ENTITIES).label(_PART),
                       *[cast(null(), c.type).label(c.key) for c in part_columns[1:]])]
    branches += [select(*[null() for _ in head.c], *branch.selected_columns)
                 for branch in plain.selects]
    combined = union_all(*branches)
    read = list(combined.subquery().c)[len(head.c):]  # the tag and the parts' columns
    loaded = [d["expr"] for d in entities.column_descriptions]
    statement = select(*loaded, *read).from_statement(combined)
    return statement, len(loaded), slots, StatementCache()  # type: ignore[return-value]


def _params(parts: Mapping[str, Part]) -> dict[str, Any]:
    params: dict[str, Any] = {}
    for name, (_statement, part_params) in parts.items():
        for key, value in part_params.items():
            if key in params and params[key] != value:
                raise ValueError(f"parameter {key!r} of part {name!r} differs from another "
                                 f"part's ({value!r} != {params[key]!r})")
            params[key] = value
    return params


def _split(rows: Any, slots: dict[str, tuple[int, int, type]], names: Any, skip: int = 0
           ) -> dict[str, list[Any]]:
    """Each part's rows from the combined rows, whose part name stands at `skip` (after
    the entities, when there are some)."""
    found: dict[str, list[Any]] = {name: [] for name in names}
    for row in rows:
        name = row[skip]
        start, end, make = slots[name]
        found[name].append(make._make(row[skip + start:skip + end]))  # type: ignore[attr-defined]
    return found


def one_trip(session: Session, **parts: Part) -> dict[str, list[Any]]:
    """Run every part in one statement; each part's rows, by its name, as named tuples with
    its columns' names (plain column reads only: `db.core_rows`, no ORM entities)."""
    params = _params(parts)
    statement, slots, cache = _combined(tuple((name, part[0]) for name, part in parts.items()))
    return _split(core_rows(session, statement, params, compiled_cache=cache), slots, parts)


def one_trip_with_entities(session: Session,
                           entities: tuple[Select[*tuple[Any, ...]], Mapping[str, Any]],
                           **parts: Part) -> tuple[list[tuple[Any, ...]], dict[str, list[Any]]]:
    """`one_trip`, with the rows of `entities` — a select of ORM entities, joined explicitly
    (no loader options) — loaded as `session.execute` loads them, in their order; and each
    part's rows by its name. The entities' parameters share the parts' namespace."""
    params = _params({_ENTITIES: entities, **parts})
    statement, count, slots, cache = _with_entities(
        entities[0], tuple((name, part[0]) for name, part in parts.items()))  # type: ignore[arg-type]
    rows = session.execute(statement, params,
                           execution_options={"compiled_cache": cache}).all()
    loaded = [row[:count] for row in rows if row[count] == _ENTITIES]
    return loaded, _split((row for row in rows if row[count] != _ENTITIES), slots, parts,
                          skip=count)  # type: ignore[misc]


__all__ = ["one_trip", "one_trip_with_entities", "Part"]
