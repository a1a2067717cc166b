"""Entry kinds come from one registry (diary.entry_kinds.KINDS) and behave as before.

The inputs, pre-filled values, error placement and menus of every kind are pinned here
(recorded before the kinds moved into the registry); the last test adds a kind with one
registry entry and follows it through the pages.
"""
from __future__ import annotations

import io
import re
from datetime import timedelta

import pytest

from diary import entry_kinds, families
from diary.age import local_today
from diary.errors import N_
from tests.web.helpers import entry_form, png_bytes

#: The inputs each kind's form shows, in order (date, time and unit pickers left out).
INPUTS = {
    "note": ["title", "body"],
    "photo": ["photos", "title", "body"],
    "milestone": ["title", "body", "photos"],
    "measurement": ["weight", "weight_oz", "length", "head", "body"],
    "feeding": ["method", "amount_ml", "duration_min", "body"],
    "sleep": ["sleep_hours", "sleep_minutes", "body"],
    "diaper": ["wet", "dirty", "body"],
    "temperature": ["temperature", "body"],
    "medication": ["med_name", "med_dose", "body"],
    "bump": ["photos", "title", "body"],
    "scan": ["scan_week", "photos", "title", "body"],
    "kicks": ["kick_count", "kick_minutes", "body"],
    "feeling": ["mood", "body"],
}
SKIPPED = {"csrf_token", "occurred_date", "occurred_time", "weight_unit", "length_unit",
           "head_unit", "temperature_unit"}


def inputs_of(page: str) -> list[str]:
    form = page[page.index('enctype="multipart/form-data"'):]
    names = []
    for name in re.findall(r'<(?:input|select|textarea)[^>]*\bname="([^"]+)"', form):
        if name not in SKIPPED and name not in names:
            names.append(name)
    return names


def invalid_inputs(page: str) -> list[str]:
    return _unique(re.findall(r'<(?:input|select|textarea)[^>]*class="[^"]*is-invalid[^"]*"[^>]*'
                      r'\bname="([^"]+)"', page))


def _unique(names: list[str]) -> list[str]:
    return list(dict.fromkeys(names))


def post(client, child, kind, **fields):
    return client.post(f"/children/{child.id}/entries/new?kind={kind}",
                       data=entry_form(**fields), content_type="multipart/form-data")


@pytest.fixture()
def family(make_family, login_as, session):
    """One parent (signed in) with a born baby and a baby on the way."""
    user, baby = make_family()
    expecting = families.add_child(session, baby.family, families.ChildDetails(
        name="Bean", due_date=local_today(baby.family.timezone) + timedelta(days=140)))
    session.commit()
    login_as(user)
    return baby, expecting


@pytest.fixture()
def baby(family):
    return family[0]


@pytest.fixture()
def expecting(family):
    return family[1]


def test_every_kind_shows_its_inputs_in_order(client, baby, expecting):
    for kind, expected in INPUTS.items():
        child = expecting if kind in ("bump", "scan", "kicks", "feeling") else baby
        page = client.get(f"/children/{child.id}/entries/new?kind={kind}")
        assert page.status_code == 200, kind
        assert inputs_of(page.get_data(as_text=True)) == expected, kind
    assert client.get(f"/children/{baby.id}/entries/new?kind=nope").status_code == 404


@pytest.mark.parametrize("child_name, kind, fields, invalid, message", [
    ("baby", "sleep", {}, ["sleep_hours"], "Please enter the sleep duration in minutes."),
    ("baby", "feeding", {"method": "solids", "duration_min": "999"}, ["duration_min"],
     "The duration in minutes should be between 1 and 180."),
    ("baby", "temperature", {"temperature": "52"}, ["temperature"],
     "The temperature in °C should be between 30 and 45."),
    ("baby", "medication", {"med_dose": "5 ml"}, ["med_name"], "the medicine&#39;s name"),
    ("baby", "measurement", {"head": "90"}, ["head"],
     "Head circumference should be between 18 and 60 cm."),
    ("baby", "diaper", {}, ["wet"], "Tick wet, dirty or both."),
    ("expecting", "kicks", {"kick_count": "10", "kick_minutes": "900"}, ["kick_minutes"],
     "The minutes counted should be between 1 and 600."),
    ("expecting", "kicks", {}, ["kick_count"], "Please enter the number of kicks."),
    ("expecting", "scan", {"body": "ok", "scan_week": "50"}, ["scan_week"],
     "The pregnancy week should be between 4 and 42."),
    ("expecting", "feeling", {}, ["mood"], "Please enter the mood."),
    ("baby", "note", {"photos": "png", "body": "x"}, [],
     "This kind of entry cannot hold photos."),
])
def test_a_refused_entry_marks_the_input_it_is_about(client, baby, expecting, child_name, kind,
                                                      fields, invalid, message):
    if fields.get("photos") == "png":
        fields = {**fields, "photos": [(io.BytesIO(png_bytes()), "a.png")]}
    response = post(client, baby if child_name == "baby" else expecting, kind, **fields)
    page = response.get_data(as_text=True)
    assert response.status_code == 400
    assert message in page
    assert invalid_inputs(page) == invalid


