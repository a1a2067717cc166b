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
from diary.entry_kinds import FEEDING_METHODS, EntryInput, MeasurementInput
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

#: Which inputs each kind shows, in order (title/body/photos are common to several).
KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "note": ("title", "body"),
    "photo": ("photos", "title", "body"),
    "milestone": ("title", "body", "photos"),
    "measurement": ("weight", "length", "head", "body"),
    "feeding": ("method", "amount_ml", "duration_min", "body"),
    "sleep": ("sleep_hours", "sleep_minutes", "body"),
    "diaper": ("wet", "dirty", "body"),
    "temperature": ("temperature", "body"),
    "medication": ("med_name", "med_dose", "body"),
    "bump": ("photos", "title", "body"),
    "scan": ("scan_week", "photos", "title", "body"),
    "kicks": ("kick_count", "kick_minutes", "body"),
    "feeling": ("mood", "body"),
}



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
        """The submitted values as an EntryInput, converted to SI units."""
        data: dict[str, object] = {}
        measurement = None
        if kind == "measurement":
            weight = optional_float(self.weight.data)
            length = optional_float(self.length.data)
            head = optional_float(self.head.data)
            measurement = MeasurementInput(
                weight_kg=None if weight is None else units.weight_to_kg(
                    weight, self.weight_unit.data, optional_float(self.weight_oz.data) or 0.0),
                length_cm=None if length is None else units.length_to_cm(length,
                                                                         self.length_unit.data),
                head_cm=None if head is None else units.length_to_cm(head, self.head_unit.data))
        elif kind == "feeding":
            data = {"method": self.method.data, "amount_ml": self.amount_ml.data,
                    "duration_min": self.duration_min.data}
        elif kind == "sleep":
            total = (self.sleep_hours.data or 0) * 60 + (self.sleep_minutes.data or 0)
            data = {"duration_min": total or None}
        elif kind == "diaper":
            data = {"wet": self.wet.data, "dirty": self.dirty.data}
        elif kind == "temperature":
            value = optional_float(self.temperature.data)
            data = {"celsius": None if value is None else
                    units.temperature_to_c(value, self.temperature_unit.data)}
        elif kind == "medication":
            data = {"name": self.med_name.data, "dose": self.med_dose.data}
        elif kind == "kicks":
            data = {"count": self.kick_count.data, "duration_min": self.kick_minutes.data}
        elif kind == "feeling":
            data = {"mood": self.mood.data}
        elif kind == "scan":
            data = {"week": self.scan_week.data}
        return EntryInput(kind=kind, occurred_at=self.occurred_at(tz),
                          title=self.title.data or "", body=self.body.data or "",
                          data=data, measurement=measurement)

    def fill_from(self, entry: Entry, tz: str) -> None:
        local = entry.occurred_at.astimezone(ZoneInfo(tz))
        self.occurred_date.data, self.occurred_time.data = local.date(), local.time()
        self.title.data, self.body.data = entry.title, entry.body
        d = entry.data or {}
        if entry.measurement is not None:
            self.weight.data = entry.measurement.weight_kg
            self.length.data = entry.measurement.length_cm
            self.head.data = entry.measurement.head_cm
        self.method.data = d.get("method")
        self.amount_ml.data = d.get("amount_ml")
        self.duration_min.data = d.get("duration_min")
        if entry.kind == "sleep" and d.get("duration_min"):
            self.sleep_hours.data, self.sleep_minutes.data = divmod(d["duration_min"], 60)
        self.wet.data, self.dirty.data = d.get("wet", False), d.get("dirty", False)
        self.temperature.data = d.get("celsius")
        self.med_name.data, self.med_dose.data = d.get("name"), d.get("dose")
        self.kick_count.data = d.get("count")
        self.kick_minutes.data = d.get("duration_min") if entry.kind == "kicks" else None
        self.mood.data = str(d["mood"]) if d.get("mood") else None
        self.scan_week.data = d.get("week")
