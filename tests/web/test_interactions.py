"""The cards' log endpoint, the cards' data attributes and the tracked "where to buy".

Attacks tried here: visitors, GET/HEAD/PUT on the endpoint, bodies that are not JSON, too
big, hostile field values, another family's child, missing and unpublished items, replayed
batches, a forged or altered buy token, a token naming another product, a stored shop link
that is not https, HEAD on the redirect, the rate limit, and CSRF."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select, update

from clock import utcnow
from content.models import ContentItem
from diary import families
from journeys import digests
from recommender import buy_links
from recommender.models import Interaction
from tests.web.test_studio import make_item

REQUEST = "c" * 32
SHOP = "https://shop.example.com/p/BJ-CAR-1"


@pytest.fixture
def seat(session):
    return make_item(session, kind="product", key="BJ-CAR-1", title="Car seat", unit="month",
                     low=3, high=12, category="bath", price_minor=59900, currency="CNY",
                     buy_url=SHOP)


def events(*items, **extra):
    return {"events": [{"kind": "impression", "item_id": item.id, "surface": "product_list",
                        "request_id": REQUEST, "position": n, "model_version": "library"}
                       | extra for n, item in enumerate(items)]}


def logged(session):
    session.expire_all()
    return session.execute(select(Interaction.kind, Interaction.item_id, Interaction.user_id,
                                  Interaction.child_id, Interaction.stage, Interaction.surface,
                                  Interaction.position).order_by(Interaction.id)).all()


def count(session):
    return session.scalar(select(func.count()).select_from(Interaction))


# --- the endpoint ------------------------------------------------------------------------------

def test_a_signed_in_parent_logs_impressions_and_a_retry_counts_once(client, login_as, session,
                                                                     make_family, seat):
    user, child = make_family()
    login_as(user)
    response = client.post("/api/interactions", json=events(seat, child_id=child.id))
    assert (response.status_code, response.json) == (200, {"logged": 1, "received": 1})
    response = client.post("/api/interactions", json=events(seat, child_id=child.id))
    assert (response.status_code, response.json) == (200, {"logged": 0, "received": 1})
    assert logged(session) == [("impression", seat.id, user.id, child.id, "month:3",
                                "product_list", 0)]


def test_visitors_are_refused_and_nothing_is_logged(client, session, seat):
    response = client.post("/api/interactions", json=events(seat))
    assert (response.status_code, response.json) == (401, {"error": "Please sign in."})
    assert count(session) == 0


@pytest.mark.parametrize("method", ["get", "head", "put", "delete"])
def test_only_post_is_allowed(client, login_as, make_family, method):
    login_as(make_family()[0])
    response = getattr(client, method)("/api/interactions")
    assert response.status_code == 405
    if method != "head":
        assert response.is_json and "error" in response.json


@pytest.mark.parametrize(("body", "kind", "reason"), [
    ("not json", "text/plain", "Send a JSON object with a list of events."),
    ("{broken", "application/json", "Send a JSON object with a list of events."),
    ('{"events": [{"kind": "impression", "item_id": "1; DROP TABLE interactions", '
     '"surface": "product_list", "request_id": "cccccccccccccccc"}]}', "application/json",
     "Event 1: the item id must be a positive whole number."),
    ('{"events": [{"kind": "purchase", "item_id": 1, "surface": "shop", '
     '"request_id": "cccccccccccccccc"}]}', "application/json",
     "Event 1: the kind must be impression, click, save, dismiss or add_to_cart."),
])
def test_bad_bodies_are_400_with_the_reason_never_500(client, login_as, make_family, session,
                                                      body, kind, reason):
    login_as(make_family()[0])
    response = client.post("/api/interactions", data=body, content_type=kind)
    assert (response.status_code, response.json) == (400, {"error": reason})
    assert count(session) == 0


def test_a_nul_byte_or_a_huge_body_is_refused(client, login_as, make_family, seat, session):
    login_as(make_family()[0])
    response = client.post("/api/interactions", json=events(seat, model_version="v\x00"))
    assert response.status_code == 400
    response = client.post("/api/interactions", data="{" + " " * 70_000 + "}",
                           content_type="application/json")
    assert response.status_code == 413 and response.json == {
        "error": "Too many events in one request."}
    assert count(session) == 0


def test_another_familys_child_and_missing_items_are_404(client, login_as, make_family,
                                                         session, seat):
    user, _ = make_family()
    _, stranger = make_family()
    login_as(user)
    response = client.post("/api/interactions", json=events(seat, child_id=stranger.id))
    assert (response.status_code, response.json) == (
        404, {"error": "That child is not in your families."})
    gone = {"events": [{"kind": "click", "item_id": 2**31 - 1, "surface": "product_list",
                        "request_id": REQUEST}]}
    response = client.post("/api/interactions", json=gone)
    assert (response.status_code, response.json) == (404, {"error": "That item does not exist."})
    assert count(session) == 0


def test_the_reason_is_in_the_readers_language(client, login_as, make_family, session, seat):
    user, _ = make_family()
    user.locale = "zh_CN"
    session.commit()
    login_as(user)
    response = client.post("/api/interactions", json={"events": []})
    assert response.status_code == 400
    assert response.json["error"] == "每次请发送 1 到 50 个事件。"


class TestRateLimit:
    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "INTERACTIONS_RATE_LIMIT": "3 per minute"}

    def test_the_fourth_batch_in_a_minute_is_429_and_others_are_not_affected(
            self, client, login_as, make_family, seat, session):
        first, second = make_family()[0], make_family()[0]
        login_as(first)
        codes = [client.post("/api/interactions", json=events(seat)).status_code
                 for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        login_as(second)  # counted per account
        assert client.post("/api/interactions", json=events(seat)).status_code == 200


class TestCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_page_token_in_the_header_is_needed(self, client, make_family, seat, session):
        user, _ = make_family()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"email": user.email, "password":
                                           "correct horse battery", "csrf_token": token}
                           ).status_code == 302
        response = client.post("/api/interactions", json=events(seat))
        assert response.status_code == 400 and count(session) == 0  # no token
        page = client.get("/products/BJ-CAR-1").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        response = client.post("/api/interactions", json=events(seat),
                               headers={"X-CSRFToken": token})
        assert response.status_code == 200 and count(session) == 1


# --- the cards ---------------------------------------------------------------------------------

def card_attrs(html):
    return re.findall(r'data-reco-item="(\d+)" data-reco-surface="([a-z_]+)" '
                      r'data-reco-position="(\d+)" data-reco-model="([^"]+)" '
                      r'data-reco-request="([0-9a-f]{32})"(?: data-reco-child="(\d+)")?', html)


def test_cards_carry_what_the_browser_reports_and_the_page_logs_nothing(
        client, login_as, make_family, session, seat):
    user, child = make_family()
    login_as(user)
    html = client.get("/products").get_data(as_text=True)  # the child's stage, month 3
    [(item, surface, position, model, request_id, child_id)] = card_attrs(html)
    assert (item, surface, position, model, child_id) == (
        str(seat.id), "product_list", "0", "library", str(child.id))
    again = card_attrs(client.get("/products").get_data(as_text=True))
    assert again[0][4] != request_id  # each rendering is a new list
    home = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert [(a[0], a[1], a[5]) for a in card_attrs(home)] == [
        (str(seat.id), "child_page", str(child.id))]
    assert 'name="reco-log" content="/api/interactions"' in html
    assert "js/reco.js" in html
    assert count(session) == 0


def test_visitors_cards_carry_nothing(client, seat):
    html = client.get("/products?stage=month:3").get_data(as_text=True)
    assert "/products/BJ-CAR-1" in html and "data-reco-item" not in html


# --- where to buy ------------------------------------------------------------------------------

def buy_path(html):
    """The redirect's address: its token and the showing's request id (`?r=`)."""
    found = re.search(r'href="(/go/[^"]+)"', html)
    return found.group(1) if found else None


def test_the_product_page_links_to_the_tracked_redirect_not_the_shop(client, login_as,
                                                                     make_family, seat):
    login_as(make_family()[0])
    html = client.get("/products/BJ-CAR-1").get_data(as_text=True)
    assert buy_path(html) is not None
    assert SHOP not in html  # the shop's address stays on the server


def test_following_it_logs_one_click_and_redirects_to_the_stored_shop_link(
        client, login_as, make_family, session, seat):
    user, _ = make_family()
    login_as(user)
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (302, SHOP)
    assert response.headers["Cache-Control"] == "no-store"
    assert client.get(path).status_code == 302  # a second tap: no new click
    assert client.head(path).status_code == 302  # HEAD is never a click
    assert logged(session) == [("click", seat.id, user.id, None, None, "product_list", None)]
    again = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    client.get(again)  # a new visit to the page, a new click
    assert count(session) == 2
    client.get(path.split("?")[0])  # the address lost its request id: a showing of its own
    client.get(path.split("?")[0] + "?r=a%20b")  # a request id that is not one: the same
    assert count(session) == 4


def test_visitors_are_redirected_without_a_log(client, session, seat):
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (302, SHOP)
    assert count(session) == 0


def test_a_query_string_cannot_choose_where_it_goes(client, seat):
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    for extra in ("?next=https://evil.example", "?url=//evil.example", "?buy_url=x"):
        assert client.get(path + extra).headers["Location"] == SHOP


def test_altered_forged_and_misdirected_tokens(app, client, login_as, make_family, session,
                                               seat):
    login_as(make_family()[0])
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    token = path.removeprefix("/go/").split("?")[0]
    middle = len(token) - 10
    altered = token[:middle] + ("A" if token[middle] != "A" else "B") + token[middle + 1:]
    forged = buy_links.make_token("not-the-secret", seat.id, "product_list", REQUEST)
    for bad in (altered, forged, "x", "a" * 600):
        response = client.get(f"/go/{bad}")
        assert response.status_code == 404
        assert "This link is not valid." in response.get_data(as_text=True)
    secret = app.config["SECRET_KEY"]
    other = make_item(session, kind="product", key="BJ-NO-SHOP", title="No shop", unit="month",
                      low=3, high=12, category="bath", price_minor=100, currency="CNY")
    for item_id, surface in ((other.id, "product_list"),  # no shop link
                             (2**31 - 1, "product_list"),  # no such product
                             (seat.id, "email")):  # not a surface a page may name
        response = client.get(f"/go/{buy_links.make_token(secret, item_id, surface, REQUEST)}")
        assert response.status_code == 404
    session.execute(update(ContentItem).where(ContentItem.id == seat.id)
                    .values(buy_url="javascript:alert(1)"))
    session.commit()
    assert client.get(path).status_code == 404  # a stored link that is not https goes nowhere
    assert count(session) == 0


def test_an_unpublished_product_leads_nowhere(client, session, seat):
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    session.execute(update(ContentItem).where(ContentItem.id == seat.id)
                    .values(status="archived"))
    session.commit()
    assert client.get(path).status_code == 404


def test_a_post_is_not_allowed(client, seat):
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    assert client.post(path).status_code == 405


def test_an_old_link_still_leads_to_the_shop_but_is_not_logged(client, login_as, make_family,
                                                               session, seat, clock_at):
    login_as(make_family()[0])
    path = buy_path(client.get("/products/BJ-CAR-1").get_data(as_text=True))
    clock_at(utcnow() + timedelta(seconds=buy_links.MAX_AGE + 60))
    login_as(make_family()[0])  # a fresh session after the long wait
    response = client.get(path)
    assert (response.status_code, response.headers["Location"]) == (302, SHOP)
    assert count(session) == 0


def test_a_childs_click_keeps_the_child_only_for_its_family(app, client, login_as, make_family,
                                                            session, seat):
    user, child = make_family()
    other, _ = make_family()
    secret = app.config["SECRET_KEY"]
    token = buy_links.make_token(secret, seat.id, "child_page", REQUEST, 3, "m-1", child.id)
    login_as(other)
    client.get(f"/go/{token}")
    login_as(user)
    client.get(f"/go/{token}")
    assert logged(session) == [
        ("click", seat.id, other.id, None, None, "child_page", 3),
        ("click", seat.id, user.id, child.id, "month:3", "child_page", 3)]


# --- email -------------------------------------------------------------------------------------

@pytest.mark.clock_at("2026-11-23T01:00")
def test_a_product_link_in_a_digest_becomes_an_email_click_once(client, session, tmp_path):
    from tests.journeys.test_digests import _hrefs, _render, import_content, make_parent

    import_content(session, tmp_path)
    mum = make_parent(session, "mum@example.com")
    session.commit()
    _, email = _render(session, mum)
    links = {digests.read_click_token("test-secret-key", h.rsplit("/", 1)[1]).item_key: h
             for h in _hrefs(email.html) if "/e/c/" in h}
    product = links["product:BJ-BELT-001"].removeprefix("http://localhost")
    article = next(h for key, h in links.items() if key.startswith("article:"))
    assert client.head(product).status_code == 302  # scanners: nothing
    assert count(session) == 0
    for _ in range(2):  # a second tap is the same click
        assert client.get(product).headers["Location"] == "/products/BJ-BELT-001"
    client.get(article.removeprefix("http://localhost"))  # articles are not product clicks
    belt = session.scalar(select(ContentItem.id).where(ContentItem.key == "BJ-BELT-001"))
    [child_id] = [c.id for c in families.children_of(session, mum)]
    assert logged(session) == [("click", belt, mum.id, child_id, "pregnancy_week:20", "email",
                                0)]


def test_an_email_product_click_for_a_deleted_account_logs_nothing(client, session, seat):
    token = digests.make_click_token("test-secret-key", 999_999, 999_999, "product:BJ-CAR-1",
                                     "/products/BJ-CAR-1", "deadbeef", child_id=1, position=0)
    assert client.get(f"/e/c/{token}").status_code == 302
    assert count(session) == 0
