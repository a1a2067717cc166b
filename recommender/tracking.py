"""What people do with suggested items on the site and in email, as interactions.

- The site's cards report impressions (cards actually in view), clicks, saves and dismisses
  in small batches (`parse_events` then `log_events`, one cheap transaction). Nothing the
  browser sends is trusted beyond its shape: the person is the signed-in one, the child must
  be in one of their families, the item must be live, the stage is computed here, and the
  idempotency key is derived here from (request id, item, kind, person), so a reload's
  retry or a replayed batch never counts twice.
- A product link followed from an email (`record_email_click`) is a click on the "email"
  surface, once per link.

Pages render no log writes: they only give each list of cards a request id (`new_request_id`).
"""
from __future__ import annotations

import re
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from content import library
from content.models import ContentItem
from diary import families
from diary.bounds import is_row_id
from diary.errors import N_, NotFound
from diary.models import User
from recommender import log
from recommender.context import stage_key_at
from recommender.errors import InvalidInteraction
from recommender.models import Kind, Surface

#: What a browser may report (purchases come from the shop, never from a page).
CLIENT_KINDS = (Kind.IMPRESSION.value, Kind.CLICK.value, Kind.SAVE.value, Kind.DISMISS.value,
                Kind.ADD_TO_CART.value)
#: Where on the site (email clicks and shop purchases are logged by the server alone).
CLIENT_SURFACES = (Surface.CHILD_PAGE.value, Surface.PRODUCT_LIST.value,
                   Surface.ARTICLE.value, Surface.INBOX.value)
#: Item kinds a card can show.
ITEM_KINDS = ("product", "article")
#: The model version of lists the library orders (stage window, interests), not a model.
LIBRARY_ORDER = "library"
MAX_EVENTS = 50
MAX_POSITION = 999
FIELDS = frozenset({"kind", "item_id", "surface", "position", "model_version", "request_id",
                    "child_id"})
REQUEST_ID = re.compile(r"[A-Za-z0-9_-]{8,32}")
MODEL_VERSION = re.compile(r"[A-Za-z0-9][A-Za-z0-9._:+-]{0,39}")


def new_request_id() -> str:
    """A fresh id for one rendered list of cards: 32 hex characters, the first 12 the
    millisecond it was made, so ids — and the idempotency keys built on them — arrive in
    order and each batch of impressions writes to the end of the key index instead of
    dirtying a page per row (the same reason UUIDv7 exists)."""
    return f"{time.time_ns() // 1_000_000:012x}{secrets.token_hex(10)}"


@dataclass(frozen=True)
class ClientEvent:
    kind: str
    item_id: int
    surface: str
    request_id: str
    position: int | None = None
    model_version: str | None = None
    child_id: int | None = None


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _problem(raw: Any) -> str | None:
    """Why one event cannot be taken (a message id), or None."""
    if not isinstance(raw, dict):
        return N_("it is not a JSON object")
    if not set(raw) <= FIELDS:
        return N_("it has a field we do not know")
    if raw.get("kind") not in CLIENT_KINDS:
        return N_("the kind must be impression, click, save, dismiss or add_to_cart")
    if not (_whole(raw.get("item_id")) and is_row_id(raw["item_id"])):
        return N_("the item id must be a positive whole number")
    if raw.get("surface") not in CLIENT_SURFACES:
        return N_("the surface must be child_page, product_list, article or inbox")
    request_id = raw.get("request_id")
    if not (isinstance(request_id, str) and REQUEST_ID.fullmatch(request_id)):
        return N_("the request id must be 8 to 32 letters, digits, - or _")
    position = raw.get("position")
    if position is not None and not (_whole(position) and 0 <= position <= MAX_POSITION):
        return N_("the position must be a whole number from 0 to 999")
    version = raw.get("model_version")
    if version is not None and not (isinstance(version, str)
                                    and MODEL_VERSION.fullmatch(version)):
        return N_("the model version must be up to 40 letters, digits or . _ : + -")
    child_id = raw.get("child_id")
    if child_id is not None and not (_whole(child_id) and is_row_id(child_id)):
        return N_("the child id must be a positive whole number")
    return None


