"""Content items (one table, five kinds), their per-locale text, versions and saves.

Articles, reminders, products, FAQ entries and messages (campaign copy) share everything
that matters to the workflow — status, schedule, audience window, versions, translations —
so they live in one table with single-table inheritance, and the few kind-specific fields
are nullable columns.
"""
from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime


class Status(str, enum.Enum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    ARCHIVED = "archived"


class ContentItem(Base):
    __tablename__ = "content_items"
    __table_args__ = (
        UniqueConstraint("kind", "key"),
        Index("ix_content_items_live", "kind", "status", "window_unit", "window_from"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))
    #: The slug (articles, reminders, FAQs) or SKU (products): stable across packs.
    key: Mapped[str] = mapped_column(String(80))
    status: Mapped[str] = mapped_column(String(16), default=Status.DRAFT.value)
    publish_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # scheduled publication
    published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    window_unit: Mapped[str | None] = mapped_column(String(16))
    window_from: Mapped[int | None] = mapped_column(Integer)
    window_to: Mapped[int | None] = mapped_column(Integer)
    topics: Mapped[list[str]] = mapped_column(JSON, default=list)
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    tags: Mapped[list[str]] = mapped_column(JSON, default=list)
    category: Mapped[str | None] = mapped_column(String(32))
    source: Mapped[str] = mapped_column(String(300), default="")
    reviewed_by: Mapped[str | None] = mapped_column(String(120))
    review_date: Mapped[date | None] = mapped_column(Date)
    image_key: Mapped[str | None] = mapped_column(String(64))
    price_minor: Mapped[int | None] = mapped_column(Integer)
    currency: Mapped[str | None] = mapped_column(String(3))
    buy_url: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: Products: bought again and again (nappies, wipes), so buying one does not rule it
    #: out of suggestions; a one-off (a bath tub) is not suggested again once bought.
    consumable: Mapped[bool] = mapped_column(Boolean, default=False)
    #: Products that come in sizes: `content.sizes.Size` as a dict (ladder, step, weights).
    size: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    position: Mapped[int] = mapped_column(Integer, default=0)
    #: The version number whose content the fields above hold (what readers see).
    version: Mapped[int] = mapped_column(Integer, default=0)
    #: A newer saved version waits for a reviewer (edits to live content when review is
    #: required); the live fields stay as they were until it is approved.
    pending_review: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow,
                                                 index=True)  # the content generation
    updated_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    submitted_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                   ondelete="SET NULL"))

    translations: Mapped[list[Translation]] = relationship(
        back_populates="item", cascade="all, delete-orphan", order_by="Translation.locale")

    __mapper_args__: dict[str, Any] = {"polymorphic_on": kind, "polymorphic_identity": "item"}

    def text(self, locale: str) -> Translation | None:
        """The translation in `locale`, else English, else any."""
        by_locale = {t.locale: t for t in self.translations}
        return by_locale.get(locale) or by_locale.get("en") or next(iter(by_locale.values()),
                                                                    None)

    def is_live(self, now: datetime) -> bool:
        return self.status == Status.PUBLISHED.value and (
            self.publish_at is None or self.publish_at <= now)


class Article(ContentItem):
    __mapper_args__ = {"polymorphic_identity": "article"}


class Reminder(ContentItem):
    __mapper_args__ = {"polymorphic_identity": "reminder"}


class Product(ContentItem):
    __mapper_args__ = {"polymorphic_identity": "product"}


class Faq(ContentItem):
    __mapper_args__ = {"polymorphic_identity": "faq"}


class Message(ContentItem):
    """Copy for campaign greetings (content.messages): reviewed like articles."""

    __mapper_args__ = {"polymorphic_identity": "message"}


KINDS: dict[str, type[ContentItem]] = {"article": Article, "reminder": Reminder,
                                       "product": Product, "faq": Faq, "message": Message}


class Translation(Base):
    """One locale's text. `title`/`summary`/`body` mean name/description for products and
    question/answer for FAQs."""

    __tablename__ = "content_translations"
    __table_args__ = (UniqueConstraint("item_id", "locale"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8))
    title: Mapped[str] = mapped_column(String(200))
    summary: Mapped[str] = mapped_column(Text, default="")
    body_md: Mapped[str] = mapped_column(Text, default="")
    body_html: Mapped[str] = mapped_column(Text, default="")
    search_text: Mapped[str] = mapped_column(Text, default="")

    item: Mapped[ContentItem] = relationship(back_populates="translations")


class Version(Base):
    """A snapshot of an item after each save: history, diff and revert."""

    __tablename__ = "content_versions"
    __table_args__ = (UniqueConstraint("item_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    number: Mapped[int] = mapped_column(Integer)
    snapshot: Mapped[dict[str, Any]] = mapped_column(JSON)
    note: Mapped[str] = mapped_column(String(200), default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PublishMode(str, enum.Enum):
    """On what authority a version was made live (shown on the item's history page)."""

    REVIEW = "review"  # approved by someone who wrote none of the versions it contains
    OVERRIDE = "override"  # an admin published their own change, with a reason
    NO_REVIEW = "no_review"  # the site did not require review (CONTENT_REVIEW_REQUIRED off)
    SYSTEM = "system"  # the command line or seeding (a pack reviewed before it shipped)


class Publication(Base):
    """One approval: who made which version live (or scheduled it), when, and why.

    Append-only, like versions: the audit trail of what families were shown on whose word.
    `published_by_name` keeps the name even if the staff account is later removed."""

    __tablename__ = "content_publications"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"),
                                         index=True)
    version: Mapped[int] = mapped_column(Integer)
    mode: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(String(300), default="")
    published_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                   ondelete="SET NULL"))
    published_by_name: Mapped[str] = mapped_column(String(80), default="")
    #: When it goes (or went) live: a scheduled approval names a future time.
    live_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SavedItem(Base):
    """A parent's "save for later"."""

    __tablename__ = "saved_items"
    __table_args__ = (UniqueConstraint("user_id", "item_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ProductReview(Base):
    """A parent's rating (1–5) and words about a product: one per person per product (posting
    again edits it). Staff may hide one (`hidden_at`, `hidden_by_id`) and restore it."""

    __tablename__ = "product_reviews"
    __table_args__ = (
        UniqueConstraint("user_id", "item_id", name="uq_product_reviews_once"),
        Index("ix_product_reviews_item", "item_id", "hidden_at", "created_at"),
        Index("ix_product_reviews_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    hidden_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                ondelete="SET NULL"))
