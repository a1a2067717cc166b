"""Journey forms: a journey's settings, a stage, one step.

The forms only parse; `journeys.authoring` validates (ranges, overlaps, known kinds), and its
errors are shown next to the field they name.
"""
from __future__ import annotations

from typing import Any

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from flask_wtf import FlaskForm
from wtforms import BooleanField, IntegerField, SelectField, StringField
from wtforms.validators import InputRequired, Length, NumberRange, Optional

from content.stages import UNITS
from journeys import goals
from journeys.authoring import CHANNELS, PUSH_KINDS, Measurement
from journeys.holdouts import MAX_SHARE
from journeys.models import Journey, JourneyStage
from webapp.content_format import UNIT_NAMES
from webapp.forms_common import MultiCheckboxField
from webapp.i18n import INTEREST_CHOICES

GOAL_CHOICES = [("visit", _l("A visit to the site")),
                ("product_click", _l("A click on a product")),
                ("purchase", _l("A purchase"))]
ENTRY_STAGE_CHOICES = [("any", _l("Every family")), ("expecting", _l("Expecting families")),
                       ("born", _l("Families whose baby is born"))]
PUSH_CHOICES = [("article", _l("Articles")), ("reminder", _l("Reminders")),
                ("product", _l("Products"))]
#: "Email" the channel, not the address field ("邮件", not "邮箱" in Chinese).
CHANNEL_CHOICES = [("inbox", _l("Inbox")), ("email", lazy_pgettext("channel", "Email"))]
assert [c for c, _ in PUSH_CHOICES] == list(PUSH_KINDS)
assert [c for c, _ in CHANNEL_CHOICES] == list(CHANNELS)


class JourneySettingsForm(FlaskForm):
    name = StringField(_l("Name"), validators=[InputRequired(), Length(max=120)])
    entry_stage = SelectField(_l("Who may enter"), choices=ENTRY_STAGE_CHOICES, default="any")
    interests = MultiCheckboxField(
        _l("Only families interested in"), choices=INTEREST_CHOICES,
        description=_l("Leave empty for everyone; with several, one of them is enough."))
    region = StringField(_l("Only families in the province"),
                         validators=[Optional(), Length(max=80)],
                         description=_l("Leave empty for every region."))
    segment = SelectField(_l("Only customers in the segment"), choices=[],
                          validate_choice=False,
                          description=_l("A saved segment: the journey reaches only the "
                                         "caregivers in it."))
    holdout = IntegerField(_l("Holdout (percent of families)"), default=0,
                           validators=[Optional(), NumberRange(0, round(MAX_SHARE * 100))],
                           description=_l("Families held out get nothing from this journey, "
                                          "so its lift can be measured. Decided once per "
                                          "family, when its child enters."))
    goal = SelectField(_l("Goal"), choices=[("", _l("No goal"))] + GOAL_CHOICES, default="")
    goal_days = IntegerField(_l("Goal window (days)"), default=14,
                             validators=[Optional(), NumberRange(*goals.GOAL_DAYS)],
                             description=_l("Counted from when the child enters the "
                                            "journey."))

    def entry_rule(self) -> dict[str, Any]:
        raw = self.segment.data or ""
        return {"stage": self.entry_stage.data or "any",
                "interests": list(self.interests.data or []),
                "region": (self.region.data or "").strip(),
                "segment": int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 11
                else None}

    def measurement(self) -> Measurement:
        return Measurement((self.holdout.data or 0) / 100, self.goal.data or None,
                           self.goal_days.data if self.goal_days.data is not None else 14)

    def fill(self, journey: Journey) -> None:
        rule = journey.entry_rule or {}
        self.name.data = journey.name
        self.entry_stage.data = rule.get("stage") or "any"
        self.interests.data = list(rule.get("interests") or [])
        self.region.data = rule.get("region") or ""
        self.segment.data = str(rule["segment"]) if rule.get("segment") else ""
        self.holdout.data = round((journey.holdout_share or 0) * 100)
        self.goal.data = journey.goal or ""
        self.goal_days.data = journey.goal_days or 14


class NewJourneyForm(JourneySettingsForm):
    slug = StringField(_l("Slug"), validators=[InputRequired(), Length(max=80)],
                       description=_l("Lowercase letters, digits and hyphens, e.g. "
                                      "first-year-skin-care. It never changes."))


class StageWindowForm(FlaskForm):
    name = StringField(_l("Stage name"), validators=[InputRequired(), Length(max=120)])
    window_unit = SelectField(_l("Counted in"), choices=[(u, UNIT_NAMES[u]) for u in UNITS],
                              default="pregnancy_week")
    window_from = IntegerField(_l("From"), validators=[InputRequired()])
    window_to = IntegerField(_l("To"), validators=[InputRequired()])

    def fill(self, stage: JourneyStage) -> None:
        self.name.data = stage.name
        self.window_unit.data = stage.window_unit
        self.window_from.data, self.window_to.data = stage.window_from, stage.window_to


class NewStageForm(StageWindowForm):
    key = StringField(_l("Key"), validators=[InputRequired(), Length(max=40)],
                      description=_l("Lowercase letters, digits and hyphens, e.g. pw-20. "
                                     "It names the stage in the delivery ledger and can never "
                                     "change."))
    standard_steps = BooleanField(_l("Start with the standard steps (the stage's article and "
                                     "reminders on entry, products after 3 days, a skin-care "
                                     "branch)"), default=True)


class StepForm(FlaskForm):
    push = MultiCheckboxField(_l("Push"), choices=PUSH_CHOICES)
    channels = MultiCheckboxField(
        _l("Send to"), choices=CHANNEL_CHOICES, default=["inbox"],
        description=_l("Each item reaches a person once per channel. Adding email to a step "
                       "that has already run also emails its items to families who so far "
                       "had them only in the inbox."))
    delay_days = IntegerField(_l("Days after entering the stage"), default=0,
                              validators=[InputRequired()],
                              description=_l("0 = on entry; at most 60."))
    limit = IntegerField(_l("How many of each kind"), default=1, validators=[InputRequired()],
                         description=_l("1 to 5."))
    when_interest = SelectField(_l("Only for families interested in"),
                                choices=[("", _l("Everyone (no branch)"))] + INTEREST_CHOICES,
                                default="")

    def to_step(self) -> dict[str, Any]:
        return {"push": list(self.push.data or []), "channels": list(self.channels.data or []),
                "delay_days": self.delay_days.data, "limit": self.limit.data,
                "when_interest": self.when_interest.data or None}

    def fill(self, step: dict[str, Any]) -> None:
        self.push.data = list(step.get("push") or [])
        self.channels.data = list(step.get("channels") or ["inbox"])
        self.delay_days.data = step.get("delay_days") or 0
        self.limit.data = step.get("limit") or 2
        self.when_interest.data = step.get("when_interest") or ""

