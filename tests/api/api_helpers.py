"""Helpers for the /api/v1 tests: a token for a family's parent, and its headers."""
from __future__ import annotations

from sqlalchemy.orm import Session

from diary import access_tokens
from diary.models import User


def make_token(session: Session, user: User, scope: str = "write",
               days: int | None = 30, name: str = "test") -> str:
    _, secret = access_tokens.create(session, user, name, scope, days)
    session.commit()
    return secret


def bearer(secret: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {secret}"}
