"""Life-moment campaigns: due on the local day, once per occasion, with holdouts and lift."""
from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, date, datetime, timedelta, timezone

import pytest
from sqlalchemy import func, select

import db
from diary import accounts, families
from diary.models import Child, Family, Membership, User
from journeys import campaigns, jobs
from journeys.models import CampaignSend, Delivery, EmailClick, InboxMessage
from tests.conftest import PASSWORD, migrated_database_url

UTC = UTC


def _utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.fixture()
def world(tmp_path, monkeypatch):
    """A committed database with a Shanghai family: Mia (born 2025-11-23), mum (English,
    marketing opt-in) and dad (Chinese, no marketing). Holdouts are off unless a test turns
    them on, so who gets what is not left to the hash."""
    for name, campaign in list(campaigns.CAMPAIGNS.items()):
        monkeypatch.setitem(campaigns.CAMPAIGNS, name,
                            dataclasses.replace(campaign, holdout_share=0.0))
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    with factory() as s, s.begin():
        mum = _user(s, "mum@example.com", "Mum", "en", marketing=True)
        dad = _user(s, "dad@example.com", "爸爸", "zh_CN", marketing=False)
        family = families.create_family(s, mum, "mother", timezone="Asia/Shanghai")
        s.add(Membership(family=family, user=dad, role="editor", relationship_to_child="father"))
        s.add(Child(family=family, name="Mia", birth_date=date(2025, 11, 23)))
    yield factory
    engine.dispose()
    drop()


def _user(s, email, name, locale, marketing=False, tz="Asia/Shanghai", birthday=None,
          last_seen=None, verified=True):
    user = accounts.create_user(s, email, PASSWORD,
                                accounts.Profile(display_name=name, locale=locale, timezone=tz))
    user.marketing_opt_in = marketing
    user.email_verified_at = _utc(2025, 1, 1) if verified else None
    user.birthday = birthday
    # Recent visitors by default, so "we miss you" stays out of the birthday tests.
    user.last_seen_at = last_seen or _utc(2030, 1, 1)
    user.created_at = _utc(2025, 1, 1)
    return user


def _holdout(monkeypatch, name, share):
    monkeypatch.setitem(campaigns.CAMPAIGNS, name,
                        dataclasses.replace(campaigns.CAMPAIGNS[name], holdout_share=share))


def _count(factory, model, *where):
    with factory() as s:
        return s.scalar(select(func.count()).select_from(model).where(*where))


def _due(factory, now, campaign=None, **kw):
    with factory() as s:
        return sorted((e.campaign, e.user.email, e.child.name if e.child else None, e.occurrence)
                      for e in campaigns.eligible(s, now, **kw)
                      if campaign is None or e.campaign == campaign)


def _run(factory, now, **kw):
    with factory() as s, s.begin():
        return campaigns.run(s, now, **kw)


def _inbox(factory, email):
    with factory() as s:
        return list(s.execute(select(InboxMessage.title, InboxMessage.body, InboxMessage.child_id)
                              .join(User, User.id == InboxMessage.user_id)
                              .where(User.email == email).order_by(InboxMessage.id)))


def _emails(factory, email):
    with factory() as s:
        return list(s.scalars(select(Delivery.payload).join(User, User.id == Delivery.user_id)
                              .where(User.email == email, Delivery.channel == "email")))


# --- holdout --------------------------------------------------------------------------------

def test_holdout_is_a_deterministic_share():
    held = sum(campaigns.in_holdout("baby_birthday", f"family:{n}", "2027", 0.10)
               for n in range(10_000))
    assert abs(held / 10_000 - 0.10) <= 0.015
    held = sum(campaigns.in_holdout("we_miss_you", f"family:{n}", "2026-10-01", 0.25)
               for n in range(10_000))
    assert abs(held / 10_000 - 0.25) <= 0.015
    answers = {campaigns.in_holdout("baby_birthday", "family:7", "2027", 0.5) for _ in range(20)}
    assert len(answers) == 1
    assert not any(campaigns.in_holdout("x", f"family:{n}", "o", 0.0) for n in range(1000))
    assert all(campaigns.in_holdout("x", f"family:{n}", "o", 1.0) for n in range(1000))
    # the occasion is part of the key: no family is in the control group every year
    assert len({campaigns.in_holdout("baby_birthday", "family:7", str(y), 0.5)
                for y in range(2027, 2047)}) == 2
    # a known answer, so the hash cannot change silently (sha256 of "x:family:1:o")
    assert campaigns.in_holdout("x", "family:1", "o", 0.5) is (
        int(hashlib.sha256(b"x:family:1:o").hexdigest()[:16], 16) / 2 ** 64 < 0.5)


