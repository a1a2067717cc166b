"""Writing content: validation, saving as versions, history, diff and revert.

Every save is a new `Version` snapshot. A save is applied to the item at once, unless the
item is published and review is required: then the version waits (`pending_review`) and
readers keep seeing the approved text until a second person approves it
(content.workflow.publish). That holds for everyone's saves, reviewers' and admins' too:
nobody approves their own edit, so nobody's edit reaches families by saving it.
"""
from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass, field
from datetime import date, datetime
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clock import utcnow
from content import messages, search, sizes
from content.errors import N_, Conflict, NotFound, ValidationError
from content.models import (
    KINDS,
    ContentItem,
    Publication,
    PublishMode,
    Status,
    Translation,
    Version,
)
from content.rendering import plain_text, render_markdown
from content.stages import UNIT_RANGES
from content.vocabulary import CATEGORIES, TOPICS
from db import INT_MAX
from diary import bounds
from diary.locales import LANGUAGE_LABELS, LOCALES
from diary.models import User
from diary.vocabulary import INTERESTS

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
SKU = re.compile(r"^[A-Z0-9][A-Z0-9-]{2,39}$")
_LINK = re.compile(r"\]\(([^)\s]+)")


@dataclass
class TextInput:
    title: str
    summary: str = ""
    body: str = ""


@dataclass
class ItemInput:
    kind: str
    key: str
    translations: dict[str, TextInput]
    window_unit: str | None = None
    window_from: int | None = None
    window_to: int | None = None
    topics: list[str] = field(default_factory=list)
    interests: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    category: str | None = None
    source: str = ""
    reviewed_by: str | None = None
    review_date: date | None = None
    image_key: str | None = None
    price_minor: int | None = None
    currency: str | None = None
    buy_url: str | None = None
    active: bool = True
    position: int = 0
    publish_at: datetime | None = None
    #: Products only: bought again and again, and the size it is (content.sizes).
    consumable: bool = False
    size: sizes.Size | None = None

    def snapshot(self) -> dict[str, Any]:
        data = asdict(self)
        data["size"] = self.size.to_dict() if self.size else None
        data["review_date"] = self.review_date.isoformat() if self.review_date else None
        data["publish_at"] = self.publish_at.isoformat() if self.publish_at else None
        return data

    @classmethod
    def from_snapshot(cls, data: dict[str, Any]) -> ItemInput:
        values = dict(data)
        values["translations"] = {k: TextInput(**v) for k, v in data["translations"].items()}
        values["review_date"] = date.fromisoformat(data["review_date"]) \
            if data.get("review_date") else None
        values["publish_at"] = datetime.fromisoformat(data["publish_at"]) \
            if data.get("publish_at") else None
        values["size"] = sizes.from_raw(data.get("size"))
        return cls(**values)

    @classmethod
    def from_item(cls, item: ContentItem) -> ItemInput:
        return cls(
            kind=item.kind, key=item.key,
            translations={t.locale: TextInput(t.title, t.summary, t.body_md)
                          for t in item.translations},
            window_unit=item.window_unit, window_from=item.window_from,
            window_to=item.window_to, topics=list(item.topics or []),
            interests=list(item.interests or []), tags=list(item.tags or []),
            category=item.category, source=item.source, reviewed_by=item.reviewed_by,
            review_date=item.review_date, image_key=item.image_key,
            price_minor=item.price_minor, currency=item.currency, buy_url=item.buy_url,
            active=item.active, position=item.position, publish_at=item.publish_at,
            consumable=item.consumable, size=sizes.from_raw(item.size))


def validate(data: ItemInput) -> None:
    """Raise ValidationError naming the first problem a marketer must fix."""
    if data.kind not in KINDS:
        raise ValidationError(N_("Unknown kind of content."), "kind")
    pattern = SKU if data.kind == "product" else SLUG
    if not pattern.match(data.key or ""):
        raise ValidationError(
            N_("Use capital letters, digits and hyphens for the SKU (e.g. BJ-BATH-001).")
            if data.kind == "product" else
            N_("Use lowercase letters, digits and hyphens for the slug (e.g. week-12-scan)."),
            "key")
    for locale in LOCALES:
        text = data.translations.get(locale)
        if text is None or not text.title.strip():
            raise ValidationError(N_("The %(locale)s title is missing."), f"title_{locale}",
                                  locale=LANGUAGE_LABELS[locale])
        if data.kind in ("article", "faq", "message") and not text.body.strip():
            raise ValidationError(N_("The %(locale)s text is missing."), f"body_{locale}",
                                  locale=LANGUAGE_LABELS[locale])
        if len(text.title) > 200:
            raise ValidationError(N_("Keep titles under 200 characters."), f"title_{locale}")
        for url in _LINK.findall(text.body) + _LINK.findall(text.summary):
            if not _good_link(url):
                raise ValidationError(N_("This link does not look right: %(url)s"),
                                      f"body_{locale}", url=url)
        if data.kind == messages.KIND:
            messages.check(text.title, f"title_{locale}")
            messages.check(text.body, f"body_{locale}")
    _validate_window(data)
    if data.review_date is not None:
        bounds.check_date(data.review_date, "review_date")
    if data.publish_at is not None:
        bounds.check_instant(data.publish_at, "publish_at")
    unknown = set(data.topics) - set(TOPICS)
    if unknown:
        raise ValidationError(N_("Unknown topics: %(names)s."), "topics",
                              names=", ".join(sorted(unknown)))
    unknown = set(data.interests) - set(INTERESTS)
    if unknown:
        raise ValidationError(N_("Unknown interests: %(names)s."), "interests",
                              names=", ".join(sorted(unknown)))
    if data.kind in CATEGORIES and data.category not in CATEGORIES[data.kind]:
        raise ValidationError(N_("Please choose a category."), "category")
    if data.kind == "product":
        _validate_product(data)
    elif data.size is not None or data.consumable:
        raise ValidationError(N_("Only products have a size or are bought again."), "size")


