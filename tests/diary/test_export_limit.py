"""The daily export limit holds across workers: counting locks the person's row."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import OperationalError

import db
from diary import accounts, privacy
from diary.models import DataExport, User
from tests.conftest import PASSWORD, migrated_database_url

NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


@pytest.fixture()
def committed(tmp_path):
    """A real database whose transactions commit (two workers need two connections)."""
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    yield engine, db.make_session_factory(engine)
    engine.dispose()
    drop()


def _person_with_exports(factory, count):
    with factory() as s, s.begin():
        user = accounts.create_user(s, "mum@example.com", PASSWORD,
                                    accounts.Profile(display_name="Mum"))
        s.flush()
        s.add_all([DataExport(user_id=user.id, created_at=NOW - timedelta(hours=i + 1))
                   for i in range(count)])
        return user.id


def test_a_second_worker_waits_for_the_first_ones_claim(committed):
    engine, factory = committed
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite lets one writer at a time in: there is nothing to race")
    user_id = _person_with_exports(factory, privacy.EXPORT_LIMIT - 1)
    first, second = factory(), factory()
    try:
        privacy.claim_export(first, first.get(User, user_id), NOW)  # the last one, not committed
        second.execute(text("SET LOCAL lock_timeout = '100ms'"))
        with pytest.raises(OperationalError, match="lock"):  # it must wait: it cannot count yet
            privacy.claim_export(second, second.get(User, user_id), NOW)
        second.rollback()
        first.commit()
        with pytest.raises(privacy.ExportLimitReached) as refused:
            privacy.claim_export(second, second.get(User, user_id), NOW)
        assert refused.value.next_at == NOW - timedelta(hours=2) + privacy.EXPORT_WINDOW
    finally:
        first.close()
        second.close()


def test_the_window_slides(committed):
    _, factory = committed
    user_id = _person_with_exports(factory, privacy.EXPORT_LIMIT)
    with factory() as s, s.begin():
        with pytest.raises(privacy.ExportLimitReached) as refused:
            privacy.claim_export(s, s.get(User, user_id), NOW)
    oldest = NOW - timedelta(hours=privacy.EXPORT_LIMIT)
    assert refused.value.next_at == oldest + privacy.EXPORT_WINDOW
    with factory() as s, s.begin():
        privacy.claim_export(s, s.get(User, user_id), refused.value.next_at)  # just allowed
