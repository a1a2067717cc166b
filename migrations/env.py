"""Alembic environment: one metadata (db.Base) for every package's tables."""
from __future__ import annotations

from logging.config import fileConfig

from alembic import context

import db
from config import config_for

config = context.config
if config.config_file_name is not None and not config.attributes.get("skip_logging"):
    fileConfig(config.config_file_name, disable_existing_loggers=False)

# Every package's tables, so the metadata is complete (db itself knows no domain package).
import care.models  # noqa: E402,F401
import community.models  # noqa: E402,F401
import content.models  # noqa: E402,F401
import crm.models  # noqa: E402,F401
import diary.models  # noqa: E402,F401
import journeys.models  # noqa: E402,F401
import recommender.models  # noqa: E402,F401
import rewards.models  # noqa: E402,F401

target_metadata = db.Base.metadata


def _url() -> str:
    return config.attributes.get("url") or config.get_main_option("sqlalchemy.url") \
        or config_for().DATABASE_URL


def run_migrations_offline() -> None:
    context.configure(url=_url(), target_metadata=target_metadata, literal_binds=True,
                      render_as_batch=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _run(connection)
        return
    engine = db.make_engine(_url())
    with engine.connect() as conn:
        _run(conn)
    engine.dispose()


def _run(connection) -> None:  # type: ignore[no-untyped-def]
    context.configure(connection=connection, target_metadata=target_metadata,
                      render_as_batch=connection.dialect.name == "sqlite",
                      include_object=db.include_in_autogenerate)
    with context.begin_transaction():
        context.run_migrations()




if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
