"""How the day went: the last feed, nappies today, and per-day totals with the child's trend.

Every "day" is a calendar day in the family's time zone (its start and end converted to UTC,
so a day across a daylight-saving change has 23 or 25 hours). A sleep entry starts at its
`occurred_at` and lasts its `duration_min`; a sleep across midnight counts on both days, each
its own minutes. A sleep timer running now counts the same way, from its start up to now (never
into the future), as the days' `running_spans`: stopping it writes the sleep entry and ends
the running part, so the sleep is never counted twice.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import Date, Integer, String, bindparam, cast, literal, null, select, union_all
from sqlalchemy.orm import Session
from sqlalchemy.sql.selectable import CompoundSelect

from clock import utcnow
from db import core_rows
from diary import age as agemath
from diary.models import Child, Entry, Timer, Vaccination

#: The longest sleep an entry holds (diary.entry_kinds: 1440 minutes): how far before a day
#: to look for a sleep that reaches into it.
LONGEST_SLEEP = timedelta(minutes=1440)
TREND_DAYS = 7
DAILY_KINDS = ("feeding", "sleep", "diaper", "tummy_time")


def day_bounds(day: date, tz: str) -> tuple[datetime, datetime]:
    """The UTC instants a local calendar day starts and ends (end exclusive)."""
    zone = ZoneInfo(tz)
    start = datetime.combine(day, time(), zone).astimezone(UTC)
    end = datetime.combine(day + timedelta(days=1), time(), zone).astimezone(UTC)
    return start, end


# --- the child page's line -------------------------------------------------------------------

@dataclass(frozen=True)
class LastFeed:
    at: datetime
    minutes_ago: int
    side: str | None  # "left" / "right" for a breast feed
    method: str | None
    amount_ml: int | None


@dataclass(frozen=True)
class Nappies:
    total: int
    wet: int
    dirty: int


#: A feed longer ago than this says nothing about now (a toddler's last bottle weeks ago).
RECENT_FEED_MINUTES = 24 * 60


@dataclass(frozen=True)
class Status:
    last_feed: LastFeed | None
    nappies_today: Nappies
    #: Minutes a running sleep timer has run, or None when the child is not asleep.
    asleep_minutes: int | None

    @property
    def recent_feed(self) -> LastFeed | None:
        """The last feed when it was within a day (what a glance at several children shows)."""
        feed = self.last_feed
        return feed if feed is not None and feed.minutes_ago < RECENT_FEED_MINUTES else None

    @property
    def anything_now(self) -> bool:
        """Whether a glance has something to say: asleep, fed within a day, nappies today."""
        return (self.asleep_minutes is not None or self.recent_feed is not None
                or self.nappies_today.total > 0)


def _minutes_between(earlier: datetime, later: datetime) -> int:
    return max(0, int((later - earlier).total_seconds() // 60))


def _last_feed(occurred_at: datetime, data: dict[str, Any] | None, now: datetime) -> LastFeed:
    data = data or {}
    method = data.get("method")
    side = method.removeprefix("breast_") if method in ("breast_left", "breast_right") else None
    return LastFeed(occurred_at, _minutes_between(occurred_at, now), side, method,
                    data.get("amount_ml"))


def _nappies(rows: list[dict[str, Any] | None]) -> Nappies:
    data = [d or {} for d in rows]
    return Nappies(len(data), sum(1 for d in data if d.get("wet")),
                   sum(1 for d in data if d.get("dirty")))


# The child page asks on every visit: the statement is built once (see
# diary.sessions._USER_FOR for why).
_NEWEST_FEED = (select(Entry.kind, Entry.occurred_at, Entry.data)
                .where(Entry.child_id == bindparam("child_id"), Entry.kind == "feeding",
                       Entry.occurred_at <= bindparam("now"))
                .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(1).subquery())


def status(session: Session, child: Child, now: datetime | None = None) -> Status:
    """The child page's "last feed … ago", nappies today and "asleep for …" (`child_day`'s
    status: the page reads it with the rest of its daily part)."""
    return child_day(session, child, now).status


# --- the child page's daily part, in one query ---------------------------------------------

@dataclass(frozen=True)
class RunningTimer:
    """A running timer as the child page shows it (the columns it needs, no ORM object)."""
    id: int
    kind: str
    side: str | None
    started_at: datetime


@dataclass(frozen=True)
class ChildDay:
    """Everything the child page's daily part reads: `status`, the running timers by kind
    (what diary.timers.running gives) and the ticked reminders (diary.vaccinations.ticked)."""
    status: Status
    running: dict[str, RunningTimer]
    ticked: dict[str, date]


#: One UNION ALL of the newest feed, the day's nappies, the running timers and the ticked
#: reminders: four statements' answers for the price of one round trip (each statement a
#: page sends costs far more in Python than in the database). The first branch names every
#: column's type, which the others' rows are read with.
_CHILD_DAY = union_all(
    select(literal("feed").label("row"), _NEWEST_FEED.c.kind, _NEWEST_FEED.c.occurred_at,
           _NEWEST_FEED.c.data, cast(null(), Integer).label("id"),
           cast(null(), String(8)).label("side"), cast(null(), Date).label("given_on")),
    select(literal("nappy"), Entry.kind, Entry.occurred_at, Entry.data, null(), null(), null())
    .where(Entry.child_id == bindparam("child_id"), Entry.kind == "diaper",
           Entry.occurred_at >= bindparam("start"), Entry.occurred_at < bindparam("end")),
    select(literal("timer"), Timer.kind, Timer.started_at, null(), Timer.id, Timer.side, null())
    .where(Timer.child_id == bindparam("child_id"), Timer.running_kind.is_not(None)),
    select(literal("tick"), Vaccination.reminder_key, null(), null(), null(), null(),
           Vaccination.given_on)
    .where(Vaccination.child_id == bindparam("child_id"),
           Vaccination.reminder_key.is_not(None)))


def child_day_query(child_id: int, timezone: str, now: datetime
                    ) -> tuple[CompoundSelect, dict[str, Any]]:
    """`child_day`'s statement and parameters for the child's day in `timezone` (its
    family's), for a page that sends it with other reads (db.one_trip); `child_day_of`
    reads its rows."""
    start, end = day_bounds(agemath.local_today(timezone, now), timezone)
    return _CHILD_DAY, {"child_id": child_id, "now": now, "start": start, "end": end}


def child_day_of(rows: Sequence[Any], now: datetime) -> ChildDay:
    """The ChildDay in the rows of `child_day_query`'s statement, run at `now`."""
    running = {r.kind: RunningTimer(r.id, r.kind, r.side, r.occurred_at)
               for r in rows if r.row == "timer"}
    feed = next((_last_feed(r.occurred_at, r.data, now) for r in rows if r.row == "feed"),
                None)
    sleep = running.get("sleep")
    status = Status(feed, _nappies([r.data for r in rows if r.row == "nappy"]),
                    _minutes_between(sleep.started_at, now) if sleep is not None else None)
    return ChildDay(status, running, {r.kind: r.given_on for r in rows if r.row == "tick"})


def child_day(session: Session, child: Child, now: datetime | None = None) -> ChildDay:
    """The child page's daily part in one query: what `status`, diary.timers.running and
    diary.vaccinations.ticked answer, with the running timers as light rows."""
    now = now or utcnow()
    statement, params = child_day_query(child.id, child.family.timezone, now)
    return child_day_of(core_rows(session, statement, params).all(), now)


# --- days and trends -------------------------------------------------------------------------

@dataclass
class Day:
    day: date
    sleep_minutes: int = 0
    #: Sleep within this day as (first minute, last minute) after local midnight, for the
    #: 24-hour strip (a day of 23 or 25 hours has 1380 or 1500 minutes).
    sleep_spans: list[tuple[int, int]] = field(default_factory=list)
    #: The part of a sleep timer still running (counted in `sleep_minutes`), drawn apart.
    running_spans: list[tuple[int, int]] = field(default_factory=list)
    feeds: int = 0
    feed_ml: int = 0
    feed_minutes: int = 0
    nappies: int = 0
    wet: int = 0
    dirty: int = 0
    tummy_minutes: int = 0
    day_minutes: int = 1440
    #: Whether the child was born by this day (days before count in no average).
    counted: bool = True

    def logged(self, metric: str) -> bool:
        """Whether anything behind `metric` was written down this day (born by then). The
        averages count only such days: a day nobody wrote a sleep down is not a day the
        baby did not sleep, and the weeks before a parent started logging are not zeros."""
        return self.counted and getattr(self, LOGGED_BY[metric]) > 0


@dataclass(frozen=True)
class Summary:
    days: list[Day]  # oldest first
    #: The 7-day average ending on each day, over the days of the 7 with the metric logged
    #: (None when none of them has), by metric.
    trends: dict[str, list[float | None]]


METRICS = ("sleep_minutes", "feeds", "feed_ml", "nappies", "tummy_minutes")
#: What makes a day count for a metric's average: feeds were logged for the bottle amounts
#: too (a breastfed day has 0 ml, truly), each other metric's own kind for itself.
LOGGED_BY = {"sleep_minutes": "sleep_minutes", "feeds": "feeds", "feed_ml": "feeds",
             "nappies": "nappies", "tummy_minutes": "tummy_minutes"}


def _split(start: datetime, end: datetime, day_start: datetime,
           day_end: datetime) -> tuple[int, int] | None:
    """The part of [start, end) inside [day_start, day_end), in minutes after day_start."""
    low, high = max(start, day_start), min(end, day_end)
    if high <= low:
        return None
    return (_minutes_between(day_start, low), _minutes_between(day_start, high))


#: The running sleep timer's rows beside the entries, read in the same statement: "kind"
#: `RUNNING_SLEEP`, "occurred_at" its start.
RUNNING_SLEEP = "running_sleep"


def summarise(session: Session, child: Child, first: date, last: date,
              now: datetime | None = None) -> Summary:
    """Per-day totals from `first` to `last` (local days, inclusive) and 7-day averages.

    The averages look back 6 days before `first` too, so the first day's is real. A sleep
    timer running at `now` counts as sleep from its start to `now` (at most the longest sleep
    an entry holds, which is what stopping it can save)."""
    now = now or utcnow()
    tz = child.family.timezone
    lookback = first - timedelta(days=TREND_DAYS - 1)
    all_days = [lookback + timedelta(days=i) for i in range((last - lookback).days + 1)]
    bounds = {d: day_bounds(d, tz) for d in all_days}
    days = {d: Day(d, day_minutes=_minutes_between(*bounds[d]),
                   counted=child.birth_date is not None and d >= child.birth_date)
            for d in all_days}
    range_start, range_end = bounds[lookback][0], bounds[last][1]
    rows = session.execute(union_all(
        select(Entry.kind, Entry.occurred_at, Entry.data).where(
            Entry.child_id == child.id, Entry.kind.in_(DAILY_KINDS),
            Entry.occurred_at >= range_start - LONGEST_SLEEP, Entry.occurred_at < range_end),
        select(literal(RUNNING_SLEEP), Timer.started_at, null()).where(
            Timer.child_id == child.id, Timer.running_kind == "sleep")))
    for kind, at, data in rows:
        data = data or {}
        if kind == "sleep":
            _add_sleep(days, bounds, at, at + timedelta(minutes=int(data.get("duration_min")
                                                                    or 0)))
            continue
        if kind == RUNNING_SLEEP:
            _add_sleep(days, bounds, at, min(now, at + LONGEST_SLEEP), running=True)
            continue
        day = days.get(agemath.local_date(at, tz))
        if day is None:
            continue
        if kind == "feeding":
            day.feeds += 1
            day.feed_ml += int(data.get("amount_ml") or 0)
            day.feed_minutes += int(data.get("duration_min") or 0)
        elif kind == "diaper":
            day.nappies += 1
            day.wet += 1 if data.get("wet") else 0
            day.dirty += 1 if data.get("dirty") else 0
        elif kind == "tummy_time":
            day.tummy_minutes += int(data.get("duration_min") or 0)
    ordered = [days[d] for d in all_days]
    trends = {metric: _trailing_average(ordered, metric)[TREND_DAYS - 1:] for metric in METRICS}
    return Summary(ordered[TREND_DAYS - 1:], trends)


def _add_sleep(days: dict[date, Day], bounds: dict[date, tuple[datetime, datetime]],
               start: datetime, end: datetime, running: bool = False) -> None:
    for d, (day_start, day_end) in bounds.items():
        part = _split(start, end, day_start, day_end)
        if part is not None:
            (days[d].running_spans if running else days[d].sleep_spans).append(part)
            days[d].sleep_minutes += part[1] - part[0]


def _trailing_average(days: list[Day], metric: str) -> list[float | None]:
    averages: list[float | None] = []
    for i in range(len(days)):
        window = [getattr(d, metric) for d in days[max(0, i - TREND_DAYS + 1):i + 1]
                  if d.logged(metric)]
        averages.append(sum(window) / len(window) if window else None)
    return averages


@dataclass(frozen=True)
class Week:
    """One week's daily averages, each over the week's days with that metric logged (None
    when none has); `days_counted`: the week's days born and not in the future."""

    first: date
    last: date
    days_counted: int
    averages: dict[str, float | None]


def weeks(summary: Summary, today: date) -> list[Week]:
    """The summary's days in weeks of seven, newest last, ending on its last day; days after
    `today` are not counted."""
    out = []
    days = summary.days
    for end in range(len(days), 0, -7):
        chunk = [d for d in days[max(0, end - 7):end] if d.counted and d.day <= today]
        if not chunk:
            continue
        averages: dict[str, float | None] = {}
        for metric in METRICS:
            values = [getattr(d, metric) for d in chunk if d.logged(metric)]
            averages[metric] = sum(values) / len(values) if values else None
        out.append(Week(days[max(0, end - 7)].day, days[end - 1].day, len(chunk), averages))
    return list(reversed(out))

