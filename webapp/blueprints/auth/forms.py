"""Sign-up, sign-in and password-reset forms."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    RadioField,
    SelectField,
    StringField,
)
from wtforms.validators import DataRequired, Email, EqualTo, InputRequired, Length

from webapp.forms_common import (
    RELATIONSHIP_CHOICES,
    ChildForm,
    MultiCheckboxField,
    timezone_choices,
)
from webapp.i18n import INTEREST_CHOICES, LOCALE_CHOICES


class ParentFieldsMixin:
    display_name = StringField(_l("Your name"), validators=[InputRequired(), Length(max=80)])
    email = EmailField(_l("Email"), validators=[InputRequired(), Email(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired(), Length(min=8, max=200)],
                             description=_l("At least 8 characters."))
    confirm = PasswordField(_l("Repeat the password"),
                            validators=[InputRequired(), EqualTo("password",
                                        message=_l("The two passwords do not match."))])
    timezone = SelectField(_l("Time zone"), choices=[], default="Asia/Shanghai")
    locale = RadioField(_l("Language"), choices=LOCALE_CHOICES, default="en")
    interests = MultiCheckboxField(_l("What would you like to hear about?"),
                                   choices=INTEREST_CHOICES)
    relationship = SelectField(_l("Your relationship to the baby"),
                               choices=RELATIONSHIP_CHOICES, default="mother")
    child_data_consent = BooleanField(
        _l("I agree that Baby Journey keeps my child's data (dates, entries, photos and "
           "measurements) to run my baby's book, as the privacy promise describes. "
           "Required."),
        # Checked here too (the domain enforces it), so the error shows with the others.
        validators=[DataRequired(message=_l("We can only keep your baby's book if you agree "
                                            "to us storing your child's data."))])
    digest_opt_in = BooleanField(_l("Send me a weekly email with what's coming up for my "
                                    "baby (you can stop at any time)."))
    marketing_opt_in = BooleanField(_l("Send me offers and product news (optional, you can "
                                       "withdraw at any time)."))


class RegisterForm(ParentFieldsMixin, ChildForm):
    join_birth_club = BooleanField(_l("Join the birth club for my baby's month: talk with "
                                      "parents due or born the same month (only your display "
                                      "name is shown)."))

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class JoinForm(ParentFieldsMixin, FlaskForm):
    """Registration through a caregiver invitation: no baby to add, the family exists."""

    def __init__(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.timezone.choices = timezone_choices()


class LoginForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Length(max=254)])
    password = PasswordField(_l("Password"), validators=[InputRequired()])
    remember = BooleanField(_l("Keep me signed in on this device"))


class ForgotPasswordForm(FlaskForm):
    email = EmailField(_l("Email"), validators=[InputRequired(), Email()])


class ResetPasswordForm(FlaskForm):
    password = PasswordField(_l("New password"), validators=[InputRequired(), Length(min=8)])
    confirm = PasswordField(_l("Repeat the new password"),
                            validators=[InputRequired(), EqualTo("password",
                                        message=_l("The two passwords do not match."))])

