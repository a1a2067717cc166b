"""db.read_only: a transaction that only read ends with COMMIT (PostgreSQL keeps its prepared
statements), and anything that may have written still ends with ROLLBACK, so a request that
wrote and then failed leaves nothing behind; on PostgreSQL reads run outside a transaction
(no BEGIN, no COMMIT) and the first statement that may write or lock begins one. Each case
runs on SQLite and, with TEST_DATABASE_URL, on PostgreSQL, against an engine of its own set
up as the pages' engine is (the suite's shared connection is never tracked, on purpose: see
test_an_engine_without_tracking_never_commits)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.sql.elements import TextClause

import db
from db import read_only
from diary.models import Family
from tests.statements import insides, transaction_log
from webapp import create_app
from webapp.database import get_session

MARK = "read-only-test family"


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """A tracked engine with one pooled connection (so consecutive sessions share it)."""
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    read_only.track_writes(engine)
    read_only.begin_at_first_write(engine)
    yield engine
    with engine.begin() as conn:  # a broken close() must not leave rows for other tests
        conn.execute(delete(Family).where(Family.name.startswith(MARK)))
    engine.dispose()


@pytest.fixture()
def endings(engine: Engine) -> list[str]:
    """'commit' / 'rollback' for every transaction that ends on `engine`, in order."""
    seen: list[str] = []
    event.listen(engine, "commit", lambda _conn: seen.append("commit"))
    event.listen(engine, "rollback", lambda _conn: seen.append("rollback"))
    return seen


@pytest.fixture()
def factory(engine: Engine) -> sessionmaker:
    return db.make_session_factory(engine)


def _families(engine: Engine) -> int:
    with engine.connect() as conn:
        return conn.scalar(select(func.count()).where(Family.name.startswith(MARK))) or 0


def _seed_family(factory: sessionmaker, name: str = MARK) -> int:
    with factory.begin() as s:
        family = Family(name=name, timezone="Europe/London")
        s.add(family)
        s.flush()
        return family.id


def test_a_transaction_that_only_read_commits(factory: sessionmaker, endings: list[str]
                                              ) -> None:
    s: Session = factory()
    s.execute(select(Family.id).limit(1)).all()
    s.scalars(select(Family).limit(3)).all()  # ORM rows loaded, none changed
    assert read_only.only_read(s)
    read_only.close(s)
    assert endings == ["commit"]


def test_an_orm_insert_flushed_then_abandoned_is_rolled_back(
        factory: sessionmaker, engine: Engine, endings: list[str]) -> None:
    s = factory()
    s.add(Family(name=MARK, timezone="UTC"))
    s.flush()  # the INSERT ran; nothing is pending in the session any more
    assert not s.new
    assert not read_only.only_read(s)
    read_only.close(s)
    assert endings == ["rollback"]
    assert _families(engine) == 0


def test_unflushed_changes_are_rolled_back(factory: sessionmaker, engine: Engine,
                                           endings: list[str]) -> None:
    family_id = _seed_family(factory)
    endings.clear()
    added = factory()
    added.execute(select(Family.id).limit(1)).all()  # a view reads, then adds
    added.add(Family(name=f"{MARK} 2", timezone="UTC"))  # pending, never flushed
    read_only.close(added)
    changed = factory()
    changed.get(Family, family_id).name = f"{MARK} renamed"  # dirty, never flushed
    read_only.close(changed)
    removed = factory()
    removed.delete(removed.get(Family, family_id))  # deleted, never flushed
    read_only.close(removed)
    assert endings == ["rollback", "rollback", "rollback"]
    with factory() as s:
        assert s.scalars(select(Family.name).where(Family.name.startswith(MARK))).all() \
            == [MARK]


@pytest.mark.parametrize("statement", [
    "UPDATE families SET name = :new WHERE name = :old",
    "  update families set name = :new where name = :old",  # raw SQL, spaced, lower case
    "WITH x AS (UPDATE families SET name = :new WHERE name = :old RETURNING id) "
    "SELECT count(*) FROM x",
])
def test_raw_and_core_writes_are_rolled_back(factory: sessionmaker, endings: list[str],
                                             statement: str, database_url: str) -> None:
    if statement.startswith("WITH") and database_url.startswith("sqlite"):
        pytest.skip("SQLite has no data-modifying WITH")
    _seed_family(factory)
    endings.clear()
    s = factory()
    s.execute(text(statement), {"new": f"{MARK} renamed", "old": MARK})
    read_only.close(s)
    core = factory()
    core.execute(update(Family).where(Family.name == MARK).values(name=f"{MARK} core"))
    read_only.close(core)
    assert endings == ["rollback", "rollback"]
    with factory() as check:
        assert check.scalars(select(Family.name).where(Family.name.startswith(MARK))).all() \
            == [MARK]


def test_the_next_transaction_on_the_same_connection_starts_clean(
        factory: sessionmaker, endings: list[str]) -> None:
    wrote = factory()
    wrote.execute(update(Family).where(Family.name == "nobody").values(name="x"))
    read_only.close(wrote)  # the pool's one connection comes back marked "wrote"
    reader = factory()
    reader.execute(select(Family.id).limit(1)).all()
    read_only.close(reader)
    assert endings == ["rollback", "commit"]


def test_a_session_that_never_began_just_closes(factory: sessionmaker,
                                                endings: list[str]) -> None:
    s = factory()
    assert not read_only.only_read(s)
    read_only.close(s)
    assert endings == []


def test_an_engine_without_tracking_never_commits(database_url: str) -> None:
    plain = db.make_engine(database_url)
    seen: list[str] = []
    event.listen(plain, "commit", lambda _conn: seen.append("commit"))
    event.listen(plain, "rollback", lambda _conn: seen.append("rollback"))
    try:
        s = db.make_session_factory(plain)()
        s.execute(select(Family.id).limit(1)).all()
        assert not read_only.only_read(s)  # it cannot know: it says "wrote"
        read_only.close(s)
        assert seen == ["rollback"]
    finally:
        plain.dispose()


def test_prepared_statements_survive_read_only_transactions(
        factory: sessionmaker, database_url: str) -> None:
    """Why the module exists: psycopg forgets its prepared statements on every rollback;
    after read-only transactions that end in COMMIT they stay prepared, and on the pages'
    engine reads run outside any transaction, so even a rollback keeps them."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    query = select(Family.id).where(Family.name == "prepared?")

    def prepared(factory: sessionmaker, close) -> int:  # type: ignore[no-untyped-def]
        for _ in range(7):  # psycopg prepares on the sixth run of the same statement
            s = factory()
            s.execute(query).all()
            close(s)
        with factory() as s:
            return s.scalar(text("SELECT count(*) FROM pg_prepared_statements")) or 0

    in_transactions = db.make_engine(database_url, pool_size=1, max_overflow=0)
    read_only.track_writes(in_transactions)  # reads inside BEGIN … as psycopg does alone
    try:
        plain = db.make_session_factory(in_transactions)
        assert prepared(plain, Session.close) == 0  # rolled back each time: nothing kept
        assert prepared(plain, read_only.close) >= 1
    finally:
        in_transactions.dispose()
    assert prepared(factory, Session.close) >= 1  # reads outside a transaction


