"""The site inbox: a parent's messages, newest first, with read/unread.

A message shows (and counts in the unread badge) only while it is still something the
person may see (`visible`): its content item is live (not archived, unpublished or deleted
since it was delivered), and the child it is about is still in one of the person's
families. Rows are kept, not deleted: content published again, or a family joined again,
brings its messages back as they were.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, and_, exists, func, or_, select, update
from sqlalchemy.orm import Session

from clock import utcnow
from content.library import live
from content.models import ContentItem
from db import rowcount
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
    in_my_family = exists().where(
        Child.id == InboxMessage.child_id, Membership.family_id == Child.family_id,
        Membership.user_id == user.id).correlate(InboxMessage)
    live_item = exists().where(ContentItem.id == InboxMessage.item_id,
                               live(now)).correlate(InboxMessage)
    return and_(InboxMessage.user_id == user.id,
                or_(InboxMessage.child_id.is_(None), in_my_family),
                or_(live_item, and_(InboxMessage.item_id.is_(None),
                                    InboxMessage.title.is_not(None))))


def unread_count(session: Session, user: User, now: datetime | None = None) -> int:
    return session.scalar(select(func.count(InboxMessage.id)).where(
        visible(user, now), InboxMessage.read_at.is_(None))) or 0


def messages(session: Session, user: User, limit: int = 50, before_id: int | None = None,
             child_id: int | None = None, now: datetime | None = None) -> list[InboxEntry]:
    stmt = (select(InboxMessage, ContentItem, Child)
            .outerjoin(ContentItem, ContentItem.id == InboxMessage.item_id)
            .outerjoin(Child, Child.id == InboxMessage.child_id)
            .where(visible(user, now))
            .order_by(InboxMessage.id.desc()).limit(limit))
    if before_id:
        stmt = stmt.where(InboxMessage.id < before_id)
    if child_id:
        stmt = stmt.where(InboxMessage.child_id == child_id)
    return [InboxEntry(m, item, child) for m, item, child in session.execute(stmt)]


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
