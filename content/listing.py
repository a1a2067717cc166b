"""The studio's list of all content: filters a person chose, one page at a time.

Plain functions over a session (no Flask): the view hands in the query string's values and
gets back the cleaned filters and the page to show.
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, fields
from datetime import datetime

from sqlalchemy import Select, String, and_, cast, func, or_, select
from sqlalchemy.orm import Session, selectinload

from content import library, search
from content.authoring import TOPICS
from content.models import KINDS, ContentItem, Status, Translation
from content.stages import Stage
from diary.accounts import users_by_id
from diary.locales import LOCALES
from diary.models import User

PAGE_SIZE = 50
STATUS_FILTERS = ("draft", "in_review", "needs_review", "published", "scheduled", "archived",
                  "all")
TEXT_MAX = 100


@dataclass(frozen=True)
class Filters:
    """What the list shows; every value empty means "everything not archived"."""

    q: str = ""        # words of a title or text, or part of a slug/SKU
    type: str = ""     # a kind of content (article, reminder, product, faq)
    status: str = ""   # one of STATUS_FILTERS
    missing: str = ""  # a locale without a title
    stage: str = ""    # a stage key, "pregnancy_week:12"
    topic: str = ""    # a topic slug

    @classmethod
    def parse(cls, args: Mapping[str, str | None]) -> tuple[Filters, bool]:
        """The filters from a query string: values we do not know are dropped. The flag says
        a stage was given but is not one (the view tells the person)."""
        raw = {f.name: (args.get(f.name) or "").strip()[:TEXT_MAX] for f in fields(cls)}
        bad_stage = bool(raw["stage"]) and Stage.parse(raw["stage"]) is None
        return cls(q=raw["q"], type=raw["type"] if raw["type"] in KINDS else "",
                   status=raw["status"] if raw["status"] in STATUS_FILTERS else "",
                   missing=raw["missing"] if raw["missing"] in LOCALES else "",
                   stage="" if bad_stage else raw["stage"],
                   topic=raw["topic"] if raw["topic"] in TOPICS else ""), bad_stage

    def chosen(self) -> dict[str, str]:
        """The filters that are set (for links that keep them)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if getattr(self, f.name)}


@dataclass
class ItemPage:
    items: list[ContentItem]
    total: int
    number: int  # 1-based, within 1..pages
    pages: int
    editors: dict[int, User]  # who last changed the items shown, by id

    @property
    def first(self) -> int:
        return (self.number - 1) * PAGE_SIZE + 1 if self.total else 0

    @property
    def last(self) -> int:
        return min(self.number * PAGE_SIZE, self.total)


def _where(session: Session, filters: Filters, now: datetime) -> Select[ContentItem]:
    stmt = select(ContentItem)
    if filters.q:
        escaped = filters.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        by_key = ContentItem.key.ilike(f"%{escaped}%", escape="\\")
        by_text = search.matching_items(session, filters.q)
        stmt = stmt.where(or_(by_key, by_text) if by_text is not None else by_key)
    if filters.type:
        stmt = stmt.where(ContentItem.kind == filters.type)
    status = filters.status
    if status in ("draft", "in_review", "archived"):
        stmt = stmt.where(ContentItem.status == status)
    elif status == "needs_review":
        stmt = stmt.where(or_(ContentItem.status == Status.IN_REVIEW.value,
                              ContentItem.pending_review.is_(True)))
    elif status == "published":
        stmt = stmt.where(library.live(now))
    elif status == "scheduled":
        stmt = stmt.where(ContentItem.status == Status.PUBLISHED.value,
                          ContentItem.publish_at > now)
    elif status != "all":
        stmt = stmt.where(ContentItem.status != Status.ARCHIVED.value)
    if filters.missing:
        stmt = stmt.where(~ContentItem.translations.any(and_(
            Translation.locale == filters.missing, Translation.title != "")))
    stage = Stage.parse(filters.stage) if filters.stage else None
    if stage is not None:  # the SQL form of content.stages.in_window
        stmt = stmt.where(ContentItem.window_unit == stage.unit,
                          ContentItem.window_from <= stage.value,
                          ContentItem.window_to >= stage.value)
    if filters.topic:
        # topics is a JSON list of slugs; its text form holds "topic" in quotes on both
        # SQLite and PostgreSQL
        stmt = stmt.where(cast(ContentItem.topics, String).like(f'%"{filters.topic}"%'))
    return stmt


def item_page(session: Session, filters: Filters, number: int, now: datetime) -> ItemPage:
    """One page of the items matching `filters`, newest change first (a page number past the
    end shows the last page)."""
    stmt = _where(session, filters, now)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    pages = max(1, -(-total // PAGE_SIZE))
    number = min(max(1, number), pages)
    items = list(session.scalars(
        stmt.options(selectinload(ContentItem.translations))
        .order_by(ContentItem.updated_at.desc(), ContentItem.id.desc())
        .offset((number - 1) * PAGE_SIZE).limit(PAGE_SIZE)))
    editors = users_by_id(session, {i.updated_by_id for i in items if i.updated_by_id})
    return ItemPage(items=items, total=total, number=number, pages=pages, editors=editors)

