"""The email outbox: send the ledger's pending email rows, with retries and a dead letter.

`send_due(session_factory, mailer_factory, now, batch, settings)` works in four short steps
per batch, and never holds a database transaction open while talking to the mail server:

1. **Claim** (one transaction): pending/failed email rows whose `next_attempt_at` has come
   and whose lease is free. On PostgreSQL the rows are locked `FOR UPDATE SKIP LOCKED`, so a
   second sender takes other rows; on SQLite the writer session's `BEGIN IMMEDIATE`
   serialises claimers. Either way each claimed row gets `claimed_until = now + 5 min`.
   In the same transaction each row is checked again: a person who unsubscribed, was
   suppressed (bounce) or paused since scheduling gets "suppressed" and nothing is sent,
   and so does an email about a content item no longer live ("unavailable") or about a
   child no longer in the person's families ("not-in-family"), as in the inbox;
   a digest that would land in the person's quiet hours waits until they end.
2. **Render** the rest in a read-only transaction (a plain, deferred BEGIN on SQLite), so
   web requests that write are not kept waiting while a batch renders.
3. **Send**, outside any transaction, over one mailer connection for the whole call (one
   SMTP session, reconnecting once if the server hangs up).
4. **Record** (one transaction): "sent" with `sent_at`; or "failed" with `attempts + 1`,
   `last_error` and `next_attempt_at = now + 2**attempts minutes`; after
   `max_attempts` (or a permanent 5xx refusal) → "dead". Dead rows are on the staff page.
   Rows left untried because the server hung up on an earlier message of the batch are
   released as they were (no attempt counted) for the next call.

Delivery guarantee: a crash after the claim and before step 4 leaves the rows claimed; once
the lease expires they are sent again. So email is *at-least-once in exactly that window*
(the mail went out, the "sent" mark did not). Each message's `Message-ID` is the delivery's
id (`<delivery-123@babyjourney>`), so mail systems can de-duplicate such a repeat. Everywhere
else it is exactly-once: the ledger row exists once, and only the claimer sends it.

Kinds of email are a small registry (`register`): each kind names its renderer and the
consent it needs. The digest is registered here; a row with an unknown kind goes "dead" with
the reason, where staff can see it.
"""
from __future__ import annotations

import logging
import smtplib
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from clock import utcnow
from content.library import live
from content.models import ContentItem
from diary.models import Child, Membership, User
from journeys import digests
from journeys.digests.headers import unsubscribe_mailto
from journeys.links import SiteLinks
from journeys.models import Delivery, EmailPreference, Suppression
from journeys.preferences import Schedule, zone
from mailer import Email, Mailer, MailerUnavailable, connection, is_permanent_refusal

log = logging.getLogger(__name__)

LEASE = timedelta(minutes=5)
DEFAULT_MAX_ATTEMPTS = 6
MAX_ERROR = 1000


