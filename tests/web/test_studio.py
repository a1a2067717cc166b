"""The content studio: access, editors, workflow, versions, previews, coverage, packs."""
from __future__ import annotations

import io
import json
import os
import re
import secrets
import time
import zipfile
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from clock import utcnow
from content import authoring, coverage, workflow
from content.authoring import ItemInput, TextInput
from content.models import ContentItem, Version
from diary import accounts
from diary.photos import process_upload
from tests.conftest import PASSWORD
from tests.web.helpers import png_bytes

XSS = ("<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "[x](javascript:alert(1))")


# --- helpers ---------------------------------------------------------------------------------

def make_staff(session, role, name=None):
    user = accounts.create_staff(session, f"{role}-{secrets.token_hex(3)}@example.com",
                                 PASSWORD, role, name or role.title())
    session.commit()
    return user


def make_item(session, kind="article", key="week-12-scan", title="Your 12-week scan",
              unit="pregnancy_week", low=12, high=12, publish=True, **extra):
    data = ItemInput(kind=kind, key=key, translations={
        "en": TextInput(title, "A short summary.", "Some **text**."),
        "zh_CN": TextInput(title + "（中文）", "简短摘要。", "一些**正文**。")},
        window_unit=unit if kind != "faq" else None,
        window_from=low if kind != "faq" else None,
        window_to=high if kind != "faq" else None, **extra)
    item = authoring.create(session, data, None)
    if publish:
        workflow.publish_reviewed(session, item)
    session.commit()
    return item


def article_form(**fields):
    data = {"key": "week-12-scan", "title_en": "Your 12-week scan",
            "title_zh_CN": "12周的B超检查", "summary_en": "What the dating scan shows.",
            "summary_zh_CN": "早孕B超能看到什么。",
            "body_en": "## What happens\n\nThe **scan** checks the dates.",
            "body_zh_CN": "## 检查内容\n\n**B超**确认孕周。",
            "window_unit": "pregnancy_week", "window_from": "12", "window_to": "12",
            "topics": ["prenatal-care"], "interests": ["pregnancy_wellbeing"],
            "source": "NHS pregnancy guide", "note": "First draft"}
    data.update(fields)
    return data


def product_form(**fields):
    data = {"key": "BJ-BATH-001", "title_en": "Gentle baby wash",
            "title_zh_CN": "温和婴儿沐浴露", "summary_en": "Fragrance-free.",
            "summary_zh_CN": "无香型。", "window_unit": "week", "window_from": "0",
            "window_to": "12", "category": "bath", "price": "59.90", "currency": "CNY",
            "buy_url": "https://shop.example.com/p/BJ-BATH-001", "active": "y",
            "tags": "gentle, fragrance-free"}
    data.update(fields)
    return data


def shown_version(client, item_id):
    """The version the editor's publish form names (what the signed-in reviewer is shown)."""
    found = re.search(r'name="version" value="(\d+)"',
                      page_text(client.get(f"/studio/{item_id}/edit")))
    return int(found.group(1)) if found else None


def publish(client, item_id, action="publish", version=None, **data):
    """Press a publish button as the editor shows it: open the page, post its version."""
    data["version"] = shown_version(client, item_id) if version is None else version
    return client.post(f"/studio/{item_id}/workflow/{action}", data=data)


def find(session, kind, key):
    session.expire_all()
    return authoring.find(session, kind, key)


def page_text(response):
    return response.get_data(as_text=True)


def local_input(when: datetime, tz: str = "Asia/Shanghai") -> str:
    return when.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Marketer")


@pytest.fixture()
def reviewer(session):
    return make_staff(session, "reviewer", "Rui Reviewer")


# --- access ----------------------------------------------------------------------------------

def test_parents_get_404_on_every_studio_url(client, session, make_family, login_as):
    item = make_item(session)
    user, _ = make_family()
    login_as(user)
    gets = ["/studio", "/studio/new/article", f"/studio/{item.id}/edit",
            f"/studio/{item.id}/versions", f"/studio/{item.id}/versions/1",
            "/studio/preview-as-family", "/studio/coverage", "/studio/packs",
            "/studio/images/abc123/thumb"]
    posts = ["/studio/preview", f"/studio/{item.id}/workflow/publish",
             f"/studio/{item.id}/versions/1/revert", "/studio/packs/export",
             "/studio/packs/import", "/studio/new/article", f"/studio/{item.id}/edit"]
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts:
        assert client.post(url, data={}).status_code == 404, url


def test_anonymous_visitors_are_sent_to_sign_in(client):
    response = client.get("/studio")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_analysts_see_coverage_but_not_the_editor(client, session, login_as):
    item = make_item(session)
    login_as(make_staff(session, "analyst"))
    assert client.get("/studio/new/article").status_code == 403
    assert client.get(f"/studio/{item.id}/edit").status_code == 403
    # the studio's start is the customers for analysts, not the content list
    assert client.get("/studio").headers["Location"] == "/studio/customers"
    assert client.post("/studio/packs/export").status_code == 403
    page = client.get("/studio/coverage")
    assert page.status_code == 200
    assert "/studio/new/article" not in page_text(page)  # sub-nav shows only coverage


# --- the article's whole life ------------------------------------------------------------------

def test_article_from_draft_to_live_edit_review_diff_and_revert(client, session, login_as,
                                                                marketer, reviewer):
    login_as(marketer)
    response = client.post("/studio/new/article", data=article_form())
    assert response.status_code == 302
    item = find(session, "article", "week-12-scan")
    assert item.status == "draft" and item.version == 1
    assert {t.locale: t.title for t in item.translations} == {
        "en": "Your 12-week scan", "zh_CN": "12周的B超检查"}
    assert response.headers["Location"].endswith(f"/studio/{item.id}/edit")

    page = page_text(client.get(f"/studio/{item.id}/edit"))
    assert "Your 12-week scan" in page and "12周的B超检查" in page
    assert 'hx-post="/studio/preview"' in page and "<strong>scan</strong>" in page

    assert client.post(f"/studio/{item.id}/edit", data=article_form(
        title_en="Your dating scan at 12 weeks", note="Clearer title")).status_code == 302
    item = find(session, "article", "week-12-scan")
    assert item.version == 2 and item.text("en").title == "Your dating scan at 12 weeks"

    client.post(f"/studio/{item.id}/workflow/submit")
    assert find(session, "article", "week-12-scan").status == "in_review"

    response = client.post(f"/studio/{item.id}/workflow/publish", follow_redirects=True)
    assert "A reviewer must approve this before it is published." in page_text(response)
    assert find(session, "article", "week-12-scan").status == "in_review"

    login_as(reviewer)
    response = publish(client, item.id)
    assert "Published" in page_text(client.get(response.headers["Location"]))
    item = find(session, "article", "week-12-scan")
    assert item.status == "published" and item.is_live(utcnow())

    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(
        title_en="Week 12: the dating scan", note="Shorter"))
    item = find(session, "article", "week-12-scan")
    assert item.pending_review is True
    assert item.text("en").title == "Your dating scan at 12 weeks"  # readers: unchanged
    assert item.version == 2
    editor = page_text(client.get(f"/studio/{item.id}/edit"))
    assert 'value="Week 12: the dating scan"' in editor  # the editor shows the newest
    assert "waits for a reviewer" in editor
    client.post(f"/studio/{item.id}/workflow/submit")

    login_as(reviewer)
    publish(client, item.id)
    item = find(session, "article", "week-12-scan")
    assert item.pending_review is False and item.version == 3
    assert item.text("en").title == "Week 12: the dating scan"

    diff = page_text(client.get(f"/studio/{item.id}/versions/3"))
    assert "Title · English" in diff
    assert 'class="diff-del"' in diff and "-Your dating scan at 12 weeks" in diff
    assert 'class="diff-add"' in diff and "+Week 12: the dating scan" in diff
    history = page_text(client.get(f"/studio/{item.id}/versions"))
    assert "Shorter" in history and "Clearer title" in history and "Mia Marketer" in history
    assert client.get(f"/studio/{item.id}/versions/1").status_code == 200
    assert client.get(f"/studio/{item.id}/versions/9").status_code == 404

    response = client.post(f"/studio/{item.id}/versions/2/revert", follow_redirects=True)
    assert "Version 4 brings back the content of version 2." in page_text(response)
    item = find(session, "article", "week-12-scan")
    newest = authoring.latest_version(session, item)
    assert newest.number == 4
    assert newest.snapshot["translations"]["en"]["title"] == "Your dating scan at 12 weeks"
    # a revert is the reverter's own edit: families keep version 3 until someone else approves
    assert item.pending_review and item.version == 3
    assert item.text("en").title == "Week 12: the dating scan"


