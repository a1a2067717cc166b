"""Demo segments and a marketer campaign with results, for `flask demo load`.

Runs after the simulated families exist (their purchases and clicks are in the interaction
log), so the demo marketer and analyst see full pages: a few saved segments — among them the
issue's "high value, drifting away, child turning one next month" (filled once the nightly
scores exist) — and a campaign that was sent four weeks ago to simulated families who had
bought something, with a holdout, whose conversions (a product click within 14 days) come
from what those families went on to do. Safe to run again: what exists is kept.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from content.models import Message
from crm import segments
from crm.models import Segment
from diary.models import User
from journeys import campaigns, marketing
from journeys.models import MarketingCampaign

STAFF_EMAIL = "marketer@example.com"
SEGMENTS = (
    ("High value, drifting away, child turning one next month",
     "Keep and reward: our best customers who have gone quiet, just before the first "
     "birthday.",
     [{"field": "tier", "op": "in", "value": ["high"]},
      # Two months of simulated history put every high-tier customer's P(alive) above
      # 60 %; below 80 % finds those whose visits have slowed (a fifth of the simulated
      # families drift away in the second month).
      {"field": "p_alive", "op": "below", "value": 80},
      {"field": "child_age", "op": "turning_months_within_days", "value": [12, 31]}]),
    ("Expecting, interested in feeding", "For the breastfeeding preparation series.",
     [{"field": "stage", "op": "expecting", "value": None},
      {"field": "interests", "op": "any_of", "value": ["feeding"]}]),
    ("Bought nappies, not seen for 30 days", "Restock reminders.",
     [{"field": "purchased", "op": "any_of", "value": ["nappies"]},
      {"field": "last_visit", "op": "not_within_days", "value": 30}]),
    ("Recent buyers", "Bought anything in the last 60 days.",
     [{"field": "purchased", "op": "any_within_days", "value": 60}]),
)
MESSAGE_KEY = "restock-reminder"
CAMPAIGN = "Restock reminder for recent buyers"
SENT_DAYS_AGO = 28


@dataclass
class DemoCrm:
    segments: list[str] = field(default_factory=list)  # made now
    campaign: str | None = None  # made now
    sent: int = 0
    held_out: int = 0
    converted: int = 0

    def summary(self) -> str:
        made = ", ".join(self.segments) or "none new"
        sent = (f"campaign “{self.campaign}”: {self.sent} sent, {self.held_out} held out, "
                f"{self.converted} conversions measured") if self.campaign else \
            "campaign already there"
        return f"Segments: {made}; {sent}."


def load(session: Session, now: datetime) -> DemoCrm:
    report = DemoCrm()
    staff = session.scalar(select(User).where(User.email == STAFF_EMAIL))
    if staff is None:
        return report
    by_name = {s.name: s for s in session.scalars(select(Segment))}
    for name, description, conditions in SEGMENTS:
        if name not in by_name:
            by_name[name] = segments.create(session, staff, name, description,
                                            {"conditions": conditions})
            report.segments.append(name)
    if session.scalar(select(MarketingCampaign.id).where(MarketingCampaign.name == CAMPAIGN)):
        return report
    _message(session)
    sent_at = now - timedelta(days=SENT_DAYS_AGO)
    campaign = marketing.create(session, staff, marketing.CampaignInput(
        name=CAMPAIGN, segment_id=by_name["Recent buyers"].id, trigger="once",
        message_key=MESSAGE_KEY, channels=["inbox"], holdout_share=0.2, goal="product_click",
        goal_days=14), sent_at - timedelta(hours=1))
    campaign.created_at = sent_at - timedelta(hours=1)
    marketing.start(session, campaign, sent_at)
    stats = marketing.run(session, sent_at, segments.audience)
    report.campaign, report.sent = campaign.name, stats.recorded - stats.held_out
    report.held_out = stats.held_out
    report.converted = campaigns.measure_conversions(session, now)
    return report


def _message(session: Session) -> None:
    if session.scalar(select(Message.id).where(Message.key == MESSAGE_KEY)) is not None:
        return
    item = authoring.create(session, ItemInput(kind="message", key=MESSAGE_KEY, translations={
        "en": TextInput("Running low, {name}?", "",
                        "It has been a few weeks since your last order. Have a look at "
                        "what fits {child} now, sizes included."),
        "zh_CN": TextInput("{name}，该补货了吗？", "",
                           "距离上次下单已经有几周了。来看看现在适合{child}的用品和尺码吧。")}),
        None, note="Demo data")
    workflow.publish_reviewed(session, item, reason="Demo data")
