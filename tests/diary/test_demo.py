"""`flask demo load`: the demo families are true to their stories and load only once."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

import db
from diary import accounts, age, demo, milestones, passwords
from diary.models import Child, Entry, Family, Membership, Photo, User
from diary.photos import PhotoStore

PARENTS = ("demo.expecting@example.com", "demo.newborn@example.com", "demo.preterm@example.com",
           "demo.preterm.dad@example.com", "demo.twins@example.com")
STAFF = {"marketer@example.com": "marketer", "analyst@example.com": "analyst",
         "service@example.com": "service", "admin@example.com": "admin"}


def _recent_day() -> date:
    """A fixed-per-day `today` that works whenever the suite runs.

    Yesterday (UTC), so it is already over in Shanghai and London and no entry is skipped as
    future; and a day of the month every month has, so "8 months" and "24 months" before it
    are exact. Not a constant date: registration checks due dates against the real clock.
    """
    day = datetime.now(UTC).date() - timedelta(days=1)
    while day.day > 28:
        day -= timedelta(days=1)
    return day


TODAY = _recent_day()


@dataclass
class Loaded:
    session: Session
    store: PhotoStore
    report: demo.DemoReport


@pytest.fixture(scope="module")
def loaded(engine: Engine, tmp_path_factory: pytest.TempPathFactory):
    """One load shared by the module's tests (it takes seconds), rolled back at the end.

    Same pattern as conftest's `session`: an outer transaction on one connection, the session
    working in SAVEPOINTs, so `with session.begin()` behaves as in the CLI.
    """
    connection = engine.connect()
    outer = connection.begin()
    session = db.make_session_factory(connection, join_transaction_mode="create_savepoint")()
    store = PhotoStore(tmp_path_factory.mktemp("demo-photos"))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(passwords, "_hasher", passwords._FAST)  # the suite's cheap argon2
        with session.begin():
            report = demo.load(session, store, today=TODAY)
        yield Loaded(session, store, report)
    session.close()
    outer.rollback()
    connection.close()


def _children(session: Session, email: str) -> list[Child]:
    user = accounts.find_user_by_email(session, email)
    assert user is not None
    return list(session.scalars(
        select(Child).join(Membership, Membership.family_id == Child.family_id)
        .where(Membership.user_id == user.id).order_by(Child.id)))


def _entry_count(session: Session, children: list[Child]) -> int:
    return session.scalar(select(func.count(Entry.id)).where(
        Entry.child_id.in_([c.id for c in children])))


def test_every_login_exists_and_signs_in_with_the_demo_password(loaded):
    session, report = loaded.session, loaded.report
    for email in (*PARENTS, *STAFF):
        assert accounts.authenticate(session, email, demo.DEMO_PASSWORD) is not None, email
    for email, role in STAFF.items():
        assert accounts.find_user_by_email(session, email).staff_role == role
    assert accounts.find_user_by_email(session, "demo.twins@example.com").staff_role is None
    summary = report.summary()
    for email in (*PARENTS, *STAFF):
        assert email in summary
    assert demo.DEMO_PASSWORD in summary


def test_locales_and_time_zones_are_mixed(loaded):
    session = loaded.session
    expecting = accounts.find_user_by_email(session, "demo.expecting@example.com")
    newborn = accounts.find_user_by_email(session, "demo.newborn@example.com")
    assert (expecting.locale, expecting.timezone) == ("zh_CN", "Asia/Shanghai")
    assert (newborn.locale, newborn.timezone) == ("en", "Europe/London")
    assert _children(session, newborn.email)[0].family.timezone == "Europe/London"


def test_the_children_are_the_ages_their_stories_say(loaded):
    session = loaded.session
    [expected] = _children(session, "demo.expecting@example.com")
    assert expected.birth_date is None
    progress = age.pregnancy_progress(expected.due_date, TODAY)
    assert (progress.weeks, progress.days) == (20, 0)

    [newborn] = _children(session, "demo.newborn@example.com")
    assert age.age_on(newborn.birth_date, TODAY).days == 14
    assert (newborn.gestational_weeks_at_birth, newborn.gestational_days_at_birth) == (39, 3)
    assert newborn.sex == "female" and newborn.birth_weight_kg == pytest.approx(3.4)

    [preterm] = _children(session, "demo.preterm@example.com")
    assert (preterm.gestational_weeks_at_birth, preterm.gestational_days_at_birth) == (32, 0)
    assert preterm.sex == "male" and preterm.birth_weight_kg == pytest.approx(1.7)
    chronological = age.age_on(preterm.birth_date, TODAY)
    assert (chronological.months, chronological.month_days) == (8, 0)
    corrected = age.corrected_age_on(preterm.birth_date, 32, 0, TODAY)
    assert corrected is not None and corrected.months == 6

    twins = _children(session, "demo.twins@example.com")
    assert len(twins) == 2 and {c.sex for c in twins} == {"female", "male"}
    assert twins[0].family_id == twins[1].family_id
    assert twins[0].birth_date == twins[1].birth_date
    twin_age = age.age_on(twins[0].birth_date, TODAY)
    assert (twin_age.months, twin_age.month_days) == (24, 0)


def test_every_family_has_months_of_history_with_photos_on_disk(loaded):
    session, report, store = loaded.session, loaded.report, loaded.store
    for email in ("demo.expecting@example.com", "demo.newborn@example.com",
                  "demo.preterm@example.com", "demo.twins@example.com"):
        children = _children(session, email)
        assert _entry_count(session, children) > 50, email
        assert report.entries[email] == _entry_count(session, children)
        first = session.scalar(select(func.min(Entry.occurred_at)).where(
            Entry.child_id.in_([c.id for c in children])))
        assert first < datetime.now(UTC) - timedelta(days=60), email
    keys = list(session.scalars(select(Photo.storage_key)))
    assert 40 <= len(keys) <= 60
    assert all(store.path(key).exists() and store.path(key, "thumb").exists() for key in keys)


def test_no_entry_is_in_the_future(loaded):
    session = loaded.session
    latest = session.scalar(select(func.max(Entry.occurred_at)))
    assert latest <= datetime.now(UTC)


def test_the_preterm_boy_is_written_about_by_both_parents(loaded):
    session = loaded.session
    [child] = _children(session, "demo.preterm@example.com")
    dad = accounts.find_user_by_email(session, "demo.preterm.dad@example.com")
    membership = session.scalar(select(Membership).where(Membership.user_id == dad.id))
    assert (membership.family_id, membership.role, membership.relationship_to_child) == \
        (child.family_id, "editor", "father")
    authors = set(session.scalars(select(User.email).join(Entry, Entry.author_id == User.id)
                                  .where(Entry.child_id == child.id)))
    assert authors == {"demo.preterm@example.com", "demo.preterm.dad@example.com"}


def test_growth_only_goes_up_in_length_and_head(loaded):
    session = loaded.session
    for child in _children(session, "demo.twins@example.com"):
        rows = [e.measurement for e in session.scalars(
            select(Entry).where(Entry.child_id == child.id, Entry.kind == "measurement")
            .order_by(Entry.occurred_at))]
        assert len(rows) == 16
        lengths = [m.length_cm for m in rows]
        heads = [m.head_cm for m in rows]
        assert lengths == sorted(lengths) and heads == sorted(heads)
        assert 9.5 < rows[-1].weight_kg < 13.5 and 82 < lengths[-1] < 92


def test_born_children_have_ticked_their_milestone_checklists(loaded):
    session = loaded.session
    [newborn] = _children(session, "demo.newborn@example.com")
    assert milestones.achieved(session, newborn) == {}  # two weeks old: no checkpoint yet
    [preterm] = _children(session, "demo.preterm@example.com")
    twins = _children(session, "demo.twins@example.com")
    now = datetime.now(UTC)
    for child in (preterm, *twins):
        done = milestones.achieved(session, child)
        assert done, child.name
        for tick in done.values():
            assert tick.occurred_at <= now
            assert child.birth_date <= age.local_date(tick.occurred_at, child.family.timezone) \
                <= TODAY, (child.name, tick)
        # Every checkpoint passed is ticked, the current one all but one or two, none later.
        checklist = milestones.checklist(session, child, TODAY)
        for checkpoint in milestones.CHECKPOINTS:
            ids = {m.id for m in milestones.for_checkpoint(checkpoint)}
            missing = ids - done.keys()
            if checkpoint < checklist.current:
                assert not missing, (child.name, checkpoint, missing)
            elif checkpoint == checklist.current:
                assert 1 <= len(missing) <= 2, (child.name, checkpoint, missing)
            else:
                assert not ids & done.keys(), (child.name, checkpoint)
        # One entry per event: a story's own milestone is the tick, never a second entry.
        ticked = [e.data["milestone_id"] for e in session.scalars(
            select(Entry).where(Entry.child_id == child.id, Entry.kind == "milestone"))
            if "milestone_id" in (e.data or {})]
        assert len(ticked) == len(set(ticked)) == len(done)
    assert milestones.checklist(session, preterm, TODAY).current == 6  # corrected: 6 months
    assert milestones.checklist(session, preterm, TODAY).corrected
    assert [milestones.checklist(session, twin, TODAY).current for twin in twins] == [24, 24]
    for twin in twins:
        smile = session.get(Entry, milestones.achieved(session, twin)["m02-social-smiles"].entry_id)
        assert smile.title == "First smile" and smile.body
    authors = set(session.scalars(select(User.email).join(Entry, Entry.author_id == User.id).where(
        Entry.id.in_([t.entry_id for t in milestones.achieved(session, preterm).values()]))))
    assert authors == {"demo.preterm@example.com", "demo.preterm.dad@example.com"}


def _counts(session: Session) -> list[int]:
    return [session.scalar(select(func.count()).select_from(model))
            for model in (User, Family, Membership, Child, Entry, Photo)]


def test_loading_twice_creates_nothing_new(loaded):
    session = loaded.session
    assert not loaded.report.already_loaded
    session.rollback()  # end the read-only transaction earlier tests may have left open
    with session.begin():
        before = _counts(session)
        again = demo.load(session, loaded.store, today=TODAY)
        assert _counts(session) == before
    assert again.already_loaded and "already loaded" in again.summary()
    assert sum(again.entries.values()) == 0 and sum(again.photos.values()) == 0


def test_the_demo_staff_find_a_parent_by_the_phone_they_give(loaded):
    from crm import search

    for typed in ("13800138000", "+86 138-0013-8000", "0086 138 0013 8000"):
        found = search.find(loaded.session, typed)
        assert [(r.user.email, r.hits[0].field) for r in found.results] == \
            [("demo.expecting@example.com", "phone")], typed


def test_the_newborn_has_timed_feeds_tummy_time_and_vaccines_at_birth_ticked(loaded):
    from diary import daily_summary, timers, vaccinations
    from diary.models import Timer
    session = loaded.session
    [isla] = _children(session, "demo.newborn@example.com")
    rows = session.execute(select(Timer.kind, Timer.status, Timer.entry_id).where(
        Timer.child_id == isla.id)).all()
    assert sorted({(kind, status) for kind, status, _ in rows}) == [
        ("feed", "stopped"), ("sleep", "discarded"), ("tummy", "stopped")]
    assert len([r for r in rows if r.status == "stopped"]) == 15
    assert all(entry_id is not None for _, status, entry_id in rows if status == "stopped")
    assert timers.running(session, isla) == {}
    assert vaccinations.ticked(session, isla) == {
        "vaccines-at-birth": isla.birth_date,
        "newborn-blood-spot-test": isla.birth_date + timedelta(days=5)}
    summary = daily_summary.summarise(session, isla, TODAY - timedelta(days=6), TODAY)
    assert all(d.feeds >= 6 and d.nappies >= 3 and d.sleep_minutes >= 8 * 60
               for d in summary.days[:-1]), [(d.feeds, d.nappies, d.sleep_minutes)
                                             for d in summary.days]
    assert all(d.tummy_minutes >= 7 for d in summary.days[1:-1])


def test_the_birth_club_demo_has_posts_a_reported_one_and_its_moderator(loaded):
    """`flask demo load` then fills the main demo parent's birth club (community.demo); run
    last in this module and rolled back, so the other tests see the diary demo alone."""
    from community import clubs, moderation, posts
    from community import demo as clubs_demo
    from community.models import ClubPost

    session = loaded.session
    session.rollback()
    outer = session.begin()
    try:
        made = clubs_demo.load(session, loaded.store, datetime.now(UTC))
        assert made.created and "moderator@example.com" in made.summary()
        emma = accounts.find_user_by_email(session, "demo.newborn@example.com")
        moderator = accounts.authenticate(session, "moderator@example.com", demo.DEMO_PASSWORD)
        assert moderator is not None and moderator.staff_role == "moderator"
        [club] = [c for c in clubs.my_clubs(session, emma) if c.kind == "birth"]
        assert club.month == _children(session, "demo.newborn@example.com")[0].birth_date \
            .replace(day=1)
        assert moderation.moderated_club_ids(session, moderator) == [club.id]
        feed = posts.feed(session, emma, club)
        assert len(feed.posts) == 4 and sum(feed.likes.values()) == 6
        assert sum(feed.comments.values()) == 4
        assert {p.author.email for p in feed.posts} >= {"demo.twins@example.com",
                                                        "demo.expecting@example.com"}
        assert any(p.photo_key for p in feed.posts)
        [item] = moderation.queue(session, moderator)
        assert item.reports and "微信" in item.post.body
        again = clubs_demo.load(session, loaded.store, datetime.now(UTC))
        assert not again.created
        assert session.query(ClubPost).count() == 4
    finally:
        outer.rollback()
