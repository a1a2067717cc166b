"""Signed-in sessions kept on the server.

Why: the session cookie is signed but lives in the browser; without a server-side record, a
cookie copied before "sign out" would still work afterwards. Each sign-in gets a random key
(the cookie holds it, the database only its SHA-256), and every request checks the row:
signing out, a password change or "sign out everywhere" ends it for good.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import bindparam, delete, or_, select, update
from sqlalchemy.orm import Session

from db import rowcount
from diary.models import User, UserSession

#: A session's end moves forward with use, at most this often (one write an hour).
TOUCH_EVERY = timedelta(hours=1)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


def lifetime(remember: bool, hours: int, days: int) -> timedelta:
    return timedelta(days=days) if remember else timedelta(hours=hours)


def start(session: Session, user: User, now: datetime, *, remember: bool, life: timedelta,
          user_agent: str | None = None) -> str:
    """A new session for `user`; returns the key for the cookie (never stored as is)."""
    key = secrets.token_urlsafe(32)
    session.add(UserSession(user_id=user.id, key_hash=_hash(key), created_at=now,
                            last_seen_at=now, expires_at=now + life, remember=remember,
                            user_agent=(user_agent or "")[:200] or None))
    session.flush()
    return key


#: Asked on every signed-in request, so built once: a statement object remembers its cache
#: key, while a new one costs more to build and key than the query costs to run.
_USER_FOR = (select(User, UserSession).join(UserSession, UserSession.user_id == User.id)
             .where(User.id == bindparam("user_id"), UserSession.key_hash == bindparam("key"),
                    UserSession.revoked_at.is_(None), UserSession.expires_at > bindparam("now")))


def user_for(session: Session, user_id: int, key: str, now: datetime
             ) -> tuple[User, UserSession] | None:
    """The user and session row for a cookie's (user id, key), if the session is live."""
    row = session.execute(_USER_FOR, {"user_id": user_id, "key": _hash(key), "now": now}
                          ).first()
    return (row[0], row[1]) if row is not None else None


def needs_touch(row: UserSession, now: datetime) -> bool:
    return row.last_seen_at is None or now - row.last_seen_at > TOUCH_EVERY


def touch(row: UserSession, now: datetime, life: timedelta) -> None:
    row.last_seen_at = now
    row.expires_at = now + life


def end(session: Session, key: str, now: datetime) -> None:
    session.execute(update(UserSession)
                    .where(UserSession.key_hash == _hash(key), UserSession.revoked_at.is_(None))
                    .values(revoked_at=now).execution_options(synchronize_session=False))


def end_all(session: Session, user: User, now: datetime, keep: str | None = None) -> int:
    """End every session of `user` but the one whose key is `keep`; returns how many."""
    stmt = update(UserSession).where(UserSession.user_id == user.id,
                                     UserSession.revoked_at.is_(None))
    if keep:
        stmt = stmt.where(UserSession.key_hash != _hash(keep))
    return rowcount(session.execute(stmt.values(revoked_at=now)
                                    .execution_options(synchronize_session=False)))


def active(session: Session, user: User, now: datetime) -> list[UserSession]:
    return list(session.scalars(
        select(UserSession).where(UserSession.user_id == user.id,
                                  UserSession.revoked_at.is_(None), UserSession.expires_at > now)
        .order_by(UserSession.last_seen_at.desc())))


def prune(session: Session, now: datetime, keep_days: int = 30) -> int:
    """Forget sessions that ended (signed out or expired) more than `keep_days` ago: the
    account page lists live ones only, and nothing needs the rest."""
    cutoff = now - timedelta(days=keep_days)
    return rowcount(session.execute(delete(UserSession).where(or_(
        UserSession.revoked_at < cutoff, UserSession.expires_at < cutoff))
        .execution_options(synchronize_session=False)))
