"""Shared fixtures: a migrated database, a transaction per test, the app and its client.

The database is SQLite by default and PostgreSQL when TEST_DATABASE_URL is set (a fresh
database is created inside that server for the run). Every test runs inside a transaction
that is rolled back, and the app's sessions join it through SAVEPOINTs, so views can commit
freely and still leave nothing behind.
"""
from __future__ import annotations

import functools
import os
import secrets
import threading
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session, sessionmaker

import clock
import db
from content import library
from diary import accounts, families, passwords, registration
from diary.models import Child, User
from mailer import MemoryMailer
from webapp import create_app, fragments
from webapp.cli import alembic_config

PASSWORD = "correct horse battery"


def local_today(tz: str = "Asia/Shanghai") -> date:
    """Today where the test families live (not the machine's UTC date: after 16:00 UTC it is
    already tomorrow in Shanghai, and ages are counted in the family's zone)."""
    return clock.today_in(tz)


def load_all_models() -> None:
    """Import every package's models so `db.Base.metadata` is complete."""
    import care.models  # noqa: F401
    import community.models  # noqa: F401
    import content.models  # noqa: F401
    import crm.models  # noqa: F401
    import diary.models  # noqa: F401
    import journeys.models  # noqa: F401
    import recommender.models  # noqa: F401
    import rewards.models  # noqa: F401


def months_before(day: date, months: int) -> date:
    """The same day `months` calendar months earlier, clamped to the month's end."""
    import calendar
    year, month0 = divmod(day.year * 12 + day.month - 1 - months, 12)
    return date(year, month0 + 1, min(day.day, calendar.monthrange(year, month0 + 1)[1]))


passwords.use_fast_hashing(True)  # every account made by the suite uses cheap Argon2 settings


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--clock-at", default=os.environ.get("TEST_CLOCK_AT") or None, metavar="WHEN",
        help="move the process clock to WHEN (ISO date or date-time, UTC) for the whole run, "
             "ticking from there; proves that no test depends on the day it runs "
             "(also TEST_CLOCK_AT)")
    parser.addoption(
        "--shard", default=None, metavar="K/N",
        help="run the K-th of N shares of the suite (whole test files, shared out by their "
             "number of tests): N processes with K = 1..N run the whole suite between them "
             "(scripts/test.sh splits the shifted-clock run this way over the cores)")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    shard = config.getoption("--shard")
    if not shard:
        return
    k, _, n = shard.partition("/")
    if not (k.isdigit() and n.isdigit() and 1 <= int(k) <= int(n)):
        raise pytest.UsageError(f"--shard wants K/N with 1 <= K <= N, not {shard!r}")
    # Whole files go to one shard (a module's fixtures are set up once, not in every shard),
    # each to the shard with the least work so far; a browser test weighs as much as a
    # handful of others.
    files: dict[str, list[pytest.Item]] = {}
    for item in items:
        files.setdefault(item.nodeid.split("::")[0], []).append(item)
    work = [0] * int(n)
    keep, drop = [], []
    for tests in files.values():
        lightest = work.index(min(work))
        work[lightest] += sum(8 if t.get_closest_marker("browser") else 1 for t in tests)
        (keep if lightest == int(k) - 1 else drop).extend(tests)
    items[:] = keep
    config.hook.pytest_deselected(items=drop)


def pytest_configure(config: pytest.Config) -> None:
    when = config.getoption("--clock-at")
    if when:
        config.stash[_TRAVELLER] = start_travel(when)


def pytest_unconfigure(config: pytest.Config) -> None:
    traveller = config.stash.get(_TRAVELLER, None)
    if traveller is not None:
        traveller.stop()


def pytest_report_header(config: pytest.Config) -> str:
    when = config.getoption("--clock-at")
    return f"clock: moved to {when} UTC (--clock-at)" if when else "clock: real time"


_TRAVELLER = pytest.StashKey[Any]()


def start_travel(when: str | datetime, tick: bool = True) -> Any:
    """Move every clock of the process (datetime, time, in all threads) to `when`, UTC."""
    import time_machine
    instant = datetime.fromisoformat(when) if isinstance(when, str) else when
    if instant.tzinfo is None:
        instant = instant.replace(tzinfo=UTC)
    traveller = time_machine.travel(instant, tick=tick)
    traveller.start()
    return traveller


@pytest.fixture()
def clock_at() -> Iterator[Callable[[str | datetime], None]]:
    """Fix the clock for one test: `clock_at("2026-03-01T04:00")` (UTC); it keeps ticking
    from there and goes back when the test ends."""
    travellers: list[Any] = []
    yield lambda when: travellers.append(start_travel(when))
    for traveller in reversed(travellers):
        traveller.stop()


@pytest.fixture(autouse=True)
def _clock_mark(request: pytest.FixtureRequest) -> Iterator[None]:
    """`@pytest.mark.clock_at("2026-11-23T04:00")` (on a test or a module): the test runs at
    that instant (UTC, ticking on), for tests written around fixed dates."""
    marker = request.node.get_closest_marker("clock_at")
    if marker is None:
        yield
        return
    traveller = start_travel(marker.args[0])
    yield
    traveller.stop()


