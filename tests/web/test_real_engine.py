"""A parent's flow on the engine production uses, not on the suite's joined test transaction.

The rest of the web suite runs every request inside the test's outer transaction (SAVEPOINTs),
so it never sees how the pages' own engine (webapp.database) begins and ends transactions: on
PostgreSQL it reads outside a transaction and begins one at the first statement that may
write or lock (db.read_only), and it pings a pooled connection only after it sat idle
(db.liveness). Here a parent reads, writes an entry with photos (the points ledger locks its
balance row), has a form refused, edits and deletes, on a database of this module's own
(a fresh SQLite file, or a fresh PostgreSQL database with TEST_DATABASE_URL), and every write
lands whole or not at all. On PostgreSQL the test also checks where the statements ran:
every statement of a page that only reads outside a transaction, every statement of a write
from its first INSERT on inside one."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import select

from diary.models import Entry, User
from rewards import points
from tests.conftest import migrated_database_url
from tests.faults.test_database_faults import (
    _app,
    _counts,
    _family,
    _files,
    _login,
    _photo_entry,
)
from tests.statements import transaction_log
from tests.web.helpers import entry_form


@pytest.fixture(scope="module")
def own_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = migrated_database_url(tmp_path_factory.mktemp("real-engine"))
    yield url
    drop()


def test_a_parents_reads_and_writes_on_the_pages_own_engine(own_database: str,
                                                            tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = _app(own_database, tmp_path)
    engine = app.extensions["session_factory"].kw["bind"]
    postgres = engine.dialect.name == "postgresql"
    user_id, child_id, email = _family(app)
    client = app.test_client()
    _login(client, email)
    try:
        seen = transaction_log(engine)
        assert client.get(f"/children/{child_id}").status_code == 200
        if postgres:
            assert seen and not any(inside for _, inside in seen), seen

        seen.clear()
        assert _photo_entry(client, child_id).status_code == 302  # an entry, 2 photos, points
        posted = list(seen)
        assert _counts(app, child_id) == (1, 2)
        assert len(_files(app)) == 4  # each photo and its thumbnail
        with app.extensions["session_factory"]() as s:
            user = s.get(User, user_id)
            assert points.balance(s, user) > 0  # the ledger locked its row and wrote
            entry = s.scalars(select(Entry).where(Entry.child_id == child_id)).one()
        if postgres:  # reads before the first write outside; from it to the last, inside
            writes = [i for i, (word, _) in enumerate(posted) if word != "SELECT"]
            assert not any(inside for _, inside in posted[:writes[0]]), posted
            assert all(inside for _, inside in posted[writes[0]:writes[-1] + 1]), posted

        refused = client.post(f"/children/{child_id}/entries/new?kind=note",
                              data=entry_form(title="Bad date", body="x",
                                              occurred_date="2026-13-40"))
        assert refused.status_code == 400  # the form again, with its error and the input
        assert 'value="Bad date"' in refused.get_data(as_text=True)
        assert _counts(app, child_id) == (1, 2)

        edited = client.post(f"/entries/{entry.id}/edit",
                             data=entry_form(title="First bath, again", body="warm"))
        assert edited.status_code == 302
        with app.extensions["session_factory"]() as s:
            assert s.get(Entry, entry.id).title == "First bath, again"

        assert client.post(f"/entries/{entry.id}/delete").status_code == 302
        assert _counts(app, child_id) == (0, 0)
    finally:
        engine.dispose()
