"""Photo processing: content sniffing, EXIF orientation and stripping, size limits."""
from __future__ import annotations

import io

import pytest
from PIL import Image

from diary import photos
from diary.errors import ValidationError


def _image_bytes(fmt: str, size=(300, 200), mode="RGB", **kwargs) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new(mode, size, (10, 200, 30) if mode == "RGB" else (10, 200, 30, 0)).save(
        out, format=fmt, **kwargs)
    return out.getvalue()


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
def test_accepted_formats_become_jpeg(fmt):
    processed = photos.process_upload(_image_bytes(fmt))
    assert processed.full[:3] == b"\xff\xd8\xff"
    assert (processed.width, processed.height) == (300, 200)
    assert Image.open(io.BytesIO(processed.thumb)).format == "JPEG"


@pytest.mark.skipif(not photos.HEIF_SUPPORTED, reason="pillow-heif not available")
def test_heic_is_accepted():
    processed = photos.process_upload(_image_bytes("HEIF"))
    assert (processed.width, processed.height) == (300, 200)


def test_exif_orientation_is_applied_then_dropped():
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    exif[0x010F] = "Maker"
    processed = photos.process_upload(_image_bytes("JPEG", exif=exif.tobytes()))
    image = Image.open(io.BytesIO(processed.full))
    assert image.size == (200, 300)
    assert not image.getexif() and not image.info.get("exif")


def test_transparent_png_is_flattened_on_white():
    processed = photos.process_upload(_image_bytes("PNG", mode="RGBA"))
    pixel = Image.open(io.BytesIO(processed.full)).getpixel((5, 5))
    assert all(channel > 240 for channel in pixel)


def test_large_images_are_scaled_down():
    processed = photos.process_upload(_image_bytes("PNG", size=(4000, 1000)))
    assert (processed.width, processed.height) == (2048, 512)
    assert max(Image.open(io.BytesIO(processed.thumb)).size) == 480


@pytest.mark.parametrize("data, message", [
    (b"", "empty"), (b"GIF89a" + b"\0" * 20, "not a photo"),
    (b"\xff\xd8\xff" + b"\0" * 100, "not a photo"),  # truncated JPEG
    (b"x" * (photos.MAX_BYTES + 1), "at most 10 MB"),
])
def test_bad_uploads(data, message):
    with pytest.raises(ValidationError, match=message):
        photos.process_upload(data)


def test_store_paths_refuse_tricks(tmp_path):
    store = photos.PhotoStore(tmp_path)
    key = store.save(photos.process_upload(_image_bytes("PNG")))
    assert store.path(key).exists() and store.path(key, "thumb").exists()
    with pytest.raises(ValueError):
        store.path("../../etc/passwd")
    store.delete([key])
    assert not store.path(key).exists()
