"""Forms of the parents' side of tickets ("Ask us")."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import MultipleFileField
from wtforms import HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length

from care import tickets


def choices(names: dict[str, str]) -> list[tuple[str, Any]]:
    return [(code, _l(label)) for code, label in names.items()]


class TicketForm(FlaskForm):
    category = SelectField(_l("What is it about?"), choices=choices(tickets.ASKED_CATEGORIES),
                           default="question")
    severity = SelectField(_l("How urgent is it?"), choices=choices(tickets.SEVERITIES),
                           default="normal")
    child_id = SelectField(_l("About which child (optional)"), choices=[], default="")
    subject = StringField(_l("Subject"), validators=[InputRequired(),
                                                      Length(max=tickets.SUBJECT_MAX)])
    body = TextAreaField(_l("Your message"), validators=[InputRequired(),
                                                          Length(max=tickets.BODY_MAX)])
    photos = MultipleFileField(_l("Photos (optional)"), description=_l(
        "Up to four photos, e.g. of a product. We remove location and camera details."))
    from_path = HiddenField()


class ReplyForm(FlaskForm):
    body = TextAreaField(_l("Your answer"), validators=[InputRequired(),
                                                         Length(max=tickets.BODY_MAX)])
    photos = MultipleFileField(_l("Photos (optional)"))
