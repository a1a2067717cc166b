"""Purchases from the brand's shop: order lines in, purchase interactions out.

Order lines arrive as a CSV file (`flask reco import-purchases`) or as JSON from a shop
integration (`POST /api/shop/order-lines`, one key per integration, of which only a hash is
stored). Both go through `parse_line` (validation, one reason per bad line) and
`record_lines`:

- idempotent by order line id: the line's key (`line_key`) is claimed in the interaction
  log's key table, so a re-sent or re-imported line never counts twice, from either door;
- the customer is matched by member number, else by email (case-insensitively: addresses
  are stored lower-case); the product by SKU (the product's key);
- a line that matches no customer or no product is kept in `unmatched_order_lines` and
  reported, and `rematch` tries the kept lines again (after the customer has registered, or
  the product was added);
- the child and stage: the customer's child whose stage, on the order's date, is in the
  product's window (else their only child; else none).
"""
from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import IO, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

from clock import utcnow
from content.models import ContentItem
from content.stages import in_window, stage_of
from db import dialect_insert, table_of
from diary.age import local_date
from diary.errors import N_
from diary.integration_keys import IntegrationKeys
from diary.models import Child, Membership, User
from recommender import log
from recommender.context import stage_key_at
from recommender.errors import InvalidOrderLine
from recommender.models import (
    InteractionKey,
    Kind,
    ShopIntegration,
    Surface,
    UnmatchedOrderLine,
)

COLUMNS = ("order_line_id", "ordered_at", "email", "member_no", "sku", "quantity",
           "amount_minor", "currency")
REQUIRED_COLUMNS = ("order_line_id", "ordered_at", "sku", "quantity", "amount_minor",
                    "currency")
#: Most lines one JSON request may carry.
MAX_LINES = 1000
MAX_QUANTITY = 10_000
MAX_AMOUNT_MINOR = 10**12
#: An order a little in the future is a clock out of step; more is a mistake.
FUTURE_SLACK = timedelta(hours=1)
ORDER_LINE_ID = re.compile(r"[\x21-\x7e]{1,64}")  # printable ASCII, no spaces
EMAIL = re.compile(r"[^@\s]{1,64}@[^@\s]{1,189}\.[^@\s]{1,60}")
MEMBER_NO = re.compile(r"[A-Za-z0-9-]{1,32}")
SKU = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
CURRENCY = re.compile(r"[A-Z]{3}")

#: Why a kept line was not recorded.
NO_CUSTOMER = "customer"
NO_PRODUCT = "product"


@dataclass(frozen=True)
class OrderLine:
    order_line_id: str
    ordered_at: datetime
    sku: str
    quantity: int
    amount_minor: int
    currency: str
    email: str | None = None
    member_no: str | None = None


@dataclass(frozen=True)
class Problem:
    """A line that could not be read: its number (CSV line or list index) and the reason."""

    number: int
    order_line_id: str | None
    error: InvalidOrderLine


@dataclass
class Report:
    received: int = 0
    recorded: int = 0  # new purchases
    duplicates: int = 0  # order lines recorded before (or twice in this batch)
    unmatched: list[UnmatchedOrderLine] = field(default_factory=list)  # kept
    invalid: list[Problem] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {"received": self.received, "recorded": self.recorded,
                "duplicates": self.duplicates, "unmatched": len(self.unmatched),
                "invalid": len(self.invalid)}


# --- reading ------------------------------------------------------------------------------

def _text(raw: Mapping[str, Any], name: str) -> str:
    value = raw.get(name)
    if value is None:
        return ""
    if isinstance(value, bool) or not isinstance(value, (str, int)):
        raise InvalidOrderLine(N_("%(name)s must be text."), name=name)
    return str(value).strip()


def _whole(raw: Mapping[str, Any], name: str, low: int, high: int) -> int:
    value = raw.get(name)
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit() \
            and len(value.strip()) <= 13:
        value = int(value.strip())
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        raise InvalidOrderLine(N_("%(name)s must be a whole number from %(low)d to "
                                  "%(high)d."), name=name, low=low, high=high)
    return value


