"""The one clock of the project: every "now" and "today" comes from here.

Why a module of its own: stored times are UTC and ages are counted in the family's zone, so
code asks for the instant (`utcnow`) and converts it where the zone is known. Tests move this
clock for a whole run (`pytest --clock-at 2028-02-29`) or for one test (the `clock` fixture),
with time-machine, which moves `datetime.now` under every caller at once, threads included.
Functions that compute from time still take `now`/`on_date` parameters: pass them when you can.
"""
from __future__ import annotations

from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo


def utcnow() -> datetime:
    """The current instant, timezone-aware in UTC (the only kind of time we store)."""
    return datetime.now(UTC)


def today_in(tz_name: str, now: datetime | None = None) -> date:
    """The calendar date in zone `tz_name` at `now` (default: this instant); a naive `now`
    is refused, since it could mean any zone."""
    instant = now if now is not None else utcnow()
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(ZoneInfo(tz_name)).date()
