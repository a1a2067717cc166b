"""The samples to redeem and the redemptions: the catalogue (marketers), a parent's
redemption (points and stock taken in one go), cancelling it (both given back, once), and
the service team marking it sent, and blanking shipping addresses once no parcel needs them.

`redeem` returns the new `Redemption`: the web layer hooks what else a redemption starts
(a ticket for the service team) right after it, in the same transaction.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, joinedload

from db import rowcount
from diary import age as agemath
from diary import locales
from diary.errors import N_, Conflict, NotFound, PermissionDenied, ValidationError
from diary.models import User
from journeys import ledger, preferences
from rewards import points, rules
from rewards.models import PointsBalance, PointsEntry, Redemption, RewardItem

MAX_COST = 100_000
MAX_STOCK = 100_000
NAME_LENGTH = 80
DESCRIPTION_LENGTH = 600


class NotEnoughPoints(ValidationError):
    def __init__(self, cost: int, have: int) -> None:
        super().__init__(N_("This sample needs %(cost)s points and you have %(have)s. "
                            "Keep writing in the diary to earn more."),
                         cost=cost, have=have)


class OutOfStock(Conflict):
    def __init__(self) -> None:
        super().__init__(N_("Sorry, this sample has just run out."))


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _text(value: str | None, field: str, most: int, least: int = 0,
          multiline: bool = False) -> str:
    text = (value or "").strip()
    if _CONTROL.search(text) or (not multiline and ("\n" in text or "\r" in text)):
        raise ValidationError(N_("Please use plain text only."), field)
    if len(text) < least:
        raise ValidationError(N_("Please fill this in."), field)
    if len(text) > most:
        raise ValidationError(N_("Please keep this under %(count)s characters."), field,
                              count=most)
    return text


def _number(value: int | None, field: str, least: int, most: int) -> int:
    if value is None or isinstance(value, bool) or not least <= int(value) <= most:
        raise ValidationError(N_("Please give a whole number from %(least)s to %(most)s."),
                              field, least=least, most=most)
    return int(value)


# --- the catalogue ---------------------------------------------------------------------------

@dataclass(frozen=True)
class ItemInput:
    name_en: str
    name_zh: str
    description_en: str
    description_zh: str
    cost: int | None
    stock: int | None
    active: bool


def _apply(item: RewardItem, data: ItemInput) -> RewardItem:
    item.name_en = _text(data.name_en, "name_en", NAME_LENGTH, 1)
    item.name_zh = _text(data.name_zh, "name_zh", NAME_LENGTH, 1)
    item.description_en = _text(data.description_en, "description_en", DESCRIPTION_LENGTH,
                                multiline=True)
    item.description_zh = _text(data.description_zh, "description_zh", DESCRIPTION_LENGTH,
                                multiline=True)
    item.cost = _number(data.cost, "cost", 1, MAX_COST)
    item.stock = _number(data.stock, "stock", 0, MAX_STOCK)
    item.active = bool(data.active)
    return item


def create_item(session: Session, data: ItemInput) -> RewardItem:
    item = _apply(RewardItem(), data)
    session.add(item)
    session.flush()
    return item


def update_item(session: Session, item_id: int, data: ItemInput) -> RewardItem:
    """Change a sample. The stock given replaces the count (what is in the store room)."""
    item = get_item(session, item_id)
    _apply(item, data)
    session.flush()
    return item


def get_item(session: Session, item_id: int) -> RewardItem:
    item = session.get(RewardItem, item_id)
    if item is None:
        raise NotFound()
    return item


def items(session: Session, *, active_only: bool = True) -> list[RewardItem]:
    query = select(RewardItem).order_by(RewardItem.cost, RewardItem.id)
    if active_only:
        query = query.where(RewardItem.active.is_(True))
    return list(session.scalars(query))


# --- redemptions -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Address:
    recipient: str
    phone: str
    province: str
    city: str
    address: str
    postcode: str = ""


_PHONE = re.compile(r"\+?[0-9]{6,15}")
_POSTCODE = re.compile(r"[A-Za-z0-9 -]{3,10}")


def clean_address(data: Address) -> Address:
    """The address as it is stored (trimmed), or ValidationError naming the field."""
    phone = re.sub(r"[\s()-]", "", data.phone or "")
    if not _PHONE.fullmatch(phone):
        raise ValidationError(N_("Please give a phone number the courier can call."),
                              "phone")
    postcode = _text(data.postcode, "postcode", 10)
    if postcode and not _POSTCODE.fullmatch(postcode):
        raise ValidationError(N_("Please check the postcode."), "postcode")
    return Address(recipient=_text(data.recipient, "recipient", 40, 1), phone=phone,
                   province=_text(data.province, "province", 40, 1),
                   city=_text(data.city, "city", 40, 1),
                   address=_text(data.address, "address", 200, 4), postcode=postcode)


def redeem(session: Session, user: User, item_id: int, address: Address, request_key: str,
           now: datetime) -> Redemption:
    """Redeem a sample for `user`: the stock goes down by one and the points are debited by
    two conditional UPDATEs in the caller's transaction, so two parents taking the last one
    at once cannot both have it, and nobody spends points they do not have. The same
    `request_key` again (a double submit) returns the redemption already made.

    Raises NotEnoughPoints, OutOfStock, NotFound (no such active sample), ValidationError
    (the address); the caller's transaction rolls back whatever was done."""
    if user.staff_role is not None or not user.is_active:
        raise PermissionDenied(N_("Staff accounts do not collect points."))
    key = (request_key or "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{16,32}", key):
        raise ValidationError(N_("Please start again from the sample's page."))
    # The balance row locked first (PostgreSQL): a second press of Confirm racing the first
    # waits here, then finds the redemption the first one made.
    have = points._lock_balance(session, user.id, now)
    existing = session.scalar(select(Redemption).where(Redemption.user_id == user.id,
                                                       Redemption.request_key == key))
    if existing is not None:
        return existing
    clean = clean_address(address)
    item = session.get(RewardItem, item_id)
    if item is None or not item.active:
        raise NotFound()
    cost = item.cost
    if not rowcount(session.execute(
            update(PointsBalance).where(PointsBalance.user_id == user.id,
                                        PointsBalance.balance >= cost)
            .values(balance=PointsBalance.balance - cost, updated_at=now)
            .execution_options(synchronize_session=False))):
        raise NotEnoughPoints(cost, have)
    if not rowcount(session.execute(
            update(RewardItem).where(RewardItem.id == item.id, RewardItem.active.is_(True),
                                     RewardItem.stock > 0)
            .values(stock=RewardItem.stock - 1))):
        raise OutOfStock()
    redemption = Redemption(user_id=user.id, item_id=item.id, cost=cost, request_key=key,
                            status=Redemption.REQUESTED, created_at=now,
                            recipient=clean.recipient, phone=clean.phone,
                            province=clean.province, city=clean.city,
                            address=clean.address, postcode=clean.postcode)
    session.add(redemption)
    session.flush()
    day = agemath.local_date(now, points.home_timezone(session, user))
    session.add(PointsEntry(user_id=user.id, rule=rules.REDEEM, points=-cost,
                            ref=f"redemption:{redemption.id}", local_day=day, created_at=now))
    session.flush()
    return redemption


