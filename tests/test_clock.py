"""The project's clock and the suite's ways of moving it."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest

import clock
from tests.conftest import months_before


def test_today_is_the_zones_calendar_day():
    late = datetime(2026, 12, 6, 16, 30, tzinfo=UTC)  # 00:30 on the 7th in Shanghai
    assert clock.today_in("Asia/Shanghai", late) == date(2026, 12, 7)
    assert clock.today_in("Europe/London", late) == date(2026, 12, 6)
    assert clock.today_in("America/Los_Angeles", late) == date(2026, 12, 6)


def test_a_naive_instant_is_refused():
    with pytest.raises(ValueError):
        clock.today_in("Asia/Shanghai", datetime(2026, 12, 6, 12, 0))


@pytest.mark.clock_at("2028-02-29T15:00")
def test_the_marker_moves_every_clock_of_the_process():
    assert clock.utcnow().date() == date(2028, 2, 29)
    assert clock.today_in("Asia/Shanghai") == date(2028, 2, 29)  # 23:00 there
    assert datetime.now(UTC).date() == date(2028, 2, 29)


def test_the_fixture_moves_the_clock_for_one_test(clock_at):
    clock_at("2027-03-31T23:30")
    assert clock.utcnow().replace(second=0, microsecond=0) == \
        datetime(2027, 3, 31, 23, 30, tzinfo=UTC)
    assert clock.today_in("Asia/Shanghai") == date(2027, 4, 1)


@pytest.mark.parametrize("day, months, expected", [
    (date(2027, 3, 31), 1, date(2027, 2, 28)),
    (date(2028, 2, 29), 12, date(2027, 2, 28)),
    (date(2027, 3, 31), 9, date(2026, 6, 30)),
    (date(2026, 12, 6), 9, date(2026, 3, 6)),
])
def test_months_before_clamps_to_the_month_end(day, months, expected):
    assert months_before(day, months) == expected
