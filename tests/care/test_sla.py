"""The first-response clock in business hours (care.sla): pure functions, fixed dates."""
from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from care import sla

SHANGHAI = sla.Calendar("Asia/Shanghai", time(9), time(18), frozenset(range(5)))
#: China's national holiday week of 2026 (Thursday 1 to Wednesday 7 October).
GOLDEN_WEEK = frozenset(date(2026, 10, d) for d in range(1, 8))


def local(zone: str, *args: int) -> datetime:
    return datetime(*args, tzinfo=ZoneInfo(zone))


def shanghai(*args: int) -> datetime:
    return local("Asia/Shanghai", *args)


@pytest.mark.parametrize(("opened", "hours", "due"), [
    # Monday 10:00: 8 h on Monday, 9 on Tuesday, 7 on Wednesday → Wednesday 16:00
    (shanghai(2026, 11, 23, 10, 0), 24, shanghai(2026, 11, 25, 16, 0)),
    # inside one day
    (shanghai(2026, 11, 23, 10, 0), 2, shanghai(2026, 11, 23, 12, 0)),
    # exactly at closing time: the rest of the hour is the next morning
    (shanghai(2026, 11, 23, 17, 0), 1, shanghai(2026, 11, 23, 18, 0)),
    (shanghai(2026, 11, 23, 17, 30), 1, shanghai(2026, 11, 24, 9, 30)),
    # opened before opening: counts from 09:00
    (shanghai(2026, 11, 23, 6, 15), 3, shanghai(2026, 11, 23, 12, 0)),
    # opened at night on a Friday: counts from Monday 09:00 (9 + 9 + 6)
    (shanghai(2026, 11, 27, 20, 0), 24, shanghai(2026, 12, 2, 15, 0)),
    # opened on Saturday and on Sunday: the same due time
    (shanghai(2026, 11, 28, 11, 0), 24, shanghai(2026, 12, 2, 15, 0)),
    (shanghai(2026, 11, 29, 23, 59), 24, shanghai(2026, 12, 2, 15, 0)),
    # Friday afternoon across the weekend
    (shanghai(2026, 11, 27, 16, 0), 4, shanghai(2026, 11, 30, 11, 0)),
    # a promise of no time at all is due when opened
    (shanghai(2026, 11, 23, 10, 0), 0, shanghai(2026, 11, 23, 10, 0)),
    # a leap day is a working day like any other
    (shanghai(2028, 2, 28, 17, 0), 2, shanghai(2028, 2, 29, 10, 0)),
])
def test_due_time_counts_only_opening_hours_on_working_days(opened, hours, due):
    assert sla.due_at(opened, hours, SHANGHAI) == due.astimezone(UTC)


def test_holidays_are_skipped_like_weekends():
    calendar = sla.Calendar("Asia/Shanghai", holidays=GOLDEN_WEEK)
    # Wednesday 30 September 17:00, two hours: one that day, one on Thursday 8 October
    assert sla.due_at(shanghai(2026, 9, 30, 17), 2, calendar) == \
        shanghai(2026, 10, 8, 10).astimezone(UTC)
    # opened during the holiday: counts from the first working morning after it
    assert sla.due_at(shanghai(2026, 10, 3, 12), 24, calendar) == \
        shanghai(2026, 10, 12, 15).astimezone(UTC)  # Thu 9 + Fri 9 + Mon 6
    # without the holiday it would have been due in the holiday week
    assert sla.due_at(shanghai(2026, 9, 30, 17), 2, SHANGHAI) == \
        shanghai(2026, 10, 1, 10).astimezone(UTC)


def test_weekend_working_days_are_configurable():
    six_days = sla.Calendar("Asia/Shanghai", weekdays=frozenset(range(6)))
    assert sla.due_at(shanghai(2026, 11, 27, 16), 4, six_days) == \
        shanghai(2026, 11, 28, 11).astimezone(UTC)  # Saturday counts


def test_the_same_moment_is_due_at_different_times_in_different_zones():
    opened = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # 12:00 in Shanghai, 04:00 in London
    london = sla.Calendar("Europe/London")
    assert sla.due_at(opened, 8, SHANGHAI) == shanghai(2026, 11, 24, 11).astimezone(UTC)
    assert sla.due_at(opened, 8, london) == local("Europe/London", 2026, 11, 23, 17) \
        .astimezone(UTC)
    # the moment given in another zone's offset is the same moment
    assert sla.due_at(opened.astimezone(ZoneInfo("America/New_York")), 8, SHANGHAI) == \
        sla.due_at(opened, 8, SHANGHAI)


def test_shanghai_has_no_daylight_saving_time():
    """Every working day in Shanghai is nine hours, all year round (UTC+8 always)."""
    for month in range(1, 13):
        day = date(2026, month, 15)
        low, high = SHANGHAI.window(day)
        assert high - low == timedelta(hours=9)
        assert low.hour == 1 and low.minute == 0  # 09:00 + 08:00 = 01:00 UTC


