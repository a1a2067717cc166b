"""A scheduler job killed with SIGKILL in the middle of a batch, in a real process of its own
(tests/faults/job_driver.py), then run afresh: every push exactly once.

No timing: the job stops itself (SIGSTOP) at the point the test chose, the test waits for
that with waitpid(WUNTRACED), looks at what is committed, and kills it there.

- The journeys tick: killed inside its second batch's transaction (rows sent, not
  committed); the fresh run's ledger and inbox equal those of one clean run on a twin
  database (the same world copied before either ran).
- The outbox sender: killed with a batch claimed but not sent: after the lease the fresh run
  sends every email exactly once. Killed after sending a batch but before recording it: that
  batch (only) is sent again, with the same Message-IDs, the one at-least-once window the
  outbox documents.
"""
from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import make_url

import db
from journeys import digests, outbox
from journeys.models import Delivery, InboxMessage
from tests.conftest import migrated_database_url
from tests.journeys.test_digests import NOW, import_content, make_parent
from tests.journeys.test_outbox_smtp import Server, free_port

pytestmark = pytest.mark.clock_at("2026-11-23T01:00")

DRIVER = Path(__file__).with_name("job_driver.py")
PARENTS = 7  # with batches of 2: four batches


def _factory(url: str):  # type: ignore[no-untyped-def]
    return db.make_session_factory(db.make_engine(url))


def _world(url: str, tmp_path: Path, digests_due: bool = False) -> None:
    factory = _factory(url)
    with factory() as s, s.begin():
        import_content(s, tmp_path)
        for i in range(PARENTS):
            make_parent(s, f"p{i}@example.com")
    if digests_due:
        with factory() as s, s.begin():
            assert digests.schedule_due(s, NOW) == PARENTS
    factory.kw["bind"].dispose()


def _copy(url: str, tmp_path: Path) -> tuple[str, object]:
    """A twin of the database at `url`: a file copy on SQLite, a template copy on PostgreSQL."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        twin = tmp_path / "twin.db"
        source, target = sqlite3.connect(parsed.database), sqlite3.connect(twin)
        source.backup(target)
        source.close()
        target.close()
        return f"sqlite:///{twin}", lambda: None
    name = f"{parsed.database}_twin"
    admin = db.make_engine(os.environ["TEST_DATABASE_URL"], isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}" TEMPLATE "{parsed.database}"'))

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return parsed.set(database=name).render_as_string(hide_password=False), drop


@pytest.fixture()
def database(tmp_path: Path) -> Iterator[str]:
    """A database of this test's own (the jobs commit; other processes read it)."""
    url, drop = migrated_database_url(tmp_path)
    yield url
    drop()


def _run(*args: object) -> str:
    done = subprocess.run([sys.executable, str(DRIVER), *map(str, args)], check=True,
                          capture_output=True, text=True, timeout=300)
    return done.stdout


class Stopped:
    """The driver, stopped by itself at its hook; `kill()` ends it as a crash would."""

    def __init__(self, *args: object) -> None:
        self.process = subprocess.Popen([sys.executable, str(DRIVER), *map(str, args)],
                                        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        _, status = os.waitpid(self.process.pid, os.WUNTRACED)
        if not os.WIFSTOPPED(status):  # it ended before reaching the hook
            out, err = self.process.communicate()
            pytest.fail(f"the job did not stop at its hook: {status}\n{err.decode()[-2000:]}")

    def kill(self) -> None:
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=60)
        assert self.process.returncode == -signal.SIGKILL


def _ledger(url: str) -> tuple[Counter, Counter]:
    factory = _factory(url)
    with factory() as s:
        deliveries = Counter(s.execute(select(
            Delivery.user_id, Delivery.child_id, Delivery.item_key, Delivery.channel,
            Delivery.occurrence, Delivery.journey_id)).all())
        inbox = Counter(s.execute(select(InboxMessage.user_id, InboxMessage.child_id,
                                         InboxMessage.item_id, InboxMessage.stage_key)).all())
    factory.kw["bind"].dispose()
    return deliveries, inbox


