"""The headers every marketing email carries (a stable Message-ID and RFC 8058 unsubscribe),
and survey emails too (the unsubscribe part)."""
from __future__ import annotations

from email.utils import parseaddr
from urllib.parse import urlsplit

#: What mail clients show as the list's name (with the site's host as its id).
LIST_NAME = "Baby Journey"


def message_id(delivery_id: int) -> str:
    """Stable per delivery, so a resend after a crash can be recognised as the same mail."""
    return f"<delivery-{delivery_id}@babyjourney>"


def site_host(site_url: str) -> str:
    return urlsplit(site_url).hostname or "localhost"


def unsubscribe_mailto(mail_from: str | None) -> str | None:
    """unsubscribe@ the sender's domain (MAIL_FROM), or None when it names none (the
    headers then use the site's host)."""
    sender = parseaddr(str(mail_from or ""))[1]
    return f"unsubscribe@{sender.rsplit('@', 1)[-1]}" if "@" in sender else None


def unsubscribe_headers(site_url: str, unsubscribe_url: str,
                        unsubscribe_mailto: str | None = None, list_name: str = "digest"
                        ) -> tuple[tuple[str, str], ...]:
    """RFC 8058: List-Unsubscribe (the one-click link and a mailto), List-Unsubscribe-Post,
    and List-Id (`list_name` on the site's host: "digest", "surveys")."""
    host = site_host(site_url)
    mailto = unsubscribe_mailto or f"unsubscribe@{host}"
    return (
        ("List-Unsubscribe", f"<{unsubscribe_url}>, <mailto:{mailto}?subject=unsubscribe>"),
        ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click"),
        ("List-Id", f"{LIST_NAME} <{list_name}.{host}>"),
    )


def marketing_headers(delivery_id: int, site_url: str, unsubscribe_url: str,
                      unsubscribe_mailto: str | None = None) -> tuple[tuple[str, str], ...]:
    """Message-ID and the unsubscribe headers."""
    return (("Message-ID", message_id(delivery_id)),
            *unsubscribe_headers(site_url, unsubscribe_url, unsubscribe_mailto))
