"""A click link counts once: racing clicks make one row, and the migration folds the repeats
an older version logged into the first click of each link."""
from __future__ import annotations

import os
from datetime import UTC, datetime, timedelta

from alembic import command
from alembic.script import ScriptDirectory
from sqlalchemy import column, select, table

import db
from journeys import digests
from journeys.models import EmailClick, click_key
from tests.conftest import _create_postgres_database, migrated_database_url, run_at_once
from webapp.cli import alembic_config

SECRET = "s" * 32
T0 = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def test_two_clicks_at_once_make_one_row(tmp_path):
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    click = digests.read_click_token(SECRET, digests.make_click_token(
        SECRET, 41, 42, "article:a", "/articles/a"))  # rows gone: the ids are NULL
    won: list[bool] = []

    def click_once() -> None:
        with factory() as s, s.begin():
            won.append(digests.record_click(s, click, T0))

    try:
        assert run_at_once(click_once, 4) == []
        assert sorted(won) == [False, False, False, True]
        with factory() as s:
            assert s.execute(select(EmailClick.item_key, EmailClick.url)).all() == [
                ("article:a", "/articles/a")]
    finally:
        engine.dispose()
        drop()


def test_the_migration_keeps_the_first_click_of_each_link(tmp_path):
    if os.environ.get("TEST_DATABASE_URL"):
        url, drop = _create_postgres_database(os.environ["TEST_DATABASE_URL"])
    else:
        url, drop = f"sqlite:///{tmp_path / 'clicks.db'}", (lambda: None)
    engine = db.make_engine(url)
    try:
        before_clicks = ScriptDirectory.from_config(alembic_config(url)).get_revision(
            "0006s").down_revision  # whatever the migration follows
        command.upgrade(alembic_config(url), before_clicks)
        old = [  # what was logged before: every GET a row (no deliveries or users, for short)
            ("article:a", "/articles/a", T0 + timedelta(hours=2)),
            ("article:a", "/articles/a", T0),  # the first click of that link
            ("article:a", "/articles/a", T0 + timedelta(days=1)),
            ("article:b", "/articles/b", T0 + timedelta(hours=5)),
            (None, "/inbox", T0 + timedelta(hours=1)),
            (None, "/inbox", T0 + timedelta(hours=3)),
            (None, "/library", T0 + timedelta(hours=4)),
        ]
        before = table("email_clicks", column("item_key"), column("url"),
                       column("clicked_at", db.UTCDateTime()))
        with engine.begin() as conn:
            conn.execute(before.insert(), [{"item_key": i, "url": u, "clicked_at": t}
                                           for i, u, t in old])
        command.upgrade(alembic_config(url), "head")
        clicks = EmailClick.__table__
        with engine.connect() as conn:
            rows = conn.execute(select(clicks.c.item_key, clicks.c.url, clicks.c.clicked_at,
                                       clicks.c.click_key).order_by(clicks.c.clicked_at)).all()
        assert [(i, u, t) for i, u, t, _ in rows] == [
            ("article:a", "/articles/a", T0), (None, "/inbox", T0 + timedelta(hours=1)),
            (None, "/library", T0 + timedelta(hours=4)),
            ("article:b", "/articles/b", T0 + timedelta(hours=5))]
        # the keys are the ones the app computes, so a later click on an old link is a repeat
        assert [k for *_, k in rows] == [
            click_key(None, None, i, u) for i, u, *_ in rows]
        command.downgrade(alembic_config(url), before_clicks)
        command.upgrade(alembic_config(url), "head")
    finally:
        engine.dispose()
        drop()
