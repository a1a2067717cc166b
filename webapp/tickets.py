"""The web layer's side of tickets (`care.tickets`): the promise built from the config, the
signed reply token of ticket emails, and the attachment uploads.

The reply token names a ticket and its parent and is signed with the app's secret (an HMAC
over both ids and the parent's per-account `link_key`, so an id reused by SQLite opens
nothing). It fits in an email address's local part (`reply+<token>@TICKET_REPLY_DOMAIN`,
under 64 characters) and in the email's link (`/help/t/<token>`), and is made at send time:
the queue never holds it.
"""
from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Mapping
from typing import Any

from flask import current_app
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import FileStorage

from care import sla
from care.tickets import Stored
from diary.models import User
from webapp.photo_uploads import store_all

TOKEN = re.compile(r"^(\d{1,12})-(\d{1,12})-([0-9a-f]{24})$")


def policy_from(config: Mapping[str, Any]) -> sla.Policy:
    opens, closes = sla.parse_hours(config["TICKET_BUSINESS_HOURS"])
    calendar = sla.Calendar(config["TICKET_TIMEZONE"], opens, closes,
                            sla.parse_weekdays(config["TICKET_BUSINESS_DAYS"]),
                            sla.parse_holidays(config["TICKET_HOLIDAYS"]))
    return sla.Policy(calendar, float(config["TICKET_FIRST_RESPONSE_HOURS"]),
                      sla.parse_category_hours(config["TICKET_FIRST_RESPONSE_HOURS_BY_CATEGORY"]),
                      float(config["TICKET_NEAR_BREACH_HOURS"]))


def policy() -> sla.Policy:
    found = current_app.extensions.get("ticket_policy")
    if found is None:
        found = current_app.extensions["ticket_policy"] = policy_from(current_app.config)
    return found


def _mac(secret: str, ticket_id: int, user: User) -> str:
    message = f"ticket-reply:{ticket_id}:{user.id}:{user.link_key}".encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()[:24]


def reply_token(ticket_id: int, user: User) -> str:
    return f"{ticket_id}-{user.id}-{_mac(current_app.config['SECRET_KEY'], ticket_id, user)}"


def read_reply_token(session: Session, token: str) -> tuple[int, User] | None:
    """(ticket id, parent) a token was made for, or None when it is not one of ours."""
    found = TOKEN.match((token or "").strip().lower())
    if found is None:
        return None
    ticket_id, user_id = int(found.group(1)), int(found.group(2))
    user = session.get(User, user_id)
    if user is None or not user.is_active:
        return None
    expected = _mac(current_app.config["SECRET_KEY"], ticket_id, user)
    if not hmac.compare_digest(expected, found.group(3)):
        return None
    return ticket_id, user


def reply_address(token: str) -> str:
    return f"reply+{token}@{current_app.config['TICKET_REPLY_DOMAIN']}"


ADDRESS = re.compile(r"reply\+([0-9a-zA-Z-]{1,80})@", re.IGNORECASE)


def token_from_addresses(addresses: Iterable[str]) -> str | None:
    for address in addresses:
        found = ADDRESS.search(address or "")
        if found:
            return found.group(1)
    return None


def store_uploads(files: Iterable[FileStorage]) -> list[Stored]:
    """Re-encode each uploaded photo (metadata stripped, size limits: ValidationError) and
    put it in the photo store (webapp.photo_uploads.store_all: nothing kept if one fails).
    Empty file fields are skipped. The caller deletes the stored keys again when its
    transaction fails."""
    chosen = [f for f in files if f is not None and f.filename]
    return [Stored(key, processed.width, processed.height)
            for key, processed in store_all(chosen)]


def escalation_lead(session: Session, config: Mapping[str, Any]) -> User | None:
    email = (config.get("TICKET_ESCALATION_LEAD") or "").strip().lower()
    if not email:
        return None
    return session.scalar(select(User).where(User.email == email, User.staff_role.is_not(None),
                                             User.is_active.is_(True)))
