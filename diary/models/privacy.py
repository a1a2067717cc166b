"""Records of the parent's data rights being used (so far: each "download everything")."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index
from sqlalchemy.orm import Mapped, mapped_column

from clock import utcnow
from db import Base, UTCDateTime


class DataExport(Base):
    """One data export of one person: counted to limit exports per day (across workers)."""

    __tablename__ = "data_exports"
    __table_args__ = (Index("ix_data_exports_user_at", "user_id", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
