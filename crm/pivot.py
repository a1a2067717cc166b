"""Pivot reports: rows × columns × a measure, with filters, over customers, interactions,
orders (the log's purchase rows) and deliveries.

A report is a definition (a small dict, stored as JSON by saved reports):

    {"source": "orders", "rows": "month", "columns": "tier", "measure": "sum_amount",
     "filters": {"surface": "shop"}}

Every name in it is looked up in the whitelists below (`SOURCES`, `DIMENSIONS`, `MEASURES`);
an unknown name is a ValidationError, never SQL. Filter values are bound parameters compared
for equality with a whitelisted dimension (months must look like 2026-11). One query, one
GROUP BY: `run(session, definition)`.

Customers are parent accounts (never staff); every source can be cut by the customer's tier,
value group, region and language (the nightly scores: `crm.models.CustomerScore`).
Months are calendar months in UTC, like the cohorts'.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, extract, func, literal, select
from sqlalchemy.orm import Session

from crm.models import CustomerScore
from diary.errors import N_, ValidationError
from diary.models import User
from journeys.models import Delivery
from recommender.models import Interaction, Kind

MAX_GROUPS = 500
MAX_FILTERS = 5
MONTH = re.compile(r"^(\d{4})-(0[1-9]|1[0-2])$")


@dataclass(frozen=True)
class Source:
    label: str
    table: Any
    user_id: Any  # the column naming the customer
    when: Any  # the column months are taken from
    where: tuple[Any, ...] = ()
    dimensions: tuple[str, ...] = ()  # besides the customer's (CUSTOMER_DIMENSIONS)
    measures: tuple[str, ...] = ("count", "customers")


SOURCES: dict[str, Source] = {
    "customers": Source(N_("Customers"), User, User.id, User.created_at,
                        dimensions=("month",), measures=("customers", "sum_clv")),
    "interactions": Source(N_("Interactions"), Interaction, Interaction.user_id,
                           Interaction.occurred_at,
                           dimensions=("month", "kind", "surface", "stage")),
    "orders": Source(N_("Orders"), Interaction, Interaction.user_id, Interaction.occurred_at,
                     where=(Interaction.kind == Kind.PURCHASE.value,),
                     dimensions=("month", "surface", "stage"),
                     measures=("count", "customers", "sum_amount", "sum_quantity")),
    "deliveries": Source(N_("Deliveries"), Delivery, Delivery.user_id, Delivery.created_at,
                         dimensions=("month", "channel", "status")),
}
CUSTOMER_DIMENSIONS = ("tier", "value_group", "region", "locale")


def _month(source: Source) -> Any:
    return extract("year", source.when) * 100 + extract("month", source.when)


#: Dimension → (label, the expression for a source).
DIMENSIONS: dict[str, tuple[str, Callable[[Source], Any]]] = {
    "month": (N_("Month"), _month),
    "kind": (N_("Kind of interaction"), lambda s: Interaction.kind),
    "surface": (N_("Surface"), lambda s: Interaction.surface),
    "stage": (N_("Stage"), lambda s: Interaction.stage),
    "channel": (N_("Channel"), lambda s: Delivery.channel),
    "status": (N_("Delivery status"), lambda s: Delivery.status),
    "tier": (N_("Value tier"), lambda s: CustomerScore.tier),
    "value_group": (N_("Value group"), lambda s: CustomerScore.value_group),
    "region": (N_("Region"), lambda s: User.region_province),
    "locale": (N_("Language"), lambda s: User.locale),
}

#: Measure → (label, the aggregate for a source).
MEASURES: dict[str, tuple[str, Callable[[Source], Any]]] = {
    "count": (N_("Count"), lambda s: func.count()),
    "customers": (N_("Distinct customers"), lambda s: func.count(func.distinct(s.user_id))),
    "sum_amount": (N_("Sum of amount"), lambda s: func.coalesce(
        func.sum(Interaction.amount_minor), 0)),
    "sum_quantity": (N_("Sum of quantity"), lambda s: func.coalesce(
        func.sum(Interaction.quantity), 0)),
    "sum_clv": (N_("Sum of CLV"), lambda s: func.coalesce(func.sum(CustomerScore.clv_minor), 0)),
}
MONEY_MEASURES = ("sum_amount", "sum_clv")


def dimensions_of(source: str) -> tuple[str, ...]:
    return SOURCES[source].dimensions + CUSTOMER_DIMENSIONS


@dataclass(frozen=True)
class Definition:
    source: str
    rows: str
    measure: str
    columns: str | None = None
    filters: tuple[tuple[str, str], ...] = ()

    def to_dict(self) -> dict[str, Any]:
        return {"source": self.source, "rows": self.rows, "columns": self.columns,
                "measure": self.measure, "filters": dict(self.filters)}


def _text(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def parse(raw: Mapping[str, Any]) -> Definition:
    """A checked definition, or ValidationError naming what is not allowed."""
    source = _text(raw.get("source"))
    if source not in SOURCES:
        raise ValidationError(N_("Choose what to report on."))
    allowed = dimensions_of(source)
    rows = _text(raw.get("rows"))
    if rows not in allowed:
        raise ValidationError(N_("Choose rows this source has."))
    columns = _text(raw.get("columns"))
    if columns is not None and (columns not in allowed or columns == rows):
        raise ValidationError(N_("Choose columns this source has, other than the rows."))
    measure = _text(raw.get("measure"))
    if measure not in SOURCES[source].measures:
        raise ValidationError(N_("Choose a measure this source has."))
    filters = raw.get("filters") or {}
    if not isinstance(filters, Mapping) or len(filters) > MAX_FILTERS:
        raise ValidationError(N_("Filters are a few dimensions, each with one value."))
    checked = []
    for name, value in sorted(filters.items()):
        if name not in allowed or not isinstance(value, str) or not 0 < len(value) <= 80:
            raise ValidationError(N_("Filters are a few dimensions, each with one value."))
        if name == "month" and not MONTH.match(value):
            raise ValidationError(N_("Months look like 2026-11."))
        checked.append((name, value))
    return Definition(source, rows, measure, columns, tuple(checked))


@dataclass
class Pivot:
    definition: Definition
    rows: list[Any] = field(default_factory=list)
    columns: list[Any] = field(default_factory=list)
    cells: dict[tuple[Any, Any], int] = field(default_factory=dict)
    truncated: bool = False

    def cell(self, row: Any, column: Any) -> int:
        return self.cells.get((row, column), 0)

    def row_total(self, row: Any) -> int:
        """The row's sum over columns (for counts and sums; distinct customers may be
        counted in several columns)."""
        return sum(self.cell(row, c) for c in self.columns)

    @property
    def largest(self) -> int:
        return max((self.row_total(r) for r in self.rows), default=0)


def _expression(name: str, source: Source) -> Any:
    return DIMENSIONS[name][1](source)


def _condition(name: str, value: str, source: Source) -> ColumnElement[bool]:
    if name == "month":
        year, month = MONTH.match(value).groups()  # type: ignore[union-attr]
        return _month(source) == int(year) * 100 + int(month)
    return _expression(name, source) == value


def display(name: str, value: Any) -> str:
    """A dimension's value as shown and exported ("2026-11" for a month; "" for none)."""
    if value is None:
        return ""
    if name == "month":
        number = int(value)
        return f"{number // 100:04d}-{number % 100:02d}"
    return str(value)


