"""The help centre's page: the child's stage first, topic filter, search, "was this helpful?"
(signed in and anonymous, rate-limited), and the studio's vote counts."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from care.models import FaqVote
from tests.care.test_care_help import faq
from tests.web.test_surveys_web import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


@pytest.fixture()
def faqs(session):
    made = {
        "sleep": faq(session, "newborn-sleep", "How long do newborns sleep?", "baby",
                     ("month", 3, 6), ["sleep"], body="Newborns sleep 14 to 17 hours."),
        "scan": faq(session, "scan-dates", "When is the dating scan?", "pregnancy",
                    ("pregnancy_week", 10, 14), ["prenatal-care"]),
        "email": faq(session, "change-email", "How do I change my <b>email</b>?", "account"),
    }
    session.commit()
    return made


def test_the_childs_stage_comes_first(client, session, make_family, login_as, faqs):
    user, child = make_family()  # 100 days old: baby, month 3
    login_as(user)
    page = client.get("/help").get_data(as_text=True)
    assert f"For {child.name}'s stage: Baby, month 3" in page
    assert page.index("How long do newborns sleep?") < page.index("When is the dating scan?")
    assert "How do I change my email?" in page  # tags in titles are dropped when saved
    client.post("/logout")
    page = client.get("/help").get_data(as_text=True)
    assert "stage:" not in page and "How long do newborns sleep?" in page


def test_topic_filter_and_search(client, faqs):
    page = client.get("/help?topic=sleep").get_data(as_text=True)
    assert "How long do newborns sleep?" in page and "dating scan" not in page
    assert client.get("/help?topic=nonsense").status_code == 404
    page = client.get("/help?q=hours").get_data(as_text=True)
    assert "How long do newborns sleep?" in page and "dating scan" not in page
    assert "1 answer for “hours”" in page
    page = client.get('/help?q=<script>alert(1)</script>').get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "Nothing matches" in page


def test_a_person_votes_once_and_can_change(client, session, make_family, login_as, faqs):
    user, _ = make_family()
    login_as(user)
    item = faqs["sleep"]
    response = client.post(f"/help/{item.id}/vote", data={"helpful": "yes"})
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/help#faq-newborn-sleep")
    client.post(f"/help/{item.id}/vote", data={"helpful": "no"})
    votes = session.scalars(select(FaqVote)).all()
    assert [(v.user_id, v.helpful) for v in votes] == [(user.id, False)]
    page = client.get("/help").get_data(as_text=True)
    assert re.search(r'value="no" aria-pressed="true"', page)
    assert client.post(f"/help/{item.id}/vote", data={"helpful": "maybe"}).status_code == 400
    assert client.post("/help/999999/vote", data={"helpful": "yes"}).status_code == 404
    assert client.get(f"/help/{item.id}/vote").status_code == 405
    assert client.head(f"/help/{item.id}/vote").status_code == 405
    assert session.scalar(select(func.count(FaqVote.id))) == 1


def test_a_visitor_votes_once_per_browser(app, client, session, faqs):
    item = faqs["email"]
    client.post(f"/help/{item.id}/vote", data={"helpful": "no"})
    client.post(f"/help/{item.id}/vote", data={"helpful": "yes"})
    other = app.test_client()
    other.post(f"/help/{item.id}/vote", data={"helpful": "no"})
    rows = session.scalars(select(FaqVote).order_by(FaqVote.id)).all()
    assert [(r.user_id, r.helpful) for r in rows] == [(None, True), (None, False)]
    assert rows[0].voter != rows[1].voter and rows[0].voter.startswith("a")


class TestRateLimit:
    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "HELP_VOTE_RATE_LIMIT": "3 per minute"}

    def test_anonymous_votes_are_rate_limited(self, client, session, make_family, login_as,
                                              faqs):
        item = faqs["email"]
        answers = [client.post(f"/help/{item.id}/vote", data={"helpful": "yes"}).status_code
                   for _ in range(4)]
        assert answers == [302, 302, 302, 429]
        user, _ = make_family()
        login_as(user)  # signed-in people are one vote each anyway: not limited
        answers = [client.post(f"/help/{item.id}/vote", data={"helpful": "yes"}).status_code
                   for _ in range(4)]
        assert answers == [302] * 4


def test_csrf_is_required_for_votes(app, client, session, faqs):
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(f"/help/{faqs['sleep'].id}/vote", data={"helpful": "yes"}
                       ).status_code == 400
    assert session.scalar(select(func.count(FaqVote.id))) == 0


def test_marketers_see_the_counts_and_the_least_helpful(client, session, make_family,
                                                        login_as, faqs):
    people = [make_family()[0] for _ in range(3)]
    for person in people:
        login_as(person)
        client.post(f"/help/{faqs['email'].id}/vote", data={"helpful": "no"})
        client.post(f"/help/{faqs['sleep'].id}/vote", data={"helpful": "yes"})
    login_as(make_staff(session, "marketer"))
    page = client.get("/studio/help").get_data(as_text=True)
    worst = page[page.index("help-worst"):page.index("help-all")]
    assert "How do I change my email?" in worst
    assert "<td>0</td><td>3</td><td>0.0 %</td>" in worst
    assert "<td>3</td><td>0</td><td>100.0 %</td>" in worst  # helpful, but listed after


def test_the_studio_editor_gives_an_faq_a_stage_and_topics(client, session, login_as):
    login_as(make_staff(session, "marketer"))
    response = client.post("/studio/new/faq", data={
        "key": "night-feeds", "title_en": "How often should I feed at night?",
        "title_zh_CN": "夜里多久喂一次？", "body_en": "Every 2 to 3 hours at first.",
        "body_zh_CN": "起初每2到3小时一次。", "category": "baby", "window_unit": "week",
        "window_from": "0", "window_to": "6", "topics": ["feeding", "sleep"]})
    assert response.status_code == 302, response.get_data(as_text=True)[:400]
    from content.authoring import find
    item = find(session, "faq", "night-feeds")
    assert (item.window_unit, item.window_from, item.window_to, item.topics) == (
        "week", 0, 6, ["feeding", "sleep"])
    page = client.get(f"/studio/{item.id}/edit").get_data(as_text=True)
    assert '<option selected value="week">' in page
    response = client.post("/studio/new/faq", data={
        "key": "bad-window", "title_en": "Q", "title_zh_CN": "问", "body_en": "A",
        "body_zh_CN": "答", "category": "baby", "window_unit": "week", "window_from": "9",
        "window_to": "3"})
    assert response.status_code == 400
