"""Photos over /api/v1: uploads go through diary.photos (re-encoded, metadata stripped, size
and type checked) and only the family gets the bytes back."""
from __future__ import annotations

import io

import pytest
from api_helpers import bearer, make_token
from PIL import Image
from sqlalchemy import func, select

from diary.models import Entry, Photo
from tests.web.helpers import png_bytes

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


@pytest.fixture()
def parent(session, make_family):
    user, child = make_family()
    return child, bearer(make_token(session, user))


def _jpeg_with_exif() -> bytes:
    exif = Image.Exif()
    exif.get_ifd(0x8825)[2] = (31.0, 14.0, 0.0)  # GPSInfo: a latitude
    exif[0x010F] = "PhoneMaker"
    return png_bytes((800, 600), fmt="JPEG", exif=exif.tobytes())


def _upload(client, url, headers, *files, **query):
    return client.post(url, headers=headers, query_string=query,
                       data={"file": [(io.BytesIO(data), name) for data, name in files]},
                       content_type="multipart/form-data")


def test_a_photo_entry_is_made_reencoded_and_served_without_metadata(client, session, app,
                                                                     parent):
    child, headers = parent
    jpeg = _jpeg_with_exif()
    assert b"PhoneMaker" in jpeg
    response = _upload(client, f"/api/v1/children/{child.id}/photos", headers,
                       (jpeg, "a.txt"), title="Park",
                       occurred_at="2026-11-22T10:00:00+08:00")
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["kind"], body["title"], body["occurred_at"]) == (
        "photo", "Park", "2026-11-22T02:00:00Z")
    [photo] = body["photos"]
    assert (photo["width"], photo["height"]) == (800, 600)
    assert photo["url"] == f"/api/v1/photos/{photo['id']}"
    full = client.get(photo["url"], headers=headers)
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert full.headers["Cache-Control"] == "private, max-age=86400"
    assert not Image.open(io.BytesIO(full.data)).getexif() and b"PhoneMaker" not in full.data
    thumb = client.get(photo["thumb_url"], headers=headers)
    assert max(Image.open(io.BytesIO(thumb.data)).size) <= 480
    assert client.get(photo["url"] + "?size=huge", headers=headers).status_code == 422
    assert client.get(photo["url"]).status_code == 401


def test_photos_are_added_to_an_entry_that_holds_photos(client, parent):
    child, headers = parent
    note = client.post(f"/api/v1/children/{child.id}/entries", headers=headers, json={
        "kind": "milestone", "occurred_at": "2026-11-22T10:00:00Z",
        "title": "First bath"}).get_json()
    response = _upload(client, f"/api/v1/entries/{note['id']}/photos",
                       {**headers, "If-Match": note["etag"]}, (png_bytes(), "a.png"),
                       (png_bytes(color=(1, 2, 3)), "b.png"))
    assert response.status_code == 201
    assert len(response.get_json()["photos"]) == 2
    assert response.headers["ETag"] != note["etag"]
    stale = _upload(client, f"/api/v1/entries/{note['id']}/photos",
                    {**headers, "If-Match": note["etag"]}, (png_bytes(), "c.png"))
    assert stale.status_code == 412


@pytest.mark.parametrize(("files", "field_or_message"), [
    ([(b"%PDF-1.4 not an image", "photo.jpg")], "not a photo"),
    ([(b"", "empty.jpg")], ""),
    ([], "file"),
    ([(png_bytes(), "p.png")] * 11, "at most 10 photos"),
])
def test_bad_uploads_are_422_and_leave_no_rows_or_files(client, session, app, parent, files,
                                                         field_or_message):
    child, headers = parent
    response = _upload(client, f"/api/v1/children/{child.id}/photos", headers, *files)
    assert response.status_code == 422, response.get_json()
    error = response.get_json()["error"]
    assert error["code"] == "validation_error"
    assert field_or_message in error["message"] + " ".join(error.get("fields") or {})
    assert session.scalar(select(func.count()).select_from(Entry)) == 0
    assert session.scalar(select(func.count()).select_from(Photo)) == 0
    uploads = app.config["UPLOAD_DIR"]
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_a_notes_photos_need_room_and_a_kind_that_holds_them(client, parent):
    child, headers = parent
    sleep = client.post(f"/api/v1/children/{child.id}/entries", headers=headers, json={
        "kind": "sleep", "occurred_at": "2026-11-22T10:00:00Z",
        "data": {"duration_min": 30}}).get_json()
    response = _upload(client, f"/api/v1/entries/{sleep['id']}/photos", headers,
                       (png_bytes(), "a.png"))
    assert response.status_code == 422
    assert response.get_json()["error"]["message"] == "This kind of entry cannot hold photos."


class TestTooLarge:
    @pytest.fixture()
    def app_overrides(self):
        return {"MAX_CONTENT_LENGTH": 1024}

    def test_a_body_over_the_limit_is_413_in_the_error_shape(self, client, parent):
        child, headers = parent
        response = _upload(client, f"/api/v1/children/{child.id}/photos", headers,
                           (png_bytes((400, 400)) + b"x" * 2048, "big.png"))
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "payload_too_large"