def test_marketers_publish_when_review_is_not_required(app, client, session, login_as,
                                                       marketer):
    app.config["CONTENT_REVIEW_REQUIRED"] = False
    login_as(marketer)
    client.post("/studio/new/article", data=article_form())
    item = find(session, "article", "week-12-scan")
    publish(client, item.id)
    assert find(session, "article", "week-12-scan").status == "published"
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Straight to live"))
    item = find(session, "article", "week-12-scan")
    assert not item.pending_review and item.text("en").title == "Straight to live"


def test_reject_archive_and_restore(client, session, login_as, marketer, reviewer):
    item = make_item(session, publish=False)
    login_as(marketer)
    client.post(f"/studio/{item.id}/workflow/submit")
    response = client.post(f"/studio/{item.id}/workflow/reject", follow_redirects=True)
    assert "Only a reviewer can send content back." in page_text(response)
    login_as(reviewer)
    client.post(f"/studio/{item.id}/workflow/reject")
    assert find(session, "article", item.key).status == "draft"
    client.post(f"/studio/{item.id}/workflow/archive")
    assert find(session, "article", item.key).status == "archived"
    client.post(f"/studio/{item.id}/workflow/restore")
    assert find(session, "article", item.key).status == "draft"


def test_a_rejected_edit_to_live_content_never_goes_live(client, session, login_as,
                                                                   marketer, reviewer):
    item = make_item(session)
    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Not like this"))
    client.post(f"/studio/{item.id}/workflow/submit")
    login_as(reviewer)
    client.post(f"/studio/{item.id}/workflow/reject")
    item = find(session, "article", item.key)
    assert not item.pending_review and item.text("en").title == "Your 12-week scan"
    # the live text is saved again as the newest version, so a later publish cannot
    # put the rejected edit live; the rejected one stays in the history
    assert item.version == 3
    page = page_text(client.get(f"/studio/{item.id}/edit"))
    assert 'value="Your 12-week scan"' in page and "Not like this" not in page
    publish(client, item.id, version=3)
    assert find(session, "article", item.key).text("en").title == "Your 12-week scan"
    history = page_text(client.get(f"/studio/{item.id}/versions"))
    assert "Sent back by reviewer" in history


def test_marketer_cannot_take_live_content_down(client, session, login_as, marketer):
    item = make_item(session)
    login_as(marketer)
    response = client.post(f"/studio/{item.id}/workflow/archive", follow_redirects=True)
    assert response.status_code == 200
    assert "A reviewer must take published content down." in page_text(response)
    assert find(session, "article", item.key).status == "published"


def test_scheduling_in_the_future(client, session, login_as, reviewer):
    item = make_item(session, publish=False)
    login_as(reviewer)
    when = utcnow() + timedelta(days=3)
    response = publish(client, item.id, "schedule",
                       publish_at=local_input(when, reviewer.timezone))
    assert "It goes live on" in page_text(client.get(response.headers["Location"]))
    item = find(session, "article", item.key)
    assert workflow.status_label(item, utcnow()) == "scheduled"
    assert abs((item.publish_at - when).total_seconds()) < 60  # typed in Shanghai, kept UTC
    assert not item.is_live(utcnow())
    listing = page_text(client.get("/studio?status=scheduled"))
    assert "studio-status-scheduled" in listing and item.key in listing
    past = publish(client, item.id, "schedule",
                   publish_at=local_input(utcnow() - timedelta(hours=2)))
    assert "Choose a time in the future." in page_text(client.get(past.headers["Location"]))
    publish(client, item.id, "publish_now")
    assert find(session, "article", item.key).is_live(utcnow())