def test_registry():
    assert set(campaigns.CAMPAIGNS) == {"baby_birthday", "parent_birthday", "we_miss_you"}
    for c in campaigns.CAMPAIGNS.values():
        assert c.goal in campaigns.GOALS and c.goal_days > 0 and set(c.channels) <= {
            "inbox", "email"}
    assert campaigns.WE_MISS_YOU_DAYS == 30


# --- baby birthday --------------------------------------------------------------------------

def test_baby_birthday_is_due_on_the_day_in_the_family_time_zone(world):
    factory = world
    # 23:00 on the 22nd in Shanghai: not yet
    assert _due(factory, _utc(2026, 11, 22, 15), "baby_birthday") == []
    # 01:00 on the 23rd in Shanghai (still the 22nd in UTC): due, for each member
    assert _due(factory, _utc(2026, 11, 22, 17), "baby_birthday") == [
        ("baby_birthday", "dad@example.com", "Mia", "2026"),
        ("baby_birthday", "mum@example.com", "Mia", "2026")]
    # the next day in Shanghai: over
    assert _due(factory, _utc(2026, 11, 23, 17), "baby_birthday") == []


def test_a_family_in_another_zone_keeps_its_own_day(world):
    factory = world
    with factory() as s, s.begin():
        s.scalar(select(Family)).timezone = "America/Los_Angeles"
    assert _due(factory, _utc(2026, 11, 23, 4), "baby_birthday") == []  # 20:00 on the 22nd
    assert len(_due(factory, _utc(2026, 11, 24, 4), "baby_birthday")) == 2  # 20:00 on the 23rd


def test_feb_29_child_is_greeted_on_feb_28_in_non_leap_years(world):
    factory = world
    with factory() as s, s.begin():
        s.add(Child(family=s.scalar(select(Family)), name="Leap", birth_date=date(2024, 2, 29)))
    leap = "baby_birthday"
    assert [d[2] for d in _due(factory, _utc(2027, 2, 28, 4), leap)] == ["Leap", "Leap"]
    assert _due(factory, _utc(2027, 3, 1, 4), leap) == []
    assert _due(factory, _utc(2028, 2, 28, 4), leap) == []  # a leap year: the real day comes
    assert [d[3] for d in _due(factory, _utc(2028, 2, 29, 4), leap)] == ["2028", "2028"]


def test_babies_under_one_and_unborn_babies_are_not_greeted(world):
    factory = world
    with factory() as s, s.begin():
        family = s.scalar(select(Family))
        s.add(Child(family=family, name="Newborn", birth_date=date(2026, 11, 23)))
        s.add(Child(family=family, name="Bump", due_date=date(2026, 11, 23)))
    names = {d[2] for d in _due(factory, _utc(2026, 11, 23, 4), "baby_birthday")}
    assert names == {"Mia"}


def test_each_member_is_greeted_once_in_their_language(world):
    factory = world
    now = _utc(2026, 11, 23, 4)
    stats = _run(factory, now)
    assert stats.by_campaign == {"baby_birthday": 2} and stats.held_out == 0
    assert stats.pushed == 3  # two inbox messages, one email (only mum opted in)
    [(title, body, child_id)] = _inbox(factory, "mum@example.com")
    assert title == "Mia is 1 today! 🎂" and "Mia" in body and child_id
    [(title, body, _)] = _inbox(factory, "dad@example.com")
    assert title == "Mia 1 岁生日快乐！🎂" and "日记" in body
    # marketing opt-in decides email: mum gets one the outbox can render, dad none
    [payload] = _emails(factory, "mum@example.com")
    assert payload["kind"] == "campaign" and payload["campaign"] == "baby_birthday"
    assert payload["title"] == "Mia is 1 today! 🎂" and payload["body"]
    assert _emails(factory, "dad@example.com") == []
    with factory() as s:
        sends = list(s.scalars(select(CampaignSend)))
        assert {(c.campaign, c.occurrence, c.holdout, c.goal) for c in sends} == {
            ("baby_birthday", "2026", False, "product_click")}
        for send in sends:  # the inbox delivery is linked to its send
            delivery = s.get(Delivery, send.delivery_id)
            assert (delivery.channel, delivery.user_id, delivery.item_key,
                    delivery.occurrence) == ("inbox", send.user_id, "campaign:baby_birthday",
                                             "baby_birthday:2026")
    # running again (same hour, later that day) adds nothing
    for later in (now, now + timedelta(hours=6)):
        again = _run(factory, later)
        assert again.eligible == 2 and again.recorded == 0 and again.pushed == 0
    assert _count(factory, CampaignSend) == 2 and _count(factory, InboxMessage) == 2
    # and next year is a new occasion
    next_year = _run(factory, _utc(2027, 11, 23, 4))
    assert next_year.recorded == 2
    assert _inbox(factory, "mum@example.com")[-1][0] == "Mia is 2 today! 🎂"


