"""Digest benchmark: render every due digest, then deliver them to a local SMTP sink.

    .venv/bin/python bench/digests.py [--users 20000] [--batch 100] [--max-batches 20]
                                      [--database-url URL] [--sink thread|process]
                                      [--profile FILE] [--check] [--keep]

What it does, all inside a fresh temporary folder that is removed afterwards:

1. creates a database (a SQLite file; or, with --database-url pointing at a PostgreSQL server,
   a new database inside that server which is dropped at the end) and migrates it;
2. seeds N parents quickly with Core bulk inserts (executemany, 5,000 rows a statement): one
   family each with an owner membership and one child (15 % have a second one) spread over
   every stage (40 % expecting, 60 % born 0-36 months ago, some preterm), a mix of locales
   (en, zh_CN), time zones (Shanghai, London, New York) and interests, `digest_opt_in` on for
   everyone; about a third get an `EmailPreference` row (daily or weekly, send hours 7-11,
   chosen topics). Then imports the shipped content pack, as `flask demo load` does;
3. picks `now` = the latest Monday 12:00 UTC: 20:00 in Shanghai, 12:00/13:00 in London. The
   New York parents (07:00/08:00 there) get send hour 7 and quiet hours 22 → 6, so every
   parent is due at that instant. Runs the scheduler job (`digests.run_schedule`) and checks
   that it queued one digest per parent;
4. **rendering**: reads the queued rows in batches of 500 (with their users and preferences,
   as the outbox does) and times `digests.render(...)` for every one, with one content cache
   for the run → `rendered_per_minute`. Nothing is sent or written;
5. **delivery**: starts an aiosmtpd sink on 127.0.0.1 (a free port, in a background thread,
   or with `--sink process` in a child process; it counts messages and drops them), then
   calls `outbox.send_due(...)` with the scheduler's own session factory and an `SMTPMailer`
   (no TLS) the way the outbox job does (`--batch` rows a batch, `--max-batches` per call)
   until no pending email is left →
   `delivered_per_minute` (claim + checks + render + SMTP + marking sent), and the sink's count;
6. prints exactly one JSON object on stdout (progress goes to stderr), and exits 1 when the
   run is unusable (not everyone scheduled, the sink's count differs from `sent`, failures),
   0 otherwise (use --check to also exit 1 when the targets are missed).

Targets (from the issue): >= 100,000 rendered per minute, >= 20,000 delivered per minute.
`--profile FILE` profiles, after each timed phase, `--profile-renders` (3,000) renders with the
run's warm content cache (stats in FILE) and one `send_due` call over as many digests put back
to pending (FILE.delivery), and logs the top functions to stderr. The timed numbers are not
affected; the sink's count is read before the profiled delivery.
"""
from __future__ import annotations

import argparse
import cProfile
import io
import os
import pstats
import random
import socket
import sys
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import (  # noqa: E402
    BenchError,
    Run,
    log,
    machine_facts,
    make_password_hash,
    read_server_version,
)
from _seed import SEED_CHUNK, child_row, finish, household, insert_chunk  # noqa: E402

TARGET_RENDERED_PER_MINUTE_MIN = 100_000
TARGET_DELIVERED_PER_MINUTE_MIN = 20_000
RENDER_BATCH = 500
SITE_URL = "https://babyjourney.example"
SENDER = "Baby Journey <hello@babyjourney.example>"
SECRET = "bench-digests-secret-key-" + "x" * 32

# --------------------------------------------------------------------------------------------
# Seeding
# --------------------------------------------------------------------------------------------

def bench_now(real_now: datetime) -> datetime:
    """The latest Monday 12:00 UTC at or before `real_now`."""
    monday = real_now.date() - timedelta(days=real_now.weekday())
    candidate = datetime(monday.year, monday.month, monday.day, 12, tzinfo=UTC)
    return candidate if candidate <= real_now else candidate - timedelta(days=7)



