"""Personal access tokens for the JSON API: a parent makes one on the account page for an
app or a script, sees its secret once, and can revoke it at any time.

Only the SHA-256 of the secret is stored (a database dump opens nothing); a token carries a
scope ("read", or "write" which includes read) and may expire. A token works only while it
is not revoked, not expired, and its owner's account is active. Plain functions taking the
session first; the caller commits.
"""
from __future__ import annotations

import hashlib
import secrets
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from clock import utcnow
from diary.errors import N_, NotFound, ValidationError
from diary.models import AccessToken, User

PREFIX = "bjpat_"
READ, WRITE = "read", "write"
SCOPES = (READ, WRITE)
#: Expiry choices offered on the account page, in days (None: never expires).
EXPIRY_DAYS: tuple[int | None, ...] = (30, 90, 365, None)
MAX_ACTIVE = 20
NAME_LENGTH = 80
#: Last use is written at most this often (a busy app would otherwise write on every call).
LAST_USED_EVERY = timedelta(minutes=5)


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def is_live(token: AccessToken, now: datetime) -> bool:
    return token.revoked_at is None and (token.expires_at is None or token.expires_at > now)


def create(session: Session, user: User, name: str, scope: str,
           expires_in_days: int | None) -> tuple[AccessToken, str]:
    """A new token for `user` and its secret, returned here once and never stored."""
    name = (name or "").strip()
    if not 1 <= len(name) <= NAME_LENGTH or any(ord(c) < 32 for c in name):
        raise ValidationError(N_("Give the token a name of 1 to 80 characters."), "name")
    if scope not in SCOPES:
        raise ValidationError(N_("Choose what the token may do."), "scope")
    if expires_in_days not in EXPIRY_DAYS:
        raise ValidationError(N_("Choose when the token expires."), "expires_in_days")
    now = utcnow()
    if len([t for t in list_tokens(session, user) if is_live(t, now)]) >= MAX_ACTIVE:
        raise ValidationError(N_("You have %(count)d active tokens: revoke one you no longer "
                                 "use first."), "name", count=MAX_ACTIVE)
    secret = PREFIX + secrets.token_urlsafe(32)
    token = AccessToken(user_id=user.id, name=name, scope=scope, token_hash=hash_secret(secret),
                        token_prefix=secret[:12], created_at=now,
                        expires_at=now + timedelta(days=expires_in_days)
                        if expires_in_days is not None else None)
    session.add(token)
    session.flush()
    return token, secret


def verify(session: Session, secret: str) -> AccessToken | None:
    """The live token with this secret (its last use noted), else None: unknown, revoked,
    expired, or its owner's account closed all look the same."""
    if not secret.startswith(PREFIX) or len(secret) > 100:
        return None
    token = session.scalar(select(AccessToken).where(
        AccessToken.token_hash == hash_secret(secret)))
    now = utcnow()
    if token is None or not is_live(token, now) or not token.user.is_active:
        return None
    if token.last_used_at is None or now - token.last_used_at >= LAST_USED_EVERY:
        token.last_used_at = now
    return token


def list_tokens(session: Session, user: User) -> list[AccessToken]:
    """The user's tokens, newest first (revoked and expired ones too, marked by their dates)."""
    return list(session.scalars(select(AccessToken).where(AccessToken.user_id == user.id)
                                .order_by(AccessToken.created_at.desc(),
                                          AccessToken.id.desc())))


def revoke(session: Session, user: User, token_id: int) -> AccessToken:
    """Revoke one of the user's own tokens (another person's id is NotFound). Revoking twice
    keeps the first date."""
    token = session.scalar(select(AccessToken).where(AccessToken.id == token_id,
                                                     AccessToken.user_id == user.id))
    if token is None:
        raise NotFound()
    if token.revoked_at is None:
        token.revoked_at = utcnow()
    return token


def allows(token: AccessToken | None, scope: str) -> bool:
    """Whether the token may do `scope` (no token: the web session, which may do anything
    the person's family role allows)."""
    return token is None or scope == READ or token.scope == WRITE
