"""The campaign form: it only parses; `journeys.marketing` validates and its errors are shown
next to the field they name. The segment and message lists are filled by the view."""
from __future__ import annotations

from datetime import datetime

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import DateTimeLocalField, IntegerField, RadioField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from journeys import goals, marketing
from journeys.holdouts import MAX_SHARE
from journeys.models import MarketingCampaign
from webapp.blueprints.studio.journeys.forms import GOAL_CHOICES
from webapp.forms_common import MultiCheckboxField

TRIGGER_CHOICES = [("once", _l("Once, as soon as it starts")),
                   ("on_entry", _l("To each customer as they enter the segment")),
                   ("on_date", _l("Once, at a date and time"))]
CHANNEL_CHOICES = [("inbox", _l("Inbox")), ("email", lazy_pgettext("channel", "Email"))]
STATUS_NAMES = {"draft": _l("Draft"), "active": _l("Running"), "paused": _l("Paused"),
                "done": _l("Finished")}
assert [c for c, _ in TRIGGER_CHOICES] == list(marketing.TRIGGERS)
assert [c for c, _ in GOAL_CHOICES] == list(goals.GOALS)
assert [c for c, _ in CHANNEL_CHOICES] == list(marketing.CHANNELS)
#: The domain's field names → this form's.
FIELD_MAP = {"holdout_share": "holdout", "send_at": "send_at", "segment_id": "segment_id"}


class CampaignForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    segment_id = SelectField(_l("Audience (a saved segment)"), choices=[],
                             validate_choice=False)
    trigger = RadioField(_l("When it sends"), choices=TRIGGER_CHOICES, default="once")
    send_at = DateTimeLocalField(_l("Send on"), format="%Y-%m-%dT%H:%M",
                                 validators=[Optional()],
                                 description=_l("In your time zone. Only for “at a date and "
                                                "time”."))
    message_key = SelectField(_l("Message"), choices=[], validate_choice=False,
                              description=_l("Messages are written in the content studio and "
                                             "approved by a reviewer, like articles. Only the "
                                             "published version is sent."))
    channels = MultiCheckboxField(_l("Send to"), choices=CHANNEL_CHOICES, default=["inbox"],
                                  description=_l("Email goes only to people who agreed to "
                                                 "offers and proved their address."))
    holdout = IntegerField(_l("Holdout (percent of families)"), default=10,
                           validators=[InputRequired(),
                                       NumberRange(0, round(MAX_SHARE * 100))],
                           description=_l("They get nothing, so the lift can be measured."))
    goal = SelectField(_l("Goal"), choices=GOAL_CHOICES, default="visit")
    goal_days = IntegerField(_l("Goal window (days)"), default=7,
                             validators=[InputRequired(), NumberRange(*goals.GOAL_DAYS)])

    def to_input(self, send_at: datetime | None) -> marketing.CampaignInput:
        raw = self.segment_id.data or ""
        return marketing.CampaignInput(
            name=self.name.data or "",
            segment_id=int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11 else None,
            trigger=self.trigger.data or "", message_key=self.message_key.data or "",
            channels=list(self.channels.data or []),
            holdout_share=(self.holdout.data or 0) / 100, goal=self.goal.data or "",
            goal_days=self.goal_days.data or 0, send_at=send_at)

    def fill(self, campaign: MarketingCampaign, send_at_local: datetime | None) -> None:
        self.name.data = campaign.name
        self.segment_id.data = str(campaign.segment_id)
        self.trigger.data = campaign.trigger
        self.send_at.data = send_at_local
        self.message_key.data = campaign.message_key
        self.channels.data = list(campaign.channels or [])
        self.holdout.data = round(campaign.holdout_share * 100)
        self.goal.data = campaign.goal
        self.goal_days.data = campaign.goal_days
