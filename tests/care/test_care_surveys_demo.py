"""`flask demo load` ends with surveys: an open CSAT offer in the main demo parent's inbox and
simulated answers enough for the results page; running it again adds nothing."""
from __future__ import annotations

from sqlalchemy import func, select

from care import surveys
from care import surveys_demo as care_demo
from care.models import FaqVote, SurveyFollowUp, SurveyOffer
from clock import utcnow
from content import packs
from diary import accounts
from recommender import catalogue, simulate
from tests.conftest import PASSWORD


def test_demo_surveys(session, make_family, tmp_path):
    packs.import_pack(session, packs.DEFAULT_PACK, None, None, reason="demo test")
    now = utcnow()
    parent, child = make_family(email=care_demo.MAIN_PARENT)
    agent = accounts.create_staff(session, care_demo.SERVICE_AGENT, PASSWORD, "service", "Sam")
    products = catalogue.Catalogue([p for p in catalogue.load(session, now).products if p.live])
    world = simulate.World(products, seed=1, start=now.date().replace(day=1), days=20)
    simulate.write(session, world, world.families(40))
    made = care_demo.load(session, now)
    assert made.inbox_offer
    [open_offer] = surveys.open_offers(session, parent, now)
    assert (open_offer.trigger, open_offer.subject_ref) == ("birth", f"child:{child.id}")
    assert made.offered > 40 and made.answered > 20 and made.follow_ups > 0 and made.votes > 0
    found = surveys.results(session, now - surveys.timedelta(days=200))
    assert found.csat.count > 10 and found.nps.count > 3 and len(found.comments) > 3
    assert len(found.csat_by_month) >= 4
    assert session.scalar(select(func.count(SurveyFollowUp.id)).where(
        SurveyFollowUp.status == "done", SurveyFollowUp.assignee_id == agent.id)) > 0
    counts = (session.scalar(select(func.count(SurveyOffer.id))),
              session.scalar(select(func.count(FaqVote.id))))
    again = care_demo.load(session, now)
    assert again.offered == again.answered == 0
    assert (session.scalar(select(func.count(SurveyOffer.id))),
            session.scalar(select(func.count(FaqVote.id)))) == counts
