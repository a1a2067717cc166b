"""`flask db upgrade` on start, from several containers at once: one migrates, the others wait
for it (PostgreSQL advisory lock; a file lock on SQLite), then all find the schema at head."""
from __future__ import annotations

import fcntl
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import text

import db
from config import BASE_DIR
from tests.conftest import _create_postgres_database
from webapp import cli, health


@pytest.fixture()
def fresh_url(tmp_path):  # type: ignore[no-untyped-def]
    """An empty database (no tables): PostgreSQL with TEST_DATABASE_URL, else a SQLite file."""
    admin = os.environ.get("TEST_DATABASE_URL")
    if admin:
        url, drop = _create_postgres_database(admin)
        yield url
        drop()
    else:
        yield f"sqlite:///{tmp_path / 'data' / 'app.db'}"


def _upgrade(url: str, folder: Path) -> subprocess.Popen:
    env = {**os.environ, "APP_ENV": "development", "DATABASE_URL": url, "FLASK_APP": "wsgi",
           "INSTANCE_PATH": str(folder)}
    return subprocess.Popen([sys.executable, "-m", "flask", "db", "upgrade"], cwd=BASE_DIR,
                            env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)


def test_two_upgrades_at_once_all_succeed_and_end_at_head(fresh_url, tmp_path):
    procs = [_upgrade(fresh_url, tmp_path / f"i{n}") for n in range(2)]
    outputs = [p.communicate(timeout=300)[0].decode() for p in procs]
    assert [p.returncode for p in procs] == [0, 0], "\n".join(outputs)[-3000:]
    engine = db.make_engine(fresh_url)
    with engine.connect() as conn:
        versions = set(conn.scalars(text("SELECT version_num FROM alembic_version")))
    engine.dispose()
    assert versions == health.migration_heads()
    # exactly one of them ran the migrations; the others found nothing to do
    assert sum("Running upgrade  -> 0001" in out for out in outputs) == 1


def test_the_lock_is_held_while_migrating(fresh_url):
    with cli.migration_lock(fresh_url):
        if fresh_url.startswith("sqlite"):
            path = Path(fresh_url.removeprefix("sqlite:///"))
            with open(path.with_name(path.name + ".migrate-lock"), "a") as other, \
                    pytest.raises(BlockingIOError):
                fcntl.flock(other, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            engine = db.make_engine(fresh_url)
            with engine.connect() as conn:
                got = conn.scalar(text("SELECT pg_try_advisory_lock(:k)"),
                                  {"k": cli.MIGRATION_LOCK_KEY})
            engine.dispose()
            assert got is False
    # released afterwards
    if not fresh_url.startswith("sqlite"):
        engine = db.make_engine(fresh_url)
        with engine.connect() as conn:
            assert conn.scalar(text("SELECT pg_try_advisory_lock(:k)"),
                               {"k": cli.MIGRATION_LOCK_KEY}) is True
        engine.dispose()
