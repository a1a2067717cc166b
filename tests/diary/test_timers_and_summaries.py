"""Timers, the day's status and summaries, and the vaccination record (domain functions)."""
from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

import db
from db.one_trip import one_trip
from diary import daily_summary, entries, timers, vaccinations
from diary.entry_kinds import EntryInput
from diary.errors import Conflict, NotFound, ValidationError
from diary.models import Child, Entry, Timer, User, Vaccination
from tests.conftest import migrated_database_url, run_at_once

#: 12:00 in Shanghai (UTC+8) on 23 November 2026.
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
BORN = date(2026, 9, 1)


@pytest.fixture()
def baby(make_family, clock_at):
    clock_at(NOW)
    return make_family(birth_date=BORN)


def add(session, child, user, kind, when, **data):
    entry = entries.create_entry(session, child, user, EntryInput(kind, when, data=data))
    session.flush()
    return entry


def entry_rows(session, child):
    return session.execute(select(Entry.kind, Entry.occurred_at, Entry.data)
                           .where(Entry.child_id == child.id).order_by(Entry.id)).all()


# --- timers ------------------------------------------------------------------------------------

def test_a_feed_timer_becomes_a_feeding_entry_with_its_side_and_minutes(session, baby):
    parent, child = baby
    start = NOW - timedelta(minutes=25, seconds=31)
    timer = timers.start(session, child, parent, "feed", "left", now=start)
    assert timers.running(session, child) == {"feed": timer}
    entry = timers.stop(session, child, parent, timer.id, now=NOW)
    assert entry_rows(session, child) == [
        ("feeding", start, {"method": "breast_left", "duration_min": 26})]  # 25:31 → 26 min
    session.refresh(timer)
    assert (timer.status, timer.running_kind, timer.ended_at, timer.entry_id) == (
        "stopped", None, NOW, entry.id)
    assert timers.running(session, child) == {}


@pytest.mark.parametrize(("ran", "minutes"), [(timedelta(seconds=5), 1),
                                              (timedelta(minutes=1, seconds=29), 1),
                                              (timedelta(minutes=1, seconds=30), 2)])
def test_a_timer_counts_to_the_nearest_minute_and_at_least_one(session, baby, ran, minutes):
    parent, child = baby
    timer = timers.start(session, child, parent, "tummy", now=NOW - ran)
    timers.stop(session, child, parent, timer.id, now=NOW)
    assert entry_rows(session, child)[0][2] == {"duration_min": minutes}


@pytest.mark.parametrize(("kind", "entry_kind", "minutes"), [("sleep", "sleep", 45),
                                                              ("tummy", "tummy_time", 7)])
def test_sleep_and_tummy_timers_make_their_own_entries(session, baby, kind, entry_kind,
                                                       minutes):
    parent, child = baby
    timer = timers.start(session, child, parent, kind, "left", now=NOW - timedelta(
        minutes=minutes))  # a side on a sleep is ignored
    assert timer.side is None
    timers.stop(session, child, parent, timer.id, now=NOW)
    assert entry_rows(session, child) == [
        (entry_kind, NOW - timedelta(minutes=minutes), {"duration_min": minutes})]


def test_one_running_timer_of_a_kind_per_child(session, baby, make_family):
    parent, child = baby
    timers.start(session, child, parent, "feed", "left", now=NOW)
    with pytest.raises(Conflict):
        timers.start(session, child, parent, "feed", "right", now=NOW)
    timers.start(session, child, parent, "sleep", now=NOW)  # another kind may run beside it
    _, other_child = make_family(birth_date=BORN)
    timers.start(session, other_child, parent, "feed", "right", now=NOW)  # another child too
    assert session.scalar(select(func.count()).select_from(Timer).where(
        Timer.child_id == child.id)) == 2


@pytest.mark.parametrize(("kind", "side", "field"), [
    ("feed", None, "side"), ("feed", "middle", "side"), ("feed", "", "side"),
    ("bath", None, "kind"), ("", None, "kind"), ("feeding", "left", "kind")])
