"""Command-line tools: `flask db …`, `flask demo load|simulate`, `flask staff create|remove`,
`flask reco …` (train, evaluate, online, purchases, partitions), `flask crm …` (scores,
clv-validate)."""
from __future__ import annotations

import io
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC
from pathlib import Path

import click
from alembic import command
from alembic.config import Config as AlembicConfig
from flask import Flask, current_app
from flask.cli import AppGroup, with_appcontext
from sqlalchemy import text as sql_text

from config import ALEMBIC_INI
from webapp.services import content_store


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ALEMBIC_INI))
    cfg.attributes["url"] = url
    return cfg


def init_app(app: Flask) -> None:
    app.cli.add_command(db_cli)
    app.cli.add_command(demo_cli)
    app.cli.add_command(staff_cli)
    app.cli.add_command(content_cli)
    app.cli.add_command(journeys_cli)
    app.cli.add_command(scheduler_cli)
    app.cli.add_command(outbox_cli)
    app.cli.add_command(backup_cli)
    app.cli.add_command(health_check)
    app.cli.add_command(emails_cli)
    app.cli.add_command(digests_cli)
    app.cli.add_command(reco_cli)
    app.cli.add_command(crm_cli)
    app.cli.add_command(care_cli)


@click.group("db", cls=AppGroup, help="Database migrations (Alembic).")
def db_cli() -> None:
    pass


#: The PostgreSQL advisory lock `flask db upgrade` holds while it migrates (any constant
#: that no other code uses; "babymig" in ASCII).
MIGRATION_LOCK_KEY = 0x6261_6279_6D69_67


@contextmanager
def migration_lock(url: str) -> Iterator[None]:
    """One migrator at a time: several web containers may start together and each runs
    `flask db upgrade`; the first migrates, the others wait, then find the schema at head.
    PostgreSQL: a session advisory lock; SQLite: an exclusive lock on a file beside the
    database."""
    import db as database

    if url.startswith("sqlite:///"):
        import fcntl

        path = Path(url.removeprefix("sqlite:///"))
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(path.with_name(path.name + ".migrate-lock"), "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
        return
    engine = database.make_engine(url)
    try:
        with engine.connect() as conn:
            locking = conn.dialect.name == "postgresql"
            if locking:
                conn.execute(sql_text("SELECT pg_advisory_lock(:key)"),
                             {"key": MIGRATION_LOCK_KEY})
                conn.commit()
            try:
                yield
            finally:
                if locking:
                    conn.execute(sql_text("SELECT pg_advisory_unlock(:key)"),
                                 {"key": MIGRATION_LOCK_KEY})
                    conn.commit()
    finally:
        engine.dispose()


def upgrade_database(url: str, revision: str = "head") -> None:
    with migration_lock(url):
        command.upgrade(alembic_config(url), revision)


@db_cli.command("upgrade", help="Apply migrations up to REVISION (default: head). Safe when "
                                "several processes run it at once: one migrates, the others "
                                "wait for it.")
@click.argument("revision", default="head")
def db_upgrade(revision: str) -> None:
    upgrade_database(current_app.config["DATABASE_URL"], revision)


@db_cli.command("downgrade", help="Revert migrations down to REVISION.")
@click.argument("revision")
def db_downgrade(revision: str) -> None:
    command.downgrade(alembic_config(current_app.config["DATABASE_URL"]), revision)


@db_cli.command("current", help="Show the database's revision.")
def db_current() -> None:
    command.current(alembic_config(current_app.config["DATABASE_URL"]))


@click.command("health", help="The /healthz check (with --ready, /readyz) from the command "
                              "line, for processes that serve no HTTP (scheduler, senders): "
                              "prints the JSON answer, exits 1 when a check fails.")
@click.option("--ready", is_flag=True, help="Also: the schema at head, uploads writable.")
@with_appcontext
def health_check(ready: bool) -> None:
    import json

    from webapp import health
    from webapp.database import get_session

    session = get_session()
    problems = health.readiness(session, Path(current_app.config["UPLOAD_DIR"])) if ready \
        else health.health(session)
    body, status = health.answer(problems)
    click.echo(json.dumps(body, sort_keys=True))
    if status != 200:
        raise SystemExit(1)


@click.group("backup", cls=AppGroup, help="Back up and restore the database and the uploaded "
                                          "photos (SQLite or PostgreSQL).")
def backup_cli() -> None:
    pass


@backup_cli.command("create", help="Write the database and UPLOAD_DIR to a new archive PATH.")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
def backup_create(path: Path) -> None:
    from webapp import backup

    try:
        manifest = backup.create(current_app.config["DATABASE_URL"],
                                 Path(current_app.config["UPLOAD_DIR"]), path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"backed up the {manifest.dialect} database (revision {manifest.revision}) and "
               f"{manifest.files} uploaded files to {path}")


@backup_cli.command("restore", help="Replace the database and UPLOAD_DIR with the archive's. "
                                    "Stop the site's processes first.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--yes", is_flag=True, help="Overwrite the database and photos that are there.")
def backup_restore(path: Path, yes: bool) -> None:
    from webapp import backup

    url = current_app.config["DATABASE_URL"]
    uploads = Path(current_app.config["UPLOAD_DIR"])
    try:
        manifest = backup.read_manifest(path)
        if not yes and (backup.database_has_tables(url) or backup.uploads_have_files(uploads)):
            raise click.ClickException(
                "the database or the upload folder is not empty: restoring replaces them. "
                "Run again with --yes to overwrite.")
        backup.restore(url, uploads, path)
    except backup.BackupError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"restored the {manifest.dialect} database (revision {manifest.revision}, "
               f"backed up {manifest.created_at}) and {manifest.files} uploaded files; run "
               "`flask db upgrade` if this release is newer")


