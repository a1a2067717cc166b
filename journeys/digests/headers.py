"""The headers every marketing email carries: a stable Message-ID and RFC 8058 unsubscribe."""
from __future__ import annotations

from urllib.parse import urlsplit

#: What mail clients show as the list's name (with the site's host as its id).
LIST_NAME = "Baby Journey"


def message_id(delivery_id: int) -> str:
    """Stable per delivery, so a resend after a crash can be recognised as the same mail."""
    return f"<delivery-{delivery_id}@babyjourney>"


def site_host(site_url: str) -> str:
    return urlsplit(site_url).hostname or "localhost"


def marketing_headers(delivery_id: int, site_url: str, unsubscribe_url: str,
                      unsubscribe_mailto: str | None = None) -> tuple[tuple[str, str], ...]:
    """Message-ID, List-Unsubscribe (the one-click link and a mailto), List-Unsubscribe-Post
    and List-Id."""
    host = site_host(site_url)
    mailto = unsubscribe_mailto or f"unsubscribe@{host}"
    return (
        ("Message-ID", message_id(delivery_id)),
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <mailto:{mailto}?subject=unsubscribe>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("List-Id", f"{LIST_NAME} <digest.{host}>"),
    )
