"""The kinds of timeline entry, declared in one place: the registry `KINDS` at the end.

Each kind is one `Kind`: its name (stored in `entries.kind`), the label parents see, an
icon, the stage it belongs to (pregnancy, baby or both), its place in the quick-add bar, the
entry form's inputs, whether the keepsake book shows it, and the validator that cleans what
was submitted. Everything else reads the registry: which kinds a child's pages offer and
refuse (`kinds_for`, `check_kind_fits`), which hold photos, the entry form
(webapp/blueprints/diary/forms.py), the labels and icons (webapp/i18n.py), the book.

Adding a kind takes:

1. one `Kind(...)` in `KINDS` below (a validator too, unless an existing one fits);
2. a Chinese translation of its label, appended to the catalogue
   (webapp/translations/zh_Hans_CN/LC_MESSAGES/messages.po; the translations test names a
   missing one);
3. only if it brings an input the entry form does not have yet: that field on `EntryForm`
   and its `data` key in `DATA_INPUTS` there; only if its `data` deserves a one-line
   summary on the timeline: a branch in templates/diary/_entry_summary.html.

A validator receives the submitted `EntryInput` and returns the cleaned `data` dict for the
entry, or raises ValidationError naming the field.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Literal

from diary.errors import N_, ValidationError


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


Validator = Callable[[EntryInput], dict[str, Any]]
ChildStage = Literal["pregnancy", "baby"]
Stage = Literal["pregnancy", "baby", "both"]

FEEDING_METHODS = ("breast_left", "breast_right", "bottle_breast_milk", "bottle_formula",
                   "solids")
MOODS = (1, 2, 3, 4, 5)


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


def _note(entry: EntryInput) -> dict[str, Any]:
    if not entry.body.strip() and not entry.title.strip():
        raise ValidationError(N_("Please write something in the note."), "body")
    return {}


def _feeling(entry: EntryInput) -> dict[str, Any]:
    mood = _number(entry.data, "mood", 1, 5, N_("mood"), required=True, integer=True)
    return {"mood": mood}


def _photo(entry: EntryInput) -> dict[str, Any]:
    if entry.photo_count < 1:
        raise ValidationError(N_("Please choose at least one photo."), "photos")
    return {}


def _scan(entry: EntryInput) -> dict[str, Any]:
    if entry.photo_count < 1 and not entry.body.strip():
        raise ValidationError(N_("Add a scan picture or a few words about the scan."), "body")
    week = _number(entry.data, "week", 4, 42, N_("pregnancy week"), integer=True)
    return {"week": week} if week is not None else {}


def _milestone(entry: EntryInput) -> dict[str, Any]:
    if not entry.title.strip():
        raise ValidationError(N_("Please name the milestone (for example “First smile”)."), "title")
    # A milestone ticked on the checklist names it; anything else is not kept.
    from diary.milestones import is_known  # lazy: diary.milestones imports diary.entries
    milestone_id = entry.data.get("milestone_id")
    return {"milestone_id": milestone_id} if is_known(milestone_id) else {}


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


def _sleep(entry: EntryInput) -> dict[str, Any]:
    minutes = _number(entry.data, "duration_min", 1, 1440, N_("sleep duration in minutes"),
                      required=True, integer=True)
    return {"duration_min": minutes}


def _tummy_time(entry: EntryInput) -> dict[str, Any]:
    minutes = _number(entry.data, "duration_min", 1, 120, N_("duration in minutes"),
                      required=True, integer=True)
    return {"duration_min": minutes}


def _diaper(entry: EntryInput) -> dict[str, Any]:
    wet, dirty = bool(entry.data.get("wet")), bool(entry.data.get("dirty"))
    if not wet and not dirty:
        raise ValidationError(N_("Tick wet, dirty or both."), "wet")
    return {"wet": wet, "dirty": dirty}


def _temperature(entry: EntryInput) -> dict[str, Any]:
    celsius = _number(entry.data, "celsius", 30, 45, N_("temperature in °C"), required=True)
    return {"celsius": round(float(celsius or 0), 2)}


def _medication(entry: EntryInput) -> dict[str, Any]:
    name = _text(entry.data, "name")
    if not name:
        raise ValidationError(N_("Please enter the medicine's name."), "name")
    return {"name": name, "dose": _text(entry.data, "dose", 60)}


def _kicks(entry: EntryInput) -> dict[str, Any]:
    count = _number(entry.data, "count", 1, 1000, N_("number of kicks"), required=True,
                    integer=True)
    minutes = _number(entry.data, "duration_min", 1, 600, N_("minutes counted"), integer=True)
    return {"count": count, **({"duration_min": minutes} if minutes is not None else {})}


@dataclass(frozen=True)
class Kind:
    """One kind of timeline entry (see the module's docstring for what adding one takes)."""

    name: str  # stored in entries.kind (at most 16 characters)
    label: str  # what parents read, marked with N_ (translated where it is shown)
    icon: str
    stage: Stage  # "pregnancy": before the birth only; "baby": from the birth on; or "both"
    #: The entry form's inputs, in order (EntryForm fields: title, body, photos, or inputs
    #: that fill a key of `data` or the measurement). "photos" here: the entry holds photos.
    fields: tuple[str, ...]
    validate: Validator
    #: Its place in the child page's quick-add bar, by the child's stage (lower first);
    #: a stage it has no place for lists it under "More kinds".
    quick_add: Mapping[ChildStage, int] = field(default_factory=dict, hash=False)
    in_book: bool = False  # the printable keepsake shows it

    @property
    def holds_photos(self) -> bool:
        return "photos" in self.fields

    def fits(self, stage: ChildStage) -> bool:
        return self.stage in (stage, "both")


#: Every kind, in the order the pages list them (a child's kinds are those that fit it).
KINDS: dict[str, Kind] = {kind.name: kind for kind in (
    Kind("bump", N_("Bump photo"), "🤰", "pregnancy", ("photos", "title", "body"), _photo,
         quick_add={"pregnancy": 1}, in_book=True),
    Kind("scan", N_("Scan"), "🩻", "pregnancy", ("scan_week", "photos", "title", "body"),
         _scan, quick_add={"pregnancy": 2}, in_book=True),
    Kind("kicks", N_("Kicks"), "👣", "pregnancy", ("kick_count", "kick_minutes", "body"),
         _kicks, quick_add={"pregnancy": 3}),
    Kind("feeling", N_("How I feel"), "💗", "pregnancy", ("mood", "body"), _feeling,
         quick_add={"pregnancy": 4}),
    Kind("photo", N_("Photo"), "📷", "both", ("photos", "title", "body"), _photo,
         quick_add={"baby": 1}, in_book=True),
    Kind("note", N_("Note"), "📝", "both", ("title", "body"), _note,
         quick_add={"baby": 7, "pregnancy": 5}, in_book=True),
    Kind("milestone", N_("Milestone"), "⭐", "baby", ("title", "body", "photos"), _milestone,
         quick_add={"baby": 6}, in_book=True),
    Kind("measurement", N_("Measurement"), "📏", "baby", ("weight", "length", "head", "body"),
         _measurement, quick_add={"baby": 5}, in_book=True),
    Kind("feeding", N_("Feeding"), "🍼", "baby", ("method", "amount_ml", "duration_min", "body"),
         _feeding, quick_add={"baby": 2}),
    Kind("sleep", N_("Sleep"), "😴", "baby", ("sleep_hours", "sleep_minutes", "body"), _sleep,
         quick_add={"baby": 3}),
    Kind("diaper", N_("Nappy"), "🧷", "baby", ("wet", "dirty", "body"), _diaper,
         quick_add={"baby": 4}),
    Kind("tummy_time", N_("Tummy time"), "🐢", "baby", ("duration_min", "body"), _tummy_time),
    Kind("temperature", N_("Temperature"), "🌡️", "baby", ("temperature", "body"),
         _temperature),
    Kind("medication", N_("Medication"), "💊", "baby", ("med_name", "med_dose", "body"),
         _medication),
)}

#: The names of the kinds (a live view of the registry: `kind in ENTRY_KINDS`).
ENTRY_KINDS = KINDS.keys()


def holds_photos(kind: str) -> bool:
    """Whether entries of this kind carry photos (the form shows a photo field for these)."""
    found = KINDS.get(kind)
    return found is not None and found.holds_photos


def book_kinds() -> tuple[str, ...]:
    """The kinds the keepsake book shows."""
    return tuple(k.name for k in KINDS.values() if k.in_book)


def kinds_for(born: bool) -> tuple[str, ...]:
    """The kinds a child's pages offer: the baby's once born, the pregnancy's before."""
    return tuple(k.name for k in KINDS.values() if k.fits("baby" if born else "pregnancy"))


def quick_add_kinds(born: bool) -> tuple[str, ...]:
    """The kinds of the child page's quick-add bar, in their places."""
    stage: ChildStage = "baby" if born else "pregnancy"
    chosen = [k for k in KINDS.values() if k.fits(stage) and stage in k.quick_add]
    return tuple(k.name for k in sorted(chosen, key=lambda k: k.quick_add[stage]))


def check_kind_fits(kind: str, birth_date: date | None, on: date) -> None:
    """Refuse a kind that does not fit the child on the entry's (local) day.

    Before the birth (no birth date yet, or a day before it) there are no feeds, nappies or
    measurements; from the birth day on there are no bump photos, scans or kick counts.
    A born baby's book may still hold its pregnancy, dated before the birth.
    """
    stage = KINDS[kind].stage if kind in KINDS else "both"
    if stage == "baby":
        if birth_date is None:
            raise ValidationError(N_("This kind of entry starts once the baby is born."),
                                  "kind")
        if on < birth_date:
            raise ValidationError(N_("The date cannot be before the birth date."),
                                  "occurred_at")
    elif stage == "pregnancy" and birth_date is not None and on >= birth_date:
        raise ValidationError(N_("This kind of entry is for the pregnancy; the baby is "
                                 "already born."), "kind")


def clean_data(entry: EntryInput) -> dict[str, Any]:
    kind = KINDS.get(entry.kind)
    if kind is None:
        raise ValidationError(N_("Unknown kind of entry."), "kind")
    return kind.validate(entry)
