"""Tests for diary.age. Every expected value is written out literally, computed by hand."""

import dataclasses
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from diary.age import (
    CORRECTION_UNTIL_MONTHS,
    FULL_TERM_DAYS,
    PRETERM_WEEKS,
    Age,
    AgeParts,
    PregnancyProgress,
    add_months,
    age_on,
    corrected_age_on,
    describe_age,
    effective_age_on,
    gestation_days_at_birth,
    is_preterm,
    local_date,
    local_today,
    pregnancy_progress,
)

D = date
UTC = UTC


def test_constants():
    assert PRETERM_WEEKS == 37
    assert CORRECTION_UNTIL_MONTHS == 24
    assert FULL_TERM_DAYS == 280


# ---------------------------------------------------------------- pregnancy

DUE = D(2026, 6, 1)


@pytest.mark.parametrize(
    "on_date, expected",
    [
        # Jan 15 -> Jun 1 is 137 days; 280 - 137 = 143 = 20w3d
        (D(2026, 1, 15), PregnancyProgress(143, 20, 3, 2, 137, False)),
        # first day of pregnancy-equivalent: 280 days before due
        (D(2025, 8, 25), PregnancyProgress(0, 0, 0, 1, 280, False)),
        # trimester boundaries
        (D(2025, 11, 30), PregnancyProgress(97, 13, 6, 1, 183, False)),
        (D(2025, 12, 1), PregnancyProgress(98, 14, 0, 2, 182, False)),
        (D(2026, 3, 8), PregnancyProgress(195, 27, 6, 2, 85, False)),
        (D(2026, 3, 9), PregnancyProgress(196, 28, 0, 3, 84, False)),
        # day before due, on due date, after due date
        (D(2026, 5, 31), PregnancyProgress(279, 39, 6, 3, 1, False)),
        (D(2026, 6, 1), PregnancyProgress(280, 40, 0, 3, 0, False)),
        (D(2026, 6, 4), PregnancyProgress(283, 40, 3, 3, -3, True)),
        # due date passed, birth not yet recorded
        (D(2026, 6, 10), PregnancyProgress(289, 41, 2, 3, -9, True)),
        (D(2026, 6, 15), PregnancyProgress(294, 42, 0, 3, -14, True)),
        # last plausible day: 44+0
        (D(2026, 6, 29), PregnancyProgress(308, 44, 0, 3, -28, True)),
    ],
)
def test_pregnancy_progress(on_date, expected):
    assert pregnancy_progress(DUE, on_date) == expected


@pytest.mark.parametrize(
    "due, on_date, expected",
    [
        # across a leap day: 2028-01-01 -> 2028-03-01 is 31 + 29 = 60 days; 280 - 60 = 220 = 31w3d
        (D(2028, 3, 1), D(2028, 1, 1), PregnancyProgress(220, 31, 3, 3, 60, False)),
        # across a year end: 2025-12-20 -> 2026-01-10 is 21 days; 259 = 37w0d
        (D(2026, 1, 10), D(2025, 12, 20), PregnancyProgress(259, 37, 0, 3, 21, False)),
    ],
)
def test_pregnancy_progress_other_due_dates(due, on_date, expected):
    assert pregnancy_progress(due, on_date) == expected


@pytest.mark.parametrize(
    "on_date, message",
    [
        (D(2025, 8, 24), "not started"),   # gestation -1
        (D(2025, 1, 1), "not started"),
        (D(2026, 6, 30), "4 weeks overdue"),  # gestation 309
        (D(2027, 6, 1), "4 weeks overdue"),
    ],
)
def test_pregnancy_progress_out_of_range(on_date, message):
    with pytest.raises(ValueError, match=message):
        pregnancy_progress(DUE, on_date)


def test_pregnancy_progress_is_frozen():
    p = pregnancy_progress(DUE, D(2026, 1, 15))
    with pytest.raises(dataclasses.FrozenInstanceError):
        p.weeks = 1


# ---------------------------------------------------------------- add_months


@pytest.mark.parametrize(
    "d, months, expected",
    [
        (D(2026, 1, 31), 0, D(2026, 1, 31)),
        (D(2026, 1, 31), 1, D(2026, 2, 28)),
        (D(2024, 1, 31), 1, D(2024, 2, 29)),
        (D(2026, 1, 31), 2, D(2026, 3, 31)),
        (D(2026, 1, 31), 3, D(2026, 4, 30)),
        (D(2026, 3, 31), 1, D(2026, 4, 30)),
        (D(2024, 2, 29), 1, D(2024, 3, 29)),
        (D(2024, 2, 29), 12, D(2025, 2, 28)),
        (D(2024, 2, 29), 47, D(2028, 1, 29)),
        (D(2024, 2, 29), 48, D(2028, 2, 29)),
        (D(2025, 11, 30), 3, D(2026, 2, 28)),
        (D(2025, 12, 15), 1, D(2026, 1, 15)),
        (D(2025, 12, 31), 2, D(2026, 2, 28)),
        (D(2025, 5, 31), 13, D(2026, 6, 30)),
        (D(2026, 8, 31), 6, D(2027, 2, 28)),
        (D(2026, 1, 15), 25, D(2028, 2, 15)),
        (D(2026, 1, 1), 24, D(2028, 1, 1)),
    ],
)
def test_add_months(d, months, expected):
    assert add_months(d, months) == expected


