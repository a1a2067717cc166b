"""One customer's whole story (crm.customer): profile, consents, families, children and
their stages, journeys, activity without impressions, orders with totals, and the value
tier, CLV and churn risk from the nightly scores when there are any."""
from __future__ import annotations

from datetime import timedelta

import pytest

from clock import utcnow
from crm import customer
from crm.models import CustomerScore
from diary import accounts, invitations
from diary.errors import NotFound
from diary.models import Consent
from journeys import defaults
from journeys import engine as journeys
from recommender import log
from tests.web.test_studio import make_item, make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def test_profile_consents_families_children_stages_and_journeys(session, make_family):
    parent, child = make_family(email="mum@example.com", name="Mia")
    partner, _ = make_family(email="dad@example.com")
    invitation = invitations.invite(session, child.family, parent, partner.email, "editor",
                                    "father")
    invitations.accept(session, invitation, partner)
    accounts.record_consent(session, parent, Consent.MARKETING, True, "account", "2026-11")
    defaults.ensure_default_journey(session)
    journeys.enrol(session, child)
    session.commit()
    seen = customer.customer(session, parent.id)
    assert seen.user.id == parent.id
    assert seen.consents[Consent.MARKETING].granted is True
    assert seen.consents[Consent.CHILD_DATA].granted is True
    assert [c.kind for c in seen.consent_history][0] == Consent.MARKETING  # newest first
    assert [(f.family.id, f.membership.role, [o.user.id for o in f.others])
            for f in seen.families] == [(child.family_id, "owner", [partner.id])]
    [line] = seen.children
    assert (line.child.id, line.stage.key) == (child.id, "month:3")  # 100 days old
    assert [(e.journey.is_default, e.stage is not None) for e in line.enrolments] == \
        [(True, True)]
    assert seen.score is None and seen.churn_risk is None and seen.merges == []


def test_scores_give_tier_clv_and_churn_risk(session, make_family):
    parent, _ = make_family()
    session.add(CustomerScore(user_id=parent.id, computed_at=utcnow(), frequency=3,
                              monetary_minor=30000, tier="high", value_group="most_valuable",
                              p_alive=0.25, clv_minor=52000))
    session.commit()
    seen = customer.customer(session, parent.id)
    assert (seen.score.tier, seen.score.clv_minor, seen.churn_risk) == ("high", 52000, 0.75)


def test_someone_who_never_bought_has_no_churn_risk_from_the_purchase_model(session,
                                                                            make_family):
    parent, _ = make_family()  # the nightly scores give a non-buyer P(alive) 0
    session.add(CustomerScore(user_id=parent.id, computed_at=utcnow(), frequency=0,
                              monetary_minor=0, tier="low", value_group="new",
                              p_alive=0.0, clv_minor=0))
    session.commit()
    seen = customer.customer(session, parent.id)
    assert seen.score is not None and seen.churn_risk is None


def test_staff_and_unknown_ids_are_not_customers(session):
    staff = make_staff(session, "service")
    for user_id in (staff.id, 2**31 - 1):
        with pytest.raises(NotFound):
            customer.customer(session, user_id)


def test_activity_leaves_out_impressions_and_orders_add_up(session, make_family):
    parent, child = make_family()
    item = make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S",
                     unit="month", low=3, high=6, category="nappies", price_minor=8900,
                     currency="CNY")
    now = utcnow()
    events = [log.Event(kind="impression", item_id=item.id, surface="child_page",
                        idempotency_key=f"i{n}", user_id=parent.id, child_id=child.id,
                        occurred_at=now - timedelta(hours=n)) for n in range(5)]
    events += [log.Event(kind="click", item_id=item.id, surface="child_page",
                         idempotency_key="c1", user_id=parent.id, child_id=child.id,
                         occurred_at=now - timedelta(hours=1))]
    events += [log.Event(kind="purchase", item_id=item.id, surface="shop",
                         idempotency_key=f"p{n}", user_id=parent.id, quantity=1,
                         amount_minor=8900 + n, currency="CNY", order_ref=f"SO-{n}",
                         occurred_at=now - timedelta(days=n + 1)) for n in range(3)]
    log.record_many(session, events)
    session.commit()
    seen = customer.activity(session, parent)
    assert [(a.interaction.kind, a.title) for a in seen.items] == [("click", "Nappies S")]
    assert seen.items[0].child.id == child.id
    bought = customer.orders(session, parent, per_page=2)
    assert (bought.spent, bought.lines, bought.page.pages) == ({"CNY": 26703}, 3, 2)
    assert [o.interaction.order_ref for o in bought.page.items] == ["SO-0", "SO-1"]
    assert bought.first == now - timedelta(days=3) and bought.last == now - timedelta(days=1)
    assert customer.orders(session, parent, page=2, per_page=2).page.items[0] \
        .interaction.order_ref == "SO-2"
