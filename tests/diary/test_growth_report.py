"""A child's growth series and trend, with hand-computed expectations."""
from __future__ import annotations

from datetime import date, timedelta

import pytest

from diary import growth, growth_report
from diary.errors import ValidationError
from diary.growth_report import Sample


class FakeFamily:
    timezone = "Asia/Shanghai"


class FakeChild:
    """Just the fields growth_report reads (no database needed for the maths)."""

    def __init__(self, birth: date, sex: str = "female", ga: int | None = None) -> None:
        self.birth_date, self.sex = birth, sex
        self.gestational_weeks_at_birth, self.gestational_days_at_birth = ga, 0 if ga else None
        self.family = FakeFamily()
        self.is_born = True


BIRTH = date(2026, 1, 1)


def test_velocity_and_change_hand_computed():
    child = FakeChild(BIRTH)
    rows = [Sample(BIRTH, None, 3.3, 50.0, 34.0),
            Sample(BIRTH + timedelta(days=28), 1, 4.3, None, None),
            Sample(BIRTH + timedelta(days=61), 2, None, 54.0, None)]
    weight = growth_report.series(child, "wfa", rows)
    trend = growth_report.trend("wfa", weight)
    assert trend.change == pytest.approx(1.0) and trend.days == 28
    assert trend.velocity == pytest.approx(250.0)  # 1000 g over 4 weeks
    length = growth_report.trend("lhfa", growth_report.series(child, "lhfa", rows))
    assert length.velocity == pytest.approx(4 / 61 * 30.4375)  # 1.996 cm a month
    assert [p.entry_id for p in growth_report.series(child, "bmifa", rows)] == [None]


def test_points_carry_who_z_and_percentile():
    child = FakeChild(BIRTH, sex="male")
    rows = [Sample(BIRTH + timedelta(days=274), 7, 8.0229, None, None)]
    (point,) = growth_report.series(child, "wfa", rows)
    assert round(point.z, 3) == -0.951 and round(point.percentile, 1) == 17.1


def test_crossing_two_lines_within_six_months():
    child = FakeChild(BIRTH)
    day = lambda n: BIRTH + timedelta(days=n)  # noqa: E731
    high = growth.value_at("wfa", "female", 100, 1.5)  # between P85 and P97
    mid = growth.value_at("wfa", "female", 160, 0.5)  # crossed P85
    low = growth.value_at("wfa", "female", 220, -0.5)  # crossed P85 and P50
    rows = [Sample(day(100), 1, high, None, None), Sample(day(160), 2, mid, None, None),
            Sample(day(220), 3, low, None, None)]
    trend = growth_report.trend("wfa", growth_report.series(child, "wfa", rows))
    assert (trend.crossed_lines, trend.crossed_since) == (2, day(100))
    old_rows = [Sample(day(10), 1, growth.value_at("wfa", "female", 10, 1.5), None, None),
                rows[-1]]  # the big change is older than the six-month window
    trend = growth_report.trend("wfa", growth_report.series(child, "wfa", old_rows))
    assert trend.crossed_lines == 0


def test_preterm_before_due_date_is_left_off_and_corrected_after():
    child = FakeChild(BIRTH, ga=30)  # 70 days early
    rows = [Sample(BIRTH + timedelta(days=20), 1, 1.6, None, None),
            Sample(BIRTH + timedelta(days=100), 2, 4.0, None, None)]
    points = growth_report.series(child, "wfa", rows)
    assert [(p.entry_id, p.age_days, p.corrected) for p in points] == [(2, 30, True)]


def test_unknown_chart_is_refused():
    with pytest.raises(ValidationError):
        growth_report.series(FakeChild(BIRTH), "xyz", [])
