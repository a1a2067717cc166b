"""/api/v1 "this week", suggestions with impression tokens, impressions and interactions.

Attacks tried: another family's child (404 everywhere, nothing logged), a viewer (may see
and report: they are their own suggestions), a read token reporting (403), a surface that is
switched off or made up, another person's slate token (skipped), an altered token (skipped),
events with unknown fields, kinds, surfaces, request ids and items, a replayed batch (counts
once)."""
from __future__ import annotations

import pytest
from family_fixtures import CLOCK, error_of
from sqlalchemy import func, select

from recommender import impressions
from recommender.models import ImpressionBatch, Interaction
from tests.recommender.test_serve import make_product
from tests.tokens import tampered
from tests.web.test_studio import make_item

pytestmark = pytest.mark.clock_at(CLOCK)


@pytest.fixture
def shop(session, app):
    app.config["RECO_CONTROL_SHARE"] = 0.0
    items = {"nappies": make_product(session, "BJ-NAPPY-M", "nappies", 3, 9, consumable=True,
                                     text="Nappies M"),
             "toy": make_product(session, "BJ-TOY-A", "toys", text="Soft rattle"),
             "tub": make_product(session, "BJ-BATH-TUB", "bath", 4, 4, text="Bath tub")}
    session.commit()
    return items


def test_this_week_is_what_the_child_page_shows(client, parent, write, session, shop,
                                                login_as):
    user, child = parent
    article = make_item(session, key="month-9", title="Nine months", unit="month", low=9,
                        high=9)
    make_item(session, key="month-5", title="Five months", unit="month", low=5, high=5)
    response = client.get(f"/api/v1/children/{child.id}/this-week", headers=write)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert (body["child_id"], body["stage"], body["stage_label"]) == (
        child.id, "month:9", "Baby, month 9")
    assert body["articles"] == [{"id": article.id, "kind": "article", "key": "month-9",
                                 "title": "Nine months", "summary": "A short summary.",
                                 "category": None}]
    assert {p["key"] for p in body["products"]} == {"BJ-NAPPY-M", "BJ-TOY-A"}
    page = login_as(user).get(f"/children/{child.id}").get_data(as_text=True)
    this_week = page.split('id="this-week"', 1)[1].split("</section>", 1)[0]
    assert "Nine months" in this_week and "Five months" not in this_week
    assert "Nappies M" in this_week and "Soft rattle" in this_week
    assert "Bath tub" not in this_week


def test_this_week_is_the_familys_own(client, parent, viewer, stranger):
    _, child = parent
    error_of(client.get(f"/api/v1/children/{child.id}/this-week", headers=stranger[0]), 404)
    assert client.get(f"/api/v1/children/{child.id}/this-week",
                      headers=viewer).status_code == 200


def test_suggestions_carry_the_webs_slate_token(client, parent, write, session, shop, app):
    user, child = parent
    response = client.get(f"/api/v1/children/{child.id}/suggestions", headers=write)
    assert response.status_code == 200, response.get_json()
    body = response.get_json()
    assert body["surface"] == "child_page" and len(body["request_id"]) == 32
    assert {i["key"] for i in body["items"]} == {"BJ-NAPPY-M", "BJ-TOY-A"}
    assert [i["position"] for i in body["items"]] == [0, 1]
    assert all(i["title"] and i["reason"] for i in body["items"])
    shown = impressions.read_token(app.config["SECRET_KEY"], body["impression_token"])
    assert shown == impressions.Shown(
        user.id, child.id, "child_page", body["request_id"], body["model_version"], "month:9",
        tuple(i["item_id"] for i in body["items"]))
    again = client.get(f"/api/v1/children/{child.id}/suggestions", headers=write).get_json()
    assert again["request_id"] != body["request_id"]  # each showing is its own list

    seen = client.post("/api/v1/impressions", headers=write, json={"slates": [
        {"token": body["impression_token"], "seen": [0, 1, 7]},
        {"token": tampered(body["impression_token"]), "seen": [0]}]})
    assert seen.status_code == 200 and seen.get_json() == {"accepted": 2, "received": 2}
    assert session.scalar(select(func.count(ImpressionBatch.id))) == 1