def test_bad_kinds_and_sides_are_refused(session, baby, kind, side, field):
    parent, child = baby
    with pytest.raises(ValidationError) as refused:
        timers.start(session, child, parent, kind, side, now=NOW)
    assert refused.value.field == field
    assert session.scalar(select(func.count()).select_from(Timer)) == 0


def test_no_timers_before_the_birth(session, make_family, clock_at):
    clock_at(NOW)
    parent, unborn = make_family(born=False)
    with pytest.raises(ValidationError, match="once the baby is born"):
        timers.start(session, unborn, parent, "sleep", now=NOW)


def test_stopping_twice_makes_one_entry(session, baby):
    parent, child = baby
    timer = timers.start(session, child, parent, "sleep", now=NOW - timedelta(minutes=30))
    timers.stop(session, child, parent, timer.id, now=NOW)
    with pytest.raises(Conflict, match="already stopped"):
        timers.stop(session, child, parent, timer.id, now=NOW + timedelta(minutes=1))
    with pytest.raises(Conflict):
        timers.discard(session, child, timer.id, now=NOW)
    assert [k for k, *_ in entry_rows(session, child)] == ["sleep"]


def test_a_discarded_timer_makes_no_entry_and_cannot_be_stopped(session, baby):
    parent, child = baby
    timer = timers.start(session, child, parent, "feed", "right", now=NOW)
    timers.discard(session, child, timer.id, now=NOW)
    with pytest.raises(Conflict):
        timers.stop(session, child, parent, timer.id, now=NOW)
    assert entry_rows(session, child) == []
    session.refresh(timer)
    assert (timer.status, timer.running_kind) == ("discarded", None)
    timers.start(session, child, parent, "feed", "left", now=NOW)  # a new one may start



@pytest.mark.parametrize("minutes", [None, 0, 10, 5000])
def test_a_timer_ended_elsewhere_is_a_conflict_whatever_minutes_the_late_stop_names(
        session, baby, minutes):
    """Checked before the minutes: a day later (longer than a feed can be), or minutes out
    of range, the second device still hears that it was stopped, not that its minutes are
    wrong."""
    parent, child = baby
    timer = timers.start(session, child, parent, "feed", "right", now=NOW)
    timers.stop(session, child, parent, timer.id, now=NOW + timedelta(minutes=20))
    with pytest.raises(Conflict, match="This timer was already stopped."):
        timers.stop(session, child, parent, timer.id, minutes,
                    now=NOW + timedelta(days=1))
    assert len(entry_rows(session, child)) == 1

def test_another_childs_timer_is_not_found(session, baby, make_family):
    parent, child = baby
    stranger, their_child = make_family(birth_date=BORN)
    theirs = timers.start(session, their_child, stranger, "feed", "left", now=NOW)
    for act in (lambda: timers.stop(session, child, parent, theirs.id, now=NOW),
                lambda: timers.discard(session, child, theirs.id, now=NOW),
                lambda: timers.stop(session, child, parent, 10**9, now=NOW)):
        with pytest.raises(NotFound):
            act()
    assert timers.running(session, their_child)["feed"].id == theirs.id


@pytest.mark.parametrize("minutes", [0, -5, 31, 10**12, -(10**12)])
def test_a_corrected_duration_is_between_one_minute_and_the_time_it_ran(session, baby,
                                                                        minutes):
    parent, child = baby
    timer = timers.start(session, child, parent, "feed", "left", now=NOW - timedelta(minutes=30))
    with pytest.raises(ValidationError, match="between 1 and 30 minutes"):
        timers.stop(session, child, parent, timer.id, minutes=minutes, now=NOW)
    assert timers.running(session, child)["feed"].id == timer.id  # still running
    timers.stop(session, child, parent, timer.id, minutes=12, now=NOW)
    assert entry_rows(session, child)[0][2] == {"method": "breast_left", "duration_min": 12}


def test_a_timer_left_running_too_long_must_be_corrected_or_discarded(session, baby):
    parent, child = baby
    timer = timers.start(session, child, parent, "feed", "left",
                         now=NOW - timedelta(hours=5))  # a feed is at most 180 minutes
    with pytest.raises(ValidationError, match="ran for 300 minutes"):
        timers.stop(session, child, parent, timer.id, now=NOW)
    assert "feed" in timers.running(session, child)
    timers.stop(session, child, parent, timer.id, minutes=20, now=NOW)
    assert entry_rows(session, child)[0][2]["duration_min"] == 20


