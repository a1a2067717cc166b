"""Helpers of the family endpoints' tests: their fixed day, the one error shape, inbox
messages. The fixtures (parent, tokens, viewer, stranger) are in tests/api/conftest.py."""
from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

from journeys.models import Delivery, InboxMessage

#: The day the tests run (the module's clock_at) in the family's zone (Asia/Shanghai).
TODAY = date(2026, 11, 23)
CLOCK = "2026-11-23T04:00"  # noon in Shanghai


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
