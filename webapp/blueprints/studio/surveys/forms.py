"""A follow-up's form: status, assignee and note (one per row, POSTed with its CSRF token)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, TextAreaField
from wtforms.validators import InputRequired, Length

from care.surveys import NOTE_MAX

STATUS_NAMES = {"open": _l("Open"), "done": _l("Done")}


class FollowUpForm(FlaskForm):
    status = SelectField(_l("Status"), choices=list(STATUS_NAMES.items()),
                         validators=[InputRequired()])
    assignee = SelectField(_l("Assigned to"), choices=[], validate_choice=False)
    note = TextAreaField(_l("Note"), validators=[Length(max=NOTE_MAX)])
