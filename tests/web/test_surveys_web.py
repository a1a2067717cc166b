"""Surveys on the site: the inbox card and survey page (own surveys only), the email's signed
one-click links (GET/HEAD change nothing, POST records once, CSRF), comments escaped on every
staff page, follow-ups for customer service, results for analysts, the customer page."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from care import surveys
from care.models import SurveyFollowUp, SurveyOffer
from clock import utcnow
from crm.models import ContactEvent
from diary import accounts
from diary.models import StaffAccess
from tests.conftest import PASSWORD
from tests.tokens import tampered
from tests.web.test_http_methods import snapshot
from webapp import account_mail

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'
pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def make_staff(session, role):
    user = accounts.create_staff(session, f"{role}-s@example.com", PASSWORD, role, role.title())
    session.commit()
    return user


def offer(session, user, kind="csat", ref="ticket:7"):
    made = surveys.offer_csat(session, user, "ticket", ref, now=utcnow()) if kind == "csat" \
        else surveys.offer_nps(session, user, now=utcnow())
    session.commit()
    assert made is not None
    return made


def links(app, session_factory, mailer, to=None):
    """Send the queued survey email (to `to`, else the only one); its score links by score."""
    account_mail.send_due(app, session_factory)
    [email] = [m for m in mailer.sent if "quick question" in m.subject
               and (to is None or m.to == to)]
    found = dict(re.findall(r"^(\d+): (http://localhost/s/\S+)$", email.text, re.M))
    assert re.findall(r'href="(http://localhost/s/[^"]+)"', email.html)  # in the HTML too
    return {int(n): url.removeprefix("http://localhost") for n, url in found.items()}


# --- the site ----------------------------------------------------------------------------------

def test_the_inbox_shows_the_survey_and_a_click_answers_it(client, session, make_family,
                                                            login_as):
    user, _ = make_family()
    o = offer(session, user)
    login_as(user)
    page = client.get("/inbox").get_data(as_text=True)
    assert "How satisfied are you with the answer to your question?" in page
    assert f'action="/surveys/{o.id}"' in page and page.count('name="score"') == 5
    response = client.post(f"/surveys/{o.id}", data={"score": "4"})
    assert response.status_code == 303
    session.expire_all()
    o = session.get(SurveyOffer, o.id)
    assert (o.score, o.answered_via, o.comment) == (4, "site", "")
    assert "How satisfied" not in client.get("/inbox").get_data(as_text=True)
    # the survey page now offers the comment box, once
    assert 'name="comment"' in client.get(f"/surveys/{o.id}").get_data(as_text=True)
    assert client.post(f"/surveys/{o.id}/comment", data={"comment": "Quick and kind"}
                       ).status_code == 303
    assert client.post(f"/surveys/{o.id}/comment", data={"comment": "Again"}).status_code == 400
    assert client.post(f"/surveys/{o.id}", data={"score": "1"}).status_code == 409
    session.expire_all()
    o = session.get(SurveyOffer, o.id)
    assert (o.score, o.comment) == (4, "Quick and kind")


def test_a_score_and_comment_together_and_a_missing_score(client, session, make_family,
                                                          login_as):
    user, _ = make_family()
    o = offer(session, user, "nps")
    login_as(user)
    assert client.post(f"/surveys/{o.id}", data={"comment": "no score"}).status_code == 400
    assert client.post(f"/surveys/{o.id}", data={"score": "11"}).status_code == 400
    assert client.post(f"/surveys/{o.id}", data={"score": "3", "comment": "Too many emails"}
                       ).status_code == 303
    session.expire_all()
    o = session.get(SurveyOffer, o.id)
    assert (o.score, o.comment) == (3, "Too many emails")
    assert o.follow_up is not None  # a detractor


def test_another_persons_survey_is_not_found(client, session, make_family, login_as):
    theirs, _ = make_family()
    mine, _ = make_family()
    o = offer(session, theirs)
    login_as(mine)
    before = snapshot(session)
    assert client.get(f"/surveys/{o.id}").status_code == 404
    assert client.post(f"/surveys/{o.id}", data={"score": "5"}).status_code == 404
    assert client.post(f"/surveys/{o.id}/comment", data={"comment": "x"}).status_code == 404
    assert client.get("/surveys/999999").status_code == 404
    assert snapshot(session) == before
    client.post("/logout")
    assert client.get(f"/surveys/{o.id}").status_code == 302  # visitors sign in first


# --- the email's one-click links ------------------------------------------------------------------

def test_a_one_click_link_asks_then_records_once(app, client, session, session_factory,
                                                 mailer, make_family):
    user, _ = make_family()
    o = offer(session, user)
    by_score = links(app, session_factory, mailer)
    assert sorted(by_score) == [1, 2, 3, 4, 5]
    url = by_score[2]
    before = snapshot(session)
    head = client.head(url)
    page = client.get(url)
    assert (head.status_code, head.get_data(), page.status_code) == (200, b"", 200)
    text = page.get_data(as_text=True)
    assert "You chose 2 out of 5." in text and "autofocus" in text
    assert snapshot(session) == before  # looking (and link scanners) change nothing
    response = client.post(url)
    assert response.status_code == 200
    assert "Your answer (2 out of 5) is recorded." in response.get_data(as_text=True)
    session.expire_all()
    o = session.get(SurveyOffer, o.id)
    assert (o.score, o.answered_via) == (2, "email")
    assert session.scalar(select(func.count(SurveyFollowUp.id))) == 1  # a low score
    # the link is single-use: again (or another score's link) records nothing
    assert client.post(url).status_code == 409
    assert client.post(by_score[5]).status_code == 409
    assert "already answered" in client.get(by_score[5]).get_data(as_text=True)
    session.expire_all()
    assert session.get(SurveyOffer, o.id).score == 2
    # the comment box, once, with the same link
    assert client.post(url + "/comment", data={"comment": XSS}).status_code == 200
    assert client.post(url + "/comment", data={"comment": "more"}).status_code == 409
    session.expire_all()
    assert session.get(SurveyOffer, o.id).comment == XSS.strip()
    assert session.scalars(select(ContactEvent.body).where(
        ContactEvent.source_id == f"answer:{o.id}")).all() == [XSS.strip()]


def test_tampered_expired_and_foreign_links_are_refused(app, client, session, session_factory,
                                                        mailer, make_family, clock_at):
    user, _ = make_family()
    o = offer(session, user)
    url = links(app, session_factory, mailer)[5]
    before = snapshot(session)
    for bad in (tampered(url), "/s/nonsense", url[:-1]):
        assert client.get(bad).status_code == 404, bad
        assert client.post(bad).status_code == 404, bad
        assert client.post(bad + "/comment", data={"comment": "x"}).status_code == 404, bad
    clock_at(utcnow() + timedelta(days=31))
    assert client.get(url).status_code == 404
    assert client.post(url).status_code == 404
    assert snapshot(session) == before
    session.expire_all()
    assert session.get(SurveyOffer, o.id).answered_at is None


def test_no_email_for_a_survey_answered_meanwhile(app, client, session, session_factory,
                                                  mailer, make_family, login_as):
    user, _ = make_family()
    o = offer(session, user)
    login_as(user)
    client.post(f"/surveys/{o.id}", data={"score": "5"})
    account_mail.send_due(app, session_factory)
    assert [m for m in mailer.sent if "quick question" in m.subject] == []


def test_a_survey_email_can_be_stopped_from_the_email_itself(app, client, session,
                                                             session_factory, mailer,
                                                             make_family):
    """The email carries its unsubscribe link (and RFC 8058 headers) and the preference
    centre; the one-click POST stops survey emails with the digests and offers, drops a
    survey queued meanwhile, and the next survey comes to the inbox only."""
    user, _ = make_family()
    offer(session, user)
    account_mail.send_due(app, session_factory)
    [email] = [m for m in mailer.sent if "quick question" in m.subject]
    unsubscribe_url = re.search(r"^Unsubscribe: (http://localhost/e/u/\S+)$", email.text,
                                re.M).group(1)
    assert "Email preferences: http://localhost/preferences" in email.text
    assert f'href="{unsubscribe_url}"' in email.html
    headers = dict(email.headers)
    assert headers["List-Unsubscribe"].startswith(f"<{unsubscribe_url}>, <mailto:unsubscribe@")
    assert headers["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert headers["List-Id"] == "Baby Journey <surveys.localhost>"

    queued = surveys.offer_nps(session, user, now=utcnow() + timedelta(days=8))
    session.commit()
    assert queued.channels == ["inbox", "email"]  # queued before the click
    response = client.post(unsubscribe_url.removeprefix("http://localhost"),
                           data={"List-Unsubscribe": "One-Click"})
    assert response.status_code == 200
    account_mail.send_due(app, session_factory)
    assert len([m for m in mailer.sent if "quick question" in m.subject]) == 1  # dropped
    later = surveys.offer_csat(session, user, "ticket", "ticket:9",
                               now=utcnow() + timedelta(days=16))
    session.commit()
    assert later.channels == ["inbox"]
    session.expire_all()
    assert (user.digest_opt_in, user.marketing_opt_in) == (False, False)


def test_survey_emails_are_a_choice_in_the_preference_centre(client, session, make_family,
                                                             login_as):
    """On by default (a few a year, a service message); turned off there, the next survey
    comes to the inbox only; the digest consent is untouched."""
    user, _ = make_family()
    login_as(user)
    page = client.get("/preferences").get_data(as_text=True)
    assert re.search(r'<input[^>]*checked[^>]*name="survey_emails"', page) or \
        re.search(r'<input[^>]*name="survey_emails"[^>]*checked', page)
    response = client.post("/preferences", data={
        "digest_opt_in": "y", "frequency": "weekly", "send_hour": "9", "quiet_start": "21",
        "quiet_end": "8"})
    assert response.status_code == 302
    page = client.get("/preferences").get_data(as_text=True)
    assert not re.search(r'<input[^>]*name="survey_emails"[^>]*checked', page)
    assert offer(session, user).channels == ["inbox"]
    session.expire_all()
    assert user.digest_opt_in is True
    client.post("/preferences", data={
        "digest_opt_in": "y", "survey_emails": "y", "frequency": "weekly", "send_hour": "9",
        "quiet_start": "21", "quiet_end": "8"})
    assert surveys.offer_nps(session, user, now=utcnow() + timedelta(days=8)).channels == [
        "inbox", "email"]


def test_the_link_and_the_site_form_need_their_csrf_token(app, client, session,
                                                          session_factory, mailer,
                                                          make_family, login_as):
    user, _ = make_family()
    second, _ = make_family()
    o = offer(session, user)
    other = offer(session, second, "nps")
    url = links(app, session_factory, mailer, user.email)[4]
    login_as(second)
    app.config["WTF_CSRF_ENABLED"] = True
    assert client.post(url).status_code == 400
    assert client.post(url + "/comment", data={"comment": "x"}).status_code == 400
    assert client.post(f"/surveys/{other.id}", data={"score": "9"}).status_code == 400
    session.expire_all()
    assert session.get(SurveyOffer, o.id).answered_at is None
    assert session.get(SurveyOffer, other.id).answered_at is None
    page = client.get(url).get_data(as_text=True)
    token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    assert client.post(url, data={"csrf_token": token}).status_code == 200
    session.expire_all()
    assert session.get(SurveyOffer, o.id).score == 4


# --- staff ---------------------------------------------------------------------------------------

def test_customer_service_follows_up_a_low_score(client, session, make_family, login_as):
    user, _ = make_family()
    o = offer(session, user)
    surveys.answer(session, o, 1, "email", XSS, utcnow())
    session.commit()
    service = make_staff(session, "service")
    login_as(service)
    page = client.get("/studio/surveys").get_data(as_text=True)
    assert "CSAT 1/5" in page and user.member_no in page
    assert XSS not in page and "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert session.scalar(select(func.count(StaffAccess.id)).where(
        StaffAccess.what == "survey_follow_ups")) == 1
    service.locale = "zh_CN"  # the score's column is "their answer", not a reply (回复)
    session.commit()
    zh = client.get("/studio/surveys").get_data(as_text=True)
    assert "<th>客户的回答</th>" in zh.replace(' scope="col"', "") and "回复" not in zh
    service.locale = "en"
    session.commit()
    follow_up = session.scalar(select(SurveyFollowUp))
    response = client.post(f"/studio/surveys/follow-ups/{follow_up.id}", data={
        "status": "done", "assignee": str(service.id), "note": "Called, sorted"})
    assert response.status_code == 303
    session.expire_all()
    follow_up = session.get(SurveyFollowUp, follow_up.id)
    assert (follow_up.status, follow_up.assignee_id, follow_up.note) == (
        "done", service.id, "Called, sorted")
    assert "No follow-ups open" in client.get("/studio/surveys").get_data(as_text=True)
    assert client.post(f"/studio/surveys/follow-ups/{follow_up.id}", data={
        "status": "done", "assignee": "abc"}).status_code == 400
    assert client.post("/studio/surveys/follow-ups/999999", data={
        "status": "done"}).status_code == 404
    # the customer page: the contact history and the latest CSAT
    page = client.get(f"/studio/customers/{user.id}").get_data(as_text=True)
    assert "Follow-up done: CSAT 1/5 · ticket:7" in page
    assert '<strong class="survey-csat">1/5</strong>' in page and XSS not in page


@pytest.mark.parametrize(("role", "follow_ups", "results", "help_votes"), [
    ("marketer", 403, 403, 200), ("reviewer", 403, 403, 200), ("analyst", 403, 200, 200),
    ("service", 200, 403, 403), ("admin", 200, 200, 200)])
def test_who_sees_which_survey_page(client, session, login_as, role, follow_ups, results,
                                    help_votes):
    login_as(make_staff(session, role))
    assert client.get("/studio/surveys").status_code == follow_ups
    assert client.get("/studio/surveys/results").status_code == results
    assert client.get("/studio/help").status_code == help_votes


def test_parents_get_404_on_the_studio_survey_pages(client, session, make_family, login_as):
    user, _ = make_family()
    login_as(user)
    for url in ("/studio/surveys", "/studio/surveys/results", "/studio/help"):
        assert client.get(url).status_code == 404
    assert client.post("/studio/surveys/follow-ups/1", data={"status": "done"}
                       ).status_code == 404


def test_analysts_read_exact_results_with_escaped_comments(client, session, make_family,
                                                           login_as):
    people = [make_family()[0] for _ in range(4)]
    for person, score in zip(people, (5, 4, 2, 3), strict=True):
        o = offer(session, person)
        surveys.answer(session, o, score, "site", XSS if score == 2 else "", utcnow())
    nps_people = [make_family()[0] for _ in range(3)]
    for person, score in zip(nps_people, (10, 9, 4), strict=True):
        o = offer(session, person, "nps")
        surveys.answer(session, o, score, "email", "", utcnow())
    session.commit()
    login_as(make_staff(session, "analyst"))
    page = client.get("/studio/surveys/results").get_data(as_text=True)
    assert re.search(r'id="csat-all">3\.5<', page)  # (5 + 4 + 2 + 3) / 4
    assert re.search(r'id="nps-all">33\.3<', page)  # 2 promoters, 1 detractor of 3
    assert XSS not in page and "&lt;img src=x onerror=alert(1)&gt;" in page
    assert "<td>4</td><td>4</td><td>100.0 %</td>" in page  # tickets: 4 offered, 4 answered


# --- the key moment of a birth, end to end ------------------------------------------------------

def test_a_recorded_birth_brings_a_survey_two_weeks_later(app, client, session,
                                                          session_factory, make_family,
                                                          login_as, mailer, clock_at):
    from tests.web.test_family import _child_form
    from webapp import scheduler

    app.extensions["job_session_factory"] = session_factory  # the test's database
    user, child = make_family(born=False)
    login_as(user)
    birth = utcnow().date() - timedelta(days=1)
    assert client.post(f"/children/{child.id}/arrived", data=_child_form(
        child_name="Bean", sex="female", birth_date=birth.isoformat())).status_code == 302
    scheduler.surveys_job(app)
    assert session.scalar(select(func.count(SurveyOffer.id))) == 0  # not yet
    clock_at(utcnow() + timedelta(days=14, minutes=1))
    scheduler.surveys_job(app)
    scheduler.surveys_job(app)  # again: still one
    session.expire_all()
    [made] = session.scalars(select(SurveyOffer)).all()
    assert (made.user_id, made.trigger, made.subject_ref) == (user.id, "birth",
                                                              f"child:{child.id}")
    scheduler.account_mail_job(app)
    [email] = [m for m in mailer.sent if "quick question" in m.subject]
    assert email.to == user.email and "first weeks with your baby" in email.text
    login_as(user)  # two weeks on: a new sign-in
    assert "How well is Baby Journey helping you" in client.get("/inbox").get_data(as_text=True)


# --- the header's badge ------------------------------------------------------------------------

def _text_messages(session, user, child, n):
    """`n` unread text messages (campaign greetings) in the person's inbox."""
    from journeys import ledger
    ledger.push(session, [ledger.row(user_id=user.id, child_id=child.id, item=None,
                                     channel="inbox", item_key=f"hello-{i}", occurrence="1",
                                     title=f"Hello {i}", body="Hi") for i in range(n)])
    session.commit()


