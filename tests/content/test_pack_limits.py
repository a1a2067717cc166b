"""Content-pack import limits: size, members, unpacked sizes, zip bombs, unsafe names.

Every limit is checked from the zip's directory (or the folder's listing) before anything is
unpacked, each refusal names what is wrong, and nothing is half-imported.
"""
from __future__ import annotations

import io
import json
import os
import zipfile

import pytest
from sqlalchemy import func, select

from content import packs
from content.models import ContentItem
from diary.photos import PhotoStore
from tests.images import claiming, image_bytes

PRODUCT = {"sku": "BJ-TEST-001", "category": "bath", "price_minor": 5900, "currency": "CNY",
           "window": {"unit": "week", "from": 0, "to": 12}, "active": True,
           "buy_url": "https://shop.example.com/p/BJ-TEST-001",
           "translations": {"en": {"name": "Gentle wash", "description": "Mild."},
                            "zh_CN": {"name": "温和沐浴露", "description": "温和。"}}}
MB = 1024 * 1024


@pytest.fixture()
def store(tmp_path):
    return PhotoStore(tmp_path / "content-images")


def stored(store: PhotoStore) -> list[str]:
    return sorted(str(p) for p in store.root.rglob("*") if p.is_file())


def make_zip(*members: tuple[str | zipfile.ZipInfo, bytes],
             compression: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def products(*items: dict) -> tuple[str, bytes]:
    return "products.json", json.dumps(list(items)).encode()


@pytest.fixture(scope="module")
def zip_bomb() -> bytes:
    """200 MB of zeros in ~200 KB, written a megabyte at a time (the test stays light)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(*products(PRODUCT))
        with archive.open("images/bomb.png", "w") as member:
            zeros = bytes(MB)
            for _ in range(200):
                member.write(zeros)
    return buffer.getvalue()


@pytest.fixture()
def nothing_unpacked(monkeypatch):
    """Reading any member of a zip fails the test (writing one, to make a zip, still works)."""
    real_open = zipfile.ZipFile.open

    def refuse(self, name, mode="r", *args, **kwargs):  # type: ignore[no-untyped-def]
        if mode == "r":
            raise AssertionError(f"{name} was unpacked")
        return real_open(self, name, mode, *args, **kwargs)
    monkeypatch.setattr(zipfile.ZipFile, "open", refuse)


def refused(session, source, store) -> list[str]:
    """The problems an import reports (as the CLI prints them); asserts nothing was written."""
    with pytest.raises(packs.PackError) as caught:
        packs.import_pack(session, source, None, store)
    assert session.scalar(select(func.count(ContentItem.id))) == 0
    return [str(problem) for problem in caught.value.problems]


def test_a_zip_bomb_is_refused_before_unpacking(session, store, zip_bomb, nothing_unpacked):
    assert len(zip_bomb) < 400_000
    problems = refused(session, zip_bomb, store)
    assert any(p.startswith("images/bomb.png unpacks to 1") and p.endswith(
        "times its packed size (at most 100): this looks like a zip bomb.") for p in problems)
    assert "images/bomb.png is 200 MB unpacked; at most 10 MB for one file." in problems
    assert stored(store) == []


def test_the_zip_itself_may_be_at_most_50_mb(session, store, tmp_path, monkeypatch):
    path = tmp_path / "big.zip"
    with path.open("wb") as handle:
        handle.write(make_zip(products(PRODUCT)))
        handle.truncate(packs.MAX_PACK_BYTES + 1)  # sparse: nothing is really written
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("opened as a zip"))
    assert refused(session, path, store) == ["The pack is 51 MB; at most 50 MB, please."]


def test_too_many_members_are_refused_from_the_end_record(session, store, monkeypatch):
    data = make_zip(*[(f"images/{n}.txt", b"") for n in range(packs.MAX_MEMBERS + 1)])
    # zipfile would make an object per entry of the directory: the end record's count decides
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("directory parsed"))
    assert refused(session, data, store) == ["The pack holds 1001 files; at most 1000, please."]


def test_a_directory_larger_than_its_count_says_is_refused(session, store, monkeypatch):
    """An end record may understate the entries: the directory's size bounds them too."""
    long_name = "images/" + "x" * 2000
    data = bytearray(make_zip(*[(f"{long_name}{n}", b"") for n in range(600)]))
    at = data.rfind(b"PK\x05\x06")
    data[at + 8:at + 12] = (1).to_bytes(2, "little") * 2  # "one entry"
    monkeypatch.setattr(zipfile, "ZipFile", lambda *a, **k: pytest.fail("directory parsed"))
    problems = refused(session, bytes(data), store)
    assert len(problems) == 1 and problems[0].startswith("The pack holds ")


def test_one_member_may_unpack_to_at_most_10_mb(session, store, nothing_unpacked):
    data = make_zip(products(PRODUCT), ("images/huge.png", bytes(11 * MB)),
                    compression=zipfile.ZIP_STORED)
    assert refused(session, data, store) == [
        "images/huge.png is 11 MB unpacked; at most 10 MB for one file."]


def test_all_members_may_unpack_to_at_most_the_total(session, store, monkeypatch,
                                                     nothing_unpacked):
    monkeypatch.setattr(packs, "MAX_TOTAL_BYTES", 3 * MB)
    data = make_zip(*[(f"images/{n}.png", os.urandom(MB)) for n in range(4)])
    assert refused(session, data, store) == ["The pack unpacks to 4 MB; at most 3 MB, please."]


def test_json_files_together_are_limited(session, store, monkeypatch, nothing_unpacked):
    monkeypatch.setattr(packs, "MAX_JSON_BYTES", MB)
    data = make_zip(("articles_a.json", b"[" + b" " * MB + b"]"), products(PRODUCT),
                    compression=zipfile.ZIP_STORED)
    assert refused(session, data, store) == [
        "The pack's JSON files come to 2 MB; at most 1 MB, please."]


@pytest.mark.parametrize("name", ["../products.json", "images/../../x.png", "/etc/products.json",
                                  "C:/products.json", "images\\..\\x.png", ".."])
def test_names_outside_the_pack_are_refused(session, store, name, nothing_unpacked):
    data = make_zip(products(PRODUCT), (name, b"x"))
    assert refused(session, data, store) == [
        f"{name}: file names in a pack must be plain paths inside it (no “..”, no leading "
        "“/”, no drive letter, no backslash)."]


def test_symbolic_links_are_refused(session, store, nothing_unpacked):
    link = zipfile.ZipInfo("images/passwd.png")
    link.create_system = 3  # Unix
    link.external_attr = 0o120777 << 16  # a symbolic link, its target as its content
    data = make_zip(products({**PRODUCT, "image": "images/passwd.png"}), (link, b"/etc/passwd"))
    assert refused(session, data, store) == [
        "images/passwd.png is a symbolic link; a pack holds only plain files."]


def test_a_name_twice_is_refused(session, store, nothing_unpacked):
    with pytest.warns(UserWarning, match="Duplicate name"):
        data = make_zip(products(PRODUCT), products(PRODUCT))
    assert refused(session, data, store) == ["products.json is in the pack twice."]


def test_zip64_is_refused(session, store, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(zipfile, "ZIP_FILECOUNT_LIMIT", 0)  # makes zipfile write a ZIP64 record
        data = make_zip(products(PRODUCT))
    assert refused(session, data, store) == [
        "The pack is a ZIP64 archive, which a pack never needs; please make it as a plain zip."]


def test_a_member_larger_than_its_directory_entry_is_cut_off(session, store):
    data = bytearray(make_zip(products(PRODUCT)))
    at = data.find(b"PK\x01\x02")  # the central directory entry: uncompressed size at 24
    data[at + 24:at + 28] = (10).to_bytes(4, "little")
    assert refused(session, bytes(data), store) == [
        "products.json is damaged and cannot be read."]


def test_a_folder_with_a_symbolic_link_is_refused(session, store, tmp_path):
    folder = tmp_path / "pack"
    (folder / "images").mkdir(parents=True)
    (folder / "products.json").write_text(json.dumps([{**PRODUCT,
                                                       "image": "images/secret.png"}]))
    (folder / "images" / "secret.png").symlink_to("/etc/passwd")
    (folder / "elsewhere").symlink_to(tmp_path, target_is_directory=True)
    assert refused(session, folder, store) == [
        "elsewhere is a symbolic link; a pack holds only plain files.",
        "images/secret.png is a symbolic link; a pack holds only plain files."]


def test_every_image_is_checked_before_any_is_decoded_or_stored(session, store, monkeypatch):
    from PIL import ImageFile
    good = image_bytes("PNG", (200, 100))
    bomb = claiming(image_bytes("PNG"), (7000, 7000))
    data = make_zip(products({**PRODUCT, "image": "images/a.png"},
                             {**PRODUCT, "sku": "BJ-TEST-002", "image": "images/b.png"}),
                    ("images/a.png", good), ("images/b.png", bomb))
    monkeypatch.setattr(ImageFile.ImageFile, "load", lambda self: pytest.fail("decoded"))
    assert refused(session, data, store) == [
        "images/b.png: This photo has too many pixels (49 megapixels). Please upload a photo "
        "of at most 25 megapixels."]
    assert stored(store) == []


def test_a_damaged_image_leaves_no_item(session, store):
    good = image_bytes("PNG", (200, 100))
    broken = image_bytes("JPEG", (640, 480), quality=95)
    data = make_zip(products({**PRODUCT, "image": "images/a.png"},
                             {**PRODUCT, "sku": "BJ-TEST-002", "image": "images/b.jpg"}),
                    ("images/a.png", good), ("images/b.jpg", broken[:len(broken) // 2]))
    problems = refused(session, data, store)
    assert problems == ["images/b.jpg: This file is not a photo we can read. Please upload a "
                        "JPEG, PNG, WebP or HEIC image."]


def test_a_good_zip_still_imports(session, store):
    data = make_zip(products({**PRODUCT, "image": "images/a.png"}),
                    ("images/a.png", image_bytes("PNG", (200, 100))), ("README.txt", b"hi"))
    report = packs.import_pack(session, data, None, store)
    assert report.created == ["product:BJ-TEST-001"]
    assert len(stored(store)) == 2


def test_the_default_pack_fits_the_limits():
    files = packs.PackFiles(packs.DEFAULT_PACK)
    sizes = [len(files.read(name)) for name in files.names()]
    assert sum(sizes) < packs.MAX_JSON_BYTES / 8 and max(sizes) < packs.MAX_MEMBER_BYTES / 20