@click.group("demo", cls=AppGroup, help="Demo data for trying the site.")
def demo_cli() -> None:
    pass


def _demo_allowed() -> None:
    if not current_app.config.get("DEMO_DATA_ALLOWED"):
        raise click.ClickException(
            "Demo data has accounts with a published password; it is refused in production. "
            "Use APP_ENV=development on your own machine.")


#: `flask demo load`'s simulation: enough families for stage popularity and a first model,
#: small enough to load in a few seconds.
#: Six months in which families arrive (and a fifth drift away), so cohorts, churn and CLV
#: have a history to show.
DEMO_SIMULATION = {"families": 120, "days": 180, "seed": 1, "arrivals": True}


@demo_cli.command("load", help="Create the demo families and staff, the content pack, a small "
                               "simulation and a first suggestion model (safe to run again).")
def demo_load() -> None:
    from content import packs
    from diary import demo
    from webapp.database import get_session
    from webapp.services import photo_store

    _demo_allowed()
    session = get_session()
    with session.begin():
        report = demo.load(session, photo_store())
    click.echo(report.summary())
    with session.begin():
        pack = packs.import_pack(session, packs.DEFAULT_PACK, None, content_store(),
                                 reason="Default content pack loaded with the demo data")
    click.echo(f"Content pack: {pack.summary()}.")
    _simulate(**DEMO_SIMULATION, bar=False)
    _train(current_app.config["RECO_TRAIN_DAYS"], bar=False)
    _scores(None)  # the demo analyst sees value tiers and CLV at once
    from clock import utcnow
    from crm import demo as crm_demo

    with session.begin():  # saved segments and a campaign with results, on those scores
        click.echo(crm_demo.load(session, utcnow()).summary())
    _analysis_demo()
    from community import demo as clubs_demo

    with session.begin():  # the main demo parent's birth club, its posts and its moderator
        click.echo(clubs_demo.load(session, photo_store(), utcnow()).summary())
    from care import demo as care_demo
    from webapp.tickets import policy_from

    with session.begin():  # questions and complaints: an answered one and the SLA board
        made = care_demo.load(session, policy_from(current_app.config), utcnow())
    click.echo(f"Tickets: {made} new.")
    from rewards import demo as rewards_demo

    with session.begin():  # samples, the newborn's mother's points and a sample she asked for
        click.echo(rewards_demo.load(session, utcnow()).summary())
    from care import surveys_demo

    with session.begin():  # an open survey in the main demo parent's inbox, answers to show
        click.echo(surveys_demo.load(session, utcnow()).summary())
    from content import reviews_demo
    from webapp import rewards_glue

    with session.begin():  # reviews on two products (one hidden), with their points
        reviewed = reviews_demo.load(session, utcnow())
        for review in reviewed.reviews:
            rewards_glue.review_published(session, review)
            if review.hidden_at is not None:
                rewards_glue.review_removed(session, review)
        click.echo(reviewed.summary())


