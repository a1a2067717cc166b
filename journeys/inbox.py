"""The site inbox: a parent's messages, newest first, with read/unread.

A message shows (and counts in the unread badge) only while it is still something the
person may see (`visible`): its content item is live (not archived, unpublished or deleted
since it was delivered), and the child it is about is still in one of the person's
families. Rows are kept, not deleted: content published again, or a family joined again,
brings its messages back as they were.
"""
from __future__ import annotations

import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    Integer,
    Select,
    String,
    and_,
    bindparam,
    cast,
    exists,
    func,
    literal,
    null,
    or_,
    select,
    union_all,
    update,
)
from sqlalchemy.orm import Session, aliased, selectinload
from sqlalchemy.sql.selectable import CompoundSelect

from clock import utcnow
from content import library
from content.library import live
from content.models import ContentItem, Translation
from db import UTCDateTime, core_rows, rowcount
from diary.errors import NotFound
from diary.models import Child, Membership, User
from journeys.models import InboxMessage


@dataclass
class InboxEntry:
    message: InboxMessage
    item: ContentItem | None
    child: Child | None


def visible(user: User, now: datetime | None = None) -> ColumnElement[bool]:
    """The person's messages that may still be shown (see the module's docstring).

    Messages without a child (none yet) pass the child test; messages without an item are
    the text ones (campaign greetings) when they have a title, and an item deleted since
    (its id set to NULL) when they have none — those are hidden like archived items."""
    return _visible(user.id, now)


def _visible(user_id: int | BindParameter[int],
             now: datetime | BindParameter[datetime] | None) -> ColumnElement[bool]:
    in_my_family = exists().where(
        Child.id == InboxMessage.child_id, Membership.family_id == Child.family_id,
        Membership.user_id == user_id).correlate(InboxMessage)
    live_item = exists().where(ContentItem.id == InboxMessage.item_id,
                               live(now)).correlate(InboxMessage)
    return and_(InboxMessage.user_id == user_id,
                or_(InboxMessage.child_id.is_(None), in_my_family),
                or_(live_item, and_(InboxMessage.item_id.is_(None),
                                    InboxMessage.title.is_not(None))))


# The header's badge is counted on every signed-in page, and a child's home lists its three
# newest messages: those statements are built once (see diary.sessions._USER_FOR for why).
_USER_ID: BindParameter[int] = bindparam("user_id")
_NOW: BindParameter[datetime] = bindparam("now")
_UNREAD = select(func.count(InboxMessage.id)).where(_visible(_USER_ID, _NOW),
                                                    InboxMessage.read_at.is_(None))


#: Something else the badge counts, from a package journeys may not import (the web layer
#: hands care's open surveys): a count statement with "user_id" among its bind parameters,
#: added to the unread count in the same statement, and its other values.
Also = tuple[Select[Any], Mapping[str, Any]]


@functools.cache
def _unread_statement(also: Select[Any] | None) -> Select[Any]:
    if also is None:
        return _UNREAD
    return select(_UNREAD.scalar_subquery() + also.scalar_subquery())


def unread_query(user: User, now: datetime | None = None, also: Also | None = None
                 ) -> tuple[Select[Any], dict[str, Any]]:
    """`unread_count`'s statement and parameters, for a page that sends it with other reads
    (db.one_trip): one row, the count first."""
    return _unread_statement(also[0] if also else None), {
        **(also[1] if also else {}), "user_id": user.id, "now": now or utcnow()}


def unread_count(session: Session, user: User, now: datetime | None = None,
                 also: Also | None = None) -> int:
    """The person's unread messages (plus what `also` counts, in the same statement)."""
    statement, params = unread_query(user, now, also)
    return core_rows(session, statement, params).scalar() or 0


@functools.cache
def _messages_statement(limit: int, before: bool,
                        child: bool) -> Select[InboxMessage, ContentItem, Child]:
    stmt = (select(InboxMessage, ContentItem, Child)
            .outerjoin(ContentItem, ContentItem.id == InboxMessage.item_id)
            .outerjoin(Child, Child.id == InboxMessage.child_id)
            .where(_visible(_USER_ID, _NOW))
            .options(selectinload(ContentItem.translations))
            .order_by(InboxMessage.id.desc()).limit(limit))
    if before:
        stmt = stmt.where(InboxMessage.id < bindparam("before_id"))
    if child:
        stmt = stmt.where(InboxMessage.child_id == bindparam("child_id"))
    return stmt


def messages(session: Session, user: User, limit: int = 50, before_id: int | None = None,
             child_id: int | None = None, now: datetime | None = None) -> list[InboxEntry]:
    stmt = _messages_statement(limit, bool(before_id), bool(child_id))
    params = {"user_id": user.id, "now": now or utcnow(), "before_id": before_id,
              "child_id": child_id}
    return [InboxEntry(m, item, child) for m, item, child in session.execute(stmt, params)]


@dataclass(frozen=True)
class Headline:
    """A message as a short list shows it: read or not, and its item's title in the
    reader's language (the text messages, which have no item, are left out)."""
    message_id: int
    read: bool
    title: str