def _app(database_url: str, tmp_path) -> Flask:  # type: ignore[no-untyped-def]
    app = create_app("testing", DATABASE_URL=database_url, UPLOAD_DIR=tmp_path / "up",
                     RECO_ARTIFACT_DIR=tmp_path / "reco", MAIL_OUTBOX_DIR=tmp_path / "out",
                     PROPAGATE_UNEXPECTED=False)

    def read() -> str:
        return str(len(get_session().execute(select(Family.id).limit(1)).all()))

    def write_then_refuse() -> tuple[str, int]:
        session = get_session()
        session.add(Family(name=MARK, timezone="UTC"))
        session.flush()
        return "refused", 422  # a view that wrote, changed its mind and never committed

    def write_then_fail() -> str:
        get_session().execute(update(Family).where(Family.name == MARK).values(name="x"))
        raise RuntimeError("boom")

    app.add_url_rule("/t/read", "t_read", read)
    app.add_url_rule("/t/refuse", "t_refuse", write_then_refuse)
    app.add_url_rule("/t/fail", "t_fail", write_then_fail)
    return app


def test_the_app_commits_a_read_only_request_and_rolls_back_the_rest(
        database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    app = _app(database_url, tmp_path)
    engine = app.extensions["session_factory"].kw["bind"]
    seen: list[str] = []
    event.listen(engine, "commit", lambda _conn: seen.append("commit"))
    event.listen(engine, "rollback", lambda _conn: seen.append("rollback"))
    client = app.test_client()
    try:
        assert client.get("/t/read").status_code == 200
        assert seen == ["commit"]
        assert client.get("/t/refuse").status_code == 422
        assert seen == ["commit", "rollback"]
        assert client.get("/t/fail").status_code == 500
        assert seen == ["commit", "rollback", "rollback"]
        assert _families(engine) == 0
    finally:
        with engine.begin() as conn:
            conn.execute(delete(Family).where(Family.name.startswith(MARK)))
        engine.dispose()


# --- PostgreSQL: reads outside a transaction, a transaction from the first write ---------------

@pytest.fixture()
def postgres(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL only: SQLite's BEGIN costs no round trip and is left alone")


def test_reads_run_outside_a_transaction(postgres: None, factory: sessionmaker,
                                         engine: Engine, endings: list[str]) -> None:
    family_id = _seed_family(factory)
    endings.clear()
    log = transaction_log(engine)
    s = factory()
    s.execute(select(Family.id).limit(1)).all()
    assert s.get(Family, family_id) is not None
    s.scalars(select(Family).where(Family.name.startswith(MARK))).all()
    assert read_only.only_read(s)
    read_only.close(s)
    assert insides(log) == [False, False, False]  # no BEGIN was sent, so there was no COMMIT
    assert endings == ["commit"]  # (SQLAlchemy's own ending, which sends nothing here)


def test_the_first_write_begins_the_transaction_and_a_failure_undoes_it_whole(
        postgres: None, factory: sessionmaker, engine: Engine) -> None:
    log = transaction_log(engine)
    s = factory()
    s.execute(select(Family.id).limit(1)).all()  # a read, outside
    s.add(Family(name=MARK, timezone="UTC"))
    s.flush()  # the INSERT begins the transaction
    s.execute(update(Family).where(Family.name == MARK).values(name=f"{MARK} 2"))
    s.execute(select(Family.id).where(Family.name == f"{MARK} 2")).all()  # reads its writes
    read_only.close(s)  # the view never committed
    assert insides(log) == [False, True, True, True]
    assert _families(engine) == 0


def test_a_committed_write_is_kept_and_the_next_transaction_reads_outside_again(
        postgres: None, factory: sessionmaker, engine: Engine) -> None:
    log = transaction_log(engine)
    with factory.begin() as s:
        s.execute(select(Family.id).limit(1)).all()
        s.add(Family(name=MARK, timezone="UTC"))
    reader = factory()
    reader.execute(select(Family.id).limit(1)).all()
    read_only.close(reader)
    assert insides(log) == [False, True, False]
    assert _families(engine) == 1


@pytest.mark.parametrize("locking", [
    select(Family.id).where(Family.name == MARK).with_for_update(),
    select(Family.id).where(Family.name == MARK).with_for_update(skip_locked=True),
    select(Family.id).where(Family.name == MARK).with_for_update(read=True),  # FOR SHARE
    select(Family.id).where(Family.name == MARK).with_for_update(key_share=True),
    text("SELECT pg_advisory_xact_lock(4242)"),
], ids=["for update", "skip locked", "for share", "for no key update", "advisory"])
def test_a_read_that_locks_begins_the_transaction_and_holds_its_lock(
        postgres: None, factory: sessionmaker, engine: Engine, database_url: str,
        locking) -> None:  # type: ignore[no-untyped-def]
    """A lock taken outside a transaction would end with its statement: the row a view locks
    to check and then change would be anyone's again before the change. Another connection
    finds the lock held until the session ends, and free after."""
    _seed_family(factory)
    rows_lock = not isinstance(locking, TextClause)
    probe = text("SELECT count(*) FROM (SELECT id FROM families WHERE name = :n "
                 "FOR UPDATE SKIP LOCKED) AS free_rows" if rows_lock
                 else "SELECT pg_try_advisory_xact_lock(4242)")
    free = 1 if rows_lock else True
    log = transaction_log(engine)
    other = db.make_engine(database_url, isolation_level="AUTOCOMMIT")
    s = factory()
    try:
        s.execute(locking).all()
        with other.connect() as conn:
            assert conn.execute(probe, {"n": MARK}).scalar() != free  # held
        read_only.close(s)
        assert insides(log) == [True]
        with other.connect() as conn:
            assert conn.execute(probe, {"n": MARK}).scalar() == free  # released
    finally:
        s.close()
        other.dispose()


def test_another_isolation_level_keeps_its_transaction_and_autocommit_its_own_way(
        postgres: None, engine: Engine) -> None:
    log = transaction_log(engine)
    with engine.connect().execution_options(isolation_level="REPEATABLE READ") as conn:
        conn.execute(select(Family.id).limit(1)).all()  # its snapshot must last: inside
        conn.rollback()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("INSERT INTO families (name, timezone, created_at) "
                          "VALUES (:n, 'UTC', now())"), {"n": MARK})
        # no commit: AUTOCOMMIT means each statement is kept as it runs, and stays so
    assert insides(log) == [True, False]
    assert _families(engine) == 1


def test_a_connection_goes_back_to_the_pool_beginning_transactions_itself(
        postgres: None, factory: sessionmaker, engine: Engine) -> None:
    """Whoever takes the connection next without a session (a raw DBAPI connection, a
    migration) finds psycopg's own behaviour, not this module's."""
    s = factory()
    s.execute(select(Family.id).limit(1)).all()
    assert s.connection().connection.dbapi_connection.autocommit is True  # while reading
    read_only.close(s)
    raw = engine.raw_connection()
    try:
        assert raw.dbapi_connection.autocommit is False
    finally:
        raw.close()


@pytest.mark.parametrize(("statement", "writes"), [
    ("SELECT families.id FROM families", False),
    ("SELECT substring(families.name FROM 1 FOR 3) FROM families", False),
    ("SELECT families.information, families.name AS before_update FROM families", False),
    ("BEGIN", False),
    ("SELECT families.id FROM families FOR UPDATE", True),
    ("SELECT families.id FROM families FOR UPDATE SKIP LOCKED", True),
    ("SELECT families.id FROM families FOR NO KEY UPDATE", True),
    ("SELECT families.id FROM families FOR SHARE", True),
    ("SELECT families.id FROM families\\nFOR KEY SHARE", True),
    ("select families.id from families for update", True),
    ("SELECT pg_advisory_xact_lock(%(key)s)", True),
    ("INSERT INTO families (name) VALUES (%(name)s)", True),
    ("WITH x AS (SELECT 1) SELECT * FROM x", True),  # a WITH may hide a write: counted
    ("SAVEPOINT sa_savepoint_1", True),
    ("  SELECT 1", True),  # not as SQLAlchemy renders a SELECT: counted, to be safe
])
def test_which_statements_may_write(statement: str, writes: bool) -> None:
    assert read_only.may_write(statement.replace("\\n", "\n")) is writes


def test_the_pages_engine_reads_outside_a_transaction_and_writes_inside_one(
        postgres: None, database_url: str, tmp_path) -> None:  # type: ignore[no-untyped-def]
    """The app's own engine (webapp.database) is set up so: the read request's statement
    runs outside a transaction; the request that wrote and refused runs its INSERT inside
    one, which is rolled back with the request."""
    app = _app(database_url, tmp_path)
    engine = app.extensions["session_factory"].kw["bind"]
    client = app.test_client()
    try:
        log = transaction_log(engine)
        assert client.get("/t/read").status_code == 200
        reads = insides(log)
        assert client.get("/t/refuse").status_code == 422
        assert reads[-1] is False and insides(log)[len(reads):][-1] is True
        assert _families(engine) == 0
    finally:
        engine.dispose()
