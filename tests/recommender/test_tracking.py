"""Site events become interactions only as the server understands them: shapes checked,
the child in the person's families, the item live, the stage computed here, keys derived
here (so replays count once)."""
from __future__ import annotations

import pytest
from sqlalchemy import func, select

from diary import invitations
from diary.errors import NotFound
from recommender import log, tracking
from recommender.errors import InvalidInteraction
from recommender.models import Interaction
from tests.web.test_studio import make_item

REQUEST = "a" * 32


@pytest.fixture
def products(session):
    return [make_item(session, kind="product", key=f"BJ-T-{n}", title=f"Thing {n}",
                      unit="month", low=3, high=24, price_minor=990, currency="CNY", category="bath")
            for n in range(2)]


def event(item, **extra):
    return {"kind": "impression", "item_id": item.id, "surface": "child_page",
            "request_id": REQUEST, "position": 0, "model_version": "library"} | extra


def rows(session):
    return session.execute(select(
        Interaction.kind, Interaction.item_id, Interaction.user_id, Interaction.child_id,
        Interaction.stage, Interaction.surface, Interaction.position, Interaction.model_version,
        Interaction.request_id).order_by(Interaction.id)).all()


HOSTILE = [
    (None, "Send a JSON object with a list of events."),
    ([], "Send a JSON object with a list of events."),
    ({"events": "x"}, "Send a JSON object with a list of events."),
    ({"events": []}, "Send from 1 to 50 events at a time."),
    ({"events": [{}] * 51}, "Send from 1 to 50 events at a time."),
    ({"events": ["impression"]}, "Event 1: it is not a JSON object."),
    ({"events": [{"kind": "purchase"}]},
     "Event 1: the kind must be impression, click, save, dismiss or add_to_cart."),
]


@pytest.mark.parametrize(("payload", "reason"), HOSTILE)
def test_malformed_batches_are_refused_with_the_reason(payload, reason):
    with pytest.raises(InvalidInteraction) as refused:
        tracking.parse_events(payload)
    assert str(refused.value) == reason


@pytest.mark.parametrize(("change", "reason"), [
    ({"kind": "purchase"}, "the kind must be impression, click, save, dismiss or add_to_cart"),
    ({"item_id": "12"}, "the item id must be a positive whole number"),
    ({"item_id": True}, "the item id must be a positive whole number"),
    ({"item_id": 2**31}, "the item id must be a positive whole number"),
    ({"item_id": 0}, "the item id must be a positive whole number"),
    ({"surface": "email"}, "the surface must be child_page, product_list, article or inbox"),
    ({"surface": "shop"}, "the surface must be child_page, product_list, article or inbox"),
    ({"request_id": "short"}, "the request id must be 8 to 32 letters, digits, - or _"),
    ({"request_id": "x" * 33}, "the request id must be 8 to 32 letters, digits, - or _"),
    ({"request_id": "a' OR 1=1 --"}, "the request id must be 8 to 32 letters, digits, - or _"),
    ({"position": -1}, "the position must be a whole number from 0 to 999"),
    ({"position": 1.5}, "the position must be a whole number from 0 to 999"),
    ({"position": 10**6}, "the position must be a whole number from 0 to 999"),
    ({"model_version": "<script>"},
     "the model version must be up to 40 letters, digits or . _ : + -"),
    ({"model_version": "v" * 41},
     "the model version must be up to 40 letters, digits or . _ : + -"),
    ({"child_id": "1"}, "the child id must be a positive whole number"),
    ({"child_id": -3}, "the child id must be a positive whole number"),
    ({"user_id": 1}, "it has a field we do not know"),  # the person is never the sender's say
    ({"stage": "month:3"}, "it has a field we do not know"),
])
def test_each_bad_field_is_named(products, change, reason):
    good = event(products[0])
    with pytest.raises(InvalidInteraction) as refused:
        tracking.parse_events({"events": [good, good | change]})
    assert str(refused.value) == f"Event 2: {reason}."


