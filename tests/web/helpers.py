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


def mailed_link(mailer, kind: str, to: str | None = None) -> str:  # type: ignore[no-untyped-def]
    """The site path of the newest emailed link of `kind` ("verify", "join", "reset"), to
    `to` when given; fails clearly when no such email was sent."""
    import re
    for email in reversed(mailer.sent):
        if to is not None and email.to != to:
            continue
        found = re.search(rf"http://localhost(/{kind}/\S+)", email.text)
        if found:
            return found.group(1)
    raise AssertionError(f"no {kind} link mailed to {to or 'anyone'}: "
                         f"{[(e.to, e.subject) for e in mailer.sent]}")


def confirm_address(client, mailer, to: str | None = None):  # type: ignore[no-untyped-def]
    """Open the newest address-check link and press its button; returns the response."""
    link = mailed_link(mailer, "verify", to)
    assert client.get(link).status_code == 200
    return client.post(link)