def run_at_once(work: Callable[[], Any], count: int = 2) -> list[BaseException]:
    """Run `work` in `count` threads released together (as schedulers racing each other);
    returns the errors they raised, so a test can assert there were none."""
    errors: list[BaseException] = []
    barrier = threading.Barrier(count)

    def racer() -> None:
        try:
            barrier.wait()
            work()
        except BaseException as error:  # noqa: BLE001 - returned to the test
            errors.append(error)

    threads = [threading.Thread(target=racer) for _ in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def _truthy(name: str) -> bool:
    return os.environ.get(name, "").lower() in {"1", "true", "yes"}


def _create_postgres_database(admin_url: str) -> tuple[str, Callable[[], None]]:
    """A throwaway database on the given server; returns its URL and a dropper."""
    name = f"test_{secrets.token_hex(4)}"
    admin = db.make_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = make_url(admin_url).set(database=name).render_as_string(hide_password=False)

    def drop() -> None:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    return url, drop


def migrated_database_url(tmp_dir: Path) -> tuple[str, Callable[[], None]]:
    """A new, migrated, empty database for this run (SQLite file or PostgreSQL database)."""
    pg_url = os.environ.get("TEST_DATABASE_URL")
    if pg_url:
        try:
            url, drop = _create_postgres_database(pg_url)
        except Exception as error:  # noqa: BLE001 - reported as the reason
            pytest.exit(f"TEST_DATABASE_URL is set but PostgreSQL is unusable: {error}", 3)
    else:
        if _truthy("REQUIRE_POSTGRES"):
            pytest.exit("REQUIRE_POSTGRES is set but TEST_DATABASE_URL is not", 3)
        url, drop = f"sqlite:///{tmp_dir / 'test.db'}", (lambda: None)
    from alembic import command
    command.upgrade(alembic_config(url), "head")
    return url, drop


@functools.cache
def site_links() -> Any:
    """The links the web layer hands the domain (`journeys.links.SiteLinks`), from the testing
    app's URL map on SITE_URL http://localhost: for domain tests that render email."""
    from webapp.links import site_links as links_of
    return links_of(create_app("testing"))


@pytest.fixture(scope="session")
def database_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    url, drop = migrated_database_url(tmp_path_factory.mktemp("db"))
    yield url
    drop()


@pytest.fixture(scope="session")
def engine(database_url: str) -> Iterator[Engine]:
    engine = db.make_engine(database_url)
    yield engine
    engine.dispose()


@pytest.fixture()
def session_factory(engine: Engine) -> Iterator[sessionmaker]:
    connection = engine.connect()
    outer = connection.begin()
    factory = db.make_session_factory(connection, join_transaction_mode="create_savepoint")
    yield factory
    outer.rollback()
    connection.close()


@pytest.fixture()
def session(session_factory: sessionmaker) -> Iterator[Session]:
    s = session_factory()
    yield s
    s.close()


@pytest.fixture()
def mailer() -> MemoryMailer:
    return MemoryMailer()


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    """Override in a test module to change config (e.g. turn CSRF on)."""
    return {}


@pytest.fixture(autouse=True)
def _cold_this_week_cache() -> Iterator[None]:
    """Ids and times repeat between rolled-back tests: every test starts with no "this
    week" answers and no suggestion blocks kept (per-process caches)."""
    from webapp import suggestion_blocks

    library.forget_cached_this_week()
    suggestion_blocks.forget()
    yield
    library.forget_cached_this_week()
    suggestion_blocks.forget()


@pytest.fixture()
def app(session_factory: sessionmaker, tmp_path: Path, mailer: MemoryMailer,
        app_overrides: dict[str, Any]) -> Flask:
    # Unexpected errors propagate to the test by default; a module that wants to see the
    # 500 page a visitor would get overrides `app_overrides` with PROPAGATE_UNEXPECTED=False.
    settings = {"PROPAGATE_UNEXPECTED": True, **app_overrides}
    application = create_app("testing", SESSION_FACTORY=session_factory,
                             UPLOAD_DIR=tmp_path / "uploads", RECO_ARTIFACT_DIR=tmp_path / "reco",
                             MAIL_OUTBOX_DIR=tmp_path / "outbox", **settings)
    application.extensions["mailer"] = mailer
    fragments.clear()  # ids repeat between rolled-back tests; start every test cold
    return application


@pytest.fixture()
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture()
def runner(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_cli_runner()


@pytest.fixture()
def login_as(client: FlaskClient) -> Callable[[User], FlaskClient]:
    def login(user: User, password: str = PASSWORD) -> FlaskClient:
        client.post("/logout")
        response = client.post("/login", data={"email": user.email, "password": password})
        assert response.status_code == 302, response.get_data(as_text=True)[:500]
        return client
    return login


@pytest.fixture()
def make_family(session: Session) -> Callable[..., tuple[User, Child]]:
    """Register a parent with one baby through the real service; returns (user, child).
    The address counts as proven unless `verified=False` (tests of unverified accounts)."""

    def make(email: str | None = None, born: bool = True, tz: str = "Asia/Shanghai",
             birth_date: date | None = None, due_date: date | None = None,
             verified: bool = True, **child: Any) -> tuple[User, Child]:
        email = email or f"parent-{secrets.token_hex(4)}@example.com"
        if born:
            details = families.ChildDetails(
                name=child.pop("name", "Mia"), birth_date=birth_date or local_today(tz)
                - timedelta(days=100), sex=child.pop("sex", "female"), **child)
        else:
            details = families.ChildDetails(
                name=child.pop("name", "Bean"),
                due_date=due_date or local_today(tz) + timedelta(days=140), **child)
        done = registration.register(session, registration.Registration(
            email=email, password=PASSWORD,
            profile=accounts.Profile(display_name=email.split("@")[0], timezone=tz),
            relationship="mother", child_data_consent=True, digest_opt_in=True,
            marketing_opt_in=False, child=details), "test")
        if verified:
            done.user.email_verified_at = clock.utcnow()
        session.commit()
        assert done.child is not None
        return done.user, done.child

    return make
