"""Each child's newest entry in one query (the dashboard's "latest in the book" line)."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import event

from diary import entries, families
from diary.entry_kinds import EntryInput, MeasurementInput

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
BORN = date(2026, 9, 1)

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def note(session, child, user, when, title):
    return entries.create_entry(session, child, user, EntryInput("note", when, title=title))


def test_each_child_gets_its_own_newest_entry(session, make_family):
    """By when it happened, not when it was typed; a tie on the minute goes to the later
    entry; a child with no entry is absent; another family's newer entry never leaks in."""
    owner, amy = make_family(name="Amy", birth_date=BORN)
    ben = families.add_child(session, amy.family, families.ChildDetails(
        name="Ben", birth_date=BORN, sex="male"))
    cat = families.add_child(session, amy.family, families.ChildDetails(
        name="Cat", birth_date=BORN, sex="female"))
    note(session, amy, owner, NOW - timedelta(hours=3), "Amy's bath")
    note(session, amy, owner, NOW - timedelta(days=2), "Amy, typed last, happened first")
    note(session, ben, owner, NOW - timedelta(hours=1), "Ben's first")
    tie = note(session, ben, owner, NOW - timedelta(hours=1), "Ben's second, same minute")
    entries.create_entry(session, ben, owner, EntryInput(
        "measurement", NOW - timedelta(days=9),
        measurement=MeasurementInput(weight_kg=5.2)))
    stranger, other = make_family(name="Other")
    note(session, other, stranger, NOW, "Someone else's")
    session.commit()

    newest = entries.newest_by_child(session, [amy, ben, cat])

    assert {child_id: entry.title for child_id, entry in newest.items()} == {
        amy.id: "Amy's bath", ben.id: "Ben's second, same minute"}
    assert newest[ben.id].id == tie.id
    assert entries.newest_by_child(session, []) == {}
    measured = entries.newest_by_child(session, [other, ben])
    assert set(measured) == {other.id, ben.id}


def test_the_newest_measurement_comes_with_its_numbers(session, make_family):
    """The line shows a measurement's numbers: they come in the same query, not one more
    per child."""
    owner, child = make_family(birth_date=BORN)
    entries.create_entry(session, child, owner, EntryInput(
        "measurement", NOW - timedelta(days=1), measurement=MeasurementInput(weight_kg=5.25)))
    session.commit()
    session.expire_all()
    assert child.id  # the child itself is loaded again before counting
    ran = []
    listen = lambda *args: ran.append(args[2])  # noqa: E731
    event.listen(session.bind, "before_cursor_execute", listen)
    try:
        newest = entries.newest_by_child(session, [child])[child.id]
        assert (newest.kind, newest.measurement.weight_kg) == ("measurement", 5.25)
    finally:
        event.remove(session.bind, "before_cursor_execute", listen)
    assert len(ran) == 1
