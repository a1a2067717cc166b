"""Writing the interaction log, exactly once per idempotency key.

Callers own the transaction. A write first claims its keys in `interaction_keys` (INSERT …
ON CONFLICT DO NOTHING RETURNING key): only the keys this call won become rows, so a retried
request, a reloaded page or a re-imported order line never counts twice, and two writers
racing on one key leave one row.
"""
from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, fields
from datetime import datetime
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from clock import utcnow
from db import dialect_insert, table_of
from diary import families
from recommender.models import KINDS, SURFACES, Interaction, InteractionKey, Kind

CHUNK = 500
IMPRESSION = Kind.IMPRESSION.value  # seeing a card changes nothing the suggestions read


@dataclass(frozen=True)
class Event:
    """One interaction to log. `idempotency_key` names the real-world event (the page view's
    request and slot, the order line id …); `key_for` makes one from its parts."""
    kind: str
    item_id: int
    surface: str
    idempotency_key: str
    user_id: int | None = None
    child_id: int | None = None
    stage: str | None = None
    position: int | None = None
    model_version: str | None = None
    request_id: str | None = None
    quantity: int | None = None
    amount_minor: int | None = None
    currency: str | None = None
    occurred_at: datetime | None = None
    order_ref: str | None = None  # the shop's order line id (purchases)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown interaction kind {self.kind!r}")
        if self.surface not in SURFACES:
            raise ValueError(f"unknown surface {self.surface!r}")
        if not self.idempotency_key or len(self.idempotency_key) > 64:
            raise ValueError("an idempotency key of 1–64 characters is required")


def key_for(*parts: object) -> str:
    """A 64-character idempotency key from the parts that identify one real event."""
    return hashlib.sha256("\x1f".join(str(p) for p in parts).encode()).hexdigest()


def record_many(session: Session, events: Iterable[Event]) -> int:
    """Log the events whose keys were never logged before; returns how many were new.
    A key repeated within `events` counts once (its first event). Anything but an
    impression makes the stored suggestions of the child and of the person's children
    stale (`diary.families.signals_changed`).

    Both statements are executemany with fixed SQL (the driver batches the rows), so their
    compiled form is cached: building a multi-row VALUES for each batch cost more than
    writing it."""
    first: dict[str, Event] = {}
    for event in events:
        first.setdefault(event.idempotency_key, event)
    if not first:
        return 0
    now = utcnow()
    pending: Sequence[Event] = list(first.values())
    written = 0
    for start in range(0, len(pending), CHUNK):
        chunk = pending[start:start + CHUNK]
        won = set(session.scalars(_claim(session), [
            {"key": e.idempotency_key, "created_at": now} for e in chunk]))
        rows = [{**{name: getattr(e, name) for name in _FIELDS},
                 "occurred_at": e.occurred_at or now}
                for e in chunk if e.idempotency_key in won]
        if rows:
            session.execute(insert(table_of(Interaction)), rows)
            acted = [row for row in rows if row["kind"] != IMPRESSION]
            families.signals_changed(
                session, [r["child_id"] for r in acted if r["child_id"] is not None],
                [r["user_id"] for r in acted if r["user_id"] is not None])
        written += len(rows)
    return written


_FIELDS = tuple(f.name for f in fields(Event))


def _claim(session: Session) -> Any:
    """INSERT … ON CONFLICT DO NOTHING RETURNING key: the keys this call won."""
    keys = table_of(InteractionKey)
    return (dialect_insert(session, keys).on_conflict_do_nothing(index_elements=["key"])
            .returning(keys.c.key))


def record(session: Session, event: Event) -> bool:
    """Log one event; False when its key was logged before."""
    return record_many(session, [event]) == 1
