"""Photo processing: content sniffing, EXIF orientation and stripping, size limits."""
from __future__ import annotations

import io
import struct
import zlib

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


# --- limits before decoding (security finding: photos were decoded before limits) -----------

from PIL import ImageChops, ImageFile, ImageStat  # noqa: E402

from tests.images import claiming, image_bytes, streamed_png  # noqa: E402

FORMATS = [("PNG", {}), ("JPEG", {}), ("JPEG", {"progressive": True}),
           ("WEBP", {"lossless": True}), ("WEBP", {"quality": 80}),
           ("WEBP", {"exif": Image.Exif().tobytes()})]
if photos.HEIF_SUPPORTED:
    FORMATS.append(("HEIF", {}))


@pytest.fixture()
def no_decoding(monkeypatch):
    """Every Pillow file reader's `load` (where it decodes) fails the test if it is called."""
    def refuse(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise AssertionError(f"{self.format} picture decoded")
    Image.init()
    classes = {ImageFile.ImageFile} | {
        factory for factory, _ in Image.OPEN.values() if isinstance(factory, type)}
    for cls in classes:
        if "load" in vars(cls):
            monkeypatch.setattr(cls, "load", refuse)


def test_no_decoding_fixture_really_stops_decoding(no_decoding):
    for fmt, save in FORMATS:
        with pytest.raises(AssertionError, match=f"{fmt} picture decoded"):
            photos.process_upload(image_bytes(fmt, **save))


OVER_THE_CAP = [(fmt, save, (7000, 7000)) for fmt, save in FORMATS if fmt != "JPEG"] + [
    ("JPEG", {"progressive": True, "subsampling": 0}, (7000, 7000)),  # 4:4:4 costs the most
    ("JPEG", {}, (9000, 7000)),  # 4:2:0 is accepted up to 50 megapixels
]


@pytest.mark.parametrize("fmt, save, size", OVER_THE_CAP)
def test_a_header_over_the_cap_is_refused_without_decoding(fmt, save, size, no_decoding):
    """49 megapixels passed the old cap (50) and were decoded: now refused from the header."""
    bomb = claiming(image_bytes(fmt, **save), size)
    megapixels = -(-size[0] * size[1] // 1_000_000)
    with pytest.raises(ValidationError, match=rf"too many pixels \({megapixels} megapixels\)\. "
                                              r"Please upload a photo of at most \d+ "
                                              r"megapixels"):
        photos.process_upload(bomb)
    stream = io.BytesIO(bomb)
    with pytest.raises(ValidationError, match="too many pixels"):
        photos.check_upload(stream)
    assert stream.tell() == 0


def test_the_pentest_png_is_refused_from_its_header(no_decoding):
    """7000 × 7000, one colour: 160 KB that decoded to 1 GB of worker memory."""
    bomb = streamed_png((7000, 7000), "RGB")
    assert len(bomb) < 200_000
    with pytest.raises(ValidationError, match=r"too many pixels \(49 megapixels\)\. Please "
                                              r"upload a photo of at most 25 megapixels"):
        photos.process_upload(bomb)


def test_beyond_pillows_own_bomb_limit_is_refused():
    bomb = claiming(image_bytes("PNG"), (20_000, 20_000))  # Pillow raises before our check
    with pytest.raises(ValidationError, match="This photo has too many pixels"):
        photos.process_upload(bomb)


def test_compressed_text_bomb_in_a_png_is_refused():
    """zTXt chunks unpack ~1000:1; Pillow alone would keep up to 64 MB of them."""
    text = zlib.compress(b"\0" * 1_000_000, 9)
    chunks = b"".join(_png_chunk(b"zTXt", b"Comment%d\0\0" % n + text) for n in range(8))
    small = image_bytes("PNG")
    bomb = small[:33] + chunks + small[33:]
    assert len(bomb) < 20_000
    with pytest.raises(ValidationError, match="not a photo we can read"):
        photos.process_upload(bomb)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _noise(fmt: str, size=(640, 480), **save) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.merge("RGB", [Image.effect_noise(size, 40 + 10 * n) for n in range(3)]).save(
        out, format=fmt, **save)
    return out.getvalue()


@pytest.mark.parametrize("fmt, save", FORMATS)
def test_truncated_files_are_a_form_error(fmt, save):
    data = _noise(fmt, **save)
    for cut in (len(data) // 2, len(data) - 16):
        with pytest.raises(ValidationError, match="not a photo we can read"):
            photos.process_upload(data[:cut])


@pytest.mark.skipif(not photos.HEIF_SUPPORTED, reason="pillow-heif not available")
def test_heic_whose_header_understates_its_picture_is_refused():
    """The estimate trusts the header (ispe); libheif refuses a larger picture behind it."""
    liar = claiming(image_bytes("HEIF", (640, 480)), (64, 48))
    with pytest.raises(ValidationError, match="not a photo we can read"):
        photos.process_upload(liar)


def test_garbage_after_a_valid_header_is_a_form_error():
    data = image_bytes("PNG", (640, 480))
    with pytest.raises(ValidationError, match="not a photo we can read"):
        photos.process_upload(data[:41] + b"\xff" * 3000)


_420, _422, _444, _CMYK = ((2, 2), (1, 1), (1, 1)), ((2, 1), (1, 1), (1, 1)), ((1, 1),) * 3, \
    ((1, 1),) * 4


@pytest.mark.parametrize("fmt, size, mode, sampling, depth, accepted", [
    # phones and cameras: 12 MP (JPEG 4:2:0, HEIC), 24 MP iPhone 15 HEIC, 24 MP camera, 48 MP
    ("JPEG", (4032, 3024), "RGB", _420, 8, True),
    ("JPEG", (4032, 3024), "RGB", _444, 8, True),
    ("HEIF", (4032, 3024), "RGB", _444, 8, True),
    ("HEIF", (4032, 3024), "RGBA", _444, 10, True),
    ("HEIF", (5712, 4284), "RGB", _444, 8, True),
    ("JPEG", (6000, 4000), "RGB", _422, 8, True),
    ("JPEG", (8000, 6000), "RGB", _420, 8, True),
    ("JPEG", (4032, 3024), "CMYK", _CMYK, 8, True),
    ("WEBP", (4032, 3024), "RGBA", _444, 8, True),
    ("PNG", (5000, 5000), "RGBA", _444, 8, True),
    # just over a cap
    ("PNG", (5000, 5001), "RGBA", _444, 8, False),
    ("HEIF", (5000, 5001), "RGB", _444, 8, False),
    ("WEBP", (4000, 3251), "RGBA", _444, 8, False),
    ("JPEG", (8192, 6104), "RGB", _420, 8, False),
    # what the decoder holds decides for the same pixels: 4:4:4, CMYK, 10 bits cost more
    ("JPEG", (8000, 6000), "CMYK", _CMYK, 8, False),
    ("JPEG", (8000, 6000), "RGB", _444, 8, False),
    ("HEIF", (5712, 4284), "RGBA", _444, 10, False),
])
def test_caps_keep_phone_photos(fmt, size, mode, sampling, depth, accepted):
    header = photos.Header(fmt, size, mode, sampling, depth)
    assert photos.accepted(header) is accepted
    if accepted:
        photos.check_header(header)
    else:
        with pytest.raises(ValidationError, match="too many pixels"):
            photos.check_header(header)


def test_largest_accepted_is_the_edge():
    for header in (photos.Header("PNG", (8000, 6000), "RGBA"),
                   photos.Header("JPEG", (8000, 6000), "CMYK", ((1, 1),) * 4),
                   photos.Header("HEIF", (8000, 6000), "RGBA", bit_depth=10)):
        width, height = photos.largest_accepted(header)
        assert photos.accepted(header.resized((width, height)))
        assert not photos.accepted(header.resized((width + 1, (width + 1) * 3 // 4)))


def test_read_limited_refuses_by_size_before_reading():
    class Huge(io.BytesIO):
        def read(self, size=-1):  # type: ignore[no-untyped-def]
            raise AssertionError("read")

    huge = Huge()
    huge.seek(photos.MAX_BYTES)
    huge.write(b"x")
    huge.seek(0)
    with pytest.raises(ValidationError, match="at most 10 MB"):
        photos.process_upload(huge)
    with pytest.raises(ValidationError, match="at most 10 MB"):
        photos.check_upload(huge)

    class Pipe(io.RawIOBase):  # cannot seek: read at most the limit and one byte more
        def __init__(self) -> None:
            self.given = 0

        def readable(self) -> bool:
            return True

        def readinto(self, buffer):  # type: ignore[no-untyped-def]
            n = len(buffer)
            buffer[:n] = b"x" * n
            self.given += n
            return n

    pipe = Pipe()
    with pytest.raises(ValidationError, match="at most 10 MB"):
        photos.process_upload(io.BufferedReader(pipe))
    assert pipe.given <= photos.MAX_BYTES + 2 * io.DEFAULT_BUFFER_SIZE


def test_process_upload_reads_a_stream():
    processed = photos.process_upload(io.BytesIO(image_bytes("PNG")))
    assert (processed.width, processed.height) == (300, 200)


def _palette_png(**save) -> bytes:  # type: ignore[no-untyped-def]
    image = Image.new("P", (300, 200), 0)
    image.putpalette([10, 20, 30] * 256)
    out = io.BytesIO()
    image.save(out, format="PNG", **save)
    return out.getvalue()


@pytest.mark.parametrize("data", [
    image_bytes("PNG", mode="LA"), image_bytes("PNG", mode="RGBA"),
    _palette_png(transparency=0),
    streamed_png((64, 48), "RGBA", value=0), streamed_png((600, 5000), "LA", 16, value=0),
])
def test_transparency_becomes_white(data):
    processed = photos.process_upload(data)
    assert Image.open(io.BytesIO(processed.full)).getpixel((5, 5)) == pytest.approx(
        (255, 255, 255), abs=2)


def test_sixteen_bit_grey_keeps_its_tone():
    processed = photos.process_upload(streamed_png((4500, 300), "L", bit_depth=16, value=0x80))
    grey = Image.open(io.BytesIO(processed.full)).getpixel((10, 10))
    assert grey == pytest.approx((128, 128, 128), abs=2)  # a plain convert gave white


def test_cmyk_and_mpo_jpegs_are_accepted():
    cmyk = photos.process_upload(image_bytes("JPEG", mode="CMYK"))
    assert (cmyk.width, cmyk.height) == (300, 200)
    out = io.BytesIO()
    Image.new("RGB", (300, 200), "red").save(out, format="MPO", save_all=True,
                                             append_images=[Image.new("RGB", (300, 200))])
    assert Image.open(io.BytesIO(out.getvalue())).format == "MPO"
    mpo = photos.process_upload(out.getvalue())
    assert Image.open(io.BytesIO(mpo.full)).getpixel((5, 5))[0] > 240


def test_large_jpeg_is_decoded_at_reduced_scale_upright(monkeypatch):
    from PIL import JpegImagePlugin
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    data = image_bytes("JPEG", (6000, 4000), exif=exif.tobytes())
    decoded = []
    load = JpegImagePlugin.JpegImageFile.load

    def spy(self):  # type: ignore[no-untyped-def]
        if self.tile:  # a load with tiles left decodes them; later calls do nothing
            decoded.append(self.size)
        return load(self)
    monkeypatch.setattr(JpegImagePlugin.JpegImageFile, "load", spy)
    processed = photos.process_upload(data)
    assert decoded == [(3000, 2000)]  # libjpeg decoded at 1/2 scale, once
    assert (processed.width, processed.height) == (1365, 2048)


@pytest.mark.parametrize("fmt, mode", [("JPEG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB")])
def test_quality_matches_a_full_size_lanczos_resize(fmt, mode):
    """Reducing early (scaled JPEG decoding, averaging in bands) looks like resizing the whole
    picture: the mean difference is under 1.5 of 255 per channel."""
    size = (4032, 3024)
    picture = Image.merge("RGB", [Image.radial_gradient("L").resize(size),
                                  Image.linear_gradient("L").resize(size),
                                  Image.effect_mandelbrot(size, (-2, -1.5, 1, 1.5), 60)])
    if mode == "RGBA":
        picture.putalpha(Image.linear_gradient("L").rotate(90).resize(size))
    out = io.BytesIO()
    picture.save(out, format=fmt, **({"quality": 95} if fmt != "PNG" else {}))
    processed = Image.open(io.BytesIO(photos.process_upload(out.getvalue()).full))
    reference = Image.open(io.BytesIO(out.getvalue()))
    if mode == "RGBA":
        white = Image.new("RGB", size, (255, 255, 255))
        white.paste(reference, mask=reference.getchannel("A"))
        reference = white
    reference = reference.convert("RGB").resize(processed.size, Image.Resampling.LANCZOS)
    difference = ImageStat.Stat(ImageChops.difference(processed, reference)).mean
    assert max(difference) < 1.5, difference