@pytest.fixture()
def own_database(tmp_path):
    """A database of its own, committed for real, for racing sessions."""
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    yield factory
    engine.dispose()
    drop()


def _baby_in(factory, make_family_in):
    with factory() as s, s.begin():
        return make_family_in(s)


def _register(s):
    from diary import accounts, families, registration
    done = registration.register(s, registration.Registration(
        email="racer@example.com", password="correct horse battery",
        profile=accounts.Profile(display_name="Racer", timezone="Asia/Shanghai"),
        relationship="mother", child_data_consent=True, digest_opt_in=False,
        marketing_opt_in=False, child=families.ChildDetails(
            name="Mia", birth_date=BORN, sex="female")), "test")
    s.flush()
    return done.user.id, done.child.id


def test_two_devices_stopping_the_same_timer_at_once_make_one_entry(own_database, clock_at):
    clock_at(NOW)
    factory = own_database
    user_id, child_id = _baby_in(factory, _register)
    with factory() as s, s.begin():
        timer_id = timers.start(s, s.get(Child, child_id), s.get(User, user_id), "feed",
                                "right", now=NOW - timedelta(minutes=15)).id
    outcomes: list[str] = []

    def stop() -> None:
        with factory() as s:
            try:
                with s.begin():
                    timers.stop(s, s.get(Child, child_id), s.get(User, user_id), timer_id,
                                now=NOW)
                outcomes.append("stopped")
            except Conflict:
                outcomes.append("already")

    assert run_at_once(stop, 4) == []
    assert sorted(outcomes) == ["already", "already", "already", "stopped"]
    with factory() as s:
        assert s.execute(select(Entry.kind, Entry.data)).all() == [
            ("feeding", {"method": "breast_right", "duration_min": 15})]
        assert s.scalar(select(Timer.entry_id).where(Timer.id == timer_id)) is not None


def test_two_devices_starting_at_once_run_one_timer(own_database, clock_at):
    clock_at(NOW)
    factory = own_database
    user_id, child_id = _baby_in(factory, _register)
    outcomes: list[str] = []

    def start() -> None:
        with factory() as s:
            try:
                with s.begin():
                    timers.start(s, s.get(Child, child_id), s.get(User, user_id), "sleep",
                                 now=NOW)
                outcomes.append("started")
            except Conflict:
                outcomes.append("running")

    assert run_at_once(start, 3) == []
    assert sorted(outcomes) == ["running", "running", "started"]
    with factory() as s:
        assert s.scalar(select(func.count()).select_from(Timer)) == 1


@pytest.mark.parametrize(("born", "weeks", "on", "offered"), [
    (date(2025, 12, 7), None, date(2026, 12, 6), ("feed", "sleep", "tummy")),  # 11 months
    (date(2025, 12, 7), None, date(2026, 12, 7), ("feed", "sleep")),  # the first birthday
    (date(2024, 12, 7), None, date(2026, 12, 7), ("feed", "sleep")),  # two years old
    # Born at 32+0, 56 days early: due on 1 February 2026, so 12 months corrected on
    # 1 February 2027 (10 months corrected on the first birthday).
    (date(2025, 12, 7), 32, date(2026, 12, 7), ("feed", "sleep", "tummy")),
    (date(2025, 12, 7), 32, date(2027, 1, 31), ("feed", "sleep", "tummy")),
    (date(2025, 12, 7), 32, date(2027, 2, 1), ("feed", "sleep")),
    # The family's zone moved west on the birth day: its today is the day before.
    (date(2026, 12, 8), None, date(2026, 12, 7), ("feed", "sleep", "tummy")),
])
def test_tummy_time_is_offered_until_twelve_months_corrected_age(born, weeks, on, offered):
    child = Child(name="Mia", birth_date=born, gestational_weeks_at_birth=weeks,
                  gestational_days_at_birth=0 if weeks else None)
    assert timers.offered(child, on) == offered


