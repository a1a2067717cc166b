"""The rewards package's tables (imported by migrations/env.py and the tests' load_all_models).

The ledger is append-only: every change of a person's points is one row (an award, the
reversal of an award, a redemption's debit, a cancelled redemption's refund), unique per
(user, rule, ref) so a reload or a retry never writes it twice. The balance is kept beside it
in `reward_balances`, updated in the same transaction as the row, and can never go below zero
(a check constraint): a redemption debits it with a conditional UPDATE.
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from clock import utcnow
from db import Base, UTCDateTime


class PointsBalance(Base):
    """A person's points now: the sum of their ledger rows, kept up to date."""

    __tablename__ = "reward_balances"
    __table_args__ = (CheckConstraint("balance >= 0", name="not_negative"),)

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         primary_key=True)
    balance: Mapped[int] = mapped_column(Integer, default=0)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class PointsEntry(Base):
    """One change of a person's points (append-only)."""

    __tablename__ = "reward_points"
    __table_args__ = (
        UniqueConstraint("user_id", "rule", "ref", name="uq_reward_points_once"),
        # daily caps: a rule's awards of one local day
        Index("ix_reward_points_cap", "user_id", "rule", "local_day"),
        Index("ix_reward_points_history", "user_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    #: A rule of `rewards.rules.RULES`, or "redeem" / "refund" for the catalogue's rows.
    rule: Mapped[str] = mapped_column(String(24))
    points: Mapped[int] = mapped_column(Integer)
    #: What the row is for: "entry:12@1764990000", "survey:7", "redemption:3" …
    ref: Mapped[str] = mapped_column(String(80))
    #: The day it counts for, in the family's time zone (daily caps count these).
    local_day: Mapped[date] = mapped_column(Date)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: The award this row takes back (an entry deleted): at most one reversal per award.
    reverses_id: Mapped[int | None] = mapped_column(
        ForeignKey("reward_points.id", ondelete="CASCADE"), unique=True)


class RewardItem(Base):
    """A sample in the catalogue (managed by marketers in the studio)."""

    __tablename__ = "reward_items"
    __table_args__ = (CheckConstraint("cost > 0", name="cost_positive"),
                      CheckConstraint("stock >= 0", name="stock_not_negative"))

    id: Mapped[int] = mapped_column(primary_key=True)
    name_en: Mapped[str] = mapped_column(String(80))
    name_zh: Mapped[str] = mapped_column(String(80))
    description_en: Mapped[str] = mapped_column(Text, default="")
    description_zh: Mapped[str] = mapped_column(Text, default="")
    cost: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    def name(self, locale: str) -> str:
        return self.name_zh if locale.startswith("zh") and self.name_zh else self.name_en

    def description(self, locale: str) -> str:
        if locale.startswith("zh") and self.description_zh:
            return self.description_zh
        return self.description_en


class Redemption(Base):
    """A parent's request for a sample: the points were debited and the stock taken when it
    was made; cancelling gives both back (once)."""

    __tablename__ = "reward_redemptions"
    __table_args__ = (
        UniqueConstraint("user_id", "request_key", name="uq_reward_redemptions_once"),
        Index("ix_reward_redemptions_status", "status", "created_at"),
    )

    REQUESTED = "requested"
    SENT = "sent"
    CANCELLED = "cancelled"
    STATUSES = (REQUESTED, SENT, CANCELLED)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"),
                                         index=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("reward_items.id"), index=True)
    cost: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default=REQUESTED)
    #: The confirm page's one-time key: a double submit makes one redemption.
    request_key: Mapped[str] = mapped_column(String(32))
    # The shipping address, no more than a parcel needs.
    recipient: Mapped[str] = mapped_column(String(40))
    phone: Mapped[str] = mapped_column(String(20))
    province: Mapped[str] = mapped_column(String(40))
    city: Mapped[str] = mapped_column(String(40))
    address: Mapped[str] = mapped_column(String(200))
    postcode: Mapped[str] = mapped_column(String(10), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: When the address fields were blanked (`catalogue.erase_old_addresses`): kept only
    #: while the parcel may need them.
    address_erased_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    handled_by_id: Mapped[int | None] = mapped_column(ForeignKey("users.id",
                                                                 ondelete="SET NULL"))

    item: Mapped[RewardItem] = relationship()