def _analysis_demo() -> None:
    """Cohorts, a win-back campaign with its holdout and a saved report (crm.demo_analysis)."""
    from clock import utcnow
    from crm import demo_analysis
    from webapp.database import get_session

    session = get_session()
    with session.begin():
        made = demo_analysis.load(session, utcnow())
    click.echo(f"Analysis: {made['customers']} simulated customers with sign-up dates, "
               f"{made['win_back']} new win-back sends.")


@demo_cli.command("simulate", help="Add simulated families with believable histories (their "
                                   "interactions go through the interaction log; the same "
                                   "seed adds nothing twice).")
@click.option("--families", type=click.IntRange(1, 1_000_000), default=200, show_default=True)
@click.option("--days", type=click.IntRange(1, 3650), default=90, show_default=True,
              help="Days of history, ending yesterday.")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=1, show_default=True)
def demo_simulate(families: int, days: int, seed: int) -> None:
    _demo_allowed()
    _simulate(families, days, seed, bar=True)


def _simulate(families: int, days: int, seed: int, bar: bool, arrivals: bool = False) -> None:
    import sys
    from datetime import timedelta

    from clock import utcnow
    from recommender import catalogue, simulate
    from webapp.database import get_session

    session = get_session()
    now = utcnow()
    with session.begin():
        products = catalogue.Catalogue([p for p in catalogue.load(session, now).products
                                        if p.live])
        if not products.products:
            raise click.ClickException("There are no published products to simulate with: "
                                       "run `flask demo load` or `flask content import` first.")
        world = simulate.World(products, seed=seed, start=now.date() - timedelta(days=days),
                               days=days, arrivals=arrivals)
        crowd = world.families(families)
        with click.progressbar(length=families, label="Simulating families",
                               file=sys.stderr if bar else io.StringIO()) as progress:
            written = simulate.write(session, world, crowd, progress=progress.update)
    click.echo(f"Simulated {written.families} families ({written.created} new) over {days} "
               f"days: {written.logged} new interactions of {written.events}.")


def _train(days: int, bar: bool) -> str:
    import sys

    from clock import utcnow
    from recommender import jobs
    from webapp.database import get_session

    session = get_session()
    out = sys.stderr if bar else io.StringIO()
    with click.progressbar(length=1, label="Reading the interaction log", file=out) as reading:
        def read(done: int, total: int) -> None:
            reading.length = max(total, 1)
            reading.update(done - reading.pos)

        with session.begin():
            model = jobs.retrain(session, Path(current_app.config["RECO_ARTIFACT_DIR"]), days,
                                 utcnow(), progress=read,
                                 step=lambda name: click.echo(f"  fitting {name}", err=True)
                                 if bar else None)
    metrics = model.metrics
    click.echo(f"Model {model.version}: {metrics['events']} interactions, "
               f"{metrics['profiles']} children, ranker from {model.ranker.source}.")
    return model.version


@click.group("staff", cls=AppGroup,
             help="Staff accounts (marketer, reviewer, analyst, service, admin).")
def staff_cli() -> None:
    pass


@staff_cli.command("create", help="Create a staff account, or give an existing one a role.")
@click.option("--email", required=True)
@click.option("--role", required=True,
              type=click.Choice(["marketer", "reviewer", "analyst", "service", "moderator",
                                 "admin"]))
@click.option("--name", default="Staff")
@click.password_option()
def staff_create(email: str, role: str, name: str, password: str) -> None:
    from diary import accounts
    from diary.errors import DiaryError
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            user = accounts.find_user_by_email(session, email)
            sessions_ended = False
            if user is None:
                user = accounts.create_staff(session, email, password, role, name)
            else:  # the domain says whether the role changed (and ended their sessions)
                sessions_ended = accounts.set_staff_role(session, user, role)
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{user.email} is now {role} (member {user.member_no}).")
    if sessions_ended:
        click.echo(SIGN_IN_AGAIN)


SIGN_IN_AGAIN = "Their sessions have ended: they will need to sign in again."


