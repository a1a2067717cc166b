"""Timeline entries: create, edit, delete, and read a child's timeline page by page."""
from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import BindParameter, Select, and_, bindparam, or_, select
from sqlalchemy.orm import Session, defer, joinedload, selectinload

from clock import utcnow
from db import UTCDateTime, core_rows
from diary import age as agemath
from diary import bounds, families, search
from diary.entry_kinds import (
    EntryInput,
    MeasurementInput,
    check_kind_fits,
    clean_data,
    holds_photos,
)
from diary.errors import N_, ValidationError
from diary.models import Child, Entry, Measurement, Photo, User
from diary.photos import ProcessedPhoto

MAX_PHOTOS_PER_ENTRY = 10
FUTURE_TOLERANCE = timedelta(hours=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
#: "<microseconds since 1970>_<entry id>", plain ASCII digits (int() would also take "1_000",
#: "٣" and thousands of digits).
_CURSOR = re.compile(r"(?P<micros>-?[0-9]{1,19})_(?P<entry_id>[0-9]{1,10})", re.ASCII)


def _validate_common(entry: EntryInput, child: Child) -> None:
    if entry.occurred_at.tzinfo is None:
        raise ValueError("occurred_at must be timezone-aware")
    bounds.check_instant(entry.occurred_at, "occurred_at")
    if entry.occurred_at > utcnow() + FUTURE_TOLERANCE:
        raise ValidationError(N_("The date and time cannot be in the future."), "occurred_at")
    check_kind_fits(entry.kind, child.birth_date,
                    agemath.local_date(entry.occurred_at, child.family.timezone))
    if len(entry.title) > 120:
        raise ValidationError(N_("Please keep the title under 120 characters."), "title")
    if len(entry.body) > 20_000:
        raise ValidationError(N_("Please keep the text under 20,000 characters."), "body")
    if entry.photo_count > MAX_PHOTOS_PER_ENTRY:
        raise ValidationError(N_("An entry can hold at most %(count)d photos."), "photos",
                              count=MAX_PHOTOS_PER_ENTRY)


def check_photo_room(kind: str, kept: int, adding: int) -> None:
    """Refuse new photos by their number alone: called before any file is read or decoded.

    `kept` photos stay on the entry (0 for a new one) and `adding` files came with the
    request; create_entry/update_entry check the same again with the stored photos."""
    if adding and not holds_photos(kind):
        raise ValidationError(N_("This kind of entry cannot hold photos."), "photos")
    if kept + adding > MAX_PHOTOS_PER_ENTRY:
        raise ValidationError(
            N_("An entry can hold at most %(count)d photos: there is room for %(room)d more, "
               "and %(chosen)d were chosen. Nothing was saved."), "photos",
            count=MAX_PHOTOS_PER_ENTRY, room=max(0, MAX_PHOTOS_PER_ENTRY - kept),
            chosen=adding)


def photos_kept(entry: Entry, remove_photo_ids: set[int]) -> int:
    """How many of an entry's photos stay when `remove_photo_ids` are removed."""
    return sum(1 for p in entry.photos if p.id not in remove_photo_ids)


def create_entry(session: Session, child: Child, author: User, entry_input: EntryInput,
                 photos: Sequence[tuple[str, ProcessedPhoto]] = ()) -> Entry:
    """A new entry. `photos` are (storage key, processed photo) already written to disk."""
    check_photo_room(entry_input.kind, 0, len(photos))
    entry_input.photo_count = len(photos)
    _validate_common(entry_input, child)
    entry = Entry(child=child, author=author, kind=entry_input.kind)
    _apply(entry, entry_input)
    for position, (key, processed) in enumerate(photos):
        entry.photos.append(_photo_row(key, processed, position))
    session.add(entry)
    search.reindex(session, entry)
    _weight_may_change(session, entry)
    return entry


def update_entry(session: Session, entry: Entry, entry_input: EntryInput,
                 new_photos: Sequence[tuple[str, ProcessedPhoto]] = (),
                 remove_photo_ids: AbstractSet[int] = frozenset()) -> list[str]:
    """Edit in place; returns storage keys of removed photos to delete after commit."""
    kept = [p for p in entry.photos if p.id not in remove_photo_ids]
    entry_input.kind = entry.kind  # the kind of an entry never changes
    if entry.kind == "milestone" and "milestone_id" not in entry_input.data:
        # A ticked checklist milestone stays ticked when its note or date is edited.
        entry_input.data = {**entry_input.data,
                            "milestone_id": (entry.data or {}).get("milestone_id")}
    check_photo_room(entry.kind, len(kept), len(new_photos))
    entry_input.photo_count = len(kept) + len(new_photos)
    _validate_common(entry_input, entry.child)
    removed = [p for p in entry.photos if p.id in remove_photo_ids]
    for photo in removed:
        entry.photos.remove(photo)
    start = max((p.position for p in kept), default=-1) + 1
    for offset, (key, processed) in enumerate(new_photos):
        entry.photos.append(_photo_row(key, processed, start + offset))
    _apply(entry, entry_input)
    entry.updated_at = utcnow()
    search.reindex(session, entry)
    _weight_may_change(session, entry)
    return [p.storage_key for p in removed]


def add_photos(session: Session, entry: Entry,
               photos: Sequence[tuple[str, ProcessedPhoto]]) -> list[Photo]:
    """Attach photos (already written to disk) after the entry's own, nothing else changed."""
    check_photo_room(entry.kind, len(entry.photos), len(photos))
    start = max((p.position for p in entry.photos), default=-1) + 1
    added = [_photo_row(key, processed, start + offset)
             for offset, (key, processed) in enumerate(photos)]
    entry.photos.extend(added)
    entry.updated_at = utcnow()
    session.flush()
    return added


def delete_entry(session: Session, entry: Entry) -> list[str]:
    """Delete an entry; returns photo storage keys to remove from disk after commit."""
    keys = [p.storage_key for p in entry.photos]
    _weight_may_change(session, entry)
    search.unindex(session, [entry.id])
    session.delete(entry)
    session.flush()
    return keys


def _weight_may_change(session: Session, entry: Entry) -> None:
    """A measurement written or removed may change the latest weight, which suggestions
    read (the next nappy size)."""
    if entry.kind == "measurement":
        families.signals_changed(session, [entry.child_id if entry.child_id is not None
                                           else entry.child.id])


def _apply(entry: Entry, entry_input: EntryInput) -> None:
    entry.data = clean_data(entry_input)
    entry.title = entry_input.title.strip()
    entry.body = entry_input.body.strip()
    entry.occurred_at = entry_input.occurred_at
    m = entry_input.measurement
    if entry.kind == "measurement" and m is not None:
        if entry.measurement is None:
            entry.measurement = Measurement()
        entry.measurement.weight_kg = _round(m.weight_kg, 3)
        entry.measurement.length_cm = _round(m.length_cm, 1)
        entry.measurement.head_cm = _round(m.head_cm, 1)


def _round(value: float | None, digits: int) -> float | None:
    return None if value is None else round(value, digits)


def _photo_row(key: str, processed: ProcessedPhoto, position: int) -> Photo:
    return Photo(storage_key=key, width=processed.width, height=processed.height,
                 size_bytes=len(processed.full), position=position)


@dataclass(frozen=True)
class Cursor:
    """Where the next page starts: strictly older than (occurred_at, id)."""

    occurred_at: datetime
    entry_id: int

    def encode(self) -> str:
        micros = (self.occurred_at - _EPOCH) // timedelta(microseconds=1)
        return f"{micros}_{self.entry_id}"

    @classmethod
    def decode(cls, raw: str | None) -> Cursor | None:
        if not raw:
            return None
        broken = ValidationError(N_("That page link is broken; start again from the top."))
        match = _CURSOR.fullmatch(raw)
        if match is None:
            raise broken
        entry_id = int(match["entry_id"])
        try:
            when = _EPOCH + timedelta(microseconds=int(match["micros"]))
            bounds.check_instant(when)
        except (OverflowError, ValidationError):
            raise broken from None
        if not bounds.is_row_id(entry_id):
            raise broken
        return cls(when, entry_id)


class EntryRef(NamedTuple):
    """What a timeline page needs to lay out and cache an entry's card, without the entry:
    any edit bumps `updated_at`, and the author's name is shown on the card."""

    id: int
    occurred_at: datetime
    updated_at: datetime
    author_name: str | None


#: A page of timeline references: (id, occurred_at, updated_at, author name) rows.
TimelineSelect = Select[int, datetime, datetime, str]


@dataclass(frozen=True)
class TimelineRefs:
    refs: list[EntryRef]
    next_cursor: Cursor | None


@functools.cache
def timeline_statement(kinds: bool, cursor: bool, since: bool = False, until: bool = False
                       ) -> TimelineSelect:
    """A page of references, built once per shape: every timeline page asks, and building and
    keying a statement costs more than running it. Parameters: child_id, limit, and those
    its shape names (kinds, before_time and before_id, since, until)."""
    stmt = (select(Entry.id, Entry.occurred_at, Entry.updated_at, User.display_name)
            .outerjoin(User, User.id == Entry.author_id)
            .where(Entry.child_id == bindparam("child_id")))
    if kinds:
        stmt = stmt.where(Entry.kind.in_(bindparam("kinds", expanding=True)))
    if cursor:
        before_time: BindParameter[datetime] = bindparam("before_time")
        before_id: BindParameter[int] = bindparam("before_id")
        stmt = stmt.where(or_(Entry.occurred_at < before_time,
                              and_(Entry.occurred_at == before_time,
                                   Entry.id < before_id)))
    if since:
        stmt = stmt.where(Entry.occurred_at >= bindparam("since", type_=UTCDateTime))
    if until:
        stmt = stmt.where(Entry.occurred_at < bindparam("until", type_=UTCDateTime))
    return stmt.order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(bindparam("limit"))


def timeline_query(child_id: int, kinds: list[str] | None = None, cursor: Cursor | None = None,
                   limit: int = 30, since: datetime | None = None,
                   until: datetime | None = None) -> tuple[TimelineSelect, dict[str, Any]]:
    """`timeline_refs`' statement and parameters (without a search), for a page that sends
    it with other reads (db.one_trip); `timeline_refs_of` reads its rows."""
    stmt = timeline_statement(bool(kinds), cursor is not None, since is not None,
                              until is not None)
    return stmt, {"child_id": child_id, "kinds": kinds or [], "limit": limit + 1,
                  "before_time": cursor.occurred_at if cursor else None,
                  "before_id": cursor.entry_id if cursor else None, "since": since,
                  "until": until}


def timeline_refs_of(rows: Iterable[Any], limit: int) -> TimelineRefs:
    """The page of references in the rows of `timeline_query(…, limit)`'s statement, newest
    first (sorted here too: inside db.one_trip's UNION ALL the statement's order is not
    promised)."""
    refs = sorted((EntryRef(row.id, row.occurred_at, row.updated_at, row.display_name)
                   for row in rows), key=lambda ref: (ref.occurred_at, ref.id), reverse=True)
    next_cursor = None
    if len(refs) > limit:
        refs = refs[:limit]
        next_cursor = Cursor(refs[-1].occurred_at, refs[-1].id)
    return TimelineRefs(refs, next_cursor)


def timeline_refs(session: Session, child: Child, kinds: list[str] | None = None,
                  query: str | None = None, cursor: Cursor | None = None,
                  limit: int = 30, since: datetime | None = None,
                  until: datetime | None = None) -> TimelineRefs:
    """One page of the timeline as plain rows, newest first, keyset-paginated (page 50 is as
    fast as page 1), optionally only entries at or after `since` and before `until`. Why
    rows: a page is usually rendered from cached cards, and loading
    thirty full entries with photos and measurements was most of the page's cost."""
    stmt, params = timeline_query(child.id, kinds, cursor, limit, since, until)
    clause = search.matches(session, query) if query else None
    if clause is not None:  # a search is its own statement: its words are in it
        stmt = stmt.where(clause)
    return timeline_refs_of(core_rows(session, stmt, params), limit)


def entries_by_id(session: Session, child: Child, ids: list[int]) -> dict[int, Entry]:
    """The child's entries with these ids, with what their cards show (author, measurement,
    photos); ids of other children's entries are ignored."""
    if not ids:
        return {}
    stmt = (select(Entry).where(Entry.child_id == child.id, Entry.id.in_(ids))
            .options(defer(Entry.search_text), joinedload(Entry.author),
                     joinedload(Entry.measurement), selectinload(Entry.photos)))
    return {entry.id: entry for entry in session.scalars(stmt).unique()}


def newest_by_child(session: Session, children: Sequence[Child]) -> dict[int, Entry]:
    """Each child's newest entry (by when it happened, then the newest id), with its
    measurement; a child with no entry has none. One query for all of them: the dashboard
    shows one line per child of a family with several."""
    if not children:
        return {}
    # Per child, the first row of its timeline index (child_id, occurred_at, id): one index
    # step each, however long the book (a window over all its entries read them all).
    newest_id = (select(Entry.id).where(Entry.child_id == Child.id)
                 .order_by(Entry.occurred_at.desc(), Entry.id.desc()).limit(1)
                 .correlate(Child).scalar_subquery())
    ids = select(newest_id).where(Child.id.in_([child.id for child in children]))
    stmt = (select(Entry).where(Entry.id.in_(ids))
            .options(defer(Entry.search_text), joinedload(Entry.measurement)))
    return {entry.child_id: entry for entry in session.scalars(stmt)}


__all__ = ["EntryInput", "MeasurementInput", "create_entry", "update_entry", "delete_entry",
           "add_photos", "timeline_refs", "timeline_query", "timeline_refs_of", "entries_by_id",
           "newest_by_child",
           "Cursor", "EntryRef", "TimelineRefs"]
