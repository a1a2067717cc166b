"""Stages: where a family is on the journey, as (unit, value), and who a window is for.

Pregnancy weeks 4–40 (completed weeks), then baby weeks 0–12 (completed weeks of age, the
first 91 days), then baby months 3–60 (completed calendar months). Babies born before 37
weeks use their corrected age until 24 months, like everywhere else on the site.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Protocol

from diary import age as agemath


class ChildDates(Protocol):
    """What a stage is computed from: a `Child`, or the scheduler's light row of one."""

    @property
    def due_date(self) -> date | None: ...
    @property
    def birth_date(self) -> date | None: ...
    @property
    def gestational_weeks_at_birth(self) -> int | None: ...
    @property
    def gestational_days_at_birth(self) -> int | None: ...

UNITS = ("pregnancy_week", "week", "month")
_STAGE_NUMBER = re.compile(r"-?[0-9]{1,4}")
UNIT_RANGES = {"pregnancy_week": (4, 42), "week": (0, 12), "month": (3, 60)}
WEEK_STAGE_LAST_DAY = 90  # days 0–90 are baby weeks 0–12


def unit_order(unit: str | None) -> int:
    """Where a window unit falls in a child's life (pregnancy, baby weeks, months); unknown
    units last."""
    return UNITS.index(unit) if unit in UNITS else len(UNITS)


@dataclass(frozen=True, order=True)
class Stage:
    unit: str
    value: int

    @property
    def key(self) -> str:
        return f"{self.unit}:{self.value}"

    @classmethod
    def parse(cls, key: str) -> Stage | None:
        unit, _, raw = key.partition(":")
        # A few ASCII digits: int() also takes "٣" and fails on thousands of digits.
        if unit not in UNITS or not _STAGE_NUMBER.fullmatch(raw):
            return None
        low, high = UNIT_RANGES[unit]
        value = int(raw)
        return cls(unit, value) if low <= value <= high else None


def coverage_stages() -> list[Stage]:
    """The stages the shipped content must cover (the coverage report's rows)."""
    return ([Stage("pregnancy_week", w) for w in range(4, 41)]
            + [Stage("week", w) for w in range(0, 13)]
            + [Stage("month", m) for m in range(3, 37)])


def stage_for_age_days(days: int, months: int) -> Stage:
    if days <= WEEK_STAGE_LAST_DAY:
        return Stage("week", days // 7)
    return Stage("month", min(60, max(3, months)))


def stage_of(child: ChildDates, on: date) -> Stage | None:
    """The child's stage on a date; None before week 4 of pregnancy or after 5 years."""
    if child.birth_date is None or on < child.birth_date:
        if child.due_date is None:
            return None
        gestation = agemath.FULL_TERM_DAYS - (child.due_date - on).days
        weeks = gestation // 7
        if weeks < 4:
            return None
        return Stage("pregnancy_week", min(42, weeks))
    age = agemath.effective_age_on(child.birth_date, child.gestational_weeks_at_birth,
                                   child.gestational_days_at_birth, on)
    if age.months > 60:
        return None
    return stage_for_age_days(age.days, age.months)


def in_window(unit: str | None, low: int | None, high: int | None, stage: Stage) -> bool:
    return unit == stage.unit and low is not None and high is not None and \
        low <= stage.value <= high


def next_change(child: ChildDates, on: date) -> date | None:
    """The first date after `on` on which the child's stage may differ (None: never again).

    Lets the scheduler skip children until something can happen: candidates are the next
    pregnancy week, the next baby week or month counted from the birth and from the
    corrected birth date, day 91, and the end of age correction at 24 months.
    """
    current = stage_of(child, on)
    candidates: set[date] = set()
    if child.due_date is not None and (child.birth_date is None or on < child.birth_date):
        start = child.due_date - timedelta(days=agemath.FULL_TERM_DAYS)
        candidates.add(start + timedelta(days=7 * ((on - start).days // 7 + 1)))
    if child.birth_date is not None:
        bases = [child.birth_date]
        if agemath.is_preterm(child.gestational_weeks_at_birth, child.gestational_days_at_birth):
            early = agemath.FULL_TERM_DAYS - agemath.gestation_days_at_birth(
                child.gestational_weeks_at_birth or 0, child.gestational_days_at_birth or 0)
            bases.append(child.birth_date + timedelta(days=early))
            candidates.add(agemath.add_months(child.birth_date,
                                              agemath.CORRECTION_UNTIL_MONTHS))
        for base in bases:
            candidates.add(base)
            if on >= base:
                days = (on - base).days
                candidates.add(base + timedelta(days=7 * (days // 7 + 1)))
                candidates.add(base + timedelta(days=WEEK_STAGE_LAST_DAY + 1))
                candidates.add(agemath.add_months(base, agemath.age_on(base, on).months + 1))
    for candidate in sorted(c for c in candidates if c > on):
        if stage_of(child, candidate) != current:
            return candidate
    later = [c for c in candidates if c > on]
    return min(later) if later else None
