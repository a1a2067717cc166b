"""Measurements with their WHO percentiles, and the milestone checklist: the growth page's
numbers (diary.growth_report) and the checklist's ticks (diary.milestones), as JSON.

- `GET /children/{id}/measurements`: the birth measurements and every measurement entry,
  oldest first, each with its z-score and percentile on each WHO chart it falls on (the
  numbers the growth page rounds for its table).
- `POST /children/{id}/measurements`: a measurement entry (as the entry form writes it).
- `GET /children/{id}/milestones`: every milestone with its status for the child today.
- `PUT /children/{id}/milestones/{milestone_id}`: tick; `DELETE`: untick (the entry a tick
  made goes; one the parent added photos or words to needs `keep_entry=true` or the
  `confirm` fingerprint the 409 answer names, as the web's untick page asks).
"""
from __future__ import annotations

from datetime import UTC, date, datetime

from pydantic import AwareDatetime, BaseModel, Field

from clock import utcnow
from diary import entries, families, growth_report
from diary import milestones as milestone_service
from diary.age import local_today
from diary.entry_kinds import EntryInput, MeasurementInput
from diary.locales import locale_of
from diary.models import Child
from webapp import rewards_glue
from webapp.blueprints.api_v1.errors import ApiError
from webapp.blueprints.api_v1.framework import Call, Reply, endpoint
from webapp.database import transaction
from webapp.services import photo_store

TAG = "Growth and milestones"


class Reading(BaseModel):
    """Where one measurement falls on one WHO chart."""

    z: float = Field(description="The WHO z-score.")
    percentile: float = Field(description="The percentile (0–100), as the growth page "
                                          "rounds it for its table.")
    age_days: int = Field(description="The age the standard was read at, in days.")
    corrected: bool = Field(description="True when the corrected age was used (preterm).")


class MeasurementOut(BaseModel):
    entry_id: int | None = Field(description="None for the birth measurements on the "
                                             "child's profile.")
    date: date
    weight_kg: float | None
    length_cm: float | None
    head_cm: float | None
    percentiles: dict[str, Reading] = Field(
        description="By chart: wfa (weight for age), lhfa (length/height for age), hcfa "
                    "(head circumference for age), bmifa (BMI for age), wflh (weight for "
                    "length/height). A chart the measurement is not on is left out.")


class MeasurementList(BaseModel):
    items: list[MeasurementOut]


class MeasurementIn(BaseModel):
    occurred_at: AwareDatetime = Field(description="When it was measured (with a zone).")
    weight_kg: float | None = Field(None, description="0.3 to 40 kg.")
    length_cm: float | None = Field(None, description="25 to 130 cm.")
    head_cm: float | None = Field(None, description="18 to 60 cm.")
    note: str = Field("", max_length=5000)


def _born(call: Call, child_id: int, write: bool = False) -> Child:
    child = families.child_for(call.session, call.user, child_id, write)
    if not child.is_born:
        raise ApiError(409, "not_born", "Growth charts and milestones start once the baby is "
                                        "born.")
    return child


def _measurements(call: Call, child: Child) -> list[MeasurementOut]:
    rows = growth_report.samples(call.session, child)
    readings: dict[tuple[int | None, date], dict[str, Reading]] = {}
    for indicator in growth_report.CHART_INDICATORS:
        for p in growth_report.series(child, indicator, rows):
            readings.setdefault((p.entry_id, p.on), {})[indicator] = Reading(
                z=round(p.z, 3), percentile=round(p.percentile, 1), age_days=p.age_days,
                corrected=p.corrected)
    return [MeasurementOut(entry_id=s.entry_id, date=s.on, weight_kg=s.weight_kg,
                           length_cm=s.length_cm, head_cm=s.head_cm,
                           percentiles=readings.get((s.entry_id, s.on), {})) for s in rows]


@endpoint("GET", "/children/<int:child_id>/measurements", tag=TAG,
          summary="A child's measurements with WHO percentiles", response=MeasurementList,
          errors=(409,))
def list_measurements(call: Call, child_id: int) -> MeasurementList:
    """Oldest first; the birth measurements (if given) come first, without an entry id."""
    return MeasurementList(items=_measurements(call, _born(call, child_id)))


@endpoint("POST", "/children/<int:child_id>/measurements", tag=TAG, scope="write",
          summary="Add a measurement", body=MeasurementIn, response=MeasurementOut,
          status=201, errors=(409,))
def create_measurement(call: Call, child_id: int) -> MeasurementOut:
    """At least one of weight, length and head circumference. Answers the stored
    measurement with its percentiles."""
    body: MeasurementIn = call.body
    child = _born(call, child_id, write=True)
    with transaction() as s:
        entry = entries.create_entry(s, child, call.user, EntryInput(
            "measurement", body.occurred_at, body=body.note, measurement=MeasurementInput(
                body.weight_kg, body.length_cm, body.head_cm)))
        rewards_glue.entry_created(s, call.user, entry)
        s.flush()
        entry_id = entry.id
    found = [m for m in _measurements(call, child) if m.entry_id == entry_id]
    return found[0]