def test_holdout_members_get_a_row_but_no_message(world, monkeypatch):
    factory = world
    _holdout(monkeypatch, "baby_birthday", 1.0)
    stats = _run(factory, _utc(2026, 11, 23, 4))
    assert stats.recorded == 2 and stats.held_out == 2 and stats.pushed == 0
    assert _count(factory, Delivery) == 0 and _count(factory, InboxMessage) == 0
    with factory() as s:
        assert [(c.holdout, c.delivery_id) for c in s.scalars(select(CampaignSend))] == [
            (True, None), (True, None)]
    assert _run(factory, _utc(2026, 11, 23, 5)).recorded == 0


def test_a_family_is_held_out_together_as_its_hash_says(world, monkeypatch):
    """Both parents of a baby land on the same side: the unit is the family, not the user."""
    factory = world
    _holdout(monkeypatch, "baby_birthday", 0.5)
    with factory() as s:
        family_id = s.scalar(select(Child.family_id))
    held = campaigns.in_holdout("baby_birthday", f"family:{family_id}", "2026", 0.5)
    for year in range(2026, 2030):  # some years held out, some not (the hash decides)
        _run(factory, _utc(year, 11, 23, 4))
    with factory() as s:
        sends = list(s.scalars(select(CampaignSend)))
        assert len(sends) == 8
        for year in range(2026, 2030):
            sides = {c.holdout for c in sends if c.occurrence == str(year)}
            assert sides == {campaigns.in_holdout("baby_birthday", f"family:{family_id}",
                                                  str(year), 0.5)}
        assert {c.holdout for c in sends if c.occurrence == "2026"} == {held}
        for send in sends:
            assert (send.delivery_id is None) == send.holdout
        assert {c.holdout for c in sends} == {True, False}


def test_parent_campaigns_hold_out_by_the_parents_family(world, monkeypatch):
    factory = world
    _holdout(monkeypatch, "parent_birthday", 0.5)
    with factory() as s, s.begin():
        mum = s.scalar(select(User).where(User.email == "mum@example.com"))
        mum.birthday = date(1990, 3, 5)
        family_id = s.scalar(select(Child.family_id))
        single = _user(s, "solo@example.com", "Solo", "en", birthday=date(1991, 3, 5))
        s.flush()
        solo_id = single.id
    now = _utc(2027, 3, 5, 4)  # noon on Mar 5 in Shanghai
    with factory() as s:
        found = {e.user.email: e for e in campaigns.eligible(s, now)}
    assert campaigns.holdout_unit(found["mum@example.com"]) == f"family:{family_id}"
    assert campaigns.holdout_unit(found["solo@example.com"]) == f"user:{solo_id}"
    _run(factory, now)
    with factory() as s:
        mine = s.scalar(select(CampaignSend).where(CampaignSend.user_id == mum.id))
        assert mine.holdout == campaigns.in_holdout("parent_birthday", f"family:{family_id}",
                                                    "2027", 0.5)


# --- parent birthday ------------------------------------------------------------------------

def test_parent_birthday_in_their_own_time_zone(world):
    factory = world
    with factory() as s, s.begin():
        _user(s, "nana@example.com", "Nana", "en", marketing=True, tz="America/New_York",
              birthday=date(1960, 3, 5))
        _user(s, "nainai@example.com", "奶奶", "zh_CN", birthday=date(1962, 3, 6))
        s.add(User(email="staff@example.com", password_hash="x", display_name="Staff",
                   member_no="BJ99999999", security_stamp="s", birthday=date(1990, 3, 5),
                   staff_role="admin", timezone="America/New_York",
                   last_seen_at=_utc(2030, 1, 1)))
    # 22:00 on Mar 4 in New York
    assert _due(factory, _utc(2027, 3, 5, 3), "parent_birthday") == []
    now = _utc(2027, 3, 5, 15)  # 10:00 on Mar 5 in New York, 23:00 in Shanghai
    assert _due(factory, now, "parent_birthday") == [
        ("parent_birthday", "nana@example.com", None, "2027")]
    stats = _run(factory, now)
    assert stats.by_campaign == {"parent_birthday": 1} and stats.pushed == 2
    [(title, _, child_id)] = _inbox(factory, "nana@example.com")
    assert title == "Happy birthday, Nana! 🎉" and child_id is None
    with factory() as s:
        delivery = s.scalar(select(Delivery).where(Delivery.channel == "email"))
        assert (delivery.child_id, delivery.occurrence) == (0, "parent_birthday:2027")
    # an hour later it is Mar 6 in Shanghai: nainai's turn, in Chinese
    _run(factory, _utc(2027, 3, 5, 16))
    assert _inbox(factory, "nainai@example.com")[0][0] == "奶奶，生日快乐！🎉"
    assert _emails(factory, "nainai@example.com") == []  # no marketing consent
    assert _run(factory, _utc(2027, 3, 5, 17)).recorded == 0


