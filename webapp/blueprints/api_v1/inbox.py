"""The inbox (journeys.inbox): messages the journeys pushed, newest first, read or not.

Paged by id: a page of `limit` messages; `next_before` (the last message's id) asks the next,
older page, as the web's "Older messages" link does. Opening a message on the web marks it
read; here `POST /inbox/{id}/read` does, and `POST /inbox/read-all` marks every shown one.
"""
from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, Field

from db import INT_MAX
from diary.locales import locale_of
from journeys import inbox
from webapp.blueprints.api_v1.framework import Call, endpoint
from webapp.database import transaction

TAG = "Inbox"


class MessageOut(BaseModel):
    id: int
    child_id: int | None
    created_at: datetime
    read: bool
    item_kind: str | None = Field(description="article, reminder or product; None for a "
                                              "text message.")
    item_key: str | None = Field(description="The article's slug or the product's SKU.")
    title: str
    summary: str


class InboxPage(BaseModel):
    items: list[MessageOut]
    unread: int = Field(description="Unread messages in all: what `read-all` clears. (The "
                                    "web's badge also counts open satisfaction surveys, "
                                    "which are answered on the web.)")
    next_before: int | None = Field(description="Send as `before` for the next page; None "
                                                "on the last.")


class InboxQuery(BaseModel):
    limit: int = Field(30, ge=1, le=100)
    before: int | None = Field(None, ge=1, le=INT_MAX, description="Messages older than "
                                                                  "this id.")
    child_id: int | None = Field(None, ge=1, le=INT_MAX, description="Only this child's.")


def _out(entry: inbox.InboxEntry, locale: str) -> MessageOut:
    message, item = entry.message, entry.item
    title = summary = ""
    if item is not None:
        text = item.text(locale)
        if text is not None:
            title, summary = text.title, text.summary or ""
    else:
        title, summary = message.title or "", message.body or ""
    return MessageOut(id=message.id, child_id=message.child_id, created_at=message.created_at,
                      read=message.read_at is not None,
                      item_kind=item.kind if item is not None else None,
                      item_key=item.key if item is not None else None,
                      title=title, summary=summary)


@endpoint("GET", "/inbox", tag=TAG, summary="Inbox messages, newest first, with the unread "
          "count", query=InboxQuery, response=InboxPage)
def list_inbox(call: Call) -> InboxPage:
    query: InboxQuery = call.query
    found = inbox.messages(call.session, call.user, limit=query.limit, before_id=query.before,
                           child_id=query.child_id)
    locale = locale_of(call.user)
    return InboxPage(items=[_out(e, locale) for e in found],
                     unread=inbox.unread_count(call.session, call.user),
                     next_before=found[-1].message.id if len(found) == query.limit else None)


class Unread(BaseModel):
    unread: int


@endpoint("GET", "/inbox/unread", tag=TAG, summary="How many messages are unread",
          response=Unread)
def inbox_unread(call: Call) -> Unread:
    return Unread(unread=inbox.unread_count(call.session, call.user))


@endpoint("POST", "/inbox/<int:message_id>/read", tag=TAG, scope="write",
          summary="Mark one message read", response=Unread)
def read_message(call: Call, message_id: int) -> Unread:
    """Answers the unread count after. Another person's message is 404."""
    with transaction() as s:
        inbox.mark_read(s, call.user, message_id)
    return Unread(unread=inbox.unread_count(call.session, call.user))


@endpoint("POST", "/inbox/read-all", tag=TAG, scope="write",
          summary="Mark every message read", response=Unread)
def read_all_messages(call: Call) -> Unread:
    with transaction() as s:
        inbox.mark_all_read(s, call.user)
    return Unread(unread=inbox.unread_count(call.session, call.user))
