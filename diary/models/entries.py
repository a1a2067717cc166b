"""Timeline entries, the measurements and photos attached to them."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime

if TYPE_CHECKING:
    from diary.models.accounts import User
    from diary.models.family import Child


class Entry(Base):
    __tablename__ = "entries"
    __table_args__ = (
        # The timeline reads newest first within one child, optionally filtered by kind.
        Index("ix_entries_child_timeline", "child_id", "occurred_at", "id"),
        Index("ix_entries_child_kind_timeline", "child_id", "kind", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    child_id: Mapped[int] = mapped_column(ForeignKey("children.id", ondelete="CASCADE"))
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))  # a name in diary.entry_kinds.KINDS
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    title: Mapped[str] = mapped_column(String(120), default="")
    body: Mapped[str] = mapped_column(Text, default="")
    #: Kind-specific fields of quick logs (feeding amount, sleep minutes, temperature …).
    data: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Words of title/body/data, segmented (Chinese too) for full-text search.
    search_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    child: Mapped[Child] = relationship(back_populates="entries")
    author: Mapped[User | None] = relationship()
    measurement: Mapped[Measurement | None] = relationship(
        back_populates="entry", cascade="all, delete-orphan", uselist=False
    )
    photos: Mapped[list[Photo]] = relationship(
        back_populates="entry", cascade="all, delete-orphan", order_by="Photo.position"
    )


class Measurement(Base):
    """Body measurements in SI units (kg, cm), one row per measurement entry."""

    __tablename__ = "measurements"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(
        ForeignKey("entries.id", ondelete="CASCADE"), unique=True
    )
    weight_kg: Mapped[float | None] = mapped_column(Float)
    length_cm: Mapped[float | None] = mapped_column(Float)
    head_cm: Mapped[float | None] = mapped_column(Float)

    entry: Mapped[Entry] = relationship(back_populates="measurement")


class Photo(Base):
    """A re-encoded, metadata-free image on disk; `storage_key` names its files."""

    __tablename__ = "photos"

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("entries.id", ondelete="CASCADE"), index=True)
    storage_key: Mapped[str] = mapped_column(String(64), unique=True)
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    size_bytes: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    entry: Mapped[Entry] = relationship(back_populates="photos")