def run(session: Session, definition: Definition) -> Pivot:
    source = SOURCES[definition.source]
    row = _expression(definition.rows, source).label("row")
    column = (_expression(definition.columns, source) if definition.columns
              else literal("")).label("col")
    measure = MEASURES[definition.measure][1](source).label("value")
    stmt = select(row, column, measure).select_from(source.table)
    if source.table is not User:
        stmt = stmt.join(User, User.id == source.user_id)
    stmt = stmt.outerjoin(CustomerScore, CustomerScore.user_id == User.id) \
        .where(User.staff_role.is_(None), *source.where,
               *(_condition(n, v, source) for n, v in definition.filters))
    stmt = stmt.group_by(row, column) if definition.columns else stmt.group_by(row)
    found = session.execute(stmt.order_by(row, column).limit(MAX_GROUPS + 1)).all()
    pivot = Pivot(definition, truncated=len(found) > MAX_GROUPS)
    rows: dict[str, None] = {}
    columns: dict[str, None] = {}
    for r, c, value in found[:MAX_GROUPS]:
        r = display(definition.rows, r)
        c = display(definition.columns, c) if definition.columns else ""
        rows.setdefault(r)
        columns.setdefault(c)
        pivot.cells[(r, c)] = pivot.cells.get((r, c), 0) + int(value or 0)
    pivot.rows, pivot.columns = list(rows), sorted(columns)
    return pivot


def as_records(pivot: Pivot) -> tuple[list[str], list[dict[str, Any]]]:
    """The pivot as CSV columns and rows: the row dimension, then one column per value of
    the column dimension (or the measure's name)."""
    d = pivot.definition
    names = [c or d.measure for c in pivot.columns]
    header = [d.rows, *names]
    records = []
    for r in pivot.rows:
        record: dict[str, Any] = {d.rows: r}
        for c, name in zip(pivot.columns, names, strict=True):
            record[name] = pivot.cell(r, c)
        records.append(record)
    return header, records