def _instant(text: str, now: datetime) -> datetime:
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00")) if len(text) <= 40 \
            else None
    except ValueError:
        value = None
    if value is None:
        raise InvalidOrderLine(N_("ordered_at must be a date and time in ISO 8601, with its "
                                  "time zone (e.g. 2026-12-01T09:30:00+08:00)."))
    if value.tzinfo is None or value.utcoffset() is None:
        raise InvalidOrderLine(N_("ordered_at must say its time zone (e.g. +08:00 or Z)."))
    value = value.astimezone(UTC)
    if value > now + FUTURE_SLACK or value.year < 2000:
        raise InvalidOrderLine(N_("ordered_at must not be in the future."))
    return value


def parse_line(raw: Any, now: datetime | None = None) -> OrderLine:
    """One order line (a JSON object or a CSV row) → OrderLine; InvalidOrderLine says why
    not. Unknown fields are refused (a misspelt column must not pass unnoticed)."""
    if not isinstance(raw, Mapping):
        raise InvalidOrderLine(N_("An order line must be a JSON object."))
    unknown = sorted(str(k) for k in raw if k not in COLUMNS)
    if unknown:
        raise InvalidOrderLine(N_("Unknown field %(name)s."), name=unknown[0][:40])
    line_id = _text(raw, "order_line_id")
    if not ORDER_LINE_ID.fullmatch(line_id):
        raise InvalidOrderLine(N_("order_line_id must be 1 to 64 characters without spaces."))
    email = _text(raw, "email").lower() or None
    member_no = _text(raw, "member_no").upper() or None
    if email is None and member_no is None:
        raise InvalidOrderLine(N_("An order line needs an email or a member number."))
    if email is not None and (len(email) > 254 or not EMAIL.fullmatch(email)):
        raise InvalidOrderLine(N_("email is not an email address."))
    if member_no is not None and not MEMBER_NO.fullmatch(member_no):
        raise InvalidOrderLine(N_("member_no must be letters, digits and -, at most 32."))
    sku = _text(raw, "sku")
    if not SKU.fullmatch(sku):
        raise InvalidOrderLine(N_("sku must be a product key (letters, digits, . _ -)."))
    currency = _text(raw, "currency").upper()
    if not CURRENCY.fullmatch(currency):
        raise InvalidOrderLine(N_("Use a three-letter currency code such as CNY."))
    return OrderLine(
        order_line_id=line_id, ordered_at=_instant(_text(raw, "ordered_at"), now or utcnow()),
        sku=sku, quantity=_whole(raw, "quantity", 1, MAX_QUANTITY),
        amount_minor=_whole(raw, "amount_minor", 0, MAX_AMOUNT_MINOR), currency=currency,
        email=email, member_no=member_no)


def parse_lines(raws: Iterable[tuple[int, Any]], now: datetime | None = None
                ) -> tuple[list[OrderLine], list[Problem]]:
    """(number, raw line) pairs → the good lines and the problems, in order."""
    now = now or utcnow()
    lines, problems = [], []
    for number, raw in raws:
        try:
            lines.append(parse_line(raw, now))
        except InvalidOrderLine as error:
            line_id = raw.get("order_line_id") if isinstance(raw, Mapping) else None
            problems.append(Problem(number, str(line_id)[:64] if line_id is not None
                                    else None, error))
    return lines, problems