def test_a_kind_no_longer_offered_can_still_be_started(session, make_family, clock_at):
    """The page stops offering tummy time at a year; a page left open since before the
    birthday, or the API, can still start one."""
    clock_at(NOW)
    parent, child = make_family(birth_date=date(2024, 11, 1))
    assert timers.offered(child, date(2026, 11, 23)) == ("feed", "sleep")
    assert timers.start(session, child, parent, "tummy", now=NOW).kind == "tummy"


# --- the day's status -------------------------------------------------------------------------

def test_the_status_line_counts_in_the_familys_day(session, baby):
    parent, child = baby
    # 12:00 in Shanghai. The last feed at 09:50 local, on the left.
    add(session, child, parent, "feeding", NOW - timedelta(hours=3), method="breast_right",
        duration_min=15)
    add(session, child, parent, "feeding", NOW - timedelta(hours=2, minutes=10),
        method="breast_left", duration_min=20)
    # nappies: 00:00 local is 16:00 UTC the day before; 23:59 local yesterday does not count
    midnight = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)
    add(session, child, parent, "diaper", midnight - timedelta(minutes=1), wet=True)
    for minutes, wet, dirty in ((0, True, False), (120, True, False), (300, False, True),
                                (420, True, False), (650, False, True)):
        add(session, child, parent, "diaper", midnight + timedelta(minutes=minutes), wet=wet,
            dirty=dirty)
    timers.start(session, child, parent, "sleep", now=NOW - timedelta(minutes=45, seconds=30))
    status = daily_summary.status(session, child, NOW)
    assert status.last_feed is not None
    assert (status.last_feed.minutes_ago, status.last_feed.side) == (130, "left")
    assert status.nappies_today == daily_summary.Nappies(5, 3, 2)
    assert status.asleep_minutes == 45
    add(session, child, parent, "diaper", NOW - timedelta(minutes=1), wet=True, dirty=True)
    assert daily_summary.status(session, child, NOW).nappies_today == daily_summary.Nappies(
        6, 4, 3)  # a wet and dirty one counts in both


