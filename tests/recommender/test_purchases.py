"""Shop order lines become purchases: validated, matched by member number or email (any
case), once per order line id from either door; unmatched lines are kept, reported and
matched again later; integration keys are stored only as hashes."""
from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from diary import families, integration_keys
from diary.errors import Conflict, NotFound
from recommender import purchases
from recommender.errors import InvalidOrderLine
from recommender.models import Interaction, ShopIntegration, UnmatchedOrderLine
from tests.conftest import local_today
from tests.web.test_studio import make_item

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")

ORDERED = "2026-11-20T10:30:00+08:00"


@pytest.fixture
def nappies(session):
    return make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S",
                     unit="month", low=3, high=6, category="nappies", price_minor=8900,
                     currency="CNY")


def line(**extra):
    raw = {"order_line_id": "L-1", "ordered_at": ORDERED, "email": "mum@example.com",
           "sku": "BJ-NAPPY-S", "quantity": 2, "amount_minor": 17800, "currency": "CNY"}
    return {k: v for k, v in (raw | extra).items() if v is not None}


def purchases_of(session):
    session.expire_all()
    return session.execute(select(
        Interaction.kind, Interaction.item_id, Interaction.user_id, Interaction.child_id,
        Interaction.stage, Interaction.surface, Interaction.quantity, Interaction.amount_minor,
        Interaction.currency, Interaction.occurred_at).order_by(Interaction.id)).all()


def kept(session):
    session.expire_all()
    return session.execute(select(UnmatchedOrderLine.order_line_id, UnmatchedOrderLine.reason,
                                  UnmatchedOrderLine.source)
                           .order_by(UnmatchedOrderLine.id)).all()


def test_a_line_is_read_into_utc_with_its_customer_keys_normalised():
    parsed = purchases.parse_line(line(email=" Mum@Example.COM ", member_no="bj00000042",
                                       quantity="3", amount_minor="26700"))
    assert parsed == purchases.OrderLine(
        order_line_id="L-1", ordered_at=datetime(2026, 11, 20, 2, 30, tzinfo=UTC),
        sku="BJ-NAPPY-S", quantity=3, amount_minor=26700, currency="CNY",
        email="mum@example.com", member_no="BJ00000042")


@pytest.mark.parametrize(("change", "reason"), [
    ({"order_line_id": ""}, "order_line_id must be 1 to 64 characters without spaces."),
    ({"order_line_id": "L 1"}, "order_line_id must be 1 to 64 characters without spaces."),
    ({"order_line_id": "x" * 65}, "order_line_id must be 1 to 64 characters without spaces."),
    ({"order_line_id": ["L-1"]}, "order_line_id must be text."),
    ({"ordered_at": "yesterday"}, "ordered_at must be a date and time in ISO 8601, with its "
     "time zone (e.g. 2026-12-01T09:30:00+08:00)."),
    ({"ordered_at": "2026-11-20T10:30:00"},
     "ordered_at must say its time zone (e.g. +08:00 or Z)."),
    ({"ordered_at": "2027-01-01T00:00:00Z"}, "ordered_at must not be in the future."),
    ({"email": None}, "An order line needs an email or a member number."),
    ({"email": "=HYPERLINK(\"http://evil\")"}, "email is not an email address."),
    ({"email": None, "member_no": "BJ 1; DROP"},
     "member_no must be letters, digits and -, at most 32."),
    ({"sku": "../etc/passwd"}, "sku must be a product key (letters, digits, . _ -)."),
    ({"quantity": 0}, "quantity must be a whole number from 1 to 10000."),
    ({"quantity": -2}, "quantity must be a whole number from 1 to 10000."),
    ({"quantity": "1.5"}, "quantity must be a whole number from 1 to 10000."),
    ({"quantity": True}, "quantity must be a whole number from 1 to 10000."),
    ({"amount_minor": 10**13}, "amount_minor must be a whole number from 0 to 1000000000000."),
    ({"amount_minor": "٣"}, "amount_minor must be a whole number from 0 to 1000000000000."),
    ({"currency": "yuan"}, "Use a three-letter currency code such as CNY."),
    ({"price": 1}, "Unknown field price."),
])
def test_each_bad_line_is_refused_with_its_reason(change, reason):
    with pytest.raises(InvalidOrderLine) as refused:
        purchases.parse_line(line(**change))
    assert str(refused.value) == reason


