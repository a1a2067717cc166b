"""Content domain: stages, packs (import/export), coverage, workflow, library queries."""
from __future__ import annotations

import io
import json
import zipfile
from datetime import date, timedelta

import pytest
from sqlalchemy import func, select

from content import authoring, coverage, library, packs, workflow
from content.models import Article, ContentItem, Product, Reminder, Status, Version
from content.stages import Stage, stage_of
from diary import accounts
from diary.errors import PermissionDenied
from diary.photos import PhotoStore
from tests.conftest import PASSWORD


def _article(slug, unit, low, high, topics=("sleep",), interests=(), title=None):
    text = {"title": title or f"About {slug}", "summary": "A summary.", "body": "## Hi\n\nBody."}
    return {"slug": slug, "window": {"unit": unit, "from": low, "to": high},
            "topics": list(topics), "interests": list(interests), "source": "WHO",
            "translations": {"en": text, "zh_CN": {**text, "title": f"关于{slug}"}}}


def _pack(tmp_path, articles, reminders=(), products=()):
    folder = tmp_path / "pack"
    folder.mkdir(exist_ok=True)
    (folder / "articles.json").write_text(json.dumps(list(articles)))
    (folder / "reminders.json").write_text(json.dumps(list(reminders)))
    (folder / "products.json").write_text(json.dumps(list(products)))
    return folder


PRODUCT = {"sku": "BJ-TEST-001", "category": "bath", "price_minor": 5900, "currency": "CNY",
           "window": {"unit": "week", "from": 0, "to": 12}, "active": True,
           "buy_url": "https://shop.example.com/p/BJ-TEST-001",
           "translations": {"en": {"name": "Gentle wash", "description": "Mild."},
                            "zh_CN": {"name": "温和沐浴露", "description": "温和。"}}}
REMINDER = {"slug": "checkup-6-weeks", "category": "checkup",
            "window": {"unit": "week", "from": 5, "to": 7}, "source": "NHS",
            "translations": {"en": {"title": "Book the 6-week check", "body": "Call them."},
                             "zh_CN": {"title": "预约6周体检", "body": "打电话预约。"}}}


@pytest.fixture()
def store(tmp_path):
    return PhotoStore(tmp_path / "content-images")


class FakeFamily:
    timezone = "Asia/Shanghai"


class FakeChild:
    def __init__(self, birth=None, due=None, ga=None):
        self.birth_date, self.due_date = birth, due
        self.gestational_weeks_at_birth, self.gestational_days_at_birth = ga, 0 if ga else None
        self.family = FakeFamily()


@pytest.mark.parametrize("child, on, expected", [
    (FakeChild(due=date(2026, 6, 1)), date(2026, 1, 15), Stage("pregnancy_week", 20)),
    (FakeChild(due=date(2026, 6, 1)), date(2025, 9, 1), None),  # week 1: too early
    (FakeChild(due=date(2026, 6, 1)), date(2026, 6, 20), Stage("pregnancy_week", 42)),
    (FakeChild(birth=date(2026, 1, 1)), date(2026, 1, 1), Stage("week", 0)),
    (FakeChild(birth=date(2026, 1, 1)), date(2026, 4, 1), Stage("week", 12)),  # day 90
    (FakeChild(birth=date(2026, 1, 1)), date(2026, 4, 2), Stage("month", 3)),  # day 91
    (FakeChild(birth=date(2026, 1, 1)), date(2027, 7, 15), Stage("month", 18)),
    # born at 32+0: eight weeks early, so at 8 months chronological it is 6 months corrected
    (FakeChild(birth=date(2026, 1, 1), ga=32), date(2026, 9, 1), Stage("month", 6)),
    (FakeChild(birth=date(2020, 1, 1)), date(2026, 1, 2), None),  # past 5 years
])
def test_stage_of(child, on, expected):
    assert stage_of(child, on) == expected


def test_import_is_validated_transactional_and_idempotent(session, tmp_path, store):
    folder = _pack(tmp_path, [_article("week-12", "pregnancy_week", 12, 12)], [REMINDER],
                   [PRODUCT])
    report = packs.import_pack(session, folder, None, store)
    assert sorted(report.created) == ["article:week-12", "product:BJ-TEST-001",
                                      "reminder:checkup-6-weeks"]
    item = authoring.find(session, "product", "BJ-TEST-001")
    assert item.status == "published" and item.price_minor == 5900 and item.version == 1
    again = packs.import_pack(session, folder, None, store)
    assert again.created == [] and again.updated == [] and len(again.unchanged) == 3
    changed = _article("week-12", "pregnancy_week", 12, 13, title="Week 12 and 13")
    folder = _pack(tmp_path, [changed], [REMINDER], [PRODUCT])
    third = packs.import_pack(session, folder, None, store)
    assert third.updated == ["article:week-12"]
    article = authoring.find(session, "article", "week-12")
    assert article.window_to == 13 and article.text("en").title == "Week 12 and 13"
    assert article.version == 2


