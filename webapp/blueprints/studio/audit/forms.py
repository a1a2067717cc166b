"""Filters of the staff access log (a GET form: it changes nothing but is itself recorded)."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, SelectField, StringField
from wtforms.validators import Length, Optional, Regexp

from webapp.forms_common import DateInRange

WHAT_NAMES = {
    "family_lookup": _l("Family look-up"),
    "family_journey": _l("Family: journeys and deliveries"),
    "outbox": _l("Outbox: failed emails"),
    "audit_log": _l("Access log"),
    "audit_export": _l("Access log export"),
    "crm_value": _l("Customer value: top customers"),
    "crm_due": _l("Due list"),
    "segment_members": _l("Segment: sample members"),
    "segment_export": _l("Segment export"),
    "customer_search": _l("Customer search"),
    "customer_360": _l("Customer page"),
    "customer_duplicates": _l("Possible duplicate customers"),
    "customer_merge": _l("Customer merge"),
    "crm_churn": _l("Churn risk"),
    "ticket_queue": _l("Ticket queue"),
    "ticket_view": _l("Ticket"),
    "ticket_privacy": _l("Ticket: privacy request fulfilled"),
    "reward_redemptions": _l("Rewards: redemptions and addresses"),
    "survey_follow_ups": _l("Survey follow-ups"),
}
STAFF_ROLE_NAMES = {"marketer": _l("Marketer"), "reviewer": _l("Reviewer"),
                    "analyst": _l("Analyst"), "service": _l("Customer service"),
                    "moderator": _l("Club moderator"),
                    "admin": _l("Administrator")}
SEARCH_NAMES = {"member_no": _l("searched by member number"),
                "email": _l("searched by email"), "phone": _l("searched by phone"),
                "text": _l("searched by name or order")}


class AuditFilterForm(FlaskForm):
    class Meta:
        csrf = False

    staff = SelectField(_l("Staff member"), validators=[Optional()], validate_choice=True)
    member = StringField(_l("Customer's member number"), filters=[
        lambda v: (v or "").strip().upper() or None], validators=[
        Optional(), Length(max=10),
        Regexp(r"^BJ\d{8}$", message=_l("Member numbers look like BJ12345678."))])
    what = SelectField(_l("What was seen"), validators=[Optional()],
                       choices=[("", _l("Anything"))] + list(WHAT_NAMES.items()))
    since = DateField(_l("From"), validators=[Optional(), DateInRange()])
    until = DateField(_l("To"), validators=[Optional(), DateInRange()])
