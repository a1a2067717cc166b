"""Small helpers for web tests: images to upload, entry form data."""
from __future__ import annotations

import io
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from PIL import Image


def png_bytes(size: tuple[int, int] = (64, 48), color: tuple[int, int, int] = (200, 120, 90),
              fmt: str = "PNG", **save_args) -> bytes:  # type: ignore[no-untyped-def]
    out = io.BytesIO()
    Image.new("RGB", size, color).save(out, format=fmt, **save_args)
    return out.getvalue()


def entry_form(tz: str = "Asia/Shanghai", hours_ago: int = 1, **fields):  # type: ignore[no-untyped-def]
    when = datetime.now(ZoneInfo(tz)) - timedelta(hours=hours_ago)
    data = {"occurred_date": when.date().isoformat(), "occurred_time": when.strftime("%H:%M"),
            "weight_unit": "kg", "length_unit": "cm", "head_unit": "cm",
            "temperature_unit": "c"}
    data.update(fields)
    return data
