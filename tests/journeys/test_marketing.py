"""Marketer campaigns: a segment as audience, exactly-once sends through the ledger, holdouts
written but not pushed, reviewed messages only, goals, results with lift and its interval."""
from __future__ import annotations

import secrets
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select

import db
from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from content.models import Article, Product
from diary import accounts, families
from diary.errors import Conflict, ValidationError
from diary.models import Child, Membership, User
from journeys import campaigns, goals, jobs, marketing, results
from journeys.holdouts import in_holdout
from journeys.models import (
    CampaignSend,
    Delivery,
    EmailClick,
    InboxMessage,
    MarketingCampaign,
    TickRun,
)
from recommender.models import Interaction
from tests.conftest import PASSWORD, migrated_database_url, run_at_once

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def make_message(s, key="come-back", publish=True):
    item = authoring.create(s, ItemInput(kind="message", key=key, translations={
        "en": TextInput("We miss you, {name}", "", "Come and see what is new for {child}."),
        "zh_CN": TextInput("{name}，好久不见", "", "来看看{child}的新阶段吧。")}), None)
    if publish:
        workflow.publish_reviewed(s, item)
    s.flush()
    return item


def parent(s, name, locale="en", marketing_opt_in=False, family=None, child="Mia"):
    user = accounts.create_user(s, f"{name}-{secrets.token_hex(3)}@example.com", PASSWORD,
                                accounts.Profile(display_name=name, locale=locale))
    user.marketing_opt_in = marketing_opt_in
    user.email_verified_at = NOW - timedelta(days=300)
    if family is None:
        family = families.create_family(s, user, "mother", timezone="Asia/Shanghai")
        s.add(Child(family=family, name=child, birth_date=date(2025, 12, 1)))
    else:
        s.add(Membership(family=family, user=user, role="editor",
                         relationship_to_child="father"))
    s.flush()
    return user


class Audiences:
    """A stand-in for `crm.segments.audience`: segment id → the ids it holds (changeable)."""

    def __init__(self, **segments):
        self.segments = {int(k[1:]): set(v) for k, v in segments.items()}
        self.calls = 0

    def __call__(self, session, segment_id, now=None):
        self.calls += 1
        return select(User.id).where(User.id.in_(self.segments.get(segment_id, set())))


def new_campaign(s, staff, **fields):
    data = dict(name="Come back", segment_id=1, trigger="once", message_key="come-back",
                channels=["inbox", "email"], holdout_share=0.0, goal="visit", goal_days=7)
    data.update(fields)
    return marketing.create(s, staff, marketing.CampaignInput(**data), NOW)


@pytest.fixture()
def staff(session):
    return accounts.create_staff(session, f"m-{secrets.token_hex(3)}@example.com", PASSWORD,
                                 "marketer", "Mia Market")


def _count(s, model, *where):
    return s.scalar(select(func.count()).select_from(model).where(*where))


# --- sending ---------------------------------------------------------------------------------

