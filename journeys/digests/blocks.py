"""What a digest holds for each child: the stage's articles, reminders and products.

The stage's content is ranked for the parent's interests as the library ranks it, with the
topics they chose first. One outbox run shares a `ContentCache`: everyone at the same stage
with the same interests reads the same items, so most emails run no query of their own.
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content import library
from content.models import Article, ContentItem, Product, Reminder
from content.stages import Stage, stage_of
from content.vocabulary import stage_label
from diary import age as agemath
from diary.locales import format_price
from diary.models import Child, Membership, User
from journeys.digests.clicks import Tracker
from journeys.models import EmailPreference
from journeys.preferences import Schedule
from recommender import present
from recommender.models import Surface
from recommender.train import Model

ARTICLES_MIN, ARTICLES_MAX = 2, 3
PRODUCTS_MAX = 2
SUGGESTED_MAX = 3


@dataclass(frozen=True)
class Suggesting:
    """The recommender for digests: the current model (asked once per email) and the share
    of families held out as the control (`recommender.present`)."""

    model: Callable[[], Model | None]
    control_share: float = 0.0


@dataclass
class ChildBlock:
    name: str
    stage: str
    stage_url: str
    articles: list[dict[str, str]] = field(default_factory=list)
    reminders: list[dict[str, str]] = field(default_factory=list)
    products: list[dict[str, str]] = field(default_factory=list)
    suggested: bool = False  # products are the recommender's, each with its reason


def _pick_articles(items: list[ContentItem], topics: set[str]) -> list[ContentItem]:
    """The stage's articles (already ranked by interests); chosen topics first, at least two."""
    if not topics:
        return items[:ARTICLES_MAX]
    chosen = [a for a in items if topics & set(a.topics or [])][:ARTICLES_MAX]
    rest = [a for a in items if a not in chosen]
    return chosen + rest[:max(0, ARTICLES_MIN - len(chosen))]


#: What one outbox run shares between emails: stage content {(kind, stage): items}, its
#: ranking per set of interests, and each batch's preloaded children and preferences.
ContentCache = dict[tuple[Any, ...], Any]


def children_by_user(session: Session, user_ids: set[int]) -> dict[int, list[Child]]:
    """Each person's children (with their families), oldest record first, in one query."""
    children: dict[int, list[Child]] = {uid: [] for uid in user_ids}
    for user_id, child in session.execute(
            select(Membership.user_id, Child)
            .join(Child, Child.family_id == Membership.family_id)
            .where(Membership.user_id.in_(user_ids)).order_by(Child.id)
            .options(selectinload(Child.family))):
        children[user_id].append(child)
    return children


def preload(session: Session, user_ids: set[int], prefs: dict[int, EmailPreference],
            cache: ContentCache) -> None:
    """Read a whole outbox batch's children (with families) and preferences at once, so
    rendering each email runs no query of its own."""
    for uid, children in children_by_user(session, user_ids).items():
        cache[("children", uid)] = children
        cache[("pref", uid)] = prefs.get(uid)


def item_text(item: ContentItem, locale: str) -> tuple[str, str]:
    tr = item.text(locale)
    return (tr.title, tr.summary or "") if tr is not None else (item.key, "")


def _stage_items(session: Session, kind: type[ContentItem], stage: Stage,
                 interests: list[str], limit: int | None, now: datetime,
                 cache: ContentCache | None) -> list[ContentItem]:
    """The stage's items ranked for this parent's interests, as `library.for_stage` would.

    The query is cached by stage only (a few hundred keys per run, not one per combination
    of interests); ranking a handful of items per parent in Python is cheap."""
    key = (kind.__name__, stage)
    if cache is None:
        items = library.for_stage(session, kind, stage, [], None, now)
    else:
        if key not in cache:
            cache[key] = library.for_stage(session, kind, stage, [], None, now)
        items = cache[key]
    if not interests:
        ranked = items
    elif cache is None:
        ranked = library.ranked(items, interests)
    else:  # parents share a few combinations of interests: rank each once per stage
        rank_key = ("ranked", kind.__name__, stage, tuple(sorted(interests)))
        if rank_key not in cache:
            cache[rank_key] = library.ranked(items, interests)
        ranked = cache[rank_key]
    return ranked[:limit] if limit else ranked