def test_bad_pack_lists_every_problem_and_writes_nothing(session, tmp_path, store):
    bad = [_article("Bad Slug", "pregnancy_week", 12, 12),
           _article("empty-window", "pregnancy_week", 14, 12),
           {**_article("no-zh", "week", 1, 1), "translations": {
               "en": {"title": "x", "summary": "", "body": "y"}}},
           _article("bad-link", "week", 1, 1) | {"translations": {
               "en": {"title": "x", "summary": "", "body": "[a](javascript:alert(1))"},
               "zh_CN": {"title": "x", "summary": "", "body": "y"}}}]
    folder = _pack(tmp_path, bad, [], [{**PRODUCT, "buy_url": "http://insecure.example/p"}])
    with pytest.raises(packs.PackError) as caught:
        packs.import_pack(session, folder, None, store)
    problems = "\n".join(caught.value.problems)
    assert len(caught.value.problems) == 5
    for words in ("lowercase letters", "window is empty", "Chinese title is missing",
                  "does not look right", "must start with https://"):
        assert words in problems
    assert session.scalar(select(func.count(ContentItem.id))) == 0


def test_export_import_round_trip(session, tmp_path, store):
    folder = _pack(tmp_path, [_article("week-12", "pregnancy_week", 12, 12)], [REMINDER],
                   [PRODUCT])
    packs.import_pack(session, folder, None, store)
    data = packs.export_pack(session, store)
    archive = zipfile.ZipFile(io.BytesIO(data))
    articles = json.loads(archive.read("articles.json"))
    assert articles[0]["slug"] == "week-12" and articles[0]["translations"]["zh_CN"][
        "title"] == "关于week-12"
    report = packs.import_pack(session, data, None, store)
    assert report.created == [] and report.updated == [] and len(report.unchanged) == 3


def test_coverage_finds_exactly_the_gaps(session, tmp_path, store):
    stages = [Stage("pregnancy_week", 11), Stage("pregnancy_week", 12), Stage("week", 6)]
    folder = _pack(tmp_path, [_article("w12", "pregnancy_week", 12, 12),
                              _article("w12b", "pregnancy_week", 11, 12)], [REMINDER], [PRODUCT])
    packs.import_pack(session, folder, None, store)
    result = coverage.report(session, stages=stages)
    gaps = {(g["kind"], g["stage"]) for g in result["gaps"] if g["locale"] == "en"}
    assert gaps == {("article", "week:6"), ("reminder", "pregnancy_week:11"),
                    ("reminder", "pregnancy_week:12"), ("product", "pregnancy_week:11"),
                    ("product", "pregnancy_week:12")}
    assert result["counts"]["article"]["pregnancy_week:12"] == {"en": 2, "zh_CN": 2}
    thin = {(t["kind"], t["stage"]) for t in result["thin"] if t["locale"] == "en"}
    assert thin == {("article", "pregnancy_week:11")}


def _staff(session, role, name=""):
    user = accounts.create_staff(session, f"{role}{name}@example.com", PASSWORD, role,
                                 f"{role.title()} {name}".strip())
    session.flush()
    return user


def test_workflow_roles_and_waiting_edits(session, tmp_path, store):
    marketer, reviewer = _staff(session, "marketer"), _staff(session, "reviewer")
    data = authoring.ItemInput(
        kind="article", key="sleep-basics", window_unit="week", window_from=0, window_to=4,
        topics=["sleep"], translations={"en": authoring.TextInput("Sleep", "s", "body"),
                                        "zh_CN": authoring.TextInput("睡眠", "s", "正文")})
    item = authoring.create(session, data, marketer)
    assert item.status == "draft"
    workflow.submit(item, marketer)
    with pytest.raises(PermissionDenied):
        workflow.publish(session, item, marketer, review_required=True, version=1)
    workflow.publish(session, item, reviewer, review_required=True, version=1)
    assert item.status == "published"
    data.translations["en"].title = "Safe sleep"
    authoring.save(session, item, data, marketer, review_required=True)
    assert item.pending_review and item.text("en").title == "Sleep"  # readers see the old one
    workflow.submit(item, marketer)
    workflow.publish(session, item, reviewer, review_required=True, version=2)
    assert not item.pending_review and item.text("en").title == "Safe sleep"
    v1, v2 = sorted(authoring.versions(session, item), key=lambda v: v.number)
    assert authoring.diff(v1, v2)[0][0] == "title (en)"
    authoring.revert(session, item, 1, reviewer, review_required=True)
    assert item.pending_review and item.text("en").title == "Safe sleep"  # waits, like any save
    with pytest.raises(PermissionDenied):  # the reverter cannot approve their own revert
        workflow.publish(session, item, reviewer, review_required=True, version=3)
    second = _staff(session, "reviewer", "second")
    workflow.publish(session, item, second, review_required=True, version=3)
    assert item.text("en").title == "Sleep" and item.version == 3
    assert session.scalar(select(func.count(Version.id)).where(Version.item_id == item.id)) == 3
    # marketers may publish alone when the site does not require review
    workflow.archive(item, reviewer, True)
    workflow.restore(item, marketer)
    workflow.publish(session, item, marketer, review_required=False, version=3)
    assert item.status == Status.PUBLISHED.value


