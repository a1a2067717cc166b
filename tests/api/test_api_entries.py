"""Timeline entries over /api/v1: create, read, list, update, delete, with exact answers."""
from __future__ import annotations

import pytest
from api_helpers import bearer, make_token
from sqlalchemy import select

from diary.models import Entry, Membership

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOTE = {"kind": "note", "occurred_at": "2026-11-22T09:30:00+08:00", "title": "First smile",
        "body": "She smiled at the cat."}


@pytest.fixture()
def parent(session, make_family):
    user, child = make_family(email="pat@example.com")
    return user, child, bearer(make_token(session, user))


def _create(client, child, headers, **changes):
    response = client.post(f"/api/v1/children/{child.id}/entries", json={**NOTE, **changes},
                           headers=headers)
    assert response.status_code == 201, response.get_json()
    return response


def _code(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]


def test_create_answers_201_with_the_entry_its_location_and_etag(client, session, parent):
    user, child, headers = parent
    response = _create(client, child, headers)
    body = response.get_json()
    entry = session.get(Entry, body["id"])
    assert (entry.child_id, entry.author_id, entry.kind, entry.title, entry.body) == (
        child.id, user.id, "note", "First smile", "She smiled at the cat.")
    assert body["occurred_at"] == "2026-11-22T01:30:00Z"
    assert body["child_id"] == child.id and body["photos"] == [] and body["data"] == {}
    assert response.headers["Location"] == f"/api/v1/entries/{entry.id}"
    assert response.headers["ETag"] == body["etag"]


def test_a_feeding_keeps_its_cleaned_data_and_a_measurement_its_values(client, parent):
    _, child, headers = parent
    feed = _create(client, child, headers, kind="feeding", title="",
                   data={"method": "bottle_formula", "amount_ml": 120}).get_json()
    assert feed["data"] == {"method": "bottle_formula", "amount_ml": 120}
    m = _create(client, child, headers, kind="measurement",
                measurement={"weight_kg": 6.1234, "length_cm": 61.26}).get_json()
    assert m["measurement"] == {"weight_kg": 6.123, "length_cm": 61.3, "head_cm": None}


@pytest.mark.parametrize(("changes", "field"), [
    ({"occurred_at": "2026-11-22T09:30:00"}, "occurred_at"),  # no time zone
    ({"occurred_at": "2026-12-30T09:30:00+08:00"}, "occurred_at"),  # the future
    ({"occurred_at": "1800-01-01T00:00:00Z"}, "occurred_at"),
    ({"kind": "dragon"}, "kind"),
    ({"title": "", "body": ""}, "body"),  # an empty note
    ({"kind": "feeding", "data": {"method": "bottle_formula", "amount_ml": 9999}},
     "amount_ml"),
    ({"kind": "feeding", "data": {"method": "x", "amount_ml": 10**400}}, "data.amount_ml"),
    ({"kind": "kicks", "data": {"count": 3}}, "kind"),  # the baby is born
    ({"title": "x" * 121}, "title"),
    ({"colour": "red"}, "colour"),
])
def test_invalid_entries_are_422_naming_the_field_and_nothing_is_stored(
        client, session, parent, changes, field):
    _, child, headers = parent
    error = _code(client.post(f"/api/v1/children/{child.id}/entries",
                              json={**NOTE, **changes}, headers=headers), 422)
    assert error["code"] == "validation_error"
    assert field in error["fields"], error
    assert session.scalar(select(Entry.id).where(Entry.child_id == child.id)) is None


def test_bodies_that_are_not_json_objects(client, parent):
    _, child, headers = parent
    url = f"/api/v1/children/{child.id}/entries"
    assert _code(client.post(url, data="{nope", headers=headers,
                             content_type="application/json"), 400)["code"] == "malformed_json"
    assert _code(client.post(url, data='{"a": NaN}', headers=headers,
                             content_type="application/json"), 400)["code"] == "malformed_json"
    assert _code(client.post(url, data="kind=note", headers=headers,
                             content_type="application/x-www-form-urlencoded"),
                 415)["code"] == "unsupported_media_type"
    assert _code(client.post(url, json=[NOTE], headers=headers), 422)["code"] == \
        "validation_error"
    big = {**NOTE, "body": "x" * 300_000}
    assert _code(client.post(url, json=big, headers=headers), 413)["code"] == \
        "payload_too_large"


