"""The interaction log writes each real event once: retries, reloads and duplicates in one
batch are counted once; bad kinds and surfaces never reach the table."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from content.models import ContentItem
from recommender import log
from recommender.models import Interaction


@pytest.fixture
def product(session):
    item = ContentItem(kind="product", key="nappies-2", window_unit="month", window_from=2,
                       window_to=6)
    session.add(item)
    session.flush()
    return item


def _event(product, key, **extra):
    return log.Event(kind="click", item_id=product.id, surface="child_page",
                     idempotency_key=key, **extra)


def test_a_key_is_logged_once(session, make_family, product):
    user, _ = make_family()
    at = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
    first = _event(product, log.key_for("req-1", 0), user_id=user.id, stage="m3",
                   position=0, occurred_at=at)
    assert log.record(session, first) is True
    assert log.record(session, first) is False  # a retry
    assert log.record_many(session, [_event(product, "k2"), _event(product, "k2"),
                                     _event(product, log.key_for("req-1", 0))]) == 1
    rows = session.scalars(select(Interaction).order_by(Interaction.id)).all()
    assert [(r.idempotency_key, r.user_id, r.stage, r.position, r.occurred_at) for r in rows] \
        == [(log.key_for("req-1", 0), user.id, "m3", 0, at), ("k2", None, None, None,
                                                               rows[1].occurred_at)]


def test_bad_events_are_refused_before_writing(session, product):
    for bad in (dict(kind="like"), dict(surface="tv"), dict(idempotency_key=""),
                dict(idempotency_key="x" * 65)):
        fields = dict(kind="click", item_id=product.id, surface="email",
                      idempotency_key="k") | bad
        with pytest.raises(ValueError):
            log.Event(**fields)
    assert session.scalar(select(func.count()).select_from(Interaction)) == 0