# --- we miss you ----------------------------------------------------------------------------

def test_we_miss_you_after_30_days_once_per_absence(world):
    factory = world
    last = _utc(2026, 10, 1, 2)  # 10:00 on Oct 1 in Shanghai
    with factory() as s, s.begin():
        mum = s.scalar(select(User).where(User.email == "mum@example.com"))
        mum.last_seen_at = last
    assert _due(factory, last + timedelta(days=29, hours=23), "we_miss_you") == []
    assert _due(factory, last + timedelta(days=25), "we_miss_you", we_miss_you_days=20) == [
        ("we_miss_you", "mum@example.com", None, "2026-10-01")]
    day30 = last + timedelta(days=30, hours=1)
    assert _due(factory, day30, "we_miss_you") == [
        ("we_miss_you", "mum@example.com", None, "2026-10-01")]
    stats = _run(factory, day30)
    assert stats.by_campaign == {"we_miss_you": 1} and stats.pushed == 2
    assert _inbox(factory, "mum@example.com")[0][0] == "We miss you, Mum 💛"
    # still away a week later: handled already (not even reloaded)
    assert _due(factory, day30 + timedelta(days=7), "we_miss_you") == []
    assert _run(factory, day30 + timedelta(days=7)).recorded == 0
    # she comes back, then stays away again: a new absence, a new message
    back = day30 + timedelta(days=10)
    with factory() as s, s.begin():
        s.scalar(select(User).where(User.email == "mum@example.com")).last_seen_at = back
    assert _due(factory, back + timedelta(days=29), "we_miss_you") == []
    stats = _run(factory, back + timedelta(days=31))
    assert stats.by_campaign == {"we_miss_you": 1}
    with factory() as s:
        assert sorted(s.scalars(select(CampaignSend.occurrence))) == [
            "2026-10-01", back.astimezone(timezone(timedelta(hours=8))).date().isoformat()]


def test_we_miss_you_uses_sign_up_time_for_people_who_never_came_back(world):
    factory = world
    with factory() as s, s.begin():
        dad = s.scalar(select(User).where(User.email == "dad@example.com"))
        dad.last_seen_at, dad.created_at = None, _utc(2026, 9, 1, 1)
    now = _utc(2026, 10, 15)
    assert _due(factory, now, "we_miss_you") == [
        ("we_miss_you", "dad@example.com", None, "2026-09-01")]
    _run(factory, now)
    assert _inbox(factory, "dad@example.com")[0][0] == "爸爸，好久不见 💛"
    assert _emails(factory, "dad@example.com") == []  # marketing opt-out: inbox only


# --- conversions and lift -------------------------------------------------------------------

def _send(s, user, campaign, goal, created, holdout=False, goal_days=7, occurrence="o"):
    send = CampaignSend(campaign=campaign, user_id=user.id, child_id=0, occurrence=occurrence,
                        holdout=holdout, goal=goal, goal_days=goal_days, created_at=created)
    s.add(send)
    s.flush()
    return send.id


def test_conversions_for_visits(world):
    factory = world
    sent_at = _utc(2026, 11, 23, 4)
    with factory() as s, s.begin():
        mum, dad = (s.scalar(select(User).where(User.email == e))
                    for e in ("mum@example.com", "dad@example.com"))
        mum.last_seen_at = dad.last_seen_at = sent_at - timedelta(hours=1)
        visited = _send(s, mum, "parent_birthday", "visit", sent_at, occurrence="a")
        held = _send(s, mum, "we_miss_you", "visit", sent_at, holdout=True, occurrence="b")
        late = _send(s, dad, "parent_birthday", "visit", sent_at, occurrence="c")
    with factory() as s, s.begin():
        assert campaigns.measure_conversions(s, sent_at + timedelta(days=1)) == 0
    with factory() as s, s.begin():
        s.scalar(select(User).where(User.email == "mum@example.com")).last_seen_at = \
            sent_at + timedelta(days=2)
        s.scalar(select(User).where(User.email == "dad@example.com")).last_seen_at = \
            sent_at + timedelta(days=9)  # after the 7-day window
    with factory() as s, s.begin():
        assert campaigns.measure_conversions(s, sent_at + timedelta(days=10)) == 2
    with factory() as s:
        assert s.get(CampaignSend, visited).converted_at == sent_at + timedelta(days=2)
        assert s.get(CampaignSend, held).converted_at == sent_at + timedelta(days=2)  # holdout too
        assert s.get(CampaignSend, late).converted_at is None
    with factory() as s, s.begin():  # nothing twice
        assert campaigns.measure_conversions(s, sent_at + timedelta(days=11)) == 0