def _block(session: Session, child: Child, stage: Stage, locale: str, interests: list[str],
           topics: set[str], now: datetime, tracker: Tracker,
           cache: ContentCache | None = None, user: User | None = None,
           suggesting: tuple[Model | None, float] | None = None) -> ChildBlock:
    links = tracker.links
    block = ChildBlock(name=child.name, stage=stage_label(stage, locale),
                       stage_url=tracker.tracked(f"stage:{stage.key}", links.stage(stage.key)))
    articles = _stage_items(session, Article, stage, interests, None, now, cache)
    for article in _pick_articles(articles, topics):
        title, summary = item_text(article, locale)
        block.articles.append({"title": title, "summary": summary, "url": tracker.tracked(
            f"article:{article.key}", links.article(article.key))})
    for reminder in _stage_items(session, Reminder, stage, interests,
                                 library.THIS_WEEK_LIMITS["reminder"], now, cache):
        title, summary = item_text(reminder, locale)
        block.reminders.append({"title": title, "summary": summary})
    if user is not None and suggesting is not None:
        _suggested(session, block, user, child, locale, now, tracker, *suggesting)
        return block
    for position, product in enumerate(_stage_items(session, Product, stage, interests,
                                                    PRODUCTS_MAX, now, cache)):
        title, summary = item_text(product, locale)
        block.products.append({
            "title": title, "summary": summary,
            "price": format_price(product.price_minor, product.currency, locale),
            "url": tracker.tracked(f"product:{product.key}", links.product(product.key),
                                   child.id, position)})
    return block


def _suggested(session: Session, block: ChildBlock, user: User, child: Child, locale: str,
               now: datetime, tracker: Tracker, model: Model | None,
               control_share: float) -> None:
    """The recommender's products for the child, with their reasons; a click on one is an
    interaction on the "email" surface with its position and the model that chose it."""
    block.suggested = True
    slate = present.cards(session, model, user, child,
                          agemath.local_date(now, child.family.timezone), locale,
                          SUGGESTED_MAX, Surface.EMAIL.value, control_share, now=now)
    for card in slate.cards:
        product = card.item
        title, summary = item_text(product, locale)
        block.products.append({
            "title": title, "summary": summary, "reason": card.reason,
            "price": format_price(product.price_minor, product.currency, locale),
            "url": tracker.tracked(f"product:{product.key}", tracker.links.product(product.key),
                                   child.id, card.suggestion.position,
                                   card.suggestion.model_version)})


def blocks_for(session: Session, user: User, now: datetime, locale: str, tracker: Tracker,
               cache: ContentCache | None = None, suggesting: Suggesting | None = None
               ) -> list[ChildBlock]:
    """One block per child of the person's families that has a stage today (in the
    family's zone), with the content for it."""
    if cache is not None and ("pref", user.id) in cache:  # preloaded by the outbox batch
        pref = cache[("pref", user.id)]
        children = cache[("children", user.id)]
    else:
        pref = session.get(EmailPreference, user.id)
        children = children_by_user(session, {user.id})[user.id]
    topics = set(Schedule.of(pref).topics)
    interests = list(user.interests or [])
    blocks: list[ChildBlock] = []
    ranker = (suggesting.model(), suggesting.control_share) if suggesting else None
    for child in children:
        stage = stage_of(child, agemath.local_date(now, child.family.timezone))
        if stage is not None:
            blocks.append(_block(session, child, stage, locale, interests, topics, now,
                                 tracker, cache, user, ranker))
    return blocks
