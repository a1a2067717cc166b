"""The stage engine and the ledger: pushes happen once, at the right stage, for everyone."""
from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import db
from content import packs
from diary import accounts, families, registration
from diary import age as agemath
from diary.models import Family
from diary.photos import PhotoStore
from journeys import jobs
from journeys.models import Delivery, Enrolment, InboxMessage, TickRun
from tests.conftest import PASSWORD, migrated_database_url, run_at_once


def _text(title):
    return {"title": title, "summary": "s", "body": "## b\n\nbody"}


def _pack(folder):
    folder.mkdir(exist_ok=True)
    articles = [{"slug": f"pw-{w}", "window": {"unit": "pregnancy_week", "from": w, "to": w},
                 "topics": ["prenatal-care"], "source": "WHO",
                 "translations": {"en": _text(f"Week {w}"), "zh_CN": _text(f"孕{w}周")}}
                for w in (20, 21)]
    articles.append({"slug": "skin-20", "window": {"unit": "pregnancy_week", "from": 20,
                                                   "to": 21},
                     "topics": ["skin-care"], "interests": ["skin_care"], "source": "WHO",
                     "translations": {"en": _text("Skin at 20"), "zh_CN": _text("皮肤")}})
    reminders = [{"slug": "scan-20", "category": "checkup", "source": "NHS",
                  "window": {"unit": "pregnancy_week", "from": 20, "to": 20},
                  "translations": {"en": {"title": "Anomaly scan", "body": "b"},
                                   "zh_CN": {"title": "大排畸", "body": "b"}}}]
    products = [{"sku": "BJ-BELT-001", "category": "maternity", "price_minor": 100,
                 "currency": "CNY", "window": {"unit": "pregnancy_week", "from": 16, "to": 40},
                 "translations": {"en": {"name": "Belt", "description": ""},
                                  "zh_CN": {"name": "托腹带", "description": ""}}}]
    for name, rows in (("articles.json", articles), ("reminders.json", reminders),
                       ("products.json", products)):
        (folder / name).write_text(json.dumps(rows))
    return folder


@pytest.fixture()
def world(tmp_path, clock_at):
    """A real, committed database (ticks run in their own transactions, like the scheduler),
    on a fixed day: the clock stands at `now` too, so registration's checks agree with it."""
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    now = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)  # noon in Shanghai
    clock_at(now)
    today = agemath.local_date(now, "Asia/Shanghai")
    with factory() as s, s.begin():
        packs.import_pack(s, _pack(tmp_path / "pack"), None, PhotoStore(tmp_path / "img"))
        done = registration.register(s, registration.Registration(
            email="mum@example.com", password=PASSWORD,
            profile=accounts.Profile(display_name="Mum", interests=["skin_care"]),
            relationship="mother", child_data_consent=True, digest_opt_in=True,
            marketing_opt_in=False,
            child=families.ChildDetails(name="Bean", due_date=today + timedelta(days=140))),
            "test")
        dad = accounts.create_user(s, "dad@example.com", PASSWORD,
                                   accounts.Profile(display_name="Dad"))
        from diary.models import Membership
        s.add(Membership(family=done.family, user=dad, role="editor",
                         relationship_to_child="father"))
    yield factory, now
    engine.dispose()
    drop()


def _count(factory, model, *where):
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _titles(factory, email):
    from content.models import ContentItem
    from diary.models import User
    with factory() as s:
        user = s.scalar(select(User).where(User.email == email))
        ids = s.scalars(select(InboxMessage.item_id).where(InboxMessage.user_id == user.id))
        return sorted(s.get(ContentItem, i).text("en").title for i in ids)


def test_first_tick_pushes_the_stage_to_every_caregiver_once(world):
    factory, now = world
    summary = jobs.run_journeys_tick(factory, now)
    assert summary.enrolled == 1 and summary.processed == 1
    # week 20 on entry: the article and the reminder; mum also gets the skin-care branch
    # after one day, products after three days.
    assert _titles(factory, "dad@example.com") == ["Anomaly scan", "Week 20"]
    assert _titles(factory, "mum@example.com") == ["Anomaly scan", "Week 20"]
    again = jobs.run_journeys_tick(factory, now)
    assert again.pushed == 0 and _count(factory, InboxMessage) == 4


