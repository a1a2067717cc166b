"""Form pieces shared by several areas: the confirm button's form, checkbox lists,
child details with units, time zones, error display."""
from __future__ import annotations

from functools import lru_cache
from zoneinfo import available_timezones

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    DateField,
    DecimalField,
    IntegerField,
    RadioField,
    SelectField,
    SelectMultipleField,
    StringField,
)
from wtforms.validators import InputRequired, Length, NumberRange, Optional, StopValidation
from wtforms.widgets import CheckboxInput, ListWidget

from diary import bounds, units
from diary.errors import DiaryError
from diary.families import ChildDetails
from diary.models import Child
from webapp.i18n import translate_error

RELATIONSHIP_CHOICES = [("mother", _l("Mother")), ("father", _l("Father")),
                        ("grandparent", _l("Grandparent")),
                        ("other", _l("Other caregiver"))]
ROLE_CHOICES = [("owner", _l("Owner – can manage the family")),
                ("editor", _l("Editor – can add and edit entries")),
                ("viewer", _l("Viewer – can only look"))]
SEX_CHOICES = [("female", _l("Girl")), ("male", _l("Boy"))]
WEIGHT_UNIT_CHOICES = [("kg", "kg"), ("g", "g"), ("lb", "lb + oz")]
LENGTH_UNIT_CHOICES = [("cm", "cm"), ("in", "in")]


class ConfirmForm(FlaskForm):
    """An empty form: its CSRF token is the confirmation that a person pressed the button
    (delete, sign out a device, resend a link, accept, retry, unsubscribe, resume …)."""


class MultiCheckboxField(SelectMultipleField):
    """A multiple choice shown as a list of checkboxes (macros/forms.html draws them)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    zones = sorted(z for z in available_timezones()
                   if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))
    return [(z, z.replace("_", " ")) for z in zones]


def apply_error(form: FlaskForm, error: DiaryError, field_map: dict[str, str] | None = None
                ) -> None:
    """Show a domain error next to the field it names (or at the top of the form)."""
    message = translate_error(error)
    name = (field_map or {}).get(error.field or "", error.field)
    field = getattr(form, name, None) if name else None
    if field is not None and hasattr(field, "errors"):
        field.errors = list(field.errors) + [message]
    else:
        form.form_errors.append(message)


def optional_float(value: object) -> float | None:
    """A form number (NumberField gives Decimal) as float, or None when left empty; a value
    that is not a finite number raises the domain's ValidationError."""
    return bounds.finite_number(value)  # type: ignore[arg-type]


class NumberField(DecimalField):
    """A decimal a person types: the one parser for every decimal input of the site.

    WTForms' DecimalField takes "NaN", "sNaN", "Infinity" and "1e999" (Decimal does), and an
    sNaN then crashes the range check; this field refuses whatever is not a finite number
    with the domain's message, next to the field.
    """

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        kwargs.setdefault("places", None)
        super().__init__(*args, **kwargs)

    def process_formdata(self, valuelist: list[object]) -> None:
        super().process_formdata(valuelist)
        if self.data is None:
            return
        try:
            bounds.finite_number(self.data)
        except DiaryError as error:
            self.data = None
            raise ValueError(translate_error(error)) from None


class DateInRange:
    """Form validator for dates no domain function checks (read-only forms such as the
    studio's family preview): the domain's range (`bounds.check_date`), message by the field."""

    def __call__(self, form: FlaskForm, field: DateField) -> None:
        if field.data is None:
            return
        try:
            bounds.check_date(field.data)
        except DiaryError as error:
            raise StopValidation(translate_error(error)) from None


class ChildForm(FlaskForm):
    """Baby fields; used by registration, "add a baby", "edit" and "the baby has arrived"."""

    child_name = StringField(_l("Baby's name or nickname"),
                             validators=[InputRequired(), Length(max=60)])
    status = RadioField(_l("The baby is"), choices=[("expecting", _l("On the way")),
                                                    ("born", _l("Born"))],
                        default="expecting", validators=[InputRequired()])
    due_date = DateField(_l("Due date"), validators=[Optional()])
    birth_date = DateField(_l("Birth date"), validators=[Optional()])
    sex = RadioField(_l("Sex"), choices=SEX_CHOICES + [("", _l("Not known yet"))], default="",
                     validate_choice=True)
    ga_weeks = IntegerField(_l("Weeks of pregnancy at birth"),
                            validators=[Optional(), NumberRange(22, 44)])
    ga_days = IntegerField(_l("+ days"), validators=[Optional(), NumberRange(0, 6)])
    birth_weight = NumberField(_l("Birth weight"), validators=[Optional(), NumberRange(min=0)])
    birth_weight_unit = SelectField(_l("Unit"), choices=WEIGHT_UNIT_CHOICES, default="kg")
    birth_weight_oz = NumberField(_l("oz"), validators=[Optional(), NumberRange(0, 15.99)])
    birth_length = NumberField(_l("Birth length"), validators=[Optional(), NumberRange(min=0)])
    birth_length_unit = SelectField(_l("Unit"), choices=LENGTH_UNIT_CHOICES, default="cm")
    birth_head = NumberField(_l("Head circumference at birth"),
                             validators=[Optional(), NumberRange(min=0)])
    birth_head_unit = SelectField(_l("Unit"), choices=LENGTH_UNIT_CHOICES, default="cm")

    CHILD_FIELD_MAP = {"name": "child_name", "gestational_weeks": "ga_weeks",
                       "birth_weight": "birth_weight", "birth_length": "birth_length",
                       "birth_head": "birth_head", "due_date": "due_date",
                       "birth_date": "birth_date", "sex": "sex"}

    def child_details(self) -> ChildDetails:
        """Convert to SI; raises ValidationError for impossible unit input."""
        born = self.status.data == "born"
        weight = optional_float(self.birth_weight.data)
        length = optional_float(self.birth_length.data)
        head = optional_float(self.birth_head.data)
        return ChildDetails(
            name=self.child_name.data or "",
            due_date=self.due_date.data,
            birth_date=self.birth_date.data if born else None,
            sex=self.sex.data or None,
            gestational_weeks=self.ga_weeks.data if born else None,
            gestational_days=self.ga_days.data if born else None,
            birth_weight_kg=None if weight is None or not born else round(units.weight_to_kg(
                weight, self.birth_weight_unit.data,
                optional_float(self.birth_weight_oz.data) or 0.0), 3),
            birth_length_cm=None if length is None or not born else round(units.length_to_cm(
                length, self.birth_length_unit.data), 1),
            birth_head_cm=None if head is None or not born else round(units.length_to_cm(
                head, self.birth_head_unit.data), 1),
        )

    def fill_from_child(self, child: Child) -> None:
        self.child_name.data = child.name
        self.status.data = "born" if child.is_born else "expecting"
        self.due_date.data = child.due_date
        self.birth_date.data = child.birth_date
        self.sex.data = child.sex or ""
        self.ga_weeks.data = child.gestational_weeks_at_birth
        self.ga_days.data = child.gestational_days_at_birth
        self.birth_weight.data = child.birth_weight_kg
        self.birth_length.data = child.birth_length_cm
        self.birth_head.data = child.birth_head_cm


