"""A parent's own birthday on the account page: optional, never in the future, not before
1900, kept when other details change — and then the parent-birthday campaign greets them."""
from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import select

from journeys import campaigns
from journeys.models import CampaignSend, InboxMessage

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")  # noon on 2026-11-23 in Shanghai


def details(user, **fields):
    data = {"display_name": user.display_name, "timezone": "Asia/Shanghai", "locale": "en",
            "unit_system": "metric", "phone": "", "region_province": "", "region_city": ""}
    data.update(fields)
    return data


def test_a_parent_sets_their_birthday_and_is_greeted_on_the_day(
        make_family, login_as, client, session, monkeypatch):
    monkeypatch.setitem(campaigns.CAMPAIGNS, "parent_birthday", dataclasses.replace(
        campaigns.CAMPAIGNS["parent_birthday"], holdout_share=0.0))
    user, _ = make_family()
    user.last_seen_at = datetime(2030, 1, 1, tzinfo=UTC)  # "we miss you" stays out of it
    session.commit()
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    assert 'name="birthday" placeholder="" type="date"' in page and "Your birthday (optional)" in page
    response = client.post("/account/profile", data=details(user, birthday="1990-11-24"))
    assert response.status_code == 302
    session.expire_all()
    assert user.birthday == date(1990, 11, 24)
    assert 'value="1990-11-24"' in client.get("/account").get_data(as_text=True)

    # not yet: it is the 23rd in Shanghai
    assert campaigns.run(session, datetime(2026, 11, 23, 4, tzinfo=UTC)).by_campaign.get(
        "parent_birthday") is None
    stats = campaigns.run(session, datetime(2026, 11, 24, 1, tzinfo=UTC))  # 09:00 on the 24th
    session.commit()
    assert stats.by_campaign["parent_birthday"] == 1
    [send] = session.scalars(select(CampaignSend).where(
        CampaignSend.campaign == "parent_birthday")).all()
    assert (send.user_id, send.occurrence, send.holdout) == (user.id, "2026", False)
    titles = list(session.scalars(select(InboxMessage.title).where(
        InboxMessage.user_id == user.id, InboxMessage.title.like("Happy birthday%"))))
    assert titles == [f"Happy birthday, {user.display_name}! 🎉"]


def test_the_birthday_is_checked_and_kept(make_family, login_as, client, session):
    user, _ = make_family()
    login_as(user)
    client.post("/account/profile", data=details(user, birthday="1988-02-29"))
    session.expire_all()
    assert user.birthday == date(1988, 2, 29)
    for bad, message in (("2026-11-24", "Your birthday cannot be in the future."),
                         ("1899-12-31", "Please enter a birthday from 1900-01-01 on."),
                         ("0001-01-01", "Please enter a birthday from 1900-01-01 on."),
                         ("9999-12-31", "Your birthday cannot be in the future."),
                         ("2026-02-30", "Not a valid date value.")):
        response = client.post("/account/profile", data=details(user, birthday=bad))
        assert response.status_code == 400, bad
        assert message in response.get_data(as_text=True), bad
        session.expire_all()
        assert user.birthday == date(1988, 2, 29)
    client.post("/account/profile", data=details(user, birthday="2026-11-23"))  # today is fine
    session.expire_all()
    assert user.birthday == date(2026, 11, 23)
    client.post("/account/profile", data=details(user))  # left empty: forgotten
    session.expire_all()
    assert user.birthday is None


def test_the_field_speaks_chinese(make_family, login_as, client, session):
    user, _ = make_family()
    user.locale = "zh_CN"
    session.commit()
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    assert "您的生日（可选）" in page
    bad = client.post("/account/profile", data=details(user, locale="zh_CN",
                                                       birthday="2027-01-01"))
    assert "生日不能是将来的日期。" in bad.get_data(as_text=True)