def test_the_edit_form_shows_what_was_saved(client, baby, session):
    saved = {"feeding": {"method": "bottle_formula", "amount_ml": "120", "duration_min": "15"},
             "sleep": {"sleep_hours": "1", "sleep_minutes": "45"},
             "diaper": {"wet": "y"},
             "temperature": {"temperature": "37.5"},
             "medication": {"med_name": "Vitamin D", "med_dose": "400 IU"},
             "measurement": {"weight": "5.2", "length": "58"}}
    for kind, fields in saved.items():
        response = post(client, baby, kind, **fields)
        assert response.status_code == 302, kind
        edit = client.get(response.headers["Location"] + "/edit").get_data(as_text=True)
        for name, value in fields.items():
            if value == "y":
                assert re.search(rf'<input checked[^>]*name="{name}"', edit), (kind, name)
            elif name == "method":
                assert f'<option selected value="{value}">' in edit, kind
            else:
                shown = re.search(rf'name="{name}"[^>]*value="([^"]*)"', edit)
                assert shown, (kind, name)
                assert shown.group(1) == value or float(shown.group(1)) == float(value), \
                    (kind, name, shown.group(1))


def test_the_feeling_and_kicks_edit_forms_show_what_was_saved(client, expecting):
    response = post(client, expecting, "feeling", mood="4")
    edit = client.get(response.headers["Location"] + "/edit").get_data(as_text=True)
    assert re.search(r'<input checked[^>]*name="mood"[^>]*value="4"', edit)
    response = post(client, expecting, "kicks", kick_count="12", kick_minutes="30")
    edit = client.get(response.headers["Location"] + "/edit").get_data(as_text=True)
    assert re.search(r'name="kick_count"[^>]*value="12"', edit)
    assert re.search(r'name="kick_minutes"[^>]*value="30"', edit)


def _quick_add(page: str) -> list[str]:
    bar = page[page.index('class="quick-add"'):page.index("<details")]
    return re.findall(r"kind=(\w+)", bar)


def _more(page: str) -> list[str]:
    more = page[page.index("<details"):page.index("</details>")]
    return re.findall(r"kind=(\w+)", more)


def test_each_child_is_offered_the_kinds_that_fit_in_the_same_order(client, baby, expecting):
    page = client.get(f"/children/{baby.id}").get_data(as_text=True)
    assert _quick_add(page) == ["photo", "feeding", "sleep", "diaper", "measurement",
                                "milestone", "note"]
    assert _more(page) == ["tummy_time", "temperature", "medication"]
    page = client.get(f"/children/{expecting.id}").get_data(as_text=True)
    assert _quick_add(page) == ["bump", "scan", "kicks", "feeling", "note"]
    assert _more(page) == ["photo"]
    chips = re.findall(r'id="kind-(\w+)"',
                       client.get(f"/children/{baby.id}/timeline").get_data(as_text=True))
    assert chips == ["photo", "note", "milestone", "measurement", "feeding", "sleep",
                     "diaper", "tummy_time", "temperature", "medication"]
    chips = re.findall(r'id="kind-(\w+)"',
                       client.get(f"/children/{expecting.id}/timeline").get_data(as_text=True))
    # the pregnancy's own kinds, then the shared ones (photo before note, as for a baby)
    assert chips == ["bump", "scan", "kicks", "feeling", "photo", "note"]


def test_the_registry_is_complete_and_fits_the_column(app):
    from webapp.blueprints.diary.forms import CONVERTED_INPUTS, DATA_INPUTS, EntryForm

    with app.test_request_context():
        form = EntryForm(meta={"csrf": False})
    for kind in entry_kinds.KINDS.values():
        assert len(kind.name) <= 16 and kind.stage in ("pregnancy", "baby", "both")
        assert kind.label and kind.icon
        for name in kind.fields:
            assert name in form, (kind.name, name)
            assert name in ("title", "body", "photos") or name in DATA_INPUTS \
                or name in CONVERTED_INPUTS, (kind.name, name)
    assert entry_kinds.holds_photos("scan") and not entry_kinds.holds_photos("note")
    assert not entry_kinds.holds_photos("nope")


def test_a_new_kind_is_one_entry_in_the_registry(client, baby, expecting, session,
                                                 monkeypatch):
    """A "bath" kind, declared once: offered, shown, saved, validated, labelled, refused
    before the birth, listed on the timeline."""
    def validate(entry):
        if not entry.title.strip():
            from diary.errors import ValidationError
            raise ValidationError(N_("Please name the milestone (for example “First smile”)."),
                                  "title")
        return {}

    monkeypatch.setitem(entry_kinds.KINDS, "bath", entry_kinds.Kind(
        "bath", N_("Sleep"), "🛁", "baby", ("title", "body"), validate, quick_add={"baby": 8}))
    page = client.get(f"/children/{baby.id}").get_data(as_text=True)
    assert _quick_add(page)[-1] == "bath" and "🛁" in page
    form = client.get(f"/children/{baby.id}/entries/new?kind=bath")
    assert inputs_of(form.get_data(as_text=True)) == ["title", "body"]
    refused = post(client, baby, "bath", body="no title")
    assert refused.status_code == 400 and invalid_inputs(refused.get_data(as_text=True)) == \
        ["title"]
    saved = post(client, baby, "bath", title="First bath")
    assert saved.status_code == 302
    timeline = client.get(f"/children/{baby.id}/timeline?kind=bath").get_data(as_text=True)
    assert "First bath" in timeline and 'id="kind-bath"' in timeline
    assert "bath" not in _quick_add(client.get(f"/children/{expecting.id}")
                                    .get_data(as_text=True))
    before_birth = post(client, expecting, "bath", title="Too early")
    assert before_birth.status_code == 400
    assert "This kind of entry starts once the baby is born." in \
        before_birth.get_data(as_text=True)