@dataclass(frozen=True)
class EmailSettings:
    """What rendering and retrying need from the app (no Flask here): its configuration,
    and the links the web layer builds from its URL map (`journeys.links.SiteLinks`)."""

    links: SiteLinks
    secret: str
    max_attempts: int = DEFAULT_MAX_ATTEMPTS
    digest_cap: int = digests.DEFAULT_CAP
    unsubscribe_mailto: str | None = None
    #: The recommender's "Suggested for you" in digests (None: the stage's products).
    suggesting: digests.Suggesting | None = None

    @classmethod
    def from_config(cls, config: Mapping[str, Any], links: SiteLinks) -> EmailSettings:
        return cls(links=links, secret=str(config["SECRET_KEY"]),
                   max_attempts=int(config.get("OUTBOX_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS),
                   digest_cap=int(config.get("DIGEST_MAX_EMAILS_PER_7_DAYS")
                                  or digests.DEFAULT_CAP),
                   unsubscribe_mailto=unsubscribe_mailto(config.get("MAIL_FROM")))


#: (session, delivery, user, now, settings, cache) → Email; `cache` is a dict kept for one
#: `send_due` call, for content every recipient at the same stage shares.
Renderer = Callable[[Session, Delivery, User, datetime, EmailSettings, dict], Email]


@dataclass(frozen=True)
class Kind:
    render: Renderer
    consent: str  # the User flag that must still be True at send time
    quiet_hours: bool = True  # wait for the end of the person's quiet hours


KINDS: dict[str, Kind] = {}


def register(name: str, render: Renderer, consent: str = "marketing_opt_in",
             quiet_hours: bool = True) -> None:
    KINDS[name] = Kind(render, consent, quiet_hours)


def _render_digest(session: Session, delivery: Delivery, user: User, now: datetime,
                   settings: EmailSettings, cache: dict) -> Email:
    return digests.render(session, delivery, user, now, settings.links, settings.secret,
                          unsubscribe_mailto=settings.unsubscribe_mailto, cache=cache,
                          suggesting=settings.suggesting)


def _render_message(session: Session, delivery: Delivery, user: User, now: datetime,
                    settings: EmailSettings, cache: dict) -> Email:
    return digests.render_message(session, delivery, user, now, settings.links,
                                  settings.secret, unsubscribe_mailto=settings.unsubscribe_mailto)


register(digests.KIND, _render_digest, consent="digest_opt_in")
#: Life-moment campaigns (journeys.campaigns): title and body in the payload; marketing.
register("campaign", _render_message, consent="marketing_opt_in")
#: A content item a journey step pushes by email (payload "item_id", no "kind"): the same
#: stage content as the digest, so the digest consent applies.
register("item", _render_message, consent="digest_opt_in")


def kind_of(delivery: Delivery) -> str:
    payload = delivery.payload or {}
    return str(payload.get("kind") or ("item" if payload.get("item_id") else ""))


def _item_id(delivery: Delivery) -> int | None:
    item_id = (delivery.payload or {}).get("item_id")
    return item_id if isinstance(item_id, int) else None


@dataclass
class OutboxStats:
    claimed: int = 0
    sent: int = 0
    failed: int = 0
    dead: int = 0
    suppressed: int = 0
    deferred: int = 0
    batches: int = 0
    errors: list[str] = field(default_factory=list)


@dataclass
class _Job:
    id: int
    attempts: int
    email: Email


def backoff(attempts: int, now: datetime) -> datetime:
    """When to try again after the `attempts`-th failure: 2, 4, 8, 16, 32 … minutes."""
    return now + timedelta(minutes=2 ** attempts)


def claim(session: Session, now: datetime, batch: int, lease: timedelta = LEASE
          ) -> list[Delivery]:
    """Take up to `batch` due email rows for this sender (in the caller's transaction)."""
    stmt = (select(Delivery)
            .where(Delivery.channel == "email", Delivery.status.in_(("pending", "failed")),
                   or_(Delivery.next_attempt_at.is_(None), Delivery.next_attempt_at <= now),
                   or_(Delivery.claimed_until.is_(None), Delivery.claimed_until <= now))
            .order_by(Delivery.id).limit(batch)
            .execution_options(populate_existing=True))
    if session.get_bind().dialect.name == "postgresql":
        stmt = stmt.with_for_update(skip_locked=True)
    rows = list(session.scalars(stmt))
    for row in rows:
        row.claimed_until = now + lease
    session.flush()
    return rows


@dataclass
class _Ready:
    """A claimed row that passed the checks, with what rendering it needs."""
    row: Delivery
    user: User
    kind: Kind


def _check(session: Session, rows: list[Delivery], now: datetime, stats: OutboxStats,
           cache: dict) -> list[_Ready]:
    """Check each claimed row again (in the claim's transaction): unknown kind → dead;
    closed account, withdrawn consent, bounced address or pause → suppressed; quiet hours
    → wait; an item no longer live or a child no longer in the person's families →
    suppressed. Loads what rendering the rest needs (users, preferences, children) into `cache`."""
    user_ids = {r.user_id for r in rows}
    users = {u.id: u for u in session.scalars(select(User).where(User.id.in_(user_ids)))}
    emails = {u.email for u in users.values()}
    suppressed = set(session.scalars(select(Suppression.email).where(
        Suppression.email.in_(emails)))) if emails else set()
    prefs = {p.user_id: p for p in session.scalars(select(EmailPreference).where(
        EmailPreference.user_id.in_(user_ids)))}
    digests.preload(session, user_ids, prefs, cache)
    item_ids = {_item_id(r) for r in rows} - {None}
    live_items = set(session.scalars(select(ContentItem.id).where(
        ContentItem.id.in_(item_ids), live(now)))) if item_ids else set()
    child_ids = {r.child_id for r in rows if r.child_id}
    in_family = {(uid, cid) for uid, cid in session.execute(
        select(Membership.user_id, Child.id)
        .join(Child, Child.family_id == Membership.family_id)
        .where(Child.id.in_(child_ids), Membership.user_id.in_(user_ids)))
    } if child_ids else set()
    ready: list[_Ready] = []
    for row in rows:
        kind = KINDS.get(kind_of(row))
        user = users.get(row.user_id)
        if kind is None:
            row.status, row.claimed_until = "dead", None
            row.last_error = f"no email renderer for kind {kind_of(row)!r}"
            stats.dead += 1
            continue
        schedule = Schedule.of(prefs.get(row.user_id))
        local = now.astimezone(zone(user.timezone if user else None))
        reason = None
        if user is None or not user.is_active:
            reason = "no-account"
        elif not getattr(user, kind.consent, False):
            reason = "unsubscribed"
        elif user.email_verified_at is None:
            reason = "unverified"  # a journey step emailed someone whose address is unproven
        elif user.email in suppressed:
            reason = "suppressed"
        elif schedule.is_paused(local.date()):
            reason = "paused"
        elif _item_id(row) is not None and _item_id(row) not in live_items:
            reason = "unavailable"  # archived, unpublished or deleted since it was queued
        elif row.child_id and (row.user_id, row.child_id) not in in_family:
            reason = "not-in-family"  # the person left the family, or the child is gone
        if reason is not None:
            row.status, row.claimed_until = "suppressed", None
            row.payload = {**(row.payload or {}), "reason": reason}
            stats.suppressed += 1
            continue
        if kind.quiet_hours and schedule.in_quiet_hours(local.hour):
            row.next_attempt_at, row.claimed_until = schedule.quiet_hours_end(local), None
            stats.deferred += 1
            continue
        assert user is not None
        ready.append(_Ready(row, user, kind))
    session.flush()
    return ready


def _render(session: Session, ready: list[_Ready], now: datetime, settings: EmailSettings,
            cache: dict) -> tuple[list[_Job], list[tuple[int, int, str]]]:
    """Render the checked rows (reads only). Returns (to send, render failures)."""
    jobs: list[_Job] = []
    broken: list[tuple[int, int, str]] = []
    for item in ready:
        row = item.row
        try:
            email = item.kind.render(session, row, item.user, now, settings, cache)
        except Exception as error:  # noqa: BLE001 - one bad row must not stop the batch
            log.exception("rendering delivery %s failed", row.id)
            broken.append((row.id, row.attempts, f"render: {type(error).__name__}: {error}"))
            continue
        jobs.append(_Job(row.id, row.attempts, email))
    return jobs, broken


def _send(conn: Any, jobs: list[_Job]) -> tuple[dict[int, str | None], dict[int, str], bool]:
    """Send over one connection. Returns (outcome per id: None = sent, else the error; a job
    not tried has none), {id: error} for permanent refusals, and whether the server went away.

    The server unreachable (no session could be opened): every job fails now, to be retried
    after the backoff. The session cut while sending a message, again on the one fresh
    connection (`SMTPConnection.send`): that message fails and is retried after its backoff,
    and the jobs after it are left untried, not counted as failed attempts, so a message that
    makes the server hang up every time cannot sink the rest of the batch with it."""
    outcome: dict[int, str | None] = {}
    permanent: dict[int, str] = {}
    for index, job in enumerate(jobs):
        try:
            conn.send(job.email)
            outcome[job.id] = None
        except MailerUnavailable as error:
            message = f"{type(error).__name__}: {error}"
            for rest in jobs[index:]:  # the server is gone: do not try the others now
                outcome[rest.id] = message
            return outcome, permanent, True
        except smtplib.SMTPServerDisconnected as error:
            outcome[job.id] = f"{type(error).__name__}: {error}"
            return outcome, permanent, True  # the rest: untried, released in `_record`
        except Exception as error:  # noqa: BLE001 - recorded on the row
            message = f"{type(error).__name__}: {error}"
            if is_permanent_refusal(error):
                permanent[job.id] = message
            outcome[job.id] = message
    return outcome, permanent, False


def _record(session: Session, jobs: list[_Job], broken: list[tuple[int, int, str]],
            outcome: dict[int, str | None], permanent: dict[int, str], now: datetime,
            max_attempts: int, stats: OutboxStats) -> None:
    attempts = {j.id: j.attempts for j in jobs} | {i: a for i, a, _ in broken}
    errors = {i: e for i, _, e in broken} | {i: e for i, e in outcome.items() if e}
    sent = [job.id for job in jobs if outcome.get(job.id, "not sent") is None]
    untried = [job.id for job in jobs if job.id not in outcome]
    if untried:  # free for the next call, with no attempt counted
        session.execute(update(Delivery).where(Delivery.id.in_(untried))
                        .values(claimed_until=None)
                        .execution_options(synchronize_session=False))
    if sent:  # one statement for the batch; nothing in the session needs refreshing
        session.execute(update(Delivery).where(Delivery.id.in_(sent)).values(
            status="sent", sent_at=now, claimed_until=None, last_error=None)
            .execution_options(synchronize_session=False))
        stats.sent += len(sent)
    for delivery_id, error in errors.items():
        tries = attempts[delivery_id] + 1
        dead = tries >= max_attempts or delivery_id in permanent
        session.execute(update(Delivery).where(Delivery.id == delivery_id).values(
            status="dead" if dead else "failed", attempts=tries, claimed_until=None,
            last_error=error[:MAX_ERROR], next_attempt_at=None if dead else backoff(tries, now)))
        if dead:
            stats.dead += 1
        else:
            stats.failed += 1
        stats.errors.append(error[:200])


def send_due(session_factory: sessionmaker, mailer_factory: Callable[[], Mailer],
             now: datetime | None, batch: int, settings: EmailSettings, *,
             max_batches: int = 20, lease: timedelta = LEASE) -> OutboxStats:
    """Send what is due, `batch` rows at a time (at most `max_batches`), over one connection.

    Stops early when fewer than `batch` rows were due or the mail server is unreachable.
    """
    now = now or utcnow()
    stats = OutboxStats()
    cache: dict = {}
    with session_factory() as session, connection(mailer_factory()) as conn:
        for _ in range(max_batches):
            with session.begin():
                rows = claim(session, now, batch, lease)
                ready = _check(session, rows, now, stats, cache)
            stats.claimed += len(rows)
            stats.batches += 1
            if not rows:
                break
            with session.begin():  # reads only: SQLite's write lock is not held meanwhile
                session.connection(execution_options={"sqlite_begin": "deferred"})
                jobs, broken = _render(session, ready, now, settings, cache)
            outcome, permanent, down = _send(conn, jobs)
            with session.begin():
                _record(session, jobs, broken, outcome, permanent, now,
                        settings.max_attempts, stats)
            if down or len(rows) < batch:
                break
    if stats.claimed:
        log.info("outbox as of %s: %s", now.isoformat(), stats)
    return stats


def retry(session: Session, delivery_id: int) -> bool:
    """Staff: put a dead or failed email back in the queue, with a fresh set of attempts."""
    row = session.get(Delivery, delivery_id)
    if row is None or row.channel != "email" or row.status not in ("dead", "failed"):
        return False
    row.status, row.attempts, row.next_attempt_at, row.claimed_until = "pending", 0, None, None
    session.flush()
    return True


def problems(session: Session, limit: int = 100) -> list[Delivery]:
    """Failed (will retry) and dead email deliveries, newest first, for the staff page."""
    return list(session.scalars(
        select(Delivery).where(Delivery.channel == "email",
                               Delivery.status.in_(("failed", "dead")))
        .order_by(Delivery.id.desc()).limit(limit)))


def email_counts(session: Session) -> dict[str, int]:
    """How many email deliveries the ledger holds in each status, for the staff page."""
    return {status: n for status, n in session.execute(
        select(Delivery.status, func.count()).where(Delivery.channel == "email")
        .group_by(Delivery.status))}