def test_the_child_pages_one_query_answers_what_the_five_functions_answer(
        session, baby, make_family):
    """daily_summary.child_day is status + timers.running + vaccinations.ticked in one
    statement (the child page sends it with timeline_refs' newest, db.one_trip): the same
    answers, exact values, only this child's rows."""
    parent, child = baby
    empty = daily_summary.child_day(session, child, NOW)
    assert empty == daily_summary.ChildDay(daily_summary.Status(
        None, daily_summary.Nappies(0, 0, 0), None), {}, {})
    add(session, child, parent, "feeding", NOW - timedelta(hours=2, minutes=10),
        method="breast_left", duration_min=20)
    add(session, child, parent, "feeding", NOW + timedelta(minutes=5), method="bottle_formula",
        amount_ml=90)  # after `now`: not the last feed yet
    midnight = datetime(2026, 11, 22, 16, 0, tzinfo=UTC)  # 00:00 in Shanghai
    add(session, child, parent, "diaper", midnight - timedelta(minutes=1), wet=True)
    add(session, child, parent, "diaper", midnight, wet=True, dirty=True)
    add(session, child, parent, "diaper", NOW - timedelta(minutes=3), dirty=True)
    sleep = timers.start(session, child, parent, "sleep", now=NOW - timedelta(minutes=45))
    feed = timers.start(session, child, parent, "feed", "right", now=NOW - timedelta(minutes=7))
    tummy = timers.start(session, child, parent, "tummy", now=NOW - timedelta(minutes=2))
    timers.discard(session, child, tummy.id)  # not running any more
    vaccinations.tick_reminder(session, child, parent, "hep-b-2", "vaccination",
                               date(2026, 10, 3))
    vaccinations.add(session, child, parent, "checkup", "Weighing", date(2026, 11, 2))
    other_parent, other = make_family(birth_date=BORN)  # another family's day stays theirs
    add(session, other, other_parent, "diaper", NOW - timedelta(minutes=1), wet=True)
    timers.start(session, other, other_parent, "tummy", now=NOW - timedelta(minutes=1))
    vaccinations.tick_reminder(session, other, other_parent, "bcg", "vaccination", BORN)
    session.flush()

    day = daily_summary.child_day(session, child, NOW)
    assert day.status == daily_summary.status(session, child, NOW)
    assert day.status == daily_summary.Status(
        daily_summary.LastFeed(NOW - timedelta(hours=2, minutes=10), 130, "left",
                               "breast_left", None),
        daily_summary.Nappies(2, 1, 2), 45)
    assert day.running == {
        "sleep": daily_summary.RunningTimer(sleep.id, "sleep", None, sleep.started_at),
        "feed": daily_summary.RunningTimer(feed.id, "feed", "right", NOW - timedelta(minutes=7))}
    assert {k: (t.id, t.side, t.started_at) for k, t in day.running.items()} == {
        k: (t.id, t.side, t.started_at) for k, t in timers.running(session, child).items()}
    assert day.ticked == vaccinations.ticked(session, child) == {"hep-b-2": date(2026, 10, 3)}

    # The newest entries, read beside the daily part in the page's one statement: the same
    # references as the timeline's first page, newest first, entries at the same moment by
    # id, the future feed included (the timeline shows it too).
    add(session, child, parent, "diaper", NOW - timedelta(minutes=3), wet=True)  # a tie
    session.flush()

    def newest_beside_the_day(limit: int) -> list[entries.EntryRef]:
        found = one_trip(session, day=daily_summary.child_day_query(child.id, child.family.timezone, NOW),
                         latest=entries.timeline_query(child.id, limit=limit))
        assert daily_summary.child_day_of(found["day"], NOW).ticked == day.ticked
        return entries.timeline_refs_of(found["latest"], limit).refs

    newest = newest_beside_the_day(4)
    assert newest == entries.timeline_refs(session, child, limit=4).refs
    assert [r.occurred_at for r in newest] == [
        NOW + timedelta(minutes=5), NOW - timedelta(minutes=3), NOW - timedelta(minutes=3),
        NOW - timedelta(hours=2, minutes=10)]
    assert newest[1].id > newest[2].id
    assert {r.author_name for r in newest} == {parent.display_name}
    assert len(newest_beside_the_day(50)) == 6


def test_no_feed_yet_and_a_bottle_has_no_side(session, baby):
    parent, child = baby
    assert daily_summary.status(session, child, NOW).last_feed is None
    assert daily_summary.status(session, child, NOW).asleep_minutes is None
    add(session, child, parent, "feeding", NOW - timedelta(minutes=5), method="bottle_formula",
        amount_ml=90)
    feed = daily_summary.status(session, child, NOW).last_feed
    assert (feed.minutes_ago, feed.side, feed.amount_ml) == (5, None, 90)


# --- days and trends ----------------------------------------------------------------------------

def local(day: int, hour: int, minute: int = 0) -> datetime:
    """A time in November 2026 in Shanghai, as UTC."""
    return datetime(2026, 11, day, hour, minute, tzinfo=UTC) - timedelta(hours=8)


def test_sleep_across_midnight_is_split_between_the_two_days(session, baby):
    parent, child = baby
    add(session, child, parent, "sleep", local(20, 22, 30), duration_min=540)  # to 07:30
    add(session, child, parent, "sleep", local(21, 13, 0), duration_min=95)
    summary = daily_summary.summarise(session, child, date(2026, 11, 20), date(2026, 11, 22))
    by_day = {d.day: d for d in summary.days}
    assert [d.day for d in summary.days] == [date(2026, 11, 20), date(2026, 11, 21),
                                             date(2026, 11, 22)]
    assert (by_day[date(2026, 11, 20)].sleep_minutes,
            by_day[date(2026, 11, 20)].sleep_spans) == (90, [(1350, 1440)])
    assert (by_day[date(2026, 11, 21)].sleep_minutes,
            by_day[date(2026, 11, 21)].sleep_spans) == (450 + 95, [(0, 450), (780, 875)])
    assert by_day[date(2026, 11, 22)].sleep_minutes == 0


