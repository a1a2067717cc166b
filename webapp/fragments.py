"""Rendered timeline cards, cached per worker.

A timeline page is thirty cards; rendering them is most of the page's cost and they rarely
change. A card's HTML depends only on the entry (any edit bumps `updated_at`), its author's
name, the child's dates (for the age label), and the viewer's language, time zone of the
family and units, so those make the key. Nothing private leaks between viewers: only members
of the family ever reach a card, and they all see the same card.

Whole pages are not cached: a page cache keyed on everything a page shows (the session's
CSRF token among it) only ever answered the same session reloading the same URL, which is
what a benchmark does and no parent. Pages are made cheap instead (see bench/README.md).
"""
from __future__ import annotations

import threading
from collections.abc import Sequence
from typing import Any

from cachetools import LRUCache
from flask import render_template
from markupsafe import Markup
from sqlalchemy.orm import Session

from diary import entries as entry_service
from diary.entries import EntryRef
from diary.models import Child, Entry
from webapp.viewer import language_and_units

_cards: LRUCache[tuple[Any, ...], Markup] = LRUCache(maxsize=10_000)
_lock = threading.Lock()


def _key(ref: EntryRef, page: tuple[Any, ...]) -> tuple[Any, ...]:
    return (ref.id, ref.updated_at, ref.author_name, *page)


def _page_key(child: Child) -> tuple[Any, ...]:
    """What every card of one page shares in its key: the child's dates, the family's zone,
    the viewer's language and units."""
    return (child.birth_date, child.due_date, child.family.timezone, *language_and_units())


def _render_card(entry: Entry, child: Child, key: tuple[Any, ...]) -> Markup:
    html = Markup(render_template("diary/_entry_card.html", entry=entry, child=child))
    with _lock:
        _cards[key] = html
    return html


def cards(db: Session, refs: Sequence[EntryRef], child: Child) -> list[Markup]:
    """The cards for a page of references; only the entries not cached are loaded (in one
    query) and rendered."""
    page = _page_key(child)
    keys = [_key(ref, page) for ref in refs]
    with _lock:
        found = [_cards.get(key) for key in keys]
    missing = [ref.id for ref, html in zip(refs, found, strict=True) if html is None]
    loaded = entry_service.entries_by_id(db, child, missing)
    out = []
    for ref, key, html in zip(refs, keys, found, strict=True):
        if html is None:
            entry = loaded.get(ref.id)
            html = _render_card(entry, child, key) if entry is not None else Markup("")
        out.append(html)
    return out


def clear() -> None:
    with _lock:
        _cards.clear()
