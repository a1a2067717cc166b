"""Content's words on pages, in the request's language: the web side of `content.vocabulary`.

Nothing is worded here: stage labels, topics, categories and units come from
`content.vocabulary`, prices from `diary.locales`, so pages, the studio and emails agree.
The `*_NAMES` tables are lazy (translated when shown) for form choices built at import.
"""
from __future__ import annotations

from flask import Flask
from flask_babel import lazy_gettext

from content import vocabulary
from content.models import ContentItem, Translation
from content.stages import Stage
from diary.locales import format_price
from webapp.i18n import current_locale

TOPIC_NAMES = {code: lazy_gettext(label) for code, label in vocabulary.TOPIC_LABELS.items()}
CATEGORY_NAMES = {code: lazy_gettext(label)
                  for code, label in vocabulary.CATEGORY_LABELS.items()}
UNIT_NAMES = {code: lazy_gettext(label) for code, label in vocabulary.UNIT_NAMES.items()}


def stage_label(stage: Stage | str) -> str:
    """"Pregnancy week 20", "Baby, month 3" (a stage or its key)."""
    return vocabulary.stage_label(stage, current_locale())


def window_text(unit: str | None, low: int | None, high: int | None) -> str:
    """"Pregnancy weeks 12–14", "Baby, month 3" (one value when both ends are equal)."""
    return vocabulary.window_label(unit, low, high, current_locale())


def window_label(item: ContentItem) -> str:
    return window_text(item.window_unit, item.window_from, item.window_to)


def topic_label(topic: str) -> str:
    return vocabulary.topic_label(topic, current_locale())


def category_label(category: str) -> str:
    return vocabulary.category_label(category, current_locale())


def reviewer_label(reviewed_by: str) -> str:
    return vocabulary.reviewer_label(reviewed_by, current_locale())


def price(minor: int | None, currency: str | None, locale: str | None = None) -> str:
    """Integer minor units → "¥59.00" in the reader's language (or `locale`)."""
    return format_price(minor, currency, locale or current_locale())


def text(item: ContentItem) -> Translation | None:
    return item.text(current_locale())


def init_app(app: Flask) -> None:
    app.jinja_env.globals.update(stage_label=stage_label, window_label=window_label,
                                 window_text=window_text, topic_label=topic_label,
                                 category_label=category_label, price=price, item_text=text,
                                 reviewer_label=reviewer_label)
