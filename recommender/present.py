"""Suggestions ready to show: the products behind `serve.suggest` and their reasons' words.

    mode_for(user, family_id, control_share) -> "model" | "control"
    cards(session, model, user, child, today, locale, k, surface, control_share) -> Slate
    showing(slate, user, child, today, surface, request_id) -> impressions.Shown | None

The site's suggestion fragments and the email digests both call `cards`: it picks the mode
(the control for people who turned personalised suggestions off and for the holdout share of
families), ranks, and loads the products (with their texts) and the titles the reasons name,
in the reader's language. Reading only.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.models import ContentItem
from content.stages import stage_of
from diary.models import Child, User
from recommender import impressions, reasons, serve
from recommender.serve import Suggestion
from recommender.train import Model


@dataclass(frozen=True)
class Card:
    suggestion: Suggestion
    item: ContentItem
    reason: str  # in the reader's language


@dataclass(frozen=True)
class Slate:
    cards: list[Card]
    mode: str
    model_version: str  # as logged with the cards' impressions


def mode_for(user: User, family_id: int, control_share: float) -> str:
    """The control for people who turned personalised suggestions off and for the stable
    holdout share of families; the model otherwise."""
    if not user.personalise_suggestions or serve.in_control(family_id, control_share):
        return "control"
    return "model"


def cards(session: Session, model: Model | None, user: User, child: Child, today: date,
          locale: str, k: int, surface: str, control_share: float,
          now: datetime | None = None) -> Slate:
    """Up to `k` suggestions for `child` as `user` sees them on `surface`, with the products
    and the reasons in `locale`, in the order ranked."""
    mode = mode_for(user, child.family_id, control_share)
    ranked = serve.suggest(session, model, user, child, today, k=k, surface=surface,
                           mode=mode, now=now)
    version = (serve.CONTROL_VERSION if mode == "control"
               else model.version if model is not None else serve.FALLBACK_VERSION)
    if not ranked:
        return Slate([], mode, version)
    items = {item.id: item for item in session.scalars(
        select(ContentItem).where(ContentItem.id.in_([s.item_id for s in ranked]))
        .options(selectinload(ContentItem.translations)))}
    named = reasons.titles(session, reasons.named_items(s.reason for s in ranked), locale)
    shown = [Card(s, items[s.item_id], reasons.describe(s.reason, locale, named))
             for s in ranked if s.item_id in items]
    return Slate(shown, mode, ranked[0].model_version)


def showing(slate: Slate, user: User, child: Child, today: date, surface: str,
            request_id: str) -> impressions.Shown | None:
    """What one showing of `slate` under `request_id` tells the impression log (the signed
    slate token's content, `impressions.make_token`): who saw which items in which order, for
    which child at which stage. None for an empty slate: nothing to report."""
    if not slate.cards:
        return None
    stage = stage_of(child, today)
    return impressions.Shown(user.id, child.id, surface, request_id, slate.model_version,
                             stage.key if stage is not None else None,
                             tuple(card.item.id for card in slate.cards))