def test_editor_schedule_field_is_read_in_the_staff_time_zone(client, session, login_as,
                                                              marketer):
    login_as(marketer)
    client.post("/studio/new/article", data=article_form(publish_at="2030-01-02T09:30"))
    item = find(session, "article", "week-12-scan")
    assert item.publish_at == datetime(2030, 1, 2, 1, 30, tzinfo=ZoneInfo("UTC"))
    page = page_text(client.get(f"/studio/{item.id}/edit"))
    assert 'value="2030-01-02T09:30"' in page


# --- safety of text --------------------------------------------------------------------------

def test_preview_endpoint_renders_sanitised_html(client, session, login_as, marketer):
    login_as(marketer)
    for locale in ("en", "zh_CN"):
        response = client.post("/studio/preview", data={
            "locale": locale, f"body_{locale}": "## Hi\n\n**bold** " + " ".join(XSS)})
        html = page_text(response)
        assert response.status_code == 200
        assert "<h2>Hi</h2>" in html and "<strong>bold</strong>" in html
        assert "<script" not in html and "<img" not in html
        assert 'href="javascript' not in html
    empty = page_text(client.post("/studio/preview", data={"locale": "en", "body_en": ""}))
    assert "Nothing to preview yet" in empty


def test_xss_in_titles_summaries_and_bodies_is_never_active(client, session, login_as,
                                                             marketer):
    login_as(marketer)
    payload = XSS[0] + " " + XSS[1]
    fields = {}
    for locale in ("en", "zh_CN"):
        fields.update({f"title_{locale}": f"Safe title {payload}",
                       f"summary_{locale}": f"Summary {payload}",
                       f"body_{locale}": f"Body {payload}"})
    assert client.post("/studio/new/article", data=article_form(**fields)).status_code == 302
    item = find(session, "article", "week-12-scan")
    for t in item.translations:
        assert t.title == "Safe title" and "<" not in t.title  # plain text
        assert "<" not in t.summary
        assert "<script" not in t.body_html and "<img" not in t.body_html
    for url in (f"/studio/{item.id}/edit", "/studio", f"/studio/{item.id}/versions/1"):
        page = page_text(client.get(url))
        assert "<script>alert(1)</script>" not in page and "<img src=x" not in page, url

    response = client.post("/studio/new/article", data=article_form(
        key="js-link", body_zh_CN="点这里 " + XSS[2]))
    assert response.status_code == 400
    assert "This link does not look right: javascript:alert(1" in page_text(response)
    assert find(session, "article", "js-link") is None


# --- products, validation, images ------------------------------------------------------------

def test_product_price_is_stored_in_minor_units(client, session, login_as, marketer):
    login_as(marketer)
    assert client.post("/studio/new/product", data=product_form()).status_code == 302
    product = find(session, "product", "BJ-BATH-001")
    assert product.price_minor == 5990 and product.currency == "CNY"
    assert product.tags == ["gentle", "fragrance-free"] and product.active is True
    assert product.text("en").summary == "Fragrance-free."
    page = page_text(client.get(f"/studio/{product.id}/edit"))
    assert 'value="59.90"' in page
    response = client.post("/studio/new/product", data=product_form(key="BJ-BATH-002",
                                                                     price="59.999"))
    assert response.status_code == 400
    assert "at most 2 decimal places" in page_text(response)


@pytest.mark.parametrize("kind, fields, message", [
    ("article", {"window_from": "14", "window_to": "12"},
     "The window is empty: its start comes after its end."),
    ("article", {"title_zh_CN": ""}, "The Chinese title is missing."),
    ("article", {"key": "Week 12!"}, "Use lowercase letters, digits and hyphens"),
    ("article", {"window_from": "2", "window_to": "3"}, "This window must stay between 4 and 42."),
    ("product", {"key": "bj bath"}, "Use capital letters, digits and hyphens for the SKU"),
    ("product", {"buy_url": "http://shop.example.com/p/1"},
     "The shop link must start with https://"),
    ("product", {"price": "cheap"}, "Enter the price as a number, such as 59.00."),
    ("product", {"category": ""}, "Please choose a category."),
    ("reminder", {}, "Please choose a category."),
])
def test_bad_input_is_refused_with_the_message(client, session, login_as, marketer, kind,
                                               fields, message):
    login_as(marketer)
    base = product_form() if kind == "product" else article_form()
    base.update(fields)
    response = client.post(f"/studio/new/{kind}", data=base)
    assert response.status_code == 400
    assert message in page_text(response)
    assert session.scalar(select(func.count(ContentItem.id))) == 0


def test_duplicate_slug_is_refused_next_to_the_field(client, session, login_as, marketer):
    make_item(session)
    login_as(marketer)
    response = client.post("/studio/new/article", data=article_form())
    assert response.status_code == 400
    assert "Another item already uses week-12-scan." in page_text(response)


def test_reminders_and_faqs_have_their_own_editors(client, session, login_as, marketer):
    login_as(marketer)
    page = page_text(client.get("/studio/new/faq"))
    # an FAQ may be for a stage (optional: "Every stage" is chosen until one is picked)
    assert "Question" in page and "Answer (Markdown)" in page and "Every stage" in page
    response = client.post("/studio/new/faq", data={
        "key": "how-weeks-count", "title_en": "How are weeks counted?",
        "title_zh_CN": "孕周怎么算？", "body_en": "From the first day of your last period.",
        "body_zh_CN": "从末次月经第一天算起。", "category": "pregnancy", "position": "3"})
    assert response.status_code == 302
    faq = find(session, "faq", "how-weeks-count")
    assert faq.position == 3 and faq.window_unit is None
    response = client.post("/studio/new/reminder", data={
        "key": "checkup-8-weeks", "title_en": "8-week check-up", "title_zh_CN": "8周体检",
        "body_en": "Book it now.", "body_zh_CN": "现在预约。", "window_unit": "week",
        "window_from": "6", "window_to": "8", "category": "checkup"})
    assert response.status_code == 302
    assert find(session, "reminder", "checkup-8-weeks").category == "checkup"


