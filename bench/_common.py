"""What the benchmarks share: a throwaway database, migrations, logging, machine facts.

Each bench script prints one JSON object on stdout and logs progress to stderr; they import
this module from their own folder (`python bench/x.py` puts bench/ on sys.path).
"""
from __future__ import annotations

import secrets
import sqlite3
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any


def log(message: str) -> None:
    print(f"[bench] {message}", file=sys.stderr, flush=True)


class BenchError(RuntimeError):
    """The benchmark could not produce a meaningful measurement."""


def create_database(tmp: Path, database_url: str | None,
                    name: str = "bench.db") -> tuple[str, str, Callable[[], None]]:
    """A new empty database; returns (url, dialect name, dropper)."""
    if not database_url:
        return f"sqlite:///{tmp / name}", "sqlite", (lambda: None)
    from sqlalchemy import text
    from sqlalchemy.engine import make_url

    import db

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


class Run:
    """One benchmark run's frame: JSON alone on stdout (libraries' prints go to stderr),
    Ctrl-C and SIGTERM turned into a clean stop, a temp folder, and clean-up steps that run in
    reverse order however the run ends. With `keep`, only the steps marked `always` run and
    the folder stays, for profiling afterwards."""

    def __init__(self, prefix: str, *, keep: bool = False, check: bool = False) -> None:
        import tempfile

        self.tmp = Path(tempfile.mkdtemp(prefix=prefix))
        self.keep, self.check = keep, check
        self._steps: list[tuple[Callable[[], None], bool]] = []

    def on_exit(self, step: Callable[[], None], *, always: bool = False) -> None:
        self._steps.append((step, always))

    def database(self, database_url: str | None, *, drop_when_kept: bool = False
                 ) -> tuple[str, str]:
        """A new, migrated database (a SQLite file in the temp folder, or a new database on
        the PostgreSQL server at `database_url`), dropped at the end. Returns (url, dialect)."""
        url, dialect, drop = create_database(self.tmp, database_url)
        self.on_exit(drop, always=drop_when_kept)
        log(f"migrating the {dialect} database in {self.tmp}")
        migrate(url)
        return url, dialect

    def execute(self, measure: Callable[[], dict[str, Any]]) -> int:
        """Run `measure`, print its report; exit code 1 when the report lists problems (or,
        with `check`, misses its targets), 130 on Ctrl-C."""
        import json
        import shutil
        import signal

        real_stdout = sys.stdout
        sys.stdout = sys.stderr
        signal.signal(signal.SIGTERM, on_sigterm)
        signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started ignored
        try:
            report = measure()
            real_stdout.write(json.dumps(report) + "\n")
            real_stdout.flush()
            if report.get("problems"):
                return 1
            return 1 if self.check and not report.get("meets_targets") else 0
        except BenchError as error:
            log(f"error: {error}")
            return 1
        except KeyboardInterrupt:
            log("interrupted")
            return 130
        finally:
            signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            sys.stdout = real_stdout
            for step, always in reversed(self._steps):
                if always or not self.keep:
                    try:
                        step()
                    except Exception as error:  # noqa: BLE001 - reported, clean-up goes on
                        log(f"clean-up step failed: {error}")
            if self.keep:
                log(f"kept {self.tmp}")
            else:
                shutil.rmtree(self.tmp, ignore_errors=True)
