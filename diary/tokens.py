"""Signed, expiring tokens for links sent by email (password reset, invitations, address
checks). Every payload names its row by id *and* by a random per-row value (`k`, `n`): SQLite
reuses the ids of deleted rows, and an old link must not open a newer row.

itsdangerous signs the payload with the app's secret; each purpose has its own salt so a
token made for one purpose is useless for another.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from diary.errors import N_, ValidationError

PASSWORD_RESET = "password-reset"
INVITATION = "family-invitation"
EMAIL_VERIFY = "email-verify"


@lru_cache(maxsize=32)
def serializer(secret: str, purpose: str) -> URLSafeTimedSerializer:
    """One serializer per (secret, purpose): a digest signs about eight links, and building
    a serializer for each was a sixth of the cost of rendering one."""
    return URLSafeTimedSerializer(secret, salt=purpose)


def make_token(secret: str, purpose: str, payload: Any) -> str:
    return serializer(secret, purpose).dumps(payload)


def read_token(secret: str, purpose: str, token: str, max_age: int) -> Any:
    """The payload, or ValidationError saying whether the link expired or was altered."""
    try:
        return serializer(secret, purpose).loads(token, max_age=max_age)
    except SignatureExpired:
        raise ValidationError(N_("This link has expired. Please ask for a new one.")) from None
    except BadSignature:
        raise ValidationError(N_("This link is not valid. Please ask for a new one.")) from None
