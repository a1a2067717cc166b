"""Faults in the database under a running app: a PostgreSQL server restarting in the middle of
a request or down for a while, and SQLite's "database is locked".

The request in flight gets a clean 503 (an HTML page in the person's language, or JSON
`{"error": …}` for JSON clients) with a clear message and no traceback; its transaction is
rolled back whole (an entry and its photos: all or nothing, and no photo file left); the next
request after the server is back works, in the same app (the failed statement invalidates
the pool; db.liveness pings a connection that sat idle: tests/test_db_liveness.py).

The PostgreSQL tests start their OWN server (scripts/postgres.sh) so restarting it does not
disturb the suite's shared database. They run in the PostgreSQL part of the suite (when
TEST_DATABASE_URL is set) and fail, not skip, when REQUIRE_POSTGRES is set and they cannot.
"""
from __future__ import annotations

import io
import os
import sqlite3
import subprocess
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import event, func, select
from sqlalchemy.engine import make_url

import clock
from diary import accounts, families, registration
from diary.age import local_today
from diary.models import Entry, Photo
from mailer import MemoryMailer
from tests.conftest import PASSWORD, alembic_config
from tests.web.helpers import entry_form, png_bytes
from webapp import create_app

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "postgres.sh"
DOWN_EN = ("We could not reach our database just now, so what you asked was not done. Please "
           "try again in a moment.")
DOWN_ZH = "我们暂时无法连接数据库，您刚才的操作没有完成。请稍后再试。"


def _postgres_or_skip() -> None:
    required = os.environ.get("REQUIRE_POSTGRES", "").lower() in {"1", "true", "yes"}
    if not os.environ.get("TEST_DATABASE_URL"):
        if required:
            pytest.fail("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not")
        pytest.skip("the PostgreSQL part of the suite runs this (TEST_DATABASE_URL)")
    if subprocess.run([str(SCRIPT), "check"], check=False).returncode != 0:
        if required:
            pytest.fail("REQUIRE_POSTGRES is set but there are no PostgreSQL server binaries")
        pytest.skip("no PostgreSQL server binaries")


class OwnServer:
    """A PostgreSQL server of this module's own, which the tests stop and restart."""

    def __init__(self) -> None:
        self.dir = tempfile.mkdtemp(prefix="bj-pg-faults.")
        self.url = self._run("start").strip()

    def _run(self, command: str) -> str:
        return subprocess.run([str(SCRIPT), command, self.dir], check=True, text=True,
                              capture_output=True).stdout

    def restart(self) -> None:
        self._run("restart")

    def down(self) -> None:
        self._run("down")

    def up(self) -> None:
        self._run("up")

    def stop(self) -> None:
        self._run("stop")


@pytest.fixture(scope="module")
def own_postgres() -> Iterator[OwnServer]:
    _postgres_or_skip()
    server = OwnServer()
    try:
        from alembic import command
        command.upgrade(alembic_config(server.url), "head")
        yield server
    finally:
        server.stop()


def _app(url: str, tmp_path: Path, **settings: object) -> Flask:
    """An app as in production: its own engine (db.liveness, db.read_only) on `url`, and
    the 503 page a visitor would get instead of the exception."""
    app = create_app("testing", DATABASE_URL=url, UPLOAD_DIR=tmp_path / "uploads",
                     RECO_ARTIFACT_DIR=tmp_path / "reco", MAIL_OUTBOX_DIR=tmp_path / "outbox",
                     PROPAGATE_UNEXPECTED=False, **settings)
    app.extensions["mailer"] = MemoryMailer()
    return app


def _family(app: Flask, locale: str = "en") -> tuple[int, int, str]:
    """A parent with a baby, committed through the app's own engine: (user, child, email)."""
    email = f"parent-{os.urandom(4).hex()}@example.com"
    tz = "Asia/Shanghai"
    with app.extensions["session_factory"]() as s, s.begin():
        done = registration.register(s, registration.Registration(
            email=email, password=PASSWORD,
            profile=accounts.Profile(display_name="Mum", timezone=tz, locale=locale),
            relationship="mother", child_data_consent=True, digest_opt_in=False,
            marketing_opt_in=False, child=families.ChildDetails(
                name="Mia", birth_date=local_today(tz) - timedelta(days=100), sex="female")),
            "test")
        done.user.email_verified_at = clock.utcnow()
        assert done.child is not None
        return done.user.id, done.child.id, email


def _counts(app: Flask, child_id: int) -> tuple[int, int]:
    with app.extensions["session_factory"]() as s:
        entries = s.scalar(select(func.count(Entry.id)).where(Entry.child_id == child_id))
        photos = s.scalar(select(func.count(Photo.id)).join(Entry)
                          .where(Entry.child_id == child_id))
        return entries or 0, photos or 0


def _files(app: Flask) -> list[Path]:
    root = Path(app.config["UPLOAD_DIR"])
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def _photo_entry(client, child_id: int, **headers: str):  # type: ignore[no-untyped-def]
    return client.post(f"/children/{child_id}/entries/new?kind=photo", data=entry_form(
        title="First bath", photos=[(io.BytesIO(png_bytes((200, 150))), "a.png"),
                                    (io.BytesIO(png_bytes((200, 150))), "b.png")]),
        content_type="multipart/form-data", headers=headers)


def _login(client, email: str) -> None:  # type: ignore[no-untyped-def]
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]


def _assert_clean_503(response, message: str = DOWN_EN) -> str:  # type: ignore[no-untyped-def]
    page = response.get_data(as_text=True)
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    assert response.mimetype == "text/html"
    assert message in page
    assert "Traceback" not in page and "OperationalError" not in page and "psycopg" not in page
    return page


