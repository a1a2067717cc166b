"""What readers see: live content for a stage, topics, search, related items, saves."""
from __future__ import annotations

import functools
import json
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Text,
    and_,
    bindparam,
    cast,
    event,
    func,
    or_,
    select,
)
from sqlalchemy.orm import Session, aliased, selectinload

from clock import utcnow
from content import search
from content.models import (
    Article,
    ContentItem,
    Faq,
    Product,
    SavedItem,
    Status,
    Translation,
)
from content.stages import Stage, stage_of, unit_order
from db import core_rows
from diary.models import Child, User

T = TypeVar("T", bound=Any)


def live(now: datetime | ColumnElement[datetime] | None = None) -> ColumnElement[bool]:
    """Published, and due: `now` is a time, or a bound parameter of a statement built once."""
    if now is None:
        now = utcnow()
    return and_(ContentItem.status == Status.PUBLISHED.value,
                or_(ContentItem.publish_at.is_(None), ContentItem.publish_at <= now))


def has_live_image(session: Session, key: str, now: datetime | None = None) -> bool:
    """Whether an item families can see now shows this image (drafts' images stay private)."""
    return session.scalar(select(ContentItem.id).where(
        ContentItem.image_key == key, live(now)).limit(1)) is not None


def _in_stage(stage: Stage) -> ColumnElement[bool]:
    return and_(ContentItem.window_unit == stage.unit, ContentItem.window_from <= stage.value,
                ContentItem.window_to >= stage.value)


def ranked(items: Sequence[T], interests: list[str],
           interests_of: Callable[[T], Collection[str] | None] = lambda item: item.interests
           ) -> list[T]:
    """Items matching the family's interests first, then the most specific windows.
    `interests_of` reads an item's interests (rows may keep them as JSON text)."""
    wanted = set(interests)

    def key(item: T) -> tuple[int, int, int, str]:
        overlap = len(wanted.intersection(interests_of(item) or ())) if wanted else 0
        width = (item.window_to or 0) - (item.window_from or 0)
        return (-overlap, width, item.position, item.key)

    return sorted(items, key=key)


def for_stage(session: Session, kind: type[ContentItem], stage: Stage,
              interests: Sequence[str] = (), limit: int | None = None,
              now: datetime | None = None) -> list[ContentItem]:
    stmt = select(kind).where(live(now), _in_stage(stage)).options(
        selectinload(ContentItem.translations))
    if kind is Product:
        stmt = stmt.where(ContentItem.active.is_(True))
    items = ranked(list(session.scalars(stmt)), list(interests))
    return items[:limit] if limit else items


#: How many of each kind the dashboard shows (the studio's preview uses the same numbers).
THIS_WEEK_LIMITS = {"article": 3, "reminder": 4, "product": 4}


@dataclass(frozen=True)
class Shown:
    """An item as a list shows it: its key (for the link) and its text in one language."""
    id: int
    kind: str
    key: str
    title: str
    summary: str
    #: The item's category (a reminder's says whether it can be ticked off: check-ups and
    #: vaccinations), so the child page needs no second look-up.
    category: str | None = None


@dataclass
class ThisWeek:
    child: Child
    stage: Stage | None
    articles: list[Shown] = field(default_factory=list)
    reminders: list[Shown] = field(default_factory=list)
    products: list[Shown] = field(default_factory=list)


#: The stage's live candidates for "this week" as light rows: what ranking needs, and the
#: title and summary in the reader's language and in English (`ContentItem.text`'s first
#: two choices). Built once: the child home asks on every visit.
_STAGE_NOW: BindParameter[datetime] = bindparam("now")
_READER_TEXT, _ENGLISH_TEXT = aliased(Translation), aliased(Translation)
_THIS_WEEK_CANDIDATES = (
    select(ContentItem.id, ContentItem.kind, ContentItem.key, ContentItem.category,
           # as text: decoded only when the reader has interests to rank by
           cast(ContentItem.interests, Text).label("interests"),
           ContentItem.window_from, ContentItem.window_to, ContentItem.position,
           _READER_TEXT.title.label("title"), _READER_TEXT.summary.label("summary"),
           _ENGLISH_TEXT.title.label("en_title"), _ENGLISH_TEXT.summary.label("en_summary"))
    .outerjoin(_READER_TEXT, and_(_READER_TEXT.item_id == ContentItem.id,
                                  _READER_TEXT.locale == bindparam("locale")))
    .outerjoin(_ENGLISH_TEXT, and_(_ENGLISH_TEXT.item_id == ContentItem.id,
                                   _ENGLISH_TEXT.locale == "en"))
    .where(live(_STAGE_NOW), or_(*(ContentItem.kind == kind for kind in THIS_WEEK_LIMITS)),
           ContentItem.window_unit == bindparam("unit"),
           ContentItem.window_from <= bindparam("value"),
           ContentItem.window_to >= bindparam("value"),
           or_(ContentItem.kind != Product.__mapper__.polymorphic_identity,
               ContentItem.active.is_(True))))
