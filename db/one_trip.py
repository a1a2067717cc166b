"""Several independent SELECTs sent as one statement: one round trip instead of several.

A page that needs a few unrelated reads (the child home: its daily part and its inbox
headlines) pays for each statement: SQLAlchemy's and the driver's work, and on PostgreSQL a
round trip to the server and back. `one_trip` sends them together as a UNION ALL — each part
wrapped as a subquery, tagged with its name and given columns of its own (NULL in the other
parts' rows) — and hands every part back its own rows, typed as its own statement types
them, in the order it gave them. Every column of a part must have a type (a bare NULL is
refused: PostgreSQL resolves two of them as text, which a later part's integers do not match).

The parts' bind parameters share one namespace: a name two parts use must carry the same
value (a ValueError says otherwise). Parts are module-level statements, built once: the
combined statement is built once per combination too.
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


@functools.lru_cache(maxsize=64)
def _combined(parts: tuple[tuple[str, Query], ...]
              ) -> tuple[CompoundSelect, dict[str, tuple[int, int, type]]]:
    """The UNION ALL of `parts`, and where each part's columns sit in its rows (start, end,
    the named-tuple type its rows are made into)."""
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
    return union_all(*branches), slots


def one_trip(session: Session, **parts: Part) -> dict[str, list[Any]]:
    """Run every part in one statement; each part's rows, by its name, as named tuples with
    its columns' names (plain column reads only: `db.core_rows`, no ORM entities)."""
    params: dict[str, Any] = {}
    for name, (_statement, part_params) in parts.items():
        for key, value in part_params.items():
            if key in params and params[key] != value:
                raise ValueError(f"parameter {key!r} of part {name!r} differs from another "
                                 f"part's ({value!r} != {params[key]!r})")
            params[key] = value
    statement, slots = _combined(tuple((name, part[0]) for name, part in parts.items()))
    found: dict[str, list[Any]] = {name: [] for name in parts}
    for row in core_rows(session, statement, params):
        name = row[0]
        start, end, make = slots[name]
        found[name].append(make._make(row[start:end]))  # type: ignore[attr-defined]
    return found


__all__ = ["one_trip", "Part"]
