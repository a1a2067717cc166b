"""Soft, deterministic demo photos drawn with Pillow: no downloads, no real people.

`picture(rng, motif, caption)` returns PNG bytes (960x720): a pastel gradient, one simple
motif (sun, balloons, teddy, bump silhouette, ultrasound, moon, flowers) and an optional short
ASCII caption (the default font has no Chinese glyphs).
"""
from __future__ import annotations

import io
import math
import random
from collections.abc import Callable

from PIL import Image, ImageDraw, ImageFont

PASTELS = [(255, 214, 224), (255, 236, 200), (214, 236, 255), (220, 245, 222), (236, 222, 255),
           (255, 246, 214), (208, 240, 240), (250, 224, 208)]
BRIGHT = [(246, 126, 125), (255, 183, 77), (129, 199, 132), (100, 181, 246), (186, 104, 200),
          (255, 213, 79), (77, 182, 172)]
W, H = 960, 720


def picture(rng: random.Random, motif: str, caption: str, weeks: int = 24) -> bytes:
    """A soft, deterministic PNG: a pastel gradient, a simple motif, an optional caption.

    `weeks` of pregnancy sets the size of the bump in a "bump" picture."""
    if motif == "scan":
        img = Image.new("RGB", (W, H), (10, 10, 12))
    else:
        top, bottom = rng.sample(PASTELS if motif != "moon" else [(40, 48, 96), (96, 72, 140)], 2)
        mask = Image.linear_gradient("L").resize((W, H))
        img = Image.composite(Image.new("RGB", (W, H), bottom), Image.new("RGB", (W, H), top), mask)
    draw = ImageDraw.Draw(img)
    if motif == "bump":
        _bump(draw, rng, weeks)
    else:
        MOTIFS[motif](draw, rng)
    if caption:
        font = ImageFont.load_default(size=44)
        x0, y0, x1, y1 = draw.textbbox((48, H - 100), caption, font=font)
        draw.rounded_rectangle((x0 - 18, y0 - 12, x1 + 18, y1 + 14), 18, fill=(255, 255, 255))
        draw.text((48, H - 100), caption, fill=(90, 80, 100), font=font)
    out = io.BytesIO()
    img.save(out, format="PNG", compress_level=1)
    return out.getvalue()


def _circle(draw: ImageDraw.ImageDraw, x: float, y: float, r: float, fill) -> None:
    draw.ellipse((x - r, y - r, x + r, y + r), fill=fill)


def _sun(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    x, y, r = rng.randint(160, W - 160), rng.randint(120, 240), rng.randint(60, 90)
    for k in range(12):
        a = k * math.pi / 6
        draw.line((x + math.cos(a) * (r + 15), y + math.sin(a) * (r + 15),
                   x + math.cos(a) * (r + 50), y + math.sin(a) * (r + 50)), (255, 200, 90), 8)
    _circle(draw, x, y, r, (255, 204, 92))
    for shade, dy in (((170, 215, 160), 0), ((140, 196, 140), 90)):
        cx = rng.randint(0, W)
        draw.ellipse((cx - 700, H - 200 + dy, cx + 700, H + 600 + dy), fill=shade)


def _balloons(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    knot = (W // 2 + rng.randint(-80, 80), H - 150)
    for colour in rng.sample(BRIGHT, rng.randint(3, 5)):
        x, y = rng.randint(150, W - 150), rng.randint(110, 330)
        draw.line((x, y + 80, *knot), (120, 120, 120), 2)
        draw.ellipse((x - 60, y - 78, x + 60, y + 78), fill=colour)
        _circle(draw, x - 22, y - 35, 12, (255, 255, 255))


def _teddy(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    fur = tuple(c + rng.randint(-20, 20) for c in (200, 156, 116))
    x, y = W // 2 + rng.randint(-120, 120), H // 2
    for dx in (-120, 120):
        _circle(draw, x + dx, y - 120, 60, fur)
        _circle(draw, x + dx, y - 120, 32, (240, 200, 170))
    _circle(draw, x, y, 170, fur)
    draw.ellipse((x - 75, y + 20, x + 75, y + 120), fill=(240, 214, 186))
    for dx in (-60, 60):
        _circle(draw, x + dx, y - 30, 14, (60, 45, 40))
    draw.ellipse((x - 22, y + 40, x + 22, y + 70), fill=(80, 55, 50))


def _bump(draw: ImageDraw.ImageDraw, rng: random.Random, weeks: int) -> None:
    tone = rng.choice(BRIGHT)
    x = W // 2 - 60 + rng.randint(-40, 40)
    _circle(draw, x, 150, 62, tone)
    draw.rounded_rectangle((x - 70, 220, x + 60, H), 50, fill=tone)
    r = 70 + 3 * max(0, min(weeks, 40) - 12) + rng.randint(0, 8)  # grows with the weeks
    _circle(draw, x + r - 60, 440, r, tone)
    hx, hy = x + 2 * r - 120, 430  # a small white heart on the bump
    _circle(draw, hx - 14, hy - 8, 16, (255, 255, 255))
    _circle(draw, hx + 14, hy - 8, 16, (255, 255, 255))
    draw.polygon(((hx - 30, hy - 5), (hx + 30, hy - 5), (hx, hy + 30)), fill=(255, 255, 255))


def _scan(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    draw.pieslice((W // 2 - 520, -420, W // 2 + 520, 620), 55, 125, fill=(46, 46, 50))
    for _ in range(900):
        x, y = rng.randint(180, W - 180), rng.randint(120, 610)
        g = rng.randint(50, 110)
        draw.point((x, y), (g, g, g))
    draw.arc((W // 2 - 330, 40, W // 2 + 330, 640), 20, 160, (150, 150, 150), 6)
    draw.ellipse((380, 280, 520, 400), fill=(190, 190, 185))
    draw.ellipse((470, 320, 640, 440), fill=(165, 165, 160))


def _moon(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    for _ in range(60):
        star = rng.randint(0, W), rng.randint(0, H), rng.choice((1.5, 2, 3))
        _circle(draw, *star, (255, 250, 220))
    x, y = rng.randint(300, 660), rng.randint(200, 320)
    _circle(draw, x, y, 110, (255, 236, 170))
    for dx, dy, r in ((-35, -20, 22), (30, 35, 16), (40, -45, 10)):
        _circle(draw, x + dx, y + dy, r, (240, 218, 150))


def _flowers(draw: ImageDraw.ImageDraw, rng: random.Random) -> None:
    for _ in range(rng.randint(5, 8)):
        x, y, colour = rng.randint(80, W - 80), rng.randint(260, H - 120), rng.choice(BRIGHT)
        draw.line((x, y, x + rng.randint(-20, 20), H), (110, 170, 110), 6)
        for k in range(6):
            a = k * math.pi / 3
            _circle(draw, x + math.cos(a) * 30, y + math.sin(a) * 30, 24, colour)
        _circle(draw, x, y, 20, (255, 220, 110))


#: Motifs drawn with (draw, rng); the bump also takes the week and is called directly.
MOTIFS: dict[str, Callable[[ImageDraw.ImageDraw, random.Random], None]] = {
    "sun": _sun, "balloons": _balloons, "teddy": _teddy, "scan": _scan, "moon": _moon,
    "flowers": _flowers}