def test_delays_branches_and_the_next_stage(world):
    factory, now = world
    jobs.run_journeys_tick(factory, now)
    jobs.run_journeys_tick(factory, now + timedelta(days=1))
    assert "Skin at 20" in _titles(factory, "mum@example.com")
    assert "Skin at 20" not in _titles(factory, "dad@example.com")  # branch on interest
    jobs.run_journeys_tick(factory, now + timedelta(days=3))
    assert "Belt" in _titles(factory, "dad@example.com")
    jobs.run_journeys_tick(factory, now + timedelta(days=7))  # week 21 now
    assert "Week 21" in _titles(factory, "dad@example.com")
    with factory() as s:
        assert s.scalar(select(Enrolment.stage_key)) == "pw-21"
    # the skin article's window spans weeks 20-21, but it reaches a person once per journey
    assert _titles(factory, "mum@example.com").count("Skin at 20") == 1


def test_two_schedulers_at_once_push_nothing_twice(world):
    factory, now = world
    errors = run_at_once(lambda: jobs.run_journeys_tick(factory, now, batch_size=1))
    assert errors == []
    assert _count(factory, InboxMessage) == 4
    with factory() as s:
        keys = s.execute(select(Delivery.user_id, Delivery.item_key, Delivery.channel,
                                Delivery.occurrence)).all()
    assert len(keys) == len(set(keys)) == 4


def test_children_past_the_last_stage_exit_and_unborn_ones_wait(world):
    factory, now = world
    today = agemath.local_date(now, "Asia/Shanghai")
    with factory() as s, s.begin():
        family = s.scalar(select(Family))
        families.add_child(s, family, families.ChildDetails(
            name="Big sister", birth_date=agemath.add_months(today, 0).replace(
                year=today.year - 3) + timedelta(days=20), sex="female"))
    first = jobs.run_journeys_tick(factory, now)
    assert first.enrolled == 2 and first.exited == 0  # 35 months: the last stage
    later = jobs.run_journeys_tick(factory, now + timedelta(days=60))
    assert later.exited == 1  # past 36 months
    years_later = jobs.run_journeys_tick(factory, now + timedelta(days=365 * 4))
    assert years_later.exited == 0  # the baby whose birth was never recorded stays
    with factory() as s:
        statuses = sorted(s.scalars(select(Enrolment.status)))
    assert statuses == ["active", "exited"]


def test_tick_workers_share_the_batches_and_record_one_run(world):
    """Two worker threads (PostgreSQL: SKIP LOCKED; SQLite falls back to one) process every
    enrolment once, and the TickRun row adds up both workers' counts."""
    factory, now = world
    today = agemath.local_date(now, "Asia/Shanghai")
    with factory() as s, s.begin():
        for n in range(6):
            registration.register(s, registration.Registration(
                email=f"parent{n}@example.com", password=PASSWORD,
                profile=accounts.Profile(display_name=f"P{n}"), relationship="mother",
                child_data_consent=True, digest_opt_in=True, marketing_opt_in=False,
                child=families.ChildDetails(name=f"B{n}",
                                            due_date=today + timedelta(days=140 - n))), "test")
    summary = jobs.run_journeys_tick(factory, now, batch_size=2, workers=2)
    assert (summary.enrolled, summary.processed) == (7, 7)
    deliveries = _count(factory, Delivery)
    assert summary.pushed == deliveries == _count(factory, InboxMessage) == 2 * 2 + 6 * 2
    with factory() as s:
        run = s.scalar(select(TickRun).where(TickRun.kind == "journeys"))
        assert (run.processed, run.created) == (7, deliveries)
        assert run.last_id == s.scalar(select(func.max(Enrolment.id)))
        assert run.finished_at is not None
        assert s.scalar(select(func.count()).select_from(Enrolment)
                        .where(Enrolment.last_tick_at.is_(None))) == 0
    again = jobs.run_journeys_tick(factory, now, batch_size=2, workers=2)
    assert (again.processed, again.pushed) == (0, 0)
