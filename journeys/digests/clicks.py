"""Click tracking: signed links that name the delivery, the person, the item and the page.

Every link in a marketing email is the tracker's URL (`SiteLinks.click`) with a signed token
naming the delivery, the person, the item and the site path it leads to; the web app logs
the click and redirects to that path on this site only. A link counts one click however
often it is fetched (`record_click`): reloads and mail scanners are not new clicks, and HEAD
requests are not clicks at all. A product link may also name the child (and the product's
position) it was suggested for; its first click is an interaction on the "email" surface
too (`recommender.tracking.record_email_click`), which the recommender learns from.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select
from sqlalchemy.orm import Session

from db import dialect_insert
from diary import tokens
from diary.bounds import is_row_id
from diary.models import User
from journeys.links import SiteLinks
from journeys.models import Delivery, EmailClick, click_key
from recommender import tracking

CLICK_PURPOSE = "email-click"
#: Click links older than this still redirect, but the click is no longer logged.
CLICK_MAX_AGE = 400 * 24 * 3600
#: How much of the person's random link key a click link carries: enough that a link made
#: for a deleted account never counts for a newer one with the same id, short for the URL.
CLICK_KEY_CHARS = 8


def make_click_token(secret: str, delivery_id: int, user_id: int, item_key: str,
                     path: str, user_key: str = "", child_id: int | None = None,
                     position: int | None = None, model_version: str | None = None) -> str:
    data: dict[str, Any] = {"d": delivery_id, "u": user_id, "k": user_key[:CLICK_KEY_CHARS],
                            "i": item_key, "p": path}
    if child_id is not None:
        data["c"] = child_id
    if position is not None:
        data["n"] = position
    if model_version is not None:
        data["v"] = model_version
    return tokens.serializer(secret, CLICK_PURPOSE).dumps(data)


class Tracker:
    """Click-tracked links for one email: `tracked(item_key, path)` → the tracker's URL."""

    def __init__(self, links: SiteLinks, secret: str, delivery_id: int, user: User) -> None:
        self.links, self.secret = links, secret
        self.delivery_id, self.user_id, self.user_key = delivery_id, user.id, user.link_key

    def tracked(self, item_key: str, path: str, child_id: int | None = None,
                position: int | None = None, model_version: str | None = None) -> str:
        """`child_id` and `position`: the child a suggested product is for, and its place in
        the email's list (a click on it is then logged as an interaction with them)."""
        return self.links.click(make_click_token(self.secret, self.delivery_id, self.user_id,
                                                 item_key, path, self.user_key, child_id,
                                                 position, model_version))


def is_site_path(path: Any) -> bool:
    """A path on this site ("/articles/x?y"), never another host ("//evil", "https://…")."""
    if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
        return False
    if "\\" in path or any(ord(c) < 32 for c in path):
        return False
    parts = urlsplit(path)
    return not parts.scheme and not parts.netloc


@dataclass(frozen=True)
class Click:
    delivery_id: int | None
    user_id: int | None
    item_key: str
    path: str
    fresh: bool  # False: an old link, redirect without logging
    user_key: str = ""  # the start of the person's link key (links made before it: empty)
    child_id: int | None = None  # the child a product was suggested for
    position: int | None = None  # the product's place in the email
    model_version: str | None = None  # the model that suggested it ("control", …)


class BadClick(Exception):
    """A click token that was altered or does not name a site path."""


def read_click_token(secret: str, token: str, max_age: int = CLICK_MAX_AGE) -> Click:
    serializer = tokens.serializer(secret, CLICK_PURPOSE)
    fresh = True
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as expired:  # genuine but old: still safe to follow
        data, fresh = expired.payload, False
        try:
            data = serializer.load_payload(data) if isinstance(data, bytes) else data
        except BadSignature:
            raise BadClick(token) from None
    except BadSignature:
        raise BadClick(token) from None
    if not isinstance(data, dict) or not is_site_path(data.get("p")):
        raise BadClick(token)
    d, u, k, c, n, v = (data.get(name) for name in ("d", "u", "k", "c", "n", "v"))
    return Click(d if isinstance(d, int) else None, u if isinstance(u, int) else None,
                 str(data.get("i") or "")[:120], data["p"][:500], fresh,
                 k if isinstance(k, str) else "",
                 c if isinstance(c, int) and is_row_id(c) else None,
                 n if isinstance(n, int) and 0 <= n <= 999 else None,
                 v[:40] if isinstance(v, str) else None)


def record_click(session: Session, click: Click, now: datetime) -> bool:
    """Log the first click on a link; True if this was it, False for a repeat (a reload, a
    second tap, a mail scanner fetching the link again) or an old link, which log nothing.

    The key is the token's delivery and person even when those rows are gone (the stored
    ids are then NULL), so a link keeps counting once. Two clicks at the same moment race
    on the unique key: one row wins, the other does nothing."""
    if not click.fresh:
        return False
    # The person only if the row with that id is still theirs (its link key matches), and
    # the delivery only if it was theirs: SQLite gives the ids of deleted rows again.
    person = session.get(User, click.user_id) if click.user_id is not None else None
    user_id = person.id if person is not None and click.user_key \
        and person.link_key.startswith(click.user_key) else None
    delivery_id = click.delivery_id if click.delivery_id is not None and user_id is not None \
        and session.scalar(select(Delivery.id).where(
            Delivery.id == click.delivery_id, Delivery.user_id == user_id)) is not None \
        else None
    key = click_key(click.delivery_id, click.user_id, click.item_key, click.path)
    stmt = dialect_insert(session, EmailClick.__table__).values(
        click_key=key, delivery_id=delivery_id, user_id=user_id,
        item_key=click.item_key or None, url=click.path, clicked_at=now,
    ).on_conflict_do_nothing(index_elements=["click_key"]).returning(EmailClick.id)
    first = session.execute(stmt).scalar() is not None
    kind, _, sku = click.item_key.partition(":")
    if person is not None and user_id is not None and kind == "product" and sku:
        tracking.record_email_click(session, person, sku, key, now, click.child_id,
                                    click.position, click.model_version)
    return first