def test_events_are_logged_with_the_childs_stage_once_per_list_item_kind_and_person(
        session, make_family, products):
    user, child = make_family()  # born 100 days ago: month 3
    thing, other = products
    batch = tracking.parse_events({"events": [
        event(thing, child_id=child.id), event(other, position=1, child_id=child.id),
        event(thing, kind="click", child_id=child.id)]})
    assert tracking.log_events(session, user, batch) == 3
    assert tracking.log_events(session, user, batch) == 0  # a retried batch
    again = tracking.parse_events({"events": [event(thing, position=5)]})  # same list
    assert tracking.log_events(session, user, again) == 0
    other_list = tracking.parse_events({"events": [event(thing, request_id="b" * 32)]})
    assert tracking.log_events(session, user, other_list) == 1  # a reload is a new list
    assert rows(session) == [
        ("impression", thing.id, user.id, child.id, "month:3", "child_page", 0, "library",
         REQUEST),
        ("impression", other.id, user.id, child.id, "month:3", "child_page", 1, "library",
         REQUEST),
        ("click", thing.id, user.id, child.id, "month:3", "child_page", 0, "library",
         REQUEST),
        ("impression", thing.id, user.id, None, None, "child_page", 0, "library", "b" * 32)]


def test_the_same_list_counts_for_each_person_separately(session, make_family, products):
    first, _ = make_family()
    second, _ = make_family()
    batch = tracking.parse_events({"events": [event(products[0])]})
    assert tracking.log_events(session, first, batch) == 1
    assert tracking.log_events(session, second, batch) == 1


def test_another_familys_child_is_not_found_and_nothing_is_logged(session, make_family,
                                                                  products):
    user, _ = make_family()
    _, stranger = make_family()
    batch = tracking.parse_events({"events": [event(products[0]),
                                              event(products[1], child_id=stranger.id)]})
    with pytest.raises(NotFound) as refused:
        tracking.log_events(session, user, batch)
    assert str(refused.value) == "That child is not in your families."
    missing = tracking.parse_events({"events": [event(products[0], child_id=2**31 - 1)]})
    with pytest.raises(NotFound):
        tracking.log_events(session, user, missing)
    assert session.scalar(select(func.count()).select_from(Interaction)) == 0


def test_a_viewer_logs_what_they_saw_of_the_family_child(session, make_family, products):
    owner, child = make_family()
    viewer, _ = make_family()
    invitation = invitations.invite(session, child.family, owner, viewer.email, "viewer",
                                    "grandparent")
    invitations.accept(session, invitation, viewer)
    session.commit()
    batch = tracking.parse_events({"events": [event(products[0], child_id=child.id)]})
    assert tracking.log_events(session, viewer, batch) == 1
    assert [(r.user_id, r.child_id) for r in rows(session)] == [(viewer.id, child.id)]


def test_only_live_products_and_articles_can_be_logged(session, make_family, products):
    user, _ = make_family()
    draft = make_item(session, kind="product", key="BJ-DRAFT", title="Draft", unit="month",
                      low=3, high=24, price_minor=1, currency="CNY", category="bath",
                      publish=False)
    reminder = make_item(session, kind="reminder", key="check-up", title="Check-up",
                         unit="month", low=3, high=24, category="checkup")
    for item in (draft, reminder):
        with pytest.raises(NotFound) as refused:
            tracking.log_events(session, user, tracking.parse_events(
                {"events": [event(products[0]), event(item)]}))
        assert str(refused.value) == "That item does not exist."
    article = make_item(session, kind="article", key="sleep", title="Sleep", unit="month",
                        low=3, high=24)
    assert tracking.log_events(session, user, tracking.parse_events(
        {"events": [event(article, surface="article")]})) == 1


def test_an_email_click_on_a_product_is_logged_once_with_the_child(session, make_family,
                                                                   products):
    user, child = make_family()
    _, stranger = make_family()
    from clock import utcnow
    now = utcnow()
    assert tracking.record_email_click(session, user, "BJ-T-1", "link-1", now, child.id, 2)
    assert not tracking.record_email_click(session, user, "BJ-T-1", "link-1", now, child.id,
                                           2)
    # a child that is not (or no longer) theirs is left out; an unknown product logs nothing
    assert tracking.record_email_click(session, user, "BJ-T-0", "link-2", now, stranger.id)
    assert not tracking.record_email_click(session, user, "NO-SUCH", "link-3", now)
    assert [(r.kind, r.item_id, r.child_id, r.stage, r.surface, r.position)
            for r in rows(session)] == [
        ("click", products[1].id, child.id, "month:3", "email", 2),
        ("click", products[0].id, None, None, "email", None)]
    assert session.scalar(select(Interaction.idempotency_key).limit(1)) == \
        log.key_for("email", "link-1")
