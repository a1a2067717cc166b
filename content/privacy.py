"""What the content package adds to a person's data export (see `diary.privacy`)."""
from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.models import ContentItem, ProductReview, SavedItem
from diary.privacy import ExportRegistry, ExportScope, Section, iso


def _saved_items(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(
        select(SavedItem, ContentItem).join(ContentItem, ContentItem.id == SavedItem.item_id)
        .where(SavedItem.user_id == scope.user.id).order_by(SavedItem.created_at, SavedItem.id)
        .options(selectinload(ContentItem.translations)))
    out = []
    for saved, item in rows:
        text = item.text(scope.user.locale)
        out.append({"kind": item.kind, "key": item.key, "title": text.title if text else "",
                    "saved_at": iso(saved.created_at)})
    return out


def _reviews(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.execute(
        select(ProductReview, ContentItem.key)
        .join(ContentItem, ContentItem.id == ProductReview.item_id)
        .where(ProductReview.user_id == scope.user.id)
        .order_by(ProductReview.created_at, ProductReview.id))
    return [{"product": key, "rating": r.rating, "text": r.body,
             "created_at": iso(r.created_at), "updated_at": iso(r.updated_at),
             "hidden_by_staff": r.hidden_at is not None} for r, key in rows]


def register(registry: ExportRegistry) -> None:
    registry.add(Section("saved_items", ("saved_items",), _saved_items),
                 Section("product_reviews", ("product_reviews",), _reviews))
    registry.not_exported("content_items", "articles, reminders and products; the user "
                          "columns name the staff who edited them")
    registry.not_exported("content_versions", "versions of content items; the user column "
                          "names the staff member who saved them")
    registry.not_exported("content_publications", "who approved which content version: "
                          "staff work, not a customer's data")