def _good_link(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme == "mailto":
        return "@" in parts.path
    return parts.scheme in ("http", "https") and "." in parts.netloc


#: Kinds that are not for a stage (no window).
WITHOUT_WINDOW = ("message",)
#: Kinds whose window is optional: an FAQ may be for a stage (the help centre shows the
#: child's stage first) or for everyone.
OPTIONAL_WINDOW = ("faq",)
#: Kinds that carry topics (the library's topic pages, the help centre's topic filter).
WITH_TOPICS = ("article", "faq")


def _validate_window(data: ItemInput) -> None:
    if data.kind in WITHOUT_WINDOW:
        return
    if data.kind in OPTIONAL_WINDOW and not data.window_unit:
        if data.window_from is not None or data.window_to is not None:
            raise ValidationError(N_("Choose who this is for: pregnancy weeks, baby weeks or "
                                     "baby months."), "window_unit")
        return
    if data.window_unit not in UNIT_RANGES:
        raise ValidationError(N_("Choose who this is for: pregnancy weeks, baby weeks or baby "
                                 "months."), "window_unit")
    low, high = UNIT_RANGES[data.window_unit]
    if data.window_from is None or data.window_to is None:
        raise ValidationError(N_("Enter both ends of the window."), "window_from")
    if data.window_from > data.window_to:
        raise ValidationError(N_("The window is empty: its start comes after its end."),
                              "window_from")
    if data.window_from < low or data.window_to > high:
        raise ValidationError(N_("This window must stay between %(low)d and %(high)d."),
                              "window_from", low=low, high=high)


def _validate_product(data: ItemInput) -> None:
    if data.price_minor is None or data.price_minor < 0:
        raise ValidationError(N_("Enter the price."), "price")
    if data.price_minor > INT_MAX:
        raise ValidationError(N_("Enter the price as a number, such as 59.00."), "price")
    if not re.fullmatch(r"[A-Z]{3}", data.currency or ""):
        raise ValidationError(N_("Use a three-letter currency code such as CNY."), "currency")
    if data.buy_url and not (_good_link(data.buy_url) and data.buy_url.startswith("https://")):
        raise ValidationError(N_("The shop link must start with https://"), "buy_url")
    if data.size is not None:
        sizes.check(data.size)


def overlapping(session: Session, data: ItemInput, item_id: int | None = None
                ) -> list[ContentItem]:
    """Other items of the same kind whose window overlaps (a warning, not an error)."""
    if data.window_unit is None:
        return []
    return list(session.scalars(
        select(ContentItem).where(
            ContentItem.kind == data.kind, ContentItem.window_unit == data.window_unit,
            ContentItem.window_from <= data.window_to, ContentItem.window_to >= data.window_from,
            ContentItem.id != (item_id or 0), ContentItem.status != Status.ARCHIVED.value)))


def find(session: Session, kind: str, key: str) -> ContentItem | None:
    return session.scalar(select(ContentItem).where(ContentItem.kind == kind,
                                                    ContentItem.key == key))


def get(session: Session, item_id: int) -> ContentItem:
    item = session.get(ContentItem, item_id)
    if item is None:
        raise NotFound()
    return item


def create(session: Session, data: ItemInput, author: User | None, note: str = "") -> ContentItem:
    validate(data)
    if find(session, data.kind, data.key) is not None:
        raise Conflict(N_("Another item already uses %(key)s."), "key", key=data.key)
    item = KINDS[data.kind](key=data.key, status=Status.DRAFT.value, topics=[], interests=[],
                            tags=[])
    session.add(item)
    session.flush()
    record(session, item, data, author, note, apply=True)
    return item


def save(session: Session, item: ContentItem, data: ItemInput, author: User | None,
         review_required: bool, note: str = "") -> Version:
    """A new version; applied now unless it must wait for review (see module docstring).

    With review off, a save to published content goes live at once, and the history records
    who published it (a `Publication` of mode "no_review")."""
    data.kind = item.kind
    validate(data)
    other = find(session, item.kind, data.key)
    if other is not None and other.id != item.id:
        raise Conflict(N_("Another item already uses %(key)s."), "key", key=data.key)
    live = item.status == Status.PUBLISHED.value
    saved = record(session, item, data, author, note, apply=not (live and review_required))
    if live and not review_required:
        record_publication(session, item, saved.number, author, PublishMode.NO_REVIEW)
    return saved


def record(session: Session, item: ContentItem, data: ItemInput, author: User | None,
            note: str, apply: bool) -> Version:
    number = (session.scalar(select(func.max(Version.number))
                             .where(Version.item_id == item.id)) or 0) + 1
    version = Version(item_id=item.id, number=number, snapshot=data.snapshot(), note=note[:200],
                      created_by_id=author.id if author else None)
    session.add(version)
    if apply:
        apply_snapshot(session, item, data, number)
        item.pending_review = False
    else:
        item.pending_review = True
    item.updated_by_id = author.id if author else None
    session.flush()
    return version


def apply_snapshot(session: Session, item: ContentItem, data: ItemInput, number: int) -> None:
    """Make `data` the live content of `item` (fields, rendered HTML, search words)."""
    for name in ("key", "window_unit", "window_from", "window_to", "category", "source",
                 "reviewed_by", "review_date", "image_key", "price_minor", "currency",
                 "buy_url", "active", "position", "publish_at", "consumable"):
        setattr(item, name, getattr(data, name))
    item.size = data.size.to_dict() if data.size else None
    item.topics, item.interests, item.tags = list(data.topics), list(data.interests), \
        list(data.tags)
    existing = {t.locale: t for t in item.translations}
    for locale, text in data.translations.items():
        row = existing.get(locale) or Translation(locale=locale)
        row.title = plain_text(text.title)
        row.summary = plain_text(text.summary)
        row.body_md = text.body
        row.body_html = render_markdown(text.body)
        row.search_text = search.words(row.title, row.summary, row.body_md)
        if locale not in existing:
            item.translations.append(row)
    for locale, row in existing.items():
        if locale not in data.translations:
            item.translations.remove(row)
    item.version = number
    session.flush()
    search.reindex(session, item)


def latest_version(session: Session, item: ContentItem) -> Version | None:
    return session.scalar(select(Version).where(Version.item_id == item.id)
                          .order_by(Version.number.desc()).limit(1))


def versions(session: Session, item: ContentItem) -> list[Version]:
    return list(session.scalars(select(Version).where(Version.item_id == item.id)
                                .order_by(Version.number.desc())))


def version(session: Session, item: ContentItem, number: int) -> Version:
    found = session.scalar(select(Version).where(Version.item_id == item.id,
                                                 Version.number == number))
    if found is None:
        raise NotFound()
    return found


def working_copy(session: Session, item: ContentItem) -> ItemInput:
    """What the editor should show: the newest version, even if it is still waiting."""
    latest = latest_version(session, item)
    return ItemInput.from_snapshot(latest.snapshot) if latest else ItemInput.from_item(item)


def diff(old: Version, new: Version) -> list[tuple[str, list[str]]]:
    """Per field, unified-diff lines between two versions (only fields that changed)."""
    def flat(snapshot: dict[str, Any]) -> dict[str, str]:
        out = {k: ", ".join(v) if isinstance(v, list) else "" if v is None else str(v)
               for k, v in snapshot.items() if k not in ("translations", "size")}
        size = sizes.from_raw(snapshot.get("size"))
        out["size"] = size.describe() if size else ""
        for locale, text in snapshot["translations"].items():
            for name, value in text.items():
                out[f"{name} ({locale})"] = value or ""
        return out

    a, b = flat(old.snapshot), flat(new.snapshot)
    changes = []
    for name in sorted(set(a) | set(b)):
        if a.get(name, "") != b.get(name, ""):
            lines = list(difflib.unified_diff(
                a.get(name, "").splitlines(), b.get(name, "").splitlines(),
                f"v{old.number}", f"v{new.number}", lineterm="", n=1))
            changes.append((name, lines[2:] if len(lines) > 2 else lines))
    return changes


def revert(session: Session, item: ContentItem, number: int, author: User | None,
           review_required: bool) -> Version:
    """Save an old version again as the newest one (history is never rewritten).

    A revert is a save like any other, by the person who reverts: on live content it waits
    for a second person (the old text may never have been approved, e.g. a rejected edit)."""
    old = version(session, item, number)
    return save(session, item, ItemInput.from_snapshot(old.snapshot), author, review_required,
                note=f"Revert to version {number}")


def record_publication(session: Session, item: ContentItem, number: int, by: User | None,
                       mode: PublishMode, reason: str = "") -> Publication:
    """Write down who made version `number` live, on what authority (the audit trail)."""
    row = Publication(item_id=item.id, version=number, mode=mode.value, reason=reason[:300],
                      published_by_id=by.id if by else None,
                      published_by_name=(by.display_name if by else "")[:80],
                      live_from=_goes_live(item))
    session.add(row)
    session.flush()
    return row


def _goes_live(item: ContentItem) -> datetime:
    now = utcnow()
    return item.publish_at if item.publish_at is not None and item.publish_at > now else now


def publications(session: Session, item: ContentItem) -> list[Publication]:
    return list(session.scalars(select(Publication).where(Publication.item_id == item.id)
                                .order_by(Publication.id.desc())))