def _badge(client, url):
    page = client.get(url).get_data(as_text=True)
    found = re.findall(r'nav-badge">\s*(\d+)\s*<', page)
    return int(found[0]) if found else 0


def _statements(engine):
    seen = []

    def record(conn, cursor, statement, parameters, context, executemany):
        seen.append(statement)
    return seen, record


def test_the_badge_counts_open_surveys_on_every_page(app, client, session, engine,
                                                     make_family, login_as, clock_at):
    from sqlalchemy import event
    user, child = make_family()
    other, other_child = make_family()
    _text_messages(session, user, child, 2)
    _text_messages(session, other, other_child, 1)
    mine = offer(session, user)
    offer(session, other, ref="ticket:8")  # another family's survey never counts here
    login_as(user)
    pages = ("/inbox", f"/children/{child.id}", f"/children/{child.id}/timeline", "/account")
    assert {url: _badge(client, url) for url in pages} == dict.fromkeys(pages, 3)
    # the child home folds the surveys into the count it already made: no statement more
    seen, record = _statements(engine)
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _badge(client, f"/children/{child.id}") == 3
    finally:
        event.remove(engine, "before_cursor_execute", record)
    counting = [s for s in seen if "survey_offers" in s]
    assert len(counting) == 1 and "inbox_messages" in counting[0], counting
    # the timeline reads the badge with its page of entries; a search counts on its own
    seen.clear()
    event.listen(engine, "before_cursor_execute", record)
    try:
        assert _badge(client, f"/children/{child.id}/timeline") == 3
        counting = [s for s in seen if "survey_offers" in s]
        assert len(counting) == 1 and "entries.occurred_at" in counting[0], counting
        assert _badge(client, f"/children/{child.id}/timeline?q=hello") == 3
    finally:
        event.remove(engine, "before_cursor_execute", record)
    login_as(other)
    assert _badge(client, f"/children/{other_child.id}") == 2  # their message and survey
    # answered: the survey leaves the badge
    login_as(user)
    assert client.post(f"/surveys/{mine.id}", data={"score": "5"}).status_code == 303
    assert {url: _badge(client, url) for url in pages} == dict.fromkeys(pages, 2)


