"""The samples catalogue and redemptions: atomic debit and stock, refunds once, races."""
from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select

import db
from diary import accounts, registration
from diary.errors import Conflict, NotFound, PermissionDenied, ValidationError
from diary.families import ChildDetails
from journeys import inbox
from journeys.models import InboxMessage
from rewards import catalogue, points
from rewards.catalogue import Address, ItemInput, NotEnoughPoints, OutOfStock
from rewards.models import PointsEntry, Redemption, RewardItem
from tests.conftest import PASSWORD, migrated_database_url, run_at_once
from tests.web.test_studio import make_staff

T0 = datetime(2026, 11, 23, 2, 0, tzinfo=UTC)
HOME = Address(recipient="Li Na", phone="138 0013 8000", province="Shanghai",
               city="Shanghai", address="88 Century Avenue, Flat 1201", postcode="200120")


def sample(session, cost=30, stock=5, active=True, name="Nappy sample"):
    item = catalogue.create_item(session, ItemInput(name, "纸尿裤试用装", "Three nappies.",
                                                    "三片装。", cost, stock, active))
    session.flush()
    return item


def earn(session, user, amount):
    """Give `amount` points (a multiple of 20: surveys answered on different days)."""
    before = points.balance(session, user)
    for n in range(amount // 20):
        assert points.award(session, user, "survey", f"survey:{secrets.token_hex(4)}",
                            now=T0 + timedelta(days=n)) is not None
    assert points.balance(session, user) == before + amount


def key():
    return secrets.token_hex(8)


def make_redemption(session, user, cost=20):
    """A sample and a redemption of it by `user` (for the pages' tests)."""
    earn(session, user, cost)
    item = sample(session, cost=cost)
    return item, catalogue.redeem(session, user, item.id, HOME, key(), T0)


def test_redeeming_debits_points_and_takes_one_from_the_stock(session, make_family):
    user, _ = make_family()
    earn(session, user, 60)
    item = sample(session, cost=30, stock=2)
    made = catalogue.redeem(session, user, item.id, HOME, key(), T0)
    assert (made.status, made.cost, made.phone, made.recipient) == \
        ("requested", 30, "13800138000", "Li Na")
    assert points.balance(session, user) == 30 and points.ledger_sum(session, user) == 30
    assert session.get(RewardItem, item.id).stock == 1
    assert session.scalars(select(PointsEntry.ref).where(
        PointsEntry.rule == "redeem")).all() == [f"redemption:{made.id}"]


def test_a_double_submit_redeems_once(session, make_family):
    user, _ = make_family()
    earn(session, user, 60)
    item = sample(session, cost=30)
    once = key()
    first = catalogue.redeem(session, user, item.id, HOME, once, T0)
    again = catalogue.redeem(session, user, item.id, HOME, once, T0 + timedelta(seconds=1))
    assert again.id == first.id
    assert points.balance(session, user) == 30 and session.get(RewardItem, item.id).stock == 4


def test_not_enough_points_says_how_many_and_changes_nothing(session, make_family):
    user, _ = make_family()
    earn(session, user, 20)
    item = sample(session, cost=30, stock=1)
    with pytest.raises(NotEnoughPoints) as raised, session.begin_nested():
        catalogue.redeem(session, user, item.id, HOME, key(), T0)
    assert str(raised.value) == ("This sample needs 30 points and you have 20. "
                                 "Keep writing in the diary to earn more.")
    session.expire_all()
    assert points.balance(session, user) == 20 and session.get(RewardItem, item.id).stock == 1
    assert session.scalar(select(Redemption.id)) is None


def test_out_of_stock_gives_the_points_back(session, make_family):
    user, _ = make_family()
    earn(session, user, 40)
    item = sample(session, cost=20, stock=0)
    with pytest.raises(OutOfStock), session.begin_nested():
        catalogue.redeem(session, user, item.id, HOME, key(), T0)
    session.expire_all()
    assert points.balance(session, user) == 40


def test_inactive_or_missing_samples_and_staff_are_refused(session, make_family):
    user, _ = make_family()
    earn(session, user, 40)
    hidden = sample(session, active=False)
    for item_id in (hidden.id, 10**9):
        with pytest.raises(NotFound):
            catalogue.redeem(session, user, item_id, HOME, key(), T0)
    with pytest.raises(PermissionDenied):
        catalogue.redeem(session, make_staff(session, "service"), sample(session).id, HOME,
                         key(), T0)
    with pytest.raises(ValidationError):  # a key not made by the confirm page
        catalogue.redeem(session, user, sample(session).id, HOME, "x", T0)


@pytest.mark.parametrize(("field", "value"), [
    ("phone", "call me"), ("phone", "12"), ("recipient", ""), ("recipient", "x" * 41),
    ("address", "a\x00b"), ("city", "Shang\nhai"), ("postcode", "<script>"),
    ("province", " "),
])
def test_the_address_is_checked(field, value):
    with pytest.raises(ValidationError) as raised:
        catalogue.clean_address(Address(**{**HOME.__dict__, field: value}))
    assert raised.value.field == field


def test_cancelling_refunds_once_and_puts_the_sample_back(session, make_family):
    user, _ = make_family()
    earn(session, user, 60)
    item = sample(session, cost=50, stock=1)
    made = catalogue.redeem(session, user, item.id, HOME, key(), T0)
    assert points.balance(session, user) == 10
    catalogue.cancel(session, made, T0 + timedelta(hours=1))
    assert made.status == "cancelled" and made.cancelled_at is not None
    with pytest.raises(Conflict):
        catalogue.cancel(session, made, T0 + timedelta(hours=2))
    assert points.balance(session, user) == 60 and points.ledger_sum(session, user) == 60
    assert session.get(RewardItem, item.id).stock == 1
    assert [(r.rule, r.points) for r in session.scalars(select(PointsEntry).where(
        PointsEntry.ref == f"redemption:{made.id}").order_by(PointsEntry.id))] == \
        [("redeem", -50), ("refund", 50)]


def test_a_sent_sample_cannot_be_cancelled_or_sent_twice(session, make_family):
    user, _ = make_family()
    earn(session, user, 40)
    made = catalogue.redeem(session, user, sample(session).id, HOME, key(), T0)
    agent = make_staff(session, "service")
    catalogue.mark_sent(session, made.id, agent, T0)
    assert (made.status, made.handled_by_id) == ("sent", agent.id)
    for act in (lambda: catalogue.mark_sent(session, made.id, agent, T0),
                lambda: catalogue.cancel(session, made, T0)):
        with pytest.raises(Conflict):
            act()
    assert points.balance(session, user) == 10


def test_the_parent_is_told_in_their_inbox_once_the_sample_is_sent(session, make_family):
    """The redemption page promises word when it is sent: one inbox message, in the parent's
    language, with the day in their zone (Shanghai: 02:00 UTC on 23 Nov is still the 23rd;
    23:30 UTC is already the next day), and never a second one."""
    user, _ = make_family()
    chinese, _ = make_family()
    chinese.locale = "zh_CN"
    earn(session, user, 40)
    earn(session, chinese, 40)
    mine = catalogue.redeem(session, user, sample(session).id, HOME, key(), T0)
    theirs = catalogue.redeem(session, chinese, sample(session).id, HOME, key(),
                              T0)
    agent = make_staff(session, "service")
    catalogue.mark_sent(session, mine.id, agent, T0)
    catalogue.mark_sent(session, theirs.id, agent, T0.replace(hour=23, minute=30))
    with pytest.raises(Conflict):
        catalogue.mark_sent(session, mine.id, agent, T0 + timedelta(hours=1))
    notices = session.execute(select(InboxMessage.user_id, InboxMessage.title,
                                     InboxMessage.body).order_by(InboxMessage.id)).all()
    assert notices == [
        (user.id, "Your sample is on its way",
         "We sent Nappy sample on Nov 23, 2026 to Shanghai. Enjoy it!"),
        (chinese.id, "您的试用装已寄出", "我们已于 2026年11月24日将纸尿裤试用装寄往 Shanghai，请注意查收！")]
    assert inbox.unread_count(session, user, now=T0) == 1


def test_a_shipping_address_is_blanked_30_days_after_sending_or_cancelling(session,
                                                                          make_family):
    """Sent 30 days ago to the second: kept; a second more: blanked; cancelled 31 days ago:
    blanked; still waiting for 40 days: kept (the parcel has not gone); blanked once."""
    user, _ = make_family()
    agent = make_staff(session, "service")
    earn(session, user, 200)
    made = [catalogue.redeem(session, user, sample(session).id, HOME, key(), T0)
            for _ in range(4)]
    edge, late, cancelled, waiting = made
    catalogue.mark_sent(session, edge.id, agent, T0)
    catalogue.mark_sent(session, late.id, agent, T0 - timedelta(seconds=1))
    catalogue.cancel(session, cancelled, T0 - timedelta(days=1))
    now = T0 + timedelta(days=30)
    assert catalogue.erase_old_addresses(session, now) == 2
    session.expire_all()
    assert [(r.recipient, r.phone, r.address, r.postcode, r.address_erased_at)
            for r in (late, cancelled)] == [("", "", "", "", now)] * 2
    assert [(r.recipient, r.city, r.address_erased_at) for r in (edge, waiting)] == [
        ("Li Na", "Shanghai", None)] * 2
    assert catalogue.erase_old_addresses(session, now) == 0  # once
    assert catalogue.erase_old_addresses(session, now + timedelta(seconds=1)) == 1  # edge
    assert waiting.recipient == "Li Na" and waiting.status == "requested"


def test_someone_elses_redemption_is_not_found(session, make_family):
    user, _ = make_family()
    other, _ = make_family()
    earn(session, user, 40)
    made = catalogue.redeem(session, user, sample(session).id, HOME, key(), T0)
    assert catalogue.redemption_of(session, user, made.id).id == made.id
    with pytest.raises(NotFound):
        catalogue.redemption_of(session, other, made.id)


@pytest.mark.parametrize(("changes", "field"), [
    ({"cost": -5}, "cost"), ({"cost": 0}, "cost"), ({"cost": 10**12}, "cost"),
    ({"cost": None}, "cost"), ({"stock": -1}, "stock"), ({"stock": 2**63}, "stock"),
    ({"name_en": ""}, "name_en"), ({"name_zh": "x" * 81}, "name_zh"),
    ({"name_en": "a\x07b"}, "name_en"), ({"description_en": "x" * 601}, "description_en"),
])
def test_hostile_catalogue_values_are_refused(session, changes, field):
    good = dict(name_en="Wipes", name_zh="湿巾", description_en="", description_zh="",
                cost=10, stock=3, active=True)
    with pytest.raises(ValidationError) as raised:
        catalogue.create_item(session, ItemInput(**{**good, **changes}))
    assert raised.value.field == field


# --- the race for the last sample (real transactions in threads, own database) ---------------

def _parent(session, n):
    done = registration.register(session, registration.Registration(
        email=f"racer{n}@example.com", password=PASSWORD,
        profile=accounts.Profile(display_name=f"Racer {n}", timezone="Asia/Shanghai"),
        relationship="mother", child_data_consent=True, digest_opt_in=False,
        marketing_opt_in=False, child=ChildDetails(name="Mia", birth_date=T0.date()
                                                   - timedelta(days=100), sex="female")),
        "test")
    return done.user


def test_two_parents_taking_the_last_sample_at_once_one_gets_it(tmp_path):
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    try:
        with factory() as s, s.begin():
            racers = [_parent(s, n) for n in range(2)]
            for user in racers:
                earn(s, user, 40)
            item_id = sample(s, cost=30, stock=1).id
            ids = [u.id for u in racers]
        won, lost = [], []

        def take(user_id: int) -> None:
            with factory() as s:
                try:
                    with s.begin():
                        user = s.get(accounts.User, user_id)
                        won.append(catalogue.redeem(s, user, item_id, HOME, key(), T0).id)
                except OutOfStock:
                    lost.append(user_id)

        queue = list(ids)
        assert run_at_once(lambda: take(queue.pop()), 2) == []
        assert len(won) == 1 and len(lost) == 1
        with factory() as s:
            assert s.get(RewardItem, item_id).stock == 0
            assert s.scalar(select(Redemption.user_id)) not in lost
            balances = sorted(points.balance(s, s.get(accounts.User, i)) for i in ids)
            assert balances == [10, 40]
    finally:
        engine.dispose()
        drop()


def test_two_presses_of_confirm_at_once_redeem_once(tmp_path):
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    try:
        with factory() as s, s.begin():
            user_id = _parent(s, 0).id
            earn(s, s.get(accounts.User, user_id), 60)
            item_id = sample(s, cost=30, stock=5).id
        once, made = key(), []

        def press() -> None:
            with factory() as s, s.begin():
                made.append(catalogue.redeem(s, s.get(accounts.User, user_id), item_id, HOME,
                                             once, T0).id)

        assert run_at_once(press, 2) == []
        assert len(set(made)) == 1
        with factory() as s:
            assert points.balance(s, s.get(accounts.User, user_id)) == 30
            assert s.get(RewardItem, item_id).stock == 4
    finally:
        engine.dispose()
        drop()
