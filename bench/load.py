"""Parents under load: many signed-in parents browsing and writing at once, with a pause
between pages as people take, against gunicorn and PostgreSQL on loopback.

    .venv/bin/python bench/load.py                       # 100 users, 60 s, its own PostgreSQL
    .venv/bin/python bench/load.py --users 20 --duration 15
    .venv/bin/python bench/load.py --database-url postgresql+psycopg://app@127.0.0.1:5432/postgres

What it does, inside fresh temporary folders that are removed afterwards:

1. starts its own PostgreSQL server (scripts/postgres.sh; or uses --database-url, a server in
   which it creates a database and drops it at the end), migrates a new database and seeds it
   with bench/timeline.py's families (--families, two parents each, a third of the partners
   viewers, every third family expecting a second baby; entries with photos written through
   the domain services), the content pack and a few inbox messages per parent;
2. starts gunicorn with the production config and the README's production worker count
   (`-w 4`; --workers), only SESSION_COOKIE_SECURE=0 for plain http and per-worker rate-limit
   counts (the benchmark has no shared store);
3. signs in one browser per simulated user through the real form (CSRF on), before the load
   as a parent signs in once and stays signed in: a different parent each while there are
   enough (--families 50 gives 100 parents of 50 families), then a parent's second device;
4. runs locust in this process (headless, its local runner): --users users doing what
   bench/load_flows.py says parents do, weighted like real use, with --think-min to
   --think-max seconds between pages (and before the first);
5. after --warmup seconds (the workers' caches fill), times --duration seconds and prints
   one JSON object on stdout (progress goes to stderr): req/s, p50/p95/p99 in ms and errors
   per page kind and overall, the error kinds, the machine (cores, CPU model) and the date.
   Exits 1 on any error (a wrong status, a page without the parent's own child, no answer),
   and with --check also when p95 misses the target.

Target: 0 errors, p95 <= 200 ms overall. Every request goes to 127.0.0.1 and the run is
bounded in time.
"""
# Locust's users are gevent greenlets: the standard library is patched before anything else
# imports socket, ssl or threading (as `locust` itself would on import).
from gevent import monkey

monkey.patch_all()

import argparse  # noqa: E402
import http.client  # noqa: E402
import itertools  # noqa: E402
import os  # noqa: E402
import platform  # noqa: E402
import random  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import sys  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from collections import defaultdict  # noqa: E402
from datetime import UTC, datetime  # noqa: E402
from http.cookies import SimpleCookie  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any  # noqa: E402
from urllib.parse import urlencode, urlsplit  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import load_flows  # noqa: E402
from _common import BenchError, Run, log, machine_facts, read_server_version  # noqa: E402
from load_flows import Flows, Parent, Reply, Tally  # noqa: E402
from timeline import (  # noqa: E402
    HOST,
    PASSWORD,
    USER_AGENT,
    free_port,
    seed,
    start_gunicorn,
    stop_gunicorn,
    wait_healthy,
)

TARGET_P95_MS_MAX = 200.0
TARGET_ERRORS_MAX = 0
#: The README's production advice (`gunicorn -w 4`).
DEFAULT_WORKERS = 4


class Timings:
    """Each answer's time by page kind, kept only while the measured window is open."""

    def __init__(self) -> None:
        self.open = False
        self.samples: dict[str, list[float]] = defaultdict(list)
        self.started = self.stopped = 0.0

    def add(self, kind: str, seconds: float) -> None:
        if self.open:
            self.samples[kind].append(seconds)

    def start(self) -> None:
        self.samples.clear()
        self.open, self.started = True, time.perf_counter()

    def stop(self) -> None:
        self.open, self.stopped = False, time.perf_counter()

    @property
    def seconds(self) -> float:
        return self.stopped - self.started


