"""The interaction log: what each person was shown and did with each suggested item.

Append-only and time-ordered. `interactions` has no unique key of its own: on PostgreSQL it
is partitioned by month (`occurred_at`), and a partitioned table's unique keys must contain
the partition key. Exactly-once is kept by `interaction_keys` instead: a small unpartitioned
table of idempotency keys that every write inserts into first (ON CONFLICT DO NOTHING); only
the keys it won become interactions, in the same transaction.
"""
from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db import Base, UTCDateTime


class Kind(str, enum.Enum):
    IMPRESSION = "impression"
    CLICK = "click"
    SAVE = "save"
    DISMISS = "dismiss"
    ADD_TO_CART = "add_to_cart"
    PURCHASE = "purchase"


class Surface(str, enum.Enum):
    CHILD_PAGE = "child_page"
    PRODUCT_LIST = "product_list"
    ARTICLE = "article"
    INBOX = "inbox"
    EMAIL = "email"
    SHOP = "shop"  # purchases reported by the brand's shop


KINDS = tuple(k.value for k in Kind)
#: The rows that are something a person did (everything but what they were shown).
ACTIONS = "kind <> 'impression'"
SURFACES = tuple(s.value for s in Surface)


class Interaction(Base):
    __tablename__ = "interactions"
    __table_args__ = (Index("ix_interactions_user_time", "user_id", "occurred_at"),
                      Index("ix_interactions_item_time", "item_id", "occurred_at"),
                      # What suggestions read on every request: a child's actions (whichever
                      # caregiver acted) and a person's, without the impressions that make
                      # up most of the log. Partial indexes: the query repeats the predicate.
                      Index("ix_interactions_child_actions", "child_id", "occurred_at",
                            postgresql_where=text(ACTIONS), sqlite_where=text(ACTIONS)),
                      Index("ix_interactions_user_actions", "user_id", "occurred_at",
                            postgresql_where=text(ACTIONS), sqlite_where=text(ACTIONS)))

    # BigInteger on PostgreSQL (a log outgrows 2**31), plain INTEGER on SQLite (its rowid).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Goes with the account: the rows of a deleted account are deleted with it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    #: content.stages.Stage.key then ("pregnancy_week:40" is 17 characters)
    stage: Mapped[str | None] = mapped_column(String(24))
    surface: Mapped[str] = mapped_column(String(16))
    position: Mapped[int | None] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int | None] = mapped_column(Integer)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # money in minor units
    currency: Mapped[str | None] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(64))


class InteractionKey(Base):
    """One row per idempotency key ever written: a retry or a reload finds its key here."""
    __tablename__ = "interaction_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
