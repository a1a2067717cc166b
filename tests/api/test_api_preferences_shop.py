"""/api/v1/preferences and /api/v1/shop/orders.

Attacks tried: a read token changing preferences (403), unknown topics and interests, hours
out of range, unknown fields, null for a consent; the shop call with no key, a personal
access token instead of the shop's key, a revoked key, a batch with one bad line (nothing
recorded), a body that is not JSON, too many lines; the old path keeps working."""
from __future__ import annotations

import pytest
from family_fixtures import CLOCK, error_of
from sqlalchemy import func, select

from diary.models import Consent
from journeys.models import EmailPreference
from recommender import purchases
from recommender.models import Interaction
from tests.web.test_shop import line
from tests.web.test_studio import make_item

pytestmark = pytest.mark.clock_at(CLOCK)

DEFAULTS = {"digest_opt_in": True, "marketing_opt_in": False, "frequency": "weekly",
            "send_hour": 9, "quiet_start": 21, "quiet_end": 8, "topics": [],
            "survey_emails": True, "paused_until": None, "interests": [], "language": "en",
            "personalise_suggestions": True}


def test_preferences_read_and_change(client, parent, write, session):
    user, _ = parent
    assert client.get("/api/v1/preferences", headers=write).get_json() == DEFAULTS
    changed = client.patch("/api/v1/preferences", headers=write, json={
        "digest_opt_in": False, "marketing_opt_in": True, "frequency": "daily",
        "send_hour": 7, "topics": ["sleep"], "interests": ["sleep", "feeding"],
        "language": "zh_CN", "personalise_suggestions": False})
    assert changed.status_code == 200, changed.get_json()
    assert changed.get_json() == {**DEFAULTS, "digest_opt_in": False, "marketing_opt_in": True,
                                  "frequency": "daily", "send_hour": 7, "topics": ["sleep"],
                                  "interests": ["feeding", "sleep"], "language": "zh_CN",
                                  "personalise_suggestions": False}
    session.expire_all()
    consents = session.execute(select(Consent.kind, Consent.granted, Consent.source)
                               .where(Consent.user_id == user.id, Consent.source == "api")
                               .order_by(Consent.kind)).all()
    assert consents == [(Consent.DIGEST, False, "api"), (Consent.MARKETING, True, "api")]
    assert session.get(EmailPreference, user.id).send_hour == 7
    # Only what is sent changes.
    again = client.patch("/api/v1/preferences", headers=write, json={"quiet_end": 6})
    assert again.get_json()["quiet_end"] == 6 and again.get_json()["send_hour"] == 7
    assert again.get_json()["language"] == "zh_CN"
    assert again.get_json()["survey_emails"] is True  # untouched by a PATCH not naming it
    off = client.patch("/api/v1/preferences", headers=write, json={"survey_emails": False})
    assert off.get_json()["survey_emails"] is False and off.get_json()["quiet_end"] == 6
    session.expire_all()
    assert session.get(EmailPreference, user.id).surveys_by_email is False


@pytest.mark.parametrize("body, field", [
    ({"topics": ["astrology"]}, "topics"), ({"interests": ["astrology"]}, "interests"),
    ({"send_hour": 24}, "send_hour"), ({"frequency": "hourly"}, "frequency"),
    ({"language": "fr"}, "language"), ({"colour": "blue"}, "colour"),
])
def test_bad_preferences_are_422_and_change_nothing(client, parent, write, session, body,
                                                    field):
    user, _ = parent
    error = error_of(client.patch("/api/v1/preferences", headers=write, json=body), 422,
                     "validation_error")
    assert field in error["fields"]
    assert client.get("/api/v1/preferences", headers=write).get_json() == DEFAULTS
    assert session.get(EmailPreference, user.id) is None


def test_a_read_token_cannot_change_preferences(client, parent, read):
    error_of(client.patch("/api/v1/preferences", headers=read, json={"digest_opt_in": False}),
             403, "insufficient_scope")
    assert client.get("/api/v1/preferences", headers=read).get_json() == DEFAULTS


# --- the shop ----------------------------------------------------------------------------------

@pytest.fixture
def shop_key(session):
    make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S", unit="month",
              low=3, high=6, category="nappies", price_minor=8900, currency="CNY")
    _, key = purchases.create_integration(session, "Tmall")
    session.commit()
    return key


def orders(client, body, key=None):
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return client.post("/api/v1/shop/orders", json=body, headers=headers)


