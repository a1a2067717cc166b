"""Image files for upload tests, made cheaply: small real files, files whose header claims
another size (refused before decoding, so their pixels never matter), and large PNGs written
a row at a time (no picture of that size is ever held in memory)."""
from __future__ import annotations

import io
import struct
import zlib

from PIL import Image


def image_bytes(fmt: str, size: tuple[int, int] = (300, 200), mode: str = "RGB",
                color: object = None, **save_args: object) -> bytes:
    out = io.BytesIO()
    if color is None:
        color = {"RGB": (10, 200, 30), "RGBA": (10, 200, 30, 0), "CMYK": (0, 80, 200, 10),
                 "LA": (100, 0)}.get(mode, 100)
    Image.new(mode, size, color).save(out, format=fmt, **save_args)  # type: ignore[arg-type]
    return out.getvalue()


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


#: PNG colour types: grey, RGB, palette, grey + alpha, RGBA; samples per pixel.
PNG_TYPES = {"L": (0, 1), "RGB": (2, 3), "P": (3, 1), "LA": (4, 2), "RGBA": (6, 4)}


def streamed_png(size: tuple[int, int], mode: str = "RGBA", bit_depth: int = 8,
                 value: int = 0x80) -> bytes:
    """A real, complete PNG of one colour, compressed a row at a time (a 25-megapixel one is
    ~100 KB and takes ~1 MB of memory to make)."""
    width, height = size
    color_type, samples = PNG_TYPES[mode]
    row = b"\0" + bytes([value]) * (width * samples * bit_depth // 8)
    packer = zlib.compressobj(9)
    idat = b"".join(packer.compress(row) for _ in range(height)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, color_type, 0, 0, 0)
    chunks = [_png_chunk(b"IHDR", header)]
    if mode == "P":
        chunks.append(_png_chunk(b"PLTE", bytes(range(256)) * 3))
    return (b"\x89PNG\r\n\x1a\n" + b"".join(chunks) + _png_chunk(b"IDAT", idat)
            + _png_chunk(b"IEND", b""))


def claiming(data: bytes, size: tuple[int, int]) -> bytes:
    """`data` (a small JPEG, PNG, WebP or HEIC) with its header claiming `size`: what a
    bomb looks like before it is decoded."""
    width, height = size
    if data.startswith(b"\x89PNG"):
        ihdr = data[12:16] + struct.pack(">II", width, height) + data[24:29]
        return (data[:8] + struct.pack(">I", 13) + ihdr
                + struct.pack(">I", zlib.crc32(ihdr) & 0xFFFFFFFF) + data[33:])
    if data.startswith(b"\xff\xd8"):
        for marker in (b"\xff\xc0", b"\xff\xc1", b"\xff\xc2"):
            at = data.find(marker)
            if at > 0:
                return data[:at + 5] + struct.pack(">HH", height, width) + data[at + 9:]
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        if data[12:16] == b"VP8X":
            return (data[:24] + (width - 1).to_bytes(3, "little")
                    + (height - 1).to_bytes(3, "little") + data[30:])
        if data[12:16] == b"VP8 ":
            return data[:26] + struct.pack("<HH", width, height) + data[30:]
        if data[12:16] == b"VP8L":
            bits = int.from_bytes(data[21:25], "little") & ~((1 << 28) - 1)
            bits |= (width - 1) | ((height - 1) << 14)
            return data[:21] + bits.to_bytes(4, "little") + data[25:]
    at = data.find(b"ispe")
    if at > 0:  # HEIF: the image spatial extents property of the primary picture
        return data[:at + 8] + struct.pack(">II", width, height) + data[at + 16:]
    raise ValueError("no header to rewrite")
