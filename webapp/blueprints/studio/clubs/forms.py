"""The moderation forms: a note on a decision, a ban, the word filter, topic groups and
moderator assignments."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, Optional

SCOPE_CHOICES = [("club", _l("From this club")), ("all", _l("From every club"))]


class DecisionForm(FlaskForm):
    note = StringField(_l("Note (optional)"), validators=[Optional(), Length(max=300)])


class BanForm(FlaskForm):
    scope = RadioField(_l("Ban"), choices=SCOPE_CHOICES, default="club")
    until = DateField(_l("Until"), validators=[InputRequired()])
    reason = StringField(_l("Reason"), validators=[Optional(), Length(max=300)])


class WordForm(FlaskForm):
    word = StringField(_l("Word or phrase"), validators=[InputRequired(), Length(max=80)])


class GroupForm(FlaskForm):
    slug = StringField(_l("Short name (for links)"), validators=[InputRequired(),
                                                                 Length(max=40)])
    name_en = StringField(_l("Name (English)"), validators=[InputRequired(), Length(max=80)])
    name_zh = StringField(_l("Name (Chinese)"), validators=[InputRequired(), Length(max=80)])
    description_en = StringField(_l("Description (English)"),
                                 validators=[Optional(), Length(max=300)])
    description_zh = StringField(_l("Description (Chinese)"),
                                 validators=[Optional(), Length(max=300)])


class AssignForm(FlaskForm):
    user_id = SelectField(_l("Moderator"), coerce=int, choices=[])
    club_id = SelectField(_l("Club"), coerce=int, choices=[])
