"""The parents' side of content: library, articles, products, help, saves, this week."""
from __future__ import annotations

import json
from datetime import timedelta

import pytest

from content import packs
from diary import age as agemath
from diary.photos import PhotoStore


def _text(title, body="## Part\n\nText.", summary="Short."):
    return {"title": title, "summary": summary, "body": body}


@pytest.fixture()
def pack(session, tmp_path):
    folder = tmp_path / "pack"
    folder.mkdir()
    articles = [
        {"slug": "week-20-hello", "window": {"unit": "pregnancy_week", "from": 20, "to": 20},
         "topics": ["fetal-development"], "source": "WHO antenatal care (2016)",
         "reviewed_by": "Editorial team", "review_date": "2026-11-01",
         "translations": {"en": _text("Week 20: halfway"), "zh_CN": _text("孕20周：过半")}},
        {"slug": "month-3-play", "window": {"unit": "month", "from": 3, "to": 4},
         "topics": ["play", "development"], "interests": ["play"], "source": "AAP",
         "translations": {
             "en": _text("Month 3: <script>alert(1)</script>play",
                         body="## Play\n\n<img src=x onerror=alert(1)> [x](https://a.example)"),
             "zh_CN": _text("3个月：玩耍")}},
        {"slug": "month-3-sleep", "window": {"unit": "month", "from": 3, "to": 3},
         "topics": ["play", "sleep"], "source": "AAP",
         "reviewed_by": "Baby Journey editorial team", "review_date": "2026-11-02",
         "translations": {"en": _text("Month 3: sleep"), "zh_CN": _text("3个月：睡眠")}},
    ]
    products = [{"sku": "BJ-TOY-001", "category": "toys", "price_minor": 12990,
                 "currency": "CNY", "window": {"unit": "month", "from": 3, "to": 9},
                 "buy_url": "https://shop.example.com/p/BJ-TOY-001",
                 "translations": {"en": {"name": "Soft rattle", "description": "Soft."},
                                  "zh_CN": {"name": "软摇铃", "description": "柔软。"}}}]
    faqs = [{"slug": "what-is-corrected-age", "category": "growth", "position": 1,
             "translations": {"en": {"question": "What is corrected age?",
                                     "answer": "Age counted from the due date."},
                              "zh_CN": {"question": "什么是纠正月龄？", "answer": "从预产期算起。"}}}]
    reminders = [{"slug": "tummy-time", "category": "tip", "window": {"unit": "month",
                                                                        "from": 3, "to": 5},
                  "source": "AAP", "translations": {
                      "en": {"title": "Tummy time every day", "body": "A few minutes."},
                      "zh_CN": {"title": "每天趴一趴", "body": "几分钟就好。"}}}]
    for name, rows in (("articles.json", articles), ("products.json", products),
                       ("faqs.json", faqs), ("reminders.json", reminders)):
        (folder / name).write_text(json.dumps(rows))
    packs.import_pack(session, folder, None, PhotoStore(tmp_path / "img"))
    session.commit()


def test_library_is_open_to_everyone(client, pack):
    index = client.get("/library").get_data(as_text=True)
    assert "Pregnancy, week by week" in index
    page = client.get("/library/stage/pregnancy_week:20").get_data(as_text=True)
    assert "Week 20: halfway" in page
    assert client.get("/library/stage/pregnancy_week:99").status_code == 404
    assert client.get("/library/stage/nonsense").status_code == 404
    assert "Month 3: sleep" in client.get("/library/topic/sleep").get_data(as_text=True)
    assert client.get("/library/topic/astrology").status_code == 404


def test_article_page_is_sanitised_and_carries_source_and_note(client, pack):
    page = client.get("/articles/month-3-play").get_data(as_text=True)
    assert "<script>alert" not in page and "<img src=x" not in page  # shown as text at most
    assert "Month 3: play" in page  # tags stripped from the title
    assert "Source: AAP" in page and "not medical advice" in page
    assert 'rel="nofollow noopener"' in page
    assert "Month 3: sleep" in page  # related by topic
    assert "Soft rattle" in page and "¥129.90" in page  # products for the stage
    assert client.get("/articles/nope").status_code == 404