# --- milestones --------------------------------------------------------------------------------

class MilestoneOut(BaseModel):
    id: str
    month: int = Field(description="The checkpoint month (CDC/AAP).")
    domain: str
    text: str = Field(description="In the caller's language.")
    status: str = Field(description="achieved, expected (most children do this by now) or "
                                    "upcoming.")
    achieved_at: datetime | None = None
    entry_id: int | None = Field(None, description="The diary entry the tick made.")


class Checklist(BaseModel):
    age_months: int
    corrected: bool
    current_checkpoint: int | None
    upcoming_checkpoint: int | None
    items: list[MilestoneOut]


def _milestone_id(milestone_id: str) -> str:
    if not milestone_service.is_known(milestone_id):
        raise ApiError(404, message="There is no milestone with that id.")
    return milestone_id


def _checklist(call: Call, child: Child) -> Checklist:
    checklist = milestone_service.checklist(call.session, child,
                                            local_today(child.family.timezone))
    locale = locale_of(call.user)
    items = []
    for m in milestone_service.all_milestones():
        done = checklist.achieved.get(m.id)
        items.append(MilestoneOut(
            id=m.id, month=m.month, domain=m.domain, text=m.text(locale),
            status=checklist.status(m),
            achieved_at=done.occurred_at.astimezone(UTC) if done else None,
            entry_id=done.entry_id if done else None))
    return Checklist(age_months=checklist.age_months, corrected=checklist.corrected,
                     current_checkpoint=checklist.current,
                     upcoming_checkpoint=checklist.upcoming, items=items)


@endpoint("GET", "/children/<int:child_id>/milestones", tag=TAG,
          summary="The milestone checklist with what is achieved", response=Checklist,
          errors=(409,))
def list_milestones(call: Call, child_id: int) -> Checklist:
    return _checklist(call, _born(call, child_id))


class TickIn(BaseModel):
    achieved_at: AwareDatetime | None = Field(None, description="When; now if left out.")


@endpoint("PUT", "/children/<int:child_id>/milestones/<milestone_id>", tag=TAG,
          scope="write", summary="Mark a milestone achieved", body=TickIn,
          response=MilestoneOut, errors=(409,))
def tick_milestone(call: Call, child_id: int, milestone_id: str) -> MilestoneOut:
    """Writes a milestone diary entry, as the checklist's tick does. Ticking one that is
    already achieved is 409."""
    body: TickIn = call.body
    child = _born(call, child_id, write=True)
    _milestone_id(milestone_id)
    if milestone_id in milestone_service.achieved(call.session, child):
        raise ApiError(409, "already_achieved", "That milestone is already achieved.")
    with transaction() as s:
        entry = milestone_service.tick(s, child, call.user, milestone_id,
                                       body.achieved_at or utcnow(), locale_of(call.user))
        rewards_glue.entry_created(s, call.user, entry)
    return next(m for m in _checklist(call, child).items if m.id == milestone_id)


class UntickQuery(BaseModel):
    keep_entry: bool = Field(False, description="Keep the diary entry; only untick.")
    confirm: str | None = Field(None, max_length=64, description=(
        "The fingerprint a 409 answer named: delete the entry although the parent added "
        "photos or words to it (refused again if it changed since)."))


@endpoint("DELETE", "/children/<int:child_id>/milestones/<milestone_id>", tag=TAG,
          scope="write", summary="Unmark a milestone", query=UntickQuery, errors=(409,))
def untick_milestone(call: Call, child_id: int, milestone_id: str) -> Reply:
    """Deletes the entry the tick made. If the parent added photos or words to it, answers
    409 `confirm_untick` naming a fingerprint: send it back as `confirm` to delete, or
    `keep_entry=true` to keep the entry. A milestone that is not achieved is 409."""
    query: UntickQuery = call.query
    child = _born(call, child_id, write=True)
    _milestone_id(milestone_id)
    if milestone_id not in milestone_service.achieved(call.session, child):
        raise ApiError(409, "not_achieved", "That milestone is not achieved.")
    try:
        with transaction() as s:
            keys = rewards_glue.untick_milestone(s, child, milestone_id,
                                                 keep_entry=query.keep_entry,
                                                 confirmed=query.confirm)
    except milestone_service.ConfirmUntick as error:
        raise ApiError(409, "confirm_untick", (
            "The milestone's diary entry holds photos or words the parent added: send "
            f"confirm={error.preview.fingerprint} to delete it too, or keep_entry=true to "
            "keep it."), fields={"confirm": error.preview.fingerprint}) from None
    photo_store().delete(keys)
    return Reply(status=204)
