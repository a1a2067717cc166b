"""Keys for the brand's own systems that call the site: the shop reporting order lines
(`recommender.purchases`), the mail provider forwarding emailed replies (`care.tickets`).

Each kind has its own table with these columns (`IntegrationKeyColumns`) and its own key
prefix, and one `IntegrationKeys` makes, finds and revokes its keys. A key is shown once,
when it is made; only its SHA-256 is stored, so a database dump opens nothing. Revoking keeps
the row (and the record of what the integration sent).
"""
from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import String, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from clock import utcnow
from db import UTCDateTime, rowcount
from diary.errors import N_, Conflict, NotFound, ValidationError


class IntegrationKeyColumns:
    """The columns of an integrations table (a mixin for its model)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80), unique=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The key's first characters, to tell keys apart in listings (not enough to use one).
    key_prefix: Mapped[str] = mapped_column(String(12))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


def hash_key(key: str) -> str:
    return hashlib.sha256(key.encode("utf-8")).hexdigest()


T = TypeVar("T", bound=IntegrationKeyColumns)


@dataclass(frozen=True)
class IntegrationKeys(Generic[T]):
    """The keys of one kind of integration: its model, its key prefix, and the error a bad
    name raises (the caller's own ValidationError)."""

    model: type[T]
    prefix: str
    invalid: type[ValidationError] = ValidationError

    def create(self, session: Session, name: str, now: datetime | None = None
               ) -> tuple[T, str]:
        """A new integration and its key, which is returned here once and never stored."""
        name = (name or "").strip()
        if not 1 <= len(name) <= 80 or any(ord(c) < 32 for c in name):
            raise self.invalid(N_("An integration needs a name of 1 to 80 characters."))
        if session.scalar(select(self.model.id).where(self.model.name == name)):
            raise Conflict(N_("There is already an integration called %(name)s."), name=name)
        key = self.prefix + secrets.token_urlsafe(32)
        row = self.model()
        row.name, row.key_hash, row.key_prefix = name, hash_key(key), key[:12]
        row.created_at = now or utcnow()
        session.add(row)
        session.flush()
        return row, key

    def for_key(self, session: Session, key: str, now: datetime | None = None) -> T | None:
        """The live integration this key belongs to (its last use noted), else None."""
        if not key.startswith(self.prefix) or len(key) > 100:
            return None
        row = session.scalar(select(self.model).where(self.model.key_hash == hash_key(key),
                                                      self.model.revoked_at.is_(None)))
        if row is not None:
            row.last_used_at = now or utcnow()
        return row

    def revoke(self, session: Session, name: str, now: datetime | None = None) -> None:
        result = session.execute(update(self.model).where(
            self.model.name == name, self.model.revoked_at.is_(None))
            .values(revoked_at=now or utcnow()))
        if not rowcount(result):
            raise NotFound(N_("No active integration has that name."))
