"""Timeline entries through the views: every kind, units, photos, edit, delete, timeline."""
from __future__ import annotations

import io
import re

import pytest
from PIL import Image
from sqlalchemy import event, func, select

from diary.models import Entry, Photo
from tests.web.helpers import entry_form, png_bytes


def _post_entry(client, child, kind, **fields):
    return client.post(f"/children/{child.id}/entries/new?kind={kind}",
                       data=entry_form(**fields), content_type="multipart/form-data")


@pytest.fixture()
def parent(make_family, login_as):
    user, child = make_family()
    login_as(user)
    return user, child


def test_note_is_saved_and_rendered_safely(client, parent, session):
    _, child = parent
    response = _post_entry(client, child, "note", title="First bath",
                           body="She **loved** it <script>alert(1)</script>")
    assert response.status_code == 302
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id))
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    assert "<strong>loved</strong>" in page
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert entry.author.email == parent[0].email


@pytest.mark.parametrize("kind, fields, expected", [
    ("feeding", {"method": "bottle_formula", "amount_ml": "120"},
     {"method": "bottle_formula", "amount_ml": 120}),
    ("sleep", {"sleep_hours": "1", "sleep_minutes": "45"}, {"duration_min": 105}),
    ("diaper", {"wet": "y"}, {"wet": True, "dirty": False}),
    ("temperature", {"temperature": "100.4", "temperature_unit": "f"}, {"celsius": 38.0}),
    ("medication", {"med_name": "Vitamin D", "med_dose": "400 IU"},
     {"name": "Vitamin D", "dose": "400 IU"}),
])
def test_quick_logs_store_clean_data(client, parent, session, kind, fields, expected):
    _, child = parent
    assert _post_entry(client, child, kind, **fields).status_code == 302
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id, Entry.kind == kind))
    assert entry.data == expected


@pytest.mark.parametrize("kind, fields, message", [
    ("feeding", {"method": "bottle_formula", "amount_ml": "5000"},
     "The amount in ml should be between 1 and 500."),
    ("sleep", {}, "Please enter the sleep duration in minutes."),
    ("diaper", {}, "Tick wet, dirty or both."),
    ("temperature", {"temperature": "52"}, "The temperature in °C should be between 30 and 45."),
    ("medication", {"med_dose": "5 ml"}, "Please enter the medicine&#39;s name."),
    ("measurement", {}, "Enter at least one of weight, length or head circumference."),
    ("measurement", {"weight": "95"}, "Weight should be between 0.3 and 40 kg."),
    ("milestone", {"body": "no title"}, "Please name the milestone"),
    ("photo", {"title": "no photo"}, "Please choose at least one photo."),
    ("note", {}, "Please write something in the note."),
])
def test_bad_entries_get_a_clear_message_and_nothing_saved(client, parent, session, kind,
                                                           fields, message):
    _, child = parent
    response = _post_entry(client, child, kind, **fields)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Entry.id))) == 0


def test_future_time_is_refused(client, parent):
    _, child = parent
    response = _post_entry(client, child, "note", body="later", hours_ago=-30)
    assert "cannot be in the future" in response.get_data(as_text=True)


def test_unknown_kind_is_404(client, parent):
    _, child = parent
    assert client.get(f"/children/{child.id}/entries/new?kind=nonsense").status_code == 404


def test_measurement_in_pounds_and_inches_is_stored_in_si(client, parent, session):
    _, child = parent
    response = _post_entry(client, child, "measurement", weight="12", weight_oz="4",
                           weight_unit="lb", length="24", length_unit="in", head="40")
    assert response.status_code == 302
    m = session.scalar(select(Entry).where(Entry.child_id == child.id)).measurement
    assert m.weight_kg == 5.557  # 12.25 lb × 0.45359237 = 5.5565 kg
    assert m.length_cm == 61.0  # 24 × 2.54 = 60.96
    assert m.head_cm == 40.0


def test_photo_upload_is_reencoded_without_exif_and_served_to_family(client, parent, session,
                                                                     app):
    _, child = parent
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (31.0, 14.0, 0.0)  # GPSInfo: a latitude
    exif[0x010F] = "PhoneMaker"
    jpeg = png_bytes((800, 600), fmt="JPEG", exif=exif.tobytes())
    assert b"PhoneMaker" in jpeg
    response = client.post(f"/children/{child.id}/entries/new?kind=photo",
                           data=entry_form(title="Park", photos=[(io.BytesIO(jpeg), "a.txt")]),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    photo = session.scalar(select(Photo))
    assert (photo.width, photo.height) == (800, 600)
    full = client.get(f"/photos/{photo.id}/full")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert full.headers["Cache-Control"] == "private, max-age=86400"
    image = Image.open(io.BytesIO(full.data))
    assert not image.getexif() and b"PhoneMaker" not in full.data
    thumb = Image.open(io.BytesIO(client.get(f"/photos/{photo.id}/thumb").data))
    assert max(thumb.size) <= 480


def test_non_image_upload_is_refused_whatever_its_name(client, parent, session):
    _, child = parent
    response = client.post(f"/children/{child.id}/entries/new?kind=photo",
                           data=entry_form(photos=[(io.BytesIO(b"%PDF-1.4 not an image"),
                                                    "photo.jpg")]),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    assert "This file is not a photo we can read" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Photo.id))) == 0


def test_gif_is_refused(client, parent):
    _, child = parent
    response = client.post(f"/children/{child.id}/entries/new?kind=photo",
                           data=entry_form(photos=[(io.BytesIO(png_bytes(fmt="GIF")), "x.gif")]),
                           content_type="multipart/form-data")
    assert "Please upload a JPEG, PNG, WebP or HEIC photo." in response.get_data(as_text=True)