def cancel(session: Session, redemption: Redemption, now: datetime,
           by: User | None = None) -> Redemption:
    """Cancel a requested redemption: the points come back (one refund row, unique) and so
    does the stock. Conflict when it was already sent or cancelled."""
    if not rowcount(session.execute(
            update(Redemption).where(Redemption.id == redemption.id,
                                     Redemption.status == Redemption.REQUESTED)
            .values(status=Redemption.CANCELLED, cancelled_at=now,
                    handled_by_id=by.id if by is not None else None)
            .execution_options(synchronize_session=False))):
        raise Conflict(N_("Only a redemption that is not sent yet can be cancelled."))
    points._lock_balance(session, redemption.user_id, now)
    owner = session.get(User, redemption.user_id)
    zone = points.home_timezone(session, owner) if owner is not None else "UTC"
    day = agemath.local_date(now, zone)
    refund = PointsEntry(user_id=redemption.user_id, rule=rules.REFUND,
                         points=redemption.cost, ref=f"redemption:{redemption.id}",
                         local_day=day, created_at=now)
    if points._write(session, refund):
        points._add_to_balance(session, redemption.user_id, redemption.cost, now)
        session.execute(update(RewardItem).where(RewardItem.id == redemption.item_id)
                        .values(stock=RewardItem.stock + 1))
    session.refresh(redemption)
    return redemption


