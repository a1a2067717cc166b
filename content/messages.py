"""Messages: the copy marketers write for campaign greetings (a birthday, "we miss you").

A message is a content item of kind "message", keyed by what it is for ("baby-birthday"),
with a title and a plain-text body in each language. It goes through the same draft →
review → published workflow as articles, so no greeting reaches families on one person's
word; readers (the campaigns) only ever see the published version. Texts may name the
person, the child and the child's age with `{name}`, `{child}` and `{years}`, filled in
when a message is sent; any other brace is refused when the message is saved.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from content.errors import N_, ValidationError
from content.library import live
from content.models import ContentItem, Message

KIND = "message"
PLACEHOLDERS = ("name", "child", "years")
_BRACED = re.compile(r"\{([^{}]*)\}")


def check(text: str, field: str) -> None:
    """Refuse any brace that is not one of the placeholders (a typo would be mailed as is)."""
    rest = _BRACED.sub(lambda m: "" if m.group(1) in PLACEHOLDERS else "{", text)
    if "{" in rest or "}" in rest:
        raise ValidationError(N_("Only {name}, {child} and {years} may stand in braces."),
                              field)


def fill(text: str, values: Mapping[str, str]) -> str:
    """The text with its placeholders filled in (one without a value is left out)."""
    return _BRACED.sub(lambda m: values.get(m.group(1), ""), text)


def published(session: Session, keys: Iterable[str], now: datetime) -> dict[str, ContentItem]:
    """The live messages among `keys` (their approved version), by key."""
    wanted = list(keys)
    if not wanted:
        return {}
    return {m.key: m for m in session.scalars(
        select(Message).where(Message.key.in_(wanted), live(now))
        .options(selectinload(ContentItem.translations)))}
