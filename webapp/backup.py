"""Backups: the database and the uploaded photos in one archive (`flask backup create|restore`).

An archive is a tar file holding `manifest.json` (format, database kind, migration revision,
when), the database, and `uploads/` (every file under UPLOAD_DIR: families' photos, ticket
attachments, content images).

- **SQLite**: SQLite's online backup API (`sqlite3.Connection.backup`), a consistent copy
  while the site runs; restored the same way, page by page, into the live file.
- **PostgreSQL**: `pg_dump -Fc` (consistent: one snapshot), restored by `pg_restore` into
  SQL that `psql` runs in a single transaction after dropping and re-creating the `public`
  schema (all or nothing; `pg_restore --clean` cannot drop the partitioned interaction
  log's inherited keys). The binaries are found as scripts/postgres.sh
  finds them (PG_BIN_DIR, `pg_config --bindir`, the newest /usr/lib/postgresql/*/bin, PATH:
  pg_dump, pg_restore, psql);
  they must be at least the server's major version. The password goes in PGPASSWORD, never
  on a command line.

Restoring replaces what is there: the caller refuses without `--yes` when the database has
tables or UPLOAD_DIR has files. Stop the web, scheduler and sender processes first (or put
the site in maintenance): a restore under live writes mixes old and new.
"""
from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import inspect, text
from sqlalchemy.engine import URL, make_url

import db
from clock import utcnow

FORMAT = 1
MANIFEST = "manifest.json"
SQLITE_NAME = "database.sqlite3"
PG_NAME = "database.pgdump"
UPLOADS = "uploads"


class BackupError(Exception):
    """A backup or restore that cannot go ahead, with the reason for the operator."""


@dataclass(frozen=True)
class Manifest:
    format: int
    dialect: str
    revision: str | None
    created_at: str
    files: int


def _dialect(url: str) -> str:
    name = make_url(url).get_backend_name()
    if name not in ("sqlite", "postgresql"):
        raise BackupError(f"backups support SQLite and PostgreSQL, not {name}")
    return name


def _sqlite_path(url: str) -> Path:
    database = make_url(url).database
    if not database or database == ":memory:":
        raise BackupError("an in-memory SQLite database cannot be backed up")
    return Path(database)


# --- PostgreSQL binaries ------------------------------------------------------------------

def pg_binary(name: str) -> str:
    """Where `pg_dump` / `pg_restore` is, as scripts/postgres.sh looks for the server."""
    candidates: list[Path] = []
    if os.environ.get("PG_BIN_DIR"):
        candidates.append(Path(os.environ["PG_BIN_DIR"]) / name)
    pg_config = shutil.which("pg_config")
    if pg_config:
        try:
            bindir = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True,
                                    check=True, timeout=10).stdout.strip()
            candidates.append(Path(bindir) / name)
        except (subprocess.SubprocessError, OSError):
            pass
    versions = sorted(Path("/usr/lib/postgresql").glob("*/bin"),
                      key=lambda p: [int(x) for x in p.parent.name.split(".") if x.isdigit()])
    candidates.extend(folder / name for folder in reversed(versions))
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return str(candidate)
    raise BackupError(f"{name} not found: install the PostgreSQL client tools or set "
                      "PG_BIN_DIR")


def _pg_args(url: URL) -> tuple[list[str], dict[str, str]]:
    args = []
    if url.host:
        args += ["-h", url.host]
    if url.port:
        args += ["-p", str(url.port)]
    if url.username:
        args += ["-U", url.username]
    env = {**os.environ}
    if url.password:
        env["PGPASSWORD"] = str(url.password)
    return args, env


def _run(cmd: list[str], env: dict[str, str]) -> None:
    done = subprocess.run(cmd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BackupError(f"{Path(cmd[0]).name} failed ({done.returncode}): "
                          f"{done.stderr.strip()[-2000:]}")


# --- what is there ------------------------------------------------------------------------

def _revision(url: str) -> str | None:
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            if not inspect(conn).has_table("alembic_version"):
                return None
            return ",".join(sorted(conn.scalars(text("SELECT version_num FROM alembic_version"))))
    finally:
        engine.dispose()


def database_has_tables(url: str) -> bool:
    if _dialect(url) == "sqlite" and not _sqlite_path(url).exists():
        return False
    engine = db.make_engine(url)
    try:
        with engine.connect() as conn:
            return bool(inspect(conn).get_table_names())
    finally:
        engine.dispose()


def uploads_have_files(folder: Path) -> bool:
    return folder.is_dir() and any(p.is_file() for p in folder.rglob("*"))


# --- create ---------------------------------------------------------------------------------

def create(url: str, upload_dir: Path, target: Path) -> Manifest:
    """Write the archive to `target` (a new file: never over an existing one)."""
    dialect = _dialect(url)
    if target.exists():
        raise BackupError(f"{target} exists already; choose a new file name")
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="backup-", dir=target.parent) as tmp:
        work = Path(tmp)
        if dialect == "sqlite":
            dump = work / SQLITE_NAME
            source = _sqlite_path(url)
            if not source.exists():
                raise BackupError(f"no database at {source}")
            with sqlite3.connect(source) as src, sqlite3.connect(dump) as dst:
                src.backup(dst)
            src.close()
            dst.close()
        else:
            dump = work / PG_NAME
            parsed = make_url(url)
            args, env = _pg_args(parsed)
            _run([pg_binary("pg_dump"), "-Fc", "--no-owner", "-f", str(dump), *args,
                  "-d", str(parsed.database)], env)
        files = sorted(p for p in upload_dir.rglob("*") if p.is_file()) \
            if upload_dir.is_dir() else []
        manifest = Manifest(FORMAT, dialect, _revision(url),
                            utcnow().isoformat(timespec="seconds"), len(files))
        (work / MANIFEST).write_text(json.dumps(manifest.__dict__, indent=2))
        partial = work / "archive.tar"
        with tarfile.open(partial, "w") as tar:
            tar.add(work / MANIFEST, MANIFEST)
            tar.add(dump, dump.name)
            for path in files:
                tar.add(path, f"{UPLOADS}/{path.relative_to(upload_dir).as_posix()}")
        os.replace(partial, target)
    return manifest


