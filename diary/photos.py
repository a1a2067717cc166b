"""Photo uploads: checked by content, re-encoded, stripped of metadata, thumbnailed.

Nothing a parent uploads is stored as sent. Pillow reads the image (which proves it is one of
the accepted formats whatever its name says), we turn it upright from its EXIF orientation,
then write a fresh JPEG with no EXIF/GPS/XMP at all, plus a thumbnail.

A small file can describe a huge picture (a 7000 × 7000 single-colour PNG is 160 KB and
decodes to 200 MB), so every limit is checked before the step it protects:

1. the byte size, before the file is read into memory (`read_limited`);
2. the format, the width × height and what decoding will cost (`decode_cost`), from the
   header alone — Pillow's `Image.open` is lazy and decodes nothing (but for WebP, whose size
   we read ourselves first) — against MAX_PIXELS and DECODE_BUDGET;
3. only then the one decode: of a JPEG at 1/2, 1/4 or 1/8 scale (`Image.draft`) when that
   still gives FULL_SIZE pixels, of the others whole; at once averaged down by a whole factor
   a band of rows at a time (`_shrink_flat`), so no full-size converted copy is ever made
   (Pillow's `convert`, `reduce` and `thumbnail` each copy the whole picture, RGBA twice);
   rotation and resampling happen on the small picture.

tests/diary/test_photo_memory.py measures the largest accepted file of each kind.
"""
from __future__ import annotations

import errno
import io
import logging
import math
import secrets
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

from PIL import ExifTags, Image, PngImagePlugin, UnidentifiedImageError

from diary.errors import N_, ValidationError

log = logging.getLogger(__name__)

try:  # HEIC from iPhones, when the optional decoder is present
    from pillow_heif import register_heif_opener

    # Only the primary picture: embedded thumbnails, depth maps and auxiliary images are
    # never read.
    register_heif_opener(thumbnails=False, depth_images=False, aux_images=False)
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the platform's wheels
    HEIF_SUPPORTED = False

#: The most a PNG's compressed text chunks may unpack to in all (Pillow allows 64 MB).
PngImagePlugin.MAX_TEXT_MEMORY = 4 * 1024 * 1024

MAX_BYTES = 10 * 1024 * 1024
#: Width × height a file may declare, by format. All are above a 12-megapixel phone photo
#: (4032 × 3024); JPEG, PNG and HEIC also above a 24-megapixel camera or iPhone photo
#: (6000 × 4000, 5712 × 4284). A JPEG decoded at reduced scale costs little more when large.
MAX_PIXELS = {
    "JPEG": 50_000_000,
    "MPO": 50_000_000,  # a JPEG with a second picture (portrait depth maps); we keep the first
    "PNG": 25_000_000,
    "HEIF": 25_000_000,
    "WEBP": 13_000_000,
}
ACCEPTED_FORMATS = frozenset(MAX_PIXELS)
#: The most memory decoding one photo may take, as `decode_cost` estimates it from the
#: header. Measured peaks stay within it plus ~20 MB, under the 300 MB one upload may add.
DECODE_BUDGET = 224 * 1024 * 1024
FULL_SIZE = 2048
THUMB_SIZE = 480
JPEG_QUALITY = 85
REDUCING_GAP = 2  # average down by a whole factor while ≥ 2 × FULL_SIZE remains, then Lanczos
BAND_ROWS = 256  # rows converted at a time: a band costs width × 256 × 4 bytes

_NOT_A_PHOTO = N_("This file is not a photo we can read. Please upload a JPEG, PNG, WebP or "
                  "HEIC image.")
_TOO_MANY_PIXELS = N_("This photo has too many pixels (%(actual)d megapixels). Please upload "
                      "a photo of at most %(megapixels)d megapixels.")

#: Bytes per pixel of a decoded picture in Pillow (every other mode takes four).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
#: Peak bytes per pixel of decoders that always decode whole, measured with Pillow 13 and
#: pillow-heif 1.8: WebP holds libwebp's canvas, the frame it copies out and Pillow's image;
#: HEIC libheif's YCbCr planes, its RGB(A) image and Pillow's (more above 8 bits per sample).
_WEBP_BYTES = 17
_HEIF_BYTES = {8: 9, 16: 12}

# How EXIF orientation values turn a picture upright (as PIL.ImageOps.exif_transpose does).
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT, 3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM, 5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270, 7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


@dataclass(frozen=True)
class ProcessedPhoto:
    full: bytes
    thumb: bytes
    width: int
    height: int