def read_csv(stream: IO[str]) -> Iterator[tuple[int, dict[str, Any]]]:
    """(line number, row) for each row of a CSV file opened as text (a byte order mark is
    dropped). InvalidOrderLine when the header misses a required column or has an unknown
    one. Empty cells count as absent."""
    reader = csv.DictReader(stream)
    header = [(name or "").lstrip("\ufeff").strip() for name in reader.fieldnames or []]
    missing = [c for c in REQUIRED_COLUMNS if c not in header]
    if missing:
        raise InvalidOrderLine(N_("The file has no column %(column)s."), column=missing[0])
    if "email" not in header and "member_no" not in header:
        raise InvalidOrderLine(N_("The file needs an email or a member_no column."))
    unknown = [c for c in header if c not in COLUMNS]
    if unknown:
        raise InvalidOrderLine(N_("Unknown column %(column)s."), column=unknown[0][:40])
    reader.fieldnames = header
    for row in reader:
        extra = row.pop(None, None)  # type: ignore[call-overload]
        if extra:
            yield reader.line_num, {"order_line_id": row.get("order_line_id"),
                                    "(extra cells)": extra}
            continue
        yield reader.line_num, {k: v for k, v in row.items() if v not in (None, "")}


# --- recording ----------------------------------------------------------------------------

def line_key(order_line_id: str) -> str:
    """The idempotency key of an order line, the same from the CSV and the API."""
    return log.key_for("order-line", order_line_id)


def _customers(session: Session, lines: Sequence[OrderLine]
               ) -> tuple[dict[str, User], dict[str, User]]:
    members = {ln.member_no for ln in lines if ln.member_no}
    emails = {ln.email for ln in lines if ln.email}
    by_member = {u.member_no.upper(): u for u in session.scalars(
        select(User).where(User.member_no.in_(members)))} if members else {}
    by_email = {u.email: u for u in session.scalars(
        select(User).where(User.email.in_(emails)))} if emails else {}
    return by_member, by_email


def _children(session: Session, users: Iterable[User]) -> dict[int, list[Child]]:
    ids = {u.id for u in users}
    found: dict[int, list[Child]] = {uid: [] for uid in ids}
    if not ids:
        return found
    rows = session.execute(
        select(Membership.user_id, Child).join(Child, Child.family_id == Membership.family_id)
        .where(Membership.user_id.in_(ids)).order_by(Membership.id, Child.id)
        .options(selectinload(Child.family)))
    for user_id, child in rows:
        found[user_id].append(child)
    return found


def _child_for(children: list[Child], product: ContentItem, at: datetime) -> Child | None:
    """The child the purchase was for: the one whose stage fits the product then, else
    the only child."""
    for child in children:
        stage = stage_of(child, local_date(at, child.family.timezone))
        if stage is not None and in_window(product.window_unit, product.window_from,
                                           product.window_to, stage):
            return child
    return children[0] if len(children) == 1 else None


def record_lines(session: Session, lines: Sequence[OrderLine], source: str,
                 now: datetime | None = None) -> Report:
    """Record the order lines as purchases; keep the ones that match no customer or product.
    See the module's docstring. The caller owns the transaction."""
    now = now or utcnow()
    report = Report(received=len(lines))
    first: dict[str, OrderLine] = {}
    for line in lines:
        first.setdefault(line.order_line_id, line)
    report.duplicates += len(lines) - len(first)
    known = set(session.scalars(select(InteractionKey.key).where(
        InteractionKey.key.in_([line_key(i) for i in first])))) if first else set()
    pending = [ln for ln in first.values() if line_key(ln.order_line_id) not in known]
    report.duplicates += len(first) - len(pending)
    by_member, by_email = _customers(session, pending)
    skus = {ln.sku for ln in pending}
    products = {p.key: p for p in session.scalars(select(ContentItem).where(
        ContentItem.kind == "product", ContentItem.key.in_(skus)))} if skus else {}
    matched: list[tuple[OrderLine, User, ContentItem]] = []
    unmatched: list[tuple[OrderLine, str]] = []
    for ln in pending:
        user = (by_member.get(ln.member_no) if ln.member_no else None) or \
            (by_email.get(ln.email) if ln.email else None)
        product = products.get(ln.sku)
        if user is None:
            unmatched.append((ln, NO_CUSTOMER))
        elif product is None:
            unmatched.append((ln, NO_PRODUCT))
        else:
            matched.append((ln, user, product))
    children = _children(session, {u for _, u, _ in matched})
    events = []
    for ln, user, product in matched:
        child = _child_for(children[user.id], product, ln.ordered_at)
        events.append(log.Event(
            kind=Kind.PURCHASE.value, item_id=product.id, surface=Surface.SHOP.value,
            idempotency_key=line_key(ln.order_line_id), user_id=user.id,
            child_id=child.id if child else None,
            stage=stage_key_at(child, ln.ordered_at) if child else None,
            quantity=ln.quantity, amount_minor=ln.amount_minor, currency=ln.currency,
            occurred_at=ln.ordered_at, order_ref=ln.order_line_id))
    report.recorded = log.record_many(session, events)
    report.duplicates += len(events) - report.recorded  # a racing writer won those keys
    done = [i for i in first if line_key(i) in known] + [ln.order_line_id for ln, _, _ in matched]
    if done:  # recorded now or before (by either door): no longer waiting
        session.execute(delete(UnmatchedOrderLine).where(
            UnmatchedOrderLine.order_line_id.in_(done)))
    report.unmatched = _keep(session, unmatched, source, now)
    return report