def _preference_row(rng: random.Random, user_id: int, tz: str, now: datetime
                    ) -> dict[str, Any] | None:
    """An EmailPreference row for about a third of the parents (and every New York one, so
    that they too are due at Monday 12:00 UTC = 07:00/08:00 there)."""
    from content.vocabulary import TOPICS

    new_york = tz == "America/New_York"
    if not new_york and rng.random() >= 0.33:
        return None  # the defaults: weekly, 09:00, quiet 21:00 → 08:00, all topics
    topics = sorted(rng.sample(TOPICS, rng.choice([0, 0, 1, 2, 3])))
    return {"user_id": user_id, "frequency": rng.choice(["weekly", "weekly", "daily"]),
            "send_hour": 7 if new_york else rng.randint(7, 11),
            "quiet_start": 22 if new_york else 21, "quiet_end": 6 if new_york else 8,
            "paused_until": None, "topics": topics, "updated_at": now}


def seed(url: str, tmp: Path, users: int, now: datetime) -> dict[str, Any]:
    """N parents, families, owner memberships, children, some preferences; the content pack."""
    import db
    from diary.models import Child, Family, Membership, User
    from journeys.models import EmailPreference

    rng = random.Random(20261123)
    password_hash = make_password_hash()
    today = now.date()
    engine = db.make_engine(url)
    factory = db.make_session_factory(engine)
    kinds: dict[str, int] = {}
    counts = {"children": 0, "preferences": 0, "zh_CN": 0}
    child_id = 0
    try:
        with factory() as session:
            for start in range(1, users + 1, SEED_CHUNK):
                ids = range(start, min(users, start + SEED_CHUNK - 1) + 1)
                people, families, memberships, kids, prefs = [], [], [], [], []
                for i in ids:
                    user, family, membership = household(rng, i, password_hash, now,
                                                         digest_opt_in=True)
                    people.append(user)
                    families.append(family)
                    memberships.append(membership)
                    counts["zh_CN"] += user["locale"] == "zh_CN"
                    for _ in range(2 if rng.random() < 0.15 else 1):
                        child_id += 1
                        row, kind = child_row(rng, child_id, i, today,
                                              today - timedelta(days=3 * 365), now)
                        kids.append(row)
                        kinds[kind] = kinds.get(kind, 0) + 1
                    pref = _preference_row(rng, i, user["timezone"], now)
                    if pref:
                        prefs.append(pref)
                insert_chunk(session, [(User, people), (Family, families),
                                       (Membership, memberships), (Child, kids),
                                       (EmailPreference, prefs)])
                counts["children"] += len(kids)
                counts["preferences"] += len(prefs)
                log(f"seeded {ids[-1]}/{users} parents")
            done = finish(session, engine, tmp, analyze_sqlite=True)
            log(f"content pack: {done['content']}")
        return {"children": counts["children"], "kinds": dict(sorted(kinds.items())),
                "preferences": counts["preferences"], "zh_CN_parents": counts["zh_CN"],
                "content_items": done["content_items"]}
    finally:
        engine.dispose()


# --------------------------------------------------------------------------------------------
# The SMTP sink
# --------------------------------------------------------------------------------------------