def test_hero_image_upload_and_who_may_see_it(client, session, login_as, marketer, reviewer):
    login_as(marketer)
    data = article_form(image=(io.BytesIO(png_bytes()), "hero.png"))
    response = client.post("/studio/new/article", data=data, content_type="multipart/form-data")
    assert response.status_code == 302
    item = find(session, "article", "week-12-scan")
    key = item.image_key
    assert key and key.isalnum()
    assert client.get(f"/studio/images/{key}/thumb").status_code == 200
    assert f"/studio/images/{key}/thumb" in page_text(client.get(f"/studio/{item.id}/edit"))
    client.post("/logout")
    assert client.get(f"/content-images/{key}/thumb").status_code == 404  # still a draft
    assert client.get("/content-images/not-a-key/thumb").status_code == 404
    login_as(reviewer)
    publish(client, item.id)
    client.post("/logout")
    response = client.get(f"/content-images/{key}/full")
    assert response.status_code == 200 and response.mimetype == "image/jpeg"


def test_a_non_image_hero_is_refused(client, session, login_as, marketer):
    login_as(marketer)
    data = article_form(image=(io.BytesIO(b"%PDF-1.4 not a picture"), "hero.png"))
    response = client.post("/studio/new/article", data=data, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "This file is not a photo we can read." in page_text(response)
    assert find(session, "article", "week-12-scan") is None


def test_a_hero_claiming_too_many_pixels_is_refused_undecoded(client, session, login_as,
                                                               marketer, app, monkeypatch):
    from PIL import ImageFile

    from tests.images import claiming
    login_as(marketer)
    bomb = claiming(png_bytes(), (7000, 7000))
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    response = client.post("/studio/new/article", data=article_form(
        image=(io.BytesIO(bomb), "hero.png")), content_type="multipart/form-data")
    assert response.status_code == 400
    assert ("This photo has too many pixels (49 megapixels). Please upload a photo of at most "
            "25 megapixels.") in page_text(response)
    assert find(session, "article", "week-12-scan") is None
    assert not any(p.is_file() for p in app.config["UPLOAD_DIR"].rglob("*"))


def test_a_truncated_hero_is_a_form_error(client, session, login_as, marketer, app):
    login_as(marketer)
    data = png_bytes((640, 480), fmt="JPEG", quality=95)
    response = client.post("/studio/new/article", data=article_form(
        image=(io.BytesIO(data[:len(data) // 2]), "hero.jpg")),
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "This file is not a photo we can read." in page_text(response)
    assert find(session, "article", "week-12-scan") is None
    assert not any(p.is_file() for p in app.config["UPLOAD_DIR"].rglob("*"))


def test_overlapping_windows_are_pointed_out(client, session, login_as, marketer):
    make_item(session, key="week-12-feelings", title="Feelings at week 12", low=11, high=13)
    item = make_item(session, publish=False)
    login_as(marketer)
    page = page_text(client.get(f"/studio/{item.id}/edit"))
    assert "For your information:" in page and "Feelings at week 12" in page


# --- the list --------------------------------------------------------------------------------

def test_list_search_filters_and_badges(client, session, login_as, marketer):
    make_item(session, key="week-12-scan", title="Your 12-week scan", topics=["prenatal-care"])
    make_item(session, key="baby-sleep", title="Safe sleep", unit="week", low=0, high=4,
              topics=["sleep"], publish=False)
    make_item(session, kind="product", key="BJ-NAP-001", title="Soft nappies", unit="month",
              low=3, high=6, category="nappies", price_minor=9900, currency="CNY")
    login_as(marketer)

    def keys(url):
        page = page_text(client.get(url))
        return {k for k in ("week-12-scan", "baby-sleep", "BJ-NAP-001") if k in page}, page

    found, page = keys("/studio")
    assert found == {"week-12-scan", "baby-sleep", "BJ-NAP-001"}
    assert "Pregnancy week 12" in page and "Baby weeks 0–4" in page and "Baby, months 3–6" in page
    assert "studio-status-draft" in page and "studio-status-published" in page
    assert keys("/studio?q=sleep")[0] == {"baby-sleep"}
    assert keys("/studio?q=nap")[0] == {"BJ-NAP-001"}  # by SKU
    assert keys("/studio?type=product")[0] == {"BJ-NAP-001"}
    assert keys("/studio?status=draft")[0] == {"baby-sleep"}
    assert keys("/studio?status=published")[0] == {"week-12-scan", "BJ-NAP-001"}
    assert keys("/studio?stage=week:3")[0] == {"baby-sleep"}
    assert keys("/studio?stage=pregnancy_week:12")[0] == {"week-12-scan"}
    assert keys("/studio?topic=sleep")[0] == {"baby-sleep"}
    assert keys("/studio?missing=zh_CN")[0] == set()
    assert "Use a stage such as" in keys("/studio?stage=nonsense")[1]


def test_list_paginates_by_fifty(client, session, login_as, marketer):
    for n in range(51):
        authoring.create(session, ItemInput(
            kind="faq", key=f"faq-{n:02d}", category="account",
            translations={"en": TextInput(f"Question {n}", "", "Answer"),
                          "zh_CN": TextInput(f"问题 {n}", "", "回答")}), None)
    session.commit()
    login_as(marketer)
    first = page_text(client.get("/studio"))
    assert "Showing 1–50 of 51" in first and "?page=2" in first
    second = page_text(client.get("/studio?page=2"))
    assert "Showing 51–51 of 51" in second
    assert len(re.findall(r'href="/studio/\d+/edit"', second)) == 1


# --- preview as a family, coverage ------------------------------------------------------------

def test_preview_as_family_shows_what_the_dashboard_would(client, session, login_as, marketer):
    make_item(session, key="week-12-scan", title="Your 12-week scan")
    make_item(session, key="week-20-scan", title="The anomaly scan", low=20, high=20)
    make_item(session, key="week-12-draft", title="Unfinished draft", publish=False)
    make_item(session, kind="reminder", key="book-scan", title="Book the scan", low=10,
              high=13, category="preparation")
    make_item(session, kind="product", key="BJ-MAT-001", title="Maternity pillow", low=8,
              high=40, category="maternity", price_minor=12900, currency="CNY")
    login_as(marketer)
    page = page_text(client.get("/studio/preview-as-family?stage=pregnancy_week:12&locale=en"))
    assert "Your 12-week scan" in page and "Book the scan" in page
    assert "Maternity pillow" in page and "129.00" in page
    assert "The anomaly scan" not in page and "Unfinished draft" not in page
    assert "Digest preview: coming with the scheduler" in page
    chinese = page_text(client.get("/studio/preview-as-family?stage=pregnancy_week:12"
                                   "&locale=zh_CN"))
    assert "Your 12-week scan（中文）" in chinese and "简短摘要。" in chinese
    by_date = (utcnow() + timedelta(days=280 - 7 * 20 - 3)).date().isoformat()
    dated = page_text(client.get(f"/studio/preview-as-family?due_date={by_date}&locale=en"))
    assert "The anomaly scan" in dated and "Your 12-week scan" not in dated


def test_preview_as_family_uses_the_dashboard_limits(client, session, login_as, marketer):
    for n in range(5):
        make_item(session, key=f"week-12-{n}", title=f"Article number {n}")
    login_as(marketer)
    page = page_text(client.get("/studio/preview-as-family?stage=pregnancy_week:12"))
    assert len(re.findall(r"Article number \d", page)) == 3


def test_coverage_grid_shows_gaps(client, session, login_as, marketer):
    make_item(session)
    make_item(session, key="week-13-draft", low=13, high=13, publish=False)
    login_as(marketer)
    gaps = len(coverage.report(session)["gaps"])
    page = page_text(client.get("/studio/coverage"))
    assert f"{gaps} gaps" in page
    assert "cov-gap" in page and "cov-thin" in page
    with_drafts = len(coverage.report(session, include_drafts=True)["gaps"])
    assert with_drafts == gaps - 2
    assert f"{with_drafts} gaps" in page_text(client.get("/studio/coverage?drafts=1"))


# --- packs -----------------------------------------------------------------------------------

def test_export_then_import_round_trips(client, session, login_as, marketer, reviewer):
    login_as(marketer)
    client.post("/studio/new/article", data=article_form())
    item = find(session, "article", "week-12-scan")
    response = client.post("/studio/packs/export")
    assert response.status_code == 200 and response.mimetype == "application/zip"
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    articles = json.loads(archive.read("articles.json"))
    assert [a["slug"] for a in articles] == ["week-12-scan"]
    assert client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(response.data), "pack.zip")},
        content_type="multipart/form-data").status_code == 403  # marketers cannot import
    login_as(reviewer)
    page = page_text(client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(response.data), "pack.zip")},
        content_type="multipart/form-data"))
    assert "1 unchanged" in page and "0 created" in page and "0 updated" in page
    assert session.scalar(select(func.count(Version.id)).where(Version.item_id == item.id)) == 1