def test_a_sleep_from_before_the_range_reaches_into_its_first_day(session, baby):
    parent, child = baby
    add(session, child, parent, "sleep", local(13, 23, 0), duration_min=1440)
    summary = daily_summary.summarise(session, child, date(2026, 11, 20), date(2026, 11, 20))
    # the range looks back 6 days for the averages: the 14th holds 23 h of that sleep, and
    # is the one day of the seven with a sleep logged
    assert summary.days[0].sleep_minutes == 0
    assert summary.trends["sleep_minutes"] == [1380.0]


def test_feeds_nappies_and_tummy_time_per_day_and_their_7_day_average(session, baby):
    parent, child = baby
    for day, feeds in ((14, 6), (15, 8), (16, 7), (17, 8), (18, 9), (19, 7), (20, 11)):
        for i in range(feeds):
            add(session, child, parent, "feeding", local(day, 1 + 2 * i), method="bottle_formula",
                amount_ml=100)
    add(session, child, parent, "diaper", local(20, 0, 0), wet=True, dirty=True)
    add(session, child, parent, "diaper", local(20, 23, 59), dirty=True)
    add(session, child, parent, "diaper", local(21, 0, 0), wet=True)  # the next day
    add(session, child, parent, "tummy_time", local(20, 10), duration_min=6)
    add(session, child, parent, "tummy_time", local(20, 16), duration_min=9)
    summary = daily_summary.summarise(session, child, date(2026, 11, 19), date(2026, 11, 20))
    day19, day20 = summary.days
    assert (day20.feeds, day20.feed_ml, day20.nappies, day20.wet, day20.dirty,
            day20.tummy_minutes) == (11, 1100, 2, 1, 2, 15)
    assert day19.feeds == 7
    # 19th: the 13th..19th, of which the 13th had nothing logged = 45 / 6; 20th: the
    # 14th..20th = 56 / 7. Nappies were logged on the 20th only: no average before it.
    assert summary.trends["feeds"] == [7.5, 8.0]
    assert summary.trends["feed_ml"] == [750.0, 800.0]
    assert summary.trends["nappies"] == [None, 2.0]
    assert summary.trends["tummy_minutes"] == [None, 15.0]


def test_days_before_the_birth_count_in_no_average(session, make_family, clock_at):
    clock_at(NOW)
    parent, child = make_family(birth_date=date(2026, 11, 19))
    add(session, child, parent, "feeding", local(19, 8), method="breast_left")
    add(session, child, parent, "feeding", local(20, 8), method="breast_left")
    add(session, child, parent, "feeding", local(20, 9), method="breast_left")
    summary = daily_summary.summarise(session, child, date(2026, 11, 19), date(2026, 11, 20))
    assert summary.trends["feeds"] == [1.0, 1.5]
    weeks = daily_summary.weeks(summary, date(2026, 11, 20))
    assert [(w.first, w.last, w.days_counted, w.averages["feeds"]) for w in weeks] == [
        (date(2026, 11, 19), date(2026, 11, 20), 2, 1.5)]


def test_averages_count_only_the_days_something_was_logged(session, make_family, clock_at):
    """A parent who starts logging on the 18th, writes no sleep down on the 19th and no
    nappy at all: the 12th–17th and the 19th's sleep are not zeros in any average."""
    clock_at(NOW)
    parent, child = make_family(birth_date=date(2026, 6, 1))
    for day, feeds, sleep in ((18, 8, 600), (19, 6, 0), (20, 7, 540)):
        for i in range(feeds):
            add(session, child, parent, "feeding", local(day, 1 + 2 * i),
                method="breast_left")
        if sleep:
            add(session, child, parent, "sleep", local(day, 12), duration_min=sleep)
    summary = daily_summary.summarise(session, child, date(2026, 11, 17), date(2026, 11, 20))
    assert [d.day.day for d in summary.days] == [17, 18, 19, 20]
    assert summary.trends["feeds"] == [None, 8.0, 7.0, 7.0]  # 8; (8+6)/2; (8+6+7)/3
    assert summary.trends["feed_ml"] == [None, 0.0, 0.0, 0.0]  # breastfed days: truly 0 ml
    assert summary.trends["sleep_minutes"] == [None, 600.0, 600.0, 570.0]
    assert summary.trends["nappies"] == [None, None, None, None]
    weeks = daily_summary.weeks(summary, date(2026, 11, 20))
    assert [(w.first, w.last, w.days_counted, w.averages) for w in weeks] == [
        (date(2026, 11, 17), date(2026, 11, 20), 4,
         {"sleep_minutes": 570.0, "feeds": 7.0, "feed_ml": 0.0, "nappies": None,
          "tummy_minutes": None})]


