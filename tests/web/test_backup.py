"""`flask backup create|restore`: a round trip on the suite's database kind (SQLite, or
PostgreSQL with TEST_DATABASE_URL) brings every row and every uploaded file back exactly, and
drops what was added since; restore refuses to overwrite without --yes, and refuses archives
that are not ours or of the other database kind."""
from __future__ import annotations

import io
import tarfile
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import delete, select, update

import db
from db import Base
from diary.models import Child, User
from tests.conftest import migrated_database_url
from tests.journeys.test_digests import make_parent
from webapp import backup, create_app

#: The families are made as of a fixed date (make_parent's `now`): the clock stands there too.
pytestmark = pytest.mark.clock_at("2026-11-23T02:00")


def snapshot(factory) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    """Every row of every table, as text."""
    with factory() as s:
        return {t.name: sorted(repr(tuple(r)) for r in s.execute(select(*t.c)))
                for t in Base.metadata.sorted_tables}


def files(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture()
def site(tmp_path):  # type: ignore[no-untyped-def]
    """A committed database with two families and an upload folder with photos."""
    (tmp_path / "db").mkdir()
    url, drop = migrated_database_url(tmp_path / "db")
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    now = datetime(2026, 11, 23, 1, tzinfo=UTC)
    with factory() as s, s.begin():
        make_parent(s, "ann@example.com", now=now, name="Ann's baby")
        make_parent(s, "bo@example.com", now=now, name="小宝")
    uploads = tmp_path / "uploads"
    (uploads / "ab" / "cd").mkdir(parents=True)
    (uploads / "ab" / "cd" / "photo.jpg").write_bytes(b"\xff\xd8\xff" + bytes(range(256)) * 40)
    (uploads / "content").mkdir()
    (uploads / "content" / "img.webp").write_bytes(b"RIFF....WEBP")
    app = create_app("testing", DATABASE_URL=url, UPLOAD_DIR=uploads,
                     RECO_ARTIFACT_DIR=tmp_path / "reco")
    yield app, factory, uploads
    engine.dispose()
    app.extensions["session_factory"].kw["bind"].dispose()
    drop()


def test_round_trip_brings_rows_and_photos_back_exactly(site, tmp_path):
    app, factory, uploads = site
    runner = app.test_cli_runner()
    rows_before, files_before = snapshot(factory), files(uploads)
    archive = tmp_path / "backups" / "site.tar"
    made = runner.invoke(args=["backup", "create", str(archive)])
    assert made.exit_code == 0, made.output
    assert "and 2 uploaded files to" in made.output
    # the site goes on: a row changed, one deleted, one added; a photo lost, one added
    with factory() as s, s.begin():
        s.execute(update(Child).where(Child.name == "小宝").values(name="changed"))
        ann = s.scalar(select(User).where(User.email == "ann@example.com"))
        ann.display_name = "Someone else"
        make_parent(s, "new@example.com", name="Later")
    (uploads / "ab" / "cd" / "photo.jpg").unlink()
    (uploads / "later.jpg").write_bytes(b"later")
    assert snapshot(factory) != rows_before
    # without --yes nothing is touched
    refused = runner.invoke(args=["backup", "restore", str(archive)])
    assert refused.exit_code == 1
    assert "Run again with --yes to overwrite." in refused.output
    assert files(uploads)["later.jpg"] == b"later"
    restored = runner.invoke(args=["backup", "restore", "--yes", str(archive)])
    assert restored.exit_code == 0, restored.output
    assert snapshot(factory) == rows_before
    assert files(uploads) == files_before
    assert not list(uploads.parent.glob(".uploads*"))  # no leftovers beside it


def test_create_never_overwrites_an_archive(site, tmp_path):
    app, _, _ = site
    target = tmp_path / "exists.tar"
    target.write_bytes(b"precious")
    result = app.test_cli_runner().invoke(args=["backup", "create", str(target)])
    assert result.exit_code == 1 and "exists already" in result.output
    assert target.read_bytes() == b"precious"


def test_restore_into_an_empty_place_needs_no_yes(site, tmp_path):
    app, factory, uploads = site
    archive = tmp_path / "a.tar"
    assert app.test_cli_runner().invoke(args=["backup", "create", str(archive)]).exit_code == 0
    before = snapshot(factory)
    if app.config["DATABASE_URL"].startswith("sqlite"):
        url = f"sqlite:///{tmp_path / 'elsewhere' / 'app.db'}"
        other = create_app("testing", DATABASE_URL=url, UPLOAD_DIR=tmp_path / "up2",
                           RECO_ARTIFACT_DIR=tmp_path / "reco2")
        result = other.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
        assert result.exit_code == 0, result.output
        engine = db.make_engine(url)
        assert snapshot(db.make_session_factory(engine)) == before
        engine.dispose()
        assert files(tmp_path / "up2") == files(uploads)
    else:
        with factory() as s, s.begin():  # empty the tables: still not "empty" (tables exist)
            s.execute(delete(Child))
        result = app.test_cli_runner().invoke(args=["backup", "restore", str(archive)])
        assert result.exit_code == 1 and "--yes" in result.output


@pytest.mark.parametrize("content", ["not an archive", "no manifest", "other kind",
                                     "escape"])
def test_restore_refuses_what_is_not_our_archive(site, tmp_path, content):
    app, factory, uploads = site
    archive = tmp_path / "bad.tar"
    if content == "not an archive":
        archive.write_bytes(b"hello")
    else:
        with tarfile.open(archive, "w") as tar:
            def add(name: str, data: bytes) -> None:
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
            if content != "no manifest":
                other = "postgresql" if app.config["DATABASE_URL"].startswith("sqlite") \
                    else "sqlite"
                kind = other if content == "other kind" else \
                    ("sqlite" if other == "postgresql" else "postgresql")
                add("manifest.json", (f'{{"format": 1, "dialect": "{kind}", "revision": "x",'
                                      f' "created_at": "now", "files": 1}}').encode())
            add("../../escaped.txt", b"evil")
    before_rows, before_files = snapshot(factory), files(uploads)
    result = app.test_cli_runner().invoke(args=["backup", "restore", "--yes", str(archive)])
    assert result.exit_code == 1
    assert result.output.startswith("Error: ")
    assert snapshot(factory) == before_rows and files(uploads) == before_files
    assert not (tmp_path.parent / "escaped.txt").exists()
    assert not any(p.name == "escaped.txt" for p in tmp_path.rglob("*"))


def test_pg_binaries_are_found_or_named(monkeypatch, tmp_path):
    fake = tmp_path / "bin"
    fake.mkdir()
    tool = fake / "pg_dump"
    tool.write_text("#!/bin/sh\n")
    tool.chmod(0o755)
    monkeypatch.setenv("PG_BIN_DIR", str(fake))
    assert backup.pg_binary("pg_dump") == str(tool)
    with pytest.raises(backup.BackupError, match="no_such_tool not found"):
        backup.pg_binary("no_such_tool")
