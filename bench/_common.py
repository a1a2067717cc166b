"""What the benchmarks share: a throwaway database, migrations, logging, machine facts.

Each bench script prints one JSON object on stdout and logs progress to stderr; they import
this module from their own folder (`python bench/x.py` puts bench/ on sys.path).
"""
from __future__ import annotations

import secrets
import sqlite3
import sys
from pathlib import Path
from typing import Any, Callable


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """The benchmark could not produce a meaningful measurement."""


def create_database(tmp: Path, database_url: str | None,
                    name: str = "bench.db") -> tuple[str, str, Callable[[], None]]:
    """A new empty database; returns (url, dialect name, dropper)."""
    if not database_url:
        return f"sqlite:///{tmp / name}", "sqlite", (lambda: None)
    import db
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    base = make_url(database_url)
    if not base.drivername.startswith("postgresql"):
        raise BenchError("--database-url must point at a PostgreSQL server "
                         "(postgresql+psycopg://user@host:port/dbname)")
    name = f"bench_{secrets.token_hex(4)}"
    admin = db.make_engine(database_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'CREATE DATABASE "{name}"'))
    url = base.set(database=name).render_as_string(hide_password=False)
    log(f"created PostgreSQL database {name}")
    return url, "postgresql", dropper(admin, name)


def dropper(admin: Any, name: str) -> Callable[[], None]:
    from sqlalchemy import text

    def drop() -> None:
        try:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            log(f"dropped PostgreSQL database {name}")
        finally:
            admin.dispose()

    return drop


def migrate(url: str) -> None:
    from alembic import command

    from webapp.cli import alembic_config

    command.upgrade(alembic_config(url), "head")


def make_password_hash() -> str:
    """One real Argon2id hash (cheap parameters) shared by every bench parent."""
    from argon2 import PasswordHasher

    return PasswordHasher(time_cost=1, memory_cost=8, parallelism=1).hash("bench-password-123")


def on_sigterm(_signum: int, _frame: Any) -> None:
    raise SystemExit(143)


def read_server_version(engine: Any) -> str:
    if engine.dialect.name == "sqlite":
        return sqlite3.sqlite_version
    with engine.connect() as conn:
        return str(conn.exec_driver_sql("SHOW server_version").scalar())


def machine_facts(load_before: float, db_version: str | None = None) -> dict[str, Any]:
    """The machine a result came from; the load shows whether it was shared at the time."""
    import os
    import platform

    facts: dict[str, Any] = {"cpus": os.cpu_count(), "python": platform.python_version(),
                             "platform": platform.platform()}
    if db_version is not None:
        facts["db_version"] = db_version
    facts["load_avg_1m"] = {"before": round(load_before, 2),
                            "after": round(os.getloadavg()[0], 2)}
    return facts
