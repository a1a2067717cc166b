"""The interaction log: what each person was shown and did with each suggested item.

Append-only and time-ordered. On PostgreSQL `interactions` is partitioned by month of
`occurred_at` (declarative RANGE partitioning; `recommender.partitions` makes the months ahead,
and a DEFAULT partition takes whatever no month holds, so no insert ever fails). A
partitioned table's unique keys must contain the partition key, so:

- its primary key is (id, occurred_at): `id` alone is unique in practice (one sequence), and
  the ORM identifies a row by both. On SQLite, which has no partitions and cannot
  autoincrement a column of a composite key, the same model makes `id INTEGER PRIMARY KEY`
  (the rowid) — see `db.SQLITE_ROWID`, used by the model and the migration alike;
- exactly-once is not a unique key of `interactions` but `interaction_keys`: a small
  unpartitioned table of idempotency keys that every write inserts into first (ON CONFLICT
  DO NOTHING); only the keys it won become interactions, in the same transaction.

Purchases come from the brand's shop (`recommender.purchases`): each integration has a key
of which only a hash is stored (`shop_integrations`), and order lines that match no customer
or product are kept (`unmatched_order_lines`) and reported, never lost.
"""
from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, ForeignKey, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db import SQLITE_ROWID, Base, UTCDateTime
from diary.integration_keys import IntegrationKeyColumns


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
#: The rows that carry the shop's order line id (purchases recorded since it was kept).
HAS_ORDER_REF = "order_ref IS NOT NULL"

#: How PostgreSQL partitions `interactions`: one partition per calendar month (UTC).
PARTITION_BY = "RANGE (occurred_at)"


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
                            postgresql_where=text(ACTIONS), sqlite_where=text(ACTIONS)),
                      # Staff find a customer by an order id: only purchases carry one.
                      Index("ix_interactions_order_ref", "order_ref",
                            postgresql_where=text(HAS_ORDER_REF),
                            sqlite_where=text(HAS_ORDER_REF)),
                      {"postgresql_partition_by": PARTITION_BY, "info": {SQLITE_ROWID: "id"}})

    # BIGSERIAL on PostgreSQL (a log outgrows 2**31), INTEGER on SQLite (the rowid there).
    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"),
                                    primary_key=True, autoincrement=True)
    #: The partition key, hence in the primary key (see the module's docstring).
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True, index=True)
    kind: Mapped[str] = mapped_column(String(16))
    # Goes with the account: the rows of a deleted account are deleted with it.
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    child_id: Mapped[int | None] = mapped_column(ForeignKey("children.id", ondelete="SET NULL"))
    item_id: Mapped[int] = mapped_column(ForeignKey("content_items.id", ondelete="CASCADE"))
    #: content.stages.Stage.key at that moment ("pregnancy_week:30" is 17 characters)
    stage: Mapped[str | None] = mapped_column(String(24))
    surface: Mapped[str] = mapped_column(String(16))
    position: Mapped[int | None] = mapped_column(Integer)
    model_version: Mapped[str | None] = mapped_column(String(40))
    request_id: Mapped[str | None] = mapped_column(String(32))
    quantity: Mapped[int | None] = mapped_column(Integer)
    amount_minor: Mapped[int | None] = mapped_column(BigInteger)  # money in minor units
    currency: Mapped[str | None] = mapped_column(String(3))
    idempotency_key: Mapped[str] = mapped_column(String(64))
    #: The shop's order line id of a purchase, as the shop sent it (the idempotency key is
    #: only its hash): staff find the customer by it and see it on the customer's page.
    order_ref: Mapped[str | None] = mapped_column(String(64))


class InteractionKey(Base):
    """One row per idempotency key ever written: a retry or a reload finds its key here."""
    __tablename__ = "interaction_keys"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ImpressionBatch(Base):
    """A browser's report of the suggestion cards it showed, waiting to become impressions.

    `POST /api/impressions` checks the signed slate tokens and stores what they say in one
    row (one cheap insert, whatever the batch's size); the scheduler's "impressions" job
    expands the rows into `interactions` through the log, with their idempotency keys, and
    deletes them in the same transaction (`recommender.impressions.drain`). So the web
    worker never pays for the log's indexes, and a batch is logged exactly once however
    often it is sent or drained. `slates` is a list of the tokens' contents with the
    positions seen: {"u", "c", "s", "r", "m", "g", "i": [items], "p": [positions]}."""
    __tablename__ = "impression_batches"

    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    slates: Mapped[list[dict[str, Any]]] = mapped_column(JSON)


class ShopIntegration(IntegrationKeyColumns, Base):
    """One system of the brand's shop that reports order lines (`POST /api/shop/order-lines`),
    with its key (`diary.integration_keys`)."""
    __tablename__ = "shop_integrations"


class UnmatchedOrderLine(Base):
    """An order line from the shop that matched no customer (or no product): kept, reported,
    and matched again later (`purchases.rematch`), once the customer has an account. One row
    per order line id; a matched line leaves this table and becomes a purchase."""
    __tablename__ = "unmatched_order_lines"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_line_id: Mapped[str] = mapped_column(String(64), unique=True)
    reason: Mapped[str] = mapped_column(String(16))  # "customer" or "product"
    source: Mapped[str] = mapped_column(String(90))  # "csv" or "api:<integration name>"
    ordered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    email: Mapped[str | None] = mapped_column(String(254), index=True)
    member_no: Mapped[str | None] = mapped_column(String(32), index=True)
    sku: Mapped[str] = mapped_column(String(80))
    quantity: Mapped[int] = mapped_column(Integer)
    amount_minor: Mapped[int] = mapped_column(BigInteger)
    currency: Mapped[str] = mapped_column(String(3))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
