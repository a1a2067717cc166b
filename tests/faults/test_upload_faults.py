"""Faults on photo upload: a full disk, and corrupt or disguised files, on every upload route.

A full disk is simulated where the file is written (no mount): every file opened for
writing under the upload folder gets a shared budget of free bytes; the write that goes past
it writes what fits and raises OSError(ENOSPC), as the kernel does. Whatever the route: a
clear form error in the person's language, status 400, no row, and no file (neither a
partial one nor the full size of a photo whose thumbnail did not fit) left on disk.
"""
from __future__ import annotations

import errno
import io
import pathlib
import struct
from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from care.models import Ticket, TicketAttachment
from community.models import ClubPost
from content.models import ContentItem
from diary import photos
from diary.errors import ValidationError
from diary.models import Entry, Photo
from tests.images import image_bytes, streamed_png
from tests.web.helpers import entry_form, png_bytes
from tests.web.test_clubs import club_world  # noqa: F401 - a fixture
from tests.web.test_studio import article_form, make_staff

FULL_EN = ("We could not store your photo just now: our photo storage is full. Nothing was "
           "saved; please try again later.")
FULL_ZH = "照片存储空间已满，暂时无法保存您的照片。什么都没有保存，请稍后再试。"
NOT_A_PHOTO = "This file is not a photo we can read"


