"""Campaign copy is studio content: marketers write it, a second person approves it, the
campaigns send only the approved version — and the catalogue's copy while none is published."""
from __future__ import annotations

import dataclasses
import shutil
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from content import messages, packs
from content.errors import ValidationError
from diary.models import User
from diary.photos import PhotoStore
from journeys import campaigns
from journeys.models import Delivery, InboxMessage
from tests.web.test_studio import find, make_staff, page_text, publish

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
NEXT_YEAR = datetime(2027, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def no_holdout(monkeypatch):
    for name, campaign in list(campaigns.CAMPAIGNS.items()):
        monkeypatch.setitem(campaigns.CAMPAIGNS, name,
                            dataclasses.replace(campaign, holdout_share=0.0))


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Marketer")


@pytest.fixture()
def reviewer(session):
    return make_staff(session, "reviewer", "Rui Reviewer")


def message_form(**fields):
    data = {"key": "baby-birthday", "title_en": "Cake day for {child}: {years}! 🎂",
            "title_zh_CN": "{child} {years} 岁啦！🎂",
            "body_en": "Hello {name}, {child} turns {years} today.",
            "body_zh_CN": "{name}，{child} 今天 {years} 岁了。", "note": "Birthday copy"}
    data.update(fields)
    return data


def _greetings(session, user):
    session.expire_all()
    return [(m.title, m.body) for m in session.scalars(
        select(InboxMessage).where(InboxMessage.user_id == user.id).order_by(InboxMessage.id))]


def _run(session, now):
    stats = campaigns.run(session, now)
    session.commit()
    return stats


def test_published_studio_copy_is_sent_and_edits_wait_for_review(
        client, session, login_as, marketer, reviewer, make_family):
    mum, _ = make_family(birth_date=date(2025, 11, 23), name="Mia")
    mum.marketing_opt_in = True
    mum.last_seen_at = datetime(2030, 1, 1, tzinfo=UTC)  # "we miss you" stays out of it
    session.commit()
    login_as(marketer)
    assert "Message text" in page_text(client.get("/studio/new/message"))
    bad = client.post("/studio/new/message", data=message_form(body_en="Hi {nmae}"))
    assert bad.status_code == 400
    assert "Only {name}, {child} and {years} may stand in braces." in page_text(bad)
    assert client.post("/studio/new/message", data=message_form()).status_code == 302
    item = find(session, "message", "baby-birthday")
    assert (item.status, item.window_unit, item.interests) == ("draft", None, [])
    client.post(f"/studio/{item.id}/workflow/submit")
    # a draft (and one in review) sends nothing of its own: the catalogue's copy goes out
    _run(session, NOW)
    assert _greetings(session, mum)[0][0] == "Mia is 1 today! 🎂"

    publish(client, item.id)  # nobody approves their own edit
    assert find(session, "message", "baby-birthday").status == "in_review"
    login_as(reviewer)
    publish(client, item.id)
    assert find(session, "message", "baby-birthday").status == "published"

    login_as(marketer)  # a new edit waits for the reviewer; families keep the approved copy
    client.post(f"/studio/{item.id}/edit", data=message_form(title_en="Unreviewed! {child}"))
    assert find(session, "message", "baby-birthday").pending_review
    _run(session, NEXT_YEAR)
    assert _greetings(session, mum)[-1] == ("Cake day for Mia: 2! 🎂",
                                            f"Hello {mum.display_name}, Mia turns 2 today.")
    email = session.scalars(select(Delivery).where(Delivery.user_id == mum.id,
                                                   Delivery.channel == "email")
                            .order_by(Delivery.id)).all()[-1]
    assert email.payload["title"] == "Cake day for Mia: 2! 🎂"


def test_the_default_pack_ships_the_copy_in_both_languages(session, make_family, tmp_path):
    dad, _ = make_family(birth_date=date(2025, 11, 23), name="豆豆")
    dad.locale = "zh_CN"
    pack = tmp_path / "pack"
    pack.mkdir()
    shutil.copy(packs.DEFAULT_PACK / "messages.json", pack / "messages.json")
    packs.import_pack(session, pack, None, PhotoStore(tmp_path / "img"))
    session.commit()
    shipped = {m.key for m in messages.published(session, ["baby-birthday", "parent-birthday",
                                                           "we-miss-you"], NOW).values()}
    assert shipped == {"baby-birthday", "parent-birthday", "we-miss-you"}
    _run(session, NOW)
    title, body = _greetings(session, dad)[0]
    assert title == "豆豆 1 岁生日快乐！🎂" and "豆豆" in body and "{" not in body


def test_fallback_copy_comes_from_the_catalogue_in_the_readers_language(session, make_family):
    mum, _ = make_family(birth_date=date(2025, 11, 23), name="Mia")
    dad = session.get(User, make_family(birth_date=date(2025, 11, 23), name="Bo")[0].id)
    dad.locale = "zh_CN"
    session.commit()
    _run(session, NOW)
    assert _greetings(session, mum)[0] == (
        "Mia is 1 today! 🎂", "Every day with Mia is worth keeping. Add a birthday photo to "
        "the diary, and take a look at what's new for this next stage.")
    assert _greetings(session, dad)[0][0] == "Bo 1 岁生日快乐！🎂"


@pytest.mark.parametrize("text", ["{nmae}", "{name", "name}", "{{name}}", "{name.__class__}",
                                  "{0}", "{}", "{ name }"])
def test_only_the_placeholders_may_stand_in_braces(text):
    with pytest.raises(ValidationError):
        messages.check(text, "body_en")


def test_placeholders_are_filled_once_and_never_twice():
    messages.check("Hi {name}, {child} is {years}!", "body_en")
    assert messages.fill("Hi {name}, {child}!", {"name": "{child}", "child": "Mia"}) == \
        "Hi {child}, Mia!"  # a name that looks like a placeholder stays a name
    assert messages.fill("{child} is {years}", {"name": "x"}) == " is "