_ANY_TEXT = (select(Translation.item_id, Translation.title, Translation.summary)
             .where(Translation.item_id.in_(bindparam("ids", expanding=True)))
             .order_by(Translation.item_id, Translation.locale))


@functools.lru_cache(maxsize=1024)
def _interests_of_json(text: str | None) -> tuple[str, ...]:
    """An item's interests from their JSON text. Items share a handful of interest lists,
    and ranking decodes every candidate's on every child page: each text is decoded once."""
    return tuple(json.loads(text or "null") or ())


#: The newest change to any item: an edit, a publication, an archive or a new item all set
#: `updated_at` (an ORM onupdate), and items are never deleted, only archived.
_CONTENT_GENERATION = select(func.max(ContentItem.updated_at))
#: "This week" is the same for every reader at one stage, in one language, with the same
#: interests: kept per process, keyed by (unit, value, language, interests), for as long as
#: no item changes and at most this long (an item scheduled to go live appears within this
#: time of its hour).
THIS_WEEK_TTL = timedelta(seconds=60)
MAX_CACHED_WEEKS = 4096
Chosen = tuple[list[Shown], list[Shown], list[Shown]]
_chosen_cache: dict[tuple[Any, ...], tuple[datetime | None, datetime, Chosen]] = {}
_chosen_lock = threading.Lock()


def content_generation(session: Session) -> datetime | None:
    """The newest change to any item (one indexed look-up): what kept answers built from
    content are keyed on. Asked once per transaction and flush: a page whose "this week"
    and suggestions both ask gets one query, and a change written since is seen. A page
    whose first statement carries `CONTENT_GENERATION_COLUMN` hands its value over with
    `remember_content_generation`, and asks no query at all."""
    transaction = session.get_transaction()
    kept = session.info.get("content_generation")
    if transaction is not None and kept is not None and kept[0] is transaction:
        return kept[1]
    value = core_rows(session, _CONTENT_GENERATION, {}).scalar()
    remember_content_generation(session, value)
    return value


#: `content_generation`'s answer as a column, for a statement a page sends anyway (a round
#: trip saved: journeys.inbox.headlines_and_unread carries it on the child home).
CONTENT_GENERATION_COLUMN = _CONTENT_GENERATION.scalar_subquery()


def remember_content_generation(session: Session, value: datetime | None) -> None:
    """Keep `value`, read in `session`'s current transaction (by `_CONTENT_GENERATION` or
    `CONTENT_GENERATION_COLUMN`), as that transaction's content generation."""
    session.info["content_generation"] = (session.get_transaction(), value)


@event.listens_for(Session, "after_flush")
def _forget_generation(session: Session, _context: Any) -> None:
    session.info.pop("content_generation", None)


def forget_cached_this_week() -> None:
    """Empty the kept "this week" answers (tests: ids and times repeat between rolled-back
    tests)."""
    with _chosen_lock:
        _chosen_cache.clear()


def this_week(session: Session, child: Child, reader: User, on: date, locale: str,
              now: datetime | None = None) -> ThisWeek:
    """The dashboard's "this week for you" for one child, in the reader's interests and
    language: for each kind, what `for_stage` would rank first, with the title and summary
    `ContentItem.text(locale)` would give. Families at one stage share the answer (see
    THIS_WEEK_TTL); working it out is one light query (the page shows eleven items of a
    stage's few dozen; loading them all as objects with every translation cost more than
    the rest of the page)."""
    stage = stage_of(child, on)
    result = ThisWeek(child, stage)
    if stage is None:
        return result
    now = now or utcnow()
    interests = tuple(sorted(set(reader.interests or ())))
    generation = content_generation(session)
    key = (stage.unit, stage.value, locale, interests)
    cached = _chosen_cache.get(key)
    if cached is not None and cached[0] == generation and now < cached[1]:
        chosen = cached[2]
    else:
        chosen = _choose(session, stage, locale, list(interests), now)
        with _chosen_lock:
            if len(_chosen_cache) >= MAX_CACHED_WEEKS:
                _chosen_cache.clear()
            _chosen_cache[key] = (generation, now + THIS_WEEK_TTL, chosen)
    # Lists of one's own: a caller may change its ThisWeek without touching the cache.
    result.articles, result.reminders, result.products = (list(shown) for shown in chosen)
    return result


