"""The entry form: one form whose visible fields depend on the kind of entry."""
from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import (
    BooleanField,
    DateField,
    IntegerField,
    RadioField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from diary import bounds, units
from diary.entry_kinds import FEEDING_METHODS, KINDS, EntryInput, MeasurementInput
from diary.models import Entry
from webapp.forms_common import (
    LENGTH_UNIT_CHOICES,
    WEIGHT_UNIT_CHOICES,
    MultiCheckboxField,
    NumberField,
    optional_float,
)

FEEDING_CHOICES = list(zip(FEEDING_METHODS, [
    _l("Breast (left)"), _l("Breast (right)"), _l("Bottle – breast milk"),
    _l("Bottle – formula"), _l("Solid food")], strict=True))
MOOD_CHOICES = [("5", _l("Wonderful")), ("4", _l("Good")), ("3", _l("So-so")),
                ("2", _l("Tired")), ("1", _l("Low"))]

#: Inputs that fill one key of an entry's `data` as typed, with that key. The other inputs:
#: title, body and photos; weight/length/head (the measurement, in SI units); sleep_hours +
#: sleep_minutes (duration_min) and temperature (celsius), converted. Which inputs a kind
#: shows, in order: its `fields` in diary.entry_kinds.KINDS.
DATA_INPUTS = {"method": "method", "amount_ml": "amount_ml", "duration_min": "duration_min",
               "wet": "wet", "dirty": "dirty", "med_name": "name", "med_dose": "dose",
               "kick_count": "count", "kick_minutes": "duration_min", "mood": "mood",
               "scan_week": "week"}
#: The converted inputs, with the key a domain error names for them.
CONVERTED_INPUTS = {"sleep_hours": "duration_min", "sleep_minutes": "duration_min",
                    "temperature": "celsius", "weight": "weight", "length": "length",
                    "head": "head"}


def error_fields(kind: str) -> dict[str, str]:
    """Domain error fields → the input of this kind's form that shows them ("" when the
    form has no such input: the message goes above the form)."""
    fields = KINDS[kind].fields
    mapping = {"occurred_at": "occurred_date"}
    for name in fields:
        key = DATA_INPUTS.get(name) or CONVERTED_INPUTS.get(name)
        if key is not None and key != name:
            mapping.setdefault(key, name)
    if "photos" not in fields:
        mapping["photos"] = ""
    return mapping


class EntryForm(FlaskForm):
    occurred_date = DateField(_l("Date"), validators=[InputRequired()])
    occurred_time = TimeField(_l("Time"), validators=[Optional()])
    title = StringField(_l("Title"), validators=[Optional(), Length(max=120)])
    body = TextAreaField(_l("Notes"), validators=[Optional(), Length(max=20000)],
                         description=_l("You can use **bold**, *italics* and lists."))
    photos = MultipleFileField(_l("Photos"), description=_l(
        "JPEG, PNG, WebP or HEIC, up to 10 MB each. Location data is removed."))
    remove_photos = MultiCheckboxField(_l("Remove"), choices=[], coerce=int)
    weight = NumberField(_l("Weight"), validators=[Optional(), NumberRange(min=0)])
    weight_unit = SelectField(_l("Unit"), choices=WEIGHT_UNIT_CHOICES, default="kg")
    weight_oz = NumberField(_l("oz"), validators=[Optional(), NumberRange(0, 15.99)])
    length = NumberField(_l("Length / height"), validators=[Optional(), NumberRange(min=0)])
    length_unit = SelectField(_l("Unit"), choices=LENGTH_UNIT_CHOICES, default="cm")
    head = NumberField(_l("Head circumference"), validators=[Optional(), NumberRange(min=0)])
    head_unit = SelectField(_l("Unit"), choices=LENGTH_UNIT_CHOICES, default="cm")
    method = SelectField(_l("How"), choices=FEEDING_CHOICES, validators=[Optional()])
    amount_ml = IntegerField(_l("Amount (ml)"), validators=[Optional()])
    duration_min = IntegerField(_l("Duration (minutes)"), validators=[Optional()])
    sleep_hours = IntegerField(_l("Hours"), validators=[Optional(), NumberRange(0, 24)])
    sleep_minutes = IntegerField(_l("Minutes"), validators=[Optional(), NumberRange(0, 59)])
    wet = BooleanField(_l("Wet"))
    dirty = BooleanField(_l("Dirty"))
    temperature = NumberField(_l("Temperature"), validators=[Optional()])
    temperature_unit = SelectField(_l("Unit"), choices=[("c", "°C"), ("f", "°F")], default="c")
    med_name = StringField(_l("Medicine"), validators=[Optional(), Length(max=120)])
    med_dose = StringField(_l("Dose"), validators=[Optional(), Length(max=60)])
    kick_count = IntegerField(_l("Kicks counted"), validators=[Optional()])
    kick_minutes = IntegerField(_l("Over how many minutes"), validators=[Optional()])
    mood = RadioField(_l("How do you feel?"), choices=MOOD_CHOICES, validators=[Optional()])
    scan_week = IntegerField(_l("Pregnancy week of the scan"), validators=[Optional()])

    def occurred_at(self, tz: str) -> datetime:
        """The typed local day and time as UTC (ValidationError for days out of range)."""
        local = datetime.combine(self.occurred_date.data, self.occurred_time.data or time(12))
        return bounds.local_to_utc(local, tz, "occurred_at")

    def to_input(self, kind: str, tz: str) -> EntryInput:
        """The submitted values of the kind's inputs as an EntryInput, in SI units."""
        fields = KINDS[kind].fields
        data: dict[str, object] = {DATA_INPUTS[name]: self[name].data
                                   for name in fields if name in DATA_INPUTS}
        if "sleep_hours" in fields:
            total = (self.sleep_hours.data or 0) * 60 + (self.sleep_minutes.data or 0)
            data["duration_min"] = total or None
        if "temperature" in fields:
            value = optional_float(self.temperature.data)
            data["celsius"] = None if value is None else \
                units.temperature_to_c(value, self.temperature_unit.data)
        measurement = None
        if "weight" in fields:
            weight = optional_float(self.weight.data)
            length = optional_float(self.length.data)
            head = optional_float(self.head.data)
            measurement = MeasurementInput(
                weight_kg=None if weight is None else units.weight_to_kg(
                    weight, self.weight_unit.data, optional_float(self.weight_oz.data) or 0.0),
                length_cm=None if length is None else units.length_to_cm(length,
                                                                         self.length_unit.data),
                head_cm=None if head is None else units.length_to_cm(head, self.head_unit.data))
        return EntryInput(kind=kind, occurred_at=self.occurred_at(tz),
                          title=self.title.data or "", body=self.body.data or "",
                          data=data, measurement=measurement)

    def fill_from(self, entry: Entry, tz: str) -> None:
        local = entry.occurred_at.astimezone(ZoneInfo(tz))
        self.occurred_date.data, self.occurred_time.data = local.date(), local.time()
        self.title.data, self.body.data = entry.title, entry.body
        fields = KINDS[entry.kind].fields
        d = entry.data or {}
        for name in fields:
            if name in DATA_INPUTS:
                self[name].data = d.get(DATA_INPUTS[name])
        if "wet" in fields:
            self.wet.data, self.dirty.data = bool(d.get("wet")), bool(d.get("dirty"))
        if "mood" in fields:
            self.mood.data = str(d["mood"]) if d.get("mood") else None
        if "sleep_hours" in fields and d.get("duration_min"):
            self.sleep_hours.data, self.sleep_minutes.data = divmod(d["duration_min"], 60)
        if "temperature" in fields:
            self.temperature.data = d.get("celsius")
        if entry.measurement is not None:
            self.weight.data = entry.measurement.weight_kg
            self.length.data = entry.measurement.length_cm
            self.head.data = entry.measurement.head_cm