# --- restore --------------------------------------------------------------------------------

def read_manifest(archive: Path) -> Manifest:
    try:
        with tarfile.open(archive, "r") as tar:
            member = tar.extractfile(MANIFEST)
            if member is None:
                raise KeyError(MANIFEST)
            data: dict[str, Any] = json.loads(member.read())
    except (OSError, KeyError, tarfile.TarError, ValueError) as error:
        raise BackupError(f"{archive} is not a backup archive ({error})") from None
    if data.get("format") != FORMAT:
        raise BackupError(f"unknown backup format {data.get('format')!r}")
    return Manifest(**{k: data.get(k) for k in Manifest.__dataclass_fields__})  # type: ignore[arg-type]


def restore(url: str, upload_dir: Path, archive: Path) -> Manifest:
    """Replace the database and UPLOAD_DIR with the archive's (the caller asked to)."""
    dialect = _dialect(url)
    manifest = read_manifest(archive)
    if manifest.dialect != dialect:
        raise BackupError(f"the archive holds a {manifest.dialect} database; DATABASE_URL is "
                          f"{dialect}")
    with tempfile.TemporaryDirectory(prefix="restore-") as tmp:
        work = Path(tmp)
        try:
            with tarfile.open(archive, "r") as tar:
                tar.extractall(work, filter="data")  # no absolute paths, links, ../ escapes
        except (tarfile.TarError, OSError) as error:
            raise BackupError(f"{archive} cannot be unpacked safely: {error}") from None
        if dialect == "sqlite":
            _restore_sqlite(work / SQLITE_NAME, _sqlite_path(url))
        else:
            _restore_postgres(work / PG_NAME, work / "restore.sql", make_url(url))
        _replace_uploads(work / UPLOADS, upload_dir)
    return manifest


def _restore_postgres(dump: Path, script: Path, url: URL) -> None:
    """The dump as SQL (pg_restore), run by psql in ONE transaction after emptying the
    schema: all or nothing. (`pg_restore --clean` cannot drop the interaction log's
    partitions' inherited keys, so the schema is dropped whole instead.)"""
    if not dump.is_file():
        raise BackupError("the archive has no PostgreSQL dump")
    args, env = _pg_args(url)
    body = script.with_name("body.sql")
    _run([pg_binary("pg_restore"), "--no-owner", "--no-privileges", "-f", str(body),
          str(dump)], env)
    with open(script, "w") as out:
        out.write("DROP SCHEMA IF EXISTS public CASCADE;\nCREATE SCHEMA public;\n")
        with open(body) as restored:
            shutil.copyfileobj(restored, out)
    _run([pg_binary("psql"), "-X", "-q", "-v", "ON_ERROR_STOP=1", "--single-transaction",
          *args, "-d", str(url.database), "-f", str(script)], env)


def _restore_sqlite(dump: Path, target: Path) -> None:
    if not dump.is_file():
        raise BackupError("the archive has no SQLite database")
    target.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(dump) as src, sqlite3.connect(target) as dst:
        src.backup(dst)
    src.close()
    dst.close()


def _replace_uploads(restored: Path, upload_dir: Path) -> None:
    """The archive's files become UPLOAD_DIR; the old folder is kept aside until the new
    one is in place, then removed."""
    upload_dir.parent.mkdir(parents=True, exist_ok=True)
    fresh = Path(tempfile.mkdtemp(prefix=".uploads-restoring-", dir=upload_dir.parent))
    if restored.is_dir():
        shutil.copytree(restored, fresh, dirs_exist_ok=True)
    old = upload_dir.with_name(f".{upload_dir.name}-before-restore")
    if old.exists():
        shutil.rmtree(old)
    if upload_dir.exists():
        os.replace(upload_dir, old)
    os.replace(fresh, upload_dir)
    if old.exists():
        shutil.rmtree(old)