class CountingHandler:
    """An aiosmtpd handler that counts accepted messages (and their bytes) and drops them."""

    def __init__(self) -> None:
        self.received = 0
        self.bytes = 0
        self.recipients = 0
        self._lock = threading.Lock()

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            self.received += 1
            self.recipients += len(envelope.rcpt_tos)
            self.bytes += len(envelope.content or b"")
        return "250 OK: dropped"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Sink:
    """The sink in a background thread of this process (the default), or with
    `in_process=False` in a child process of its own, so its CPU is not taken from the
    sender's GIL (closer to a real mail server on another core)."""

    def __init__(self, in_process: bool = True) -> None:
        self.in_process = in_process
        self.port = free_port()
        self.handler = CountingHandler()
        self.controller: Any = None
        self.proc: Any = None
        self.counter: Any = None

    @property
    def received(self) -> int:
        return self.handler.received if self.in_process else self.counter[0]

    @property
    def recipients(self) -> int:
        return self.handler.recipients if self.in_process else self.counter[1]

    @property
    def bytes(self) -> int:
        return self.handler.bytes if self.in_process else self.counter[2]

    def __enter__(self) -> Sink:
        if self.in_process:
            from aiosmtpd.controller import Controller

            self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port,
                                         ready_timeout=10)
            self.controller.start()  # its own thread and event loop
        else:
            import multiprocessing

            ctx = multiprocessing.get_context("spawn")
            self.counter, ready = ctx.Array("q", 3), ctx.Event()
            self.proc = ctx.Process(target=_sink_process, args=(self.port, self.counter, ready),
                                    daemon=True)
            self.proc.start()
            if not ready.wait(30):
                raise BenchError("the SMTP sink process did not start")
        where = "this process" if self.in_process else f"process {self.proc.pid}"
        log(f"SMTP sink listening on 127.0.0.1:{self.port} ({where})")
        return self

    def __exit__(self, *_exc: Any) -> None:
        if self.controller is not None:
            self.controller.stop()
        if self.proc is not None:
            self.proc.terminate()
            self.proc.join(timeout=10)


class _SharedCounter(CountingHandler):
    def __init__(self, shared: Any) -> None:
        super().__init__()
        self.shared = shared

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.shared.get_lock():
            self.shared[0] += 1
            self.shared[1] += len(envelope.rcpt_tos)
            self.shared[2] += len(envelope.content or b"")
        return "250 OK: dropped"


def _sink_process(port: int, shared: Any, ready: Any) -> None:
    """The child process of `--sink process`: serve until terminated."""
    from aiosmtpd.controller import Controller

    controller = Controller(_SharedCounter(shared), hostname="127.0.0.1", port=port,
                            ready_timeout=10)
    controller.start()
    ready.set()
    threading.Event().wait()


# --------------------------------------------------------------------------------------------
# Phases
# --------------------------------------------------------------------------------------------

def site_links() -> Any:
    """The links the web app hands the outbox, from its URL map on SITE_URL (the scheduler
    builds them the same way; only the URL map is used, no database or request)."""
    from webapp import create_app
    from webapp.links import site_links as links_of

    return links_of(create_app("development", SITE_URL=SITE_URL, SECRET_KEY=SECRET))


def pending_email(factory: Any) -> int:
    from sqlalchemy import func, select

    from journeys.models import Delivery

    with factory() as session:
        return session.scalar(select(func.count()).select_from(Delivery).where(
            Delivery.channel == "email", Delivery.status == "pending")) or 0


def render_all(factory: Any, now: datetime, settings: Any, limit: int | None = None,
               profiler: cProfile.Profile | None = None, cache: dict | None = None
               ) -> dict[str, Any]:
    """Render every pending digest (read like the outbox reads them); nothing is written.

    One content cache for the whole run (`send_due` keeps one per call)."""
    from sqlalchemy import select

    from diary.models import User
    from journeys import digests
    from journeys.models import Delivery, EmailPreference

    cache = {} if cache is None else cache
    rendered = empty = html_bytes = text_bytes = 0
    in_render = 0.0
    sample: dict[str, Any] | None = None
    cpu0, t0 = time.process_time(), time.perf_counter()
    with factory() as session:
        after = 0
        while limit is None or rendered < limit:
            with session.begin():
                rows = list(session.scalars(
                    select(Delivery).where(Delivery.channel == "email",
                                           Delivery.status == "pending", Delivery.id > after)
                    .order_by(Delivery.id).limit(RENDER_BATCH)))
                if not rows:
                    break
                ids = {r.user_id for r in rows}
                users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(ids)))}
                prefs = {p.user_id: p for p in session.scalars(select(EmailPreference).where(
                    EmailPreference.user_id.in_(ids)))}
                digests.preload(session, ids, prefs, cache)  # as the outbox's _prepare does
                for row in rows:
                    if limit is not None and rendered >= limit:
                        break
                    if profiler:
                        profiler.enable()
                    started = time.perf_counter()
                    email = digests.render(session, row, users[row.user_id], now,
                                           settings.links, settings.secret,
                                           unsubscribe_mailto=settings.unsubscribe_mailto,
                                           cache=cache)
                    in_render += time.perf_counter() - started
                    if profiler:
                        profiler.disable()
                    rendered += 1
                    html_bytes += len(email.html or "")
                    text_bytes += len(email.text)
                    empty += "\n== " not in email.text  # no child block (digest.txt)
                    if sample is None:
                        sample = {"subject": email.subject, "to": email.to,
                                  "headers": [name for name, _ in email.headers]}
                after = rows[-1].id
    wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {"rendered": rendered, "render_s": wall, "render_calls_s": in_render,
            "render_cpu_s": cpu,
            "without_stage_content": empty, "avg_html_bytes": html_bytes // max(1, rendered),
            "avg_text_bytes": text_bytes // max(1, rendered), "content_cache_keys": len(cache),
            "sample": sample, "cache": cache}