class HttpClient:
    """load_flows.Client over one keep-alive http.client connection (cooperative under
    gevent): the browser's cookies, one user agent (Flask-Login's strong sessions are tied
    to it), no redirects followed; every answer timed into `timings`."""

    def __init__(self, port: int, timings: Timings) -> None:
        self.port, self.timings = port, timings
        self.conn = http.client.HTTPConnection(HOST, port, timeout=30)
        self.cookies: dict[str, str] = {}

    def request(self, method: str, path: str, kind: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Reply:
        all_headers = {"User-Agent": USER_AGENT, "Accept": "text/html", **(headers or {})}
        if self.cookies:
            all_headers["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        body = None
        if data is not None:
            body = urlencode(data).encode()
            all_headers["Content-Type"] = "application/x-www-form-urlencoded"
        t0 = time.perf_counter()
        try:
            self.conn.request(method, path, body=body, headers=all_headers)
            response = self.conn.getresponse()
            content = response.read()
        except (OSError, http.client.HTTPException) as error:
            self.conn.close()
            return Reply(0, type(error).__name__)
        self.timings.add(kind, time.perf_counter() - t0)
        for raw in response.headers.get_all("Set-Cookie") or []:
            cookie = SimpleCookie()
            cookie.load(raw)
            for name, morsel in cookie.items():
                self.cookies[name] = morsel.value
        location = response.headers.get("Location")
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return Reply(response.status, content.decode("utf-8", errors="replace"), location)

    def close(self) -> None:
        self.conn.close()


def sign_in(port: int, parents: list[Parent], args: argparse.Namespace, tally: Tally,
            timings: Timings) -> list[Flows]:
    """One browser per simulated user, signed in through the real form before the load (a
    parent signs in once and stays signed in for weeks; the first sign-in also moves the
    seeded cheap password hash to the production parameters). A different parent each
    while there are enough; then a parent's second device."""
    from gevent.pool import Pool

    users = [Flows(HttpClient(port, timings), parents[n % len(parents)], tally,
                   random.Random(args.seed * 100_003 + n)) for n in range(args.users)]
    done = Pool(args.workers).map(lambda flows: flows.sign_in(), users)  # one per worker
    failed = [flows.parent.email for flows, ok in zip(users, done, strict=True) if not ok]
    if failed:
        raise BenchError(f"sign-in failed for {len(failed)} users ({failed[:3]}): "
                         f"{dict(tally.errors)}")
    return users


def swarm(port: int, users: list[Flows], args: argparse.Namespace, tally: Tally,
          timings: Timings) -> str:
    """Locust's local runner: the signed-in users, each visiting with pauses between pages
    (the first after a pause too: people do not all click at once). The window is timed
    after a warm-up (the workers' first pages fill their template and card caches)."""
    import gevent
    import locust
    from locust import User, between, task
    from locust.env import Environment

    turn = itertools.count()

    class ParentUser(User):
        wait_time = between(args.think_min, args.think_max)

        def on_start(self) -> None:
            self.flows = users[next(turn)]
            self.client = self.flows.client
            gevent.sleep(self.flows.rng.uniform(0, args.think_max))

        @task
        def visit(self) -> None:
            try:
                self.flows.step()
            except Exception as error:  # noqa: BLE001 - counted: the flows must not break
                tally.error("flow", f"{type(error).__name__}: {error}"[:200])

        def on_stop(self) -> None:
            self.client.close()

    env = Environment(user_classes=[ParentUser], host=f"http://{HOST}:{port}")
    runner = env.create_local_runner()
    log(f"locust {locust.__version__}: {len(users)} users, {args.spawn_rate:g}/s, thinking "
        f"{args.think_min:g}-{args.think_max:g} s between pages")
    runner.start(len(users), spawn_rate=args.spawn_rate)
    deadline = time.monotonic() + len(users) / args.spawn_rate + 30
    while runner.user_count < len(users) and time.monotonic() < deadline:
        gevent.sleep(0.2)
    if runner.user_count < len(users):
        runner.quit()
        raise BenchError(f"locust started only {runner.user_count} of {len(users)} users")
    log(f"all {len(users)} users visiting; warming up for {args.warmup:g} s")
    gevent.sleep(max(args.warmup, args.think_max))  # every worker's caches, every user's
    log(f"timing {args.duration:g} s")
    timings.start()
    gevent.sleep(args.duration)
    timings.stop()
    runner.quit()
    return f"locust {locust.__version__}"


def summary(samples: list[float], seconds: float, errors: int) -> dict[str, Any]:
    out: dict[str, Any] = {"requests": len(samples),
                           "req_per_s": round(len(samples) / seconds, 1) if seconds else 0.0}
    if len(samples) >= 2:
        cuts = statistics.quantiles(samples, n=100, method="inclusive")
        out.update(p50_ms=round(cuts[49] * 1000, 1), p95_ms=round(cuts[94] * 1000, 1),
                   p99_ms=round(cuts[98] * 1000, 1))
    elif samples:
        out.update(p50_ms=round(samples[0] * 1000, 1), p95_ms=round(samples[0] * 1000, 1),
                   p99_ms=round(samples[0] * 1000, 1))
    out["errors"] = errors
    return out


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def own_postgres(run: Run) -> str:
    """A throwaway server (scripts/postgres.sh) in a folder of its own, stopped at the end."""
    folder = tempfile.mkdtemp(prefix="bench-load-pg-")
    log(f"starting PostgreSQL in {folder}")
    done = subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "start", folder],
                          capture_output=True, text=True, timeout=120)
    if done.returncode != 0:
        subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "stop", folder],
                       capture_output=True, timeout=60)
        raise BenchError(f"scripts/postgres.sh start failed: {done.stderr.strip()}")

    def stop() -> None:
        log("stopping PostgreSQL")
        subprocess.run([str(ROOT / "scripts" / "postgres.sh"), "stop", folder],
                       capture_output=True, timeout=60)

    run.on_exit(stop, always=True)
    return done.stdout.strip().splitlines()[-1]