def test_add_months_negative_raises():
    with pytest.raises(ValueError):
        add_months(D(2026, 1, 31), -1)


# ---------------------------------------------------------------- age_on


@pytest.mark.parametrize(
    "birth, on_date, expected",
    [
        # birth day
        (D(2026, 1, 1), D(2026, 1, 1), Age(0, 0, 0, 0, 0)),
        # born Jan 31: month ends
        (D(2026, 1, 31), D(2026, 2, 27), Age(27, 3, 0, 27, 0)),
        (D(2026, 1, 31), D(2026, 2, 28), Age(28, 4, 1, 0, 0)),
        (D(2026, 1, 31), D(2026, 3, 1), Age(29, 4, 1, 1, 0)),
        (D(2026, 1, 31), D(2026, 3, 30), Age(58, 8, 1, 30, 0)),
        (D(2026, 1, 31), D(2026, 3, 31), Age(59, 8, 2, 0, 0)),
        (D(2024, 1, 31), D(2024, 2, 29), Age(29, 4, 1, 0, 0)),
        (D(2026, 3, 31), D(2026, 4, 30), Age(30, 4, 1, 0, 0)),
        # born on a leap day
        (D(2024, 2, 29), D(2025, 2, 27), Age(364, 52, 11, 29, 0)),
        (D(2024, 2, 29), D(2025, 2, 28), Age(365, 52, 12, 0, 1)),
        (D(2024, 2, 29), D(2025, 3, 1), Age(366, 52, 12, 1, 1)),
        (D(2024, 2, 29), D(2028, 2, 28), Age(1460, 208, 47, 30, 3)),
        (D(2024, 2, 29), D(2028, 2, 29), Age(1461, 208, 48, 0, 4)),
        # year-end crossing
        (D(2025, 12, 31), D(2026, 1, 1), Age(1, 0, 0, 1, 0)),
        (D(2025, 12, 15), D(2026, 1, 14), Age(30, 4, 0, 30, 0)),
        (D(2025, 12, 15), D(2026, 1, 15), Age(31, 4, 1, 0, 0)),
        (D(2025, 12, 15), D(2026, 1, 20), Age(36, 5, 1, 5, 0)),
        # ordinary
        (D(2026, 1, 1), D(2026, 9, 1), Age(243, 34, 8, 0, 0)),
        (D(2026, 1, 1), D(2027, 1, 1), Age(365, 52, 12, 0, 1)),
        (D(2026, 1, 1), D(2027, 12, 31), Age(729, 104, 23, 30, 1)),
        (D(2026, 1, 1), D(2028, 1, 1), Age(730, 104, 24, 0, 2)),
    ],
)
def test_age_on(birth, on_date, expected):
    assert age_on(birth, on_date) == expected


def test_age_on_before_birth_raises():
    with pytest.raises(ValueError):
        age_on(D(2026, 1, 2), D(2026, 1, 1))


def test_age_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        age_on(D(2026, 1, 1), D(2026, 2, 1)).days = 3


# ---------------------------------------------------------------- gestation / preterm


@pytest.mark.parametrize(
    "weeks, days, expected",
    [(22, 0, 154), (32, 0, 224), (36, 6, 258), (37, 0, 259), (40, 0, 280), (44, 6, 314)],
)
def test_gestation_days_at_birth(weeks, days, expected):
    assert gestation_days_at_birth(weeks, days) == expected


@pytest.mark.parametrize("weeks, days", [(21, 6), (45, 0), (30, 7), (30, -1), (0, 0)])
def test_gestation_days_at_birth_invalid(weeks, days):
    with pytest.raises(ValueError):
        gestation_days_at_birth(weeks, days)


@pytest.mark.parametrize(
    "weeks, days, expected",
    [
        (None, 0, False),
        (None, None, False),
        (24, 3, True),
        (32, 0, True),
        (36, 6, True),
        (36, None, True),
        (37, 0, False),
        (37, None, False),
        (40, 0, False),
    ],
)
def test_is_preterm(weeks, days, expected):
    assert is_preterm(weeks, days) is expected


def test_is_preterm_default_days():
    assert is_preterm(36) is True
    assert is_preterm(37) is False


