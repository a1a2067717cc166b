"""Impressions of suggestion lists, reported in batches with a signed slate token.

A rendered list of suggestions ("slate") carries one token, signed with the site's secret:
who it was shown to, for which child and at which stage, on which surface, by which model,
under which request id, and the items in the order shown. The browser reports which
positions came into view (`webapp/static/js/reco.js` keeps them for a while and sends many
lists' worth at once), and the server logs an impression per seen position:

    token = make_token(secret, Shown(...))
    shown = read_token(secret, token)            # BadSlate if altered or too old
    queue_seen(session, [(shown, positions)], now)  # the web request: one row
    drain(session)                                  # the scheduler: -> (batches, new rows)

Nothing in the request has to be trusted but the positions: the items, the child and the
person come from the token, so reporting needs no session, no CSRF token and no look-up of
the child's family (the page that rendered the list already checked it). A position outside
the list is ignored. The request only stores the batch (`queue_seen`); the scheduler's
"impressions" job writes the log (`drain`), within a minute. The idempotency key is the one
`/api/interactions` gives an impression (`tracking.site_key`), so a list reported twice, by
either path, counts once.
"""
from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, TimestampSigner
from sqlalchemy import delete, func, insert, select
from sqlalchemy.orm import Session

from db import table_of
from diary.models import Child, User
from recommender import log
from recommender.models import ImpressionBatch, Kind
from recommender.tracking import CLIENT_SURFACES, MODEL_VERSION, REQUEST_ID, site_key

PURPOSE = "reco-slate"
#: A page left open for a day still reports what it showed; older reports are dropped.
MAX_AGE = 24 * 3600
MAX_ITEMS = 50
#: How many waiting batches one drain takes (about forty impressions each).
DRAIN_BATCHES = 500


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


@lru_cache(maxsize=8)
def _signer(secret: str) -> TimestampSigner:
    return TimestampSigner(secret, salt=PURPOSE)


def slate_part(shown: Shown) -> str:
    """Everything about a shown list but its request id, encoded once per kept block: a
    showing only signs its own request id onto it (`sign_showing`), which costs a tenth of
    encoding the whole list again."""
    data = {"u": shown.user_id, "c": shown.child_id, "s": shown.surface,
            "m": shown.model_version, "g": shown.stage, "i": list(shown.item_ids)}
    return base64.urlsafe_b64encode(json.dumps(data, separators=(",", ":")).encode()) \
        .decode().rstrip("=")


def sign_showing(secret: str, part: str, request_id: str) -> str:
    """The token of one showing: "<slate part>.<request id>.<time>.<signature>"."""
    return _signer(secret).sign(f"{part}.{request_id}").decode()


def make_token(secret: str, shown: Shown) -> str:
    return sign_showing(secret, slate_part(shown), shown.request_id)


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0


def read_token(secret: str, token: Any) -> Shown:
    if not isinstance(token, str) or len(token) > 2000:
        raise BadSlate("not a slate token")
    try:
        value = _signer(secret).unsign(token, max_age=MAX_AGE).decode()
        part, request_id = value.split(".")
        data = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    except BadSignature:  # SignatureExpired included
        raise BadSlate("altered or expired") from None
    except ValueError:  # signed by us, so never in practice: not two parts, not JSON
        raise BadSlate("not a slate") from None
    if not isinstance(data, dict):
        raise BadSlate("not a slate")
    items, child = data.get("i"), data.get("c")
    if not (_whole(data.get("u")) and (child is None or _whole(child))
            and data.get("s") in CLIENT_SURFACES
            and REQUEST_ID.fullmatch(request_id)
            and isinstance(data.get("m"), str) and MODEL_VERSION.fullmatch(data["m"])
            and (data.get("g") is None or isinstance(data.get("g"), str))
            and isinstance(items, list) and len(items) <= MAX_ITEMS
            and all(_whole(i) for i in items)):
        raise BadSlate("not a slate")
    return Shown(data["u"], child, data["s"], request_id, data["m"], data.get("g"),
                 tuple(items))