@staff_cli.command("remove", help="Take the staff role away: the account is a parent's again.")
@click.option("--email", required=True)
def staff_remove(email: str) -> None:
    from diary import accounts
    from webapp.database import get_session

    session = get_session()
    with session.begin():
        user = accounts.find_user_by_email(session, email)
        if user is None or user.staff_role is None:
            raise click.ClickException(f"No staff account uses {email}.")
        before = user.staff_role
        accounts.set_staff_role(session, user, None)
    click.echo(f"{user.email} is no longer {before} (member {user.member_no}).")
    click.echo(SIGN_IN_AGAIN)


@click.group("content", cls=AppGroup, help="Content: coverage report and content packs.")
def content_cli() -> None:
    pass


@content_cli.command("coverage", help="Stages × locales × kinds with no content (gaps).")
@click.option("--json", "as_json", is_flag=True, help="Print {\"gaps\": [...], \"counts\": {...}}.")
@click.option("--include-drafts", is_flag=True, help="Count drafts and items in review too.")
def content_coverage(as_json: bool, include_drafts: bool) -> None:
    import json

    from content import coverage
    from webapp.database import get_session

    report = coverage.report(get_session(), include_drafts=include_drafts)
    if as_json:
        click.echo(json.dumps({"gaps": report["gaps"], "counts": report["counts"],
                               "thin": report["thin"]}, ensure_ascii=False))
        return
    click.echo(f"{len(report['stages'])} stages, {len(report['gaps'])} gaps, "
               f"{len(report['thin'])} thin spots (one article only).")
    for gap in report["gaps"]:
        click.echo(f"  gap: {gap['kind']:8} {gap['locale']:5} {gap['stage']}")


@content_cli.command("export", help="Write every item (and its images) to a pack zip.")
@click.argument("path", type=click.Path(dir_okay=False, writable=True))
def content_export(path: str) -> None:
    from content import packs
    from webapp.database import get_session

    data = packs.export_pack(get_session(), content_store())
    Path(path).write_bytes(data)
    click.echo(f"Wrote {path} ({len(data) // 1024} KB).")


@content_cli.command("import", help="Import a pack (zip or folder); validated, idempotent.")
@click.argument("path", type=click.Path(exists=True))
@click.option("--draft", is_flag=True, help="Import as drafts instead of publishing; changes "
              "to live items wait for review.")
@click.option("--reason", default="Content pack imported from the command line",
              show_default=True, help="Why it is published without review in the studio "
              "(shown on each item's history page).")
def content_import(path: str, draft: bool, reason: str) -> None:
    from content import packs
    from diary.errors import DiaryError
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            report = packs.import_pack(session, Path(path), None, content_store(),
                                       publish=not draft, reason=reason.strip()[:300]
                                       or "Content pack imported from the command line")
    except packs.PackError as error:
        for problem in error.problems:
            click.echo(f"  {problem}", err=True)
        raise click.ClickException(
            f"Nothing was imported: {len(error.problems)} problems.") from None
    except DiaryError as error:  # e.g. an archived item the pack would publish
        raise click.ClickException(f"Nothing was imported: {error}") from None
    click.echo(f"Imported {path}: {report.summary()}.")


@content_cli.command("prune-images",
                     help="Delete stored images no item or version uses any more.")
@click.option("--dry-run", is_flag=True, help="Only list what would be deleted.")
@click.option("--min-age-hours", default=24, show_default=True,
              help="Keep newer files (an upload may still be on its way into a save).")
def content_prune_images(dry_run: bool, min_age_hours: int) -> None:
    import time

    from content import images
    from webapp.database import get_session

    store = content_store()
    stored = store.keys(modified_before=time.time() - min_age_hours * 3600)
    unused = images.unreferenced(get_session(), stored)
    if not dry_run:
        store.delete(unused)
    verb = "Would delete" if dry_run else "Deleted"
    click.echo(f"{verb} {len(unused)} of {len(stored)} images older than {min_age_hours} h.")
    for key in unused:
        click.echo(f"  {key}")


def _parse_now(value: str | None):  # type: ignore[no-untyped-def]
    """--now for simulating days passing in development (ISO 8601, UTC if no offset)."""
    from datetime import datetime

    from clock import utcnow

    if not value:
        return utcnow()
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter("use ISO 8601, e.g. 2026-12-01T09:00") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


@click.group("journeys", cls=AppGroup, help="Journeys: move families along their stages.")
def journeys_cli() -> None:
    pass


