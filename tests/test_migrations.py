"""The Alembic migrations create exactly the schema the models describe, and run backwards."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import db
from webapp.cli import alembic_config


def _include(obj, name, type_, reflected, compare_to):  # type: ignore[no-untyped-def]
    if type_ == "table" and name and name.startswith("entry_fts"):
        return False
    return not (type_ == "index" and name == "ix_entries_search")


def test_models_and_migrations_agree(engine):
    db.load_all_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": _include,
                                                         "compare_type": True})
        assert compare_metadata(context, db.Base.metadata) == []


def test_downgrade_to_base_and_up_again(tmp_path):
    url = f"sqlite:///{tmp_path / 'm.db'}"
    command.upgrade(alembic_config(url), "head")
    command.downgrade(alembic_config(url), "base")
    engine = db.make_engine(url)
    with engine.connect() as conn:
        tables = {row[0] for row in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type='table'")}
    assert tables == {"alembic_version"}
    command.upgrade(alembic_config(url), "head")
    engine.dispose()
