"""Forms of the staff side of tickets."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Length, Optional

from care import tickets
from crm.contact import DEPARTMENTS, NOTE_DEPARTMENTS
from webapp.blueprints.tickets.forms import choices


class StaffReplyForm(FlaskForm):
    body = TextAreaField(_l("Reply to the customer"),
                         validators=[InputRequired(), Length(max=tickets.BODY_MAX)])
    status = SelectField(_l("Then set the status to"), choices=choices(tickets.STATUSES),
                         default="waiting")


class NoteForm(FlaskForm):
    body = TextAreaField(_l("Internal note (never shown to the customer)"),
                         validators=[InputRequired(), Length(max=tickets.BODY_MAX)])


class StatusForm(FlaskForm):
    status = SelectField(_l("Status"), choices=choices(tickets.STATUSES))


class AssignForm(FlaskForm):
    department = SelectField(_l("Department"), choices=[
        (d, _l(DEPARTMENTS[d])) for d in NOTE_DEPARTMENTS])
    assignee_id = SelectField(_l("Agent"), choices=[], validators=[Optional()])


class PrivacyForm(FlaskForm):
    confirm = BooleanField(_l("I checked that the request comes from the account's owner"))
    member_no = StringField(_l("To delete, type the customer's member number"),
                            validators=[Optional(), Length(max=12)])


class CannedForm(FlaskForm):
    reply_id = HiddenField()
    title = StringField(_l("Title"), validators=[InputRequired(), Length(max=120)])
    body_en = TextAreaField(_l("Reply in English"), validators=[Length(max=tickets.BODY_MAX)])
    body_zh = TextAreaField(_l("Reply in Chinese"), validators=[Length(max=tickets.BODY_MAX)])