@journeys_cli.command("tick", help="Run one journeys tick now (or as of --now).")
@click.option("--now", "now_text", help="Pretend it is this time (ISO 8601).")
def journeys_tick(now_text: str | None) -> None:
    from crm import segments
    from journeys import jobs
    from webapp.scheduler import writer_factory

    summary = jobs.run_journeys_tick(writer_factory(current_app), _parse_now(now_text),
                                     workers=current_app.config["JOURNEYS_TICK_WORKERS"],
                                     audience=segments.audience)
    click.echo(f"enrolled {summary.enrolled}, processed {summary.processed}, "
               f"pushed {summary.pushed}, exited {summary.exited}")


@journeys_cli.command("campaigns", help="Send the marketers' campaigns that are due now (or "
                                        "as of --now), then measure every campaign's and "
                                        "journey's conversions.")
@click.option("--now", "now_text", help="Pretend it is this time (ISO 8601).")
def journeys_campaigns(now_text: str | None) -> None:
    from crm import segments
    from journeys import jobs
    from webapp.scheduler import writer_factory

    factory = writer_factory(current_app)
    now = _parse_now(now_text)
    sent = jobs.run_marketing(factory, segments.audience, now)
    measured = jobs.run_campaigns(factory, now)
    click.echo(f"marketer campaigns: {sent.campaigns} due, {sent.recorded} recorded, "
               f"{sent.held_out} held out, {sent.pushed} pushed; waiting for a message: "
               f"{', '.join(sent.waiting) or 'none'}; conversions measured: "
               f"{measured.converted}")


@click.group("scheduler", cls=AppGroup, help="The scheduler process.")
def scheduler_cli() -> None:
    pass


@scheduler_cli.command("run", help="Run the scheduler (APScheduler) until stopped.")
def scheduler_run() -> None:
    from webapp import scheduler

    scheduler.run(current_app._get_current_object())  # jobs run in other threads


@click.group("outbox", cls=AppGroup, help="The email outbox: its own sender processes.")
def outbox_cli() -> None:
    pass


@outbox_cli.command("send", help="Send the queued email (the ledger's digests, campaigns and "
                                 "pushed items; account email) every --interval seconds until "
                                 "stopped, or one round with --once. Several senders may run "
                                 "at once: each email goes to one of them.")
@click.option("--once", is_flag=True, help="Send one round, then exit.")
@click.option("--interval", default=10.0, show_default=True, type=click.FloatRange(min=0.0),
              help="Seconds between rounds.")
@click.option("--batch", default=100, show_default=True, type=click.IntRange(1, 1000),
              help="Emails per batch.")
def outbox_send(once: bool, interval: float, batch: int) -> None:
    import threading

    from webapp import logs, sender

    app = current_app._get_current_object()  # type: ignore[attr-defined]
    if once:
        click.echo(sender.send_once(app, batch).summary())
        return
    logs.configure_process(app)
    stop = threading.Event()
    sender.stop_on_signals(stop)
    sender.serve(app, interval, stop, batch)


# --- email: digests, outbox, bounces ----------------------------------------------------------

@click.group("emails", cls=AppGroup, help="Email: bounces and unsubscribes.")
def emails_cli() -> None:
    pass


@emails_cli.command("bounce", help="Record a hard bounce: EMAIL gets no more email.")
@click.argument("email")
def emails_bounce(email: str) -> None:
    from diary.errors import DiaryError
    from journeys import unsubscribe
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            new = unsubscribe.suppress(session, email, "hard-bounce")
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"{email.strip().lower()} is {'now' if new else 'already'} suppressed.")


@emails_cli.command("unsubscribe", help="Unsubscribe EMAIL from digests and offers (e.g. a "
                                        "request that came by mail to unsubscribe@…).")
@click.argument("email")
def emails_unsubscribe(email: str) -> None:
    from diary import accounts
    from diary.policy import PRIVACY_POLICY_VERSION
    from journeys import unsubscribe
    from webapp.database import get_session

    session = get_session()
    with session.begin():
        user = accounts.find_user_by_email(session, email)
        if user is None:
            raise click.ClickException(f"No account with the email {email}.")
        changed = unsubscribe.unsubscribe(session, user, "unsubscribe-mail",
                                          PRIVACY_POLICY_VERSION)
    click.echo(f"{user.email} is {'now' if changed else 'already'} unsubscribed.")


