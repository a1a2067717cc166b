"""The customer 360 pages (/studio/customers): who may see them, what they show, what they
record in the staff access log, the contact note form, duplicates and the merge; hostile
searches and notes."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clock import utcnow
from crm import duplicates
from crm.models import ContactEvent, CustomerMerge, CustomerScore
from diary.models import StaffAccess, User
from journeys.models import Delivery
from recommender import log
from tests.conftest import PASSWORD
from tests.web.test_studio import make_item, make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")

ROLES = ("parent", "marketer", "reviewer", "analyst", "service", "admin")
#: What each role gets: parents nothing (404), staff outside the CRM 403.
EXPECTED = {"parent": 404, "marketer": 403, "reviewer": 403, "analyst": 200, "service": 200,
            "admin": 200}


@pytest.fixture()
def world(session, make_family):
    """Anna (two accounts of one mailbox, a phone, a note-worthy history) and the staff."""
    anna, mia = make_family(email="anna.lee@gmail.com", name="Mia Rose")
    again, _ = make_family(email="annalee+2@gmail.com", name="Leo")
    anna.display_name, anna.phone = "Anna Lee", "+86 138-0013-8000"
    session.add(CustomerScore(user_id=anna.id, computed_at=utcnow(), frequency=4,
                              monetary_minor=35600, r_score=5, f_score=4, m_score=4,
                              tier="high", value_group="most_valuable",
                              expected_purchases_90d=1.7, p_alive=0.3, clv_minor=52000))
    item = make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S",
                     unit="month", low=3, high=6, category="nappies", price_minor=8900,
                     currency="CNY")
    log.record_many(session, [
        log.Event(kind="purchase", item_id=item.id, surface="shop", idempotency_key=f"p{n}",
                  user_id=anna.id, child_id=mia.id, quantity=1, amount_minor=8900,
                  currency="CNY", order_ref=f"SO-{n:03d}",
                  occurred_at=utcnow() - timedelta(days=n)) for n in range(25)])
    session.add(Delivery(user_id=anna.id, child_id=mia.id, item_key="article:x",
                         channel="inbox", occurrence="j1", status="sent", sent_at=utcnow(),
                         payload={"title": "Sleep in month 3"}))
    people = {"parent": anna, "anna": anna, "again": again, "mia": mia}
    people.update({role: make_staff(session, role) for role in ROLES[1:]})
    session.commit()
    return people


def search(client, query):
    return client.post("/studio/customers", data={"q": query})


def accesses(session, what=None):
    session.expire_all()
    query = select(StaffAccess).order_by(StaffAccess.id)
    if what:
        query = query.where(StaffAccess.what == what)
    return list(session.scalars(query))


@pytest.mark.parametrize("role", ROLES)
def test_who_gets_what_on_every_page(client, login_as, world, role, session):
    anna, again = world["anna"], world["again"]
    login_as(world[role])
    urls = [("GET", "/studio/customers"), ("HEAD", "/studio/customers"),
            ("POST", "/studio/customers"), ("GET", f"/studio/customers/{anna.id}"),
            ("HEAD", f"/studio/customers/{anna.id}"),
            ("GET", "/studio/customers/duplicates"),
            ("GET", f"/studio/customers/merge/{anna.id}/{again.id}")]
    for method, url in urls:
        response = client.open(url, method=method, data={"q": "anna"})
        assert response.status_code == EXPECTED[role], (method, url)
    note = client.post(f"/studio/customers/{anna.id}/notes", data={"subject": "x"})
    assert note.status_code == (400 if EXPECTED[role] == 200 else EXPECTED[role])
    merge = client.post(f"/studio/customers/merge/{anna.id}/{again.id}/confirm",
                        data={"fingerprint": "x"})
    assert merge.status_code == {"analyst": 403, "service": 303, "admin": 303}.get(
        role, EXPECTED[role])
    assert client.post(f"/studio/customers/merge/{anna.id}/{again.id}").status_code == 405
    for method in ("GET", "HEAD"):
        assert client.open(f"/studio/customers/merge/{anna.id}/{again.id}/confirm",
                           method=method).status_code == 405
    for method in ("GET", "HEAD", "PUT", "DELETE"):  # a POST-only route, for everyone
        assert client.open(f"/studio/customers/{anna.id}/notes", method=method).status_code \
            == 405
    assert session.scalar(select(func.count()).select_from(ContactEvent)) == 0
    assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 0


def test_visitors_are_sent_to_sign_in(client, world):
    for url in ("/studio/customers", f"/studio/customers/{world['anna'].id}",
                "/studio/customers/duplicates"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_customer_service_lands_on_the_customers_and_sees_only_them(client, login_as, world):
    service = world["service"]
    response = client.post("/login", data={"email": service.email,
                                           "password": "correct horse battery"})
    assert response.headers["Location"] == "/studio/customers"
    assert client.get("/").headers["Location"] == "/studio/customers"
    assert client.get("/studio").headers["Location"] == "/studio/customers"
    page = client.get("/studio/customers").get_data(as_text=True)
    nav = page.split('<nav class="studio-nav')[1].split("</nav>")[0]
    assert "/studio/customers" in nav
    for elsewhere in ("/studio/journeys", "/studio/families", "/studio/coverage"):
        assert elsewhere not in nav  # pages they would get 403 on


def test_a_search_by_phone_lists_the_customer_with_what_matched_and_is_recorded(
        client, login_as, world, session):
    anna = world["anna"]
    login_as(world["service"])
    response = search(client, "138 0013 8000")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert f"/studio/customers/{anna.id}" in page and "Phone · exact" in page
    [access] = accesses(session, "customer_search")
    assert (access.search_kind, access.search_term, [s.user_id for s in access.subjects]) == \
        ("phone", None, [anna.id])  # the number typed is not kept
    # member numbers are kept, as in the family look-up
    search(client, anna.member_no.lower())
    assert accesses(session, "customer_search")[-1].search_term == anna.member_no


@pytest.mark.parametrize("query", ["%", "_", "%_%", "' OR 1=1 --", "\u202e", "<b>x</b>",
                                   "a\tb\x0bc", "\x1b[31m", "Ｗ" * 100])
def test_hostile_searches_find_nothing_and_break_nothing(client, login_as, world, query,
                                                         session):
    login_as(world["analyst"])
    response = search(client, query)
    assert response.status_code == 200
    page = response.get_data(as_text=True)
    assert "No customer matches" in page or "Type what you know" in page  # (nothing left)
    assert "<b>x</b>" not in page and "crm-results" not in page


@pytest.mark.parametrize("query", ["a" * 101, "x" * 600, "\x00"])
def test_too_long_or_unstorable_searches_are_400_and_not_recorded(client, login_as, world,
                                                                    query, session):
    login_as(world["analyst"])
    before = len(accesses(session))
    assert search(client, query).status_code == 400
    assert len(accesses(session)) == before


class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_searches_notes_and_merges_need_the_form_token(self, client, world, session):
        def token(page):
            return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                             page.get_data(as_text=True)).group(1)

        client.post("/login", data={"email": world["service"].email,
                                    "password": PASSWORD, "csrf_token": token(client.get(
                                        "/login"))})
        anna, again = world["anna"], world["again"]
        assert client.post("/studio/customers", data={"q": "anna"}).status_code == 400
        assert client.post(f"/studio/customers/{anna.id}/notes", data={
            "department": "service", "channel": "phone", "direction": "inbound",
            "outcome": "resolved", "subject": "x"}).status_code == 400
        fingerprint = duplicates.plan(session, anna.id, again.id).fingerprint
        assert client.post(f"/studio/customers/merge/{anna.id}/{again.id}/confirm",
                           data={"fingerprint": fingerprint}).status_code == 400
        assert accesses(session) == []
        assert session.scalar(select(func.count()).select_from(ContactEvent)) == 0
        assert session.get(User, again.id).is_active
        ok = client.post("/studio/customers", data={
            "q": "anna", "csrf_token": token(client.get("/studio/customers"))})
        assert ok.status_code == 200


def test_a_scored_non_buyer_shows_no_churn_percentage(client, login_as, world, session):
    again = world["again"]  # never bought: the nightly scores give P(alive) 0
    session.add(CustomerScore(user_id=again.id, computed_at=utcnow(), frequency=0,
                              monetary_minor=0, r_score=1, f_score=1, m_score=1, tier="low",
                              value_group="new", expected_purchases_90d=0, p_alive=0.0,
                              clv_minor=0))
    session.commit()
    login_as(world["analyst"])
    page = client.get(f"/studio/customers/{again.id}").get_data(as_text=True)
    assert "no purchases yet: the purchase model cannot tell" in page
    assert "100%" not in page and "crm-risk-high" not in page


def test_the_customer_page_shows_the_whole_story_and_is_recorded(client, login_as, world,
                                                                 session):
    anna, again = world["anna"], world["again"]
    login_as(world["analyst"])
    response = client.get(f"/studio/customers/{anna.id}")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    for text in ("Anna Lee", anna.member_no, "+86 138-0013-8000", "Mia Rose", "Baby, month 3",
                 "High value", "Most valuable", "¥520.00", "70%", "Sleep in month 3",
                 "SO-000", "Possibly the same person as", again.member_no,
                 "Weekly digest"):
        assert text in page, text
    assert "SO-024" not in page  # 25 orders: 20 on the first page
    assert "?orders=2#orders" in page
    second = client.get(f"/studio/customers/{anna.id}?orders=2").get_data(as_text=True)
    assert "SO-024" in second and "SO-000" not in second
    [access, _] = accesses(session, "customer_360")
    assert {s.user_id for s in access.subjects} - {None} == {anna.id, again.id}
    assert {s.family_id for s in access.subjects} == {None, world["mia"].family_id}


@pytest.mark.parametrize("args", ["?orders=-1", "?orders=99999999999999999999",
                                  "?contacts=abc", "?activity=1e9", "?orders=%00"])
def test_odd_page_numbers_are_the_first_page(client, login_as, world, args):
    login_as(world["service"])
    response = client.get(f"/studio/customers/{world['anna'].id}{args}")
    assert response.status_code in (200, 400)


def test_staff_accounts_and_unknown_ids_are_404(client, login_as, world):
    login_as(world["admin"])
    for user_id in (world["service"].id, 2**31 - 1):
        assert client.get(f"/studio/customers/{user_id}").status_code == 404
    assert client.get(f"/studio/customers/{2**31}").status_code == 404
    assert client.post(f"/studio/customers/{2**31 - 1}/notes",
                       data={"subject": "x"}).status_code == 404


def test_a_note_is_added_once_escaped_and_shown(client, login_as, world, session):
    anna = world["anna"]
    login_as(world["service"])
    page = client.get(f"/studio/customers/{anna.id}").get_data(as_text=True)
    submission = re.search(r'name="submission_id" type="hidden" value="([0-9a-f]{32})"',
                           page).group(1)
    form = {"department": "service", "channel": "phone", "direction": "inbound",
            "outcome": "follow_up", "subject": "<script>alert(1)</script>",
            "body": "Call back <img src=x onerror=alert(1)>\nabout sizes",
            "occurred_date": "2026-11-22", "occurred_time": "09:30",
            "submission_id": submission}
    response = client.post(f"/studio/customers/{anna.id}/notes", data=form)
    assert response.status_code == 303
    assert client.post(f"/studio/customers/{anna.id}/notes", data=form).status_code == 303
    [event] = session.scalars(select(ContactEvent)).all()
    assert (event.author_id, event.department, event.outcome, event.occurred_at.isoformat()) == \
        (world["service"].id, "service", "follow_up", "2026-11-22T01:30:00+00:00")
    page = client.get(f"/studio/customers/{anna.id}").get_data(as_text=True)
    assert "<script>alert(1)</script>" not in page and "<img src=x" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "Needs a follow-up" in page and f"by {world['service'].display_name}" in page


@pytest.mark.parametrize(("changes", "message"), [
    ({"subject": ""}, "This field is required."),
    ({"subject": "x" * 121}, "Field cannot be longer than 120 characters."),
    ({"department": "account"}, "Not a valid choice."),
    ({"outcome": "sent"}, "Not a valid choice."),
    ({"occurred_date": "2026-11-30"}, "A contact cannot be in the future."),
    ({"occurred_date": "0001-01-01"}, None),
    ({"body": "bell\x07"}, "Summary has characters that cannot be stored.")])
def test_a_bad_note_comes_back_with_its_reason_and_writes_nothing(
        client, login_as, world, session, changes, message):
    anna = world["anna"]
    login_as(world["analyst"])
    form = {"department": "service", "channel": "phone", "direction": "inbound",
            "outcome": "resolved", "subject": "Sizes", "body": ""} | changes
    before = len(accesses(session))
    response = client.post(f"/studio/customers/{anna.id}/notes", data=form)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    if message:
        assert message in page
    assert anna.email not in page and "Anna Lee" not in page  # no customer data shown
    assert session.scalar(select(func.count()).select_from(ContactEvent)) == 0
    assert len(accesses(session)) == before


def test_duplicates_are_listed_previewed_and_merged_by_customer_service(
        client, login_as, world, session):
    anna, again = world["anna"], world["again"]
    login_as(world["analyst"])
    listing = client.get("/studio/customers/duplicates").get_data(as_text=True)
    assert f"/studio/customers/merge/{anna.id}/{again.id}" in listing
    assert "Same mailbox" in listing
    preview = client.get(f"/studio/customers/merge/{anna.id}/{again.id}").get_data(as_text=True)
    assert "Customer service and administrators can merge accounts" in preview
    assert 'name="fingerprint"' not in preview  # analysts look, they do not merge

    login_as(world["service"])
    preview = client.get(f"/studio/customers/merge/{anna.id}/{again.id}").get_data(as_text=True)
    fingerprint = re.search(r'name="fingerprint" type="hidden" value="([0-9a-f]+)"',
                            preview).group(1)
    assert "Families (caregiver memberships)" in preview
    # a stale preview is refused, and nothing happens
    stale = client.post(f"/studio/customers/merge/{anna.id}/{again.id}/confirm",
                        data={"fingerprint": "0" * 32})
    assert stale.status_code == 303 and stale.headers["Location"].endswith(
        f"/merge/{anna.id}/{again.id}")
    assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 0
    done = client.post(f"/studio/customers/merge/{anna.id}/{again.id}/confirm",
                       data={"fingerprint": fingerprint, "note": "Same <b>mum</b>"})
    assert done.status_code == 303 and done.headers["Location"].endswith(
        f"/studio/customers/{anna.id}")
    session.expire_all()
    assert session.get(User, again.id).is_active is False
    record = session.scalar(select(CustomerMerge))
    assert (record.staff_user_id, record.note) == (world["service"].id, "Same <b>mum</b>")
    page = client.get(f"/studio/customers/{anna.id}").get_data(as_text=True)
    assert f"/studio/customers/merges/{record.id}" in page and "Leo" in page
    shown = client.get(f"/studio/customers/merges/{record.id}").get_data(as_text=True)
    assert again.member_no in shown and "Same &lt;b&gt;mum&lt;/b&gt;" in shown
    closed = client.get(f"/studio/customers/{again.id}").get_data(as_text=True)
    assert "This account was merged into" in closed
    # merged once: the preview sends staff back to the list
    again_preview = client.get(f"/studio/customers/merge/{anna.id}/{again.id}")
    assert again_preview.status_code == 303
    assert len(accesses(session, "customer_merge")) == 3


def test_odd_merge_pairs(client, login_as, world, session):
    anna = world["anna"]
    login_as(world["admin"])
    assert client.get(f"/studio/customers/merge/{anna.id}/{anna.id}").status_code == 303
    assert client.get(f"/studio/customers/merge/{anna.id}/{world['service'].id}") \
        .status_code == 404
    assert client.post(f"/studio/customers/merge/{anna.id}/{2**31 - 1}/confirm",
                       data={"fingerprint": "x"}).status_code == 404
    assert client.get("/studio/customers/merges/1").status_code == 404
    assert duplicates.candidates(session).total == 1


def test_pages_in_chinese(client, login_as, world):
    login_as(world["service"])
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    page = client.get(f"/studio/customers/{world['anna'].id}").get_data(as_text=True)
    for text in ("联系记录", "订单", "价值", "同意"):
        assert text in page, text
    assert "Contact history" not in page
    listing = search(client, "Anna Lee").get_data(as_text=True)
    assert "姓名" in listing


def test_a_read_whose_record_fails_shows_no_customer(client, login_as, world, monkeypatch):
    from diary import staff_audit

    def broken(*args, **kwargs):
        raise RuntimeError("audit table is gone")

    monkeypatch.setattr(staff_audit, "record", broken)
    anna, again = world["anna"], world["again"]
    login_as(world["service"])
    for response in (client.get(f"/studio/customers/{anna.id}"),
                     search(client, "138 0013 8000"),
                     client.get("/studio/customers/duplicates"),
                     client.get(f"/studio/customers/merge/{anna.id}/{again.id}")):
        page = response.get_data(as_text=True)
        assert response.status_code == 503
        assert anna.member_no not in page and anna.email not in page and "Anna Lee" not in page
