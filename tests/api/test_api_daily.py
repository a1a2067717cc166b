"""/api/v1 timers and inbox.

Attacks tried: another family's child and timer ids (404), another child's timer in the
URL of one's own child (404), a viewer and a read token writing (403), a second timer of a
kind, a second stop (the conditional stop: 409, one entry), minutes beyond the time run,
a feed without a side, unknown kinds; another person's inbox message (404), paging past the
end, limits out of range."""
from __future__ import annotations

import pytest
from family_fixtures import CLOCK, error_of, messages
from sqlalchemy import func, select

from diary.models import Entry, Timer
from journeys.models import InboxMessage

pytestmark = pytest.mark.clock_at(CLOCK)


def test_start_list_and_stop_a_feed(client, parent, write, session, clock_at):
    _, child = parent
    url = f"/api/v1/children/{child.id}/timers"
    started = client.post(url, headers=write, json={"kind": "feed", "side": "left"})
    assert started.status_code == 201, started.get_json()
    timer = started.get_json()
    assert timer["kind"] == "feed" and timer["side"] == "left" and timer["status"] == "running"
    assert timer["started_at"].startswith("2026-11-23T04:00:") and timer["entry_id"] is None
    clock_at("2026-11-23T04:14:40")
    running = client.get(url, headers=write).get_json()["items"]
    assert [(t["id"], t["elapsed_minutes"]) for t in running] == [(timer["id"], 15)]

    stopped = client.post(f"{url}/{timer['id']}/stop", headers=write, json={})
    assert stopped.status_code == 200, stopped.get_json()
    body = stopped.get_json()
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id))
    assert (body["status"], body["entry_id"], body["elapsed_minutes"]) == ("stopped", entry.id,
                                                                          15)
    assert entry.kind == "feeding" and entry.data == {"method": "breast_left",
                                                      "duration_min": 15}
    assert client.get(url, headers=write).get_json()["items"] == []
    # The other device's stop: told, and no second entry.
    error_of(client.post(f"{url}/{timer['id']}/stop", headers=write, json={}), 409, "conflict")
    assert session.scalar(select(func.count(Entry.id))) == 1


def test_a_late_stop_takes_the_real_minutes_and_refuses_more(client, parent, write, session,
                                                            clock_at):
    _, child = parent
    url = f"/api/v1/children/{child.id}/timers"
    timer = client.post(url, headers=write, json={"kind": "sleep"}).get_json()
    clock_at("2026-11-23T05:00")
    error = error_of(client.post(f"{url}/{timer['id']}/stop", headers=write,
                                 json={"minutes": 61}), 422, "validation_error")
    assert error["fields"] == {"minutes": "Enter between 1 and 60 minutes."}
    assert client.post(f"{url}/{timer['id']}/stop", headers=write,
                       json={"minutes": 45}).status_code == 200
    assert session.scalar(select(Entry.data).where(Entry.kind == "sleep")) == {
        "duration_min": 45}


def test_one_timer_of_a_kind_and_discard(client, parent, write, session):
    _, child = parent
    url = f"/api/v1/children/{child.id}/timers"
    first = client.post(url, headers=write, json={"kind": "tummy"}).get_json()
    error_of(client.post(url, headers=write, json={"kind": "tummy"}), 409, "conflict")
    assert client.post(f"{url}/{first['id']}/discard", headers=write).status_code == 204
    error_of(client.post(f"{url}/{first['id']}/discard", headers=write), 409, "conflict")
    assert session.scalar(select(Timer.status)) == "discarded"
    assert session.scalar(select(func.count(Entry.id))) == 0


@pytest.mark.parametrize("body, field", [
    ({"kind": "feed"}, "side"),
    ({"kind": "feed", "side": "middle"}, "side"),
    ({"kind": "nap"}, "kind"),
    ({}, "kind"),
])
def test_bad_starts_are_422(client, parent, write, session, body, field):
    _, child = parent
    error = error_of(client.post(f"/api/v1/children/{child.id}/timers", headers=write,
                                 json=body), 422, "validation_error")
    assert field in error["fields"]
    assert session.scalar(select(func.count(Timer.id))) == 0


def test_timers_are_the_familys_own(client, parent, write, read, viewer, stranger, session):
    _, child = parent
    token, other_child = stranger
    url = f"/api/v1/children/{child.id}/timers"
    timer = client.post(url, headers=write, json={"kind": "sleep"}).get_json()
    theirs = client.post(f"/api/v1/children/{other_child.id}/timers", headers=token,
                         json={"kind": "sleep"}).get_json()
    error_of(client.get(url, headers=token), 404)
    error_of(client.post(url, headers=token, json={"kind": "tummy"}), 404)
    error_of(client.post(f"{url}/{timer['id']}/stop", headers=token, json={}), 404)
    # Their timer under our child's URL: 404, and it keeps running.
    error_of(client.post(f"{url}/{theirs['id']}/stop", headers=write, json={}), 404)
    error_of(client.post(f"{url}/{theirs['id']}/discard", headers=write), 404)
    error_of(client.post(f"{url}/{timer['id']}/stop", headers=viewer, json={}), 403,
             "forbidden")
    error_of(client.post(f"{url}/{timer['id']}/stop", headers=read, json={}), 403,
             "insufficient_scope")
    assert client.get(url, headers=viewer).status_code == 200
    assert set(session.scalars(select(Timer.status))) == {"running"}



