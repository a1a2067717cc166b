"""Where the three new areas meet, joined in the web layer (webapp/rewards_glue.py,
webapp/community_glue.py) or inside care: a resolved ticket offers a CSAT survey; an answered
survey and a published club post earn points (a deleted or hidden post gives them back); a
redeemed sample opens a ticket for the service team.

Tried here: resolving twice, a survey already answered, answering by email link and on the
site, deleting a post to farm points, a moderator hiding a post, a parent choosing the
internal "sample" category by hand."""
from __future__ import annotations

import pytest
from sqlalchemy import select

from care import tickets
from care.models import SurveyOffer, Ticket
from crm.models import ContactEvent
from rewards import points
from tests.rewards.test_catalogue import earn, sample
from tests.web.test_clubs import club_world, write  # noqa: F401 (a fixture)
from tests.web.test_rewards import ADDRESS, key_of, text
from tests.web.test_studio import make_staff
from tests.web.test_tickets import open_direct

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def offers(session, user):
    session.expire_all()
    return [(o.kind, o.trigger, o.subject_ref) for o in session.scalars(
        select(SurveyOffer).where(SurveyOffer.user_id == user.id).order_by(SurveyOffer.id))]


def test_resolving_a_ticket_offers_one_csat_survey_about_it(client, session, make_family,
                                                            login_as):
    user, _ = make_family()
    first, second = open_direct(session, user), open_direct(session, user, "Second question")
    service = make_staff(session, "service")
    login_as(service)
    assert client.post(f"/studio/tickets/{first.id}/status",
                       data={"status": "resolved"}).status_code == 302
    assert offers(session, user) == [("csat", "ticket", f"ticket:{first.id}")]
    # the customer's record says it in words, not codes
    assert session.scalar(select(ContactEvent.body).where(
        ContactEvent.user_id == user.id, ContactEvent.source_kind == "ticket")
        .order_by(ContactEvent.id.desc()).limit(1)) == "New → Resolved"
    # resolved again (reopened, resolved): the same ticket is not asked about twice
    tickets.set_status(session, service, first, "in_progress")
    tickets.resolve(session, first, service)
    # another ticket the same week: never more than one survey a week
    tickets.resolve(session, second, service)
    session.commit()
    assert offers(session, user) == [("csat", "ticket", f"ticket:{first.id}")]


def test_an_answered_survey_earns_its_points_once(client, session, make_family, login_as):
    user, _ = make_family()
    ticket = open_direct(session, user)
    tickets.resolve(session, ticket, make_staff(session, "service"))
    session.commit()
    [offer] = session.scalars(select(SurveyOffer).where(SurveyOffer.user_id == user.id))
    login_as(user)
    assert client.post(f"/surveys/{offer.id}", data={"score": "5"}).status_code == 303
    assert client.post(f"/surveys/{offer.id}", data={"score": "4"}).status_code == 409
    session.expire_all()
    assert points.balance(session, user) == 20  # the "survey" rule, once


def test_a_club_post_earns_points_and_deleting_it_gives_them_back(client, session, club_world,
                                                                  login_as):
    w = club_world
    login_as(w["anna"])
    response = client.post(f"/clubs/{w['a'].id}/posts", data={"body": "Our first walk"},
                           content_type="multipart/form-data")
    assert response.status_code == 302, text(response)[:400]
    session.expire_all()
    assert points.balance(session, w["anna"]) == 5
    from community.models import ClubPost
    post = session.scalar(select(ClubPost).where(ClubPost.author_id == w["anna"].id))
    assert client.post(f"/clubs/posts/{post.id}/delete").status_code == 302
    session.expire_all()
    assert points.balance(session, w["anna"]) == 0


def test_a_post_hidden_by_a_moderator_gives_its_points_back(client, session, club_world,
                                                            login_as):
    w = club_world
    login_as(w["ben"])
    assert client.post(f"/clubs/{w['a'].id}/posts", data={"body": "Cheap nappies at my shop"},
                       content_type="multipart/form-data").status_code == 302
    session.expire_all()
    assert points.balance(session, w["ben"]) == 5
    from community.models import ClubPost
    post = session.scalar(select(ClubPost).where(ClubPost.author_id == w["ben"].id))
    login_as(w["mod_a"])
    assert client.post(f"/studio/clubs/posts/{post.id}/hide",
                       data={"note": "advert"}).status_code == 302
    session.expire_all()
    assert points.balance(session, w["ben"]) == 0


def test_a_redeemed_sample_opens_a_ticket_for_the_service_team(client, session, make_family,
                                                                login_as):
    user, _ = make_family()
    item = sample(session, cost=40)
    earn(session, user, 60)
    session.commit()
    login_as(user)
    form = client.get(f"/rewards/samples/{item.id}")
    data = {**ADDRESS, "request_key": key_of(text(form))}
    assert client.post(f"/rewards/samples/{item.id}",
                       data={**data, "step": "review"}).status_code == 200
    assert client.post(f"/rewards/samples/{item.id}",
                       data={**data, "step": "confirm"}).status_code == 302
    session.expire_all()
    [ticket] = session.scalars(select(Ticket).where(Ticket.user_id == user.id))
    assert (ticket.category, ticket.subject) == ("sample", "Sample request: Nappy sample")
    assert "40 points" in ticket.messages[0].body
    assert "Sample request: Nappy sample" in text(client.get("/help/tickets"))
    # the ask form does not offer it
    page = text(client.get("/help/ask"))
    assert 'value="question"' in page and 'value="sample"' not in page


def test_a_parent_cannot_choose_the_sample_category_by_hand(client, session, make_family,
                                                            login_as):
    """Only the rewards page opens a sample request: the ask form refuses the category."""
    user, _ = make_family()
    login_as(user)
    response = client.post("/help/ask", data={
        "category": "sample", "severity": "normal", "child_id": "", "subject": "A sample?",
        "body": "Can I have one?", "from_path": "/help"}, content_type="multipart/form-data")
    assert response.status_code == 400 and "Not a valid choice" in text(response)
    assert session.scalar(select(Ticket.id).where(Ticket.user_id == user.id)) is None