def test_once_sends_each_member_once_and_the_holdout_is_written_but_not_pushed(session, staff):
    s = session
    make_message(s)
    people = [parent(s, f"p{n}", marketing_opt_in=n % 2 == 0) for n in range(12)]
    outsider = parent(s, "outsider")
    audience = Audiences(s1=[p.id for p in people])
    campaign = new_campaign(s, staff, holdout_share=0.5)
    marketing.start(s, campaign, NOW)
    family_of = {p.id: s.scalar(select(Membership.family_id).where(Membership.user_id == p.id))
                 for p in people}
    held = {p.id for p in people
            if in_holdout(campaign.key, f"family:{family_of[p.id]}", "1", 0.5)}
    assert 0 < len(held) < len(people)  # both groups exist, as the hash says

    stats = marketing.run(s, NOW, audience)
    reached = [p for p in people if p.id not in held]
    emails = [p for p in reached if p.marketing_opt_in]
    assert (stats.recorded, stats.held_out) == (12, len(held))
    assert stats.pushed == len(reached) + len(emails)
    sends = {r.user_id: r for r in s.scalars(select(CampaignSend).where(
        CampaignSend.campaign == campaign.key))}
    assert set(sends) == {p.id for p in people}
    for user_id, send in sends.items():
        assert send.holdout is (user_id in held)
        assert (send.goal, send.goal_days, send.occurrence) == ("visit", 7, "1")
        assert (send.delivery_id is None) is (user_id in held)
    # held out: a row, but nothing pushed — no ledger row, no inbox message, no email
    assert _count(s, Delivery, Delivery.user_id.in_(held)) == 0
    assert _count(s, InboxMessage, InboxMessage.user_id.in_(held)) == 0
    assert _count(s, Delivery, Delivery.user_id == outsider.id) == 0
    first = reached[0]
    [message] = s.scalars(select(InboxMessage).where(InboxMessage.user_id == first.id))
    assert (message.title, message.body) == (f"We miss you, {first.display_name}",
                                            "Come and see what is new for Mia.")
    email = s.scalar(select(Delivery).where(Delivery.user_id == emails[0].id,
                                            Delivery.channel == "email"))
    assert email.payload["kind"] == "campaign" and email.status == "pending"
    assert campaign.status == "done" and campaign.last_run_at == NOW

    # a re-run sends nothing: the campaign is done …
    assert marketing.run(s, NOW + timedelta(hours=1), audience).campaigns == 0
    # … and even if it ran again, every row is already there
    campaign.status = "active"
    again = marketing.run(s, NOW + timedelta(hours=2), audience)
    assert (again.recorded, again.pushed) == (0, 0)
    assert _count(s, CampaignSend) == 12
    assert _count(s, InboxMessage) == len(reached)


def test_each_person_reads_it_in_their_language(session, staff):
    s = session
    make_message(s)
    zh = parent(s, "豆豆妈", locale="zh_CN", child="豆豆")
    new_campaign(s, staff)
    marketing.start(s, s.scalar(select(MarketingCampaign)), NOW)
    marketing.run(s, NOW, Audiences(s1=[zh.id]))
    [message] = s.scalars(select(InboxMessage))
    assert (message.title, message.body) == ("豆豆妈，好久不见", "来看看豆豆的新阶段吧。")


def test_on_entry_reaches_newcomers_once_each(session, staff):
    s = session
    make_message(s)
    a, b, c = (parent(s, n) for n in "abc")
    audience = Audiences(s1=[a.id, b.id])
    campaign = new_campaign(s, staff, trigger="on_entry")
    marketing.start(s, campaign, NOW)
    assert marketing.run(s, NOW, audience).recorded == 2
    audience.segments[1] = {b.id, c.id}  # a left, c entered
    later = marketing.run(s, NOW + timedelta(hours=1), audience)
    assert later.recorded == 1 and campaign.status == "active"
    audience.segments[1] = {a.id, b.id, c.id}  # a is back: already had it
    assert marketing.run(s, NOW + timedelta(hours=2), audience).recorded == 0
    assert sorted(s.scalars(select(InboxMessage.user_id))) == sorted([a.id, b.id, c.id])


def test_on_date_waits_for_its_time(session, staff):
    s = session
    make_message(s)
    a = parent(s, "a")
    at = NOW + timedelta(days=2)
    campaign = new_campaign(s, staff, trigger="on_date", send_at=at)
    marketing.start(s, campaign, NOW)
    audience = Audiences(s1=[a.id])
    assert marketing.run(s, at - timedelta(minutes=1), audience).campaigns == 0
    assert marketing.run(s, at, audience).recorded == 1
    assert campaign.status == "done"