def test_a_closed_survey_leaves_the_badge(app, client, session, make_family, login_as,
                                          clock_at):
    user, child = make_family()
    _text_messages(session, user, child, 2)
    made = offer(session, user)
    login_as(user)
    assert _badge(client, "/inbox") == 3
    page = client.get("/inbox").get_data(as_text=True)
    assert "Mark all as read" in page  # two messages unread
    life = timedelta(days=app.config["SURVEY_LINK_DAYS"])
    clock_at(made.offered_at + life - timedelta(seconds=1))
    login_as(user)  # a month on: signed in again
    assert _badge(client, f"/children/{child.id}") == 3
    clock_at(made.offered_at + life)  # its links stop working, the inbox no longer shows it
    login_as(user)
    assert "How satisfied" not in client.get("/inbox").get_data(as_text=True)
    assert _badge(client, "/inbox") == 2 and _badge(client, f"/children/{child.id}") == 2


def test_a_survey_alone_is_not_something_to_mark_read(client, session, make_family, login_as):
    user, _ = make_family()
    offer(session, user)
    login_as(user)
    page = client.get("/inbox").get_data(as_text=True)
    assert _badge(client, "/inbox") == 1 and "How satisfied" in page
    assert "Mark all as read" not in page


def test_a_later_inbox_page_offers_no_mark_all_for_a_survey_alone(
        client, session, make_family, login_as):
    """Later pages do not show the survey, but the badge still counts it: with every message
    read, there is nothing to mark, there either; with one unread, there is."""
    user, child = make_family()
    _text_messages(session, user, child, 2)
    from journeys import inbox
    inbox.mark_all_read(session, user)
    offer(session, user)
    session.commit()
    login_as(user)
    later = client.get("/inbox?before=2147483647").get_data(as_text=True)
    assert _badge(client, "/inbox?before=2147483647") == 1
    assert "How satisfied" not in later and "Mark all as read" not in later
    from journeys import ledger
    ledger.push(session, [ledger.row(user_id=user.id, child_id=child.id, item=None,
                                     channel="inbox", item_key="later", occurrence="1",
                                     title="Later", body="Hi")])
    session.commit()
    assert "Mark all as read" in client.get("/inbox?before=2147483647").get_data(as_text=True)