def read_limited(stream: BinaryIO, limit: int = MAX_BYTES) -> bytes:
    """The bytes of an uploaded file, refused before reading when larger than `limit`.

    The size is taken from the stream when it can seek (Werkzeug keeps uploads in a spooled
    temporary file); otherwise at most limit + 1 bytes are read to find out."""
    size = _size(stream)
    if size is not None and size > limit:
        raise _too_big()
    data = stream.read(limit + 1)
    if len(data) > limit:
        raise _too_big()
    return data


def _size(stream: BinaryIO) -> int | None:
    """Bytes from the stream's position to its end (the position is kept), or None when the
    stream cannot seek."""
    try:
        start = stream.tell()
        size = stream.seek(0, io.SEEK_END) - start
        stream.seek(start)
    except (AttributeError, OSError, ValueError):
        return None
    return size


def _too_big() -> ValidationError:
    return ValidationError(N_("Photos can be at most 10 MB."), "photos")


def _empty() -> ValidationError:
    return ValidationError(N_("The photo file is empty."), "photos")


@contextmanager
def _readable() -> Iterator[None]:
    """Whatever a decoder trips over in a hostile or broken file becomes a form error."""
    try:
        with warnings.catch_warnings():
            # Our caps are far below Pillow's; its warning is one more refusal, never a pass.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            yield
    except ValidationError:
        raise
    except (Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(N_("This photo has too many pixels."), "photos") from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, TypeError, KeyError,
            IndexError, EOFError, ZeroDivisionError, RuntimeError, MemoryError):
        raise ValidationError(_NOT_A_PHOTO, "photos") from None


def check_upload(stream: BinaryIO) -> None:
    """Refuse an upload by its size and its header alone, decoding nothing.

    For a request with several files: each is checked so before any is decoded. The stream
    is left where it was."""
    size = _size(stream)
    if size is None:
        return  # cannot look without reading it: process_upload checks as it reads
    if size > MAX_BYTES:
        raise _too_big()
    if size == 0:
        raise _empty()
    start = stream.tell()
    try:
        with _readable():
            if _check_webp_header(stream.read(30)):
                return  # its header is all there is to check without setting up libwebp
            stream.seek(start)
            with Image.open(stream) as image:
                check_header(image)
    finally:
        stream.seek(start)


def process_upload(source: bytes | BinaryIO) -> ProcessedPhoto:
    """Validate and re-encode an uploaded image; ValidationError says what is wrong."""
    data = source if isinstance(source, bytes) else read_limited(source)
    if not data:
        raise _empty()
    if len(data) > MAX_BYTES:
        raise _too_big()
    with _readable():
        return _process(data)


def _process(data: bytes) -> ProcessedPhoto:
    small, orientation = _decode_small(data)
    full = _resized(small, FULL_SIZE)
    del small
    turn = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
    if turn is not None:
        full = full.transpose(turn)
    thumb = _resized(full, THUMB_SIZE)
    return ProcessedPhoto(full=_jpeg(full), thumb=_jpeg(thumb), width=full.width,
                          height=full.height)


def _decode_small(data: bytes) -> tuple[Image.Image, object]:
    """The picture in RGB on white, at most REDUCING_GAP × FULL_SIZE on its longest side,
    and its EXIF orientation. The decoded picture is dropped on return."""
    _check_webp_header(data)
    with Image.open(io.BytesIO(data)) as probe:
        check_header(probe)
        if probe.format == "PNG":
            probe.verify()  # chunk checksums, without decoding the pixels
    with Image.open(io.BytesIO(data)) as image:
        check_header(image)
        if image.format in ("JPEG", "MPO") and _draft_scale(image.size) > 1:
            image.draft(None, _fit(image.size, FULL_SIZE))  # libjpeg scales by 1/2, 1/4, 1/8
        image.load()
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
        small = _shrink_flat(image)
        if small is image:  # RGB and small enough already: resize it while it is open
            small = _resized(image, FULL_SIZE)
            if small is image:
                small = image.copy()
    return small, orientation


@dataclass(frozen=True)
class Header:
    """What a file's header says, before any pixel is decoded."""

    format: str | None
    size: tuple[int, int]
    mode: str = "RGB"
    sampling: tuple[tuple[int, int], ...] = ((1, 1), (1, 1), (1, 1))  # JPEG: (h, v) each
    bit_depth: int = 8  # HEIC: bits per sample

    @classmethod
    def of(cls, image: Image.Image) -> Header:
        layers = getattr(image, "layer", None) or []
        return cls(format=image.format, size=image.size, mode=image.mode,
                   sampling=tuple((h, v) for _, h, v, _ in layers)
                   or ((1, 1),) * len(image.getbands()),
                   bit_depth=int(image.info.get("bit_depth") or 8))

    @property
    def pixels(self) -> int:
        return self.size[0] * self.size[1]

    def resized(self, size: tuple[int, int]) -> Header:
        return Header(self.format, size, self.mode, self.sampling, self.bit_depth)