def test_a_line_is_one_purchase_for_the_child_it_fits_however_often_it_comes(
        session, make_family, nappies):
    user, child = make_family(email="mum@example.com")  # born 100 days ago: month 3
    lines = [purchases.parse_line(line(email="MUM@example.com"))]
    report = purchases.record_lines(session, lines, "csv")
    assert report.counts() == {"received": 1, "recorded": 1, "duplicates": 0, "unmatched": 0,
                               "invalid": 0}
    again = purchases.record_lines(session, lines + lines, "api:shop")  # resent, twice
    assert again.counts() == {"received": 2, "recorded": 0, "duplicates": 2, "unmatched": 0,
                              "invalid": 0}
    assert purchases_of(session) == [
        ("purchase", nappies.id, user.id, child.id, "month:3", "shop", 2, 17800, "CNY",
         datetime(2026, 11, 20, 2, 30, tzinfo=UTC))]


def test_the_member_number_is_matched_before_the_email(session, make_family, nappies):
    mum, _ = make_family(email="mum@example.com")
    dad, _ = make_family(email="dad@example.com")
    lines = [purchases.parse_line(line(order_line_id="L-1", member_no=dad.member_no.lower())),
             purchases.parse_line(line(order_line_id="L-2", member_no="BJ99999999")),
             purchases.parse_line(line(order_line_id="L-3", email=None,
                                       member_no=mum.member_no))]
    assert purchases.record_lines(session, lines, "csv").recorded == 3
    assert [p.user_id for p in purchases_of(session)] == [dad.id, mum.id, mum.id]


def test_the_child_is_the_one_whose_stage_fits_else_the_only_one(session, make_family,
                                                                 nappies):
    from diary.models import Membership
    user, older = make_family(email="mum@example.com")
    family = session.scalar(select(Membership).where(Membership.user_id == user.id)).family
    bump = families.add_child(session, family, families.ChildDetails(
        name="Bump", due_date=local_today() + timedelta(days=140)))  # pregnancy week 20
    session.commit()
    belt = make_item(session, kind="product", key="BJ-BELT", title="Belt",
                     unit="pregnancy_week", low=4, high=40, category="maternity",
                     price_minor=100, currency="CNY")
    toy = make_item(session, kind="product", key="BJ-TOY", title="Toy", unit="month",
                    low=30, high=36, category="toys", price_minor=100, currency="CNY")
    lines = [purchases.parse_line(line(order_line_id=f"L-{sku}", sku=sku))
             for sku in ("BJ-NAPPY-S", "BJ-BELT", "BJ-TOY")]
    purchases.record_lines(session, lines, "csv")
    assert [(p.item_id, p.child_id) for p in purchases_of(session)] == [
        (nappies.id, older.id), (belt.id, bump.id), (toy.id, None)]  # two children, no fit


def test_unmatched_lines_are_kept_reported_and_matched_later(session, make_family, nappies):
    lines = [purchases.parse_line(line(order_line_id="L-1", email="later@example.com")),
             purchases.parse_line(line(order_line_id="L-2", email="later@example.com",
                                       sku="BJ-NEW")),
             purchases.parse_line(line(order_line_id="L-3", email="never@example.com"))]
    report = purchases.record_lines(session, lines, "api:shop")
    assert report.counts()["unmatched"] == 3 and report.recorded == 0
    assert [(u.order_line_id, u.reason) for u in report.unmatched] == [
        ("L-1", "customer"), ("L-2", "customer"), ("L-3", "customer")]
    assert purchases.record_lines(session, lines, "csv").counts()["unmatched"] == 3
    assert kept(session) == [("L-1", "customer", "csv"), ("L-2", "customer", "csv"),
                             ("L-3", "customer", "csv")]  # one row each, not two
    user, _ = make_family(email="later@example.com")  # registers later
    report = purchases.rematch(session)
    assert (report.received, report.recorded) == (3, 1)
    assert [(u.order_line_id, u.reason) for u in report.unmatched] == [
        ("L-2", "product"), ("L-3", "customer")]
    make_item(session, kind="product", key="BJ-NEW", title="New", unit="month", low=3,
              high=6, category="bath", price_minor=100, currency="CNY")
    assert purchases.rematch(session).recorded == 1
    assert kept(session) == [("L-3", "customer", "csv")]
    assert [p.user_id for p in purchases_of(session)] == [user.id, user.id]


