"""A stage is called the same on every page and in every email: "Baby, month 3" (宝宝 3 个月)
in the library, the studio, the inbox, the digest and the journeys admin — one wording from
content.vocabulary, where there used to be "Baby 3 months", "Month 3" and "Baby month 3"."""
from __future__ import annotations

import re
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from diary.models import User
from journeys import defaults, digests, jobs, ledger
from journeys.models import Delivery
from tests.conftest import site_links
from tests.web.test_studio import make_item, make_staff, page_text

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
BORN = date(2026, 8, 10)  # 3 months and 13 days old on 2026-11-23 in Shanghai: month 3
LABEL = {"en": "Baby, month 3", "zh_CN": "宝宝 3 个月"}


def _text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture()
def month_3(session):
    make_item(session, key="month-3-play", title="Play at three months", unit="month", low=3,
              high=3, topics=["play"])
    make_item(session, kind="product", key="BJ-RATTLE-001", title="Soft rattle", unit="month",
              low=3, high=3, category="toys", price_minor=4900, currency="CNY")
    defaults.ensure_default_journey(session)
    session.commit()


@pytest.mark.parametrize("locale", ["en", "zh_CN"])
def test_the_same_stage_label_everywhere(client, session, login_as, make_family, month_3,
                                         locale):
    parent, child = make_family(birth_date=BORN)
    parent.locale = locale
    session.commit()
    label = LABEL[locale]
    jobs.run_journeys_tick(client.application.extensions["session_factory"], NOW)

    login_as(parent)
    library = _text(page_text(client.get("/library/stage/month:3")))
    assert f"{label} " in library  # the page's title
    inbox = _text(page_text(client.get("/inbox")))
    assert f"{child.name} · {label} ·" in inbox  # the pushed article's stage
    dashboard = _text(page_text(client.get(f"/children/{child.id}", follow_redirects=True)))
    assert label in dashboard

    ledger.push(session, [ledger.row(user_id=parent.id, child_id=0, item=None,
                                     channel="email", item_key="digest:2026-W48",
                                     occurrence="2026-W48", kind="digest")])
    row = session.scalar(select(Delivery).where(Delivery.item_key == "digest:2026-W48"))
    email = digests.render(session, row, session.get(User, parent.id), NOW, site_links(),
                           "k")
    assert email.subject.endswith(label)
    assert f"== {child.name} · {label} ==" in email.text
    assert f"{child.name} · {label}" in _text(email.html)

    staff = make_staff(session, "marketer", "Mia Marketer")
    staff.locale = locale
    session.commit()
    login_as(staff)
    studio = _text(page_text(client.get("/studio?type=article")))
    assert "month-3-play" in studio and label in studio
    journey = defaults.ensure_default_journey(session)
    flow = _text(page_text(client.get(f"/studio/journeys/{journey.id}")))
    assert label in flow
    member = _text(page_text(client.post("/studio/families", data={"q": parent.email},
                                         follow_redirects=True)))
    assert label in member
    # none of the old wordings anywhere (the default journey's stage names are data: they
    # were written in English when it was created, so the journeys pages are not checked)
    for page in (library, inbox, dashboard, studio, email.text, email.subject):
        for other in ("Month 3", "Baby 3 month", "Baby month 3", "宝宝3个月", "宝宝第3周"):
            assert other not in page, (other, page[:200])
