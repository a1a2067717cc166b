"""Rendered timeline cards and pages, cached per worker.

A timeline page is thirty cards; rendering them is most of the page's cost and they rarely
change. A card's HTML depends only on the entry (any edit bumps `updated_at`), its author's
name, the child's dates (for the age label), and the viewer's language, time zone of the
family and units, so those make the key. Nothing private leaks between viewers: only members
of the family ever reach a card, and they all see the same card.

A whole page is cached the same way (`cached_page`): its key is everything the page shows —
the viewer, their session's CSRF token, language and units, the unread count, the child's
columns, today's date, the request's path and query, and the page's entry references (id,
last change, author), so any edit, new entry or deletion on the page gives a new key. Pages
live at most `PAGE_TTL` seconds, so the CSRF token in a cached page is never much older than
a fresh one. Requests with flashed messages are never cached.
"""
from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from typing import Any

from cachetools import LRUCache, TTLCache
from flask import render_template, request, session
from flask_login import current_user
from markupsafe import Markup
from sqlalchemy.orm import Session

from diary import entries as entry_service
from diary.entries import EntryRef
from diary.models import Child, Entry
from webapp.viewer import inbox_unread, language_and_units

PAGE_TTL = 60
_cards: LRUCache[tuple[Any, ...], Markup] = LRUCache(maxsize=10_000)
_pages: TTLCache[tuple[Any, ...], str] = TTLCache(maxsize=500, ttl=PAGE_TTL)
_lock = threading.Lock()


def _key(ref: EntryRef, child: Child) -> tuple[Any, ...]:
    return (ref.id, ref.updated_at, ref.author_name, child.birth_date, child.due_date,
            child.family.timezone, *language_and_units())


def _render_card(entry: Entry, child: Child, key: tuple[Any, ...]) -> Markup:
    html = Markup(render_template("diary/_entry_card.html", entry=entry, child=child))
    with _lock:
        _cards[key] = html
    return html


def cards(db: Session, refs: Sequence[EntryRef], child: Child) -> list[Markup]:
    """The cards for a page of references; only the entries not cached are loaded (in one
    query) and rendered."""
    keys = [_key(ref, child) for ref in refs]
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


def page_key(name: str, child: Child, *parts: Any) -> tuple[Any, ...] | None:
    """The cache key of a page about `child`, or None when this request must not be cached
    (flashed messages are shown once; a session without a CSRF token yet gets one while the
    page renders). `parts` are the view's own inputs."""
    if "_flashes" in session or not session.get("csrf_token"):
        return None  # a fresh session's token is made while rendering: never share that page
    columns = tuple(getattr(child, c.key) for c in Child.__table__.columns)
    return (name, current_user.get_id(), current_user.is_staff, session.get("csrf_token"),
            *language_and_units(), inbox_unread(), request.full_path, bool(request.headers.get(
                "HX-Request")), columns, child.family.timezone, *parts)


def cached_page(key: tuple[Any, ...] | None, render: Callable[[], str]) -> str:
    if key is None:
        return render()
    with _lock:
        html = _pages.get(key)
    if html is None:
        html = render()
        with _lock:
            _pages[key] = html
    return html


def clear() -> None:
    with _lock:
        _cards.clear()
        _pages.clear()