# --- PostgreSQL: a restart in the middle of a request -----------------------------------------

def test_a_restart_mid_request_is_a_clean_503_and_the_entry_is_all_or_nothing(
        own_postgres, tmp_path, monkeypatch):
    app = _app(own_postgres.url, tmp_path)
    _, child_id, email = _family(app, locale="zh_CN")
    client = app.test_client()
    _login(client, email)
    from webapp import rewards_glue
    written = rewards_glue.entry_created

    def restart_after_the_rows_reached_the_server(tx, user, entry):  # type: ignore[no-untyped-def]
        written(tx, user, entry)
        tx.flush()  # the entry, both photos and the points are sent, not yet committed
        assert _counts(app, child_id) == (0, 0)  # (another connection does not see them)
        own_postgres.restart()

    monkeypatch.setattr(rewards_glue, "entry_created", restart_after_the_rows_reached_the_server)
    response = _photo_entry(client, child_id)
    page = _assert_clean_503(response, DOWN_ZH)  # the parent reads Chinese
    assert '<html lang="zh-CN">' in page
    assert _counts(app, child_id) == (0, 0)  # nothing half written
    assert _files(app) == []  # the two photos' files are removed again
    monkeypatch.undo()

    # The server is back: the same app serves the next requests (no restart), and the
    # parent's form goes through whole.
    assert client.get(f"/children/{child_id}").status_code == 200
    response = _photo_entry(client, child_id)
    assert response.status_code == 302
    assert _counts(app, child_id) == (1, 2)
    assert len(_files(app)) == 4


def test_requests_while_the_server_is_down_get_503_then_work_when_it_is_back(
        own_postgres, tmp_path):
    app = _app(own_postgres.url, tmp_path)
    _, child_id, email = _family(app)
    client = app.test_client()
    _login(client, email)
    assert client.get(f"/children/{child_id}").status_code == 200
    own_postgres.down()
    try:
        # Even loading the signed-in person fails: the page asks nothing more of it.
        _assert_clean_503(client.get(f"/children/{child_id}"))
        _assert_clean_503(client.get("/", headers={"Accept-Language": "zh-CN"}), DOWN_ZH)
        response = client.get(f"/children/{child_id}", headers={"Accept": "application/json"})
        assert response.status_code == 503 and response.json == {"error": DOWN_EN}
        _assert_clean_503(_photo_entry(client, child_id))
        assert _files(app) == []
        signed_out = app.test_client()
        _assert_clean_503(signed_out.post("/login", data={"email": email,
                                                          "password": PASSWORD}))
    finally:
        own_postgres.up()
    assert client.get(f"/children/{child_id}").status_code == 200  # still signed in
    assert _photo_entry(client, child_id).status_code == 302
    assert _counts(app, child_id) == (1, 2)


# --- SQLite: "database is locked" ------------------------------------------------------------

@pytest.fixture()
def sqlite_copy(database_url: str, tmp_path: Path) -> str:
    """A private copy of the suite's migrated SQLite database (the app commits into it)."""
    if make_url(database_url).get_backend_name() != "sqlite":
        pytest.skip("SQLite only: PostgreSQL has no database-wide write lock")
    source = sqlite3.connect(make_url(database_url).database)
    target = sqlite3.connect(tmp_path / "copy.db")
    source.backup(target)
    source.close()
    target.close()
    return f"sqlite:///{tmp_path / 'copy.db'}"


def _short_busy_timeout(app: Flask) -> None:
    engine = app.extensions["session_factory"].kw["bind"]

    @event.listens_for(engine, "connect")
    def _busy(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
        dbapi_connection.execute("PRAGMA busy_timeout=50")  # after the app's own 10 s
    engine.dispose()


def test_a_locked_sqlite_database_is_a_clean_503_not_a_500(sqlite_copy, tmp_path):
    app = _app(sqlite_copy, tmp_path)
    _short_busy_timeout(app)
    _, child_id, email = _family(app)
    client = app.test_client()
    _login(client, email)
    holder = sqlite3.connect(make_url(sqlite_copy).database, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # another writer holds the lock past the busy timeout
    try:
        _assert_clean_503(_photo_entry(client, child_id))
        assert _files(app) == []
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert _counts(app, child_id) == (0, 0)
    assert _photo_entry(client, child_id).status_code == 302
    assert _counts(app, child_id) == (1, 2)


def test_a_bug_is_still_a_500_not_a_503(app, client, make_family, login_as, session,
                                        monkeypatch):
    """Only "cannot reach the database" is 503: a programming error stays a 500, and with
    PROPAGATE_UNEXPECTED (the suite's default) a database error is raised into the test."""
    from sqlalchemy.exc import OperationalError
    user, child = make_family()
    login_as(user)

    def broken(*args, **kwargs):  # type: ignore[no-untyped-def]
        raise OperationalError("SELECT 1", {}, Exception("database is locked"))
    monkeypatch.setattr("webapp.rewards_glue.entry_created", broken)
    with pytest.raises(OperationalError):
        client.post(f"/children/{child.id}/entries/new?kind=note", data=entry_form(body="x"))
    app.config["PROPAGATE_UNEXPECTED"] = False
    _assert_clean_503(client.post(f"/children/{child.id}/entries/new?kind=note",
                                  data=entry_form(body="x")))
    monkeypatch.setattr("webapp.rewards_glue.entry_created",
                        lambda *a: (_ for _ in ()).throw(KeyError("bug")))
    response = client.post(f"/children/{child.id}/entries/new?kind=note",
                           data=entry_form(body="x"))
    assert response.status_code == 500
    session.expire_all()
    assert session.scalar(select(func.count(Entry.id)).where(Entry.child_id == child.id)) == 0