def _keep(session: Session, lines: list[tuple[OrderLine, str]], source: str,
          now: datetime) -> list[UnmatchedOrderLine]:
    """Keep unmatched lines (one row per order line id: a re-sent one updates its row)."""
    if not lines:
        return []
    table = table_of(UnmatchedOrderLine)
    rows = [{"order_line_id": ln.order_line_id, "reason": reason, "source": source[:90],
             "ordered_at": ln.ordered_at, "email": ln.email, "member_no": ln.member_no,
             "sku": ln.sku, "quantity": ln.quantity, "amount_minor": ln.amount_minor,
             "currency": ln.currency, "received_at": now} for ln, reason in lines]
    stmt = dialect_insert(session, table)
    session.execute(stmt.on_conflict_do_update(
        index_elements=["order_line_id"],
        set_={name: stmt.excluded[name] for name in (
            "reason", "source", "ordered_at", "email", "member_no", "sku", "quantity",
            "amount_minor", "currency")}), rows)  # received_at: when it first came
    ids = [ln.order_line_id for ln, _ in lines]
    return list(session.scalars(select(UnmatchedOrderLine).where(
        UnmatchedOrderLine.order_line_id.in_(ids)).order_by(UnmatchedOrderLine.id)
        .execution_options(populate_existing=True)))  # rows read before are refreshed


def rematch(session: Session, now: datetime | None = None, batch: int = 500) -> Report:
    """Try the kept lines again (customers who registered since, products added since):
    the ones that match now become purchases and leave the table; `received` counts the
    lines tried, `unmatched` the ones still kept."""
    report = Report()
    after = 0
    while True:
        kept = list(session.scalars(select(UnmatchedOrderLine).where(
            UnmatchedOrderLine.id > after).order_by(UnmatchedOrderLine.id).limit(batch)))
        if not kept:
            return report
        after = kept[-1].id
        by_source: dict[str, list[OrderLine]] = {}
        for row in kept:
            by_source.setdefault(row.source, []).append(OrderLine(
                order_line_id=row.order_line_id, ordered_at=row.ordered_at, sku=row.sku,
                quantity=row.quantity, amount_minor=row.amount_minor, currency=row.currency,
                email=row.email, member_no=row.member_no))
        for source, lines in by_source.items():
            part = record_lines(session, lines, source, now)
            report.received += part.received
            report.recorded += part.recorded
            report.duplicates += part.duplicates
            report.unmatched.extend(part.unmatched)


# --- integrations -------------------------------------------------------------------------

KEY_PREFIX = "bjshop_"
INTEGRATIONS = IntegrationKeys(ShopIntegration, KEY_PREFIX, InvalidOrderLine)
create_integration = INTEGRATIONS.create
integration_for_key = INTEGRATIONS.for_key
revoke_integration = INTEGRATIONS.revoke