_READER_TEXT, _ENGLISH_TEXT = aliased(Translation), aliased(Translation)
_HEADLINES = (
    select(InboxMessage.id, InboxMessage.read_at, InboxMessage.item_id,
           _READER_TEXT.title.label("title"), _ENGLISH_TEXT.title.label("en_title"))
    .outerjoin(_READER_TEXT, and_(_READER_TEXT.item_id == InboxMessage.item_id,
                                  _READER_TEXT.locale == bindparam("locale")))
    .outerjoin(_ENGLISH_TEXT, and_(_ENGLISH_TEXT.item_id == InboxMessage.item_id,
                                   _ENGLISH_TEXT.locale == "en"))
    .where(_visible(_USER_ID, _NOW), InboxMessage.child_id == bindparam("child_id"))
    .order_by(InboxMessage.id.desc()).limit(bindparam("headline_limit")))


def _headlines(rows: Sequence[Any], session: Session) -> list[Headline]:
    # newest first, as the statement orders them (inside db.one_trip's UNION ALL that order
    # is not promised)
    rows = sorted((row for row in rows if row.item_id is not None), key=lambda row: row.id,
                  reverse=True)
    others = library.any_titles(session, [r.item_id for r in rows
                                          if r.title is None and r.en_title is None])
    return [Headline(row.id, row.read_at is not None,
                     row.title or row.en_title or others.get(row.item_id, ""))
            for row in rows]


_HEADLINE_ROWS = _HEADLINES.subquery()


@functools.cache
def _headlines_and_unread(also: Select[Any] | None) -> Any:
    """The child home's headlines and the header's unread badge in one round trip: a first
    row carrying the count (and the content generation the page's kept "this week" and
    suggestions are checked against), then the headlines (a page that shows both saves a
    query, two with the generation). The first row's NULLs carry their types: PostgreSQL
    cannot match two untyped NULLs' text with a later branch's integers (db.one_trip)."""
    return union_all(
        select(literal("count").label("row"),
               _unread_statement(also).scalar_subquery().label("unread"),
               library.CONTENT_GENERATION_COLUMN.label("content_generation"),
               cast(null(), Integer).label("id"), cast(null(), UTCDateTime).label("read_at"),
               cast(null(), Integer).label("item_id"), cast(null(), String).label("title"),
               cast(null(), String).label("en_title")),
        select(literal("headline").label("row"), null().label("unread"), null(),
               _HEADLINE_ROWS.c.id, _HEADLINE_ROWS.c.read_at, _HEADLINE_ROWS.c.item_id,
               _HEADLINE_ROWS.c.title, _HEADLINE_ROWS.c.en_title))


def headlines_query(user: User, child_id: int, locale: str, limit: int = 3,
                    now: datetime | None = None, also: Also | None = None
                    ) -> tuple[CompoundSelect, dict[str, Any]]:
    """`headlines_and_unread`'s statement and parameters, for a page that sends it with
    other reads (db.one_trip); `headlines_of` reads its rows."""
    return _headlines_and_unread(also[0] if also else None), {
        **(also[1] if also else {}), "user_id": user.id, "now": now or utcnow(),
        "child_id": child_id, "locale": locale, "headline_limit": limit}


def headlines_of(session: Session, rows: Sequence[Any]) -> tuple[list[Headline], int]:
    """The headlines and unread count in the rows of `headlines_query`'s statement; the
    content generation they carry is kept for the rest of the transaction."""
    count = next(r for r in rows if r.row == "count")
    library.remember_content_generation(session, count.content_generation)
    return _headlines([r for r in rows if r.row == "headline"], session), int(count.unread or 0)


def headlines_and_unread(session: Session, user: User, child_id: int, locale: str,
                         limit: int = 3, now: datetime | None = None,
                         also: Also | None = None) -> tuple[list[Headline], int]:
    """The newest `limit` messages about a child that carry an item, as plain rows (the
    child home shows their titles; loading them as objects with every translation's body
    cost more than the rest of the list), titles as `ContentItem.text(locale)` gives them;
    and the header's `unread_count` (with `also`), in the same query, which also reads
    `library.content_generation` for the rest of the transaction."""
    statement, params = headlines_query(user, child_id, locale, limit, now, also)
    return headlines_of(session, core_rows(session, statement, params).all())


def mark_read(session: Session, user: User, message_id: int, now: datetime | None = None
              ) -> InboxMessage:
    """Mark one message read; NotFound if it is not the person's or no longer shown."""
    message = session.scalar(select(InboxMessage).where(
        InboxMessage.id == message_id, visible(user, now)))
    if message is None:
        raise NotFound()
    if message.read_at is None:
        message.read_at = now or utcnow()
    return message


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> int:
    """Mark what the person sees read (hidden messages keep their state)."""
    return rowcount(session.execute(update(InboxMessage).where(
        visible(user, now), InboxMessage.read_at.is_(None)).values(
        read_at=now or utcnow()).execution_options(synchronize_session=False)))
