"""Monthly partitions of the interaction log on PostgreSQL (SQLite keeps one plain table).

`interactions` is partitioned by RANGE of `occurred_at`, one partition per calendar month in
UTC, named `interactions_YYYY_MM`, plus `interactions_default` (made by the migration), which
takes any row no month holds, so an insert never fails for want of a partition.

`ensure_months(session, through=…)` makes the months from `since` (default: this month)
through the month of `through` that do not exist yet; the scheduler runs it monthly with a
few months' margin (`webapp.scheduler`), and an import of older history can ask for its
months first. A month is made as a plain table, filled with the rows of its month that the
DEFAULT partition caught meanwhile (moved, not copied), then attached: PostgreSQL refuses to
attach a month while the DEFAULT partition still holds rows of it. Attaching creates the
parent's indexes and keys on the new partition. Two schedulers doing this at once queue on an
advisory lock; the caller owns the transaction, so a failure leaves nothing half made.
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import text
from sqlalchemy.orm import Session

from clock import utcnow

PARENT = "interactions"
DEFAULT = f"{PARENT}_default"
#: Lock key for pg_advisory_xact_lock (any constant; "inte" in ASCII).
_LOCK = 0x696E7465


def month_start(day: date) -> date:
    return day.replace(day=1)


def next_month(first: date) -> date:
    return date(first.year + first.month // 12, first.month % 12 + 1, 1)


def add_months(first: date, count: int) -> date:
    """The first of the month `count` months after the month of `first`."""
    index = first.year * 12 + first.month - 1 + count
    return date(index // 12, index % 12 + 1, 1)


def months(since: date, through: date) -> list[date]:
    """The first day of each month from the month of `since` through that of `through`."""
    found, first = [], month_start(since)
    while first <= through:
        found.append(first)
        first = next_month(first)
    return found


def partition_name(first: date) -> str:
    return f"{PARENT}_{first.year:04d}_{first.month:02d}"


def _bound(first: date) -> str:
    # A literal, not a parameter: DDL takes none. Made from a date, so nothing else gets in.
    return datetime(first.year, first.month, 1, tzinfo=UTC).strftime("'%Y-%m-%d %H:%M:%S+00'")


def is_partitioned(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def existing(session: Session) -> list[str]:
    """The month partitions that exist, oldest first (empty on SQLite)."""
    if not is_partitioned(session):
        return []
    names = session.scalars(text(
        "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
        "WHERE i.inhparent = CAST(:parent AS regclass)"), {"parent": PARENT})
    return sorted(n for n in names if n != DEFAULT)


def ensure_months(session: Session, through: date, since: date | None = None) -> list[str]:
    """Make the missing month partitions from the month of `since` (default: this month,
    UTC) through the month of `through`; returns the names made (none on SQLite)."""
    if not is_partitioned(session):
        return []
    since = since or utcnow().date()
    session.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK})
    have = set(existing(session))
    made = []
    for first in months(since, through):
        name = partition_name(first)
        if name in have:
            continue
        low, high = _bound(first), _bound(next_month(first))
        session.execute(text(
            f"CREATE TABLE {name} (LIKE {PARENT} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
        session.execute(text(
            f"WITH moved AS (DELETE FROM {DEFAULT} WHERE occurred_at >= {low} "
            f"AND occurred_at < {high} RETURNING *) INSERT INTO {name} SELECT * FROM moved"))
        session.execute(text(
            f"ALTER TABLE {PARENT} ATTACH PARTITION {name} FOR VALUES FROM ({low}) TO ({high})"))
        made.append(name)
    return made


def ensure_ahead(session: Session, months_ahead: int, today: date | None = None) -> list[str]:
    """This month and the next `months_ahead` months (what the scheduler job asks for)."""
    first = month_start(today or utcnow().date())
    return ensure_months(session, through=add_months(first, months_ahead), since=first)