def deliver_all(factory: Any, port: int, now: datetime, settings: Any, batch: int,
                max_batches: int) -> dict[str, Any]:
    """`outbox.send_due` calls, as the outbox job makes them, until nothing is pending."""
    from journeys import outbox
    from mailer import SMTPMailer

    totals = {"claimed": 0, "sent": 0, "failed": 0, "dead": 0, "suppressed": 0,
              "deferred": 0, "batches": 0, "calls": 0}
    errors: list[str] = []
    cpu0, t0 = time.process_time(), time.perf_counter()
    while True:
        stats = outbox.send_due(
            factory, lambda: SMTPMailer("127.0.0.1", port, SENDER, use_tls=False, timeout=30),
            now, batch, settings, max_batches=max_batches)
        totals["calls"] += 1
        for key in totals:
            if key != "calls":
                totals[key] += getattr(stats, key)
        errors.extend(stats.errors[:5 - len(errors)] if len(errors) < 5 else [])
        if stats.claimed == 0 or (stats.failed + stats.dead and stats.sent == 0):
            break  # empty, or nothing goes through any more (failed rows wait for backoff)
        if totals["calls"] % 5 == 0:
            log(f"  delivered {totals['sent']} so far "
                f"({time.perf_counter() - t0:.1f} s)")
    deliver_s, cpu = time.perf_counter() - t0, time.process_time() - cpu0
    return {**totals, "deliver_s": deliver_s, "deliver_cpu_s": round(cpu, 3),
            "errors": errors}


def _log_profile(profiler: cProfile.Profile, out: Path, what: str) -> None:
    profiler.dump_stats(str(out))
    for order in ("cumulative", "tottime"):
        buf = io.StringIO()
        pstats.Stats(profiler, stream=buf).strip_dirs().sort_stats(order).print_stats(40)
        log(f"cProfile of {what}, by {order} (stats in {out}):\n{buf.getvalue()}")


def profile_renders(factory: Any, now: datetime, settings: Any, count: int, out: Path,
                    cache: dict) -> None:
    """cProfile around `render` calls only, with the timed run's (warm) content cache: the
    steady state of a long outbox run."""
    profiler = cProfile.Profile()
    result = render_all(factory, now, settings, limit=count, profiler=profiler, cache=cache)
    _log_profile(profiler, out, f"{result['rendered']} renders (warm content cache)")


