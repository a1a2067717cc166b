"""Health and readiness checks for load balancers and orchestrators (`/healthz`, `/readyz`).

Both are cheap: one `SELECT 1` (plus, for readiness, one read of `alembic_version`); neither
reads the session cookie, loads a user, counts a visit or a rate limit. A failed check
answers 503 with `{"status": "error", "checks": {name: reason}}`, so whoever looks sees why.

- **health** (is this process able to serve at all?): the database answers.
- **readiness** (should the load balancer send it traffic?): health, the database's schema is
  at the migrations' head (a new release's workers wait while `flask db upgrade` runs, and an
  old worker stops taking traffic once the schema moved past it), and the upload folder is
  writable (photo uploads would fail otherwise).
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

from sqlalchemy import text

from config import ALEMBIC_INI

#: Reasons are short and never carry connection strings or passwords.
Checks = dict[str, str]


@functools.cache
def migration_heads() -> frozenset[str]:
    """The revisions `flask db upgrade` ends at (read once per process from the files)."""
    from alembic.config import Config as AlembicConfig
    from alembic.script import ScriptDirectory

    cfg = AlembicConfig(str(ALEMBIC_INI))
    return frozenset(ScriptDirectory.from_config(cfg).get_heads())


def check_database(session: Any) -> str | None:
    """None when the database answers `SELECT 1`, else a short reason."""
    try:
        session.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - any failure is "not healthy"
        _rollback(session)
        return f"database unavailable ({type(error).__name__})"
    return None


def check_migrations(session: Any) -> str | None:
    try:
        current = set(session.scalars(text("SELECT version_num FROM alembic_version")))
    except Exception as error:  # noqa: BLE001
        _rollback(session)
        return f"no migration state ({type(error).__name__}): run `flask db upgrade`"
    heads = migration_heads()
    if current != heads:
        return (f"schema at {','.join(sorted(current)) or 'nothing'}, code expects "
                f"{','.join(sorted(heads))}: run `flask db upgrade`")
    return None


def check_upload_dir(folder: Path) -> str | None:
    target = folder if folder.exists() else folder.parent
    if not target.is_dir() or not os.access(target, os.W_OK | os.X_OK):
        return "upload folder is not writable"
    return None


def _rollback(session: Any) -> None:
    try:
        session.rollback()
    except Exception:  # noqa: BLE001, S110 - the connection is already broken
        pass


def health(session: Any) -> Checks:
    problem = check_database(session)
    return {"database": problem} if problem else {}


def readiness(session: Any, upload_dir: Path) -> Checks:
    problems = health(session)
    if not problems:
        problem = check_migrations(session)
        if problem:
            problems["migrations"] = problem
    problem = check_upload_dir(upload_dir)
    if problem:
        problems["uploads"] = problem
    return problems


def answer(problems: Checks) -> tuple[dict[str, Any], int]:
    if problems:
        return {"status": "error", "checks": problems}, 503
    return {"status": "ok"}, 200
