"""The penetration test's findings, one by one: bad input gets a clear answer, never a 500.

Each test names the request the tester sent. The app here does NOT propagate unexpected
errors (as in production), so a crash is seen as the 500 page it would be.
"""
from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from content.models import ContentItem
from diary.models import Child, Entry, User
from tests.conftest import local_today
from tests.web.helpers import entry_form
from tests.web.test_studio import article_form, make_item, make_staff

NOT_A_NUMBER = ("sNaN", "NaN", "-sNaN", "Infinity", "-inf", "1e999", "1E+999999999")
NUMBER_MESSAGE = "Please enter a number, such as 3.5."
DATE_MESSAGE = "Please enter a date between 1900-01-01 and 2200-12-31."


@pytest.fixture()
def app_overrides():
    return {"PROPAGATE_UNEXPECTED": False}


def _count(session, model) -> int:
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def _text(response) -> str:
    return response.get_data(as_text=True)


def _register_form(**fields):
    data = {"display_name": "Lin", "email": "lin@example.com", "password": "a-long-password",
            "confirm": "a-long-password", "timezone": "Asia/Shanghai", "locale": "en",
            "relationship": "mother", "child_name": "Doudou", "status": "born",
            "birth_date": (local_today() - timedelta(days=30)).isoformat(), "sex": "female",
            "birth_weight_unit": "kg", "birth_length_unit": "cm", "birth_head_unit": "cm",
            "child_data_consent": "y"}
    data.update(fields)
    return data


def _post_entry(client, child, kind, **fields):
    return client.post(f"/children/{child.id}/entries/new?kind={kind}",
                       data=entry_form(**fields), content_type="multipart/form-data")


@pytest.fixture()
def parent(make_family, login_as):
    user, child = make_family()
    login_as(user)
    return user, child


# --- numbers -------------------------------------------------------------------------------

@pytest.mark.parametrize("value", NOT_A_NUMBER)
@pytest.mark.parametrize("field", ["birth_weight", "birth_weight_oz", "birth_length",
                                   "birth_head"])
def test_register_refuses_non_finite_numbers(client, session, field, value):
    """/register, signed out: sNaN used to crash the number check (500)."""
    fields = {field: value}
    if field == "birth_weight_oz":
        fields.update(birth_weight="7", birth_weight_unit="lb")
    response = client.post("/register", data=_register_form(**fields))
    assert response.status_code == 200
    assert NUMBER_MESSAGE in _text(response)
    assert _count(session, User) == 0 and _count(session, Child) == 0


@pytest.mark.parametrize("value", NOT_A_NUMBER)
@pytest.mark.parametrize("field", ["weight", "length", "head"])
def test_measurements_refuse_non_finite_numbers(client, parent, session, field, value):
    response = _post_entry(client, parent[1], "measurement", **{field: value})
    assert response.status_code == 400
    assert NUMBER_MESSAGE in _text(response)
    assert _count(session, Entry) == 0


@pytest.mark.parametrize("value", NOT_A_NUMBER)
def test_temperature_refuses_non_finite_numbers(client, parent, session, value):
    response = _post_entry(client, parent[1], "temperature", temperature=value)
    assert response.status_code == 400
    assert NUMBER_MESSAGE in _text(response)
    assert _count(session, Entry) == 0


def test_valid_decimals_still_work(client, parent, session):
    response = _post_entry(client, parent[1], "measurement", weight="6.25", length="61,5")
    assert response.status_code == 400  # a comma is not a decimal point: as before
    assert "Not a valid decimal value." in _text(response)
    response = _post_entry(client, parent[1], "measurement", weight="6.25", length="61.5")
    assert response.status_code == 302
    entry = session.scalar(select(Entry))
    assert (entry.measurement.weight_kg, entry.measurement.length_cm) == (6.25, 61.5)