def profile_delivery(factory: Any, port: int, now: datetime, settings: Any, count: int,
                     batch: int, out: Path) -> None:
    """Put `count` sent digests back to pending and profile one `send_due` call over them
    (this thread only: the sink's own work shows as time waiting on the socket)."""
    from sqlalchemy import select, update

    from journeys import outbox
    from journeys.models import Delivery
    from mailer import SMTPMailer

    with factory() as session, session.begin():
        ids = list(session.scalars(select(Delivery.id).where(Delivery.channel == "email")
                                   .order_by(Delivery.id).limit(count)))
        session.execute(update(Delivery).where(Delivery.id.in_(ids)).values(
            status="pending", sent_at=None))
    profiler = cProfile.Profile()
    profiler.enable()
    stats = outbox.send_due(
        factory, lambda: SMTPMailer("127.0.0.1", port, SENDER, use_tls=False, timeout=30),
        now, batch, settings, max_batches=count // batch + 1)
    profiler.disable()
    _log_profile(profiler, out, f"one send_due call that sent {stats.sent} digests")


# --------------------------------------------------------------------------------------------
# Main
# --------------------------------------------------------------------------------------------

def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=20_000,
                   help="parents to seed, all opted in to the digest (20000)")
    p.add_argument("--batch", type=int, default=100,
                   help="outbox rows per batch, as the outbox job uses (100)")
    p.add_argument("--max-batches", type=int, default=20,
                   help="batches per send_due call, send_due's default (20)")
    p.add_argument("--database-url", default=None,
                   help="a PostgreSQL server URL; a fresh database is created in it and "
                        "dropped afterwards (default: a SQLite file in the temp folder)")
    p.add_argument("--profile", type=Path, default=None, metavar="FILE",
                   help="after the timed phases, profile --profile-renders renders with "
                        "cProfile and write the stats to FILE")
    p.add_argument("--profile-renders", type=int, default=3000,
                   help="how many renders --profile covers (3000)")
    p.add_argument("--sink", choices=("thread", "process"), default="thread",
                   help="run the SMTP sink in a background thread of this process (default) "
                        "or in a child process, off the sender's GIL")
    p.add_argument("--skip-delivery", action="store_true", help="render only")
    p.add_argument("--check", action="store_true", help="exit 1 when the targets are missed")
    p.add_argument("--keep", action="store_true",
                   help="keep the temp folder (SQLite database) and the PostgreSQL database")
    args = p.parse_args(argv)
    if not 1 <= args.users <= 5_000_000:
        p.error("--users must be 1..5000000")
    if not 1 <= args.batch <= 10_000 or not 1 <= args.max_batches <= 100_000:
        p.error("--batch must be 1..10000 and --max-batches 1..100000")
    return args



def per_minute(count: int, seconds: float) -> int:
    return int(count * 60 / seconds) if seconds > 0 else 0


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run("bench-digests-", keep=args.keep, check=args.check)
    return run.execute(lambda: measure(args, run))