def _choose(session: Session, stage: Stage, locale: str, interests: list[str],
            now: datetime) -> Chosen:
    candidates = core_rows(session, _THIS_WEEK_CANDIDATES, {
        "now": now, "unit": stage.unit, "value": stage.value, "locale": locale}).all()
    chosen = {kind: ranked([r for r in candidates if r.kind == kind], interests,
                           lambda row: _interests_of_json(row.interests))[:limit]
              for kind, limit in THIS_WEEK_LIMITS.items()}
    texts = {row.id: (row.title, row.summary) if row.title is not None
             else (row.en_title, row.en_summary)
             for rows in chosen.values() for row in rows
             if row.title is not None or row.en_title is not None}
    untranslated = [row.id for rows in chosen.values() for row in rows if row.id not in texts]
    if untranslated:  # neither the reader's language nor English: any translation
        for text in session.execute(_ANY_TEXT, {"ids": untranslated}):
            texts.setdefault(text.item_id, (text.title, text.summary))
    articles, reminders, products = (
        [Shown(row.id, row.kind, row.key, *texts[row.id], category=row.category)
         for row in chosen[kind] if row.id in texts]
        for kind in ("article", "reminder", "product"))
    return articles, reminders, products


def any_titles(session: Session, ids: list[int]) -> dict[int, str]:
    """Titles of items that have neither the reader's language nor English: the first
    translation, as `ContentItem.text` falls back to."""
    titles: dict[int, str] = {}
    for row in session.execute(_ANY_TEXT, {"ids": ids}) if ids else ():
        titles.setdefault(row.item_id, row.title)
    return titles


def by_key(session: Session, kind: type[ContentItem], key: str,
           now: datetime | None = None) -> ContentItem | None:
    return session.scalar(select(kind).where(ContentItem.key == key, live(now))
                          .options(selectinload(ContentItem.translations)))


def by_topic(session: Session, topic: str, now: datetime | None = None) -> list[ContentItem]:
    items = session.scalars(select(Article).where(live(now)).options(
        selectinload(ContentItem.translations)))
    return sorted((i for i in items if topic in (i.topics or [])),
                  key=lambda i: (unit_order(i.window_unit), i.window_from or 0, i.key))


def find(session: Session, query: str, kinds: tuple[type[ContentItem], ...] = (
        Article, Faq, Product), limit: int = 30, now: datetime | None = None
         ) -> list[ContentItem]:
    clause = search.matching_items(session, query)
    if clause is None:
        return []
    stmt = (select(ContentItem).where(live(now), clause,
                                      ContentItem.kind.in_([k.__mapper__.polymorphic_identity
                                                            for k in kinds]))
            .options(selectinload(ContentItem.translations)).limit(limit))
    return sorted(session.scalars(stmt), key=lambda i: (i.kind != "article", i.key))


def related(session: Session, article: ContentItem, limit: int = 3,
            now: datetime | None = None) -> list[ContentItem]:
    """Articles sharing a topic, nearest in stage first."""
    topics = set(article.topics or [])
    candidates: list[ContentItem] = [a for a in session.scalars(
        select(Article).where(live(now), ContentItem.id != article.id)
        .options(selectinload(ContentItem.translations)))
        if topics & set(a.topics or [])]

    def distance(a: ContentItem) -> tuple[int, int]:
        same_unit = a.window_unit == article.window_unit
        return (0 if same_unit else 1, abs((a.window_from or 0) - (article.window_from or 0)))

    return sorted(candidates, key=distance)[:limit]


def products_for_article(session: Session, article: ContentItem, limit: int = 3,
                         now: datetime | None = None) -> list[ContentItem]:
    if article.window_unit is None:
        return []
    stage = Stage(article.window_unit, article.window_from or 0)
    return for_stage(session, Product, stage, list(article.interests or []), limit, now)


def faqs(session: Session, now: datetime | None = None) -> list[ContentItem]:
    return list(session.scalars(select(Faq).where(live(now))
                                .order_by(ContentItem.category, ContentItem.position)
                                .options(selectinload(ContentItem.translations))))


def save_for_later(session: Session, user: User, item: ContentItem) -> None:
    exists = session.scalar(select(SavedItem).where(SavedItem.user_id == user.id,
                                                    SavedItem.item_id == item.id))
    if exists is None:
        session.add(SavedItem(user_id=user.id, item_id=item.id))
        session.flush()


def unsave(session: Session, user: User, item: ContentItem) -> None:
    saved = session.scalar(select(SavedItem).where(SavedItem.user_id == user.id,
                                                   SavedItem.item_id == item.id))
    if saved is not None:
        session.delete(saved)
        session.flush()


def saved(session: Session, user: User, now: datetime | None = None) -> list[ContentItem]:
    ids = select(SavedItem.item_id).where(SavedItem.user_id == user.id)
    return list(session.scalars(select(ContentItem).where(ContentItem.id.in_(ids), live(now))
                                .options(selectinload(ContentItem.translations))))


def is_saved(session: Session, user: User, item: ContentItem) -> bool:
    return session.scalar(select(SavedItem.id).where(SavedItem.user_id == user.id,
                                                     SavedItem.item_id == item.id)) is not None
