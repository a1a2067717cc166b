"""The Alembic migrations create exactly the schema the models describe, and run backwards."""
from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

import db
from tests.conftest import load_all_models
from webapp.cli import alembic_config


def test_models_and_migrations_agree(engine):
    load_all_models()
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"include_object": db.include_in_autogenerate,
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