def test_opening_hours_follow_the_wall_clock_across_a_dst_change():
    """Berlin leaves summer time on Sunday 25 October 2026: Friday 09:00 is 07:00 UTC,
    Monday 09:00 is 08:00 UTC."""
    berlin = sla.Calendar("Europe/Berlin")
    opened = local("Europe/Berlin", 2026, 10, 23, 17)  # Friday, CEST (UTC+2)
    due = sla.due_at(opened, 2, berlin)
    assert due == datetime(2026, 10, 26, 9, 0, tzinfo=UTC)  # Monday 10:00 CET
    assert due.astimezone(ZoneInfo("Europe/Berlin")).hour == 10
    assert sla.business_time(opened, due, berlin) == timedelta(hours=2)
    # spring: clocks jump 02:00 → 03:00 on Sunday 29 March; a Sunday team working 01:00 to
    # 05:00 that night works three real hours, not four
    night = sla.Calendar("Europe/Berlin", time(1), time(5), frozenset({6}))
    low, high = night.window(date(2026, 3, 29))
    assert high - low == timedelta(hours=3)
    assert sla.business_time(datetime(2026, 3, 28, tzinfo=UTC),
                             datetime(2026, 3, 30, tzinfo=UTC), night) == timedelta(hours=3)
    assert sla.due_at(datetime(2026, 3, 28, tzinfo=UTC), 3.5, night) == \
        local("Europe/Berlin", 2026, 4, 5, 1, 30).astimezone(UTC)


def test_new_york_autumn_change_adds_no_hour_to_a_nine_to_six_day():
    new_york = sla.Calendar("America/New_York", weekdays=frozenset(range(7)))
    low, high = new_york.window(date(2026, 11, 1))  # the day clocks go back
    assert high - low == timedelta(hours=9)
    assert sla.due_at(local("America/New_York", 2026, 10, 31, 17), 2, new_york) == \
        local("America/New_York", 2026, 11, 1, 10).astimezone(UTC)


def test_business_time_between_two_moments():
    monday = shanghai(2026, 11, 23, 10)
    assert sla.business_time(monday, shanghai(2026, 11, 25, 16), SHANGHAI) == \
        timedelta(hours=24)
    assert sla.business_time(shanghai(2026, 11, 25, 16), monday, SHANGHAI) == \
        timedelta(hours=-24)
    # a whole weekend is no business time
    assert sla.business_time(shanghai(2026, 11, 28, 0), shanghai(2026, 11, 30, 9),
                             SHANGHAI) == timedelta(0)
    # due_at and business_time agree
    for hours in (0.5, 1, 9, 10, 24, 48, 100):
        due = sla.due_at(shanghai(2026, 11, 27, 20), hours, SHANGHAI)
        assert sla.business_time(shanghai(2026, 11, 27, 20), due, SHANGHAI) == \
            timedelta(hours=hours)


def test_standing_breached_near_and_answered():
    policy = sla.Policy(SHANGHAI, 24, {"privacy": 72}, near_hours=4)
    opened = shanghai(2026, 11, 23, 10)
    due = sla.due_at(opened, policy.hours_for("question"), SHANGHAI)
    assert policy.hours_for("privacy") == 72.0 and policy.hours_for("site") == 24.0
    early = sla.standing(due, None, shanghai(2026, 11, 24, 9), policy)
    assert (early.breached, early.near, early.left) == (False, False, timedelta(hours=16))
    near = sla.standing(due, None, shanghai(2026, 11, 25, 13), policy)
    assert (near.breached, near.near, near.left) == (False, True, timedelta(hours=3))
    late = sla.standing(due, None, shanghai(2026, 11, 26, 10), policy)
    assert (late.breached, late.near, late.left) == (True, False, timedelta(hours=-3))
    # answered in time stays in time however late it is now; answered late stays breached
    kept = sla.standing(due, shanghai(2026, 11, 25, 15), shanghai(2027, 1, 1), policy)
    assert (kept.breached, kept.near) == (False, False)
    broken = sla.standing(due, shanghai(2026, 11, 25, 17), shanghai(2026, 11, 25, 17), policy)
    assert (broken.breached, broken.near) == (True, False)


def test_bad_calendars_and_naive_times_are_refused():
    with pytest.raises(ValueError):
        sla.Calendar("Asia/Shanghai", time(18), time(9))
    with pytest.raises(ValueError):
        sla.Calendar("Asia/Shanghai", weekdays=frozenset())
    with pytest.raises(ValueError):
        sla.Calendar("Asia/Shanghai", weekdays=frozenset({7}))
    with pytest.raises(Exception):  # noqa: B017 - ZoneInfoNotFoundError
        sla.Calendar("Mars/Olympus")
    with pytest.raises(ValueError):
        sla.due_at(datetime(2026, 11, 23, 10), 1, SHANGHAI)
    every_day_off = sla.Calendar("Asia/Shanghai", weekdays=frozenset({0}),
                                 holidays=frozenset(date(2026, 11, 23) + timedelta(weeks=w)
                                                    for w in range(200)))
    with pytest.raises(ValueError):
        sla.due_at(shanghai(2026, 11, 23, 10), 1, every_day_off)


def test_settings_are_parsed_from_their_text():
    assert sla.parse_hours("08:30-17:30") == (time(8, 30), time(17, 30))
    assert sla.parse_weekdays("0-4") == frozenset(range(5))
    assert sla.parse_weekdays("0,1, 5-6") == frozenset({0, 1, 5, 6})
    assert sla.parse_holidays("2026-10-01, 2026-10-02,") == {date(2026, 10, 1),
                                                             date(2026, 10, 2)}
    assert sla.parse_category_hours("privacy=72, complaint=8") == {"privacy": 72.0,
                                                                   "complaint": 8.0}
    with pytest.raises(ValueError):
        sla.parse_hours("9 to 5")