def _log(session: Session, seen: Sequence[tuple[Shown, Iterable[int], datetime]]) -> int:
    """Log one impression per (slate, seen position) at its time. Lists shown to people
    whose account has gone since, or for a child who has gone, are dropped (their rows
    would name nobody)."""
    users = {shown.user_id for shown, _, _ in seen}
    children = {shown.child_id for shown, _, _ in seen if shown.child_id is not None}
    alive_users = set(session.scalars(select(User.id).where(User.id.in_(users),
                                                            User.is_active))) if users else set()
    alive_children = set(session.scalars(select(Child.id).where(Child.id.in_(children)))) \
        if children else set()
    events = []
    for shown, positions, when in seen:
        if shown.user_id not in alive_users or (
                shown.child_id is not None and shown.child_id not in alive_children):
            continue
        for position in _valid(shown, positions):
            item_id = shown.item_ids[position]
            events.append(log.Event(
                kind=Kind.IMPRESSION.value, item_id=item_id, surface=shown.surface,
                idempotency_key=site_key(shown.request_id, item_id, Kind.IMPRESSION.value,
                                         shown.user_id),
                user_id=shown.user_id, child_id=shown.child_id, stage=shown.stage,
                position=position, model_version=shown.model_version,
                request_id=shown.request_id, occurred_at=when))
    return log.record_many(session, events) if events else 0


def _valid(shown: Shown, positions: Iterable[int]) -> list[int]:
    return [p for p in sorted(set(positions)) if 0 <= p < len(shown.item_ids)]


# --- the queue: the web worker stores a batch, the scheduler logs it ---------------------------

def queue_seen(session: Session, seen: Sequence[tuple[Shown, Iterable[int]]],
               now: datetime) -> int:
    """Keep a browser's report as one `impression_batches` row for `drain` to log; returns
    how many impressions it holds (positions outside their list left out). One small insert
    whatever the batch's size: the request never pays for the log's keys and indexes."""
    slates: list[dict[str, Any]] = []
    accepted = 0
    for shown, positions in seen:
        valid = _valid(shown, positions)
        if valid:
            accepted += len(valid)
            slates.append({"u": shown.user_id, "c": shown.child_id, "s": shown.surface,
                           "r": shown.request_id, "m": shown.model_version, "g": shown.stage,
                           "i": list(shown.item_ids), "p": valid})
    if slates:
        session.execute(insert(table_of(ImpressionBatch)),
                        [{"received_at": now, "slates": slates}])
    return accepted


def drain(session: Session, limit: int | None = None) -> tuple[int, int]:
    """Log up to `limit` (else `DRAIN_BATCHES`) waiting batches, oldest first, each
    impression at the time its batch arrived, and delete them: one transaction, so a crash
    leaves them waiting and the idempotency keys make a second drain (or a second
    scheduler) log nothing twice.
    On PostgreSQL the rows are locked with SKIP LOCKED, so two schedulers share the work.
    Returns (batches taken, impressions newly logged)."""
    batches = list(session.scalars(
        select(ImpressionBatch).order_by(ImpressionBatch.id).limit(limit or DRAIN_BATCHES)
        .with_for_update(skip_locked=True)))
    if not batches:
        return 0, 0
    seen = []
    for batch in batches:
        for slate in batch.slates:
            shown = Shown(slate["u"], slate["c"], slate["s"], slate["r"], slate["m"],
                          slate["g"], tuple(slate["i"]))
            seen.append((shown, slate["p"], batch.received_at))
    logged = _log(session, seen)
    session.execute(delete(ImpressionBatch).where(
        ImpressionBatch.id.in_([b.id for b in batches])))
    return len(batches), logged


def waiting(session: Session) -> int:
    """How many batches wait to be logged."""
    return session.scalar(select(func.count()).select_from(ImpressionBatch)) or 0