@click.group("digests", cls=AppGroup, help="Email digests.")
def digests_cli() -> None:
    pass


@digests_cli.command("send", help="Schedule the digests that are due, then send the outbox "
                                  "once (as of --now).")
@click.option("--now", "now_text", help="Pretend it is this time (ISO 8601, UTC if no offset).")
@click.option("--batch", default=100, show_default=True, help="Emails per outbox batch.")
def digests_send(now_text: str | None, batch: int) -> None:
    from journeys import digests, outbox
    from webapp.scheduler import email_settings
    from webapp.sender import job_factory
    from webapp.services import mailer

    now = _parse_now(now_text)
    factory = job_factory(current_app)  # the senders' sessions: immediate writes on SQLite
    settings = email_settings(current_app)
    summary = digests.run_schedule(factory, now, cap=settings.digest_cap)
    stats = outbox.send_due(factory, mailer, now, batch, settings)
    click.echo(f"scheduled {summary.scheduled} (capped {summary.capped}) of "
               f"{summary.processed} people; sent {stats.sent}, failed {stats.failed}, "
               f"dead {stats.dead}, suppressed {stats.suppressed}, deferred {stats.deferred}")


# --- recommender: shop purchases, the log's partitions, training and the offline proof ------

@click.group("reco", cls=AppGroup, help="Product suggestions: shop purchases, the interaction "
             "log, training and evaluating the model.")
def reco_cli() -> None:
    pass


def _print_report(report, unmatched_csv: str | None) -> None:  # type: ignore[no-untyped-def]
    counts = report.counts()
    click.echo(f"{counts['received']} order lines: {counts['recorded']} new purchases, "
               f"{counts['duplicates']} recorded before, {counts['unmatched']} unmatched "
               f"(kept), {counts['invalid']} invalid.")
    for problem in report.invalid:
        click.echo(f"  invalid, line {problem.number} ({problem.order_line_id or '-'}): "
                   f"{problem.error}", err=True)
    for row in report.unmatched[:50]:
        who = row.member_no or row.email
        why = "no customer" if row.reason == "customer" else "no product"
        click.echo(f"  unmatched {row.order_line_id}: {why} ({who}, {row.sku})")
    if len(report.unmatched) > 50:
        click.echo(f"  … and {len(report.unmatched) - 50} more unmatched lines.")
    if unmatched_csv and report.unmatched:
        import csvsafe
        from recommender.privacy import ORDER_LINE_FIELDS

        with open(unmatched_csv, "w", encoding="utf-8", newline="") as out:
            writer = csvsafe.writer(out, ["reason", "source", *ORDER_LINE_FIELDS])
            writer.writerows({"reason": r.reason, "source": r.source,
                              **{f: getattr(r, f) for f in ORDER_LINE_FIELDS}}
                             for r in report.unmatched)
        click.echo(f"Unmatched lines written to {unmatched_csv}.")


@reco_cli.command("import-purchases", help="Import the shop's order lines from a CSV file "
                  "(columns: order_line_id, ordered_at, email and/or member_no, sku, "
                  "quantity, amount_minor, currency). Idempotent by order line id; invalid "
                  "lines are listed and skipped (exit status 1), unmatched ones kept.")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--unmatched-csv", type=click.Path(dir_okay=False, writable=True),
              help="Also write the unmatched lines to this CSV file.")
def reco_import_purchases(path: str, unmatched_csv: str | None) -> None:
    from recommender import partitions, purchases
    from recommender.errors import InvalidOrderLine
    from webapp.database import get_session

    try:
        with open(path, encoding="utf-8-sig", newline="") as stream:
            lines, problems = purchases.parse_lines(purchases.read_csv(stream))
    except InvalidOrderLine as error:
        raise click.ClickException(f"Nothing was imported: {error}") from None
    except UnicodeDecodeError:
        raise click.ClickException("Nothing was imported: the file is not UTF-8 text.") \
            from None
    session = get_session()
    with session.begin():
        if lines:  # history lands in its months, not in the DEFAULT partition
            partitions.ensure_months(session, through=max(ln.ordered_at for ln in lines).date(),
                                     since=min(ln.ordered_at for ln in lines).date())
        report = purchases.record_lines(session, lines, "csv")
    report.received += len(problems)
    report.invalid = problems
    _print_report(report, unmatched_csv)
    if problems:
        raise SystemExit(1)