def test_edit_and_delete_entry(client, parent, session, app):
    _, child = parent
    _post_entry(client, child, "photo", title="Two",
                photos=[(io.BytesIO(png_bytes()), "a.png"), (io.BytesIO(png_bytes()), "b.png")])
    entry = session.scalar(select(Entry))
    first, second = entry.photos
    first_key, second_key, second_id = first.storage_key, second.storage_key, second.id
    store = app.extensions["photo_store"]
    assert store.path(first_key).exists()
    response = client.post(f"/entries/{entry.id}/edit",
                           data=entry_form(title="Renamed", remove_photos=[str(first.id)]),
                           content_type="multipart/form-data")
    assert response.status_code == 302
    session.expire_all()
    assert entry.title == "Renamed" and [p.id for p in entry.photos] == [second_id]
    assert not store.path(first_key).exists()
    assert client.get(f"/entries/{entry.id}/delete").status_code == 200  # confirmation page
    assert client.post(f"/entries/{entry.id}/delete").status_code == 302
    assert session.scalar(select(func.count(Entry.id))) == 0
    assert not store.path(second_key).exists()


def test_removing_the_last_photo_of_a_photo_entry_is_refused(client, parent, session):
    _, child = parent
    _post_entry(client, child, "photo", photos=[(io.BytesIO(png_bytes()), "a.png")])
    entry = session.scalar(select(Entry))
    response = client.post(f"/entries/{entry.id}/edit",
                           data=entry_form(remove_photos=[str(entry.photos[0].id)]),
                           content_type="multipart/form-data")
    assert response.status_code == 400
    session.expire_all()
    assert len(entry.photos) == 1


def test_timeline_groups_by_month_filters_and_searches(client, parent, session):
    _, child = parent
    _post_entry(client, child, "note", title="Bath time", body="宝宝的睡眠和哭闹")
    _post_entry(client, child, "medication", med_name="Paracetamol")
    _post_entry(client, child, "diaper", dirty="y")
    page = client.get(f"/children/{child.id}/timeline").get_data(as_text=True)
    assert page.count('class="timeline-entry') == 3
    assert 'class="timeline-month' in page
    only = client.get(f"/children/{child.id}/timeline?kind=diaper").get_data(as_text=True)
    assert only.count('class="timeline-entry') == 1
    for query, hits in (("睡眠", 1), ("paracet", 1), ("bath", 1), ("哭闹 宝宝", 1),
                        ("nothing", 0)):
        html = client.get(f"/children/{child.id}/timeline", query_string={"q": query}) \
            .get_data(as_text=True)
        assert html.count('class="timeline-entry') == hits, query


def test_timeline_pagination_has_no_gaps_or_repeats(client, parent, session, app):
    _, child = parent
    app.config["TIMELINE_PAGE_SIZE"] = 4
    for i in range(10):
        _post_entry(client, child, "note", title=f"note {i:02d}", hours_ago=i + 1)
    seen, url = [], f"/children/{child.id}/timeline"
    while url:
        html = client.get(url, headers={"HX-Request": "true"}).get_data(as_text=True)
        seen += re.findall(r"note (\d\d)", html)
        more = re.search(r'hx-get="([^"]+)"', html)
        url = more.group(1).replace("&amp;", "&") if more else None
    assert seen == [f"{i:02d}" for i in range(10)]


def test_broken_cursor_redirects_with_message(client, parent, make_family, login_as):
    _, child = parent
    response = client.get(f"/children/{child.id}/timeline?before=garbage")
    assert response.status_code == 302
    assert response.headers["Location"] == f"/children/{child.id}/timeline"
    stranger, _ = make_family()  # another family learns nothing, broken cursor or not
    login_as(stranger)
    for query in ("?before=garbage", "", "?kind=note", "?q=note"):
        assert client.get(f"/children/{child.id}/timeline{query}").status_code == 404


def test_a_timeline_page_is_the_sign_ins_read_and_one_more(client, parent, session):
    """The child, the viewer's membership, the child's family, the page of entries and the
    header's badge come in one statement (db.one_trip_with_entities) beside the session's
    user: the family rides along on the child, never asked for again."""
    _, child = parent
    for i in range(3):
        _post_entry(client, child, "note", title=f"note {i}", hours_ago=i + 1)
    timeline = f"/children/{child.id}/timeline"
    client.get(timeline)  # warm: the cards are kept
    sent: list[str] = []
    record = lambda _c, _cur, statement, *_a: sent.append(statement)  # noqa: E731
    event.listen(session.get_bind(), "before_cursor_execute", record)
    try:
        page = client.get(timeline).get_data(as_text=True)
    finally:
        event.remove(session.get_bind(), "before_cursor_execute", record)
    assert all(f"note {i}" in page for i in range(3))
    assert len([st for st in sent if st.lstrip().upper().startswith("SELECT")]) == 2


def test_timeline_cards_follow_edits_and_author_renames(client, parent, session):
    user, child = parent
    _post_entry(client, child, "note", title="Before", body="text")
    entry = session.scalar(select(Entry))
    timeline = f"/children/{child.id}/timeline"
    assert "Before" in client.get(timeline).get_data(as_text=True)
    client.post(f"/entries/{entry.id}/edit", data=entry_form(title="After", body="text"))
    page = client.get(timeline).get_data(as_text=True)
    assert "After" in page and "Before" not in page
    client.post("/account/profile", data={"display_name": "Renamed Parent",
                                          "timezone": "Asia/Shanghai", "locale": "en",
                                          "unit_system": "metric"})
    assert "by Renamed Parent" in client.get(timeline).get_data(as_text=True)
