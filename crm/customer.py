"""One customer, everything on one page (the customer 360): profile and consents; families,
children and their stages; journeys; what they did with suggestions and what they bought;
value tier, CLV and churn risk from the nightly scores; merges. The contact history is
`crm.contact.timeline`; duplicates are `crm.duplicates`.

Read-only. Long lists (activity, orders) come a page at a time.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import func, or_, select, text
from sqlalchemy.orm import Session, selectinload

from clock import utcnow
from content.models import ContentItem
from content.stages import Stage, stage_of
from crm.models import CustomerMerge, CustomerScore
from crm.paging import Page, page_of
from diary import age as agemath
from diary.errors import NotFound
from diary.models import Child, Consent, Family, Membership, User
from journeys.engine import journey_stage
from journeys.models import EmailPreference, Enrolment, Journey, JourneyStage, Suppression
from recommender.models import ACTIONS, Interaction, Kind

PER_PAGE = 20


@dataclass
class EnrolmentLine:
    enrolment: Enrolment
    journey: Journey
    stage: JourneyStage | None  # where the child is on it today (recomputed)


@dataclass
class ChildLine:
    child: Child
    family: Family
    today: date  # in the family's time zone
    stage: Stage | None
    enrolments: list[EnrolmentLine] = field(default_factory=list)


@dataclass
class FamilyLine:
    family: Family
    membership: Membership  # the customer's own
    others: list[Membership]  # the other caregivers


@dataclass
class Customer:
    user: User
    consents: dict[str, Consent | None]  # the latest record of each kind
    consent_history: list[Consent]
    families: list[FamilyLine]
    children: list[ChildLine]
    score: CustomerScore | None
    email_preference: EmailPreference | None
    suppressed: str | None  # why email to this address is not sent, if it is not
    merges: list[CustomerMerge]

    @property
    def churn_risk(self) -> float | None:
        """1 − P(alive) from the scores, for a customer who has bought: P(alive) is the
        purchase model's and says nothing of someone who never bought (scored 0, which would
        read as a certain churn), as the churn list also knows."""
        if self.score is None or not self.score.frequency:
            return None
        return max(0.0, min(1.0, 1.0 - self.score.p_alive))


def customer(session: Session, user_id: int, now: datetime | None = None) -> Customer:
    """Everything but the long lists; NotFound for an unknown id or a staff account."""
    now = now or utcnow()
    user = session.get(User, user_id)
    if user is None or user.is_staff:
        raise NotFound()
    history = list(session.scalars(select(Consent).where(Consent.user_id == user.id)
                                   .order_by(Consent.recorded_at.desc(), Consent.id.desc())))
    latest: dict[str, Consent | None] = {kind: None for kind in Consent.KINDS}
    for consent in reversed(history):
        latest[consent.kind] = consent
    memberships = list(session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
        .options(selectinload(Membership.family).selectinload(Family.children),
                 selectinload(Membership.family).selectinload(Family.memberships)
                 .selectinload(Membership.user))
        .execution_options(populate_existing=True)))  # a long session's copies are refreshed
    families = [FamilyLine(m.family, m, [o for o in m.family.memberships if o.id != m.id])
                for m in memberships]
    children = _children(session, [m.family for m in memberships], now)
    merges = list(session.scalars(select(CustomerMerge).where(or_(
        CustomerMerge.survivor_user_id == user.id, CustomerMerge.merged_user_id == user.id))
        .order_by(CustomerMerge.at.desc(), CustomerMerge.id.desc())))
    suppression = session.scalar(select(Suppression.reason).where(
        Suppression.email == user.email))
    return Customer(
        user=user, consents=latest, consent_history=history, families=families,
        children=children, score=session.get(CustomerScore, user.id),
        email_preference=session.get(EmailPreference, user.id), suppressed=suppression,
        merges=merges)


def _children(session: Session, families: list[Family], now: datetime) -> list[ChildLine]:
    lines = []
    for family in families:
        today = agemath.local_date(now, family.timezone)
        for child in family.children:
            lines.append(ChildLine(child, family, today, stage_of(child, today)))
    by_child = {line.child.id: line for line in lines}
    if not by_child:
        return lines
    rows = session.execute(
        select(Enrolment, Journey).join(Journey, Journey.id == Enrolment.journey_id)
        .where(Enrolment.child_id.in_(by_child)).order_by(Enrolment.id)
        .options(selectinload(Journey.stages)))
    for enrolment, journey in rows:
        line = by_child[enrolment.child_id]
        stage, _ = journey_stage(journey, line.child, line.today)
        line.enrolments.append(EnrolmentLine(enrolment, journey, stage))
    return lines


# --- activity and orders (the interaction log) ------------------------------------------------

@dataclass
class Activity:
    interaction: Interaction
    item: ContentItem | None
    title: str
    child: Child | None


def _titled(session: Session, rows: list[Interaction], locale: str) -> list[Activity]:
    item_ids = {r.item_id for r in rows}
    items = {i.id: i for i in session.scalars(
        select(ContentItem).where(ContentItem.id.in_(item_ids))
        .options(selectinload(ContentItem.translations)))} if item_ids else {}
    child_ids = {r.child_id for r in rows if r.child_id}
    children = {c.id: c for c in session.scalars(select(Child).where(Child.id.in_(child_ids)))} \
        if child_ids else {}
    out = []
    for r in rows:
        item = items.get(r.item_id)
        translation = item.text(locale) if item is not None else None
        title = translation.title if translation is not None and translation.title else \
            (item.key if item is not None else str(r.item_id))
        out.append(Activity(r, item, title, children.get(r.child_id) if r.child_id else None))
    return out


def activity(session: Session, user: User, page: int = 1, per_page: int = PER_PAGE,
             locale: str = "en") -> Page[Activity]:
    """What the customer did with suggested items (opened, saved, dismissed, put in the
    basket), newest first: never the impressions (what they were shown), and not the
    purchases, which are the orders (`orders`)."""
    actions = (Interaction.user_id == user.id,
               text(ACTIONS),  # the partial index's own predicate, so the index is used
               Interaction.kind != Kind.PURCHASE.value)
    total = session.scalar(select(func.count()).select_from(Interaction).where(
        *actions)) or 0
    number, pages, offset = page_of(total, page, per_page)
    rows = list(session.scalars(
        select(Interaction).where(*actions)
        .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
        .offset(offset).limit(per_page)))
    return Page(_titled(session, rows, locale), total, number, pages)


@dataclass
class Orders:
    page: Page[Activity]
    #: Money spent, per currency (minor units), and the number of order lines.
    spent: dict[str, int]
    lines: int
    first: datetime | None
    last: datetime | None


def orders(session: Session, user: User, page: int = 1, per_page: int = PER_PAGE,
           locale: str = "en") -> Orders:
    """The customer's purchases (order lines from the shop), newest first, with totals."""
    bought = (Interaction.user_id == user.id, Interaction.kind == Kind.PURCHASE.value)
    spent: dict[str, int] = {}
    lines, first, last = 0, None, None
    for currency, amount, count, low, high in session.execute(
            select(Interaction.currency, func.sum(Interaction.amount_minor), func.count(),
                   func.min(Interaction.occurred_at), func.max(Interaction.occurred_at))
            .where(*bought).group_by(Interaction.currency)):
        spent[currency or ""] = int(amount or 0)
        lines += count
        first = low if first is None or (low is not None and low < first) else first
        last = high if last is None or (high is not None and high > last) else last
    number, pages, offset = page_of(lines, page, per_page)
    rows = list(session.scalars(select(Interaction).where(*bought)
                                .order_by(Interaction.occurred_at.desc(), Interaction.id.desc())
                                .offset(offset).limit(per_page)))
    return Orders(Page(_titled(session, rows, locale), lines, number, pages), spent, lines,
                  first, last)

