"""The preference centre's forms (the unsubscribe and resume buttons are `ConfirmForm`s)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_ngettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, SelectField

from content.vocabulary import TOPICS
from journeys.preferences import FREQUENCIES, PAUSE_WEEKS
from webapp.content_format import TOPIC_NAMES
from webapp.forms_common import MultiCheckboxField

HOUR_CHOICES = [(h, f"{h:02d}:00") for h in range(24)]
FREQUENCY_CHOICES = [("weekly", _l("Weekly, on Monday")), ("daily", _l("Daily"))]
assert {c for c, _ in FREQUENCY_CHOICES} == set(FREQUENCIES)


class PreferencesForm(FlaskForm):
    digest_opt_in = BooleanField(_l("Email about my baby's stage (the digest)"))
    marketing_opt_in = BooleanField(_l("Offers and product news"))
    survey_emails = BooleanField(_l("A short survey now and then (a few a year)"))
    frequency = RadioField(_l("How often"), choices=FREQUENCY_CHOICES, default="weekly")
    send_hour = SelectField(_l("Send it at"), coerce=int, choices=HOUR_CHOICES, default=9)
    quiet_start = SelectField(_l("Quiet hours from"), coerce=int, choices=HOUR_CHOICES,
                              default=21)
    quiet_end = SelectField(_l("Quiet hours until"), coerce=int, choices=HOUR_CHOICES,
                            default=8)
    topics = MultiCheckboxField(_l("Topics I want most (none ticked: everything)"),
                                choices=[(t, TOPIC_NAMES[t]) for t in TOPICS])


class PauseForm(FlaskForm):
    weeks = SelectField(_l("Pause email for"), coerce=int,
                        choices=[(w, lazy_ngettext("%(num)d week", "%(num)d weeks", w))
                                 for w in PAUSE_WEEKS], default=2)

