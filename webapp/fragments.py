"""Rendered timeline cards, cached per worker.

A timeline page is thirty cards; rendering them is most of the page's cost and they rarely
change. A card's HTML depends only on the entry (any edit bumps `updated_at`), its author's
name, the child's dates (for the age label), and the viewer's language, time zone of the
family and units, so those make the key. Nothing private leaks between viewers: only members
of the family ever reach a card, and they all see the same card.
"""
from __future__ import annotations

import threading
from typing import Any

from cachetools import LRUCache
from flask import g, render_template
from flask_login import current_user
from markupsafe import Markup

from diary.models import Child, Entry
from webapp.i18n import current_locale

_cards: LRUCache[tuple[Any, ...], Markup] = LRUCache(maxsize=10_000)
_lock = threading.Lock()


def _viewer() -> tuple[str, str]:
    """The viewer's language and units, looked up once per request (30 cards ask)."""
    if "card_viewer" not in g:
        g.card_viewer = (current_locale(), getattr(current_user, "unit_system", "metric"))
    return g.card_viewer


def _key(entry: Entry, child: Child) -> tuple[Any, ...]:
    return (entry.id, entry.updated_at, entry.author.display_name if entry.author else None,
            child.birth_date, child.due_date, child.family.timezone, *_viewer())


def entry_card(entry: Entry, child: Child) -> Markup:
    key = _key(entry, child)
    with _lock:
        html = _cards.get(key)
    if html is None:
        html = Markup(render_template("diary/_entry_card.html", entry=entry, child=child))
        with _lock:
            _cards[key] = html
    return html


def clear() -> None:
    with _lock:
        _cards.clear()
