"""Points: exact balances, caps per local day, reversals, who earns nothing."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

from clock import utcnow
from diary import invitations
from diary.entries import create_entry, delete_entry
from diary.entry_kinds import EntryInput, MeasurementInput
from rewards import points
from rewards.models import PointsBalance, PointsEntry
from tests.web.test_studio import make_staff

#: 10:00 in Shanghai on Monday 23 November 2026 (02:00 UTC).
T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)


def write(session, user, child, now, kind="note"):
    """A diary entry written at `now` and what it earned (as the diary's page does it)."""
    extra = {}
    if kind == "measurement":
        extra["measurement"] = MeasurementInput(weight_kg=6.0)
    elif kind == "milestone":
        extra["data"] = {}
    entry = create_entry(session, child, user, EntryInput(
        kind=kind, occurred_at=utcnow() - timedelta(minutes=5), title="t", body="b", **extra))
    entry.created_at = now
    session.flush()
    earned = points.award_for_entry(session, user, entry, now)
    return entry, sum(row.points for row in earned)


def ledger(session, user):
    return [(r.rule, r.points) for r in session.scalars(
        select(PointsEntry).where(PointsEntry.user_id == user.id).order_by(PointsEntry.id))]


def check_sum(session, user, expected):
    assert points.balance(session, user) == expected
    assert points.ledger_sum(session, user) == expected


def test_a_week_of_diary_gives_exactly_the_hand_counted_points(session, make_family):
    user, child = make_family()
    # day 1: three notes pay 2 each, the fourth is over the cap (3 a day)
    assert [write(session, user, child, T0 + timedelta(minutes=m))[1]
            for m in range(4)] == [2, 2, 2, 0]
    assert write(session, user, child, T0 + timedelta(hours=1), "milestone")[1] == 10
    assert write(session, user, child, T0 + timedelta(hours=2), "measurement")[1] == 5
    assert write(session, user, child, T0 + timedelta(hours=3), "measurement")[1] == 5
    assert write(session, user, child, T0 + timedelta(hours=4), "measurement")[1] == 0  # cap 2
    check_sum(session, user, 6 + 10 + 10)
    # day 2 a note; day 3 a note completes a 3-day streak (15); a second entry that day
    # does not pay the streak again
    assert write(session, user, child, T0 + timedelta(days=1))[1] == 2
    assert write(session, user, child, T0 + timedelta(days=2))[1] == 2 + 15
    assert write(session, user, child, T0 + timedelta(days=2, hours=1))[1] == 2
    # days 4-6: notes, no streak (4, 5, 6 days in a row); day 7: the 7-day streak (40)
    assert [write(session, user, child, T0 + timedelta(days=d))[1] for d in (3, 4, 5)] \
        == [2, 2, 2]
    assert write(session, user, child, T0 + timedelta(days=6))[1] == 2 + 40
    check_sum(session, user, 26 + 2 + 17 + 2 + 6 + 42)  # 95
    assert points.balance(session, user) == 95
    # a day missed breaks the run; three more days make a new 3-day streak
    assert [write(session, user, child, T0 + timedelta(days=d))[1] for d in (8, 9, 10)] \
        == [2, 2, 2 + 15]
    check_sum(session, user, 95 + 21)
    assert sum(1 for rule, _ in ledger(session, user) if rule.startswith("streak")) == 3


def test_the_same_reference_pays_once(session, make_family):
    user, _ = make_family()
    assert points.award(session, user, "survey", "survey:7", now=T0).points == 20
    assert points.award(session, user, "survey", "survey:7", now=T0) is None
    assert points.award(session, user, "survey", "survey:7", now=T0 + timedelta(days=3)) \
        is None
    check_sum(session, user, 20)
    assert ledger(session, user) == [("survey", 20)]
    with pytest.raises(ValueError):
        points.award(session, user, "no_such_rule", "x:1", now=T0)
    with pytest.raises(ValueError):  # a diary rule needs its family
        points.award(session, user, "milestone", "entry:1", now=T0)


@pytest.mark.parametrize(("tz", "after_midnight_pays"), [
    ("Asia/Shanghai", True),   # 16:30 UTC is 00:30 the next day in Shanghai
    ("UTC", False),            # still the same day in UTC
])
def test_the_daily_cap_follows_the_familys_midnight(session, make_family, tz,
                                                    after_midnight_pays):
    user, child = make_family(tz=tz)
    before = datetime(2026, 11, 23, 15, 30, tzinfo=UTC)  # 23:30 in Shanghai
    after = datetime(2026, 11, 23, 16, 30, tzinfo=UTC)   # 00:30 on the 24th in Shanghai
    assert [write(session, user, child, before + timedelta(minutes=m))[1]
            for m in range(3)] == [2, 2, 2]
    late = [write(session, user, child, after + timedelta(minutes=m))[1] for m in range(3)]
    assert late == ([2, 2, 2] if after_midnight_pays else [0, 0, 0])
    # the rules without a family count in the person's first family's zone as well
    assert points.award(session, user, "survey", "s:1", now=before) is not None
    assert points.award(session, user, "survey", "s:2", now=before) is not None
    third = points.award(session, user, "survey", "s:3", now=after)
    assert (third is not None) == after_midnight_pays
    days = {r.local_day.isoformat() for r in session.scalars(
        select(PointsEntry).where(PointsEntry.user_id == user.id))}
    assert days == ({"2026-11-23", "2026-11-24"} if after_midnight_pays else {"2026-11-23"})
    check_sum(session, user, 12 + 60 if after_midnight_pays else 6 + 40)


def test_the_cap_on_leap_day_evening_in_shanghai(session, make_family):
    """The day that --clock-at 2028-02-29T15:00 starts on: 23:00 on 29 February in
    Shanghai; an hour later it is 1 March there."""
    user, child = make_family()
    leap = datetime(2028, 2, 29, 15, 0, tzinfo=UTC)
    assert [write(session, user, child, leap + timedelta(minutes=m))[1]
            for m in range(4)] == [2, 2, 2, 0]
    assert write(session, user, child, leap + timedelta(hours=1))[1] == 2
    assert sorted({r.local_day.isoformat() for r in session.scalars(
        select(PointsEntry).where(PointsEntry.user_id == user.id))}) == \
        ["2028-02-29", "2028-03-01"]


def test_a_deleted_entry_gives_its_points_back_and_writing_it_again_stays_capped(
        session, make_family):
    user, child = make_family()
    entry, earned = write(session, user, child, T0)
    assert earned == 2
    taken = points.reverse_for_entry(session, entry, T0 + timedelta(minutes=1))
    assert [(r.points, r.reverses_id) for r in taken] == [(-2, session.scalar(
        select(PointsEntry.id).where(PointsEntry.points == 2,
                                     PointsEntry.user_id == user.id)))]
    delete_entry(session, entry)
    assert points.reverse_for_entry(session, entry, T0) == []  # once
    check_sum(session, user, 0)
    # write, delete, write, delete …: the cap counts what was paid today, taken back or not
    for minute in (2, 4):  # SQLite gives the new entry the deleted one's id: still paid
        again, earned = write(session, user, child, T0 + timedelta(minutes=minute))
        assert earned == 2
        points.reverse_for_entry(session, again, T0 + timedelta(minutes=minute + 1))
        delete_entry(session, again)
    assert write(session, user, child, T0 + timedelta(minutes=6))[1] == 0
    check_sum(session, user, 0)
    assert [p for _, p in ledger(session, user)] == [2, -2, 2, -2, 2, -2]


def test_a_streak_goes_back_with_the_entry_that_completed_it(session, make_family):
    user, child = make_family()
    write(session, user, child, T0)
    write(session, user, child, T0 + timedelta(days=1))
    third, earned = write(session, user, child, T0 + timedelta(days=2))
    assert earned == 17
    points.reverse_for_entry(session, third, T0 + timedelta(days=2, minutes=1))
    check_sum(session, user, 4)


def test_points_already_spent_are_taken_back_down_to_zero_only(session, make_family):
    user, child = make_family()
    entry, _ = write(session, user, child, T0)
    session.execute(PointsBalance.__table__.update().where(
        PointsBalance.user_id == user.id).values(balance=1))  # as if 1 point were spent
    [row] = points.reverse_for_entry(session, entry, T0)
    assert row.points == -1 and points.balance(session, user) == 0


def test_a_restored_post_gets_back_what_hiding_took_and_no_cycle_farms_points(
        session, make_family):
    """A club post (5 points) hidden, restored, hidden, restored, then deleted by its
    author: the author ends with nothing, as if it had only been posted and deleted; each
    step once (restoring twice gives back once); a restore is no new award of the day (the
    cap of three posts still lets a third post pay); restoring what was never taken back
    gives nothing."""
    user, _ = make_family()
    ref = "club_post:40"
    assert points.award(session, user, "club_post", ref, now=T0).points == 5
    steps = []
    for minute, act in ((1, points.reverse_ref), (2, points.restore_ref),
                        (3, points.restore_ref), (4, points.reverse_ref),
                        (5, points.restore_ref)):
        done = act(session, ref, T0 + timedelta(minutes=minute))
        steps.append([row.points for row in done])
        check_sum(session, user, sum(p for _, p in ledger(session, user)))
    assert steps == [[-5], [5], [], [-5], [5]]
    check_sum(session, user, 5)
    assert [row.ref for row in session.scalars(select(PointsEntry).where(
        PointsEntry.user_id == user.id).order_by(PointsEntry.id))][:3] == [
        ref, f"{ref}:back", f"{ref}:again:{ledger_ids(session, user)[1]}"]
    assert [p.points for p in points.reverse_ref(session, ref, T0 + timedelta(minutes=6))] \
        == [-5]  # the author deletes it: the restored points go too
    check_sum(session, user, 0)
    assert points.award(session, user, "club_post", "club_post:41", now=T0).points == 5
    assert points.award(session, user, "club_post", "club_post:42", now=T0).points == 5
    assert points.award(session, user, "club_post", "club_post:43", now=T0) is None  # cap 3
    assert points.restore_ref(session, "club_post:41", T0) == []  # never taken back
    assert points.restore_ref(session, "club_post:99", T0) == []  # never given
    check_sum(session, user, 10)


def ledger_ids(session, user):
    return list(session.scalars(select(PointsEntry.id).where(
        PointsEntry.user_id == user.id).order_by(PointsEntry.id)))


def test_viewers_staff_and_closed_accounts_earn_nothing(session, make_family):
    owner, child = make_family()
    viewer, _ = make_family()
    invitation = invitations.invite(session, child.family, owner, viewer.email, "viewer",
                                    "grandparent")
    invitations.accept(session, invitation, viewer)
    session.flush()
    stranger, _ = make_family()
    entry, _ = write(session, owner, child, T0)
    for person in (viewer, stranger):
        assert points.award(session, person, "milestone", "entry:x", now=T0,
                            family=child.family) is None
        assert points.award_for_entry(session, person, entry, T0) == []
        check_sum(session, person, 0)
    staff = make_staff(session, "service")
    assert points.award(session, staff, "survey", "survey:1", now=T0) is None
    owner.is_active = False
    assert points.award(session, owner, "survey", "survey:1", now=T0) is None


def test_the_balance_can_never_go_below_zero_in_the_database(session, make_family):
    from sqlalchemy.exc import IntegrityError
    user, _ = make_family()
    points.award(session, user, "survey", "survey:1", now=T0)
    with pytest.raises(IntegrityError), session.begin_nested():
        session.execute(PointsBalance.__table__.update().where(
            PointsBalance.user_id == user.id).values(balance=-1))


def test_the_history_folds_a_days_awards_of_one_kind_into_one_line(session, make_family):
    """Shanghai days: three club posts and a survey on the 23rd, interleaved; two club posts
    on the 24th; one taken back. Newest first, each line at its newest row's time."""
    parent, _ = make_family()
    t = [T0 + timedelta(hours=h) for h in (0, 1, 2, 3, 24, 25)]
    posts = [points.award(session, parent, "club_post", f"club_post:{i}", now=when)
             for i, when in enumerate((t[0], t[2], t[3], t[4], t[5]))]
    points.award(session, parent, "survey", "survey:1", now=t[1])
    points.reverse(session, posts[4], now=t[5] + timedelta(minutes=5))
    session.flush()
    lines = [(line.day.isoformat(), line.rule, line.points, line.count, line.at)
             for line in points.history_lines(session, parent, 10)]
    assert lines == [
        ("2026-11-24", "club_post", -5, 1, t[5] + timedelta(minutes=5)),  # taken back
        ("2026-11-24", "club_post", 10, 2, t[5]),
        ("2026-11-23", "club_post", 15, 3, t[3]),
        ("2026-11-23", "survey", 20, 1, t[1]),
    ]
    assert all(posts)
    # Reading only the newest four rows would cut the 23rd: it is left out, not shown short.
    assert [line.day.isoformat() for line in points.history_lines(session, parent, 10,
                                                                  read=4)] == ["2026-11-24"] * 2
    assert len(points.history_lines(session, parent, 1)) == 1
