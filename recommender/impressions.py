"""Impressions of suggestion lists, reported in batches with a signed slate token.

A rendered list of suggestions ("slate") carries one token, signed with the site's secret:
who it was shown to, for which child and at which stage, on which surface, by which model,
under which request id, and the items in the order shown. The browser reports which
positions came into view (`webapp/static/js/reco.js` keeps them for a while and sends many
lists' worth at once), and the server logs an impression per seen position:

    token = make_token(secret, Shown(...))
    shown = read_token(secret, token)            # BadSlate if altered or too old
    log_seen(session, [(shown, positions)], now) # -> how many were new

Nothing in the request has to be trusted but the positions: the items, the child and the
person come from the token, so reporting needs no session, no CSRF token and no look-up of
the child's family (the page that rendered the list already checked it). A position outside
the list is ignored. The idempotency key is the one `/api/interactions` gives an
impression (`tracking.site_key`), so a list reported twice, by either path, counts once.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from itsdangerous import BadSignature
from sqlalchemy import select
from sqlalchemy.orm import Session

from diary import tokens
from diary.models import Child, User
from recommender import log
from recommender.models import Kind
from recommender.tracking import CLIENT_SURFACES, MODEL_VERSION, REQUEST_ID, site_key

PURPOSE = "reco-slate"
#: A page left open for a day still reports what it showed; older reports are dropped.
MAX_AGE = 24 * 3600
MAX_ITEMS = 50


class BadSlate(Exception):
    """A slate token that was altered, has expired or does not say what a slate says."""


@dataclass(frozen=True)
class Shown:
    user_id: int
    child_id: int | None
    surface: str
    request_id: str
    model_version: str
    stage: str | None
    item_ids: tuple[int, ...]


def make_token(secret: str, shown: Shown) -> str:
    return tokens.serializer(secret, PURPOSE).dumps(
        {"u": shown.user_id, "c": shown.child_id, "s": shown.surface, "r": shown.request_id,
         "m": shown.model_version, "g": shown.stage, "i": list(shown.item_ids)})


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def read_token(secret: str, token: Any) -> Shown:
    if not isinstance(token, str) or len(token) > 2000:
        raise BadSlate("not a slate token")
    try:
        data = tokens.serializer(secret, PURPOSE).loads(token, max_age=MAX_AGE)
    except BadSignature:  # SignatureExpired included
        raise BadSlate("altered or expired") from None
    if not isinstance(data, dict):
        raise BadSlate("not a slate")
    items, child = data.get("i"), data.get("c")
    if not (_whole(data.get("u")) and (child is None or _whole(child))
            and data.get("s") in CLIENT_SURFACES
            and isinstance(data.get("r"), str) and REQUEST_ID.fullmatch(data["r"])
            and isinstance(data.get("m"), str) and MODEL_VERSION.fullmatch(data["m"])
            and (data.get("g") is None or isinstance(data.get("g"), str))
            and isinstance(items, list) and len(items) <= MAX_ITEMS
            and all(_whole(i) for i in items)):
        raise BadSlate("not a slate")
    return Shown(data["u"], child, data["s"], data["r"], data["m"], data.get("g"),
                 tuple(items))


def log_seen(session: Session, seen: Sequence[tuple[Shown, Iterable[int]]],
             now: datetime) -> int:
    """Log one impression per (slate, seen position); returns how many were new. Lists
    shown to people whose account has gone since, or for a child who has gone, are
    dropped (their rows would name nobody)."""
    users = {shown.user_id for shown, _ in seen}
    children = {shown.child_id for shown, _ in seen if shown.child_id is not None}
    alive_users = set(session.scalars(select(User.id).where(User.id.in_(users),
                                                            User.is_active))) if users else set()
    alive_children = set(session.scalars(select(Child.id).where(Child.id.in_(children)))) \
        if children else set()
    events = []
    for shown, positions in seen:
        if shown.user_id not in alive_users or (
                shown.child_id is not None and shown.child_id not in alive_children):
            continue
        for position in sorted(set(positions)):
            if not 0 <= position < len(shown.item_ids):
                continue
            item_id = shown.item_ids[position]
            events.append(log.Event(
                kind=Kind.IMPRESSION.value, item_id=item_id, surface=shown.surface,
                idempotency_key=site_key(shown.request_id, item_id, Kind.IMPRESSION.value,
                                         shown.user_id),
                user_id=shown.user_id, child_id=shown.child_id, stage=shown.stage,
                position=position, model_version=shown.model_version,
                request_id=shown.request_id, occurred_at=now))
    return log.record_many(session, events) if events else 0
