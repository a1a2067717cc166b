"""Photo uploads through the views: limits are checked before anything is read or decoded.

The penetration test found twelve photos on one entry all decoded, re-encoded and written
before the entry's limit of ten refused them, and a 160 KB PNG decoded to 1 GB. Here the
number of files is checked first, then every file's size and header, and only then are they
decoded, one at a time; a refusal leaves no file and no row behind.
"""
from __future__ import annotations

import io

import pytest
from PIL import Image, ImageFile
from sqlalchemy import func, select

from diary import invitations
from diary.entries import MAX_PHOTOS_PER_ENTRY
from diary.models import Entry, Photo
from tests.images import claiming, image_bytes, streamed_png
from tests.web.helpers import entry_form, png_bytes


@pytest.fixture()
def parent(make_family, login_as):
    user, child = make_family()
    login_as(user)
    return user, child


@pytest.fixture()
def uploads(app):
    """Every file the photo stores hold (diary photos and content images)."""
    return lambda: sorted(p for p in app.config["UPLOAD_DIR"].rglob("*") if p.is_file())


@pytest.fixture()
def nothing_read(monkeypatch):
    """Opening, checking or decoding any image fails the test."""
    def refuse(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError("an image was read")
    monkeypatch.setattr(Image, "open", refuse)
    monkeypatch.setattr("diary.photos.read_limited", refuse)
    for name in ("check_upload", "process_upload"):
        monkeypatch.setattr(f"webapp.blueprints.diary.routes.{name}", refuse, raising=False)


@pytest.fixture()
def nothing_decoded(monkeypatch):
    """Decoding pixels fails the test (reading headers is allowed)."""
    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"{self.format} picture decoded")
    Image.init()
    for cls in {ImageFile.ImageFile} | {f for f, _ in Image.OPEN.values() if isinstance(f, type)}:
        if "load" in vars(cls):
            monkeypatch.setattr(cls, "load", refuse)


def page_text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def _files(count: int, data: bytes | None = None) -> list[tuple[io.BytesIO, str]]:
    return [(io.BytesIO(data or png_bytes()), f"p{n}.png") for n in range(count)]


def _new(client, child, kind="photo", **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/children/{child.id}/entries/new?kind={kind}",
                       data=entry_form(**fields), content_type="multipart/form-data")


def _edit(client, entry, **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/entries/{entry.id}/edit", data=entry_form(**fields),
                       content_type="multipart/form-data")


def test_twelve_files_on_a_new_entry_are_refused_before_any_is_read(
        client, parent, session, uploads, nothing_read):
    _, child = parent
    response = _new(client, child, title="Too many", photos=_files(12))
    assert response.status_code == 400
    assert ("An entry can hold at most 10 photos: there is room for 10 more, and 12 were "
            "chosen. Nothing was saved.") in page_text(response)
    assert uploads() == []
    assert session.scalar(select(func.count(Photo.id))) == 0
    assert session.scalar(select(func.count(Entry.id))) == 0


def test_ten_files_are_accepted(client, parent, session, uploads):
    _, child = parent
    assert _new(client, child, photos=_files(MAX_PHOTOS_PER_ENTRY)).status_code == 302
    assert session.scalar(select(func.count(Photo.id))) == 10
    assert len(uploads()) == 20  # full and thumbnail each


def test_an_edit_counts_the_photos_that_stay(client, parent, session, uploads, monkeypatch):
    _, child = parent
    assert _new(client, child, photos=_files(8)).status_code == 302
    entry = session.scalar(select(Entry))
    before = uploads()
    with monkeypatch.context() as patch:
        patch.setattr(Image, "open", lambda *a, **k: pytest.fail("an image was read"))
        response = _edit(client, entry, photos=_files(3))
    assert response.status_code == 400
    assert "there is room for 2 more, and 3 were chosen" in page_text(response)
    assert uploads() == before
    session.expire_all()
    assert len(entry.photos) == 8
    # Removing one makes room for three.
    response = _edit(client, entry, photos=_files(3), remove_photos=[str(entry.photos[0].id)])
    assert response.status_code == 302
    session.expire_all()
    assert len(entry.photos) == 10
    assert len(uploads()) == 20