def test_the_house_reviewer_reads_in_the_readers_language(client, pack):
    """The default pack's articles are reviewed by "Baby Journey editorial team": a Chinese
    page says so in Chinese; a reviewer typed by the editors is shown as typed."""
    assert "Reviewed by Baby Journey editorial team" in client.get(
        "/articles/month-3-sleep").get_data(as_text=True)
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = client.get("/articles/month-3-sleep").get_data(as_text=True)
    assert "宝宝旅程编辑团队" in page and "Baby Journey editorial team" not in page
    assert "Editorial team" in client.get("/articles/week-20-hello").get_data(as_text=True)


def test_save_for_later(client, pack, make_family, login_as):
    user, _ = make_family()
    login_as(user)
    client.post("/articles/week-20-hello/save")
    assert "Week 20: halfway" in client.get("/saved").get_data(as_text=True)
    client.post("/articles/week-20-hello/save")
    assert "Week 20: halfway" not in client.get("/saved").get_data(as_text=True)
    client.post("/logout")
    assert client.post("/articles/week-20-hello/save").status_code == 302  # to sign in


def test_this_week_for_you_on_the_child_page(client, pack, make_family, login_as):
    today = agemath.local_today("Asia/Shanghai")
    user, child = make_family(born=False, due_date=today + timedelta(days=140))
    login_as(user)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Week 20: halfway" in page and "Pregnancy week 20" in page
    baby_user, baby = make_family(birth_date=agemath.add_months(today, 0) - timedelta(days=100))
    login_as(baby_user)
    page = client.get(f"/children/{baby.id}").get_data(as_text=True)
    assert "Month 3: sleep" in page and "Tummy time every day" in page and "Soft rattle" in page


def test_chinese_reader_sees_chinese_text(client, pack):
    client.post("/language", data={"lang": "zh_CN"})
    assert "孕20周：过半" in client.get("/articles/week-20-hello").get_data(as_text=True)


def test_products_search_and_help(client, pack):
    page = client.get("/products?stage=month:5").get_data(as_text=True)
    assert "Soft rattle" in page
    assert "Soft rattle" not in client.get("/products?stage=week:2").get_data(as_text=True)
    assert "¥129.90" in client.get("/products/BJ-TOY-001").get_data(as_text=True)
    assert client.get("/products/NOPE").status_code == 404
    results = client.get("/search?q=过半").get_data(as_text=True)
    assert "1 result" in results
    assert "What is corrected age?" in client.get("/help").get_data(as_text=True)


def test_preview_as_a_family_shows_what_a_real_family_sees(client, pack, make_family, login_as,
                                                          session):
    """The studio preview for a stage lists the same items as a family's child page."""
    import re

    from diary import accounts
    today = agemath.local_today("Asia/Shanghai")
    parent, baby = make_family(birth_date=today - timedelta(days=100))  # month 3
    parent.interests = ["play"]
    session.commit()
    login_as(parent)
    family_page = client.get(f"/children/{baby.id}").get_data(as_text=True)
    this_week = family_page.split('id="this-week"')[1].split("</section>")[0]
    seen = re.findall(r'href="/articles/([\w-]+)"', this_week)
    staff = accounts.create_staff(session, "m@example.com", "marketer-pass", "marketer", "M")
    session.commit()
    login_as(staff, password="marketer-pass")
    preview = client.get("/studio/preview-as-family",
                         query_string={"stage": "month:3", "interests": ["play"],
                                       "locale": "en"}).get_data(as_text=True)
    previewed = re.findall(r'href="/studio/\d+/edit">([^<]+)</a>', preview)
    assert seen == ["month-3-play", "month-3-sleep"]  # the play article first: her interest
    titles = re.findall(r'href="/articles/[\w-]+">([^<]+)</a>', this_week)
    assert titles == ["Month 3: play", "Month 3: sleep"]
    assert [t for t in previewed if t.startswith("Month 3")] == titles
