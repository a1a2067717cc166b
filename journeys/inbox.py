"""The site inbox: a parent's messages, newest first, with read/unread."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from content.models import ContentItem
from clock import utcnow
from diary.errors import NotFound
from diary.models import Child, User
from journeys.models import InboxMessage


@dataclass
class InboxEntry:
    message: InboxMessage
    item: ContentItem | None
    child: Child | None


def unread_count(session: Session, user: User) -> int:
    return session.scalar(select(func.count(InboxMessage.id)).where(
        InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None))) or 0


def messages(session: Session, user: User, limit: int = 50, before_id: int | None = None,
             child_id: int | None = None) -> list[InboxEntry]:
    stmt = (select(InboxMessage, ContentItem, Child)
            .outerjoin(ContentItem, ContentItem.id == InboxMessage.item_id)
            .outerjoin(Child, Child.id == InboxMessage.child_id)
            .where(InboxMessage.user_id == user.id)
            .order_by(InboxMessage.id.desc()).limit(limit))
    if before_id:
        stmt = stmt.where(InboxMessage.id < before_id)
    if child_id:
        stmt = stmt.where(InboxMessage.child_id == child_id)
    return [InboxEntry(m, item, child) for m, item, child in session.execute(stmt)]


def mark_read(session: Session, user: User, message_id: int, now: datetime | None = None
              ) -> InboxMessage:
    message = session.get(InboxMessage, message_id)
    if message is None or message.user_id != user.id:
        raise NotFound()
    if message.read_at is None:
        message.read_at = now or utcnow()
    return message


def mark_all_read(session: Session, user: User, now: datetime | None = None) -> int:
    result = session.execute(update(InboxMessage).where(
        InboxMessage.user_id == user.id, InboxMessage.read_at.is_(None)).values(
        read_at=now or utcnow()))
    return result.rowcount or 0