# --- the entry's fields as form fields beside the files ----------------------------------------

def _upload_with_fields(client, url, headers, fields, **query):
    return client.post(url, headers=headers, query_string=query,
                       data={"file": [(io.BytesIO(png_bytes()), "a.png")], **fields},
                       content_type="multipart/form-data")


def test_title_and_time_go_as_form_fields(client, session, parent):
    child, headers = parent
    response = _upload_with_fields(client, f"/api/v1/children/{child.id}/photos", headers,
                                   {"title": "Beach", "occurred_at": "2026-11-21T09:00:00+08:00"})
    assert response.status_code == 201, response.get_json()
    body = response.get_json()
    assert (body["title"], body["occurred_at"]) == ("Beach", "2026-11-21T01:00:00Z")
    assert session.scalar(select(Entry.title)) == "Beach"


def test_a_form_field_wins_over_the_query_string_which_still_counts(client, parent):
    child, headers = parent
    url = f"/api/v1/children/{child.id}/photos"
    both = _upload_with_fields(client, url, headers, {"title": "From the form"},
                               title="From the query", occurred_at="2026-11-20T08:00:00Z")
    assert both.status_code == 201, both.get_json()
    assert (both.get_json()["title"], both.get_json()["occurred_at"]) == (
        "From the form", "2026-11-20T08:00:00Z")
    form_time = _upload_with_fields(client, url, headers,
                                    {"occurred_at": "2026-11-19T08:00:00Z"},
                                    occurred_at="2026-11-20T08:00:00Z", title="Q")
    assert (form_time.get_json()["title"], form_time.get_json()["occurred_at"]) == (
        "Q", "2026-11-19T08:00:00Z")
    # Without either: no title, now.
    bare = _upload_with_fields(client, url, headers, {}).get_json()
    assert bare["title"] == "" and bare["occurred_at"].startswith("2026-11-23T04:00:")


HOSTILE_FIELDS = [
    ("title", "x" * 121),
    ("occurred_at", "yesterday"),
    ("occurred_at", "2026-11-22T10:00:00"),  # no zone
    ("occurred_at", "2026-02-30T10:00:00Z"),
    ("occurred_at", "9999-12-31T23:59:59+00:00"),
    ("occurred_at", "0001-01-01T00:00:00+14:00"),
    ("occurred_at", "1899-12-31T23:59:59Z"),
    ("occurred_at", "2201-01-01T00:00:00Z"),
    ("occurred_at", "2026-11-22T10:00:00+25:00"),
    ("occurred_at", "1e308"),
    ("occurred_at", ""),
]


@pytest.mark.parametrize(("field", "value"), HOSTILE_FIELDS)
def test_hostile_fields_are_422_like_the_json_entrys_and_store_nothing(
        client, session, app, parent, field, value):
    child, headers = parent
    url = f"/api/v1/children/{child.id}/photos"
    as_json = client.post(f"/api/v1/children/{child.id}/entries", headers=headers, json={
        "kind": "note", "body": "x", "occurred_at": "2026-11-22T10:00:00Z", field: value})
    assert as_json.status_code == 422, as_json.get_json()
    for response in (_upload_with_fields(client, url, headers, {field: value}),
                     _upload_with_fields(client, url, headers, {}, **{field: value})):
        assert response.status_code == 422, response.get_json()
        error = response.get_json()["error"]
        assert error["code"] == "validation_error"
        assert error["fields"] == as_json.get_json()["error"]["fields"], (field, value)
    assert session.scalar(select(func.count()).select_from(Entry)) == 0
    uploads = app.config["UPLOAD_DIR"]
    assert not uploads.exists() or not any(p.is_file() for p in uploads.rglob("*"))


def test_the_spec_lists_the_form_fields_in_the_multipart_body(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/children/{child_id}/photos"]["post"]
    schema = operation["requestBody"]["content"]["multipart/form-data"]["schema"]
    assert set(schema["properties"]) == {"file", "title", "occurred_at"}
    assert schema["required"] == ["file"]
    assert schema["properties"]["title"]["maxLength"] == 120
    assert {"type": "string", "format": "date-time"} in schema["properties"]["occurred_at"][
        "anyOf"]
    old = {p["name"]: p for p in operation["parameters"] if p["in"] == "query"}
    assert set(old) == {"title", "occurred_at"} and all(p["deprecated"] for p in old.values())
    added = spec["paths"]["/api/v1/entries/{entry_id}/photos"]["post"]
    assert set(added["requestBody"]["content"]["multipart/form-data"]["schema"][
        "properties"]) == {"file"}


def test_the_docs_curl_sends_the_file_as_a_file_and_the_fields_as_text(client):
    page = client.get("/api/v1/docs").get_data(as_text=True)
    assert "-F file=@photo.jpg" in page and "-F &#39;title=…&#39;" in page
    assert "title=@photo.jpg" not in page and "occurred_at=@photo.jpg" not in page
