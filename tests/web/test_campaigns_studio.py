"""The campaign studio: marketers make, start and pause campaigns whose message a reviewer
approved; analysts read the results; the scheduler's job sends them once; journeys get a
segment, a holdout, a goal and a results page."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from crm import segments
from journeys import marketing
from journeys.models import CampaignSend, InboxMessage, Journey, MarketingCampaign
from tests.web.test_studio import make_staff, page_text
from webapp import scheduler

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Market")


@pytest.fixture()
def world(session, marketer, make_family):
    """A published and a draft message, a segment of two families, and one outside it."""
    for key, publish in (("come-back", True), ("unreviewed", False)):
        item = authoring.create(session, ItemInput(kind="message", key=key, translations={
            "en": TextInput("Hello {name}", "", "How is {child}?"),
            "zh_CN": TextInput("{name}，您好", "", "{child}还好吗？")}), marketer)
        if publish:
            workflow.publish_reviewed(session, item)
    ann, _ = make_family(email="ann@example.com", name="Ava")
    bob, _ = make_family(email="bob@example.com", name="Bo")
    out, _ = make_family(email="out@example.com")
    for user in (ann, bob):
        user.region_province = "Shanghai"
    segment = segments.create(session, marketer, "Shanghai", "", {"conditions": [
        {"field": "province", "op": "in", "value": ["Shanghai"]}]})
    session.commit()
    return {"segment": segment, "ann": ann, "bob": bob, "out": out}


def form(world, **fields):
    data = {"name": "Come back", "segment_id": str(world["segment"].id), "trigger": "once",
            "message_key": "come-back", "channels": ["inbox"], "holdout": "0",
            "goal": "visit", "goal_days": "7"}
    data.update(fields)
    return data


def test_roles(client, session, login_as, make_family, marketer, world):
    campaign = marketing.create(session, marketer, marketing.CampaignInput(
        "C", world["segment"].id, "once", "come-back", ["inbox"], 0.0, "visit", 7),
        datetime.now(UTC))
    session.commit()
    reads = ["/studio/campaigns", f"/studio/campaigns/{campaign.id}"]
    writes_get = ["/studio/campaigns/new", f"/studio/campaigns/{campaign.id}/edit"]
    posts = ["/studio/campaigns/new", f"/studio/campaigns/{campaign.id}/edit",
             f"/studio/campaigns/{campaign.id}/start", f"/studio/campaigns/{campaign.id}/pause"]
    parent, _ = make_family()
    analyst, reviewer, admin = (make_staff(session, r) for r in ("analyst", "reviewer",
                                                                  "admin"))
    for user, read, write in ((parent, 404, 404), (reviewer, 403, 403), (analyst, 200, 403),
                              (marketer, 200, 200), (admin, 200, 200)):
        login_as(user)
        for url in reads:
            assert client.get(url).status_code == read, (url, user.staff_role)
        for url in writes_get:
            assert client.get(url).status_code == write, (url, user.staff_role)
        if write != 200:
            for url in posts:
                assert client.post(url, data=form(world)).status_code == write, url
    session.expire_all()
    assert session.get(MarketingCampaign, campaign.id).status == "draft"
    assert session.scalar(select(func.count()).select_from(MarketingCampaign)) == 1
    assert client.get("/studio/campaigns/999999").status_code == 404


def test_create_start_send_once_pause_and_see_results(app, client, session, login_as,
                                                       marketer, world, session_factory):
    login_as(marketer)
    assert "Shanghai" in page_text(client.get("/studio/campaigns/new"))
    response = client.post("/studio/campaigns/new", data=form(world))
    assert response.status_code == 303, page_text(response)[:2000]
    campaign = session.scalar(select(MarketingCampaign))
    assert (campaign.status, campaign.created_by_id, campaign.channels) == (
        "draft", marketer.id, ["inbox"])
    started = client.post(f"/studio/campaigns/{campaign.id}/start",
                          data={"version": str(campaign.version)}, follow_redirects=True)
    assert "Started: the scheduler sends it within a few minutes." in page_text(started)
    session.expire_all()
    assert campaign.status == "active"

    app.extensions["job_session_factory"] = session_factory  # the test's database
    scheduler.marketing_job(app)
    scheduler.marketing_job(app)  # a second run sends nothing more
    session.expire_all()
    got = {m.user_id: m.title for m in session.scalars(select(InboxMessage).where(
        InboxMessage.title.like("Hello%")))}
    assert got == {world["ann"].id: "Hello ann", world["bob"].id: "Hello bob"}
    assert session.scalar(select(func.count()).select_from(CampaignSend)) == 2
    assert campaign.status == "done"

    page = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page_text(
        client.get(f"/studio/campaigns/{campaign.id}"))))
    assert "2 Reached" in page and "2 Delivered" in page
    assert "The lift needs people in both groups" in page
    listing = page_text(client.get("/studio/campaigns"))
    assert "Come back" in listing, listing[listing.find("<main"):][:3000]
    assert "birthday" in listing
    assert client.post(f"/studio/campaigns/{campaign.id}/pause", follow_redirects=True) \
        .status_code == 200  # finished: refused with a message, nothing changes
    session.expire_all()
    assert campaign.status == "done"
    finished = client.get(f"/studio/campaigns/{campaign.id}/edit")  # read-only once done
    assert finished.status_code == 303
    assert client.post(f"/studio/campaigns/{campaign.id}/edit", data=form(
        world, name="Again")).status_code == 303
    session.expire_all()
    assert campaign.name == "Come back"


def test_refusals_are_shown_on_the_form(client, session, login_as, marketer, world):
    login_as(marketer)
    cases = [({"segment_id": "999999"}, "Choose the segment the campaign is for."),
             ({"segment_id": "x"}, "Choose the segment the campaign is for."),
             ({"message_key": "nope"}, "Choose the message the campaign sends."),
             ({"trigger": "on_date", "send_at": ""}, "Choose the date and time to send."),
             ({"trigger": "on_date", "send_at": "2020-01-01T09:00"},
              "Choose a time in the future."),
             ({"trigger": "on_date", "send_at": "9999-12-31T23:59"}, "Please enter a date"),
             ({"holdout": "60"}, "Number must be between 0 and 50."),
             ({"channels": []}, "Choose at least one channel (inbox or email)."),
             ({"goal": "love"}, "Not a valid choice")]
    for fields, message in cases:
        response = client.post("/studio/campaigns/new", data=form(world, **fields))
        assert response.status_code == 400, fields
        assert message in page_text(response), (fields, page_text(response)[:3000])
    assert session.scalar(select(func.count()).select_from(MarketingCampaign)) == 0


def test_a_draft_message_cannot_start_and_running_campaigns_wait_for_a_pause(
        client, session, login_as, marketer, world):
    login_as(marketer)
    client.post("/studio/campaigns/new", data=form(world, message_key="unreviewed",
                                                   trigger="on_entry"))
    campaign = session.scalar(select(MarketingCampaign))
    page = page_text(client.get(f"/studio/campaigns/{campaign.id}"))
    assert "Its message is not published yet" in page
    refused = client.post(f"/studio/campaigns/{campaign.id}/start", follow_redirects=True)
    assert "The message “unreviewed” is not published yet" in page_text(refused)
    session.expire_all()
    assert campaign.status == "draft"
    edited = client.post(f"/studio/campaigns/{campaign.id}/edit", data=form(
        world, message_key="come-back", trigger="on_entry", version=str(campaign.version)))
    assert edited.status_code == 303
    client.post(f"/studio/campaigns/{campaign.id}/start")
    session.expire_all()
    assert campaign.status == "active"
    running = client.post(f"/studio/campaigns/{campaign.id}/edit", data=form(
        world, name="Renamed", trigger="on_entry", version=str(campaign.version)))
    assert running.status_code == 400
    assert "Pause the campaign before changing it." in page_text(running)
    client.post(f"/studio/campaigns/{campaign.id}/pause")
    session.expire_all()
    assert campaign.status == "paused"


# --- journeys --------------------------------------------------------------------------------

def test_journey_settings_take_a_segment_a_holdout_and_a_goal(client, session, login_as,
                                                               marketer, world):
    login_as(marketer)
    created = client.post("/studio/journeys/new", data={
        "slug": "shanghai-first-year", "name": "Shanghai first year", "entry_stage": "born",
        "segment": str(world["segment"].id), "holdout": "20", "goal": "purchase",
        "goal_days": "30"})
    assert created.status_code == 302, page_text(created)[:2000]
    journey = session.scalar(select(Journey).where(Journey.slug == "shanghai-first-year"))
    assert journey.entry_rule == {"stage": "born", "segment": world["segment"].id}
    assert (journey.holdout_share, journey.goal, journey.goal_days) == (0.2, "purchase", 30)
    detail = page_text(client.get(f"/studio/journeys/{journey.id}"))
    assert "in the segment “Shanghai”" in detail
    bad = client.post(f"/studio/journeys/{journey.id}/settings", data={
        "journey-name": "X", "journey-entry_stage": "any", "journey-segment": "999999",
        "journey-holdout": "10", "journey-goal": "visit", "journey-goal_days": "7",
        "version": str(journey.version)})
    assert bad.status_code == 400 and "Choose a saved segment." in page_text(bad)
    no_goal = client.post(f"/studio/journeys/{journey.id}/settings", data={
        "journey-name": "X", "journey-entry_stage": "any", "journey-holdout": "10",
        "journey-goal": "", "journey-goal_days": "7", "version": str(journey.version)})
    assert "A holdout needs a goal to measure: choose one." in page_text(no_goal)
    results = page_text(client.get(f"/studio/journeys/{journey.id}/results"))
    assert "Results of “Shanghai first year”" in results and "Entered" in results
    # a segment in use by a journey is not deleted
    client.post(f"/studio/segments/{world['segment'].id}/delete")
    assert segments.get(session, world["segment"].id) is not None