def test_import_shows_every_problem(client, session, login_as, reviewer):
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("articles.json", json.dumps([
            {"slug": "Bad Slug", "window": {"unit": "week", "from": 0, "to": 1},
             "translations": {"en": {"title": "x", "body": "y"},
                              "zh_CN": {"title": "x", "body": "y"}}},
            {"slug": "ok-one", "translations": {"en": {"title": "x", "body": "y"}}}]))
    login_as(reviewer)
    response = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(buffer.getvalue()), "pack.zip")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    page = page_text(response)
    assert "Nothing was imported" in page
    assert "articles.json item 1" in page and "articles.json item 2" in page
    not_zip = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(b"hello"), "pack.zip")}, content_type="multipart/form-data")
    assert "The file is not a zip archive." in page_text(not_zip)


def _zip_bomb() -> bytes:
    """200 MB of zeros, compressed to ~200 KB a megabyte at a time."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("articles.json", "[]")
        with archive.open("articles_more.json", "w") as member:
            for _ in range(200):
                member.write(bytes(1024 * 1024))
    return buffer.getvalue()


def test_a_zip_bomb_is_refused_by_the_studio_and_the_cli(client, session, login_as, reviewer,
                                                          runner, tmp_path, monkeypatch):
    bomb = _zip_bomb()
    real_open = zipfile.ZipFile.open
    monkeypatch.setattr(zipfile.ZipFile, "open", lambda self, name, mode="r", *a, **k:
                        pytest.fail("unpacked") if mode == "r" else real_open(self, name, mode))
    login_as(reviewer)
    response = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(bomb), "pack.zip")}, content_type="multipart/form-data")
    assert response.status_code == 400
    page = page_text(response)
    assert "Nothing was imported" in page
    assert "articles_more.json unpacks to 1" in page and "this looks like a zip bomb" in page
    assert "articles_more.json is 200 MB unpacked; at most 10 MB for one file." in page
    assert session.scalar(select(func.count(ContentItem.id))) == 0
    path = tmp_path / "bomb.zip"
    path.write_bytes(bomb)
    result = runner.invoke(args=["content", "import", str(path)])
    assert result.exit_code == 1
    assert "this looks like a zip bomb" in result.output
    assert "Nothing was imported: 4 problems." in result.output  # ratio, file, total, JSON


def test_pack_problems_are_shown_in_chinese(client, session, login_as, reviewer):
    reviewer.locale = "zh_CN"
    session.commit()
    login_as(reviewer)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("../articles.json", "[]")
        archive.writestr("images/x.png", b"not a picture")
        archive.writestr("products.json", json.dumps([{
            "sku": "BJ-X-1", "category": "bath", "image": "images/x.png",
            "window": {"unit": "week", "from": 0, "to": 12},
            "translations": {"en": {"name": "X"}, "zh_CN": {"name": "某物"}}}]))
    response = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(buffer.getvalue()), "pack.zip")}, content_type="multipart/form-data")
    assert response.status_code == 400
    assert "../articles.json：内容包里的文件名必须是包内的普通路径" in page_text(response)
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("images/x.png", b"not a picture")
        archive.writestr("products.json", json.dumps([{
            "sku": "BJ-X-1", "category": "bath", "image": "images/x.png",
            "window": {"unit": "week", "from": 0, "to": 12}, "buy_url": "https://x.example/1",
            "price_minor": 100, "currency": "CNY",
            "translations": {"en": {"name": "X"}, "zh_CN": {"name": "某物"}}}]))
    response = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(buffer.getvalue()), "pack.zip")}, content_type="multipart/form-data")
    assert response.status_code == 400, page_text(response)[-3000:]
    assert "images/x.png: 无法识别此文件" in page_text(response)


# --- CSRF ------------------------------------------------------------------------------------

class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_preview_and_forms_need_the_token(self, client, session, marketer):
        token = page_text(client.get("/login")).split(
            'name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": marketer.email, "password": PASSWORD,
                                    "csrf_token": token})
        editor = page_text(client.get("/studio/new/article"))
        token = re.search(r'X-CSRFToken&#34;: &#34;([^&]+)&#34;', editor).group(1)
        assert client.post("/studio/preview", data={"locale": "en",
                                                    "body_en": "hi"}).status_code == 400
        ok = client.post("/studio/preview", data={"locale": "en", "body_en": "**hi**"},
                         headers={"X-CSRFToken": token, "HX-Request": "true"})
        assert ok.status_code == 200 and "<strong>hi</strong>" in page_text(ok)
        assert client.post("/studio/new/article", data=article_form()).status_code == 400
        assert client.post("/studio/new/article",
                           data=article_form(csrf_token=token)).status_code == 302


def test_prune_images_keeps_what_items_and_versions_use(client, session, login_as, marketer,
                                                        runner, app):
    """A replaced image stays while a version names it (a revert brings it back); a file no
    row names goes, unless it is newer than the minimum age (an upload on its way in)."""
    login_as(marketer)
    client.post("/studio/new/article", content_type="multipart/form-data",
                data=article_form(image=(io.BytesIO(png_bytes()), "first.png")))
    item = find(session, "article", "week-12-scan")
    first = item.image_key
    client.post(f"/studio/{item.id}/edit", content_type="multipart/form-data",
                data=article_form(image=(io.BytesIO(png_bytes(color=(9, 9, 9))), "second.png")))
    session.expire_all()
    second = find(session, "article", "week-12-scan").image_key
    assert first and second and first != second
    store = app.extensions["content_store"]
    old_orphan = store.save(process_upload(png_bytes()))
    new_orphan = store.save(process_upload(png_bytes()))
    # File times from the (possibly moved) clock, not the disk's real one.
    just_now, two_days_ago = time.time() - 60, time.time() - 48 * 3600
    for key, when in ((first, two_days_ago), (second, two_days_ago),
                      (old_orphan, two_days_ago), (new_orphan, just_now)):
        for size in ("full", "thumb"):
            os.utime(store.path(key, size), (when, when))

    dry = runner.invoke(args=["content", "prune-images", "--dry-run"])
    assert "Would delete 1 of 3 images" in dry.output and old_orphan in dry.output
    assert store.path(old_orphan).exists()
    result = runner.invoke(args=["content", "prune-images"])
    assert result.exit_code == 0 and "Deleted 1 of 3 images" in result.output
    assert not store.path(old_orphan).exists() and not store.path(old_orphan, "thumb").exists()
    for kept in (first, second, new_orphan):
        assert store.path(kept).exists()


# --- review cannot be bypassed (pen-test finding) --------------------------------------------

STALE = ("This item changed since you opened it (version {n} by {who}). Review the new version "
         "before publishing.")
OWN_EDIT = "You wrote or changed this version, so another reviewer must approve it."
BAD_VERSION = ("The version you reviewed is missing or is not a version number. Reload the page "
               "and try again.")


def publications_of(session, item):
    from content.models import Publication
    session.expire_all()
    return list(session.scalars(select(Publication).where(Publication.item_id == item.id)
                                .order_by(Publication.id)))


def test_reviewer_publishing_a_draft_changed_since_they_opened_it_gets_a_conflict(
        client, session, login_as, marketer, reviewer):
    """The exact attack: the reviewer opens N, the marketer saves N+1, Publish → 409."""
    login_as(marketer)
    client.post("/studio/new/article", data=article_form())
    item = find(session, "article", "week-12-scan")
    client.post(f"/studio/{item.id}/workflow/submit")
    login_as(reviewer)
    editor = page_text(client.get(f"/studio/{item.id}/edit"))  # the reviewer opens version 1
    login_as(marketer)  # meanwhile
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Unreviewed title"))
    login_as(reviewer)
    for action, extra in (("publish", {}), ("schedule", {
            "publish_at": local_input(utcnow() + timedelta(days=2), reviewer.timezone)})):
        response = client.post(f"/studio/{item.id}/workflow/{action}",
                               data={"version": "1", **extra})
        assert response.status_code == 409, action
        page = page_text(response)
        assert STALE.format(n=2, who="Mia Marketer") in page
        assert f'href="/studio/{item.id}/versions/2?from=1"' in page
        item = find(session, "article", "week-12-scan")
        assert item.status == "in_review" and item.publish_at is None
        assert not item.is_live(utcnow())
    assert publications_of(session, item) == []
    # what the reviewer was shown: the version under review, who wrote it, the hidden field
    assert 'name="version" value="1"' in editor
    assert "To approve" in editor and "Version 1" in editor and "by Mia Marketer" in editor
    diff = page_text(client.get(f"/studio/{item.id}/versions/2?from=1"))
    assert "Changes from version 1 to version 2" in diff and "+Unreviewed title" in diff
    assert publish(client, item.id).status_code == 302  # looked again: version 2
    assert find(session, "article", "week-12-scan").text("en").title == "Unreviewed title"


def test_a_waiting_edit_replaced_after_review_keeps_the_old_live_text(
        client, session, login_as, marketer, reviewer):
    item = make_item(session)
    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Reviewed edit"))
    login_as(reviewer)
    shown = shown_version(client, item.id)
    assert shown == 2
    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Swapped in later"))
    login_as(reviewer)
    response = publish(client, item.id, version=shown)
    assert response.status_code == 409
    assert STALE.format(n=3, who="Mia Marketer") in page_text(response)
    item = find(session, "article", item.key)
    assert item.text("en").title == "Your 12-week scan" and item.version == 1
    assert item.pending_review
    assert publish(client, item.id).status_code == 302
    assert find(session, "article", item.key).text("en").title == "Swapped in later"


def test_publish_now_of_a_scheduled_item_with_a_newer_edit_is_a_conflict(
        client, session, login_as, marketer, reviewer):
    item = make_item(session, publish=False)
    login_as(reviewer)
    publish(client, item.id, "schedule",
            publish_at=local_input(utcnow() + timedelta(days=3), reviewer.timezone))
    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Late change"))
    assert find(session, "article", item.key).pending_review
    login_as(reviewer)
    response = publish(client, item.id, "publish_now", version=1)
    assert response.status_code == 409
    item = find(session, "article", item.key)
    assert not item.is_live(utcnow()) and item.text("en").title == "Your 12-week scan"


def test_a_reviewer_cannot_publish_their_own_draft(client, session, login_as, reviewer):
    login_as(reviewer)
    client.post("/studio/new/article", data=article_form())
    item = find(session, "article", "week-12-scan")
    editor = page_text(client.get(f"/studio/{item.id}/edit"))
    assert OWN_EDIT in editor and "disabled" in editor
    assert 'name="version"' not in editor  # no publish form to press
    for action in ("publish", "publish_now", "schedule"):
        response = client.post(f"/studio/{item.id}/workflow/{action}", data={
            "version": "1", "override": "y", "reason": "trust me",
            "publish_at": local_input(utcnow() + timedelta(days=1))}, follow_redirects=True)
        assert OWN_EDIT in page_text(response), action
    assert find(session, "article", item.key).status == "draft"
    second = make_staff(session, "reviewer", "Rex Second")
    login_as(second)
    assert OWN_EDIT not in page_text(client.get(f"/studio/{item.id}/edit"))
    assert publish(client, item.id).status_code == 302
    assert find(session, "article", item.key).status == "published"
    history = page_text(client.get(f"/studio/{item.id}/versions"))
    assert "Approved by a second person" in history and "Rex Second" in history


def test_a_reviewers_edit_to_live_content_waits_for_someone_else(client, session, login_as,
                                                                 reviewer):
    item = make_item(session)
    login_as(reviewer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Quietly changed"))
    item = find(session, "article", item.key)
    assert item.pending_review and item.text("en").title == "Your 12-week scan"
    response = publish(client, item.id, version=2)
    assert response.status_code == 302
    assert find(session, "article", item.key).text("en").title == "Your 12-week scan"
    # a revert is the reverter's own edit too
    client.post(f"/studio/{item.id}/versions/1/revert")
    assert OWN_EDIT in page_text(client.get(f"/studio/{item.id}/edit"))
    assert find(session, "article", item.key).version == 1


def test_an_admin_override_is_explicit_and_logged(client, session, login_as):
    admin = make_staff(session, "admin", "Ada Admin")
    login_as(admin)
    client.post("/studio/new/article", data=article_form())
    item = find(session, "article", "week-12-scan")
    editor = page_text(client.get(f"/studio/{item.id}/edit"))
    assert "Publish with admin override" in editor and 'name="reason"' in editor
    no_box = client.post(f"/studio/{item.id}/workflow/publish", data={"version": "1"},
                         follow_redirects=True)
    assert "tick the admin override and give a reason" in page_text(no_box)
    no_reason = client.post(f"/studio/{item.id}/workflow/publish",
                            data={"version": "1", "override": "y", "reason": "  "},
                            follow_redirects=True)
    assert "Give a reason for publishing without a second reviewer." in page_text(no_reason)
    too_long = client.post(f"/studio/{item.id}/workflow/publish",
                           data={"version": "1", "override": "y", "reason": "x" * 301})
    assert too_long.status_code == 400
    assert "Keep the reason under 300 characters." in page_text(too_long)
    assert find(session, "article", item.key).status == "draft"
    assert publications_of(session, item) == []
    response = client.post(f"/studio/{item.id}/workflow/publish", data={
        "version": "1", "override": "y", "reason": "Urgent <b>safety</b> correction"})
    assert response.status_code == 302
    assert find(session, "article", item.key).is_live(utcnow())
    [row] = publications_of(session, item)
    assert (row.version, row.mode, row.published_by_id, row.reason) == (
        1, "override", admin.id, "Urgent <b>safety</b> correction")
    login_as(make_staff(session, "marketer", "Mo Marketer"))  # any staff sees the log
    history = page_text(client.get(f"/studio/{item.id}/versions"))
    assert "Admin override" in history and "Ada Admin" in history
    assert "Urgent &lt;b&gt;safety&lt;/b&gt; correction" in history


def test_with_review_off_marketers_publish_and_it_is_recorded(app, client, session, login_as,
                                                              marketer):
    app.config["CONTENT_REVIEW_REQUIRED"] = False
    login_as(marketer)
    client.post("/studio/new/article", data=article_form())
    item = find(session, "article", "week-12-scan")
    assert OWN_EDIT not in page_text(client.get(f"/studio/{item.id}/edit"))
    assert publish(client, item.id).status_code == 302
    history = page_text(client.get(f"/studio/{item.id}/versions"))
    assert "Published without review (not required)" in history and "Mia Marketer" in history


@pytest.mark.parametrize("value", [None, "", "-1", "0", "abc", "1e3", "1.5", "0x1",
                                   "99999999999999999999", "2147483648", "1; DROP TABLE"])
@pytest.mark.parametrize("action", ["publish", "publish_now", "schedule"])
def test_hostile_version_values_are_a_clear_400(client, session, login_as, reviewer, value,
                                                action):
    item = make_item(session, publish=False)
    login_as(reviewer)
    data = {"publish_at": local_input(utcnow() + timedelta(days=1))}
    if value is not None:
        data["version"] = value
    response = client.post(f"/studio/{item.id}/workflow/{action}", data=data)
    assert response.status_code == 400
    assert BAD_VERSION in page_text(response)
    assert find(session, "article", item.key).status == "draft"


def test_a_version_that_does_not_exist_yet_is_a_400(client, session, login_as, reviewer):
    item = make_item(session, publish=False)
    login_as(reviewer)
    response = publish(client, item.id, version=7)
    assert response.status_code == 400
    assert "This item has no version 7. Reload the page and try again." in page_text(response)


def test_the_diff_link_ignores_odd_from_values(client, session, login_as, marketer):
    item = make_item(session, publish=False)
    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Two"))
    for value in ("abc", "-5", "0", "2", "999", "1e2"):
        page = page_text(client.get(f"/studio/{item.id}/versions/2?from={value}"))
        assert "Changes from version 1 to version 2" in page, value


PUBLISH_ROUTES = ["workflow/publish", "workflow/publish_now", "workflow/schedule",
                  "workflow/submit", "workflow/reject", "workflow/archive",
                  "workflow/restore", "versions/1/revert"]


@pytest.mark.parametrize("method", ["GET", "HEAD", "POST"])
def test_parents_and_analysts_never_reach_a_publish_route(client, session, make_family,
                                                         login_as, method):
    item = make_item(session, publish=False)
    urls = [f"/studio/{item.id}/{path}" for path in PUBLISH_ROUTES] + ["/studio/packs/import"]
    parent, _ = make_family()
    for user, status in ((parent, 404), (make_staff(session, "analyst"), 403)):
        login_as(user)
        for url in urls:
            response = client.open(url, method=method, data={"version": "1"})
            assert response.status_code == status, (user.staff_role, method, url)
    login_as(make_staff(session, "marketer"))
    assert client.open("/studio/packs/import", method=method).status_code == 403
    assert find(session, "article", item.key).status == "draft"
    assert publications_of(session, item) == []


def test_staff_get_405_not_an_action_on_get_and_head(client, session, login_as, reviewer):
    item = make_item(session, publish=False)
    login_as(reviewer)
    for method in ("GET", "HEAD"):
        for path in PUBLISH_ROUTES:
            assert client.open(f"/studio/{item.id}/{path}", method=method).status_code == 405
        assert client.open("/studio/packs/import", method=method).status_code == 405
    assert find(session, "article", item.key).status == "draft"


def _pack_zip(title="From the pack", key="week-12-scan"):
    buffer = io.BytesIO()
    text = {"title": title, "summary": "s", "body": "body"}
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("articles.json", json.dumps([{
            "slug": key, "window": {"unit": "pregnancy_week", "from": 12, "to": 12},
            "translations": {"en": text, "zh_CN": {**text, "title": "来自内容包"}}}]))
    return buffer.getvalue()


def test_pack_import_cannot_publish_the_importers_own_changes(client, session, login_as,
                                                              reviewer):
    item = make_item(session)
    login_as(reviewer)
    page = page_text(client.get("/studio/packs"))
    assert "You cannot approve items you import yourself" in page
    assert 'name="publish"' not in page
    refused = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(_pack_zip()), "pack.zip"), "publish": "y"},
        content_type="multipart/form-data")
    assert refused.status_code == 403
    assert "so a second reviewer must approve them" in page_text(refused)
    assert find(session, "article", item.key).version == 1
    done = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(_pack_zip()), "pack.zip")}, content_type="multipart/form-data")
    assert done.status_code == 200 and "1 updated" in page_text(done)
    item = find(session, "article", item.key)
    assert item.pending_review and item.text("en").title == "Your 12-week scan"
    assert OWN_EDIT in page_text(client.get(f"/studio/{item.id}/edit"))
    login_as(make_staff(session, "reviewer", "Rex Second"))
    assert publish(client, item.id).status_code == 302
    assert find(session, "article", item.key).text("en").title == "From the pack"


def test_an_admin_import_publishes_only_with_a_logged_reason(client, session, login_as):
    item = make_item(session)
    login_as(make_staff(session, "admin", "Ada Admin"))
    page = page_text(client.get("/studio/packs"))
    assert "admin override" in page and 'name="reason"' in page
    assert 'name="publish" type="checkbox" value="y">' in page  # never ticked by default
    no_reason = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(_pack_zip()), "pack.zip"), "publish": "y"},
        content_type="multipart/form-data")
    assert no_reason.status_code == 400
    assert "Give a reason for publishing without a second reviewer." in page_text(no_reason)
    assert find(session, "article", item.key).version == 1
    client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(_pack_zip()), "pack.zip"), "publish": "y",
        "reason": "Checked by the medical team"}, content_type="multipart/form-data")
    item = find(session, "article", item.key)
    assert item.text("en").title == "From the pack"
    row = publications_of(session, item)[-1]
    assert (row.mode, row.reason, row.version) == ("override", "Checked by the medical team", 2)


def test_command_line_import_is_logged_and_drafts_never_touch_live_text(runner, session,
                                                                        tmp_path):
    item = make_item(session)
    pack = tmp_path / "pack.zip"
    pack.write_bytes(_pack_zip())
    result = runner.invoke(args=["content", "import", str(pack), "--draft"])
    assert result.exit_code == 0, result.output
    item = find(session, "article", item.key)
    assert item.pending_review and item.text("en").title == "Your 12-week scan"
    result = runner.invoke(args=["content", "import", str(pack), "--reason", "Release 12"])
    assert result.exit_code == 0, result.output
    item = find(session, "article", item.key)
    assert item.text("en").title == "From the pack"
    row = publications_of(session, item)[-1]
    assert (row.mode, row.reason, row.published_by_id) == ("system", "Release 12", None)


def test_the_conflict_and_own_edit_messages_are_translated(client, session, login_as,
                                                           marketer, reviewer):
    reviewer.locale = "zh_CN"
    session.commit()
    item = make_item(session, publish=False)
    login_as(marketer)
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Changed"))
    login_as(reviewer)
    response = publish(client, item.id, version=1)
    assert response.status_code == 409
    page = page_text(response)
    assert "您打开之后，这条内容已有改动（Mia Marketer 保存了版本 2）。" in page
    assert "查看自版本 1 以来的改动" in page
    client.post(f"/studio/{item.id}/edit", data=article_form(title_en="Mine now"))
    assert "这个版本有您写的或改的内容，需要由另一位审核人批准。" in page_text(
        client.get(f"/studio/{item.id}/edit"))


def test_an_import_that_would_publish_an_archived_item_is_a_clear_400(client, session,
                                                                      login_as):
    item = make_item(session)
    item.status = "archived"
    session.commit()
    login_as(make_staff(session, "admin", "Ada Admin"))
    response = client.post("/studio/packs/import", data={
        "pack": (io.BytesIO(_pack_zip()), "pack.zip"), "publish": "y", "reason": "Release"},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Restore this item to a draft before publishing it." in page_text(response)
    item = find(session, "article", item.key)
    assert item.status == "archived" and item.version == 1
