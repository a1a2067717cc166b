"""The domain's ranges for typed values, and which entry kinds fit a child, without the web."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from diary import bounds, entries
from diary.entries import Cursor
from diary.entry_kinds import EntryInput, MeasurementInput
from diary.errors import ValidationError
from diary.models import Entry

SHANGHAI = ZoneInfo("Asia/Shanghai")


@pytest.mark.parametrize("value", [date(1900, 1, 1), date(2026, 11, 23), date(2200, 12, 31),
                                   datetime(1900, 1, 1, 0, 0), datetime(2200, 12, 31, 23, 59)])
def test_dates_inside_the_range(value):
    bounds.check_date(value)


@pytest.mark.parametrize("value", [date(1, 1, 1), date(1899, 12, 31), date(2201, 1, 1),
                                   date(9999, 12, 31), datetime(1, 1, 1, 0, 0)])
def test_dates_outside_the_range(value):
    with pytest.raises(ValidationError) as raised:
        bounds.check_date(value, "due_date")
    assert raised.value.field == "due_date"
    assert str(raised.value) == "Please enter a date between 1900-01-01 and 2200-12-31."


@pytest.mark.parametrize("local, tz", [(datetime(1, 1, 1, 0, 0), "Asia/Shanghai"),
                                       (datetime(9999, 12, 31, 23, 59), "America/Los_Angeles"),
                                       (datetime(1899, 12, 31, 23, 59), "Pacific/Kiritimati")])
def test_local_to_utc_refuses_instead_of_overflowing(local, tz):
    with pytest.raises(ValidationError):
        bounds.local_to_utc(local, tz, "publish_at")


def test_local_to_utc_converts_inside_the_range():
    assert bounds.local_to_utc(datetime(2026, 11, 23, 12, 0), "Asia/Shanghai") == \
        datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    for local, tz in ((datetime(1900, 1, 1, 0, 0), "Pacific/Kiritimati"),
                      (datetime(2200, 12, 31, 23, 59), "Pacific/Pago_Pago")):
        converted = bounds.local_to_utc(local, tz)  # the ends convert without overflowing
        assert converted.tzinfo is UTC
        assert converted == local.replace(tzinfo=ZoneInfo(tz))


def test_instants_must_be_aware():
    with pytest.raises(ValueError):
        bounds.check_instant(datetime(2026, 1, 1))


@pytest.mark.parametrize("value", ["sNaN", "NaN", "-sNaN", "Infinity", "-inf", "1e999",
                                   Decimal("sNaN"), Decimal("NaN"), Decimal("-Infinity"),
                                   Decimal("1e400"), float("nan"), float("inf"), 10 ** 400,
                                   "abc", "1,5"])
def test_finite_number_refuses_what_is_not_a_number(value):
    with pytest.raises(ValidationError) as raised:
        bounds.finite_number(value, "weight")
    assert raised.value.field == "weight"
    assert str(raised.value) == "Please enter a number, such as 3.5."


@pytest.mark.parametrize("value, expected", [(None, None), ("", None), ("  ", None),
                                             ("3.5", 3.5), (" -2 ", -2.0),
                                             (Decimal("6.25"), 6.25), (7, 7.0),
                                             ("1e300", 1e300)])
def test_finite_number_keeps_numbers(value, expected):
    assert bounds.finite_number(value) == expected


@pytest.mark.parametrize("value, ok", [(None, False), (0, False), (-1, False), (1, True),
                                       (2**31 - 1, True), (2**31, False), (10**30, False)])
def test_row_ids(value, ok):
    assert bounds.is_row_id(value) is ok


# --- the timeline cursor -------------------------------------------------------------------

def test_cursor_round_trips_inside_the_range():
    when = datetime(1900, 1, 1, 0, 0, 1, tzinfo=UTC)
    assert Cursor.decode(Cursor(when, 12).encode()) == Cursor(when, 12)
    assert Cursor.decode(None) is None and Cursor.decode("") is None


@pytest.mark.parametrize("raw", ["1_99999999999999999999999", "1_2147483648", "1_0", "1_-5",
                                 "1__5", "1_000_5", "1_٣", "-" + "9" * 19 + "_1",
                                 "9" * 19 + "_1", "99999999999999999999_1", "abc", "1"])
def test_cursor_out_of_range_is_a_broken_link(raw):
    with pytest.raises(ValidationError) as raised:
        Cursor.decode(raw)
    assert str(raised.value) == "That page link is broken; start again from the top."


# --- entries -------------------------------------------------------------------------------

def _note(when: datetime, kind: str = "note", **extra) -> EntryInput:
    return EntryInput(kind=kind, occurred_at=when, body="hello", **extra)


@pytest.mark.parametrize("when", [datetime(1, 1, 1, 12, tzinfo=SHANGHAI),
                                  datetime(1899, 12, 31, 23, tzinfo=UTC)])
def test_entries_outside_the_range_are_refused(session, make_family, when):
    user, child = make_family()
    with pytest.raises(ValidationError) as raised:
        entries.create_entry(session, child, user, _note(when))
    assert raised.value.field == "occurred_at"
    assert session.scalar(select(func.count(Entry.id))) == 0


def test_an_entry_cannot_be_moved_out_of_the_range(session, make_family):
    user, child = make_family()
    entry = entries.create_entry(session, child, user, _note(datetime.now(UTC)))
    with pytest.raises(ValidationError):
        entries.update_entry(session, entry, _note(datetime(1, 1, 1, 12, tzinfo=SHANGHAI)))


@pytest.mark.parametrize("kind, extra", [("bump", {"photo_count": 1}), ("scan", {}),
                                         ("kicks", {"data": {"count": 10}}),
                                         ("feeling", {"data": {"mood": 4}})])
def test_pregnancy_kinds_after_the_birth_are_refused(session, make_family, kind, extra):
    user, child = make_family()  # born 100 days ago
    with pytest.raises(ValidationError) as raised:
        entries.create_entry(session, child, user,
                             _note(datetime.now(UTC), kind, **extra))
    assert raised.value.field == "kind"
    assert str(raised.value) == "This kind of entry is for the pregnancy; the baby is " \
        "already born."


def test_a_born_babys_book_may_hold_its_pregnancy(session, make_family):
    """The demo's newborn keeps her scans and kick counts from before the birth."""
    user, child = make_family()
    before = datetime.combine(child.birth_date - timedelta(days=30), datetime.min.time(),
                              SHANGHAI).replace(hour=10)
    entry = entries.create_entry(session, child, user, _note(before, "kicks",
                                                             data={"count": 10}))
    assert entry.data == {"count": 10}
    with pytest.raises(ValidationError):  # and cannot be moved past the birth
        entries.update_entry(session, entry, _note(datetime.now(UTC), "kicks",
                                                   data={"count": 10}))