@reco_cli.command("rematch-purchases", help="Try the kept unmatched order lines again "
                                            "(customers who registered since, new products).")
def reco_rematch_purchases() -> None:
    from recommender import purchases
    from webapp.database import get_session

    session = get_session()
    with session.begin():
        report = purchases.rematch(session)
    _print_report(report, None)


@reco_cli.group("shop-integration", help="Keys of the shop's systems that send order lines.")
def reco_shop_integration() -> None:
    pass


@reco_shop_integration.command("create", help="Make an integration and print its key once "
                                              "(only a hash of it is stored).")
@click.argument("name")
def reco_shop_integration_create(name: str) -> None:
    from diary.errors import DiaryError
    from recommender import purchases
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            integration, key = purchases.create_integration(session, name)
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Integration {integration.name} created. Its key, shown only this once:")
    click.echo(key)
    click.echo("Send it as 'Authorization: Bearer <key>' to POST /api/shop/order-lines.")


@reco_shop_integration.command("revoke", help="Stop accepting an integration's key.")
@click.argument("name")
def reco_shop_integration_revoke(name: str) -> None:
    from diary.errors import DiaryError
    from recommender import purchases
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            purchases.revoke_integration(session, name)
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Integration {name} is revoked.")


@reco_cli.command("partitions", help="Make the interaction log's month partitions "
                                     "(PostgreSQL), this month and --ahead months.")
@click.option("--ahead", type=click.IntRange(0, 120), default=None,
              help="Months ahead (default: INTERACTION_PARTITIONS_AHEAD).")
def reco_partitions(ahead: int | None) -> None:
    from recommender import partitions
    from webapp.database import get_session

    session = get_session()
    with session.begin():
        made = partitions.ensure_ahead(
            session, current_app.config["INTERACTION_PARTITIONS_AHEAD"] if ahead is None
            else ahead)
        existing = partitions.existing(session)
    if not partitions.is_partitioned(session):
        click.echo("SQLite: the interaction log is one table; nothing to do.")
        return
    click.echo(f"Made {len(made)} partitions; {len(existing)} months exist"
               + (f" ({existing[0]} … {existing[-1]})." if existing else "."))
@reco_cli.command("train", help="Train a new model on the interaction log's recent window and "
                                "save it as the current artifact (RECO_ARTIFACT_DIR).")
@click.option("--days", type=click.IntRange(1, 3650), default=None,
              help="Days of the log to read (default RECO_TRAIN_DAYS).")
def reco_train(days: int | None) -> None:
    _train(days or current_app.config["RECO_TRAIN_DAYS"], bar=True)


@reco_cli.command("evaluate", help="Our model against the baselines, offline (leave last one "
                                   "out, top 10).")
@click.option("--dataset", type=click.Choice(["simulated", "movielens-100k"]), required=True)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--families", type=click.IntRange(50, 100_000), default=None,
              help="Simulated families (simulated data set).")
@click.option("--days", type=click.IntRange(30, 3650), default=None,
              help="Simulated days (simulated data set).")
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=None)
def reco_evaluate(dataset: str, as_json: bool, families: int | None, days: int | None,
                  seed: int | None) -> None:
    import json

    from recommender import offline

    defaults = offline.Simulation()
    simulation = offline.Simulation(families or defaults.families, days or defaults.days,
                                    defaults.seed if seed is None else seed)
    try:
        result = offline.report(dataset, simulation,
                                progress=lambda step: click.echo(f"  {step}", err=True))
    except FileNotFoundError as error:  # MovieLens comes with a data wheel (make install)
        raise click.ClickException(str(error)) from None
    from clock import utcnow
    from recommender import artifacts

    artifacts.save_evaluation(Path(current_app.config["RECO_ARTIFACT_DIR"]), result, utcnow())
    if as_json:
        click.echo(json.dumps(result, ensure_ascii=False))
        return
    click.echo(f"{result['dataset']}: {result['users']} users, {result['items']} items")
    click.echo(result["protocol"])
    click.echo(f"{'model':18} {'hr@10':>7} {'ndcg@10':>8} {'map@10':>7} {'coverage':>9} "
               f"{'novelty':>8}")
    for name, m in result["models"].items():
        click.echo(f"{name:18} {m['hr@10']:7.4f} {m['ndcg@10']:8.4f} {m['map@10']:7.4f} "
                   f"{m['coverage']:9.4f} {m['novelty']:8.4f}")


