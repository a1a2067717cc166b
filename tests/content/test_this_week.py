"""`library.this_week` reads light rows, ranks them and picks each item's text itself: it must
choose exactly what `for_stage` ranks first, with the text `ContentItem.text` gives."""
from __future__ import annotations

from datetime import date, timedelta
from types import SimpleNamespace

import pytest

from clock import utcnow
from content import authoring, library, packs
from content.models import Article, Product, Reminder, Status
from content.stages import Stage
from diary.photos import PhotoStore
from tests.content.test_content_core import FakeChild, _article, _pack

BORN = date(2026, 1, 1)
ON = BORN + timedelta(days=14)  # week 2


def _reminder(slug, low, high, translations):  # type: ignore[no-untyped-def]
    return {"slug": slug, "category": "checkup", "window": {"unit": "week", "from": low,
                                                           "to": high},
            "source": "NHS", "translations": {lang: {"title": t, "body": "Do it."}
                                              for lang, t in translations.items()}}


def _product(sku, low, high, active=True):  # type: ignore[no-untyped-def]
    return {"sku": sku, "category": "bath", "price_minor": 100, "currency": "CNY",
            "window": {"unit": "week", "from": low, "to": high}, "active": active,
            "buy_url": f"https://shop.example.com/p/{sku}",
            "translations": {"en": {"name": f"Name {sku}", "description": "D."},
                             "zh_CN": {"name": f"名字 {sku}", "description": "描述"}}}


@pytest.fixture()
def stage_content(session, tmp_path):  # type: ignore[no-untyped-def]
    articles = [
        _article("wide", "week", 0, 12),
        _article("narrow", "week", 2, 2),
        _article("skin", "week", 1, 3, interests=("skin_care",)),
        _article("sleepy", "week", 2, 5, interests=("sleep", "skin_care")),
        _article("later", "week", 3, 6),  # another stage
        _article("english-only", "week", 2, 2, title="Only EN"),  # its zh_CN is removed below
        _article("chinese-only", "week", 2, 2),  # its English is removed below
        _article("scheduled", "week", 2, 2, interests=("bathing",)),
        _article("archived", "week", 2, 2),
    ]
    reminders = [_reminder(f"r{i}", 0, 4 + i, {"en": f"R{i}", "zh_CN": f"提醒{i}"})
                 for i in range(6)]
    products = [_product(f"P-{i}", 0, 2 + i) for i in range(5)] + [
        _product("P-OFF", 2, 2, active=False)]
    packs.import_pack(session, _pack(tmp_path, articles, reminders, products), None,
                      PhotoStore(tmp_path / "images"))
    for key, drop in (("english-only", "zh_CN"), ("chinese-only", "en")):
        item = authoring.find(session, "article", key)
        item.translations = [t for t in item.translations if t.locale != drop]
    authoring.find(session, "article", "scheduled").publish_at = utcnow() + timedelta(days=1)
    authoring.find(session, "article", "archived").status = Status.ARCHIVED.value
    session.flush()


@pytest.mark.usefixtures("stage_content")
@pytest.mark.parametrize("interests", [[], ["skin_care"], ["sleep"], ["sleep", "skin_care"]])
@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_this_week_picks_what_for_stage_ranks_first_with_its_text(session, interests, locale):
    reader = SimpleNamespace(interests=interests)
    week = library.this_week(session, FakeChild(birth=BORN), reader, ON, locale)
    assert week.stage == Stage("week", 2)
    for kind, shown in ((Article, week.articles), (Reminder, week.reminders),
                        (Product, week.products)):
        expected = library.for_stage(session, kind, week.stage, interests,
                                     library.THIS_WEEK_LIMITS[kind.__mapper__
                                                              .polymorphic_identity])
        assert [s.key for s in shown] == [i.key for i in expected]
        assert [(s.id, s.kind, s.title, s.summary) for s in shown] == [
            (i.id, i.kind, i.text(locale).title, i.text(locale).summary) for i in expected]
    keys = {s.key for s in week.articles + week.reminders + week.products}
    assert not keys & {"later", "scheduled", "archived", "P-OFF"}


@pytest.mark.usefixtures("stage_content")
@pytest.mark.parametrize("locale, english_only, chinese_only", [
    ("en", "Only EN", "关于chinese-only"),  # no English: the first translation there is
    ("zh_CN", "Only EN", "关于chinese-only"),  # no Chinese: English
])
def test_missing_translations_fall_back_to_english_then_any(session, locale, english_only,
                                                            chinese_only):
    reader = SimpleNamespace(interests=["none-of-these"])
    week = library.this_week(session, FakeChild(birth=BORN), reader, ON, locale)
    titles = {s.key: s.title for s in week.articles}
    assert titles["english-only"] == english_only and titles["chinese-only"] == chinese_only


@pytest.mark.usefixtures("stage_content")
def test_scheduled_items_appear_when_their_time_comes(session):
    reader = SimpleNamespace(interests=["bathing"])
    child = FakeChild(birth=BORN)
    assert "scheduled" not in [s.key for s in library.this_week(session, child, reader, ON,
                                                                   "en").articles]
    later = utcnow() + timedelta(days=2)
    week = library.this_week(session, child, reader, ON, "en", now=later)
    expected = library.for_stage(session, Article, Stage("week", 2), ["bathing"], 3, now=later)
    assert [s.key for s in week.articles] == [a.key for a in expected]
    assert week.articles[0].key == "scheduled"


def test_no_stage_no_items(session):
    reader = SimpleNamespace(interests=[])
    week = library.this_week(session, FakeChild(birth=date(2015, 1, 1)), reader, ON, "en")
    assert week.stage is None and week.articles == week.reminders == week.products == []


@pytest.mark.usefixtures("stage_content")
def test_the_stage_cache_never_shows_a_change_late(session):
    """Candidates are kept per stage and language while no item changes: an edit, a
    publication or an archive shows on the very next page."""
    reader = SimpleNamespace(interests=[])
    child = FakeChild(birth=BORN)
    now = utcnow()

    def titles():  # type: ignore[no-untyped-def]
        return [s.title for s in library.this_week(session, child, reader, ON, "en",
                                                   now=now).articles]

    first = titles()
    assert first == titles()  # the second answer comes from the cache
    narrow = authoring.find(session, "article", "narrow")
    assert narrow.text("en").title in first
    narrow.text("en").title = "Renamed"
    narrow.version += 1  # an edit saves a new version: the item row changes
    session.flush()
    assert "Renamed" in titles()
    narrow.status = Status.ARCHIVED.value
    session.flush()
    assert "Renamed" not in titles()
    archived = authoring.find(session, "article", "archived")
    archived.status = Status.PUBLISHED.value
    session.flush()
    assert archived.text("en").title in titles()


@pytest.mark.usefixtures("stage_content")
def test_the_stage_cache_lets_a_scheduled_item_in_within_its_time_to_live(session):
    reader = SimpleNamespace(interests=["bathing"])
    child = FakeChild(birth=BORN)
    due = authoring.find(session, "article", "scheduled").publish_at
    before = library.this_week(session, child, reader, ON, "en", now=due - timedelta(seconds=1))
    assert "scheduled" not in [s.key for s in before.articles]
    after = library.this_week(session, child, reader, ON, "en",
                              now=due + library.THIS_WEEK_TTL)
    assert after.articles[0].key == "scheduled"
