"""Timeline entries: list (filtered, cursor-paginated), create, read, update, delete.

Reads send an ETag; PATCH, PUT and DELETE honour If-Match (412 when someone changed the entry
since you read it). The rules are the diary's (diary.entries, diary.entry_kinds): the same
kinds, ranges and messages as the entry form.
"""
from __future__ import annotations

import math
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal

import pydantic
from flask import url_for
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field, WithJsonSchema

from diary import bounds, families
from diary import entries as entry_service
from diary.entries import Cursor
from diary.entry_kinds import KINDS, EntryInput, MeasurementInput
from diary.errors import ValidationError
from diary.models import Entry
from webapp import rewards_glue
from webapp.blueprints.api_v1.errors import ApiError
from webapp.blueprints.api_v1.framework import WRITE, Call, Reply, endpoint, field_errors
from webapp.database import transaction
from webapp.services import photo_store

Kind = Literal[tuple(KINDS)]  # type: ignore[valid-type]
Finite = Annotated[float, Field(allow_inf_nan=False, ge=-1e9, le=1e9)]


def _scalar(value: Any) -> Any:
    """A value of an entry's `data`: null, true/false, a string of at most 500 characters,
    or a number within ±1e9 (what the kinds' fields can hold)."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, str) and len(value) <= 500:
        return value
    if isinstance(value, int) and abs(value) <= 10**9:
        return value
    if isinstance(value, float) and math.isfinite(value) and abs(value) <= 1e9:
        return value
    raise ValueError("must be null, true/false, a string (up to 500 characters) or a number "
                     "within ±1e9")


DataValue = Annotated[Any, AfterValidator(_scalar), WithJsonSchema({"anyOf": [
    {"type": "null"}, {"type": "boolean"}, {"type": "string", "maxLength": 500},
    {"type": "number", "minimum": -1e9, "maximum": 1e9}]})]
Day = Annotated[date, Field(ge=bounds.EARLIEST_DATE, le=bounds.LATEST_DATE)]
EXAMPLE = {"kind": "note", "occurred_at": "2026-12-01T09:30:00+08:00", "title": "First smile",
           "body": "She smiled at the cat."}


class MeasurementIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    weight_kg: Finite | None = None
    length_cm: Finite | None = None
    head_cm: Finite | None = None


class EntryPut(BaseModel):
    """The whole entry again (its kind never changes)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {k: v for k, v in EXAMPLE.items() if k != "kind"}]})

    occurred_at: AwareDatetime
    title: str = Field("", max_length=120)
    body: str = Field("", max_length=20_000)
    data: dict[Annotated[str, Field(max_length=40)], DataValue] = Field(
        default_factory=dict, max_length=20)
    measurement: MeasurementIn | None = None


class EntryIn(EntryPut):
    """A new entry. `data` holds the kind's own fields, as on the entry form: feeding
    {"method", "amount_ml", "duration_min"}, sleep/tummy_time {"duration_min"}, diaper
    {"wet", "dirty"}, temperature {"celsius"}, medication {"name", "dose"}, feeling
    {"mood": 1-5}, kicks {"count", "duration_min"}, scan {"week"}, milestone
    {"milestone_id"}; measurements go in `measurement` (kg, cm)."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [EXAMPLE]})

    kind: Kind


class EntryPatch(BaseModel):
    """Only the fields sent change."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={"examples": [
        {"title": "First real smile"}]})

    occurred_at: AwareDatetime | None = None
    title: str | None = Field(None, max_length=120)
    body: str | None = Field(None, max_length=20_000)
    data: dict[Annotated[str, Field(max_length=40)], DataValue] | None = Field(
        None, max_length=20)
    measurement: MeasurementIn | None = None


class PhotoOut(BaseModel):
    id: int
    width: int
    height: int
    size_bytes: int
    url: str
    thumb_url: str


class MeasurementOut(BaseModel):
    weight_kg: float | None
    length_cm: float | None
    head_cm: float | None


class EntryOut(BaseModel):
    id: int
    child_id: int
    kind: str
    occurred_at: datetime
    title: str
    body: str
    data: dict[str, Any]
    measurement: MeasurementOut | None
    photos: list[PhotoOut]
    author_id: int | None
    created_at: datetime
    updated_at: datetime
    etag: str


class EntriesQuery(BaseModel):
    kind: list[Kind] | None = Field(None, description="Only these kinds (repeat the parameter).")
    since: Day | None = Field(None, description="From this local day on (the family's zone).")
    until: Day | None = Field(None, description="Up to and including this local day.")
    cursor: str | None = Field(None, max_length=40, description="next_cursor of the page before.")
    limit: int = Field(30, ge=1, le=100)


class EntriesPage(BaseModel):
    entries: list[EntryOut]
    #: Pass it as `cursor` for the next (older) page; null on the last page.
    next_cursor: str | None


def etag_of(entry: Entry) -> str:
    stamp = entry.updated_at.astimezone(UTC)
    return f'"e{entry.id}-{stamp:%Y%m%d%H%M%S%f}-{len(entry.photos)}"'


def photo_out(photo: Any) -> PhotoOut:
    return PhotoOut(id=photo.id, width=photo.width, height=photo.height,
                    size_bytes=photo.size_bytes,
                    url=url_for("api_v1.get_photo", photo_id=photo.id),
                    thumb_url=url_for("api_v1.get_photo", photo_id=photo.id, size="thumb"))