def test_only_a_published_message_is_sent(session, staff):
    s = session
    draft = make_message(s, publish=False)
    a = parent(s, "a")
    campaign = new_campaign(s, staff)
    with pytest.raises(ValidationError) as raised:
        marketing.start(s, campaign, NOW)
    assert str(raised.value) == ("The message “come-back” is not published yet: a reviewer "
                                 "must approve it before the campaign can send it.")
    assert campaign.status == "draft"
    workflow.publish_reviewed(s, draft)
    marketing.start(s, campaign, NOW)
    draft.status = "archived"  # taken down after the start: the campaign waits
    s.flush()
    stats = marketing.run(s, NOW, Audiences(s1=[a.id]))
    assert stats.waiting == [campaign.key] and stats.recorded == 0
    assert campaign.status == "active"


def test_paused_drafts_and_no_audience_send_nothing(session, staff):
    s = session
    make_message(s)
    a = parent(s, "a")
    audience = Audiences(s1=[a.id])
    campaign = new_campaign(s, staff, trigger="on_entry")
    assert marketing.run(s, NOW, audience).campaigns == 0  # a draft
    marketing.start(s, campaign, NOW)
    marketing.pause(s, campaign, NOW)
    assert marketing.run(s, NOW, audience).campaigns == 0
    marketing.start(s, campaign, NOW)  # resume
    assert marketing.run(s, NOW, None).recorded == 0  # nobody can resolve the segment
    assert audience.calls == 0
    assert marketing.run(s, NOW, audience).recorded == 1


def test_staff_and_closed_accounts_never_get_it(session, staff):
    s = session
    make_message(s)
    a, closed = parent(s, "a"), parent(s, "closed")
    closed.is_active = False
    new_campaign(s, staff)
    marketing.start(s, s.scalar(select(MarketingCampaign)), NOW)
    stats = marketing.run(s, NOW, Audiences(s1=[a.id, closed.id, staff.id]))
    assert stats.recorded == 1
    assert list(s.scalars(select(CampaignSend.user_id))) == [a.id]


# --- authoring -------------------------------------------------------------------------------

BAD = [
    ({"name": "  "}, "name", "Give the campaign a name."),
    ({"name": "x" * 121}, "name", "Keep the name under 120 characters."),
    ({"segment_id": None}, "segment_id", "Choose the segment the campaign is for."),
    ({"segment_id": True}, "segment_id", "Choose the segment the campaign is for."),
    ({"segment_id": 2**31}, "segment_id", "Choose the segment the campaign is for."),
    ({"trigger": "hourly"}, "trigger", "Choose when the campaign sends."),
    ({"trigger": "on_date"}, "send_at", "Choose the date and time to send."),
    ({"trigger": "on_date", "send_at": NOW - timedelta(minutes=1)}, "send_at",
     "Choose a time in the future."),
    ({"message_key": "no-such"}, "message_key", "Choose the message the campaign sends."),
    ({"channels": []}, "channels", "Choose at least one channel (inbox or email)."),
    ({"channels": ["inbox", "sms"]}, "channels", "Choose at least one channel (inbox or email)."),
    ({"holdout_share": 0.51}, "holdout_share", "The holdout must be 0 to 50 % of families."),
    ({"holdout_share": -0.1}, "holdout_share", "The holdout must be 0 to 50 % of families."),
    ({"holdout_share": float("nan")}, "holdout_share",
     "The holdout must be 0 to 50 % of families."),
    ({"goal": "love"}, "goal", "Choose the campaign's goal."),
    ({"goal_days": 0}, "goal_days", "The goal window must be 1 to 60 days."),
    ({"goal_days": 61}, "goal_days", "The goal window must be 1 to 60 days."),
]


@pytest.mark.parametrize(("fields", "field", "message"), BAD)
def test_bad_campaigns_are_refused(session, staff, fields, field, message):
    make_message(session)
    with pytest.raises(ValidationError) as raised:
        new_campaign(session, staff, **fields)
    assert (raised.value.field, str(raised.value)) == (field, message)
    assert _count(session, MarketingCampaign) == 0