def test_a_kind_without_photos_takes_none(client, parent, session, uploads, nothing_read):
    _, child = parent
    response = _new(client, child, "feeding", method="bottle_formula", amount_ml="90",
                    photos=_files(1))
    assert response.status_code == 400
    assert "This kind of entry cannot hold photos." in page_text(response)
    assert uploads() == [] and session.scalar(select(func.count(Entry.id))) == 0


def test_one_file_over_the_cap_refuses_all_before_any_is_decoded(
        client, parent, session, uploads, nothing_decoded):
    _, child = parent
    bomb = streamed_png((7000, 7000), "RGB")  # 160 KB, decoded it took 1 GB
    files = _files(2) + [(io.BytesIO(bomb), "bomb.png")]
    response = _new(client, child, photos=files)
    assert response.status_code == 400
    assert ("This photo has too many pixels (49 megapixels). Please upload a photo of at "
            "most 25 megapixels.") in page_text(response)
    assert uploads() == [] and session.scalar(select(func.count(Photo.id))) == 0


@pytest.mark.parametrize("fmt, save", [("JPEG", {"progressive": True, "subsampling": 0}),
                                       ("WEBP", {"lossless": True}), ("PNG", {})])
def test_headers_claiming_too_many_pixels_are_refused_undecoded(
        client, parent, session, uploads, nothing_decoded, fmt, save):
    _, child = parent
    bomb = claiming(image_bytes(fmt, **save), (7000, 7000))
    response = _new(client, child, photos=[(io.BytesIO(bomb), "x.jpg")])
    assert response.status_code == 400
    assert "This photo has too many pixels (49 megapixels)" in page_text(response)
    assert uploads() == []


@pytest.mark.parametrize("cut", [0.5, 0.95])
def test_a_truncated_photo_is_a_form_error(client, parent, session, uploads, cut):
    _, child = parent
    good = png_bytes((400, 300))
    data = image_bytes("JPEG", (640, 480), quality=95)
    response = _new(client, child, photos=[(io.BytesIO(good), "a.png"),
                                           (io.BytesIO(data[:int(len(data) * cut)]), "b.jpg")])
    assert response.status_code == 400
    assert "This file is not a photo we can read" in page_text(response)
    assert uploads() == []  # the first photo, stored already, is removed again
    assert session.scalar(select(func.count(Photo.id))) == 0


def test_a_file_over_10_mb_is_refused_undecoded(client, parent, session, uploads,
                                                monkeypatch):
    _, child = parent
    big = io.BytesIO(b"\xff\xd8\xff" + b"\0" * (10 * 1024 * 1024))
    monkeypatch.setattr(Image, "open", lambda *a, **k: pytest.fail("an image was opened"))
    monkeypatch.setattr("diary.photos.read_limited", lambda *a: pytest.fail("read"))
    response = _new(client, child, photos=[(big, "big.jpg")])
    assert response.status_code == 400
    assert "Photos can be at most 10 MB." in page_text(response)
    assert uploads() == []


def test_strangers_and_viewers_are_refused_before_the_count(
        client, parent, make_family, login_as, session, nothing_read):
    owner, child = parent
    assert _new(client, child, "note", body="hi").status_code == 302
    stranger, _ = make_family()
    viewer, _ = make_family()
    invitation = invitations.invite(session, child.family, owner, viewer.email, "viewer",
                                    "other")
    invitations.accept(session, invitation, viewer)
    session.commit()
    entry = session.scalar(select(Entry))
    for user, status in ((stranger, 404), (viewer, 403)):
        login_as(user)
        assert _new(client, child, photos=_files(12)).status_code == status
        assert _edit(client, entry, photos=_files(12)).status_code == status
    assert session.scalar(select(func.count(Photo.id))) == 0


def test_removing_another_entrys_photo_does_not_make_room(client, parent, session, make_family,
                                                          login_as):
    """remove_photos only takes this entry's photos: a foreign id is not a free place."""
    _, child = parent
    assert _new(client, child, photos=_files(10)).status_code == 302
    mine = session.scalar(select(Entry))
    other_parent, other_child = make_family()
    login_as(other_parent)
    assert _new(client, other_child, photos=_files(1)).status_code == 302
    theirs = session.scalar(select(Photo).join(Entry).where(Entry.child_id == other_child.id))
    login_as(parent[0])
    response = _edit(client, mine, photos=_files(1), remove_photos=[str(theirs.id)])
    assert response.status_code == 400
    session.expire_all()
    assert len(mine.photos) == 10 and session.get(Photo, theirs.id) is not None
