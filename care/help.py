"""The help centre: FAQs (content items of kind "faq") by stage and topic, search, and
"Was this helpful?" votes.

An FAQ may carry a stage window (authored in the studio, optional) and topics: the help page
puts the FAQs for the parent's child's stage first and filters by topic; search reuses the
content search (`content.search`) restricted to FAQs. A vote is one per person per FAQ
(anonymous visitors: one per browser, rate-limited by the web layer) and can be changed;
marketers see the counts and the least helpful answers in the studio.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from care.models import FaqVote
from clock import utcnow
from content import library
from content.library import live
from content.models import ContentItem, Faq
from content.stages import Stage
from content.vocabulary import TOPICS
from db import dialect_insert, table_of
from diary.errors import N_, NotFound, ValidationError
from diary.models import User

#: A FAQ is among the least helpful once this many people voted on it.
MIN_VOTES = 3
VOTER_MAX = 40


@dataclass
class HelpPage:
    """What the help page shows: the FAQs for the child's stage first, then the others by
    category (both already filtered by topic and search)."""

    stage: Stage | None
    for_stage: list[ContentItem] = field(default_factory=list)
    groups: dict[str, list[ContentItem]] = field(default_factory=dict)
    topics: list[str] = field(default_factory=list)  # topics that have FAQs

    @property
    def count(self) -> int:
        return len(self.for_stage) + sum(len(items) for items in self.groups.values())


def fits(item: ContentItem, stage: Stage | None) -> bool:
    return stage is not None and item.window_unit == stage.unit and \
        item.window_from is not None and item.window_to is not None and \
        item.window_from <= stage.value <= item.window_to


def help_page(session: Session, stage: Stage | None = None, topic: str | None = None,
              query: str | None = None, now: datetime | None = None) -> HelpPage:
    """The live FAQs, for `stage` first, only `topic`'s if one is given (unknown topics are
    refused), and only those matching `query` when searching."""
    now = now or utcnow()
    if topic is not None and topic not in TOPICS:
        raise NotFound()
    items = library.faqs(session, now)
    page = HelpPage(stage, topics=[t for t in TOPICS
                                   if any(t in (i.topics or []) for i in items)])
    if topic is not None:
        items = [i for i in items if topic in (i.topics or [])]
    if query:
        found = {i.id for i in library.find(session, query, kinds=(Faq,), limit=200, now=now)}
        items = [i for i in items if i.id in found]
    for item in items:
        if fits(item, stage):
            page.for_stage.append(item)
        else:
            page.groups.setdefault(item.category or "", []).append(item)
    return page


def live_faq(session: Session, item_id: int, now: datetime | None = None) -> ContentItem:
    item = session.scalar(select(Faq).where(ContentItem.id == item_id, live(now or utcnow())))
    if item is None:
        raise NotFound()
    return item


def voter_for(user: User | None, anonymous_key: str | None) -> str:
    """The voter's key: the account when signed in, else the browser's random key."""
    if user is not None:
        return f"u{user.id}"
    if not anonymous_key or not anonymous_key.isalnum() or len(anonymous_key) > VOTER_MAX - 1:
        raise ValidationError(N_("Please try again."))
    return f"a{anonymous_key}"


def vote(session: Session, item_id: int, helpful: bool, user: User | None,
         anonymous_key: str | None = None, now: datetime | None = None) -> ContentItem:
    """Record or change a vote (one row per voter and FAQ: an insert that loses a race
    becomes the update); returns the FAQ."""
    now = now or utcnow()
    item = live_faq(session, item_id, now)
    voter = voter_for(user, anonymous_key)
    session.execute(dialect_insert(session, table_of(FaqVote)).values(
        item_id=item.id, voter=voter, user_id=user.id if user else None, helpful=helpful,
        created_at=now, updated_at=now).on_conflict_do_nothing())
    row = session.scalar(select(FaqVote).where(FaqVote.item_id == item.id,
                                               FaqVote.voter == voter)
                         .execution_options(populate_existing=True))
    if row is None:  # pragma: no cover - the insert or an earlier vote made it
        raise NotFound()
    if row.helpful != helpful:
        row.helpful, row.updated_at = helpful, now
    session.flush()
    return item


def votes_by(session: Session, user: User | None, anonymous_key: str | None,
             item_ids: Iterable[int]) -> dict[int, bool]:
    """The voter's votes on these FAQs (the page marks the chosen answer)."""
    ids = list(item_ids)
    if not ids or (user is None and not anonymous_key):
        return {}
    try:
        voter = voter_for(user, anonymous_key)
    except ValidationError:
        return {}
    return dict(session.execute(select(FaqVote.item_id, FaqVote.helpful).where(
        FaqVote.voter == voter, FaqVote.item_id.in_(ids))).all())


@dataclass
class FaqStats:
    item: ContentItem
    helpful: int
    not_helpful: int

    @property
    def votes(self) -> int:
        return self.helpful + self.not_helpful

    @property
    def share(self) -> float | None:
        """Percent of voters who found it helpful."""
        return round(100 * self.helpful / self.votes, 1) if self.votes else None


def stats(session: Session, now: datetime | None = None) -> list[FaqStats]:
    """Every live FAQ with its votes, in the help page's order."""
    counts = {item_id: (yes or 0, no or 0) for item_id, yes, no in session.execute(
        select(FaqVote.item_id,
               func.sum(case((FaqVote.helpful.is_(True), 1), else_=0)),
               func.sum(case((FaqVote.helpful.is_(False), 1), else_=0)))
        .group_by(FaqVote.item_id))}
    return [FaqStats(item, *counts.get(item.id, (0, 0)))
            for item in library.faqs(session, now or utcnow())]


def least_helpful(rows: Sequence[FaqStats], min_votes: int = MIN_VOTES,
                  limit: int = 10) -> list[FaqStats]:
    """FAQs with enough votes, lowest share of "helpful" first (more votes first on ties)."""
    voted = [r for r in rows if r.votes >= min_votes]
    return sorted(voted, key=lambda r: (r.share or 0.0, -r.votes, r.item.key))[:limit]

