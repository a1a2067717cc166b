""""Where to buy": a signed, tracked link to the product's shop page.

The page links to the site's redirect (`/go/<token>`), never to the shop directly. The token
names the product and where it was shown (surface, the list's request id, position, model
version, child); following it logs one click for the signed-in person (a reload or a second
tap of the same link counts once) and redirects to the product's stored `buy_url` — never to
an address that came with the request, so the redirect cannot be pointed anywhere else.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

from itsdangerous import BadSignature, SignatureExpired
from sqlalchemy import select
from sqlalchemy.orm import Session

from content import library
from content.models import ContentItem
from diary import families, tokens
from diary.bounds import is_row_id
from diary.errors import NotFound
from diary.models import User
from recommender import log, tracking
from recommender.context import stage_key_at
from recommender.models import Kind

PURPOSE = "buy-link"
#: A page left open this long still leads to the shop, but the click is no longer logged.
MAX_AGE = 30 * 24 * 3600


class BadBuyLink(Exception):
    """A token that was altered or names nothing we can read."""


@dataclass(frozen=True)
class BuyClick:
    item_id: int
    surface: str
    request_id: str
    position: int | None
    model_version: str | None
    child_id: int | None
    fresh: bool  # False: an old link, redirect without logging


def make_token(secret: str, item_id: int, surface: str, request_id: str | None,
               position: int | None = None, model_version: str | None = None,
               child_id: int | None = None) -> str:
    """`request_id` None: the link's address carries it beside the token (`?r=`), so one
    stored list of cards can be shown under a new request id each time; it only says which
    showing the click answers, never where the link goes."""
    data: dict[str, Any] = {"i": item_id, "s": surface}
    for key, value in (("r", request_id), ("p", position), ("m", model_version),
                       ("c", child_id)):
        if value is not None:
            data[key] = value
    return tokens.serializer(secret, PURPOSE).dumps(data)


def _int_or_none(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def read_token(secret: str, token: str, max_age: int = MAX_AGE,
               request_id: str | None = None) -> BuyClick:
    """The click a link stands for; `request_id` is the address's `r`, used when the token
    carries none."""
    serializer = tokens.serializer(secret, PURPOSE)
    fresh = True
    try:
        data = serializer.loads(token, max_age=max_age)
    except SignatureExpired as expired:  # genuine but old: still safe to follow
        fresh = False
        try:
            data = serializer.load_payload(expired.payload) \
                if isinstance(expired.payload, bytes) else expired.payload
        except BadSignature:
            raise BadBuyLink(token) from None
    except BadSignature:
        raise BadBuyLink(token) from None
    if not isinstance(data, dict):
        raise BadBuyLink(token)
    item_id, surface = _int_or_none(data.get("i")), data.get("s")
    if "r" in data:
        request_id = data["r"]
    elif not (isinstance(request_id, str) and tracking.REQUEST_ID.fullmatch(request_id)):
        request_id = tracking.new_request_id()  # the address lost its `r`: a showing of its own
    if item_id is None or not is_row_id(item_id) or surface not in tracking.CLIENT_SURFACES \
            or not (isinstance(request_id, str) and tracking.REQUEST_ID.fullmatch(request_id)):
        raise BadBuyLink(token)
    version = data.get("m")
    position = _int_or_none(data.get("p"))
    child_id = _int_or_none(data.get("c"))
    return BuyClick(item_id, surface, request_id,
                    position if position is not None and 0 <= position <= 999 else None,
                    version if isinstance(version, str)
                    and tracking.MODEL_VERSION.fullmatch(version) else None,
                    child_id if is_row_id(child_id) else None, fresh)


def is_shop_url(url: Any) -> bool:
    """An absolute https address of another site (what authoring accepts as a shop link)."""
    if not isinstance(url, str) or any(ord(c) < 33 for c in url) or "\\" in url:
        return False
    parts = urlsplit(url)
    return parts.scheme == "https" and bool(parts.hostname)


def destination(session: Session, item_id: int, now: datetime | None = None) -> str | None:
    """The live product's stored shop address; None when there is nothing to go to."""
    row = session.execute(select(ContentItem.buy_url).where(
        ContentItem.id == item_id, ContentItem.kind == "product", library.live(now))).first()
    return row.buy_url if row is not None and is_shop_url(row.buy_url) else None


def record(session: Session, user: User, click: BuyClick, now: datetime) -> bool:
    """Log the click once per (list, product, person); False for a repeat or an old link.
    The child is kept only while it is in one of the person's families."""
    if not click.fresh:
        return False
    child_id, stage = click.child_id, None
    if child_id is not None:
        try:
            child, _ = families.child_access(session, user, child_id)
        except NotFound:
            child_id = None
        else:
            stage = stage_key_at(child, now)
    return log.record(session, log.Event(
        kind=Kind.CLICK.value, item_id=click.item_id, surface=click.surface,
        idempotency_key=log.key_for("buy", click.request_id, click.item_id, Kind.CLICK.value,
                                    user.id),
        user_id=user.id, child_id=child_id, stage=stage, position=click.position,
        model_version=click.model_version, request_id=click.request_id, occurred_at=now))
