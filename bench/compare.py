"""Two versions of the code, timed side by side on the same database in interleaved slices.

    .venv/bin/python bench/compare.py --old HEAD~1                      # SQLite
    .venv/bin/python bench/compare.py --old 096196b --database-url postgresql+psycopg://…
    .venv/bin/python bench/compare.py --old main --new my-branch --cases hello,child_home

On a shared machine two runs of `timeline.py` a few minutes apart differ by 15 % or more:
other tenants and the CPU's clock drift, and a change worth 5 % cannot be seen. Here both
versions serve at once — each from its own git worktree (`--old`; `--new` defaults to the
working tree as it is, uncommitted changes included), each with its own gunicorn and
signed-in sessions, on one database seeded once as `timeline.py` seeds it — and wrk loads
one of them at a time, a short slice each, taking turns (the order flips every round). The
machine's drift then falls on both alike. The two versions must share the database schema
(the migrations folder must be the same), since both serve the one database.

Prints one JSON object: per version and case, req/s, p50 and p95 and the ratio to hello,
and per case the new version's req/s over the old's.
"""
from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import timeline  # noqa: E402
from _common import BenchError, Run, log, machine_facts  # noqa: E402

CASES = ("hello", "timeline", "child_home")
#: Compiled catalogues are built by `make`, not committed: a worktree gets the working tree's.
CATALOGUES = "webapp/translations"


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--old", required=True, help="git revision of the version to compare with")
    p.add_argument("--new", default=None,
                   help="git revision of the other version (default: the working tree)")
    p.add_argument("--cases", default=",".join(CASES),
                   help=f"cases, from {', '.join(CASES)} (default: all)")
    p.add_argument("--rounds", type=int, default=8, help="slices of each case per version (8)")
    p.add_argument("--slice", type=int, default=2, help="seconds per slice (2)")
    p.add_argument("--connections", type=int, default=16)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--database-url", default=None,
                   help="a PostgreSQL server URL; a fresh database is created and dropped")
    args = p.parse_args(argv)
    args.cases = [c.strip() for c in args.cases.split(",") if c.strip()]
    unknown = set(args.cases) - set(CASES)
    if unknown or "hello" not in args.cases:
        p.error(f"cases must include hello and come from {', '.join(CASES)}")
    if args.rounds < 1 or args.slice < 1:
        p.error("--rounds and --slice must be at least 1")
    return args


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True,
                          text=True).stdout.strip()


def worktree(run: Run, revision: str, name: str) -> Path:
    """A checkout of `revision` in the run's folder, removed with it."""
    commit = _git("rev-parse", "--verify", f"{revision}^{{commit}}")
    if _git("diff", "--name-only", commit, "--", "migrations"):
        raise BenchError(f"{revision} has other migrations than the working tree: the two "
                         f"versions must share the database schema")
    path = run.tmp / name
    _git("worktree", "add", "--detach", "--quiet", str(path), commit)
    run.on_exit(lambda: _git("worktree", "remove", "--force", str(path)), always=True)
    for catalogue in (ROOT / CATALOGUES).rglob("*.mo"):
        target = path / catalogue.relative_to(ROOT)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(catalogue, target)
    return path


def measure(args: argparse.Namespace, run: Run, wrk: str) -> dict[str, Any]:
    load_before = os.getloadavg()[0]
    trees = {"old": worktree(run, args.old, "old"),
             "new": worktree(run, args.new, "new") if args.new else ROOT}
    url, dialect = run.database(args.database_url)
    seeded = timeline.seed(url, run.tmp, families=12, entry_count=1000, entries_per_child=150,
                           photo_entries=40)
    scripts: dict[str, dict[str, Any]] = {}
    for version, root in trees.items():
        folder = run.tmp / f"serve-{version}"
        folder.mkdir()
        port = timeline.free_port()
        proc, log_path = timeline.start_gunicorn(folder, url, port, args.workers, root=root)
        run.on_exit(lambda p=proc: timeline.stop_gunicorn(p), always=True)
        timeline.wait_healthy(proc, port, log_path)
        visits = timeline.rotating_visits(timeline.sign_in_sessions(port, seeded, 60))
        scripts[version] = {"port": port}
        for case in args.cases:
            script = folder / f"{case}.lua"
            script.write_text(timeline.wrk_script(visits[case], args.threads))
            scripts[version][case] = script

    def load(version: str, case: str, seconds: int) -> timeline.LoadResult:
        s = scripts[version]
        return timeline.run_wrk(wrk, s[case], s["port"], args.threads, args.connections,
                                seconds)

    for version in trees:  # warm: compiled statements, templates, caches
        for case in args.cases:
            load(version, case, args.slice)
    results: dict[tuple[str, str], list[timeline.LoadResult]] = {
        (v, c): [] for v in trees for c in args.cases}
    t0 = time.monotonic()
    for round_no in range(args.rounds):
        order = list(trees) if round_no % 2 == 0 else list(reversed(list(trees)))
        for case in args.cases:
            for version in order:
                results[(version, case)].append(load(version, case, args.slice))
    log(f"{args.rounds} rounds in {time.monotonic() - t0:.0f} s")
    report: dict[str, Any] = {}
    problems = []
    for version in trees:
        pooled = {c: timeline.pool(results[(version, c)]) for c in args.cases}
        hello = pooled["hello"].req_per_s
        report[version] = {}
        for case, r in pooled.items():
            row = r.as_dict()
            if case != "hello" and hello:
                row["ratio_to_hello"] = round(r.req_per_s / hello, 3)
            report[version][case] = row
            if r.non_200 or r.socket_errors:
                problems.append(f"{version} {case}: {r.non_200} non-200, "
                                f"{r.socket_errors} socket errors")
    return {
        "benchmark": "compare", "db": dialect, "old": args.old, "new": args.new or "working tree",
        "cases": args.cases, "rounds": args.rounds, "slice_s": args.slice,
        "connections": args.connections, "workers": args.workers,
        "versions": report,
        "new_over_old": {c: round(report["new"][c]["req_per_s"]
                                  / report["old"][c]["req_per_s"], 3)
                         for c in args.cases if report["old"][c]["req_per_s"]},
        "problems": problems,
        "machine": machine_facts(load_before),
    }


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    wrk = shutil.which("wrk")
    if not wrk:
        log("compare.py needs wrk (apt-get install -y wrk)")
        return 2
    run = Run("bench-compare-")
    return run.execute(lambda: measure(args, run, wrk))


if __name__ == "__main__":
    sys.exit(main())