# ---------------------------------------------------------------- corrected age

BORN = D(2026, 1, 1)  # at 32+0: 56 days early, corrected birth date 2026-02-26


@pytest.mark.parametrize(
    "ga_weeks, ga_days, on_date, expected",
    [
        # chronological 243 days / 8 months; corrected 187 days, 6 months 6 days
        (32, 0, D(2026, 9, 1), Age(187, 26, 6, 6, 0)),
        # corrected birth day itself
        (32, 0, D(2026, 2, 26), Age(0, 0, 0, 0, 0)),
        # last day before 24 chronological months (23 months 30 days)
        (32, 0, D(2027, 12, 31), Age(673, 96, 22, 5, 1)),
        # ga_days None is treated as 0
        (32, None, D(2026, 9, 1), Age(187, 26, 6, 6, 0)),
        # 36+6: 22 days early, corrected birth 2026-01-23
        (36, 6, D(2026, 2, 23), Age(31, 4, 1, 0, 0)),
        # still before the due date: negative days, everything else 0
        (32, 0, D(2026, 1, 1), Age(-56, 0, 0, 0, 0)),
        (32, 0, D(2026, 1, 15), Age(-42, 0, 0, 0, 0)),
        (32, 0, D(2026, 2, 25), Age(-1, 0, 0, 0, 0)),
    ],
)
def test_corrected_age_applies(ga_weeks, ga_days, on_date, expected):
    assert corrected_age_on(BORN, ga_weeks, ga_days, on_date) == expected


@pytest.mark.parametrize(
    "ga_weeks, ga_days, on_date",
    [
        (32, 0, D(2028, 1, 1)),   # exactly 24 months chronological
        (32, 0, D(2030, 6, 1)),
        (37, 0, D(2026, 9, 1)),   # term
        (40, 0, D(2026, 9, 1)),
        (None, None, D(2026, 9, 1)),  # unknown = assume term
        (None, 0, D(2026, 9, 1)),
    ],
)
def test_corrected_age_does_not_apply(ga_weeks, ga_days, on_date):
    assert corrected_age_on(BORN, ga_weeks, ga_days, on_date) is None


def test_corrected_age_before_birth_raises():
    with pytest.raises(ValueError):
        corrected_age_on(BORN, 32, 0, D(2025, 12, 31))


@pytest.mark.parametrize(
    "ga_weeks, ga_days, on_date, expected",
    [
        # corrected applies
        (32, 0, D(2026, 9, 1), Age(187, 26, 6, 6, 0)),
        (32, 0, D(2026, 2, 26), Age(0, 0, 0, 0, 0)),
        # corrected would be negative -> chronological
        (32, 0, D(2026, 1, 15), Age(14, 2, 0, 14, 0)),
        # 24 months reached -> chronological
        (32, 0, D(2028, 1, 1), Age(730, 104, 24, 0, 2)),
        # term or unknown -> chronological
        (37, 0, D(2026, 9, 1), Age(243, 34, 8, 0, 0)),
        (None, None, D(2026, 9, 1), Age(243, 34, 8, 0, 0)),
    ],
)
def test_effective_age_on(ga_weeks, ga_days, on_date, expected):
    assert effective_age_on(BORN, ga_weeks, ga_days, on_date) == expected


# ---------------------------------------------------------------- describe_age


@pytest.mark.parametrize(
    "birth, on_date, expected",
    [
        (D(2026, 1, 1), D(2026, 1, 1), AgeParts("days", 0, None, 0)),
        (D(2026, 1, 1), D(2026, 1, 14), AgeParts("days", 13, None, 0)),
        (D(2026, 1, 1), D(2026, 1, 15), AgeParts("weeks", 2, "days", 0)),
        (D(2026, 1, 1), D(2026, 1, 18), AgeParts("weeks", 2, "days", 3)),
        # 101 days = 14 weeks 3 days, 3 months
        (D(2026, 1, 1), D(2026, 4, 12), AgeParts("weeks", 14, "days", 3)),
        # 3 months 30 days (121 days) is still said in weeks
        (D(2026, 3, 31), D(2026, 7, 30), AgeParts("weeks", 17, "days", 2)),
        # exactly 4 months
        (D(2026, 1, 1), D(2026, 5, 1), AgeParts("months", 4, "weeks", 0)),
        # 5 months 14 days
        (D(2026, 1, 1), D(2026, 6, 15), AgeParts("months", 5, "weeks", 2)),
        (D(2026, 1, 1), D(2027, 1, 1), AgeParts("months", 12, "weeks", 0)),
        # 23 months 29 days
        (D(2026, 1, 1), D(2027, 12, 30), AgeParts("months", 23, "weeks", 4)),
        # 24 months
        (D(2026, 1, 1), D(2028, 1, 1), AgeParts("years", 2, "months", 0)),
        # 29 months 19 days
        (D(2026, 1, 1), D(2028, 6, 20), AgeParts("years", 2, "months", 5)),
        (D(2024, 2, 29), D(2028, 2, 29), AgeParts("years", 4, "months", 0)),
    ],
)
def test_describe_age(birth, on_date, expected):
    assert describe_age(age_on(birth, on_date)) == expected


