"""Run one scheduler job in a process of its own, for the crash tests (tests/faults).

    python tests/faults/job_driver.py journeys DATABASE_URL NOW STOP_AT_BATCH
    python tests/faults/job_driver.py outbox DATABASE_URL NOW STOP_AT_BATCH SMTP_PORT STAGE

With STOP_AT_BATCH > 0 the process stops itself (SIGSTOP) in that batch, at a point the test
chose, so the test can SIGKILL it there: no timing, no sleep. The journeys tick stops inside
the batch's transaction, after its rows were sent to the database and before the commit.
The outbox stops at STAGE "claimed" (the batch's claim committed, nothing sent) or "sent"
(the batch sent, before "sent" is recorded). 0: run to the end.
"""
from __future__ import annotations

import os
import signal
import sys
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import db  # noqa: E402
from journeys import engine, jobs, outbox  # noqa: E402
from mailer import SMTPMailer  # noqa: E402

BATCH = 2


class Links:
    """The site's links, without building the web app (`journeys.links.SiteLinks`)."""

    def article(self, slug: str) -> str:
        return f"/articles/{slug}"

    def product(self, sku: str) -> str:
        return f"/products/{sku}"

    def stage(self, stage_key: str) -> str:
        return f"/stages/{stage_key}"

    def inbox(self) -> str:
        return "/inbox"

    def preferences(self) -> str:
        return "/emails/preferences"

    def click(self, token: str) -> str:
        return f"http://localhost/e/c/{token}"

    def unsubscribe(self, token: str) -> str:
        return f"http://localhost/e/u/{token}"

    def home(self) -> str:
        return "http://localhost"


def stop_here() -> None:
    os.kill(os.getpid(), signal.SIGSTOP)


def main(argv: list[str]) -> None:
    job, url, now_text, stop_at = argv[0], argv[1], argv[2], int(argv[3])
    now = datetime.fromisoformat(now_text)
    factory = db.make_session_factory(db.writer_engine(db.make_engine(url,
                                                                      pool_pre_ping=True)))
    calls = 0
    if job == "journeys":
        from crm import segments
        real_batch = engine.tick_batch

        def tick_batch(session, *args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal calls
            result = real_batch(session, *args, **kwargs)
            calls += 1
            if calls == stop_at:
                session.flush()
                stop_here()
            return result

        engine.tick_batch = tick_batch  # type: ignore[assignment]
        summary = jobs.run_journeys_tick(factory, now, batch_size=BATCH,
                                         audience=segments.audience)
        print(f"pushed {summary.pushed}")
    elif job == "outbox":
        port, stage = int(argv[4]), argv[5]
        hook = outbox._render if stage == "claimed" else outbox._record
        name = hook.__name__

        def stopping(*args, **kwargs):  # type: ignore[no-untyped-def]
            nonlocal calls
            calls += 1
            if calls == stop_at:
                stop_here()
            return hook(*args, **kwargs)

        setattr(outbox, name, stopping)
        stats = outbox.send_due(
            factory, lambda: SMTPMailer("127.0.0.1", port, "Baby Journey <hello@bj.example>",
                                        use_tls=False, timeout=10),
            now, BATCH, outbox.EmailSettings(links=Links(), secret="test-secret-key"))
        print(f"sent {stats.sent}")
    else:
        raise SystemExit(f"unknown job {job}")


if __name__ == "__main__":
    main(sys.argv[1:])
