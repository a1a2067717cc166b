"""Family management: babies, invitations and caregivers' roles."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, SelectField
from wtforms.validators import Email, InputRequired

from webapp.forms_common import RELATIONSHIP_CHOICES, ROLE_CHOICES, ChildForm


class AddChildForm(ChildForm):
    pass


class ArrivedForm(ChildForm):
    """"The baby has arrived": the same fields, with "born" fixed."""


class InviteForm(FlaskForm):
    email = EmailField(_l("Their email"), validators=[InputRequired(), Email()])
    role = SelectField(_l("What they may do"), choices=ROLE_CHOICES, default="editor")
    relationship = SelectField(_l("Their relationship to the baby"),
                               choices=RELATIONSHIP_CHOICES, default="father")


class RoleForm(FlaskForm):
    role = SelectField(_l("Role"), choices=ROLE_CHOICES)