@pytest.mark.parametrize(
    "age, expected",
    [
        (Age(13, 1, 0, 13, 0), AgeParts("days", 13, None, 0)),
        (Age(14, 2, 0, 14, 0), AgeParts("weeks", 2, "days", 0)),
        (Age(-42, 0, 0, 0, 0), AgeParts("days", -42, None, 0)),
    ],
)
def test_describe_age_direct(age, expected):
    assert describe_age(age) == expected


# ---------------------------------------------------------------- local dates


@pytest.mark.parametrize(
    "instant, tz_name, expected",
    [
        # London: BST starts 2026-03-29 01:00 UTC
        (datetime(2026, 3, 28, 23, 30, tzinfo=UTC), "Europe/London", D(2026, 3, 28)),
        (datetime(2026, 3, 29, 0, 30, tzinfo=UTC), "Europe/London", D(2026, 3, 29)),
        (datetime(2026, 3, 29, 23, 30, tzinfo=UTC), "Europe/London", D(2026, 3, 30)),
        # New York: EDT (UTC-4) ends 2026-11-01 06:00 UTC, then EST (UTC-5)
        (datetime(2026, 11, 1, 3, 30, tzinfo=UTC), "America/New_York", D(2026, 10, 31)),
        (datetime(2026, 11, 1, 4, 30, tzinfo=UTC), "America/New_York", D(2026, 11, 1)),
        (datetime(2026, 11, 2, 4, 30, tzinfo=UTC), "America/New_York", D(2026, 11, 1)),
        (datetime(2026, 11, 2, 5, 30, tzinfo=UTC), "America/New_York", D(2026, 11, 2)),
        # Shanghai: UTC+8
        (datetime(2026, 1, 31, 15, 59, tzinfo=UTC), "Asia/Shanghai", D(2026, 1, 31)),
        (datetime(2026, 1, 31, 16, 30, tzinfo=UTC), "Asia/Shanghai", D(2026, 2, 1)),
        # non-UTC aware input: 01:30+02:00 is 23:30 UTC the previous day
        (
            datetime(2026, 3, 29, 1, 30, tzinfo=timezone(timedelta(hours=2))),
            "Europe/London",
            D(2026, 3, 28),
        ),
        (datetime(2026, 1, 31, 16, 30, tzinfo=UTC), "UTC", D(2026, 1, 31)),
    ],
)
def test_local_date(instant, tz_name, expected):
    assert local_date(instant, tz_name) == expected


def test_local_date_naive_raises():
    with pytest.raises(ValueError):
        local_date(datetime(2026, 1, 1, 12, 0), "Europe/London")


def test_local_today_with_now():
    now = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    assert local_today("Asia/Shanghai", now=now) == D(2026, 2, 1)
    assert local_today("America/New_York", now=now) == D(2026, 1, 31)


def test_local_today_naive_now_raises():
    with pytest.raises(ValueError):
        local_today("Asia/Shanghai", now=datetime(2026, 1, 1))


def test_local_today_default_is_near_utc_today():
    before = datetime.now(UTC).date()
    today = local_today("Asia/Shanghai")
    after = datetime.now(UTC).date()
    assert isinstance(today, date)
    # Shanghai is UTC+8: its date is the UTC date or the day after
    assert before <= today <= after + timedelta(days=1)


def test_shanghai_baby_is_zero_days_old_at_birth():
    # born 2026-02-01 00:30 Shanghai time = 2026-01-31 16:30 UTC
    birth_instant = datetime(2026, 1, 31, 16, 30, tzinfo=UTC)
    assert birth_instant.date() == D(2026, 1, 31)  # UTC date is the day before
    birth_date = local_date(birth_instant, "Asia/Shanghai")
    assert birth_date == D(2026, 2, 1)
    assert age_on(birth_date, local_today("Asia/Shanghai", now=birth_instant)) == Age(0, 0, 0, 0, 0)
    # 23:59 local the same day is still day 0; local midnight starts day 1
    late = datetime(2026, 2, 1, 15, 59, tzinfo=UTC)
    assert age_on(birth_date, local_today("Asia/Shanghai", now=late)).days == 0
    midnight = datetime(2026, 2, 1, 16, 0, tzinfo=UTC)
    assert age_on(birth_date, local_today("Asia/Shanghai", now=midnight)).days == 1