def parse_events(payload: Any) -> list[ClientEvent]:
    """`{"events": [{kind, item_id, surface, request_id, position?, model_version?,
    child_id?}, …]}` → events; InvalidInteraction with the reason for anything else."""
    if not isinstance(payload, dict) or not isinstance(payload.get("events"), list):
        raise InvalidInteraction(N_("Send a JSON object with a list of events."))
    raw_events = payload["events"]
    if not 1 <= len(raw_events) <= MAX_EVENTS:
        raise InvalidInteraction(N_("Send from 1 to %(max)d events at a time."),
                                 max=MAX_EVENTS)
    events = []
    for number, raw in enumerate(raw_events, start=1):
        problem = _problem(raw)
        if problem is not None:
            raise InvalidInteraction(N_("Event %(number)d: %(problem)s."), number=number,
                                     problem=problem)
        events.append(ClientEvent(
            kind=raw["kind"], item_id=raw["item_id"], surface=raw["surface"],
            request_id=raw["request_id"], position=raw.get("position"),
            model_version=raw.get("model_version"), child_id=raw.get("child_id")))
    return events


#: One letter per kind in a site event's key.
_KIND_CODES = {"impression": "i", "click": "c", "save": "s", "dismiss": "d",
               "add_to_cart": "a", "purchase": "p"}


def site_key(request_id: str, item_id: int, kind: str, user_id: int) -> str:
    """The idempotency key of a site event: its list (request id), item, kind and person,
    written out rather than hashed so keys keep the request id's time order (at most
    2 + 32 + 3 + 2×11 = 59 characters)."""
    return f"s:{request_id}:{_KIND_CODES[kind]}:{item_id}:{user_id}"


def client_key(event: ClientEvent, user_id: int) -> str:
    return site_key(event.request_id, event.item_id, event.kind, user_id)


def log_events(session: Session, user: User, events: Sequence[ClientEvent],
               now: datetime | None = None) -> int:
    """Log what `user` did with the cards of one or more lists; returns how many events
    were new. NotFound when a child is not in the user's families (whatever their role) or
    an item is not live: nothing is logged then."""
    now = now or utcnow()
    stages: dict[int, str | None] = {}
    for child_id in sorted({e.child_id for e in events if e.child_id is not None}):
        try:
            child, _ = families.child_access(session, user, child_id)
        except NotFound:  # another family's child looks exactly like no child
            raise NotFound(N_("That child is not in your families.")) from None
        stages[child_id] = stage_key_at(child, now)
    wanted = {e.item_id for e in events}
    live = set(session.scalars(select(ContentItem.id).where(
        ContentItem.id.in_(wanted), ContentItem.kind.in_(ITEM_KINDS), library.live(now))))
    if live != wanted:
        raise NotFound(N_("That item does not exist."))
    return log.record_many(session, [
        log.Event(kind=e.kind, item_id=e.item_id, surface=e.surface,
                  idempotency_key=client_key(e, user.id), user_id=user.id,
                  child_id=e.child_id, stage=stages.get(e.child_id) if e.child_id else None,
                  position=e.position, model_version=e.model_version,
                  request_id=e.request_id, occurred_at=now)
        for e in events])


# --- email ------------------------------------------------------------------------------------

def record_email_click(session: Session, user: User, sku: str, link_key: str, at: datetime,
                       child_id: int | None = None, position: int | None = None,
                       model_version: str | None = None) -> bool:
    """A product link from an email, followed by `user`: a click on the "email" surface,
    once per link (`link_key` names the link: its delivery, person and item). The child is
    kept only if it is still in one of the user's families. False: already logged, or the
    product is gone."""
    item_id = session.scalar(select(ContentItem.id).where(ContentItem.kind == "product",
                                                          ContentItem.key == sku))
    if item_id is None:
        return False
    stage = None
    if child_id is not None:
        try:
            child, _ = families.child_access(session, user, child_id)
        except NotFound:
            child_id = None
        else:
            stage = stage_key_at(child, at)
    if model_version is not None and not MODEL_VERSION.fullmatch(model_version):
        model_version = None
    return log.record(session, log.Event(
        kind=Kind.CLICK.value, item_id=item_id, surface=Surface.EMAIL.value,
        idempotency_key=log.key_for("email", link_key), user_id=user.id, child_id=child_id,
        stage=stage, position=position, model_version=model_version, occurred_at=at))