def test_a_slate_token_of_another_person_is_skipped(client, parent, write, stranger, session,
                                                   shop):
    _, child = parent
    token = client.get(f"/api/v1/children/{child.id}/suggestions",
                       headers=write).get_json()["impression_token"]
    response = client.post("/api/v1/impressions", headers=stranger[0],
                           json={"slates": [{"token": token, "seen": [0]}]})
    assert response.get_json() == {"accepted": 0, "received": 1}
    assert session.scalar(select(func.count(ImpressionBatch.id))) == 0


def test_an_empty_list_has_no_token(client, parent, write):
    _, child = parent
    body = client.get(f"/api/v1/children/{child.id}/suggestions", headers=write).get_json()
    assert body["items"] == [] and body["impression_token"] is None


def test_suggestions_are_the_familys_own(client, parent, viewer, stranger, shop, app):
    _, child = parent
    url = f"/api/v1/children/{child.id}/suggestions"
    error_of(client.get(url, headers=stranger[0]), 404)
    assert client.get(url, headers=viewer).status_code == 200
    error_of(client.get(url + "?surface=email", headers=viewer), 422, "validation_error")
    app.config["RECO_SURFACES"] = ["inbox"]
    error_of(client.get(url, headers=viewer), 404, "not_found")
    assert client.get(url + "?surface=inbox", headers=viewer).status_code == 200


def event(child, item, **extra):
    return {"kind": "click", "item_id": item.id, "surface": "child_page",
            "request_id": "0123456789abcdef0123456789abcdef", "position": 1,
            "model_version": "popularity", "child_id": child.id} | extra


def test_interactions_are_logged_once(client, parent, write, session, shop):
    user, child = parent
    body = {"events": [event(child, shop["toy"]), event(child, shop["toy"], kind="save")]}
    response = client.post("/api/v1/interactions", headers=write, json=body)
    assert response.status_code == 200 and response.get_json() == {"logged": 2, "received": 2}
    assert client.post("/api/v1/interactions", headers=write,
                       json=body).get_json() == {"logged": 0, "received": 2}
    rows = session.execute(select(Interaction.kind, Interaction.user_id, Interaction.child_id,
                                  Interaction.item_id, Interaction.stage, Interaction.position)
                           .order_by(Interaction.id)).all()
    assert rows == [("click", user.id, child.id, shop["toy"].id, "month:9", 1),
                    ("save", user.id, child.id, shop["toy"].id, "month:9", 1)]


@pytest.mark.parametrize("change, status", [
    ({"kind": "purchase"}, 422), ({"surface": "email"}, 422), ({"request_id": "short"}, 422),
    ({"request_id": "x" * 8 + "!"}, 422), ({"position": 1000}, 422), ({"extra": 1}, 422),
    ({"item_id": 0}, 422), ({"child_id": "one"}, 422), ({"model_version": "-bad"}, 422),
])
def test_bad_events_are_422_and_log_nothing(client, parent, write, session, shop, change,
                                            status):
    _, child = parent
    response = client.post("/api/v1/interactions", headers=write,
                           json={"events": [event(child, shop["toy"], **change)]})
    error_of(response, status, "validation_error")
    assert session.scalar(select(func.count(Interaction.id))) == 0


def test_interactions_are_the_callers_own(client, parent, read, viewer, stranger, session,
                                          shop):
    _, child = parent
    body = {"events": [event(child, shop["toy"])]}
    error_of(client.post("/api/v1/interactions", headers=stranger[0], json=body), 404)
    error_of(client.post("/api/v1/interactions", headers=read, json=body), 403,
             "insufficient_scope")
    error_of(client.post("/api/v1/interactions", headers=viewer, json={
        "events": [event(child, shop["toy"], item_id=999999)]}), 404)
    assert session.scalar(select(func.count(Interaction.id))) == 0
    assert client.post("/api/v1/interactions", headers=viewer,
                       json=body).get_json() == {"logged": 1, "received": 1}