def _count(url: str, model) -> int:  # type: ignore[no-untyped-def]
    factory = _factory(url)
    with factory() as s:
        n = s.scalar(select(func.count()).select_from(model)) or 0
    factory.kw["bind"].dispose()
    return n


def test_a_tick_killed_mid_batch_then_run_again_pushes_what_one_clean_run_pushes(
        database, tmp_path):
    _world(database, tmp_path)
    twin, drop_twin = _copy(database, tmp_path)
    try:
        _run("journeys", twin, NOW.isoformat(), 0)  # the clean run
        clean_deliveries, clean_inbox = _ledger(twin)
        assert len(clean_inbox) >= PARENTS  # every baby got at least its stage's message
        assert set(clean_deliveries.values()) == {1} and set(clean_inbox.values()) == {1}

        crashed = Stopped("journeys", database, NOW.isoformat(), 2)  # inside batch two
        committed = _count(database, Delivery)
        assert 0 < committed < sum(clean_deliveries.values())  # batch one only
        crashed.kill()
        assert _count(database, Delivery) == committed  # batch two's rows died with it

        _run("journeys", database, NOW.isoformat(), 0)  # the fresh run
        assert _ledger(database) == (clean_deliveries, clean_inbox)
        _run("journeys", database, (NOW + timedelta(minutes=5)).isoformat(), 0)
        assert _ledger(database) == (clean_deliveries, clean_inbox)  # and nothing later
    finally:
        drop_twin()  # type: ignore[operator]


@pytest.fixture()
def smtp():  # type: ignore[no-untyped-def]
    server = Server(free_port())
    server.start()
    yield server
    server.stop()


def _emails(url: str) -> dict[str, tuple[str, str | None]]:
    factory = _factory(url)
    from diary.models import User
    with factory() as s:
        rows = s.execute(select(User.email, Delivery.status, Delivery.claimed_until)
                         .join(User, User.id == Delivery.user_id)
                         .where(Delivery.channel == "email")).all()
    factory.kw["bind"].dispose()
    return {email: (status, claimed and "claimed") for email, status, claimed in rows}


def _received(server: Server) -> Counter:
    return Counter(str(m["To"]) for m in server.handler.parsed())


def test_the_outbox_sender_killed_with_a_batch_claimed_sends_every_email_once(
        database, tmp_path, smtp):
    _world(database, tmp_path, digests_due=True)
    crashed = Stopped("outbox", database, NOW.isoformat(), 2, smtp.port, "claimed")
    assert _received(smtp) == Counter({"p0@example.com": 1, "p1@example.com": 1})
    state = _emails(database)
    assert state["p0@example.com"] == ("sent", None)
    assert state["p2@example.com"] == ("pending", "claimed")  # batch two: claimed, unsent
    crashed.kill()

    # Within the lease nobody takes batch two; the others go.
    _run("outbox", database, (NOW + timedelta(minutes=1)).isoformat(), 0, smtp.port, "-")
    assert _emails(database)["p2@example.com"] == ("pending", "claimed")
    _run("outbox", database, (NOW + outbox.LEASE).isoformat(), 0, smtp.port, "-")
    assert _received(smtp) == Counter({f"p{i}@example.com": 1 for i in range(PARENTS)})
    assert set(_emails(database).values()) == {("sent", None)}


def test_the_outbox_sender_killed_after_sending_resends_that_batch_only(
        database, tmp_path, smtp):
    _world(database, tmp_path, digests_due=True)
    crashed = Stopped("outbox", database, NOW.isoformat(), 2, smtp.port, "sent")
    crashed.kill()  # batch two (p2, p3) went out; "sent" was never recorded
    _run("outbox", database, (NOW + outbox.LEASE).isoformat(), 0, smtp.port, "-")
    received = _received(smtp)
    assert received == Counter({f"p{i}@example.com": 2 if i in (2, 3) else 1
                                for i in range(PARENTS)})
    ids = Counter(str(m["Message-ID"]) for m in smtp.handler.parsed())
    assert len(ids) == PARENTS  # the repeats carry the same Message-ID: de-duplicable
    assert set(_emails(database).values()) == {("sent", None)}
