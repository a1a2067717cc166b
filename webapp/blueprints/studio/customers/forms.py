"""The customer search, the contact note and the merge confirmation."""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, SelectField, StringField, TextAreaField, TimeField
from wtforms.validators import DataRequired, Length, Optional

from crm import contact
from webapp.forms_common import DateInRange


class CustomerSearchForm(FlaskForm):
    """POSTed with its CSRF token, so an email address or a phone number never lands in a
    URL, a browser history or a server log; each search is recorded."""

    q = StringField(_l("Email, phone, member number, name, child's name or order id"),
                    validators=[Optional(), Length(max=500)])


def _choices(names: dict[str, str], codes: tuple[str, ...]) -> list[tuple[str, Any]]:
    """(code, its name in the reader's language): the names are the domain's, marked N_."""
    return [(code, _l(names[code])) for code in codes]


class ContactNoteForm(FlaskForm):
    department = SelectField(_l("Department"),
                             choices=_choices(contact.DEPARTMENTS, contact.NOTE_DEPARTMENTS))
    channel = SelectField(_l("Channel"), choices=_choices(contact.CHANNELS,
                                                          contact.NOTE_CHANNELS))
    direction = SelectField(_l("Direction"), choices=_choices(contact.DIRECTIONS,
                                                              tuple(contact.DIRECTIONS)))
    outcome = SelectField(_l("Outcome"), choices=_choices(contact.OUTCOMES,
                                                          contact.NOTE_OUTCOMES))
    subject = StringField(_l("Subject"), validators=[DataRequired(), Length(
        max=contact.SUBJECT_MAX)])
    body = TextAreaField(_l("Summary"), validators=[Optional(), Length(max=contact.BODY_MAX)])
    occurred_date = DateField(_l("Date (your time)"), validators=[Optional(), DateInRange()])
    occurred_time = TimeField(_l("Time"), validators=[Optional()])
    submission_id = HiddenField()


class MergeForm(FlaskForm):
    fingerprint = HiddenField(validators=[DataRequired(), Length(max=64)])
    note = TextAreaField(_l("Why these are one person (kept with the merge record)"),
                         validators=[Optional(), Length(max=500)])


#: What a search hit matched, and how (crm.search's codes).
HIT_FIELDS = {"member_no": _l("Member number"), "email": _l("Email"), "phone": _l("Phone"),
              "name": _l("Name"), "child_name": _l("Child's name"), "order": _l("Order id")}
HIT_HOWS = {"exact": _l("exact"), "same_mailbox": _l("same mailbox"),
            "starts_with": _l("starts with"), "ends_with": _l("ends with"),
            "typo": _l("close spelling")}
TIER_NAMES = {"high": _l("High value"), "medium": _l("Medium value"), "low": _l("Low value")}
GROUP_NAMES = {"most_valuable": _l("Most valuable"), "most_growable": _l("Most growable"),
               "below_zero": _l("Below zero"), "other": _l("Other")}
ACTIVITY_NAMES = {"click": _l("Opened"), "save": _l("Saved for later"),
                  "dismiss": _l("Dismissed"), "add_to_cart": _l("Added to basket"),
                  "purchase": _l("Bought")}
FAMILY_ROLE_NAMES = {"owner": _l("Owner"), "editor": _l("Editor"), "viewer": _l("Viewer")}
CONSENT_NAMES = {"child_data": _l("Baby's data"), "marketing": _l("Marketing"),
                 "digest": _l("Weekly digest")}
