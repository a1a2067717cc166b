"""Photo uploads: checked by content, re-encoded, stripped of metadata, thumbnailed.

Nothing a parent uploads is stored as sent. Pillow decodes the image (which proves it is one
of the accepted formats whatever its name says), we rotate it upright from its EXIF
orientation, then write a fresh JPEG with no EXIF/GPS/XMP at all, plus a thumbnail.
"""
from __future__ import annotations

import io
import secrets
import warnings
from dataclasses import dataclass
from pathlib import Path

from PIL import Image, ImageOps, UnidentifiedImageError

from diary.errors import N_, ValidationError

try:  # HEIC from iPhones, when the optional decoder is present
    from pillow_heif import register_heif_opener

    register_heif_opener()
    HEIF_SUPPORTED = True
except ImportError:  # pragma: no cover - depends on the platform's wheels
    HEIF_SUPPORTED = False

ACCEPTED_FORMATS = {"JPEG", "PNG", "WEBP", "HEIF"}
MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000  # a 50-megapixel image; larger ones are refused, not decoded
FULL_SIZE = 2048
THUMB_SIZE = 480
JPEG_QUALITY = 85


@dataclass(frozen=True)
class ProcessedPhoto:
    full: bytes
    thumb: bytes
    width: int
    height: int


def process_upload(data: bytes) -> ProcessedPhoto:
    """Validate and re-encode an uploaded image; ValidationError says what is wrong."""
    if not data:
        raise ValidationError(N_("The photo file is empty."), "photos")
    if len(data) > MAX_BYTES:
        raise ValidationError(N_("Photos can be at most 10 MB."), "photos")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as probe:
                fmt = probe.format
                if fmt not in ACCEPTED_FORMATS:
                    raise ValidationError(
                        N_("Please upload a JPEG, PNG, WebP or HEIC photo."), "photos")
                if probe.width * probe.height > MAX_PIXELS:
                    raise ValidationError(N_("This photo has too many pixels."), "photos")
                probe.verify()
            with Image.open(io.BytesIO(data)) as image:
                image.load()
                upright = ImageOps.exif_transpose(image)
    except ValidationError:
        raise
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError,
            Image.DecompressionBombError, Image.DecompressionBombWarning):
        raise ValidationError(
            N_("This file is not a photo we can read. Please upload a JPEG, PNG, WebP or "
               "HEIC image."), "photos") from None
    rgb = _flatten(upright)
    full = _encode(rgb, FULL_SIZE)
    thumb = _encode(rgb, THUMB_SIZE)
    width, height = Image.open(io.BytesIO(full)).size
    return ProcessedPhoto(full=full, thumb=thumb, width=width, height=height)


def _flatten(image: Image.Image) -> Image.Image:
    """RGB on white: transparency (PNG/WebP) becomes white instead of black."""
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        background = Image.new("RGB", rgba.size, (255, 255, 255))
        background.paste(rgba, mask=rgba.getchannel("A"))
        return background
    return image.convert("RGB")


def _encode(image: Image.Image, longest_side: int) -> bytes:
    copy = image.copy()
    copy.thumbnail((longest_side, longest_side), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    # A new image carries no info dict, so no EXIF, ICC-embedded GPS or comments are written.
    clean = Image.new("RGB", copy.size)
    clean.paste(copy)
    clean.save(out, format="JPEG", quality=JPEG_QUALITY, optimize=True, progressive=True)
    return out.getvalue()


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
        """Write both sizes; a random key unless the caller names one (content packs)."""
        key = key or secrets.token_hex(16)
        for size, data in (("full", processed.full), ("thumb", processed.thumb)):
            path = self.path(key, size)
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
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