@pytest.mark.parametrize("value", NOT_A_NUMBER)
def test_adding_a_baby_refuses_non_finite_numbers(client, parent, session, value):
    before = _count(session, Child)
    response = client.post("/children/new", data={
        "child_name": "Second", "status": "born", "sex": "male",
        "birth_date": (local_today() - timedelta(days=3)).isoformat(), "birth_length": value,
        "birth_weight_unit": "kg", "birth_length_unit": "cm", "birth_head_unit": "cm"})
    assert response.status_code == 400
    assert NUMBER_MESSAGE in _text(response)
    assert _count(session, Child) == before


@pytest.mark.parametrize("value", ["sNaN", "NaN", "Infinity", "-1", "1e999"])
def test_studio_price_refuses_non_finite_numbers(client, session, login_as, value):
    login_as(make_staff(session, "marketer"))
    response = client.post("/studio/new/product", data={
        "key": "BJ-BATH-001", "title_en": "Wash", "title_zh_CN": "沐浴露",
        "window_unit": "week", "window_from": "0", "window_to": "12", "category": "bath",
        "price": value, "currency": "CNY"})
    assert response.status_code == 400
    assert "Enter the price as a number, such as 59.00." in _text(response)
    assert _count(session, ContentItem) == 0


# --- dates ---------------------------------------------------------------------------------

@pytest.mark.parametrize("day, time", [("0001-01-01", "00:00"), ("0001-01-01", "12:00"),
                                       ("1899-12-31", "23:59")])
def test_entries_dated_in_year_one_are_refused(client, parent, session, day, time):
    """Year 1 at midnight in Shanghai overflowed when converted to UTC (500); at noon it
    was stored."""
    response = _post_entry(client, parent[1], "note", body="long ago",
                           occurred_date=day, occurred_time=time)
    assert response.status_code == 400
    assert DATE_MESSAGE in _text(response)
    assert _count(session, Entry) == 0


def test_entries_in_year_9999_are_refused_west_of_greenwich(client, session, make_family,
                                                            login_as):
    user, child = make_family(tz="America/Los_Angeles")
    login_as(user)
    response = _post_entry(client, child, "note", tz="America/Los_Angeles", body="far",
                           occurred_date="9999-12-31", occurred_time="23:59")
    assert response.status_code == 400
    assert DATE_MESSAGE in _text(response)
    assert _count(session, Entry) == 0