# --- 409: what the diary calls a conflict ----------------------------------------------------

ALREADY_RUNNING = "A timer of this kind is already running."
ALREADY_STOPPED = "This timer was already stopped."


def test_conflicts_are_409_with_the_diarys_message(client, parent, write, session, clock_at):
    _, child = parent
    url = f"/api/v1/children/{child.id}/timers"
    sleep = client.post(url, headers=write, json={"kind": "sleep"}).get_json()
    assert error_of(client.post(url, headers=write, json={"kind": "sleep"}), 409,
                    "conflict")["message"] == ALREADY_RUNNING
    feed = client.post(url, headers=write, json={"kind": "feed", "side": "left"}).get_json()
    assert error_of(client.post(url, headers=write, json={"kind": "feed", "side": "right"}),
                    409, "conflict")["message"] == ALREADY_RUNNING
    assert client.post(f"{url}/{sleep['id']}/stop", headers=write, json={}).status_code == 200
    assert client.post(f"{url}/{feed['id']}/discard", headers=write).status_code == 204
    for path, body in (("stop", {}), ("stop", {"minutes": 5}), ("discard", None)):
        for timer in (sleep, feed):  # stopped, discarded
            got = client.post(f"{url}/{timer['id']}/{path}", headers=write, json=body)
            assert error_of(got, 409, "conflict") == {"code": "conflict",
                                                      "message": ALREADY_STOPPED}
    assert session.scalar(select(func.count(Entry.id))) == 1


def test_a_stopped_timer_is_409_not_422_however_late_the_second_stop_comes(
        client, parent, write, session, clock_at):
    """The second device's stop comes a day later (longer than a feed can be) or names
    minutes beyond the time run: still the conflict, not a complaint about the minutes."""
    _, child = parent
    url = f"/api/v1/children/{child.id}/timers"
    feed = client.post(url, headers=write, json={"kind": "feed", "side": "left"}).get_json()
    clock_at("2026-11-23T04:20")
    assert client.post(f"{url}/{feed['id']}/stop", headers=write, json={}).status_code == 200
    clock_at("2026-11-24T09:00")
    for body in ({}, {"minutes": 500}, {"minutes": 10}):
        got = client.post(f"{url}/{feed['id']}/stop", headers=write, json=body)
        assert error_of(got, 409, "conflict")["message"] == ALREADY_STOPPED, body
    assert session.scalar(select(Entry.data)) == {"method": "breast_left", "duration_min": 20}


def test_the_spec_documents_the_409s(client):
    paths = client.get("/api/v1/openapi.json").get_json()["paths"]
    base = "/api/v1/children/{child_id}/timers"
    for path in (base, base + "/{timer_id}/stop", base + "/{timer_id}/discard"):
        answer = paths[path]["post"]["responses"]["409"]
        assert answer["description"] == "conflict: That clashes with what is stored."
        assert answer["content"]["application/json"]["schema"] == {
            "$ref": "#/components/schemas/ErrorOut"}
    assert "409" not in paths[base]["get"]["responses"]


# --- inbox -------------------------------------------------------------------------------------

def test_the_inbox_pages_and_marks_read(client, parent, write, session):
    user, child = parent
    made = messages(session, user, child, 3)
    first = client.get("/api/v1/inbox?limit=2", headers=write).get_json()
    assert first["unread"] == 3
    assert [m["title"] for m in first["items"]] == ["Hello 2", "Hello 1"]
    assert first["items"][0] == {"id": made[2].id, "child_id": child.id,
                                 "created_at": "2026-11-20T02:00:00Z", "read": False,
                                 "item_kind": None, "item_key": None, "title": "Hello 2",
                                 "summary": "Message 2"}
    assert first["next_before"] == made[1].id
    rest = client.get(f"/api/v1/inbox?limit=2&before={first['next_before']}",
                      headers=write).get_json()
    assert [m["title"] for m in rest["items"]] == ["Hello 0"] and rest["next_before"] is None

    marked = client.post(f"/api/v1/inbox/{made[0].id}/read", headers=write)
    assert marked.status_code == 200 and marked.get_json() == {"unread": 2}
    assert client.get("/api/v1/inbox/unread", headers=write).get_json() == {"unread": 2}
    assert client.post("/api/v1/inbox/read-all", headers=write).get_json() == {"unread": 0}
    assert all(m["read"] for m in client.get("/api/v1/inbox", headers=write)
               .get_json()["items"])


def test_the_inbox_is_the_persons_own(client, parent, read, stranger, session):
    user, child = parent
    made = messages(session, user, child, 1)
    token, _ = stranger
    assert client.get("/api/v1/inbox", headers=token).get_json()["items"] == []
    error_of(client.post(f"/api/v1/inbox/{made[0].id}/read", headers=token), 404)
    error_of(client.post(f"/api/v1/inbox/{made[0].id}/read", headers=read), 403,
             "insufficient_scope")
    error_of(client.post("/api/v1/inbox/read-all", headers=read), 403, "insufficient_scope")
    session.expire_all()
    assert session.get(InboxMessage, made[0].id).read_at is None


@pytest.mark.parametrize("query", ["limit=0", "limit=101", "limit=x", "before=0",
                                   "before=99999999999"])
def test_bad_inbox_queries_are_422(client, parent, write, query):
    error_of(client.get(f"/api/v1/inbox?{query}", headers=write), 422, "validation_error")
