"""What each kind of timeline entry must carry, as a registry of small validators.

A validator receives the submitted `EntryInput` and returns the cleaned `data` dict for the
entry, or raises ValidationError naming the field. Adding a kind means adding one function.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from diary.errors import N_, ValidationError
from diary.models.entries import EntryKind


@dataclass
class MeasurementInput:
    weight_kg: float | None = None
    length_cm: float | None = None
    head_cm: float | None = None


@dataclass
class EntryInput:
    kind: str
    occurred_at: datetime
    title: str = ""
    body: str = ""
    data: dict[str, Any] = field(default_factory=dict)
    measurement: MeasurementInput | None = None
    photo_count: int = 0  # photos already attached plus those being uploaded


#: The kinds that carry photos (the entry form shows a photo field for these only).
PHOTO_KINDS = frozenset({EntryKind.PHOTO.value, EntryKind.MILESTONE.value, EntryKind.BUMP.value,
                         EntryKind.SCAN.value})

#: Kinds that only make sense during the pregnancy, and kinds that start at birth; notes and
#: photos fit both.
PREGNANCY_ONLY_KINDS = frozenset({EntryKind.BUMP.value, EntryKind.SCAN.value,
                                  EntryKind.KICKS.value, EntryKind.FEELING.value})
BABY_ONLY_KINDS = frozenset({EntryKind.MILESTONE.value, EntryKind.MEASUREMENT.value,
                             EntryKind.FEEDING.value, EntryKind.SLEEP.value,
                             EntryKind.DIAPER.value, EntryKind.TEMPERATURE.value,
                             EntryKind.MEDICATION.value})


def check_kind_fits(kind: str, birth_date: date | None, on: date) -> None:
    """Refuse a kind that does not fit the child on the entry's (local) day.

    Before the birth (no birth date yet, or a day before it) there are no feeds, nappies or
    measurements; from the birth day on there are no bump photos, scans or kick counts.
    A born baby's book may still hold its pregnancy, dated before the birth.
    """
    if kind in BABY_ONLY_KINDS:
        if birth_date is None:
            raise ValidationError(N_("This kind of entry starts once the baby is born."),
                                  "kind")
        if on < birth_date:
            raise ValidationError(N_("The date cannot be before the birth date."),
                                  "occurred_at")
    elif kind in PREGNANCY_ONLY_KINDS and birth_date is not None and on >= birth_date:
        raise ValidationError(N_("This kind of entry is for the pregnancy; the baby is "
                                 "already born."), "kind")


Validator = Callable[[EntryInput], dict[str, Any]]
VALIDATORS: dict[str, Validator] = {}

FEEDING_METHODS = ("breast_left", "breast_right", "bottle_breast_milk", "bottle_formula",
                   "solids")
MOODS = (1, 2, 3, 4, 5)


def validator(*kinds: EntryKind) -> Callable[[Validator], Validator]:
    def register(fn: Validator) -> Validator:
        for kind in kinds:
            VALIDATORS[kind.value] = fn
        return fn
    return register


def _number(data: dict[str, Any], name: str, low: float, high: float, label: str,
            required: bool = False, integer: bool = False) -> float | int | None:
    value = data.get(name)
    if value in (None, ""):
        if required:
            raise ValidationError(N_("Please enter the %(label)s."), name, label=label)
        return None
    try:
        number = int(value) if integer else float(value)
    except (TypeError, ValueError):
        raise ValidationError(N_("The %(label)s must be a number."), name, label=label) from None
    if not low <= number <= high:
        raise ValidationError(N_("The %(label)s should be between %(low)s and %(high)s."), name,
                              label=label, low=f"{low:g}", high=f"{high:g}")
    return number


def _text(data: dict[str, Any], name: str, limit: int = 120) -> str:
    return str(data.get(name) or "").strip()[:limit]


@validator(EntryKind.NOTE, EntryKind.FEELING)
def _note(entry: EntryInput) -> dict[str, Any]:
    if entry.kind == EntryKind.FEELING.value:
        mood = _number(entry.data, "mood", 1, 5, N_("mood"), required=True, integer=True)
        return {"mood": mood}
    if not entry.body.strip() and not entry.title.strip():
        raise ValidationError(N_("Please write something in the note."), "body")
    return {}


@validator(EntryKind.PHOTO, EntryKind.BUMP)
def _photo(entry: EntryInput) -> dict[str, Any]:
    if entry.photo_count < 1:
        raise ValidationError(N_("Please choose at least one photo."), "photos")
    return {}


@validator(EntryKind.SCAN)
def _scan(entry: EntryInput) -> dict[str, Any]:
    if entry.photo_count < 1 and not entry.body.strip():
        raise ValidationError(N_("Add a scan picture or a few words about the scan."), "body")
    week = _number(entry.data, "week", 4, 42, N_("pregnancy week"), integer=True)
    return {"week": week} if week is not None else {}


@validator(EntryKind.MILESTONE)
def _milestone(entry: EntryInput) -> dict[str, Any]:
    if not entry.title.strip():
        raise ValidationError(N_("Please name the milestone (for example “First smile”)."), "title")
    # A milestone ticked on the checklist names it; anything else is not kept.
    from diary.milestones import is_known  # lazy: diary.milestones imports diary.entries
    milestone_id = entry.data.get("milestone_id")
    return {"milestone_id": milestone_id} if is_known(milestone_id) else {}


@validator(EntryKind.MEASUREMENT)
def _measurement(entry: EntryInput) -> dict[str, Any]:
    m = entry.measurement
    if m is None or (m.weight_kg is None and m.length_cm is None and m.head_cm is None):
        raise ValidationError(N_("Enter at least one of weight, length or head circumference."),
                              "weight")
    checks = ((m.weight_kg, 0.3, 40, "weight", N_("Weight"), "kg"),
              (m.length_cm, 25, 130, "length", N_("Length/height"), "cm"),
              (m.head_cm, 18, 60, "head", N_("Head circumference"), "cm"))
    for value, low, high, name, label, unit in checks:
        if value is not None and not low <= value <= high:
            raise ValidationError(N_("%(label)s should be between %(low)s and %(high)s %(unit)s."),
                                  name, label=label, low=f"{low:g}", high=f"{high:g}", unit=unit)
    return {}


@validator(EntryKind.FEEDING)
def _feeding(entry: EntryInput) -> dict[str, Any]:
    method = entry.data.get("method")
    if method not in FEEDING_METHODS:
        raise ValidationError(N_("Please choose how the baby was fed."), "method")
    data: dict[str, Any] = {"method": method}
    amount = _number(entry.data, "amount_ml", 1, 500, N_("amount in ml"), integer=True)
    minutes = _number(entry.data, "duration_min", 1, 180, N_("duration in minutes"), integer=True)
    if amount is not None:
        data["amount_ml"] = amount
    if minutes is not None:
        data["duration_min"] = minutes
    return data


@validator(EntryKind.SLEEP)
def _sleep(entry: EntryInput) -> dict[str, Any]:
    minutes = _number(entry.data, "duration_min", 1, 1440, N_("sleep duration in minutes"),
                      required=True, integer=True)
    return {"duration_min": minutes}


@validator(EntryKind.DIAPER)
def _diaper(entry: EntryInput) -> dict[str, Any]:
    wet, dirty = bool(entry.data.get("wet")), bool(entry.data.get("dirty"))
    if not wet and not dirty:
        raise ValidationError(N_("Tick wet, dirty or both."), "wet")
    return {"wet": wet, "dirty": dirty}


@validator(EntryKind.TEMPERATURE)
def _temperature(entry: EntryInput) -> dict[str, Any]:
    celsius = _number(entry.data, "celsius", 30, 45, N_("temperature in °C"), required=True)
    return {"celsius": round(float(celsius or 0), 2)}


@validator(EntryKind.MEDICATION)
def _medication(entry: EntryInput) -> dict[str, Any]:
    name = _text(entry.data, "name")
    if not name:
        raise ValidationError(N_("Please enter the medicine's name."), "name")
    return {"name": name, "dose": _text(entry.data, "dose", 60)}


@validator(EntryKind.KICKS)
def _kicks(entry: EntryInput) -> dict[str, Any]:
    count = _number(entry.data, "count", 1, 1000, N_("number of kicks"), required=True,
                    integer=True)
    minutes = _number(entry.data, "duration_min", 1, 600, N_("minutes counted"), integer=True)
    return {"count": count, **({"duration_min": minutes} if minutes is not None else {})}


def clean_data(entry: EntryInput) -> dict[str, Any]:
    try:
        validate = VALIDATORS[entry.kind]
    except KeyError:
        raise ValidationError(N_("Unknown kind of entry."), "kind") from None
    return validate(entry)
