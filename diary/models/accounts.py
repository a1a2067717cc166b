"""People who log in, and the consents they gave."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, event, true
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime
from diary import lookup_keys

if TYPE_CHECKING:
    from diary.models.family import Membership


class StaffRole(str, enum.Enum):
    """Staff accounts are ordinary users with a role; parents have none."""

    MARKETER = "marketer"
    REVIEWER = "reviewer"  # approves content before it is published
    ANALYST = "analyst"
    SERVICE = "service"  # customer service: finds customers, reads their story, adds notes
    MODERATOR = "moderator"  # birth clubs: the queue of the clubs they are assigned to
    ADMIN = "admin"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    display_name: Mapped[str] = mapped_column(String(80))
    #: Public, stable number staff use to find a member ("BJ" + 8 digits).
    member_no: Mapped[str] = mapped_column(String(12), unique=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    locale: Mapped[str] = mapped_column(String(8), default="en")
    unit_system: Mapped[str] = mapped_column(String(8), default="metric")
    phone: Mapped[str | None] = mapped_column(String(32))
    region_province: Mapped[str | None] = mapped_column(String(80))
    region_city: Mapped[str | None] = mapped_column(String(80))
    interests: Mapped[list[str]] = mapped_column(JSON, default=list)
    birthday: Mapped[date | None] = mapped_column(Date)  # optional: for a birthday greeting
    #: Last time the parent opened the site (for "we miss you"); updated at most hourly.
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    digest_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    marketing_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    #: "Personalise my suggestions" (account page; on unless the person turns it off). Off:
    #: the recommender ranks by the stage's popularity only, never by what this person did.
    personalise_suggestions: Mapped[bool] = mapped_column(Boolean, default=True,
                                                          server_default=true())
    staff_role: Mapped[str | None] = mapped_column(String(16))
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Changing it invalidates password-reset links and other sessions' remember cookies.
    security_stamp: Mapped[str] = mapped_column(String(32))
    #: A random value fixed at creation that every emailed link carries: SQLite reuses the
    #: ids of deleted rows, and a link made for a deleted account must not reach its successor.
    link_key: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))
    #: When the person proved they read this address (a signed link); None until then.
    #: Digests, marketing email and joining a family wait for it.
    email_verified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Lookup keys (`diary.lookup_keys`), kept in step with the fields above on every insert
    #: and update: what staff search by and what duplicates are found by.
    email_key: Mapped[str | None] = mapped_column(String(lookup_keys.EMAIL_KEY_LENGTH),
                                                  index=True)
    phone_key: Mapped[str | None] = mapped_column(String(lookup_keys.PHONE_KEY_LENGTH),
                                                  index=True)
    name_key: Mapped[str | None] = mapped_column(String(lookup_keys.NAME_KEY_LENGTH),
                                                 index=True)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="user", cascade="all, delete-orphan"
    )
    consents: Mapped[list[Consent]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Consent.recorded_at"
    )

    @property
    def is_staff(self) -> bool:
        return self.staff_role is not None

    @property
    def email_verified(self) -> bool:
        return self.email_verified_at is not None

    # The session-user protocol (duck-typed, so no web framework is imported here). The id
    # includes the security stamp: changing the password signs out every other session.
    is_authenticated = True
    is_anonymous = False

    def get_id(self) -> str:
        return f"{self.id}:{self.security_stamp}"

    def __repr__(self) -> str:
        return f"<User {self.member_no}>"


@event.listens_for(User, "before_insert")
@event.listens_for(User, "before_update")
def _user_lookup_keys(_mapper: object, _connection: object, user: User) -> None:
    user.email_key = lookup_keys.email_key(user.email)
    user.phone_key = lookup_keys.phone_key(user.phone)
    user.name_key = lookup_keys.name_key(user.display_name)


class Consent(Base):
    """An append-only record of each consent given or withdrawn (PIPL / GDPR evidence)."""

    __tablename__ = "consents"
    __table_args__ = (Index("ix_consents_user_kind", "user_id", "kind", "recorded_at"),)

    CHILD_DATA = "child_data"
    MARKETING = "marketing"
    DIGEST = "digest"
    KINDS = (CHILD_DATA, MARKETING, DIGEST)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    granted: Mapped[bool] = mapped_column(Boolean)
    policy_version: Mapped[str] = mapped_column(String(16))
    source: Mapped[str] = mapped_column(String(32))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[User] = relationship(back_populates="consents")


class UserSession(Base):
    """One signed-in browser. The cookie holds a random key; only its hash is stored here, so
    signing out (or a password change) ends the session on the server: a copied cookie is
    worthless afterwards."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: "Remember me": the session lasts days instead of hours (both slide with activity).
    remember: Mapped[bool] = mapped_column(Boolean, default=False)
    user_agent: Mapped[str | None] = mapped_column(String(200))


class AccountEmail(Base):
    """An account email waiting to be sent (address check, password reset, invitation,
    notices). No link or token is stored: links are signed at send time, so nothing staff or
    a database dump can read opens anyone's account. Sent after the response or by the
    scheduler, with retries, like the journeys outbox."""

    __tablename__ = "account_emails"
    __table_args__ = (Index("ix_account_emails_due", "status", "next_attempt_at"),
                      Index("ix_account_emails_to_kind", "to_address", "kind", "created_at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(24))
    to_address: Mapped[str] = mapped_column(String(254))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    invitation_id: Mapped[int | None] = mapped_column(
        ForeignKey("invitations.id", ondelete="CASCADE"))
    locale: Mapped[str] = mapped_column(String(8), default="en")
    #: Names and ids the message needs (never a token or a password).
    payload: Mapped[dict] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(8), default="pending")  # pending/sent/failed/dead
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))


class AccessToken(Base):
    """A personal access token for the JSON API (/api/v1): made by a parent on the account
    page, shown once, stored only as the SHA-256 of its secret (`diary.access_tokens`)."""

    __tablename__ = "access_tokens"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: The token's first characters, to tell tokens apart in listings (not enough to use one).
    token_prefix: Mapped[str] = mapped_column(String(16))
    #: "read" or "write" (write includes read).
    scope: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()
