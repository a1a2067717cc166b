"""The parent's own data: profile, email and password, consents, deletion."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import Email, EqualTo, InputRequired, Length, Optional

from diary.units import IMPERIAL, METRIC
from webapp.forms_common import MultiCheckboxField, timezone_choices
from webapp.i18n import INTEREST_CHOICES, LOCALE_CHOICES


class ProfileForm(FlaskForm):
    display_name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=80)])
    timezone = SelectField(_l("Time zone"), choices=[])
    locale = RadioField(_l("Language"), choices=LOCALE_CHOICES)
    unit_system = RadioField(_l("Units"), choices=[(METRIC, _l("Metric (kg, cm, °C)")),
                                                   (IMPERIAL, _l("Imperial (lb, in, °F)"))])
    interests = MultiCheckboxField(_l("Interests"), choices=INTEREST_CHOICES)
    phone = StringField(_l("Phone (optional)"), validators=[Optional(), Length(max=32)])
    region_province = StringField(_l("Province or state (optional)"),
                                  validators=[Optional(), Length(max=80)])
    region_city = StringField(_l("City (optional)"), validators=[Optional(), Length(max=80)])
    birthday = DateField(_l("Your birthday (optional)"), validators=[Optional()],
                         description=_l("On the day, we send you a birthday greeting."))

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class EmailChangeForm(FlaskForm):
    new_email = EmailField(_l("New email"), validators=[InputRequired(), Email()])
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()])


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("Current password"), validators=[InputRequired()])
    new_password = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=8)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[InputRequired(), EqualTo("new_password",
                                        message=_l("The two passwords do not match."))])


class ConsentForm(FlaskForm):
    digest_opt_in = BooleanField(_l("Weekly email about my baby's stage"))
    marketing_opt_in = BooleanField(_l("Offers and product news"))


class PersonaliseForm(FlaskForm):
    personalise_suggestions = BooleanField(_l("Personalise my suggestions"))


class DeleteAccountForm(FlaskForm):
    current_password = PasswordField(_l("Your password"), validators=[InputRequired()])
    confirm = BooleanField(_l("I understand this cannot be undone."),
                           validators=[InputRequired(message=_l("Please tick the box to "
                                                                "confirm."))])


class TokenForm(FlaskForm):
    """A personal access token for the JSON API (diary.access_tokens)."""

    name = StringField(_l("Token name"), validators=[InputRequired(), Length(max=80)],
                       description=_l("For example the app or script that will use it."))
    scope = RadioField(_l("What it may do"), default="read",
                       choices=[("read", _l("Read only")), ("write", _l("Read and write"))])
    expires = SelectField(_l("Expires"), default="90",
                          choices=[("30", _l("in 30 days")), ("90", _l("in 90 days")),
                                   ("365", _l("in a year")), ("never", _l("never"))])

    def expires_in_days(self) -> int | None:
        return None if self.expires.data == "never" else int(self.expires.data or 0)
