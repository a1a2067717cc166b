"""The milestone checklist's forms."""
from __future__ import annotations

from flask_wtf import FlaskForm
from wtforms import HiddenField, StringField
from wtforms.validators import AnyOf, InputRequired, Length

UNTICK_CHOICES = ("delete", "keep_entry")


class UntickForm(FlaskForm):
    """Unticking a milestone whose diary entry holds the parent's own things.

    `seen` is the fingerprint of the entry as the page showed it (the domain refuses to
    delete if it changed since); `choice` comes from the button pressed: delete the entry,
    or keep it and only untick."""

    seen = HiddenField(validators=[InputRequired(), Length(max=64)])
    choice = StringField(validators=[InputRequired(), AnyOf(UNTICK_CHOICES)])