def mark_sent(session: Session, redemption_id: int, staff: User, now: datetime
              ) -> Redemption:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound()
    if not rowcount(session.execute(
            update(Redemption).where(Redemption.id == redemption.id,
                                     Redemption.status == Redemption.REQUESTED)
            .values(status=Redemption.SENT, sent_at=now, handled_by_id=staff.id)
            .execution_options(synchronize_session=False))):
        raise Conflict(N_("Only a requested redemption can be marked as sent."))
    session.refresh(redemption)
    _tell_sent(session, redemption, now)
    return redemption


#: The inbox notice of a sample sent: its ledger key (one per redemption).
SENT_NOTICE = "reward-sent"


def _tell_sent(session: Session, redemption: Redemption, now: datetime) -> None:
    """The parent's inbox says the sample is on its way (the redemption page promises it),
    in their language, with the day it went in their zone; once, by the ledger's key."""
    parent = session.get(User, redemption.user_id)
    if parent is None:
        return
    locale = locales.locale_of(parent)
    words = locales.words(locale)
    day = preferences.local_date(now, parent.timezone)
    title = words.gettext("Your sample is on its way")
    body = words.gettext("We sent %(sample)s on %(date)s to %(city)s. Enjoy it!",
                         sample=redemption.item.name(locale),
                         date=locales.format_date(day, locale), city=redemption.city)
    ledger.push(session, [ledger.row(user_id=parent.id, child_id=0, item=None,
                                     channel="inbox", item_key=SENT_NOTICE,
                                     occurrence=f"redemption:{redemption.id}",
                                     title=title, body=body)])


#: How long a shipping address is kept after the sample was sent or the request cancelled
#: (questions about a parcel come within days); then it is blanked.
ADDRESS_KEPT = timedelta(days=30)
_ADDRESS_FIELDS = ("recipient", "phone", "province", "city", "address", "postcode")


def erase_old_addresses(session: Session, now: datetime, kept: timedelta = ADDRESS_KEPT
                        ) -> int:
    """Blank the shipping address of every redemption sent or cancelled longer than `kept`
    ago (one UPDATE; the scheduler's daily housekeeping). Returns how many were blanked.
    A request still waiting keeps its address."""
    before = now - kept
    return rowcount(session.execute(
        update(Redemption)
        .where(Redemption.address_erased_at.is_(None),
               or_(and_(Redemption.status == Redemption.SENT, Redemption.sent_at < before),
                   and_(Redemption.status == Redemption.CANCELLED,
                        Redemption.cancelled_at < before)))
        .values(address_erased_at=now, **{name: "" for name in _ADDRESS_FIELDS})
        .execution_options(synchronize_session=False)))


def redemption_of(session: Session, user: User, redemption_id: int) -> Redemption:
    """One of the person's own redemptions; NotFound for anyone else's."""
    redemption = session.scalar(select(Redemption).options(joinedload(Redemption.item))
                                .where(Redemption.id == redemption_id,
                                       Redemption.user_id == user.id))
    if redemption is None:
        raise NotFound()
    return redemption


def redemptions_of(session: Session, user: User) -> list[Redemption]:
    return list(session.scalars(select(Redemption).options(joinedload(Redemption.item))
                                .where(Redemption.user_id == user.id)
                                .order_by(Redemption.created_at.desc(),
                                          Redemption.id.desc())))


def get_redemption(session: Session, redemption_id: int) -> Redemption:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound()
    return redemption


def queue(session: Session, status: str | None = Redemption.REQUESTED, limit: int = 200
          ) -> list[tuple[Redemption, User]]:
    """Redemptions for the service team, oldest first, with who asked."""
    query = (select(Redemption, User).join(User, User.id == Redemption.user_id)
             .options(joinedload(Redemption.item))
             .order_by(Redemption.created_at, Redemption.id).limit(limit))
    if status in Redemption.STATUSES:
        query = query.where(Redemption.status == status)
    return [(r, u) for r, u in session.execute(query).all()]
