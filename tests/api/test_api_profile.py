"""GET/PATCH /api/v1/me and the children list."""
from __future__ import annotations

import pytest
from api_helpers import bearer, make_token

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def test_patch_me_changes_only_what_is_sent_with_the_account_pages_rules(client, session,
                                                                         make_family):
    user, _ = make_family(email="lin@example.com")
    user.phone = "+86 138 0000 0000"
    session.commit()
    headers = bearer(make_token(session, user))
    response = client.patch("/api/v1/me", headers=headers,
                            json={"locale": "zh_CN", "timezone": "Europe/Berlin"})
    assert response.status_code == 200
    body = response.get_json()
    assert (body["locale"], body["timezone"], body["display_name"], body["phone"]) == (
        "zh_CN", "Europe/Berlin", "lin", "+86 138 0000 0000")
    session.expire_all()
    assert (user.locale, user.timezone) == ("zh_CN", "Europe/Berlin")
    cleared = client.patch("/api/v1/me", headers=headers, json={"phone": None})
    assert cleared.get_json()["phone"] is None


@pytest.mark.parametrize(("body", "field"), [
    ({"timezone": "Mars/Olympus"}, "timezone"), ({"locale": "fr"}, "locale"),
    ({"display_name": ""}, "display_name"), ({"email": "x@example.com"}, "email"),
    ({"phone": "call me"}, "phone"), ({"birthday": "2030-01-01"}, "birthday"),
    ({"interests": ["astrology"]}, "interests")])
def test_patch_me_refuses_bad_values_and_changes_nothing(client, session, make_family, body,
                                                         field):
    user, _ = make_family()
    headers = bearer(make_token(session, user))
    response = client.patch("/api/v1/me", headers=headers, json=body)
    assert response.status_code == 422, response.get_json()
    assert field in response.get_json()["error"]["fields"]
    session.expire_all()
    assert (user.timezone, user.locale) == ("Asia/Shanghai", "en")


def test_children_lists_only_the_callers_families(client, session, make_family):
    user, child = make_family(name="Mia")
    make_family(name="Other")
    response = client.get("/api/v1/children", headers=bearer(make_token(session, user,
                                                                        scope="read")))
    [only] = response.get_json()["children"]
    assert (only["id"], only["name"], only["is_born"], only["can_write"]) == (
        child.id, "Mia", True, True)
    one = client.get(f"/api/v1/children/{child.id}", headers=bearer(make_token(
        session, user, scope="read", name="b"))).get_json()
    assert one == only
