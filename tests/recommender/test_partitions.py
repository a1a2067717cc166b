"""The interaction log is partitioned by month on PostgreSQL: rows land in their month's
partition, the DEFAULT partition catches what no month holds (no insert ever fails), and a
month made later takes its rows out of the DEFAULT partition. SQLite keeps one plain table."""
from __future__ import annotations

from datetime import UTC, date, datetime

import pytest
from sqlalchemy import func, select, text

from content.models import ContentItem
from recommender import log, partitions
from recommender.models import Interaction


@pytest.fixture
def product(session):
    item = ContentItem(kind="product", key="wipes-1", window_unit="month", window_from=0,
                       window_to=36)
    session.add(item)
    session.flush()
    return item


def _at(session, product, *instants):
    return log.record_many(session, [
        log.Event(kind="impression", item_id=product.id, surface="child_page",
                  idempotency_key=f"k-{at.isoformat()}", occurred_at=at) for at in instants])


def _where(session):
    """Partition name → the rows' times it holds."""
    rows = session.execute(text(
        "SELECT tableoid::regclass::text, occurred_at FROM interactions ORDER BY occurred_at"))
    found: dict[str, list[datetime]] = {}
    for name, at in rows:
        found.setdefault(name, []).append(at.astimezone(UTC))
    return found


def _needs_postgres(session):
    if session.get_bind().dialect.name != "postgresql":
        pytest.skip("partitions exist on PostgreSQL only")


def test_month_arithmetic():
    assert partitions.months(date(2026, 11, 23), date(2027, 2, 1)) == [
        date(2026, 11, 1), date(2026, 12, 1), date(2027, 1, 1), date(2027, 2, 1)]
    assert partitions.months(date(2026, 11, 23), date(2026, 10, 31)) == []
    assert partitions.add_months(date(2028, 2, 1), 11) == date(2029, 1, 1)
    assert partitions.add_months(date(2028, 12, 1), 1) == date(2029, 1, 1)
    assert partitions.partition_name(date(2027, 1, 1)) == "interactions_2027_01"


def test_sqlite_is_a_plain_table(session, product):
    if session.get_bind().dialect.name != "sqlite":
        pytest.skip("the SQLite case")
    assert partitions.ensure_months(session, through=date(2027, 3, 1)) == []
    assert partitions.existing(session) == []
    assert _at(session, product, datetime(2026, 12, 31, 23, 59, tzinfo=UTC)) == 1


def test_rows_land_in_their_month_and_the_default_catches_the_rest(session, product):
    _needs_postgres(session)
    made = partitions.ensure_months(session, through=date(2027, 1, 15),
                                    since=date(2026, 12, 5))
    assert made == ["interactions_2026_12", "interactions_2027_01"]
    assert partitions.ensure_months(session, through=date(2027, 1, 15),
                                    since=date(2026, 12, 5)) == []  # made once
    edges = (datetime(2026, 11, 30, 23, 59, 59, tzinfo=UTC),  # before: default
             datetime(2026, 12, 1, 0, 0, tzinfo=UTC),  # first instant of December
             # 07:30 on 1 January in Shanghai is still December in UTC
             datetime(2026, 12, 31, 23, 30, tzinfo=UTC),
             datetime(2027, 1, 31, 23, 59, 59, tzinfo=UTC),
             datetime(2027, 2, 1, 0, 0, tzinfo=UTC))  # after: default
    assert _at(session, product, *edges) == 5
    assert _where(session) == {
        "interactions_default": [edges[0], edges[4]],
        "interactions_2026_12": [edges[1], edges[2]],
        "interactions_2027_01": [edges[3]]}
    # The parent still reads them all, and a partition has the parent's keys and indexes.
    assert session.scalar(select(func.count()).select_from(Interaction)) == 5
    indexes = set(session.scalars(text(
        "SELECT indexname FROM pg_indexes WHERE tablename = 'interactions_2027_01'")))
    assert indexes == {f"interactions_2027_01_{suffix}" for suffix in (
        "pkey", "occurred_at_idx", "user_id_occurred_at_idx", "item_id_occurred_at_idx",
        # the partial indexes of what people did (not impressions), for serving
        "child_id_occurred_at_idx", "user_id_occurred_at_idx1",
        # purchases by the shop's order id, for customer service's look-up
        "order_ref_idx")}


def test_a_month_made_later_takes_its_rows_out_of_the_default(session, product):
    _needs_postgres(session)
    caught = (datetime(2027, 3, 2, tzinfo=UTC), datetime(2027, 3, 30, tzinfo=UTC),
              datetime(2027, 4, 1, tzinfo=UTC))
    _at(session, product, *caught)
    assert _where(session) == {"interactions_default": list(caught)}
    assert partitions.ensure_months(session, through=date(2027, 3, 1),
                                    since=date(2027, 3, 1)) == ["interactions_2027_03"]
    assert _where(session) == {"interactions_2027_03": list(caught[:2]),
                               "interactions_default": [caught[2]]}
    ids = session.scalars(select(Interaction.id).order_by(Interaction.occurred_at)).all()
    assert len(set(ids)) == 3  # moved, not copied


def test_ensure_ahead_makes_this_month_and_the_next_ones(session, product):
    _needs_postgres(session)
    made = partitions.ensure_ahead(session, 2, today=date(2028, 12, 31))
    assert made == ["interactions_2028_12", "interactions_2029_01", "interactions_2029_02"]
    assert set(made) <= set(partitions.existing(session))