def test_edits_wait_for_a_pause_and_keep_the_experiment(session, staff):
    s = session
    make_message(s)
    a = parent(s, "a")
    campaign = new_campaign(s, staff, trigger="on_entry", holdout_share=0.1)
    with pytest.raises(Conflict):
        new_campaign(s, staff, name="come BACK")
    data = marketing.CampaignInput(name="Come back soon", segment_id=1, trigger="on_entry",
                                   message_key="come-back", channels=["inbox"],
                                   holdout_share=0.1, goal="visit", goal_days=7)
    marketing.update(s, campaign, data, 1, NOW)
    assert (campaign.name, campaign.version, campaign.channels) == ("Come back soon", 2,
                                                                     ["inbox"])
    with pytest.raises(Conflict):  # a form opened at version 1
        marketing.update(s, campaign, data, 1, NOW)
    marketing.start(s, campaign, NOW)
    with pytest.raises(Conflict) as raised:
        marketing.update(s, campaign, data, campaign.version, NOW)
    assert str(raised.value) == "Pause the campaign before changing it."
    marketing.run(s, NOW, Audiences(s1=[a.id]))
    marketing.pause(s, campaign, NOW)
    data.goal = "purchase"
    with pytest.raises(Conflict) as raised:
        marketing.update(s, campaign, data, campaign.version, NOW)
    assert raised.value.field == "goal"
    data.goal, data.name = "visit", "Renamed"
    marketing.update(s, campaign, data, campaign.version, NOW)
    assert campaign.name == "Renamed"
    with pytest.raises(Conflict):
        marketing.pause(s, campaign, NOW)  # not running


# --- racing schedulers -----------------------------------------------------------------------

@pytest.fixture()
def world(tmp_path):
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    with factory() as s, s.begin():
        make_message(s)
        staff = accounts.create_staff(s, "m@example.com", PASSWORD, "marketer", "M")
        people = [parent(s, f"p{n}", marketing_opt_in=True) for n in range(30)]
        campaign = new_campaign(s, staff, trigger="on_entry", holdout_share=0.2)
        marketing.start(s, campaign, NOW)
        ids = [p.id for p in people]
    yield factory, Audiences(s1=ids), ids
    engine.dispose()
    drop()


def test_a_rerun_and_two_runs_racing_send_once(world):
    factory, audience, ids = world
    errors = run_at_once(lambda: jobs.run_marketing(factory, audience, NOW), 3)
    assert errors == []
    jobs.run_marketing(factory, audience, NOW + timedelta(minutes=5))  # and a re-run
    with factory() as s:
        sends = list(s.scalars(select(CampaignSend)))
        assert sorted(r.user_id for r in sends) == sorted(ids)
        reached = {r.user_id for r in sends if not r.holdout}
        assert 0 < len(reached) < len(ids)
        inbox = list(s.scalars(select(InboxMessage.user_id)))
        assert sorted(inbox) == sorted(reached)  # one each, none to the holdout
        emails = list(s.scalars(select(Delivery.user_id).where(Delivery.channel == "email")))
        assert sorted(emails) == sorted(reached)
        runs = list(s.scalars(select(TickRun).where(TickRun.kind == "marketing")))
        assert len(runs) == 4 and sum(r.created for r in runs) == 2 * len(reached)


# --- goals and results -----------------------------------------------------------------------

def _send(s, user, key, goal, at, holdout=False, days=7):
    send = CampaignSend(campaign=key, user_id=user.id, child_id=0, occurrence="1",
                        holdout=holdout, goal=goal, goal_days=days, created_at=at)
    s.add(send)
    s.flush()
    return send