def test_editing_an_entry_to_year_one_is_refused(client, parent, session):
    assert _post_entry(client, parent[1], "note", body="today").status_code == 302
    entry = session.scalar(select(Entry))
    response = client.post(f"/entries/{entry.id}/edit", data=entry_form(
        body="moved", occurred_date="0001-01-01", occurred_time="00:00"),
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert DATE_MESSAGE in _text(response)
    session.expire_all()
    assert session.get(Entry, entry.id).body == "today"


@pytest.mark.parametrize("when", ["0001-01-01T00:00", "1899-12-31T23:00",
                                  "9999-12-31T23:59"])
def test_studio_schedule_refuses_absurd_dates(client, session, login_as, when):
    reviewer = make_staff(session, "reviewer")
    item = make_item(session, publish=False)
    login_as(reviewer)
    response = client.post(f"/studio/{item.id}/workflow/schedule", follow_redirects=True,
                           data={"publish_at": when, "version": str(item.version)})
    assert response.status_code == 200
    assert DATE_MESSAGE in _text(response)
    session.expire_all()
    assert session.get(ContentItem, item.id).status == "draft"


@pytest.mark.parametrize("field, value", [("publish_at", "0001-01-01T00:00"),
                                          ("publish_at", "9999-12-31T23:59"),
                                          ("review_date", "0001-01-01")])
def test_studio_editor_refuses_absurd_dates(client, session, login_as, field, value):
    login_as(make_staff(session, "marketer"))
    response = client.post("/studio/new/article", data=article_form(**{field: value}))
    assert response.status_code == 400
    assert DATE_MESSAGE in _text(response)
    assert _count(session, ContentItem) == 0


@pytest.mark.parametrize("args", [{"on": "0001-01-01", "birth_date": "0001-01-01"},
                                  {"on": "9999-12-31", "due_date": "9999-12-31"},
                                  {"on": "0001-01-01", "due_date": "2026-01-01"}])
def test_preview_as_family_with_absurd_dates(client, session, login_as, args):
    login_as(make_staff(session, "marketer"))
    response = client.get("/studio/preview-as-family", query_string=args)
    assert response.status_code == 200
    assert DATE_MESSAGE in _text(response)


@pytest.mark.parametrize("fields", [{"status": "born", "birth_date": "0001-01-01"},
                                    {"status": "expecting", "due_date": "0001-01-01"},
                                    {"status": "expecting", "due_date": "9999-12-31"}])
def test_register_refuses_absurd_birth_and_due_dates(client, session, fields):
    response = client.post("/register", data=_register_form(**fields))
    assert response.status_code == 200
    assert 'class="invalid-feedback' in _text(response)
    assert _count(session, User) == 0


# --- query parameters and ids --------------------------------------------------------------

@pytest.mark.parametrize("before", ["1_99999999999999999999999", "99999999999999999999999_1",
                                    "-99999999999999999999_1", "1_-5", "1_0", "1_1e3",
                                    "9" * 5000 + "_1", "1_" + "9" * 5000])
def test_timeline_cursor_out_of_range_is_a_broken_link(client, parent, before):
    response = client.get(f"/children/{parent[1].id}/timeline", query_string={"before": before})
    assert response.status_code == 302
    assert response.headers["Location"] == f"/children/{parent[1].id}/timeline"
    page = _text(client.get(response.headers["Location"]))
    assert "That page link is broken; start again from the top." in page


@pytest.mark.parametrize("before", ["99999999999999999999999", "-99999999999999999999",
                                    "2147483648", "-1"])
def test_inbox_cursor_out_of_range_is_ignored(client, parent, session, before):
    response = client.get("/inbox", query_string={"before": before})
    assert response.status_code == 200


@pytest.mark.parametrize("path", ["/children/99999999999999999999999",
                                  "/children/2147483648/timeline", "/entries/9223372036854775808",
                                  "/entries/99999999999999999999/edit",
                                  "/photos/99999999999999999999/full"])
def test_huge_ids_in_the_path_are_404(client, parent, path):
    assert client.get(path).status_code == 404


def test_the_largest_id_still_matches_a_route(client, parent):
    assert client.get("/children/2147483647").status_code == 404  # not there, but routed
    assert client.get(f"/children/{parent[1].id}").status_code == 200


@pytest.mark.parametrize("path, args", [
    ("/search", {"q": "bath\x00"}), ("/library/stage/week:3\x00", {}),
    ("/articles/a\x00b", {}), ("/studio", {"q": "x\x00"}),
    ("/inbox", {"before\x00": "1"})])
def test_nul_bytes_are_refused_with_a_reason(client, parent, path, args):
    response = client.get(path, query_string=args)
    assert response.status_code == 400
    assert "The request contains a character that is not allowed (a NUL byte)." in \
        _text(response)


def test_nul_bytes_in_a_form_are_refused_before_anything_is_written(client, parent, session):
    response = _post_entry(client, parent[1], "note", body="a\x00b")
    assert response.status_code == 400
    assert _count(session, Entry) == 0


# --- entry kinds ---------------------------------------------------------------------------

@pytest.mark.parametrize("kind, fields", [
    ("bump", {}), ("scan", {"body": "20 week scan"}), ("kicks", {"kick_count": "10"}),
    ("feeling", {"mood": "4"})])
def test_pregnancy_kinds_are_refused_for_a_born_baby(client, parent, session, kind, fields):
    response = _post_entry(client, parent[1], kind, **fields)
    assert response.status_code == 400
    assert "This kind of entry is for the pregnancy; the baby is already born." in \
        _text(response)
    assert _count(session, Entry) == 0


@pytest.mark.parametrize("kind, fields", [
    ("feeding", {"method": "bottle_formula", "amount_ml": "120"}),
    ("sleep", {"sleep_hours": "1"}), ("diaper", {"wet": "y"}),
    ("temperature", {"temperature": "37"}), ("medication", {"med_name": "Vitamin D"}),
    ("measurement", {"weight": "3.5"}), ("milestone", {"title": "First smile"})])
def test_baby_kinds_are_refused_before_the_baby_is_born(client, session, make_family,
                                                         login_as, kind, fields):
    user, child = make_family(born=False)
    login_as(user)
    response = _post_entry(client, child, kind, **fields)
    assert response.status_code == 400
    assert "This kind of entry starts once the baby is born." in _text(response)
    assert _count(session, Entry) == 0


def test_kinds_that_fit_still_work(client, parent, session, make_family, login_as):
    assert _post_entry(client, parent[1], "feeding", method="bottle_formula",
                       amount_ml="120").status_code == 302
    user, child = make_family(born=False)
    login_as(user)
    assert _post_entry(client, child, "kicks", kick_count="10").status_code == 302
    assert _post_entry(client, child, "note", body="hello").status_code == 302
    assert _count(session, Entry) == 3


def test_messages_are_translated(client, parent):
    client.post("/language", data={"lang": "zh_CN"})
    response = _post_entry(client, parent[1], "bump")
    assert response.status_code == 400
    page = _text(response)
    assert "This kind of entry is for the pregnancy" not in page
    response = _post_entry(client, parent[1], "measurement", weight="sNaN")
    assert NUMBER_MESSAGE not in _text(response)


# --- found by tests/web/test_hostile_input.py ----------------------------------------------

@pytest.mark.parametrize("stage", ["month:" + "9" * 5000, "week:99999999999999999999999",
                                   "month:٣", "week:+3", "week: 3"])
def test_stage_keys_with_odd_numbers_are_no_stage(client, parent, session, login_as, stage):
    """int() refuses more than 4300 digits (a 500 before) and takes "٣"; a stage is a few
    ASCII digits."""
    assert client.get(f"/library/stage/{stage}").status_code == 404
    response = client.get("/products", query_string={"stage": stage})
    assert response.status_code == 200
    login_as(make_staff(session, "marketer"))
    response = client.get("/studio/preview-as-family", query_string={"stage": stage})
    assert response.status_code == 200


def test_stage_keys_still_parse():
    from content.stages import Stage
    assert Stage.parse("week:3") == Stage("week", 3)
    assert Stage.parse("pregnancy_week:12") == Stage("pregnancy_week", 12)
    assert Stage.parse("month:61") is None and Stage.parse("month:٣") is None


@pytest.mark.parametrize("key", ["b" * 5000, "٣" * 32, "ab"])
def test_image_keys_that_name_no_file_are_404(client, session, login_as, key):
    """A 5000-letter key made the file system refuse the name (OSError, a 500)."""
    login_as(make_staff(session, "marketer"))
    assert client.get(f"/studio/images/{key}/full").status_code == 404
    assert client.get(f"/content-images/{key}/thumb").status_code == 404


@pytest.mark.parametrize("args", [{"since": "0001-01-01"}, {"until": "9999-12-31"},
                                  {"since": "1899-12-31", "until": "2026-01-01"}])
def test_access_log_dates_out_of_range_are_a_message(client, session, login_as, args):
    """The staff access log turned its dates into UTC instants: year 1 overflowed (500)."""
    login_as(make_staff(session, "admin"))
    response = client.get("/studio/audit", query_string=args)
    assert response.status_code == 400
    assert DATE_MESSAGE in _text(response)
    assert client.get("/studio/audit/export.csv", query_string=args).status_code == 400
    assert client.get("/studio/audit", query_string={"since": "2026-01-01"}).status_code == 200