@reco_cli.command("online", help="The simulated online test: the model against the "
                                 "stage-popularity control, click-through lift with its 95% "
                                 "interval.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option("--families", type=click.IntRange(50, 100_000), default=300, show_default=True)
@click.option("--seed", type=click.IntRange(0, 2**31 - 1), default=5, show_default=True)
def reco_online(as_json: bool, families: int, seed: int) -> None:
    import json

    from recommender import online

    result = online.run(online.Options(families=families, seed=seed),
                        progress=lambda step: click.echo(f"  {step}", err=True))
    if as_json:
        click.echo(json.dumps(result))
        return
    low, high = result["ci95"]
    click.echo(f"click-through: model {result['treatment_ctr']:.4f}, control "
               f"{result['control_ctr']:.4f}; lift {result['difference']:+.4f} "
               f"(95% CI {low:+.4f} to {high:+.4f})")


# --- CRM: the nightly scores and the CLV models' check against CDNOW -------------------------

@click.group("crm", cls=AppGroup, help="The CRM: customer scores (RFM, tiers, CLV) and the "
                                       "CLV models' check against the published CDNOW fit.")
def crm_cli() -> None:
    pass


def _scores(now_text: str | None) -> None:
    from crm import scores
    from webapp.database import get_session

    session = get_session()
    with session.begin():
        report = scores.compute_scores(session, _parse_now(now_text))
    click.echo(report.summary())


@crm_cli.command("scores", help="Rewrite every customer's RFM, value tier and group, "
                                "P(alive) and CLV (the scheduler does it nightly).")
@click.option("--now", "now_text", help="Score as of this time (ISO 8601).")
def crm_scores(now_text: str | None) -> None:
    _scores(now_text)


@crm_cli.command("clv-validate", help="Fit BG/NBD and Gamma-Gamma on the CDNOW sample "
                                      "(from the Lifetimes data wheel) and compare with the "
                                      "published parameters; exit 1 beyond 1 %.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def crm_clv_validate(as_json: bool) -> None:
    import json

    from crm import cdnow

    try:
        result = cdnow.validate()
    except cdnow.MissingData as error:
        raise click.ClickException(str(error)) from None
    if as_json:
        click.echo(json.dumps(result))
    else:
        click.echo(f"{result['data']}: {result['customers']} customers, "
                   f"{result['repeat_buyers']} repeat buyers")
        click.echo(f"{'parameter':26} {'fitted':>12} {'published':>12} {'rel. error':>11}")
        for model in ("bgnbd", "gamma_gamma"):
            for name, row in result[model].items():  # type: ignore[attr-defined]
                click.echo(f"{model + ' ' + name:26} {row['fitted']:12.4f} "
                           f"{row['published']:12.4f} {row['relative_error']:11.5f}")
    if not result["within_1_percent"]:
        raise SystemExit(1)


@click.group("care", cls=AppGroup, help="Questions and complaints (tickets).")
def care_cli() -> None:
    pass


@care_cli.group("inbound-integration",
                help="Keys of the mail provider that posts emailed replies to tickets.")
def care_inbound_integration() -> None:
    pass


@care_inbound_integration.command("create", help="Make an integration and print its key "
                                                 "once (only a hash of it is stored).")
@click.argument("name")
def care_inbound_integration_create(name: str) -> None:
    from care import tickets
    from diary.errors import DiaryError
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            integration, key = tickets.create_integration(session, name)
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Integration {integration.name} created. Its key, shown only this once:")
    click.echo(key)
    click.echo("Send it as 'Authorization: Bearer <key>' to POST /api/care/inbound-email.")


@care_inbound_integration.command("revoke", help="Stop accepting an integration's key.")
@click.argument("name")
def care_inbound_integration_revoke(name: str) -> None:
    from care import tickets
    from diary.errors import DiaryError
    from webapp.database import get_session

    session = get_session()
    try:
        with session.begin():
            tickets.revoke_integration(session, name)
    except DiaryError as error:
        raise click.ClickException(str(error)) from None
    click.echo(f"Integration {name} revoked.")