def test_scheduled_items_stay_hidden_until_their_time(session, tmp_path, store):
    folder = _pack(tmp_path, [_article("later", "week", 3, 3)])
    packs.import_pack(session, folder, None, store)
    item = authoring.find(session, "article", "later")
    from clock import utcnow
    item.publish_at = utcnow() + timedelta(days=2)
    session.flush()
    assert library.for_stage(session, Article, Stage("week", 3)) == []
    assert library.for_stage(session, Article, Stage("week", 3),
                             now=utcnow() + timedelta(days=3)) == [item]
    assert workflow.status_label(item, utcnow()) == "scheduled"


def test_library_ranks_interests_and_searches_chinese(session, tmp_path, store):
    folder = _pack(tmp_path, [
        _article("general", "week", 0, 12, interests=()),
        _article("skin", "week", 2, 4, interests=("skin_care",), topics=("skin-care",)),
        {**_article("zh", "week", 2, 2), "translations": {
            "en": {"title": "Crying", "summary": "", "body": "Crying peaks."},
            "zh_CN": {"title": "哭闹", "summary": "", "body": "宝宝的睡眠和哭闹"}}}],
        [REMINDER], [PRODUCT])
    packs.import_pack(session, folder, None, store)
    keys = [a.key for a in library.for_stage(session, Article, Stage("week", 2), ["skin_care"])]
    assert keys[0] == "skin" and set(keys) == {"general", "skin", "zh"}
    assert [i.key for i in library.find(session, "睡眠")] == ["zh"]
    assert [i.key for i in library.find(session, "crying peaks")] == ["zh"]
    products = library.for_stage(session, Product, Stage("week", 2))
    assert [p.key for p in products] == ["BJ-TEST-001"]
    assert library.for_stage(session, Reminder, Stage("week", 8)) == []


def test_titles_keep_ampersands_and_lose_tags():
    from content.rendering import plain_text
    assert plain_text("Tom & Jerry <b>bold</b> 1 < 2") == "Tom & Jerry bold 1 < 2"


def test_pack_images_are_stored_once_and_reimport_is_unchanged(session, tmp_path, store):
    from tests.web.helpers import png_bytes
    folder = _pack(tmp_path, [], [], [{**PRODUCT, "image": "images/wash.png"}])
    (folder / "images").mkdir()
    (folder / "images" / "wash.png").write_bytes(png_bytes((300, 300)))
    packs.import_pack(session, folder, None, store)
    item = authoring.find(session, "product", "BJ-TEST-001")
    assert item.image_key and store.path(item.image_key).exists()
    again = packs.import_pack(session, folder, None, store)
    assert again.unchanged == ["product:BJ-TEST-001"]
    assert len(list(store.root.rglob("*.full.jpg"))) == 1


@pytest.mark.parametrize("child, on", [
    (FakeChild(due=date(2026, 6, 1)), date(2026, 1, 15)),
    (FakeChild(birth=date(2026, 1, 31)), date(2026, 1, 31)),
    (FakeChild(birth=date(2026, 1, 31)), date(2026, 5, 10)),
    (FakeChild(birth=date(2024, 2, 29), ga=30), date(2024, 3, 1)),
    (FakeChild(birth=date(2024, 2, 29), ga=30), date(2025, 12, 30)),
    (FakeChild(birth=date(2022, 1, 1)), date(2026, 12, 31)),
])
def test_next_change_is_exactly_the_next_day_the_stage_differs(child, on):
    """Brute force: walk day by day and compare with the analytic answer."""
    from content.stages import next_change
    expected, day, current = None, on, stage_of(child, on)
    for _ in range(800):
        day += timedelta(days=1)
        if stage_of(child, day) != current:
            expected = day
            break
    assert next_change(child, on) == expected
