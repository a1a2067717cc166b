"""Families, the caregivers in them, invitations, and the children they look after."""
from __future__ import annotations

import enum
import secrets
from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlalchemy import Date, Float, ForeignKey, Index, Integer, String, UniqueConstraint, event
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime
from diary import lookup_keys

if TYPE_CHECKING:
    from diary.models.accounts import User
    from diary.models.entries import Entry


class Role(str, enum.Enum):
    """What a caregiver may do: owners manage the family, editors write, viewers read."""

    OWNER = "owner"
    EDITOR = "editor"
    VIEWER = "viewer"


class Relationship(str, enum.Enum):
    MOTHER = "mother"
    FATHER = "father"
    GRANDPARENT = "grandparent"
    OTHER = "other"


class Family(Base):
    __tablename__ = "families"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(80))
    #: Ages and "today" are computed in this zone, whoever is looking.
    timezone: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    memberships: Mapped[list[Membership]] = relationship(
        back_populates="family", cascade="all, delete-orphan"
    )
    children: Mapped[list[Child]] = relationship(
        back_populates="family", cascade="all, delete-orphan", order_by="Child.id"
    )
    invitations: Mapped[list[Invitation]] = relationship(
        back_populates="family", cascade="all, delete-orphan"
    )


class Membership(Base):
    __tablename__ = "memberships"
    __table_args__ = (UniqueConstraint("family_id", "user_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    role: Mapped[str] = mapped_column(String(8))
    relationship_to_child: Mapped[str] = mapped_column(String(16))
    joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    family: Mapped[Family] = relationship(back_populates="memberships")
    user: Mapped[User] = relationship(back_populates="memberships")

    @property
    def can_write(self) -> bool:
        return self.role in (Role.OWNER.value, Role.EDITOR.value)

    @property
    def is_owner(self) -> bool:
        return self.role == Role.OWNER.value


class Invitation(Base):
    """A pending invitation; the emailed link carries a signed token naming its id."""

    __tablename__ = "invitations"

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"))
    email: Mapped[str] = mapped_column(String(254))
    role: Mapped[str] = mapped_column(String(8))
    relationship_to_child: Mapped[str] = mapped_column(String(16))
    invited_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    accepted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Carried by the emailed link with the id: a link outlives a deleted invitation whose
    #: id SQLite may give to a newer one.
    nonce: Mapped[str] = mapped_column(String(32), default=lambda: secrets.token_hex(16))

    family: Mapped[Family] = relationship(back_populates="invitations")

    @property
    def is_open(self) -> bool:
        return self.accepted_at is None and self.revoked_at is None


class Child(Base):
    """A baby, expected (due date only) or born (birth date set)."""

    __tablename__ = "children"
    __table_args__ = (Index("ix_children_birth_date", "birth_date"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    family_id: Mapped[int] = mapped_column(ForeignKey("families.id", ondelete="CASCADE"),
                                           index=True)
    name: Mapped[str] = mapped_column(String(60))
    sex: Mapped[str | None] = mapped_column(String(8))  # "female" | "male" | None (not known yet)
    due_date: Mapped[date | None] = mapped_column(Date)
    birth_date: Mapped[date | None] = mapped_column(Date)
    gestational_weeks_at_birth: Mapped[int | None] = mapped_column(Integer)
    gestational_days_at_birth: Mapped[int | None] = mapped_column(Integer)
    birth_weight_kg: Mapped[float | None] = mapped_column(Float)
    birth_length_cm: Mapped[float | None] = mapped_column(Float)
    birth_head_cm: Mapped[float | None] = mapped_column(Float)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: Goes up whenever something the suggestions read about this child changes (a
    #: measurement, an action of anyone in the family: `diary.families.signals_changed`), so a
    #: stored list of suggestions knows it is stale without a query.
    signals_version: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The name's lookup key (`diary.lookup_keys.name_key`), kept in step with `name`:
    #: staff find a parent by their child's name.
    name_key: Mapped[str | None] = mapped_column(String(60), index=True)

    family: Mapped[Family] = relationship(back_populates="children")
    entries: Mapped[list[Entry]] = relationship(
        back_populates="child", cascade="all, delete-orphan", passive_deletes=True
    )

    @property
    def is_born(self) -> bool:
        return self.birth_date is not None


@event.listens_for(Child, "before_insert")
@event.listens_for(Child, "before_update")
def _child_lookup_key(_mapper: object, _connection: object, child: Child) -> None:
    key = lookup_keys.name_key(child.name)
    child.name_key = key[:60] if key else None
