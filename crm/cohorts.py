"""Cohorts by signup month and their retention: which share of each month's new customers
came back in the months after.

A customer (a parent account, never staff) belongs to the cohort of the calendar month of
`User.created_at` in UTC (one boundary for everybody, like the interaction log's monthly
partitions; a sign-up in Shanghai at 07:30 on the 1st belongs to the month before). They are
*active* in a month when the interaction log (`recommender.models.Interaction`: pages seen,
clicks, saves, purchases from the shop) has a row of theirs in it, or their latest visit
(`User.last_seen_at`, which keeps only the latest) falls in it. Month 0 is the signup month,
in which everyone counts as active: signing up is the first visit.

    retention(session, now, months=12) -> list[Cohort]
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import extract, select
from sqlalchemy.orm import Session

from diary.models import User
from recommender.models import Interaction

MONTHS = 12


@dataclass(frozen=True)
class Cohort:
    month: date  # the first day of the signup month
    size: int
    #: Customers active in month 0, 1, 2, … after signing up (up to the current month).
    active: tuple[int, ...]

    @property
    def shares(self) -> tuple[float, ...]:
        return tuple(n / self.size if self.size else 0.0 for n in self.active)


def month_index(day: date) -> int:
    return day.year * 12 + day.month - 1


def _first_day(index: int) -> date:
    return date(index // 12, index % 12 + 1, 1)


def _utc(moment: datetime) -> datetime:
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


def retention(session: Session, now: datetime, months: int = MONTHS) -> list[Cohort]:
    """The last `months` signup cohorts (oldest first, empty months left out), each with
    how many of its customers were active in every month since, up to `now`'s month."""
    this_month = month_index(_utc(now).date())
    first = this_month - months + 1
    since = datetime(*_first_day(first).timetuple()[:3], tzinfo=UTC)
    cohort_of: dict[int, int] = {}
    active: dict[int, set[int]] = defaultdict(set)  # month index → customers
    for user_id, created_at, last_seen_at in session.execute(
            select(User.id, User.created_at, User.last_seen_at)
            .where(User.staff_role.is_(None), User.created_at >= since,
                   User.created_at <= now)):
        cohort = month_index(_utc(created_at).date())
        cohort_of[user_id] = cohort
        active[cohort].add(user_id)
        if last_seen_at is not None and last_seen_at <= now:
            active[month_index(_utc(last_seen_at).date())].add(user_id)
    if not cohort_of:
        return []
    year = extract("year", Interaction.occurred_at)
    month = extract("month", Interaction.occurred_at)
    found = select(Interaction.user_id, year, month).join(User, User.id == Interaction.user_id) \
        .where(User.staff_role.is_(None), User.created_at >= since, User.created_at <= now,
               Interaction.occurred_at >= since, Interaction.occurred_at <= now) \
        .group_by(Interaction.user_id, year, month)
    for who, y, m in session.execute(found):
        if who is not None:
            active[int(y) * 12 + int(m) - 1].add(who)
    sizes: dict[int, int] = defaultdict(int)
    for cohort in cohort_of.values():
        sizes[cohort] += 1
    counts = {cohort: [0] * (this_month - cohort + 1) for cohort in sizes}
    for later, people in active.items():
        for user_id in people:
            cohort = cohort_of[user_id]
            if cohort <= later <= this_month:
                counts[cohort][later - cohort] += 1
    return [Cohort(_first_day(c), sizes[c], tuple(counts[c])) for c in sorted(sizes)]


def average_retention(cohorts: list[Cohort]) -> tuple[float | None, ...]:
    """Month k's share over every cohort old enough to have a month k (customers, not
    cohorts, weigh: a big cohort counts for more)."""
    width = max((len(c.active) for c in cohorts), default=0)
    out: list[float | None] = []
    for k in range(width):
        old_enough = [c for c in cohorts if len(c.active) > k]
        people = sum(c.size for c in old_enough)
        out.append(sum(c.active[k] for c in old_enough) / people if people else None)
    return tuple(out)
