"""`flask demo load` ends with saved segments and a marketer campaign that has results from
the simulated families, so the demo marketer and analyst see full pages."""
from __future__ import annotations

from sqlalchemy import func, select

from crm import demo as crm_demo
from crm import segments
from crm.models import Segment
from diary import accounts
from diary.models import User
from journeys import results
from journeys.models import CampaignSend, MarketingCampaign
from tests.conftest import PASSWORD


def test_demo_segments_and_a_campaign_with_results(app, runner, session, monkeypatch,
                                                   login_as, client):
    from diary import demo
    from webapp import cli

    marketer = accounts.create_staff(session, "marketer@example.com", PASSWORD, "marketer",
                                     "Mia Market")
    analyst = accounts.create_staff(session, "analyst@example.com", PASSWORD, "analyst",
                                    "Alex Analyst")
    session.commit()
    monkeypatch.setattr(demo, "load", lambda session, store: demo.DemoReport())
    monkeypatch.setattr(cli, "DEMO_SIMULATION", {"families": 60, "days": 45, "seed": 3})
    result = runner.invoke(args=["demo", "load"])
    assert result.exit_code == 0, result.output
    assert "Segments: High value, drifting away, child turning one next month" in result.stdout
    names = set(session.scalars(select(Segment.name)))
    assert "High value, drifting away, child turning one next month" in names
    assert len(names) == 4
    # the segment finds the demo's drifting customer: spent a lot, gone quiet for
    # four months, her daughter turns one in three weeks
    drifting = session.scalar(select(Segment).where(Segment.name.startswith("High value")))
    found = session.scalars(segments.audience(session, drifting.id)).all()
    story = session.scalar(select(User).where(User.email == crm_demo.STORY_EMAIL))
    assert story is not None and list(found) == [story.id]
    campaign = session.scalar(select(MarketingCampaign))
    assert (campaign.status, campaign.goal, campaign.created_by_id) == (
        "done", "product_click", marketer.id)
    out = results.campaign_results(session, campaign.key)
    assert out.sent > 0 and out.held_out > 0 and out.sent + out.held_out == \
        session.scalar(select(func.count()).select_from(CampaignSend)
                       .where(CampaignSend.campaign == campaign.key))
    assert out.converted > 0 and out.lift is not None

    again = runner.invoke(args=["demo", "load"])  # nothing twice
    assert again.exit_code == 0, again.output
    assert "Segments: none new; campaign already there." in again.stdout
    assert session.scalar(select(func.count()).select_from(MarketingCampaign)) == 1

    login_as(analyst)
    page = client.get(f"/studio/campaigns/{campaign.id}").get_data(as_text=True)
    assert "95 percent interval" in page
    assert client.get("/studio/segments").status_code == 200