def test_the_shops_orders_through_the_api_and_the_old_path_count_once(client, parent,
                                                                       shop_key, session):
    user, _ = parent
    mine = line(1, email=user.email)
    response = orders(client, {"lines": [mine, line(2, email="nobody@example.com")]},
                      shop_key)
    assert response.status_code == 200, response.get_json()
    assert response.get_json() == {
        "received": 2, "recorded": 1, "duplicates": 0, "unmatched": 1, "invalid": 0,
        "unmatched_lines": [{"order_line_id": "L-2", "reason": "customer"}]}
    old = client.post("/api/shop/order-lines", json={"lines": [mine]},
                      headers={"Authorization": f"Bearer {shop_key}"})
    assert old.status_code == 200 and old.get_json()["duplicates"] == 1
    assert session.scalar(select(func.count(Interaction.id))) == 1


def test_the_shops_orders_need_the_shops_key(client, parent, shop_key, session):
    from api_helpers import make_token
    personal = make_token(session, parent[0])
    for key in (None, personal, shop_key + "x"):
        response = orders(client, {"lines": [line(1)]}, key)
        error_of(response, 401, "unauthorized")
    assert session.scalar(select(func.count(Interaction.id))) == 0


def test_one_bad_line_and_nothing_is_recorded(client, parent, shop_key, session):
    user, _ = parent
    response = orders(client, {"lines": [line(1, email=user.email),
                                         line(2, quantity=0)]}, shop_key)
    error = error_of(response, 422, "validation_error")
    assert list(error["fields"]) == ["lines.1"]  # 0-based, as JSON paths count
    assert session.scalar(select(func.count(Interaction.id))) == 0


@pytest.mark.parametrize("body, status, code", [
    ({"lines": []}, 400, "bad_request"), ({"nothing": 1}, 400, "bad_request"),
    ({"lines": [line(n) for n in range(purchases.MAX_LINES + 1)]}, 413, "payload_too_large"),
])
def test_bodies_that_are_not_a_batch(client, shop_key, body, status, code):
    error_of(orders(client, body, shop_key), status, code)


def test_the_spec_names_the_shops_key_as_its_own_scheme(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/shop/orders"]["post"]
    assert operation["security"] == [{"shopIntegrationKey": []}]
    assert spec["components"]["securitySchemes"]["shopIntegrationKey"]["scheme"] == "bearer"
    assert "401" in operation["responses"] and "403" not in operation["responses"]


class TestTheShopsOwnRateLimit:
    """The shop's calls count against SHOP_API_RATE_LIMIT (by the shop's address, like the
    old path's, each path its own count), not against API_RATE_LIMIT, and spend nothing of
    the API's budget (for the same address, nor for a token)."""

    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "2 per minute",
                "SHOP_API_RATE_LIMIT": "3 per minute"}

    def test_the_shop_has_its_own_budget(self, client, parent, shop_key, session):
        from api_helpers import bearer, make_token
        user, _ = parent
        token = bearer(make_token(session, user))
        codes = [orders(client, {"lines": [line(n, email=user.email)]}, shop_key).status_code
                 for n in range(1, 5)]
        assert codes == [200, 200, 200, 429]
        refused = orders(client, {"lines": [line(9, email=user.email)]}, shop_key)
        error = error_of(refused, 429, "rate_limited")
        assert error["message"] == "Too many requests; slow down and try again shortly."
        assert refused.headers["Retry-After"] == "60"  # at the latest when the minute is over
        assert session.scalar(select(func.count(Interaction.id))) == 3  # L-4 was not recorded
        # The old path counts its calls apart (as it always did).
        old = client.post("/api/shop/order-lines", json={"lines": [line(5)]},
                          headers={"Authorization": f"Bearer {shop_key}"})
        assert old.status_code == 200
        # The rest of the API still has its whole budget, for the same address (anonymous)
        # and for a token: API_RATE_LIMIT, untouched by the shop's calls.
        assert [client.get("/api/v1/openapi.json").status_code for _ in range(3)] == [
            200, 200, 429]
        assert [client.get("/api/v1/me", headers=token).status_code for _ in range(3)] == [
            200, 200, 429]

    def test_the_apis_budget_spent_leaves_the_shop_its_own(self, client, parent, shop_key):
        user, _ = parent
        assert [client.get("/api/v1/openapi.json").status_code for _ in range(3)] == [
            200, 200, 429]
        assert orders(client, {"lines": [line(1, email=user.email)]},
                      shop_key).status_code == 200