def test_a_line_recorded_before_is_never_kept_as_unmatched(session, make_family, nappies):
    """The customer deleted their account since: the shop re-sending the line must not
    bring their email back into the unmatched table."""
    user, _ = make_family(email="gone@example.com")
    lines = [purchases.parse_line(line(email="gone@example.com"))]
    purchases.record_lines(session, lines, "csv")
    session.delete(user)
    session.commit()
    report = purchases.record_lines(session, lines, "csv")
    assert report.counts() == {"received": 1, "recorded": 0, "duplicates": 1, "unmatched": 0,
                               "invalid": 0}
    assert kept(session) == [] and purchases_of(session) == []  # gone with the account


def test_csv_files_are_read_with_a_bom_and_empty_cells_as_absent():
    text = ("\ufefforder_line_id,ordered_at,email,member_no,sku,quantity,amount_minor,"
            "currency\nL-1,2026-11-20T10:30:00+08:00,mum@example.com,,BJ-NAPPY-S,2,17800,"
            "CNY\nL-2,bad,,,BJ-NAPPY-S,1,1,CNY\nL-3,2026-11-20T10:30:00Z,a@b.cn,,X,1,1,CNY,extra\n")
    lines, problems = purchases.parse_lines(purchases.read_csv(io.StringIO(text)))
    assert [ln.order_line_id for ln in lines] == ["L-1"] and lines[0].member_no is None
    assert [(p.number, p.order_line_id, str(p.error)) for p in problems] == [
        (3, "L-2", "An order line needs an email or a member number."),
        (4, "L-3", "Unknown field (extra cells).")]


@pytest.mark.parametrize(("header", "reason"), [
    ("order_line_id,email,sku,quantity,amount_minor,currency", "The file has no column "
                                                               "ordered_at."),
    ("order_line_id,ordered_at,sku,quantity,amount_minor,currency",
     "The file needs an email or a member_no column."),
    ("order_line_id,ordered_at,email,sku,quantity,amount_minor,currency,=cmd()",
     "Unknown column =cmd()."),
])
def test_a_file_with_the_wrong_columns_is_refused_whole(header, reason):
    with pytest.raises(InvalidOrderLine) as refused:
        list(purchases.read_csv(io.StringIO(header + "\n")))
    assert str(refused.value) == reason


def test_integration_keys_are_shown_once_and_stored_as_hashes(session):
    integration, key = purchases.create_integration(session, "Tmall shop")
    assert key.startswith("bjshop_") and len(key) > 40
    assert integration.key_hash == integration_keys.hash_key(key) and key not in (
        integration.key_hash, integration.key_prefix)
    assert purchases.integration_for_key(session, key) is integration
    assert integration.last_used_at is not None
    for wrong in ("", key[:-1], key + "x", "bjshop_" + "a" * 200, integration.key_hash):
        assert purchases.integration_for_key(session, wrong) is None
    with pytest.raises(Conflict):
        purchases.create_integration(session, "Tmall shop")
    purchases.revoke_integration(session, "Tmall shop")
    assert purchases.integration_for_key(session, key) is None
    with pytest.raises(NotFound):
        purchases.revoke_integration(session, "Tmall shop")
    assert session.scalar(select(func.count()).select_from(ShopIntegration)) == 1
