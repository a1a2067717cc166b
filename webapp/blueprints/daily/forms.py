"""Forms of the daily tools (each carries its CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional


class StartTimerForm(FlaskForm):
    kind = HiddenField()
    side = HiddenField()


class StopTimerForm(FlaskForm):
    minutes = IntegerField(_l("Minutes, if you stopped it late"), validators=[Optional()])


class TickReminderForm(FlaskForm):
    given_on = DateField(_l("Date given"), validators=[InputRequired()])


class VaccinationForm(FlaskForm):
    category = SelectField(_l("Kind"), choices=[("vaccination", _l("Vaccination")),
                                                ("checkup", _l("Check-up"))])
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    given_on = DateField(_l("Date given"), validators=[InputRequired()])
    note = StringField(_l("Note"), validators=[Optional(), Length(max=200)])


class VaccinationEditForm(VaccinationForm):
    """Correcting a row. A ticked reminder's name may stay blank (the reminder's title is
    shown) and its kind is the reminder's: the view drops that field for such a row."""
    name = StringField(_l("Name"), validators=[Optional(), Length(max=120)])
