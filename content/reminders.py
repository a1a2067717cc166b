"""Reminders a parent ticks off (check-ups, vaccinations): which of them can be ticked, and
their titles for the child's record. The record itself (diary.vaccinations) keeps only the
reminder's key: the diary does not read content, so the web layer asks here."""
from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.library import Shown
from content.models import ContentItem
from diary.vaccinations import RECORD_CATEGORIES


def _record_category(kind: str, category: str | None) -> str | None:
    """The category of a check-up or vaccination reminder (the ones a parent ticks off with
    a date), else None."""
    return category if kind == "reminder" and category in RECORD_CATEGORIES else None


def tickable_shown(shown: Iterable[Shown]) -> dict[str, str]:
    """Reminder key → its category, for the shown reminders ("this week") that are
    check-ups or vaccinations: the categories came with them, no query."""
    return {item.key: ticked for item in shown
            if (ticked := _record_category(item.kind, item.category))}


def tickable(session: Session, keys: list[str]) -> dict[str, str]:
    """Reminder key → its category, for those of `keys` that are check-ups or vaccinations."""
    if not keys:
        return {}
    rows = session.execute(select(ContentItem.key, ContentItem.kind, ContentItem.category)
                           .where(ContentItem.key.in_(keys)))
    return {key: ticked for key, kind, category in rows
            if (ticked := _record_category(kind, category))}


def titles(session: Session, keys: list[str], locale: str) -> dict[str, str]:
    """Reminder key → its title in `locale` (else English, else any translation)."""
    if not keys:
        return {}
    items = session.scalars(select(ContentItem).where(
        ContentItem.kind == "reminder", ContentItem.key.in_(keys))
        .options(selectinload(ContentItem.translations)))
    found = {}
    for item in items:
        text = item.text(locale)
        found[item.key] = text.title if text is not None else item.key
    return found