def entry_out(entry: Entry) -> EntryOut:
    m = entry.measurement
    return EntryOut(
        id=entry.id, child_id=entry.child_id, kind=entry.kind,
        occurred_at=entry.occurred_at.astimezone(UTC),
        title=entry.title, body=entry.body, data=dict(entry.data or {}),
        measurement=MeasurementOut(weight_kg=m.weight_kg, length_cm=m.length_cm,
                                   head_cm=m.head_cm) if m is not None else None,
        photos=[photo_out(p) for p in entry.photos], author_id=entry.author_id,
        created_at=entry.created_at, updated_at=entry.updated_at, etag=etag_of(entry))


def _input(kind: str, body: EntryIn | EntryPut) -> EntryInput:
    m = body.measurement
    return EntryInput(kind=kind, occurred_at=body.occurred_at, title=body.title,
                      body=body.body, data=dict(body.data),
                      measurement=MeasurementInput(m.weight_kg, m.length_cm, m.head_cm)
                      if m is not None else None)


def _local_day_start(day: date, tz: str) -> datetime:
    return bounds.local_to_utc(datetime.combine(day, time()), tz)


@endpoint("GET", "/children/<int:child_id>/entries", tag="Entries",
          summary="A child's timeline, newest first", query=EntriesQuery,
          response=EntriesPage)
def list_entries(call: Call, child_id: int) -> EntriesPage:
    child = families.child_for(call.session, call.user, child_id)
    q: EntriesQuery = call.query
    if q.since and q.until and q.since > q.until:
        raise ApiError(422, fields={"since": "since must not be after until."})
    try:
        cursor = Cursor.decode(q.cursor)
    except ValidationError as error:
        raise ValidationError(error.message, "cursor") from None
    tz = child.family.timezone
    page = entry_service.timeline_refs(
        call.session, child, kinds=list(q.kind or []) or None, cursor=cursor, limit=q.limit,
        since=_local_day_start(q.since, tz) if q.since else None,
        until=_local_day_start(q.until, tz) + timedelta(days=1) if q.until else None)
    loaded = entry_service.entries_by_id(call.session, child, [r.id for r in page.refs])
    return EntriesPage(entries=[entry_out(loaded[r.id]) for r in page.refs if r.id in loaded],
                       next_cursor=page.next_cursor.encode() if page.next_cursor else None)


@endpoint("POST", "/children/<int:child_id>/entries", tag="Entries", summary="Add an entry",
          scope=WRITE, body=EntryIn, response=EntryOut, status=201)
def create_entry(call: Call, child_id: int) -> Reply:
    """Photo entries need a photo: make them with POST /children/{child_id}/photos."""
    child = families.child_for(call.session, call.user, child_id, write=True)
    body: EntryIn = call.body
    with transaction() as tx:
        entry = entry_service.create_entry(tx, child, call.user, _input(body.kind, body))
        rewards_glue.entry_created(tx, call.user, entry)
    out = entry_out(entry)
    return Reply(out, etag=out.etag,
                 headers={"Location": url_for("api_v1.get_entry", entry_id=entry.id)})


@endpoint("GET", "/entries/<int:entry_id>", tag="Entries", summary="One entry",
          response=EntryOut, etag=True)
def get_entry(call: Call, entry_id: int) -> Reply:
    out = entry_out(families.entry_for(call.session, call.user, entry_id))
    return Reply(out, etag=out.etag)


def _update(call: Call, entry_id: int, changes: dict[str, Any]) -> Reply:
    entry = families.entry_for(call.session, call.user, entry_id, write=True)
    call.check_if_match(etag_of(entry))
    m = entry.measurement
    current = EntryPut(
        occurred_at=entry.occurred_at, title=entry.title, body=entry.body,
        data=dict(entry.data or {}),
        measurement=MeasurementIn(weight_kg=m.weight_kg, length_cm=m.length_cm,
                                  head_cm=m.head_cm) if m is not None else None)
    try:
        merged = EntryPut.model_validate({**current.model_dump(), **changes})
    except pydantic.ValidationError as error:
        raise ApiError(422, fields=field_errors(error)) from None
    with transaction() as tx:
        removed = entry_service.update_entry(tx, entry, _input(entry.kind, merged))
    photo_store().delete(removed)
    out = entry_out(entry)
    return Reply(out, etag=out.etag)


@endpoint("PATCH", "/entries/<int:entry_id>", tag="Entries", summary="Change an entry",
          scope=WRITE, body=EntryPatch, response=EntryOut, etag=True)
def patch_entry(call: Call, entry_id: int) -> Reply:
    changes = {k: v for k, v in call.body.model_dump(exclude_unset=True).items()
               if v is not None or k == "measurement"}
    return _update(call, entry_id, changes)


@endpoint("PUT", "/entries/<int:entry_id>", tag="Entries", summary="Replace an entry",
          scope=WRITE, body=EntryPut, response=EntryOut, etag=True)
def put_entry(call: Call, entry_id: int) -> Reply:
    return _update(call, entry_id, call.body.model_dump())


@endpoint("DELETE", "/entries/<int:entry_id>", tag="Entries", summary="Delete an entry",
          scope=WRITE, etag=True)
def delete_entry(call: Call, entry_id: int) -> None:
    entry = families.entry_for(call.session, call.user, entry_id, write=True)
    call.check_if_match(etag_of(entry))
    with transaction() as tx:
        rewards_glue.entries_deleting(tx, [entry])
        keys = entry_service.delete_entry(tx, entry)
    photo_store().delete(keys)
