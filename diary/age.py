"""Ages and pregnancy progress as pure functions of dates.

Why pure functions: nothing here is stored. A baby's age, corrected age or
week of pregnancy is recomputed from (birth or due date, today) whenever it is
needed, so it can never go stale and can be computed for any past or future day.

Why local dates: every date here is a local calendar date in the family's
timezone. "Today" for a family in Shanghai is not the UTC date, so instants are
converted with :func:`local_date` / :func:`local_today` before any arithmetic.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import clock

PRETERM_WEEKS = 37            # born before 37+0 weeks is preterm
CORRECTION_UNTIL_MONTHS = 24  # corrected age used until 24 months chronological age
FULL_TERM_DAYS = 280          # 40 weeks

_MIN_GA_WEEKS = 22
_MAX_GA_WEEKS = 44
_MAX_GESTATION_DAYS = _MAX_GA_WEEKS * 7  # more than 4 weeks overdue is implausible


def local_date(instant: datetime, tz_name: str) -> date:
    """Calendar date of `instant` in zone `tz_name`.

    Why: a day boundary is local; a naive datetime is ambiguous, so it is refused.
    """
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    return instant.astimezone(ZoneInfo(tz_name)).date()


def local_today(tz_name: str, now: datetime | None = None) -> date:
    """Today's date for a family in `tz_name`; `now` is injectable so callers stay testable."""
    return local_date(now if now is not None else clock.utcnow(), tz_name)


@dataclass(frozen=True)
class PregnancyProgress:
    """Where a pregnancy stands on one day, counted from the due date (40+0)."""

    gestation_days: int   # 280 - days_to_due
    weeks: int            # gestation_days // 7
    days: int             # gestation_days % 7
    trimester: int        # 1: weeks 0-13, 2: weeks 14-27, 3: week 28 onwards
    days_to_due: int      # negative when overdue
    overdue: bool         # due date passed and no birth recorded yet


def pregnancy_progress(due_date: date, on_date: date) -> PregnancyProgress:
    """Gestational age on `on_date`, derived from the due date alone.

    Why: the due date is what parents know; 40+0 falls on it by definition.
    Raises ValueError before the pregnancy began (gestation < 0 days) or when the
    due date is implausibly far past (more than 4 weeks overdue, > 44+0).
    """
    days_to_due = (due_date - on_date).days
    gestation_days = FULL_TERM_DAYS - days_to_due
    if gestation_days < 0:
        raise ValueError(
            f"{on_date} is more than {FULL_TERM_DAYS} days before the due date {due_date}: "
            "the pregnancy has not started yet"
        )
    if gestation_days > _MAX_GESTATION_DAYS:
        raise ValueError(
            f"due date {due_date} is implausibly far in the past on {on_date}: "
            f"more than 4 weeks overdue (over {_MAX_GA_WEEKS}+0 weeks)"
        )
    weeks, days = divmod(gestation_days, 7)
    trimester = 1 if weeks <= 13 else 2 if weeks <= 27 else 3
    return PregnancyProgress(gestation_days, weeks, days, trimester, days_to_due,
                             on_date > due_date)


@dataclass(frozen=True)
class Age:
    """An age as calendar arithmetic gives it; all fields are whole numbers."""

    days: int        # total days since birth (0 on the birth day)
    weeks: int       # days // 7
    months: int      # whole calendar months completed
    month_days: int  # days after the last whole month
    years: int       # months // 12


def add_months(d: date, months: int) -> date:
    """`d` plus whole calendar months, clamped to month end (Jan 31 + 1 -> Feb 28/29).

    Why: this defines what "one month old" means; the clamp keeps month-end and
    leap-day babies from skipping a monthly milestone.
    """
    if months < 0:
        raise ValueError("months must be non-negative")
    year, month0 = divmod(d.year * 12 + d.month - 1 + months, 12)
    month = month0 + 1
    return date(year, month, min(d.day, calendar.monthrange(year, month)[1]))


