"""How journeys and campaigns are answered: sent, delivered, opened (where known), clicked,
converted and unsubscribed, by campaign and by journey stage, with each campaign's lift over
its holdout and the 95 % interval of that difference.

What each number means:

- sent: campaign decisions that were pushed (`CampaignSend` rows not held out); for a journey
  stage, the ledger rows (`Delivery`) its steps made, inbox and email;
- delivered: the ledger says "sent" (an inbox message shows at once; an email left the
  outbox);
- opened: the inbox message was read. Email opens are not known (no tracking pixel), so
  only the inbox counts;
- clicked: a tracked link in the email was followed (`EmailClick`, first click only);
- converted: the campaign's goal happened within its window (`campaigns.measure_conversions`;
  journeys have no goal yet, so "—");
- unsubscribed: the person used an unsubscribe link within UNSUBSCRIBE_DAYS after the send.

Lift is conversion(sent) − conversion(holdout), its interval from the interval helper the
suggestion reports use (`recommender.online.ctr_lift`), with people as the units (a person
converts or not: one (0/1, 1) per person and send).
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import and_, select
from sqlalchemy.orm import Session, selectinload

from diary.models import Consent
from journeys.campaigns import CAMPAIGNS
from journeys.models import CampaignSend, Delivery, EmailClick, InboxMessage, Journey
from recommender.online import Lift, ctr_lift

UNSUBSCRIBE_DAYS = 30
UNSUBSCRIBE_SOURCE = "unsubscribe-link"  # journeys.unsubscribe.SOURCE


@dataclass
class Response:
    key: str  # the campaign's name, or the journey stage's key
    label: str = ""  # the journey's name for stage rows
    stage: str = ""  # the stage's name for stage rows
    sent: int = 0
    delivered: int = 0
    opened: int = 0
    clicked: int = 0
    converted: int | None = 0  # None: no goal to convert to
    unsubscribed: int = 0
    holdout: int | None = None  # None: no holdout group
    holdout_converted: int | None = None
    lift: Lift | None = None
    _people: list[tuple[int, int]] = field(default_factory=list, repr=False)
    _control: list[tuple[int, int]] = field(default_factory=list, repr=False)

    def rate(self, n: int | None) -> float | None:
        return n / self.sent if self.sent and n is not None else None

    @property
    def holdout_rate(self) -> float | None:
        return self.holdout_converted / self.holdout \
            if self.holdout and self.holdout_converted is not None else None


def _unsubscribes(session: Session) -> dict[int, list[datetime]]:
    found: dict[int, list[datetime]] = defaultdict(list)
    for user_id, at in session.execute(
            select(Consent.user_id, Consent.recorded_at)
            .where(Consent.kind == Consent.MARKETING, Consent.granted.is_(False),
                   Consent.source == UNSUBSCRIBE_SOURCE)):
        found[user_id].append(at)
    return found


def _left_after(unsubscribed: dict[int, list[datetime]], user_id: int, at: datetime) -> bool:
    until = at + timedelta(days=UNSUBSCRIBE_DAYS)
    return any(at <= when <= until for when in unsubscribed.get(user_id, ()))


def by_campaign(session: Session, since: datetime | None = None) -> list[Response]:
    """Every life-moment campaign (also those nobody has had yet), in CAMPAIGNS order."""
    out = {name: Response(name, holdout=0, holdout_converted=0) for name in CAMPAIGNS}
    sends = select(CampaignSend)
    if since is not None:
        sends = sends.where(CampaignSend.created_at >= since)
    delivered: set[tuple[int, str, str]] = set()
    clicked: set[tuple[int, str, str]] = set()
    campaign_rows = and_(Delivery.item_key.like("campaign:%"), Delivery.status == "sent")
    for user_id, item_key, occurrence in session.execute(
            select(Delivery.user_id, Delivery.item_key, Delivery.occurrence)
            .where(campaign_rows)):
        delivered.add((user_id, item_key, occurrence))
    for user_id, item_key, occurrence in session.execute(
            select(Delivery.user_id, Delivery.item_key, Delivery.occurrence)
            .join(EmailClick, EmailClick.delivery_id == Delivery.id)
            .where(Delivery.item_key.like("campaign:%"))):
        clicked.add((user_id, item_key, occurrence))
    read = set(session.scalars(select(InboxMessage.delivery_id)
                               .join(CampaignSend, CampaignSend.delivery_id
                                     == InboxMessage.delivery_id)
                               .where(InboxMessage.read_at.is_not(None))))
    unsubscribed = _unsubscribes(session)
    for send in session.scalars(sends.order_by(CampaignSend.id)):
        entry = out.setdefault(send.campaign, Response(send.campaign, holdout=0,
                                                       holdout_converted=0))
        converted = int(send.converted_at is not None)
        if send.holdout:
            entry.holdout = (entry.holdout or 0) + 1
            entry.holdout_converted = (entry.holdout_converted or 0) + converted
            entry._control.append((converted, 1))
            continue
        key = (send.user_id, f"campaign:{send.campaign}", f"{send.campaign}:{send.occurrence}")
        entry.sent += 1
        entry.delivered += key in delivered
        entry.opened += send.delivery_id in read
        entry.clicked += key in clicked
        entry.converted = (entry.converted or 0) + converted
        entry.unsubscribed += _left_after(unsubscribed, send.user_id, send.created_at)
        entry._people.append((converted, 1))
    for entry in out.values():
        if entry._people and entry._control:
            entry.lift = ctr_lift(entry._people, entry._control)
    return list(out.values())


def by_journey_stage(session: Session, since: datetime | None = None) -> list[Response]:
    """Per journey and stage (journey order, then the stage's position): what its steps
    pushed and how it was answered. Journeys have no holdout or goal yet."""
    names: dict[int, str] = {}
    stages: dict[tuple[int, str], tuple[int, str]] = {}  # → (position, name)
    for journey in session.scalars(select(Journey).options(selectinload(Journey.stages))):
        names[journey.id] = journey.name
        for js in journey.stages:
            stages[(journey.id, js.key)] = (js.position, js.name)
    stmt = select(Delivery.id, Delivery.user_id, Delivery.journey_id, Delivery.channel,
                  Delivery.status, Delivery.payload, Delivery.created_at) \
        .where(Delivery.journey_id.is_not(None))
    if since is not None:
        stmt = stmt.where(Delivery.created_at >= since)
    read = set(session.scalars(select(InboxMessage.delivery_id)
                               .join(Delivery, Delivery.id == InboxMessage.delivery_id)
                               .where(Delivery.journey_id.is_not(None),
                                      InboxMessage.read_at.is_not(None))))
    clicked = set(session.scalars(select(EmailClick.delivery_id)
                                  .join(Delivery, Delivery.id == EmailClick.delivery_id)
                                  .where(Delivery.journey_id.is_not(None))))
    unsubscribed = _unsubscribes(session)
    out: dict[tuple[int, str], Response] = {}
    for d in session.execute(stmt):
        stage = str((d.payload or {}).get("stage_key") or "")
        entry = out.setdefault((d.journey_id, stage), Response(
            stage, label=names.get(d.journey_id, f"#{d.journey_id}"),
            stage=stages.get((d.journey_id, stage), (0, stage))[1], converted=None))
        entry.sent += 1
        entry.delivered += d.status == "sent"
        entry.opened += d.id in read
        entry.clicked += d.id in clicked
        if d.channel == "email":
            entry.unsubscribed += _left_after(unsubscribed, d.user_id, d.created_at)
    return [out[k] for k in sorted(out, key=lambda k: (k[0], stages.get(k, (10**6, ""))[0],
                                                        k[1]))]