@pytest.mark.parametrize("kind, extra", [
    ("feeding", {"data": {"method": "bottle_formula"}}), ("sleep", {"data": {"duration_min": 60}}),
    ("diaper", {"data": {"wet": True}}), ("temperature", {"data": {"celsius": 37}}),
    ("medication", {"data": {"name": "Vitamin D"}}),
    ("measurement", {"measurement": MeasurementInput(weight_kg=3.5)}),
    ("milestone", {"title": "First smile"})])
def test_baby_kinds_are_refused_for_an_expected_baby(session, make_family, kind, extra):
    user, child = make_family(born=False)
    with pytest.raises(ValidationError) as raised:
        entries.create_entry(session, child, user,
                             _note(datetime.now(UTC), kind, **extra))
    assert raised.value.field == "kind"
    assert str(raised.value) == "This kind of entry starts once the baby is born."


def test_baby_kinds_before_the_birth_are_refused(session, make_family):
    user, child = make_family()
    before = datetime.combine(child.birth_date - timedelta(days=1), datetime.min.time(),
                              SHANGHAI).replace(hour=10)
    with pytest.raises(ValidationError) as raised:
        entries.create_entry(session, child, user, _note(
            before, "measurement", measurement=MeasurementInput(weight_kg=3.5)))
    assert raised.value.field == "occurred_at"
    on_the_day = before + timedelta(days=1)
    entry = entries.create_entry(session, child, user, _note(
        on_the_day, "measurement", measurement=MeasurementInput(weight_kg=3.5)))
    assert entry.measurement.weight_kg == 3.5


# --- content -------------------------------------------------------------------------------

def _article(**extra) -> ItemInput:
    return ItemInput(kind="article", key="week-12-scan", translations={
        "en": TextInput("Scan", "", "Text."), "zh_CN": TextInput("B超", "", "正文。")},
        window_unit="pregnancy_week", window_from=12, window_to=12, **extra)


@pytest.mark.parametrize("extra, field", [
    ({"review_date": date(1, 1, 1)}, "review_date"),
    ({"review_date": date(9999, 12, 31)}, "review_date"),
    ({"publish_at": datetime(1, 1, 1, 12, tzinfo=SHANGHAI)}, "publish_at"),
    ({"publish_at": datetime(2201, 1, 1, tzinfo=UTC)}, "publish_at")])
def test_content_dates_outside_the_range_are_refused(session, extra, field):
    with pytest.raises(ValidationError) as raised:
        authoring.create(session, _article(**extra), None)
    assert raised.value.field == field


def test_scheduling_outside_the_range_is_refused(session):
    item = authoring.create(session, _article(), None)
    with pytest.raises(ValidationError) as raised:
        workflow.publish_reviewed(session, item, datetime(2201, 1, 1, tzinfo=UTC))
    assert raised.value.field == "publish_at"


def test_a_price_beyond_the_column_is_refused(session):
    data = ItemInput(kind="product", key="BJ-BATH-001", translations={
        "en": TextInput("Wash"), "zh_CN": TextInput("沐浴露")}, window_unit="week",
        window_from=0, window_to=12, category="bath", currency="CNY", price_minor=2**31)
    with pytest.raises(ValidationError) as raised:
        authoring.create(session, data, None)
    assert raised.value.field == "price"