def age_on(birth_date: date, on_date: date) -> Age:
    """Chronological age on `on_date`.

    months is the largest m with add_months(birth_date, m) <= on_date, so a baby
    born Jan 31 is one month old on Feb 28 and a Feb 29 baby is one year old on
    Feb 28 of a non-leap year. Raises ValueError if on_date precedes birth.
    """
    if on_date < birth_date:
        raise ValueError(f"{on_date} is before the birth date {birth_date}")
    months = (on_date.year - birth_date.year) * 12 + on_date.month - birth_date.month
    if add_months(birth_date, months) > on_date:
        months -= 1  # add_months(birth_date, months) lands in on_date's month; one back is enough
    days = (on_date - birth_date).days
    month_days = (on_date - add_months(birth_date, months)).days
    return Age(days, days // 7, months, month_days, months // 12)


def gestation_days_at_birth(weeks: int, days: int) -> int:
    """Gestational age at birth in days; rejects weeks outside 22-44 or days outside 0-6."""
    if not _MIN_GA_WEEKS <= weeks <= _MAX_GA_WEEKS:
        raise ValueError(f"gestational weeks must be {_MIN_GA_WEEKS}-{_MAX_GA_WEEKS}, got {weeks}")
    if not 0 <= days <= 6:
        raise ValueError(f"gestational days must be 0-6, got {days}")
    return weeks * 7 + days


def is_preterm(ga_weeks: int | None, ga_days: int | None = 0) -> bool:
    """True if born before 37+0. Unknown gestation (None) is assumed term, so False."""
    if ga_weeks is None:
        return False
    return gestation_days_at_birth(ga_weeks, ga_days or 0) < PRETERM_WEEKS * 7


def corrected_age_on(
    birth_date: date, ga_weeks: int | None, ga_days: int | None, on_date: date
) -> Age | None:
    """Age counted from the date a preterm baby would have been due.

    Why: preterm babies' development tracks their due date, not their birth date,
    until 24 months chronological age. Returns None when correction does not
    apply (not preterm, or chronological age >= 24 whole months).

    Before the corrected date the result has days = -(days until the due date)
    and weeks, months, month_days and years all 0; the caller shows it as
    "N weeks before due date".
    """
    if ga_weeks is None or not is_preterm(ga_weeks, ga_days):
        return None
    if age_on(birth_date, on_date).months >= CORRECTION_UNTIL_MONTHS:
        return None
    early_days = FULL_TERM_DAYS - gestation_days_at_birth(ga_weeks, ga_days or 0)
    corrected_birth = birth_date + timedelta(days=early_days)
    if on_date < corrected_birth:
        return Age((on_date - corrected_birth).days, 0, 0, 0, 0)
    return age_on(corrected_birth, on_date)


def effective_age_on(
    birth_date: date, ga_weeks: int | None, ga_days: int | None, on_date: date
) -> Age:
    """The age stage and growth code should use: corrected when it applies and is
    not negative, chronological otherwise."""
    corrected = corrected_age_on(birth_date, ga_weeks, ga_days, on_date)
    if corrected is not None and corrected.days >= 0:
        return corrected
    return age_on(birth_date, on_date)


@dataclass(frozen=True)
class AgeParts:
    """An age as a parent would say it: a main number and an optional smaller one."""

    unit: str               # "days" | "weeks" | "months" | "years"
    major: int
    minor_unit: str | None  # "days" | "weeks" | "months" | None
    minor: int


def describe_age(age: Age) -> AgeParts:
    """Pick the units a parent would use: days under 2 weeks, weeks under 4 months,
    months under 2 years, then years. A negative-days Age (before the corrected
    due date) is reported in days."""
    if age.days < 14:
        return AgeParts("days", age.days, None, 0)
    if age.months < 4:
        return AgeParts("weeks", age.weeks, "days", age.days % 7)
    if age.months < 24:
        return AgeParts("months", age.months, "weeks", age.month_days // 7)
    return AgeParts("years", age.years, "months", age.months % 12)