def test_a_day_across_a_clock_change_has_its_own_length(session, make_family, clock_at):
    clock_at(datetime(2026, 4, 2, 12, 0, tzinfo=UTC))
    parent, child = make_family(tz="Europe/London", birth_date=date(2026, 2, 1))
    # 29 March 2026: clocks go forward at 01:00 GMT; 00:30 → 03:30 local is 2 hours of sleep
    add(session, child, parent, "sleep", datetime(2026, 3, 29, 0, 30, tzinfo=UTC),
        duration_min=120)
    summary = daily_summary.summarise(session, child, date(2026, 3, 29), date(2026, 3, 29))
    day = summary.days[0]
    assert (day.day_minutes, day.sleep_minutes, day.sleep_spans) == (1380, 120, [(30, 150)])


def test_a_running_sleep_timer_counts_up_to_now_and_is_marked_running(session, baby):
    parent, child = baby
    timers.start(session, child, parent, "sleep", now=local(23, 10, 0))  # NOW is 12:00
    add(session, child, parent, "sleep", local(23, 7, 0), duration_min=30)
    summary = daily_summary.summarise(session, child, date(2026, 11, 22), date(2026, 11, 23))
    yesterday, today = summary.days
    assert (today.sleep_minutes, today.sleep_spans, today.running_spans) == (
        150, [(420, 450)], [(600, 720)])  # up to 12:00, not to the end of the day
    assert (yesterday.sleep_minutes, yesterday.running_spans) == (0, [])
    assert summary.trends["sleep_minutes"][-1] == 150.0  # the one day with a sleep logged


def test_a_sleep_timer_started_before_midnight_is_split_like_an_entry(session, baby):
    parent, child = baby
    timer = timers.start(session, child, parent, "sleep", now=local(22, 22, 30))
    summary = daily_summary.summarise(session, child, date(2026, 11, 22), date(2026, 11, 23))
    yesterday, today = summary.days
    assert (yesterday.sleep_minutes, yesterday.sleep_spans, yesterday.running_spans) == (
        90, [], [(1350, 1440)])
    assert (today.sleep_minutes, today.sleep_spans, today.running_spans) == (
        720, [], [(0, 720)])
    # stopped: the entry takes over and the running part is gone, nothing counted twice
    timers.stop(session, child, parent, timer.id, now=NOW)
    yesterday, today = daily_summary.summarise(session, child, date(2026, 11, 22),
                                               date(2026, 11, 23)).days
    assert (yesterday.sleep_minutes, yesterday.sleep_spans, yesterday.running_spans) == (
        90, [(1350, 1440)], [])
    assert (today.sleep_minutes, today.sleep_spans, today.running_spans) == (
        720, [(0, 720)], [])


def test_only_this_childs_running_sleep_timer_counts(session, baby, make_family):
    parent, child = baby
    other_parent, other_child = make_family(birth_date=BORN)
    timers.start(session, other_child, other_parent, "sleep", now=local(23, 1, 0))
    timers.start(session, child, parent, "tummy", now=local(23, 11, 0))  # not sleep
    timers.start(session, child, parent, "feed", "left", now=local(23, 11, 30))
    today = daily_summary.summarise(session, child, date(2026, 11, 23), date(2026, 11, 23))
    assert (today.days[0].sleep_minutes, today.days[0].running_spans) == (0, [])
    theirs = daily_summary.summarise(session, other_child, date(2026, 11, 23),
                                     date(2026, 11, 23))
    assert (theirs.days[0].sleep_minutes, theirs.days[0].running_spans) == (660, [(60, 720)])


