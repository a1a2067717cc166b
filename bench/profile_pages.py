"""Where a page's time goes, in-process: the production app on a database seeded by
`timeline.py --keep`, many signed-in sessions asking for their own pages in turn.

    .venv/bin/python bench/timeline.py --keep --cases hello        # prints the kept folder
    .venv/bin/python bench/profile_pages.py /tmp/bench-timeline-XXXX [--profile out.prof]
    .venv/bin/python bench/profile_pages.py --database-url postgresql+psycopg://… (kept db)

Each session signs in through the real form (CSRF on) with the Flask test client; then every
page is asked for `--requests` times in turn over the sessions. It reports CPU milliseconds
per request (process time: steadier than wall time on a shared machine) and SQL statements
per request, as one JSON object; `--profile FILE` runs the same loop under cProfile and
prints the top functions by own and cumulative time to stderr.
"""
from __future__ import annotations

import argparse
import cProfile
import json
import os
import pstats
import re
import secrets
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from _common import log  # noqa: E402

PASSWORD = "bench-password-123"
UA = "bench-timeline/1.0"


def make_app(folder: Path, url: str) -> Any:
    os.environ.update({
        "APP_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "DATABASE_URL": url,
        "INSTANCE_PATH": str(folder), "UPLOAD_DIR": str(folder / "uploads"),
        "MAIL_OUTBOX_DIR": str(folder / "outbox"), "SESSION_COOKIE_SECURE": "0",
        "RATELIMIT_STORAGE_URI": "memory://", "ALLOW_PER_WORKER_RATE_LIMITS": "1",
        "MAIL_SERVER": "127.0.0.1", "LOGIN_RATE_LIMIT": "10000 per minute",
        "LOGIN_ACCOUNT_RATE_LIMIT": "10000 per minute", "BENCH_ENDPOINTS": "1"})
    from webapp import create_app

    return create_app()


def sign_in(app: Any, email: str) -> Any:
    client = app.test_client()
    client.environ_base.update({"HTTP_USER_AGENT": UA, "REMOTE_ADDR": "127.0.0.1"})
    page = client.get("/login").get_data(as_text=True)
    token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', page).group(1)
    response = client.post("/login", data={"csrf_token": token, "email": email,
                                            "password": PASSWORD})
    assert response.status_code == 302, (email, response.status_code)
    return client


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("folder", type=Path, help="the folder `timeline.py --keep` left")
    p.add_argument("--database-url", default=None, help="default: the folder's bench.db")
    p.add_argument("--sessions", type=int, default=60)
    p.add_argument("--requests", type=int, default=600, help="per page (600)")
    p.add_argument("--pages", default="hello,timeline,child_home",
                   help="which pages to time (default hello,timeline,child_home)")
    p.add_argument("--profile", default=None, help="write cProfile stats here")
    args = p.parse_args(argv)
    url = args.database_url or f"sqlite:///{args.folder / 'bench.db'}"
    app = make_app(args.folder, url)
    from sqlalchemy import event, select

    from diary.models import Child, Membership, User
    from webapp.database import get_session

    with app.app_context():
        s = get_session()
        people = [(u.email, sorted(c.id for c in s.scalars(
            select(Child).join(Membership, Membership.family_id == Child.family_id)
            .where(Membership.user_id == u.id))))
            for u in s.scalars(select(User).where(User.staff_role.is_(None)).order_by(User.id))]
    clients = []
    for n in range(args.sessions):
        email, children = people[n % len(people)]
        clients.append((sign_in(app, email), children[n // len(people) % len(children)]))
    log(f"{len(clients)} sessions signed in")
    statements = [0]
    engine = app.extensions["session_factory"].kw["bind"]
    event.listen(engine, "before_cursor_execute",
                 lambda *a, **k: statements.__setitem__(0, statements[0] + 1))
    pages = {"hello": lambda c: "/hello", "timeline": lambda c: f"/children/{c}/timeline",
             "child_home": lambda c: f"/children/{c}"}

    def loop(name: str, count: int) -> None:
        for i in range(count):
            client, child = clients[i % len(clients)]
            response = client.get(pages[name](child))
            if response.status_code != 200:
                raise SystemExit(f"{name} answered {response.status_code}")

    names = args.pages.split(",")
    report: dict[str, Any] = {"sessions": len(clients), "requests": args.requests}
    for name in names:
        loop(name, len(clients))  # warm: card cache, compiled statements, templates
    # Pages take turns in batches of one request per session, so a busy moment on the shared
    # machine hits them alike; the fastest batch is the steadiest figure.
    batches: dict[str, list[float]] = {name: [] for name in names}
    counted = {name: 0 for name in names}
    for _ in range(max(1, args.requests // len(clients))):
        for name in names:
            statements[0] = 0
            cpu = time.process_time()
            loop(name, len(clients))
            batches[name].append((time.process_time() - cpu) * 1000 / len(clients))
            counted[name] += statements[0]
    for name in names:
        ms = sorted(batches[name])
        report[name] = {"cpu_ms_min": round(ms[0], 3), "cpu_ms_median": round(ms[len(ms) // 2], 3),
                        "sql_per_request": round(counted[name] / len(clients) / len(ms), 2)}
        if name != "hello" and "hello" in report:
            report[name]["ratio_min"] = round(report["hello"]["cpu_ms_min"] / ms[0], 3)
        log(f"{name}: {report[name]}")
    if args.profile:
        profiler = cProfile.Profile()
        profiler.enable()
        for name in args.pages.split(","):
            loop(name, args.requests)
        profiler.disable()
        profiler.dump_stats(args.profile)
        stats = pstats.Stats(args.profile, stream=sys.stderr)
        stats.sort_stats("tottime").print_stats(35)
        stats.sort_stats("cumulative").print_stats(60)
    report["load_avg_1m"] = round(os.getloadavg()[0], 2)
    print(json.dumps(report))
    return 0


if __name__ == "__main__":
    sys.exit(main())
