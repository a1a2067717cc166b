"""db.read_only: a transaction that only read ends with COMMIT (PostgreSQL keeps its prepared
statements), and anything that may have written still ends with ROLLBACK, so a request that
wrote and then failed leaves nothing behind. Each case runs on SQLite and, with
TEST_DATABASE_URL, on PostgreSQL, against an engine of its own (the suite's shared connection
is never tracked, on purpose: see test_an_engine_without_tracking_never_commits)."""
from __future__ import annotations

from collections.abc import Iterator

import pytest
from flask import Flask
from sqlalchemy import delete, event, func, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

import db
from db import read_only
from diary.models import Family
from webapp import create_app
from webapp.database import get_session

MARK = "read-only-test family"


@pytest.fixture()
def engine(database_url: str) -> Iterator[Engine]:
    """A tracked engine with one pooled connection (so consecutive sessions share it)."""
    engine = db.make_engine(database_url, pool_size=1, max_overflow=0)
    read_only.track_writes(engine)
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
    after read-only transactions that end in COMMIT they stay prepared."""
    if not database_url.startswith("postgresql"):
        pytest.skip("prepared statements are PostgreSQL's")
    query = select(Family.id).where(Family.name == "prepared?")

    def prepared(close) -> int:  # type: ignore[no-untyped-def]
        for _ in range(7):  # psycopg prepares on the sixth run of the same statement
            s = factory()
            s.execute(query).all()
            close(s)
        with factory() as s:
            return s.scalar(text("SELECT count(*) FROM pg_prepared_statements")) or 0

    assert prepared(Session.close) == 0  # rolled back each time: nothing kept
    assert prepared(read_only.close) >= 1


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