def test_a_running_sleep_timer_never_reaches_past_now(session, baby):
    parent, child = baby
    timers.start(session, child, parent, "sleep", now=local(23, 10, 0))
    early = daily_summary.summarise(session, child, date(2026, 11, 23), date(2026, 11, 23),
                                    now=local(23, 10, 45))
    assert (early.days[0].sleep_minutes, early.days[0].running_spans) == (45, [(600, 645)])
    before = daily_summary.summarise(session, child, date(2026, 11, 23), date(2026, 11, 23),
                                     now=local(23, 9, 0))  # a start after `now`: nothing
    assert (before.days[0].sleep_minutes, before.days[0].running_spans) == (0, [])
    past = daily_summary.summarise(session, child, date(2026, 11, 21), date(2026, 11, 22))
    assert [(d.sleep_minutes, d.running_spans) for d in past.days] == [(0, []), (0, [])]


def test_a_forgotten_sleep_timer_counts_no_more_than_an_entry_can_hold(session, baby):
    parent, child = baby
    timers.start(session, child, parent, "sleep", now=local(21, 12, 0))  # 48 h ago
    days = daily_summary.summarise(session, child, date(2026, 11, 21), date(2026, 11, 23)).days
    assert [(d.sleep_minutes, d.running_spans) for d in days] == [
        (720, [(720, 1440)]), (720, [(0, 720)]), (0, [])]


# --- vaccinations ------------------------------------------------------------------------------

def test_a_reminder_is_ticked_once_and_again_changes_its_date(session, baby):
    parent, child = baby
    row = vaccinations.tick_reminder(session, child, parent, "hep-b-2", "vaccination",
                                     date(2026, 10, 1))
    again = vaccinations.tick_reminder(session, child, parent, "hep-b-2", "vaccination",
                                       date(2026, 10, 3))
    assert again.id == row.id and again.given_on == date(2026, 10, 3)
    assert vaccinations.ticked(session, child) == {"hep-b-2": date(2026, 10, 3)}


@pytest.mark.parametrize(("given_on", "message"), [
    (date(2026, 11, 24), "future"),  # tomorrow in Shanghai
    (date(2026, 8, 31), "before the birth"),
    (None, "enter the date")])
def test_the_date_given_is_between_the_birth_and_today(session, baby, given_on, message):
    parent, child = baby
    with pytest.raises(ValidationError, match=message):
        vaccinations.tick_reminder(session, child, parent, "hep-b-2", "vaccination", given_on)
    with pytest.raises(ValidationError, match=message):
        vaccinations.add(session, child, parent, "vaccination", "BCG", given_on)
    assert session.scalar(select(func.count()).select_from(Vaccination)) == 0
    # today in Shanghai (23 Nov) and the birth day are both fine
    vaccinations.add(session, child, parent, "vaccination", "BCG", date(2026, 11, 23))
    vaccinations.add(session, child, parent, "checkup", "First check", BORN)


@pytest.mark.parametrize(("key", "category", "error"), [
    ("../x", "vaccination", NotFound), ("", "vaccination", NotFound),
    ("a" * 81, "vaccination", NotFound), ("hep-b-2", "tip", ValidationError)])
def test_hostile_reminder_keys_and_categories(session, baby, key, category, error):
    parent, child = baby
    with pytest.raises(error):
        vaccinations.tick_reminder(session, child, parent, key, category, date(2026, 10, 1))


def test_the_record_is_written_as_safe_csv(session, baby):
    parent, child = baby
    vaccinations.tick_reminder(session, child, parent, "hep-b-2", "vaccination",
                               date(2026, 10, 1))
    vaccinations.add(session, child, parent, "vaccination", "=HYPERLINK(\"http://x\")",
                     date(2026, 11, 2), note="-left thigh")
    out = io.StringIO()
    vaccinations.write_csv(out, child, vaccinations.records(session, child),
                           {"hep-b-2": "Hepatitis B, second dose"})
    assert out.getvalue().splitlines() == [
        "\ufeffchild,category,name,reminder,given_on,note",
        "Mia,vaccination,\"'=HYPERLINK(\"\"http://x\"\")\",,2026-11-02,'-left thigh",
        "Mia,vaccination,\"Hepatitis B, second dose\",hep-b-2,2026-10-01,"]