def test_conversions_for_product_clicks(world):
    factory = world
    sent_at = _utc(2026, 11, 23, 4)
    with factory() as s, s.begin():
        mum, dad = (s.scalar(select(User).where(User.email == e))
                    for e in ("mum@example.com", "dad@example.com"))
        clicked = _send(s, mum, "baby_birthday", "product_click", sent_at, goal_days=14)
        article = _send(s, dad, "baby_birthday", "product_click", sent_at, goal_days=14)
        s.add_all([
            EmailClick(user_id=mum.id, item_key="product:BJ-1", url="/p/1",
                       clicked_at=sent_at - timedelta(days=1)),  # before: not evidence
            EmailClick(user_id=mum.id, item_key="product:BJ-2", url="/p/2",
                       clicked_at=sent_at + timedelta(days=3)),
            EmailClick(user_id=mum.id, item_key="product:BJ-3", url="/p/3",
                       clicked_at=sent_at + timedelta(days=5)),
            EmailClick(user_id=dad.id, item_key="article:sleep", url="/a",
                       clicked_at=sent_at + timedelta(days=1)),
            EmailClick(user_id=dad.id, item_key="product:BJ-1", url="/p/1",
                       clicked_at=sent_at + timedelta(days=20)),  # too late
        ])
    with factory() as s, s.begin():
        assert campaigns.measure_conversions(s, sent_at + timedelta(days=21)) == 1
    with factory() as s:
        assert s.get(CampaignSend, clicked).converted_at == sent_at + timedelta(days=3)
        assert s.get(CampaignSend, article).converted_at is None


def test_report_lift_on_a_hand_built_example(world):
    factory = world
    t = _utc(2026, 11, 23)
    with factory() as s, s.begin():
        users = [_user(s, f"p{i}@example.com", f"P{i}", "en") for i in range(6)]
        for i, user in enumerate(users):
            send_id = _send(s, user, "parent_birthday", "visit", t, holdout=i >= 4)
            if i < 2:
                s.get(CampaignSend, send_id).converted_at = t + timedelta(days=1)
        _send(s, users[0], "we_miss_you", "visit", t)  # no holdout rows yet: no lift
    with factory() as s:
        out = campaigns.report(s)
    assert out["parent_birthday"] == {"sent": 4, "holdout": 2, "sent_converted": 2,
                                      "holdout_converted": 0, "lift": 0.5}
    assert out["we_miss_you"]["lift"] is None and out["we_miss_you"]["sent"] == 1
    assert out["baby_birthday"] == {"sent": 0, "holdout": 0, "sent_converted": 0,
                                    "holdout_converted": 0, "lift": None}


# --- the job --------------------------------------------------------------------------------

def test_the_job_runs_and_measures_in_its_own_transactions(world, monkeypatch):
    factory = world
    _holdout(monkeypatch, "baby_birthday", 1.0)  # dad and mum both in the control group
    now = _utc(2026, 11, 23, 4)
    stats = jobs.run_campaigns(factory, now)
    assert (stats.recorded, stats.held_out, stats.pushed, stats.converted) == (2, 2, 0, 0)
    with factory() as s, s.begin():
        mum = s.scalar(select(User).where(User.email == "mum@example.com"))
        s.add(EmailClick(user_id=mum.id, item_key="product:BJ-1", url="/p",
                         clicked_at=now + timedelta(days=1)))
    again = jobs.run_campaigns(factory, now + timedelta(days=2))
    assert (again.recorded, again.converted) == (0, 1)
    with factory() as s:
        assert campaigns.report(s)["baby_birthday"]["holdout_converted"] == 1


def test_no_campaign_email_to_an_address_never_proven(world):
    factory = world
    with factory() as s, s.begin():
        mum = s.scalar(select(User).where(User.email == "mum@example.com"))
        mum.email_verified_at = None
    stats = _run(factory, _utc(2026, 11, 23, 4))
    assert stats.pushed == 2  # the two inbox greetings; mum's email waits for her address
    assert _emails(factory, "mum@example.com") == []
