"""The due list's follow-up form: one per row, POSTed with its CSRF token."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField
from wtforms.validators import AnyOf, InputRequired, NumberRange
from wtforms.widgets import HiddenInput

from crm.vocabulary import DUE_KINDS, FOLLOW_UP_LABELS

FOLLOW_UP_CHOICES = [(code, _l(text)) for code, text in FOLLOW_UP_LABELS.items()]
_ID = [InputRequired(), NumberRange(1, 2**31 - 1)]


class DueStatusForm(FlaskForm):
    user_id = IntegerField(validators=_ID, widget=HiddenInput())
    child_id = IntegerField(validators=_ID, widget=HiddenInput())
    kind = HiddenField(validators=[InputRequired(), AnyOf(DUE_KINDS)])
    due_on = DateField(validators=[InputRequired()], widget=HiddenInput())
    status = SelectField(_l("Follow-up"), choices=FOLLOW_UP_CHOICES,
                         validators=[InputRequired()])