def check_header(image: Image.Image | Header) -> None:
    """Refuse by what the (unloaded) header says: format, width × height, decoding cost."""
    header = image if isinstance(image, Header) else Header.of(image)
    if header.format not in ACCEPTED_FORMATS:
        raise ValidationError(N_("Please upload a JPEG, PNG, WebP or HEIC photo."), "photos")
    if min(header.size) < 1 or min(min(hv) for hv in header.sampling) < 1:
        raise ValidationError(_NOT_A_PHOTO, "photos")
    if not accepted(header):
        most = largest_accepted(header)
        raise ValidationError(_TOO_MANY_PIXELS, "photos",
                              actual=-(-header.pixels // 1_000_000),
                              megapixels=most[0] * most[1] // 1_000_000)


def accepted(header: Header) -> bool:
    return (header.pixels <= MAX_PIXELS[header.format or ""]
            and decode_cost(header) <= DECODE_BUDGET)


def largest_accepted(header: Header) -> tuple[int, int]:
    """The largest size of this shape (aspect ratio, format, mode) that is accepted."""
    width, height = header.size
    low, high = 1, 1 << 16
    while low < high:  # the widest accepted width, the height following the aspect ratio
        mid = (low + high + 1) // 2
        if accepted(header.resized((mid, max(1, mid * height // width)))):
            low = mid
        else:
            high = mid - 1
    return low, max(1, low * height // width)


def decode_cost(header: Header) -> int:
    """Peak bytes that decoding and shrinking a picture will take, from its header.

    JPEG: the DCT coefficients, 2 bytes per sample of the whole picture, which libjpeg holds
    when the file is progressive or has several scans (which the header does not tell), plus
    its output at the scale `draft` will choose. PNG: its decoded pixels, 1, 2 or 4 bytes by
    mode. WebP and HEIC: as measured (_WEBP_BYTES, _HEIF_BYTES). Then the reduced RGB picture
    `_shrink_flat` makes, for all but those two, whose decoders free more than that once
    done."""
    width, height = header.size
    if header.format == "WEBP":
        return width * height * _WEBP_BYTES
    if header.format == "HEIF":
        return width * height * _HEIF_BYTES[8 if header.bit_depth <= 8 else 16]
    if header.format in ("JPEG", "MPO"):
        h_max = max(h for h, _ in header.sampling)
        v_max = max(v for _, v in header.sampling)
        mcus = -(-width // (8 * h_max)) * -(-height // (8 * v_max))
        cost = sum(mcus * h * v * 64 * 2 for h, v in header.sampling)
        scale = _draft_scale(header.size)
        width, height = -(-width // scale), -(-height // scale)
        cost += width * height * 4
    else:  # PNG
        cost = width * height * _MODE_BYTES.get(header.mode, 4)
    factor = _reduce_factor((width, height))
    if factor == 1 and header.mode == "RGB":  # resized as it is: Lanczos' intermediate rows
        return cost + FULL_SIZE * max(width, height) * 4
    return cost + -(-width // factor) * -(-height // factor) * 4


def _draft_scale(size: tuple[int, int]) -> int:
    """The scale (1, 2, 4 or 8) Pillow's JPEG `draft` picks to still give FULL_SIZE pixels."""
    target = _fit(size, FULL_SIZE)
    if target == size:
        return 1
    scale = min(size[0] // target[0], size[1] // target[1])
    return next(s for s in (8, 4, 2, 1) if scale >= s)


def _reduce_factor(size: tuple[int, int]) -> int:
    return math.ceil(max(size) / (FULL_SIZE * REDUCING_GAP))


def webp_size(data: bytes) -> tuple[int, int] | None:
    """Width and height from a WebP file's first chunk (VP8, VP8L or VP8X), else None."""
    if len(data) < 30 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return None
    chunk = data[12:16]
    if chunk == b"VP8 " and data[23:26] == b"\x9d\x01\x2a":
        return (int.from_bytes(data[26:28], "little") & 0x3FFF,
                int.from_bytes(data[28:30], "little") & 0x3FFF)
    if chunk == b"VP8L" and data[20] == 0x2F:
        bits = int.from_bytes(data[21:25], "little")
        return (bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1
    if chunk == b"VP8X":
        return (int.from_bytes(data[24:27], "little") + 1,
                int.from_bytes(data[27:30], "little") + 1)
    return None


def _check_webp_header(data: bytes) -> bool:
    """Pillow's WebP reader sets up libwebp's decoder, canvas and all, as it opens the file,
    so a WebP's size is checked before: `check_header` would come too late. True for WebP."""
    if data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        return False
    size = webp_size(data)
    if size is None:
        raise ValidationError(_NOT_A_PHOTO, "photos")
    check_header(Header("WEBP", size))
    return True


def _fit(size: tuple[int, int], longest: int) -> tuple[int, int]:
    """`size` scaled down (never up) so that its longest side is at most `longest`."""
    width, height = size
    scale = longest / max(width, height)
    if scale >= 1:
        return width, height
    return max(1, round(width * scale)), max(1, round(height * scale))


def _shrink_flat(image: Image.Image) -> Image.Image:
    """RGB on white, averaged down by a whole factor, a band of rows at a time.

    Each band is converted (and flattened) and reduced on its own, so beside the decoded
    picture there are only the reduced result and one band. Flattening before averaging is
    exact: compositing on white is linear, so the average of flattened pixels is the
    flattened average of the (premultiplied) pixels."""
    width, height = image.size
    factor = _reduce_factor(image.size)
    if factor == 1 and image.mode == "RGB":
        return image
    out = Image.new("RGB", (-(-width // factor), -(-height // factor)))
    rows = factor * max(1, BAND_ROWS // factor)
    for top in range(0, height, rows):
        band = _flatten(image.crop((0, top, width, min(height, top + rows))))
        if factor > 1:
            band = band.reduce(factor)
        out.paste(band, (0, top // factor))
    return out


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparency (PNG/WebP/HEIC) becomes white instead of black."""
    if image.mode.startswith("I;16") or image.mode == "I":
        # 16-bit grey: keep the top 8 bits (a plain convert would clip nearly all to white).
        image = image.convert("I").point(lambda value: value * (1 / 256)).convert("L")
    if image.mode in ("RGBA", "LA", "PA") or (image.mode == "P"
                                              and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _resized(image: Image.Image, longest_side: int) -> Image.Image:
    if max(image.size) <= longest_side:
        return image
    return image.resize(_fit(image.size, longest_side), Image.Resampling.LANCZOS)


def _jpeg(image: Image.Image) -> bytes:
    out = io.BytesIO()
    # A new image carries no info dict, so no EXIF, ICC-embedded GPS or comments are written.
    clean = Image.new("RGB", image.size)
    clean.paste(image)
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


#: Write errors that mean "no room": the disk is full, or the quota or file size is reached.
NO_ROOM = frozenset({errno.ENOSPC, errno.EDQUOT, errno.EFBIG})


class StorageFull(ValidationError):
    """The photo could not be written for lack of room; nothing was saved."""

    def __init__(self) -> None:
        super().__init__(N_("We could not store your photo just now: our photo storage is "
                            "full. Nothing was saved; please try again later."), "photos")


class PhotoStore:
    """Files on disk under one folder; the database row holds only the random key."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def path(self, key: str, size: str = "full") -> Path:
        # Keys are 32 hex digits; anything else (also "٣" or a 5000-letter key) names no file.
        if size not in ("full", "thumb") or not (key.isascii() and key.isalnum()
                                                 and len(key) <= 64):
            raise ValueError("bad photo key or size")
        return self.root / key[:2] / f"{key}.{size}.jpg"

    def save(self, processed: ProcessedPhoto, key: str | None = None) -> str:
        """Write both sizes; a random key unless the caller names one (content packs).

        All or nothing: each file is written under a temporary name and renamed into place,
        so a reader never sees half a photo; if either write fails (a full disk), what this
        call wrote is removed again. A full disk or quota is the person's form error
        (`StorageFull`, nothing was saved); any other write error is raised as it is."""
        key = key or secrets.token_hex(16)
        placed: list[Path] = []
        try:
            for size, data in (("full", processed.full), ("thumb", processed.thumb)):
                path = self.path(key, size)
                path.parent.mkdir(parents=True, exist_ok=True)
                part = path.with_name(f".{path.name}.{secrets.token_hex(4)}.part")
                try:
                    with part.open("xb") as out:
                        out.write(data)
                    part.replace(path)
                finally:
                    part.unlink(missing_ok=True)
                placed.append(path)
        except OSError as error:
            for path in placed:
                path.unlink(missing_ok=True)
            if error.errno in NO_ROOM:
                log.error("photo store %s: %s", self.root, error)
                raise StorageFull() from error
            raise
        return key

    def keys(self, modified_before: float | None = None) -> list[str]:
        """Every stored key (optionally only those whose file is older than a POSIX time)."""
        found = []
        for path in sorted(self.root.glob("*/*.full.jpg")):
            key = path.name.removesuffix(".full.jpg")
            if key.isalnum() and (modified_before is None
                                  or path.stat().st_mtime < modified_before):
                found.append(key)
        return found

    def delete(self, keys: list[str]) -> None:
        """Remove files; called after the deleting transaction committed."""
        for key in keys:
            for size in ("full", "thumb"):
                self.path(key, size).unlink(missing_ok=True)