class FullDisk:
    """`Path.open` for writing under `root` draws on `free` bytes; past them: ENOSPC."""

    def __init__(self, root: pathlib.Path, free: int) -> None:
        self.root, self.free, self.refused = root.resolve(), free, 0

    def install(self, monkeypatch: pytest.MonkeyPatch) -> None:
        real_open = pathlib.Path.open
        disk = self

        def open_(path, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
            handle = real_open(path, mode, *args, **kwargs)
            writing = any(c in mode for c in "wxa")
            if writing and pathlib.Path(path).resolve().is_relative_to(disk.root):
                return _Budgeted(handle, disk)
            return handle

        monkeypatch.setattr(pathlib.Path, "open", open_)


class _Budgeted:
    def __init__(self, handle, disk: FullDisk) -> None:  # type: ignore[no-untyped-def]
        self.handle, self.disk = handle, disk

    def write(self, data: bytes) -> int:
        fits = max(0, min(len(data), self.disk.free))
        self.handle.write(data[:fits])
        self.handle.flush()
        self.disk.free -= fits
        if fits < len(data):
            self.disk.refused += 1
            raise OSError(errno.ENOSPC, "No space left on device")
        return fits

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.handle.close()

    def __getattr__(self, name: str):  # type: ignore[no-untyped-def]
        return getattr(self.handle, name)


@pytest.fixture()
def files_on_disk(app) -> Callable[[], list[pathlib.Path]]:
    """Every file under the upload folder (diary photos and content images, temporaries
    too)."""
    return lambda: sorted(p for p in app.config["UPLOAD_DIR"].rglob("*") if p.is_file())


@pytest.fixture()
def full_disk(app, monkeypatch) -> Callable[[int], FullDisk]:
    def make(free: int) -> FullDisk:
        disk = FullDisk(app.config["UPLOAD_DIR"], free)
        disk.install(monkeypatch)
        return disk
    return make


def count(session, model) -> int:  # type: ignore[no-untyped-def]
    session.expire_all()
    return session.scalar(select(func.count()).select_from(model))


def text(response) -> str:  # type: ignore[no-untyped-def]
    return response.get_data(as_text=True)


def photo_sizes() -> tuple[int, int]:
    processed = photos.process_upload(png_bytes((400, 300)))
    return len(processed.full), len(processed.thumb)


# --- the photo store itself ------------------------------------------------------------------

@pytest.mark.parametrize("where", ["in the full size", "in the thumbnail"])
def test_the_store_writes_all_or_nothing_on_a_full_disk(tmp_path, monkeypatch, where):
    store = photos.PhotoStore(tmp_path)
    processed = photos.process_upload(png_bytes((400, 300)))
    free = len(processed.full) // 2 if where == "in the full size" else \
        len(processed.full) + len(processed.thumb) // 2
    disk = FullDisk(tmp_path, free)
    disk.install(monkeypatch)
    with pytest.raises(photos.StorageFull) as raised:
        store.save(processed)
    assert disk.refused == 1
    assert raised.value.field == "photos" and str(raised.value) == FULL_EN
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # no partial file, no half


def test_other_write_errors_are_not_a_full_disk(tmp_path, monkeypatch):
    """A read-only or broken disk is the site's fault, not the person's: it is raised as it
    is (the 500 page, logged), and still leaves nothing behind."""
    store = photos.PhotoStore(tmp_path)

    real_open = pathlib.Path.open
    monkeypatch.setattr(pathlib.Path, "open", lambda self, mode="r", *a, **k: (
        _Raising(real_open(self, mode, *a, **k)) if "x" in mode or "w" in mode
        else real_open(self, mode, *a, **k)))
    with pytest.raises(OSError) as raised:
        store.save(photos.process_upload(png_bytes()))
    assert raised.value.errno == errno.EIO and not isinstance(raised.value, ValidationError)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


class _Raising:
    """A file (created, as on a real disk) whose every write fails with EIO."""

    def __init__(self, handle) -> None:  # type: ignore[no-untyped-def]
        self.handle = handle

    def __enter__(self):  # type: ignore[no-untyped-def]
        return self

    def __exit__(self, *exc) -> None:  # type: ignore[no-untyped-def]
        self.handle.close()

    def write(self, data: bytes) -> int:
        raise OSError(errno.EIO, "Input/output error")


def test_a_reader_never_sees_half_a_photo(tmp_path):
    """The file is complete under its final name (written aside, then renamed), and no
    temporary file stays after a good save."""
    store = photos.PhotoStore(tmp_path)
    processed = photos.process_upload(png_bytes((400, 300)))
    key = store.save(processed)
    assert store.path(key).read_bytes() == processed.full
    assert store.path(key, "thumb").read_bytes() == processed.thumb
    assert sorted(p.name for p in tmp_path.rglob("*") if p.is_file()) == \
        sorted([f"{key}.full.jpg", f"{key}.thumb.jpg"])


# --- each upload route on a full disk ---------------------------------------------------------

@pytest.mark.parametrize("locale, message", [("en", FULL_EN), ("zh_CN", FULL_ZH)])
def test_a_diary_entry_on_a_full_disk(client, session, make_family, login_as, full_disk,
                                      files_on_disk, locale, message):
    """Two photos: the first fits, the second's thumbnail does not. Neither file stays,
    and neither the entry nor a photo row is written."""
    user, child = make_family()
    user.locale = locale
    session.commit()
    login_as(user)
    full, thumb = photo_sizes()
    disk = full_disk(full + thumb + full + thumb // 2)
    response = client.post(f"/children/{child.id}/entries/new?kind=photo", data=entry_form(
        title="First bath", photos=[(io.BytesIO(png_bytes((400, 300))), "a.png"),
                                    (io.BytesIO(png_bytes((400, 300))), "b.png")]),
        content_type="multipart/form-data")
    assert disk.refused == 1
    assert response.status_code == 400
    assert message in text(response)
    assert count(session, Entry) == 0 and count(session, Photo) == 0
    assert files_on_disk() == []
    # Room again: the same form goes through.
    disk.free = 10**9
    response = client.post(f"/children/{child.id}/entries/new?kind=photo", data=entry_form(
        title="First bath", photos=[(io.BytesIO(png_bytes((400, 300))), "a.png")]),
        content_type="multipart/form-data")
    assert response.status_code == 302
    assert count(session, Entry) == 1 and count(session, Photo) == 1
    assert len(files_on_disk()) == 2


def test_an_entry_edit_on_a_full_disk_keeps_the_photos_it_had(client, session, make_family,
                                                              login_as, full_disk,
                                                              files_on_disk):
    user, child = make_family()
    login_as(user)
    assert client.post(f"/children/{child.id}/entries/new?kind=photo", data=entry_form(
        title="Bath", photos=[(io.BytesIO(png_bytes()), "a.png")]),
        content_type="multipart/form-data").status_code == 302
    entry = session.scalar(select(Entry))
    before = files_on_disk()
    full_disk(100)
    response = client.post(f"/entries/{entry.id}/edit", data=entry_form(
        title="Bath, edited", photos=[(io.BytesIO(png_bytes()), "b.png")]),
        content_type="multipart/form-data")
    assert response.status_code == 400 and FULL_EN in text(response)
    session.expire_all()
    assert entry.title == "Bath" and len(entry.photos) == 1
    assert files_on_disk() == before


def test_a_club_post_on_a_full_disk(client, session, club_world, login_as, full_disk,  # noqa: F811
                                    files_on_disk):
    w = club_world
    login_as(w["anna"])
    full_disk(100)
    response = client.post(f"/clubs/{w['a'].id}/posts", data={
        "body": "Our walk", "photo": (io.BytesIO(png_bytes()), "walk.png")},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert FULL_EN in text(response)
    assert count(session, ClubPost) == 0 and files_on_disk() == []


def test_a_ticket_on_a_full_disk(client, session, make_family, login_as, full_disk,
                                 files_on_disk):
    user, _ = make_family()
    user.locale = "zh_CN"
    session.commit()
    login_as(user)
    full, thumb = photo_sizes()
    full_disk(full + thumb + full // 2)  # the first of two photos fits
    response = client.post("/help/ask", data={
        "category": "question", "severity": "normal", "subject": "Rash", "body": "Photos.",
        "photos": [(io.BytesIO(png_bytes((400, 300))), "a.png"),
                   (io.BytesIO(png_bytes((400, 300))), "b.png")]},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert FULL_ZH in text(response)
    assert count(session, Ticket) == 0 and count(session, TicketAttachment) == 0
    assert files_on_disk() == []


def test_a_studio_hero_image_on_a_full_disk(client, session, login_as, full_disk,
                                            files_on_disk):
    login_as(make_staff(session, "marketer"))
    full_disk(100)
    response = client.post("/studio/new/article", data=article_form(
        image=(io.BytesIO(png_bytes()), "hero.png")), content_type="multipart/form-data")
    assert response.status_code == 400
    assert FULL_EN in text(response)
    assert count(session, ContentItem) == 0 and files_on_disk() == []


# --- corrupt and disguised files on every upload route ---------------------------------------

def _bad_crc_png() -> bytes:
    data = bytearray(png_bytes((200, 150)))
    at = data.find(b"IDAT")
    length = struct.unpack(">I", data[at - 4:at])[0]
    data[at + 4 + length] ^= 0xFF  # the chunk's CRC no longer matches
    return bytes(data)


def _truncated_jpeg() -> bytes:
    data = image_bytes("JPEG", (640, 480), quality=95)
    return data[:len(data) // 2]


CORRUPT = {
    "truncated JPEG": (_truncated_jpeg, "a.jpg", NOT_A_PHOTO),
    "PNG with a bad CRC": (_bad_crc_png, "a.png", NOT_A_PHOTO),
    "decompression bomb": (lambda: streamed_png((7000, 7000), "RGB"), "a.png",
                           "This photo has too many pixels"),
    "HTML named .jpg": (lambda: b"<!doctype html><html><body><script>alert(document.cookie)"
                                b"</script></body></html>", "a.jpg", NOT_A_PHOTO),
}


def _post_entry(client, session, make_family, login_as, club_world, upload):  # type: ignore[no-untyped-def]  # noqa: F811
    user, child = make_family()
    login_as(user)
    return client.post(f"/children/{child.id}/entries/new?kind=photo",
                       data=entry_form(title="x", photos=[upload]),
                       content_type="multipart/form-data")


def _post_club(client, session, make_family, login_as, club_world, upload):  # type: ignore[no-untyped-def]  # noqa: F811
    login_as(club_world["anna"])
    return client.post(f"/clubs/{club_world['a'].id}/posts",
                       data={"body": "Look", "photo": upload},
                       content_type="multipart/form-data")


def _post_ticket(client, session, make_family, login_as, club_world, upload):  # type: ignore[no-untyped-def]  # noqa: F811
    user, _ = make_family()
    login_as(user)
    return client.post("/help/ask", data={
        "category": "question", "severity": "normal", "subject": "x", "body": "y",
        "photos": [upload]}, content_type="multipart/form-data")


def _post_hero(client, session, make_family, login_as, club_world, upload):  # type: ignore[no-untyped-def]  # noqa: F811
    login_as(make_staff(session, "marketer"))
    return client.post("/studio/new/article", data=article_form(image=upload),
                       content_type="multipart/form-data")


ROUTES = {"diary entry": (_post_entry, (Entry, Photo)), "club post": (_post_club, (ClubPost,)),
          "ticket": (_post_ticket, (Ticket, TicketAttachment)),
          "studio hero": (_post_hero, (ContentItem,))}


@pytest.mark.parametrize("route", list(ROUTES))
@pytest.mark.parametrize("corrupt", list(CORRUPT))
def test_a_corrupt_file_is_a_clear_form_error_and_nothing_is_stored(
        client, session, make_family, login_as, club_world, files_on_disk,  # noqa: F811
        route, corrupt):
    post, models = ROUTES[route]
    make, name, message = CORRUPT[corrupt]
    response = post(client, session, make_family, login_as, club_world,
                    (io.BytesIO(make()), name))
    assert response.status_code == 400
    page = text(response)
    assert message in page and "<script>alert" not in page
    assert all(count(session, model) == 0 for model in models)
    assert files_on_disk() == []