def measure(args: argparse.Namespace, run: Run) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    server = args.database_url or own_postgres(run)
    url, dialect = run.database(server, drop_when_kept=True)
    t0 = time.perf_counter()
    seeded = seed(url, run.tmp, families=args.families, entry_count=args.entries,
                  entries_per_child=args.entries_per_child, photo_entries=args.photo_entries)
    log(f"seeded {seeded.families} families, {seeded.users} parents, {seeded.children} "
        f"children ({seeded.entries_per_child} entries each, {seeded.photos} photos) in "
        f"{time.perf_counter() - t0:.1f} s")
    from sqlalchemy import create_engine

    engine = create_engine(url)
    try:
        db_version = read_server_version(engine)
    finally:
        engine.dispose()
    parents = [Parent(p.email, PASSWORD, p.child_id, p.child_name, born=p.born,
                      can_write=p.can_write) for p in seeded.people]
    port = free_port()
    proc, log_path = start_gunicorn(run.tmp, url, port, args.workers)
    run.on_exit(lambda: stop_gunicorn(proc), always=True)
    wait_healthy(proc, port, log_path)

    tally, timings = Tally(), Timings()
    t0 = time.perf_counter()
    users = sign_in(port, parents, args, tally, timings)
    log(f"signed in {len(users)} users in {time.perf_counter() - t0:.1f} s")
    tool = swarm(port, users, args, tally, timings)
    if proc.poll() is not None:
        raise BenchError(f"gunicorn exited with {proc.returncode} during the load")

    errors_by_kind: dict[str, int] = defaultdict(int)
    for (kind, _), count in tally.errors.items():
        errors_by_kind[kind] += count
    pages = {kind: summary(timings.samples.get(kind, []), timings.seconds,
                           errors_by_kind.get(kind, 0))
             for kind in (*load_flows.PAGE_KINDS, "flow")
             if timings.samples.get(kind) or errors_by_kind.get(kind)}
    every = [x for samples in timings.samples.values() for x in samples]
    overall = summary(every, timings.seconds, tally.error_count)
    problems = []
    if tally.error_count > TARGET_ERRORS_MAX:
        problems.append(f"{tally.error_count} errors: " + ", ".join(
            f"{kind} {what} ×{n}" for (kind, what), n in tally.errors.most_common(10)))
    if len(every) < 2:
        problems.append("fewer than 2 answers were timed")
    meets = not problems and overall.get("p95_ms", float("inf")) <= TARGET_P95_MS_MAX
    machine = machine_facts(load_before, db_version)
    machine.update(cores=os.cpu_count(), cpu_model=cpu_model())
    return {
        "benchmark": "load",
        "db": dialect,
        "tool": tool,
        "users": len(users),
        "parents_signed_in": len({flows.parent.email for flows in users}),
        "families_signed_in": len({seeded.people[n % len(seeded.people)].family_id
                                   for n in range(len(users))}),
        "families": seeded.families,
        "parents": seeded.users,
        "children": seeded.children,
        "workers": args.workers,
        "duration_s": args.duration,
        "warmup_s": args.warmup,
        "think_s": [args.think_min, args.think_max],
        "weights": load_flows.WEIGHTS,
        "overall": overall,
        "pages": pages,
        "errors": {"count": tally.error_count,
                   "kinds": {f"{kind}: {what}": n
                             for (kind, what), n in tally.errors.most_common()}},
        "entries_written": tally.entries_written,
        "targets": {"errors_max": TARGET_ERRORS_MAX, "p95_ms_max": TARGET_P95_MS_MAX},
        "meets_targets": meets,
        "problems": problems,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": machine,
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--users", type=int, default=100, help="simulated parents at once (100)")
    p.add_argument("--duration", type=float, default=60.0,
                   help="seconds timed once every user has signed in (60)")
    p.add_argument("--database-url", default=None,
                   help="a PostgreSQL server URL; a fresh database is created in it and "
                        "dropped afterwards (default: a server of its own, "
                        "scripts/postgres.sh)")
    p.add_argument("--workers", type=int, default=DEFAULT_WORKERS,
                   help=f"gunicorn workers ({DEFAULT_WORKERS}, the README's production advice)")
    p.add_argument("--families", type=int, default=50,
                   help="families to seed, two parents each (50: 100 parents)")
    p.add_argument("--entries", type=int, default=400, help="entries of family 1's child (400)")
    p.add_argument("--entries-per-child", type=int, default=80,
                   help="entries of every other born child (80)")
    p.add_argument("--photo-entries", type=int, default=20,
                   help="photo entries of family 1's child (20; the others in proportion)")
    p.add_argument("--warmup", type=float, default=10.0,
                   help="seconds of load before the timed window, at least --think-max (10)")
    p.add_argument("--think-min", type=float, default=1.0,
                   help="shortest pause between a user's pages, seconds (1)")
    p.add_argument("--think-max", type=float, default=3.0,
                   help="longest pause between a user's pages, seconds (3)")
    p.add_argument("--spawn-rate", type=float, default=20.0,
                   help="users started per second (20)")
    p.add_argument("--seed", type=int, default=1, help="the users' random choices (1)")
    p.add_argument("--check", action="store_true", help="exit 1 when p95 misses the target")
    p.add_argument("--keep", action="store_true",
                   help="keep the temp folder (uploads, gunicorn log) for a look afterwards")
    args = p.parse_args(argv)
    if not 1 <= args.users <= 2000:
        p.error("--users must be 1..2000")
    if not 0 < args.duration <= 3600:
        p.error("--duration must be in (0, 3600]")
    if not 1 <= args.workers <= 64:
        p.error("--workers must be 1..64")
    if not 1 <= args.families <= 1000:
        p.error("--families must be 1..1000")
    if not 0 <= args.think_min <= args.think_max <= 600:
        p.error("--think-min and --think-max must be 0 <= min <= max <= 600")
    if not 0 <= args.warmup <= 600:
        p.error("--warmup must be 0..600 seconds")
    if not 0 < args.spawn_rate <= 1000:
        p.error("--spawn-rate must be in (0, 1000]")
    if not 0 <= args.photo_entries <= args.entries or args.entries < 1 \
            or args.entries_per_child < 1:
        p.error("--entries and --entries-per-child must be >= 1, --photo-entries between 0 "
                "and --entries")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    run = Run("bench-load-", keep=args.keep, check=args.check)
    return run.execute(lambda: measure(args, run))


if __name__ == "__main__":
    sys.exit(main())