def test_goals_count_the_first_evidence_inside_the_window(session):
    s = session
    buyer, browser, reader, late = (parent(s, n) for n in ("buyer", "browser", "reader",
                                                            "late"))
    product = Product(key="BJ-1", category="nappies", status="published")
    article = Article(key="sleep", status="published")
    s.add_all([product, article])
    s.flush()
    bought = _send(s, buyer, "m9", "purchase", NOW)
    clicked = _send(s, browser, "m9", "product_click", NOW)
    read = _send(s, reader, "m9", "product_click", NOW)
    too_late = _send(s, late, "m9", "purchase", NOW, days=3)

    def act(user, kind, item, days):
        s.add(Interaction(occurred_at=NOW + timedelta(days=days), kind=kind, user_id=user.id,
                          item_id=item.id, surface="child_page",
                          idempotency_key=secrets.token_hex(8)))

    act(buyer, "purchase", product, -1)  # before the send: no evidence
    act(buyer, "click", product, 1)  # a click is not a purchase
    act(buyer, "purchase", product, 2)
    act(buyer, "purchase", product, 3)
    act(browser, "click", product, 4)  # on the site: counts for product_click
    s.add(EmailClick(user_id=browser.id, item_key="product:BJ-1", url="/p",
                     clicked_at=NOW + timedelta(days=5)))
    act(reader, "click", article, 1)  # an article is no product
    act(late, "purchase", product, 4)  # after the 3-day window
    s.flush()
    assert campaigns.measure_conversions(s, NOW + timedelta(days=10)) == 2
    s.expire_all()
    assert bought.converted_at == NOW + timedelta(days=2)
    assert clicked.converted_at == NOW + timedelta(days=4)
    assert read.converted_at is None and too_late.converted_at is None
    assert campaigns.measure_conversions(s, NOW + timedelta(days=11)) == 0
    assert set(goals.GOALS) == {"visit", "product_click", "purchase"}


def test_results_and_lift_on_a_hand_computed_example(session):
    """Reached: family A (two parents, both converted), B (0 of 1), C (1 of 1), D (0 of 1):
    3/5 = 0.6. Holdout: E (1 of 1), F and G (0 of 1): 1/3. Families are the units:
    var = m/(m−1)·Σ(cᵢ − p·nᵢ)²/N² → 4/3·1.52/25 = 0.0810667 and 3/2·(2/3)/9 = 0.1111111;
    SE = √0.1921778 = 0.4383809; difference 0.2666667 ± 1.959964·SE."""
    s = session
    a1 = parent(s, "a1")
    a2 = parent(s, "a2", family=s.scalar(select(Membership).where(
        Membership.user_id == a1.id)).family)
    b, c, d, e, f, g = (parent(s, n) for n in "bcdefg")
    for user, holdout, converted in ((a1, False, True), (a2, False, True), (b, False, False),
                                     (c, False, True), (d, False, False), (e, True, True),
                                     (f, True, False), (g, True, False)):
        send = _send(s, user, "m7", "visit", NOW, holdout=holdout)
        if converted:
            send.converted_at = NOW + timedelta(days=1)
    s.add(Delivery(user_id=a1.id, child_id=0, item_key="campaign:m7", channel="inbox",
                   occurrence="m7:1", status="sent", sent_at=NOW))
    s.flush()
    out = results.campaign_results(s, "m7")
    assert (out.sent, out.held_out, out.converted, out.holdout_converted) == (5, 3, 3, 1)
    assert (out.delivered, out.opened, out.clicked) == (1, 0, 0)
    assert out.rate == pytest.approx(0.6) and out.holdout_rate == pytest.approx(1 / 3)
    lift = out.lift
    assert lift.difference == pytest.approx(0.2666667, abs=1e-6)
    assert lift.standard_error == pytest.approx(0.4383809, abs=1e-6)
    assert (lift.low, lift.high) == (pytest.approx(-0.5925440, abs=1e-6),
                                     pytest.approx(1.1258774, abs=1e-6))
    assert not lift.significant
    assert results.campaign_results(s, "m8").lift is None  # nothing sent: no lift


def test_a_campaign_whose_segment_is_gone_waits(session, staff):
    from diary.errors import NotFound

    def gone(session, segment_id, now=None):
        raise NotFound()

    s = session
    make_message(s)
    parent(s, "a")
    campaign = new_campaign(s, staff, trigger="once")
    marketing.start(s, campaign, NOW)
    stats = marketing.run(s, NOW, gone)
    assert stats.waiting == [campaign.key] and stats.recorded == 0
    assert campaign.status == "active"  # not "done": it sent nothing
