"""The sane range of every value a person types: numbers that are numbers, dates one can mean.

Why one module: a form parses text, but what a number or a date may be is a rule of the
domain, shared by the diary, the content studio and the journeys (which import diary, never
the reverse). Python's `Decimal` accepts "NaN", "sNaN" and "Infinity" (an sNaN even raises
when compared), and Python's dates run from year 1 to 9999, so a local time near either end
overflows when it is converted to UTC. Both are refused here, with a message fit to show,
before any arithmetic, time-zone conversion or SQL sees them.
"""
from __future__ import annotations

import math
from datetime import UTC, date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from db import INT_MAX
from diary.errors import N_, ValidationError

#: No baby's book, article or schedule is dated outside these days. Far enough from Python's
#: year 1 and 9999 that converting between any two time zones cannot overflow.
EARLIEST_DATE = date(1900, 1, 1)
LATEST_DATE = date(2200, 12, 31)

DATE_MESSAGE = N_("Please enter a date between %(low)s and %(high)s.")
NUMBER_MESSAGE = N_("Please enter a number, such as 3.5.")


def check_date(value: date | datetime, field: str | None = None) -> None:
    """Raise ValidationError unless `value` (a date, or a datetime's own calendar day) lies
    between EARLIEST_DATE and LATEST_DATE."""
    day = value.date() if isinstance(value, datetime) else value
    if not EARLIEST_DATE <= day <= LATEST_DATE:
        raise ValidationError(DATE_MESSAGE, field, low=EARLIEST_DATE.isoformat(),
                              high=LATEST_DATE.isoformat())


def check_instant(instant: datetime, field: str | None = None) -> None:
    """An aware datetime within the range (checked on its own wall-clock day, which is
    within a day of its UTC day, so the UTC conversion that follows cannot overflow)."""
    if instant.tzinfo is None or instant.utcoffset() is None:
        raise ValueError("instant must be timezone-aware")
    check_date(instant, field)


def local_to_utc(local: datetime, tz: str, field: str | None = None) -> datetime:
    """A wall-clock time typed in zone `tz` as an aware UTC instant; ValidationError (not
    OverflowError) for days outside the range."""
    check_date(local, field)
    return local.replace(tzinfo=ZoneInfo(tz)).astimezone(UTC)


def finite_number(value: Decimal | float | int | str | None,
                  field: str | None = None) -> float | None:
    """`value` as a float, None when empty; ValidationError for NaN, sNaN, infinities and
    numbers too large for a float ("1e999"), whose comparisons and sums mean nothing."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        number = Decimal(value.strip()) if isinstance(value, str) else value
        if isinstance(number, Decimal) and not number.is_finite():
            raise ValueError("not finite")
        result = float(number)
    except (ArithmeticError, ValueError, TypeError):
        raise ValidationError(NUMBER_MESSAGE, field) from None
    if not math.isfinite(result):
        raise ValidationError(NUMBER_MESSAGE, field)
    return result


def is_row_id(value: int | None) -> bool:
    """Whether `value` can name a row: ids are positive and fit the Integer columns
    (PostgreSQL's int4), so a larger number would fail in SQL rather than find nothing."""
    return value is not None and 1 <= value <= INT_MAX
