"""Demo segments and a marketer campaign with results, for `flask demo load`.

Runs after the simulated families exist (their purchases and clicks are in the interaction
log), so the demo marketer and analyst see full pages: a few saved segments — among them the
issue's "high value, drifting away, child turning one next month" (filled once the nightly
scores exist) — and a campaign that was sent four weeks ago to simulated families who had
bought something, with a holdout, whose conversions (a product click within 14 days) come
from what those families went on to do. Safe to run again: what exists is kept.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from content import authoring, library, workflow
from content.authoring import ItemInput, TextInput
from content.models import ContentItem, Message, SavedItem
from crm import scores, segments
from crm.models import Segment
from diary.models import Child, Family, Membership, User
from journeys import campaigns, marketing
from journeys.models import MarketingCampaign
from recommender import log

STAFF_EMAIL = "marketer@example.com"
SEGMENTS = (
    ("High value, drifting away, child turning one next month",
     "Keep and reward: our best customers who have gone quiet, just before the first "
     "birthday.",
     # High value by what they spent (the RFM tier counts recency too, so nobody drifting
     # away is in its top tier for long), drifting away by P(alive): the demo's fitted
     # BG/NBD has few customers leave, so "below 80 %" is already the quiet ones.
     [{"field": "spent", "op": "at_least", "value": 300},
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
    duplicate: bool = False  # 李静's second account made now

    def summary(self) -> str:
        made = ", ".join(self.segments) or "none new"
        sent = (f"campaign “{self.campaign}”: {self.sent} sent, {self.held_out} held out, "
                f"{self.converted} conversions measured") if self.campaign else \
            "campaign already there"
        twin = (f" A possible duplicate for customer service: {SECOND_EMAIL} (same phone as "
                f"{SECOND_OF}).") if self.duplicate else ""
        return f"Segments: {made}; {sent}.{twin}"


def load(session: Session, now: datetime) -> DemoCrm:
    report = DemoCrm()
    staff = session.scalar(select(User).where(User.email == STAFF_EMAIL))
    if staff is None:
        return report
    report.duplicate = second_account(session, now)
    if _drifting_customer(session, now) or report.duplicate:
        scores.compute_scores(session, now)  # so their scores say what their history says
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


#: One customer whose story is the issue's segment: she bought nappies and wipes every few
#: weeks from the birth, stopped four months ago, and her daughter turns one in three weeks.
#: (Among a hundred simulated families, "spent a lot, drifting away, child turning one next
#: month" is most often nobody.)
STORY_EMAIL = "drifting.customer@simulated.example"
STORY_PURCHASES = 8


def _drifting_customer(session: Session, now: datetime) -> bool:
    """Add her if she is not there; True when added."""
    if session.scalar(select(User.id).where(User.email == STORY_EMAIL)) is not None:
        return False
    products = list(session.scalars(
        select(ContentItem).where(ContentItem.kind == "product",
                                  ContentItem.category.in_(("nappies", "wipes")),
                                  library.live(now))
        .order_by(ContentItem.id).limit(2)))
    if not products:
        return False
    user = User(email=STORY_EMAIL, password_hash="!", display_name="周敏",
                member_no="SM999" + "0000001", timezone="Asia/Shanghai", locale="zh_CN",
                security_stamp=hashlib.sha256(STORY_EMAIL.encode()).hexdigest()[:32],
                link_key=hashlib.sha256(f"link:{STORY_EMAIL}".encode()).hexdigest()[:32],
                interests=["feeding"], region_province="浙江省", region_city="杭州市",
                created_at=now - timedelta(days=330))
    home = Family(name="周敏的家", timezone="Asia/Shanghai")
    session.add_all([user, home])
    session.flush()
    session.add(Membership(family_id=home.id, user_id=user.id, role="owner",
                           relationship_to_child="mother"))
    born = (now - timedelta(days=365 - 21)).date()
    session.add(Child(family_id=home.id, name="小米", sex="female", due_date=born,
                      birth_date=born))
    session.flush()
    log.record_many(session, [log.Event(
        kind="purchase", item_id=product.id, surface="email", quantity=2,
        amount_minor=2 * (product.price_minor or 0), currency=product.currency,
        idempotency_key=log.key_for("demo-story", n, product.id), user_id=user.id,
        occurred_at=now - timedelta(days=120 + 24 * (STORY_PURCHASES - 1 - n)))
        for n in range(STORY_PURCHASES) for product in products[n % len(products):][:1]])
    return True


#: A possible duplicate for customer service to look at: 李静 (the expecting demo parent)
#: bought wipes in the shop with an account of her own before the family one, under the
#: same phone number written another way. It cannot sign in; merging it is the demo.
SECOND_EMAIL = "lijing.shop@example.com"
SECOND_OF = "demo.expecting@example.com"


def second_account(session: Session, now: datetime) -> bool:
    """Add 李静's second account if it is not there (and she is); True when added."""
    if session.scalar(select(User.id).where(User.email == SECOND_EMAIL)) is not None:
        return False
    first = session.scalar(select(User).where(User.email == SECOND_OF))
    wipes = session.scalar(select(ContentItem).where(
        ContentItem.kind == "product", ContentItem.category == "wipes", library.live(now))
        .order_by(ContentItem.id).limit(1))
    if first is None or not first.phone_key or wipes is None:
        return False
    key = first.phone_key[-11:]
    user = User(email=SECOND_EMAIL, password_hash="!", display_name=first.display_name,
                phone=f"{key[:3]}-{key[3:7]}-{key[7:]}", member_no="SM999" + "0000002",
                timezone=first.timezone, locale=first.locale,
                security_stamp=hashlib.sha256(SECOND_EMAIL.encode()).hexdigest()[:32],
                link_key=hashlib.sha256(f"link:{SECOND_EMAIL}".encode()).hexdigest()[:32],
                interests=["pregnancy_wellbeing"], created_at=now)
    session.add(user)
    session.flush()
    session.add(SavedItem(user_id=user.id, item_id=wipes.id, created_at=now))
    log.record_many(session, [log.Event(
        kind="purchase", item_id=wipes.id, surface="shop", quantity=1,
        amount_minor=wipes.price_minor or 0, currency=wipes.currency,
        idempotency_key=log.key_for("demo-second-account", wipes.id), user_id=user.id,
        occurred_at=now - timedelta(days=9), order_ref="SO-DEMO-0002")])
    return True


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
