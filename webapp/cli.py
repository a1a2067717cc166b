"""Command-line tools: `flask db …`, `flask demo load`, `flask staff create`."""
from __future__ import annotations

from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup

from config import BASE_DIR


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(BASE_DIR / "alembic.ini"))
    cfg.attributes["url"] = url
    return cfg


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(staff_cli)


@click.group("db", cls=AppGroup, help="Database migrations (Alembic).")
def db_cli() -> None:
    pass


@db_cli.command("upgrade", help="Apply migrations up to REVISION (default: head).")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    url = current_app.config["DATABASE_URL"]
    if url.startswith("sqlite:///"):
        Path(url.removeprefix("sqlite:///")).parent.mkdir(parents=True, exist_ok=True)
    command.upgrade(alembic_config(url), revision)


@db_cli.command("downgrade", help="Revert migrations down to REVISION.")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_cli.command("current", help="Show the database's revision.")
def db_current() -> None:
    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@click.group("demo", cls=AppGroup, help="Demo data for trying the site.")
def demo_cli() -> None:
    pass


@demo_cli.command("load", help="Create the demo families and staff (safe to run again).")
def demo_load() -> None:
    from diary import demo
    from webapp.database import get_session
    from webapp.services import photo_store

    session = get_session()
    with session.begin():
        report = demo.load(session, photo_store())
    click.echo(report.summary())


@click.group("staff", cls=AppGroup, help="Staff accounts (marketer, analyst, admin).")
def staff_cli() -> None:
    pass


@staff_cli.command("create", help="Create a staff account, or give an existing one a role.")
@click.option("--email", required=True)
@click.option("--role", required=True, type=click.Choice(["marketer", "analyst", "admin"]))
@click.option("--name", default="Staff")
@click.password_option()
def staff_create(email: str, role: str, name: str, password: str) -> None:
    from diary import accounts
    from diary.errors import DiaryError
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            user = accounts.create_staff(session, email, password, role, name)
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{user.email} is now {role} (member {user.member_no}).")
