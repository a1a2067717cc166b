"""The analysis pages' forms: the churn-risk list's filters (a GET form) and its win-back
button (the same fields, POSTed with a CSRF token, so the list sent is the list shown);
saving a pivot report and choosing it for the weekly email."""
from __future__ import annotations

import math

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import FloatField, HiddenField, IntegerField, SelectField, StringField
from wtforms.validators import AnyOf, InputRequired, Length, NumberRange, StopValidation

from crm import churn

MATCH_CHOICES = [("any", _l("either")), ("all", _l("both"))]
SORT_CHOICES = [("p_alive", _l("Lowest P(alive) first")),
                ("inactive", _l("Longest away first")),
                ("clv", _l("Highest CLV first"))]


def _finite(form: FlaskForm, field: FloatField) -> None:
    """NaN passes NumberRange (every comparison with it is false)."""
    if field.data is None or not math.isfinite(field.data):
        raise StopValidation(_l("Not a valid float value."))


class ChurnForm(FlaskForm):
    max_p_alive = FloatField(_l("P(alive) below"), default=churn.DEFAULT_P_ALIVE,
                             validators=[InputRequired(), NumberRange(0, 1), _finite])
    inactive_days = IntegerField(_l("Away for at least (days)"), default=churn.DEFAULT_DAYS,
                                 validators=[InputRequired(), NumberRange(0, 3650)])
    match = SelectField(_l("Conditions to meet"), choices=MATCH_CHOICES, default="any")
    sort = SelectField(_l("Order"), choices=SORT_CHOICES, default="p_alive")

    def criteria(self) -> churn.Criteria:
        return churn.Criteria(float(self.max_p_alive.data), int(self.inactive_days.data),
                              self.match.data, self.sort.data)


class ChurnFilterForm(ChurnForm):
    class Meta:
        csrf = False


class SaveReportForm(FlaskForm):
    """Save the pivot on the page: its definition rides along as JSON (checked again by
    `crm.pivot.parse`, like any other request)."""
    name = StringField(_l("Report name"), validators=[InputRequired(), Length(max=120)])
    definition = HiddenField(validators=[InputRequired(), Length(max=2000)])


class WeeklyForm(FlaskForm):
    weekly = HiddenField(validators=[InputRequired(), AnyOf(("on", "off"))])