def test_get_sends_an_etag_and_if_match_refuses_a_stale_write(client, session, parent):
    _, child, headers = parent
    created = _create(client, child, headers).get_json()
    url = f"/api/v1/entries/{created['id']}"
    read = client.get(url, headers=headers)
    assert read.status_code == 200 and read.headers["ETag"] == created["etag"]
    changed = client.patch(url, json={"title": "Second smile"},
                           headers={**headers, "If-Match": read.headers["ETag"]})
    assert changed.status_code == 200 and changed.get_json()["title"] == "Second smile"
    assert changed.headers["ETag"] != read.headers["ETag"]
    assert changed.get_json()["body"] == "She smiled at the cat."  # PATCH keeps the rest
    stale = client.patch(url, json={"title": "Lost update"},
                         headers={**headers, "If-Match": read.headers["ETag"]})
    assert _code(stale, 412)["code"] == "precondition_failed"
    assert stale.headers["ETag"] == changed.headers["ETag"]
    assert _code(client.delete(url, headers={**headers, "If-Match": read.headers["ETag"]}),
                 412)["code"] == "precondition_failed"
    session.expire_all()
    assert session.get(Entry, created["id"]).title == "Second smile"
    assert client.put(url, json={"occurred_at": "2026-11-21T08:00:00Z", "body": "Redone"},
                      headers={**headers, "If-Match": "*"}).get_json()["title"] == ""
    assert client.delete(url, headers={**headers, "If-Match": client.get(
        url, headers=headers).headers["ETag"]}).status_code == 204
    assert session.get(Entry, created["id"]) is None
    assert _code(client.get(url, headers=headers), 404)["code"] == "not_found"


def test_the_list_filters_by_kind_and_local_days_and_pages_by_cursor(client, parent):
    _, child, headers = parent
    ids = [_create(client, child, headers, occurred_at=f"2026-11-{day}T23:30:00+08:00",
                   title=f"day {day}").get_json()["id"] for day in (18, 19, 20, 21)]
    feed = _create(client, child, headers, kind="sleep", title="",
                   occurred_at="2026-11-21T10:00:00+08:00",
                   data={"duration_min": 60}).get_json()["id"]
    url = f"/api/v1/children/{child.id}/entries"
    first = client.get(url + "?limit=2", headers=headers).get_json()
    assert [e["id"] for e in first["entries"]] == [ids[3], feed]
    second = client.get(url + f"?limit=2&cursor={first['next_cursor']}", headers=headers)
    assert [e["id"] for e in second.get_json()["entries"]] == [ids[2], ids[1]]
    third = client.get(url + f"?limit=2&cursor={second.get_json()['next_cursor']}",
                       headers=headers).get_json()
    assert [e["id"] for e in third["entries"]] == [ids[0]] and third["next_cursor"] is None
    notes = client.get(url + "?kind=note&since=2026-11-19&until=2026-11-20", headers=headers)
    assert [e["id"] for e in notes.get_json()["entries"]] == [ids[2], ids[1]]
    both = client.get(url + "?kind=note&kind=sleep&since=2026-11-21", headers=headers)
    assert [e["id"] for e in both.get_json()["entries"]] == [ids[3], feed]
    assert "cursor" in _code(client.get(url + "?cursor=abc", headers=headers), 422)["fields"]
    assert "since" in _code(client.get(url + "?since=2026-11-21&until=2026-11-20",
                                       headers=headers), 422)["fields"]
    assert "limit" in _code(client.get(url + "?limit=0", headers=headers), 422)["fields"]
    assert "kind.0" in _code(client.get(url + "?kind=x", headers=headers), 422)["fields"]


def test_a_read_token_cannot_write_and_a_viewer_is_refused_like_on_the_web(
        client, session, parent, make_family):
    owner, child, headers = parent
    entry_id = _create(client, child, headers).get_json()["id"]
    read_only = bearer(make_token(session, owner, scope="read"))
    error = _code(client.post(f"/api/v1/children/{child.id}/entries", json=NOTE,
                              headers=read_only), 403)
    assert error["code"] == "insufficient_scope"
    assert client.get(f"/api/v1/entries/{entry_id}", headers=read_only).status_code == 200
    viewer, _ = make_family(email="grandpa@example.com")
    session.add(Membership(family_id=child.family_id, user_id=viewer.id, role="viewer",
                           relationship_to_child="grandparent"))
    session.commit()
    as_viewer = bearer(make_token(session, viewer))
    assert client.get(f"/api/v1/entries/{entry_id}", headers=as_viewer).status_code == 200
    children = client.get("/api/v1/children", headers=as_viewer).get_json()["children"]
    assert {(c["id"], c["can_write"]) for c in children} >= {(child.id, False)}
    for response in (
            client.post(f"/api/v1/children/{child.id}/entries", json=NOTE, headers=as_viewer),
            client.patch(f"/api/v1/entries/{entry_id}", json={"title": "x"}, headers=as_viewer),
            client.delete(f"/api/v1/entries/{entry_id}", headers=as_viewer)):
        assert _code(response, 403)["code"] == "forbidden"
    session.expire_all()
    assert session.get(Entry, entry_id).title == "First smile"