def measure(args: argparse.Namespace, run: Run) -> dict[str, Any]:
    """The measurement itself; returns the report (clean-up steps are registered on `run`)."""
    load_before = os.getloadavg()[0]  # the machine may be shared: context for the numbers
    tmp = run.tmp
    import clock
    import db
    from journeys import digests, outbox

    url, dialect = run.database(args.database_url)
    now = bench_now(clock.utcnow().replace(microsecond=0))
    t0 = time.perf_counter()
    seeded = seed(url, tmp, args.users, now)
    seed_s = time.perf_counter() - t0
    log(f"seeded {args.users} parents in {seed_s:.1f} s: {seeded}")

    settings = outbox.EmailSettings(links=site_links(), secret=SECRET,
                                    unsubscribe_mailto="unsubscribe@babyjourney.example")
    engine = db.make_engine(url, pool_pre_ping=True)
    factory = db.make_session_factory(engine)  # readers (the render phase)
    writer = db.make_session_factory(db.writer_engine(engine))  # the scheduler's jobs
    problems: list[str] = []
    try:
        server_version = read_server_version(engine)
        log(f"scheduling digests as of {now.isoformat()} (run_schedule)")
        t0 = time.perf_counter()
        schedule = digests.run_schedule(writer, now, cap=settings.digest_cap)
        schedule_s = time.perf_counter() - t0
        queued = pending_email(factory)
        log(f"  {schedule} in {schedule_s:.2f} s; {queued} pending")
        if schedule.scheduled != args.users or queued != args.users:
            problems.append(f"scheduled {schedule.scheduled} and queued {queued} digests "
                            f"for {args.users} parents")

        log(f"rendering {queued} digests")
        rendering = render_all(factory, now, settings)
        rendered, render_s = rendering["rendered"], rendering["render_s"]
        log(f"  rendered {rendered} in {render_s:.2f} s "
            f"({per_minute(rendered, render_s)}/min; "
            f"{rendering['render_calls_s']:.2f} s inside render())")
        if rendered != queued:
            problems.append(f"rendered {rendered} of {queued} digests")

        if args.profile:  # before delivery: the rows are still pending
            log(f"profiling {args.profile_renders} renders")
            profile_renders(factory, now, settings, args.profile_renders, args.profile,
                            rendering["cache"])

        delivery: dict[str, Any] = {"sent": 0, "deliver_s": 0.0, "errors": []}
        sink_received = 0
        sink_info: dict[str, Any] = {}
        if not args.skip_delivery:
            with Sink(in_process=args.sink == "thread") as sink:
                log(f"delivering (batch {args.batch}, max {args.max_batches} batches a "
                    "send_due call)")
                delivery = deliver_all(writer, sink.port, now, settings, args.batch,
                                       args.max_batches)
                time.sleep(0.2)  # the sink's last 250 is sent before its counter moves
                sink_received = sink.received
                sink_info = {"where": args.sink, "port": sink.port,
                             "received": sink_received, "recipients": sink.recipients,
                             "avg_message_bytes": sink.bytes // max(1, sink_received)}
                if args.profile:  # after the counts: it sends some digests again
                    profile_delivery(writer, sink.port, now, settings,
                                     min(args.profile_renders, args.users), args.batch,
                                     args.profile.with_name(args.profile.name
                                                            + ".delivery"))
            log(f"  {delivery}; sink {sink_info}")
            left = pending_email(factory)
            if left:
                problems.append(f"{left} digests still pending after delivery")
            if sink_received != delivery["sent"]:
                problems.append(f"the sink received {sink_received} messages, "
                                f"the outbox marked {delivery['sent']} sent")
            if delivery.get("failed") or delivery.get("dead"):
                problems.append(f"{delivery['failed']} failed, {delivery['dead']} dead: "
                                f"{delivery['errors'][:2]}")
    finally:
        engine.dispose()

    deliver_s = delivery["deliver_s"]
    rendered_pm = per_minute(rendered, render_s)
    delivered_pm = per_minute(delivery["sent"], deliver_s)
    meets = (not problems and rendered_pm >= TARGET_RENDERED_PER_MINUTE_MIN
             and not args.skip_delivery
             and delivered_pm >= TARGET_DELIVERED_PER_MINUTE_MIN)
    report: dict[str, Any] = {
        "benchmark": "digests",
        "users": args.users,
        "db": dialect,
        "seeded": seeded,
        "seed_s": round(seed_s, 2),
        "as_of": now.isoformat(),
        "schedule_s": round(schedule_s, 3),
        "scheduled": schedule.scheduled,
        "rendered": rendered,
        "render_s": round(render_s, 3),
        "render_calls_s": round(rendering["render_calls_s"], 3),
        "render_cpu_s": round(rendering["render_cpu_s"], 3),
        "rendered_per_minute": rendered_pm,
        "rendering": {k: rendering[k] for k in ("without_stage_content", "avg_html_bytes",
                                                "avg_text_bytes", "content_cache_keys",
                                                "sample")},
        "delivered": delivery["sent"],
        "deliver_s": round(deliver_s, 3),
        "delivered_per_minute": delivered_pm,
        "delivery": {k: v for k, v in delivery.items() if k not in ("sent", "deliver_s")},
        "sink_received": sink_received,
        "sink": sink_info,
        "targets": {"rendered_per_minute_min": TARGET_RENDERED_PER_MINUTE_MIN,
                    "delivered_per_minute_min": TARGET_DELIVERED_PER_MINUTE_MIN},
        "meets_targets": meets,
        "problems": problems,
        "profiled": str(args.profile) if args.profile else None,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine_facts(load_before, server_version),
    }
    return report


if __name__ == "__main__":
    sys.exit(main())
