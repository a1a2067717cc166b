"""The demo rewards: a catalogue in both languages, a points history with a streak and
milestones for the newborn's mother, one sample requested; loading again adds nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from diary.entries import create_entry
from diary.entry_kinds import EntryInput, MeasurementInput
from rewards import catalogue, demo, points
from rewards.models import PointsEntry, RewardItem

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def test_the_demo_rewards_load_once(session, make_family):
    assert not demo.load(session, NOW).parent_found  # no demo family yet: the catalogue only
    parent, child = make_family(email=demo.PARENT_EMAIL, tz="Europe/London",
                                birth_date=NOW.date() - timedelta(days=14))
    for day in range(8):  # a note on 8 days in a row, a milestone, a growth check
        when = NOW - timedelta(days=7 - day, hours=2)
        create_entry(session, child, parent, EntryInput("note", when, "t", "b"))
    create_entry(session, child, parent, EntryInput("milestone", NOW - timedelta(days=3),
                                                    "First smile"))
    create_entry(session, child, parent, EntryInput(
        "measurement", NOW - timedelta(days=2), measurement=MeasurementInput(4.1)))
    made = demo.load(session, NOW)
    assert (made.samples_added, made.redemption) == (0, True)
    items = catalogue.items(session, active_only=False)
    assert 4 <= len(items) <= 6 and all(i.name_zh and i.description_zh for i in items)
    rules_paid = [r for r, in session.execute(select(PointsEntry.rule).where(
        PointsEntry.user_id == parent.id, PointsEntry.points > 0))]
    assert sorted(set(rules_paid)) == ["diary_entry", "measurement", "milestone", "streak_3",
                                       "streak_7"]
    # 8 notes (16) + a milestone (10) + a growth check (5) + streaks (15 + 40) - wipes (40)
    assert points.balance(session, parent) == 16 + 10 + 5 + 55 - 40
    assert points.ledger_sum(session, parent) == points.balance(session, parent)
    [asked] = catalogue.redemptions_of(session, parent)
    assert asked.status == "requested" and asked.item.name_en == demo.SAMPLES[0][0]
    again = demo.load(session, NOW)
    assert (again.samples_added, again.awards, again.redemption) == (0, 0, False)
    assert session.scalar(select(func.count()).select_from(RewardItem)) == len(demo.SAMPLES)
