"""The first-response promise, counted in business hours: pure functions, no database.

A promise of 24 hours means 24 hours *while the service team is open*: on working days
(`weekdays`, Monday = 0) that are not holidays, between `opens` and `closes` in the team's
time zone. A ticket opened at night or on a Sunday starts counting when the team opens.
Opening hours are wall-clock times in the calendar's zone, so in a zone with daylight saving
time a working day is still 09:00–18:00 local time on both sides of the change; durations are
measured in UTC, never as wall-clock differences.

The web layer builds a `Calendar` and a `Policy` from the config (`TICKET_*` settings) and
hands them in; nothing here reads the config.
"""
from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

#: A calendar with no working day in this many days is refused (no promise can be kept).
MAX_SEARCH_DAYS = 3 * 366


@dataclass(frozen=True)
class Calendar:
    """When the service team works."""

    timezone: str = "Asia/Shanghai"
    opens: time = time(9, 0)
    closes: time = time(18, 0)
    weekdays: frozenset[int] = frozenset(range(5))  # Monday..Friday
    holidays: frozenset[date] = frozenset()

    def __post_init__(self) -> None:
        ZoneInfo(self.timezone)  # an unknown zone fails here, not at the first ticket
        if not self.opens < self.closes:
            raise ValueError("opening hours must open before they close")
        if not self.weekdays or not set(self.weekdays) <= set(range(7)):
            raise ValueError("working days are 0 (Monday) to 6 (Sunday), at least one")

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def is_working_day(self, day: date) -> bool:
        return day.weekday() in self.weekdays and day not in self.holidays

    def window(self, day: date) -> tuple[datetime, datetime]:
        """The day's opening hours in UTC."""
        zone = self.zone
        start = datetime.combine(day, self.opens, zone).astimezone(UTC)
        end = datetime.combine(day, self.closes, zone).astimezone(UTC)
        return start, end

    def windows(self, start: datetime) -> Iterable[tuple[datetime, datetime]]:
        """Working windows (UTC) that end after `start`, in order, clipped to begin no
        earlier than `start`."""
        day = _utc(start).astimezone(self.zone).date() - timedelta(days=1)
        for offset in range(MAX_SEARCH_DAYS):
            current = day + timedelta(days=offset)
            if not self.is_working_day(current):
                continue
            low, high = self.window(current)
            if high <= start:
                continue
            yield max(low, start), high
        raise ValueError("the calendar has no working day within three years")


@dataclass(frozen=True)
class Policy:
    """The promise: `hours` of business time to a first answer, per category if set."""

    calendar: Calendar = field(default_factory=Calendar)
    hours: float = 24.0
    by_category: Mapping[str, float] = field(default_factory=dict)
    #: A ticket is "near breach" when fewer business hours than this are left.
    near_hours: float = 4.0

    def hours_for(self, category: str) -> float:
        return float(self.by_category.get(category, self.hours))


def _utc(moment: datetime) -> datetime:
    if moment.tzinfo is None:
        raise ValueError("times must carry their time zone")
    return moment.astimezone(UTC)


def due_at(opened_at: datetime, hours: float, calendar: Calendar) -> datetime:
    """When `hours` business hours after `opened_at` have passed (UTC)."""
    start = _utc(opened_at)
    left = timedelta(hours=hours)
    if left <= timedelta(0):
        return start
    for low, high in calendar.windows(start):
        span = high - low
        if left <= span:
            return low + left
        left -= span
    raise AssertionError("unreachable")  # pragma: no cover - windows() raises first


def business_time(start: datetime, end: datetime, calendar: Calendar) -> timedelta:
    """Business time between two moments (negative when `end` is before `start`)."""
    start, end = _utc(start), _utc(end)
    if end < start:
        return -business_time(end, start, calendar)
    total = timedelta(0)
    for low, high in calendar.windows(start):
        if low >= end:
            break
        total += min(high, end) - low
    return total


@dataclass(frozen=True)
class Clock:
    """Where one ticket stands against its promise at `now`."""

    due_at: datetime
    breached: bool
    near: bool  # not breached, less than the policy's near_hours left
    left: timedelta  # business time left (negative: how far past)


def standing(due: datetime, answered_at: datetime | None, now: datetime,
             policy: Policy) -> Clock:
    """A ticket's standing: answered in time, late, open and near its due time, or breached."""
    moment = _utc(answered_at) if answered_at is not None else _utc(now)
    due = _utc(due)
    breached = moment > due
    left = business_time(moment, due, policy.calendar)
    near = not breached and answered_at is None and left < timedelta(hours=policy.near_hours)
    return Clock(due, breached, near, left)


def parse_hours(text: str) -> tuple[time, time]:
    """"09:00-18:00" → (09:00, 18:00)."""
    low, _, high = (text or "").partition("-")
    try:
        return time.fromisoformat(low.strip()), time.fromisoformat(high.strip())
    except ValueError:
        raise ValueError(f"opening hours look like 09:00-18:00, not {text!r}") from None


def parse_weekdays(text: str) -> frozenset[int]:
    """"0-4" or "0,1,2,3,4,5" (Monday = 0) → the set of working weekdays."""
    days: set[int] = set()
    for part in (text or "").split(","):
        part = part.strip()
        if not part:
            continue
        low, dash, high = part.partition("-")
        if dash:
            days.update(range(int(low), int(high) + 1))
        else:
            days.add(int(part))
    return frozenset(days)


def parse_holidays(text: str) -> frozenset[date]:
    """"2026-10-01,2026-10-02" → dates."""
    return frozenset(date.fromisoformat(p.strip()) for p in (text or "").split(",")
                     if p.strip())


def parse_category_hours(text: str) -> dict[str, float]:
    """"privacy=72,product=8" → {"privacy": 72.0, "product": 8.0}."""
    found = {}
    for part in (text or "").split(","):
        if part.strip():
            name, _, hours = part.partition("=")
            found[name.strip()] = float(hours)
    return found
