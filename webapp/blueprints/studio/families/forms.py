"""The family look-up form."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length, Optional


class FamilySearchForm(FlaskForm):
    """The family look-up: POSTed (with its CSRF token) so that an email address never
    lands in a URL, a browser history or an access log; each look-up is recorded."""

    q = StringField(_l("Member number or email"), validators=[Optional(), Length(max=254)])
