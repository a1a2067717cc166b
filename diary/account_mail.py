"""The account email queue: address checks, password resets, invitations and notices.

Why a queue and not a send inside the request: the answer to "reset my password" or "register
this address" must look and take the same whether or not the address has an account, and a
slow or failing mail server must not fail the request. Views add a row in their transaction;
the web layer sends it after the response, and the scheduler retries what failed.

Rows hold no link and no token (`payload` names ids and display names only): links are signed
when the message is rendered, so nobody who can read the database or a staff page can use them.
"""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from db import rowcount
from diary.locales import reading_locale
from diary.models import AccountEmail, Invitation, User

#: What the queue sends. The web layer registers one renderer per kind.
VERIFY_ADDRESS = "verify_address"      # to the address to prove: a signed link
ADDRESS_IN_USE = "address_in_use"      # someone tried to register an address that has an account
RESET_PASSWORD = "reset_password"      # a signed one-hour link
INVITATION = "invitation"              # to the invited address: a signed join link
ADDRESS_CHANGING = "address_changing"  # to the old address: a change was asked for
ADDRESS_CHANGED = "address_changed"    # to the old address: the change is done
FAMILY_OWNER = "family_owner"          # to a caregiver who now owns a family's book
CRM_REPORT = "crm_report"              # to an analyst: a saved report, weekly (crm.reports)
TICKET_REPLY = "ticket_reply"          # to a parent: staff answered their ticket (care.tickets)
SURVEY = "survey"                      # a CSAT/NPS survey: signed one-click score links (care)
KINDS = (VERIFY_ADDRESS, ADDRESS_IN_USE, RESET_PASSWORD, INVITATION, ADDRESS_CHANGING,
         ADDRESS_CHANGED, FAMILY_OWNER, CRM_REPORT, TICKET_REPLY, SURVEY)

LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 6
MAX_ERROR = 1000


def queue(session: Session, kind: str, to_address: str, *, user: User | None = None,
          invitation: Invitation | None = None, locale: str = "en",
          **payload: object) -> AccountEmail:
    """Add one email to the queue (in the caller's transaction)."""
    if kind not in KINDS:
        raise ValueError(f"unknown account email kind {kind!r}")
    row = AccountEmail(kind=kind, to_address=to_address, user_id=user.id if user else None,
                       invitation_id=invitation.id if invitation else None,
                       locale=reading_locale(locale), payload=dict(payload))
    session.add(row)
    session.flush()
    return row


def sent_since(session: Session, kind: str, to_address: str, since: datetime) -> int:
    """How many emails of this kind went (or wait to go) to this address since `since`:
    the per-address throttle for resets and "someone used your address" notices."""
    return session.scalar(select(func.count(AccountEmail.id)).where(
        AccountEmail.kind == kind, AccountEmail.to_address == to_address,
        AccountEmail.created_at >= since)) or 0


def claim(session: Session, email_id: int, now: datetime) -> AccountEmail | None:
    """Take one due row for sending (a lease of five minutes), or None when another sender
    has it or it is not due. One conditional UPDATE: safe with any number of senders."""
    taken = rowcount(session.execute(
        update(AccountEmail)
        .where(AccountEmail.id == email_id, AccountEmail.status.in_(("pending", "failed")),
               AccountEmail.next_attempt_at <= now,
               or_(AccountEmail.claimed_until.is_(None), AccountEmail.claimed_until < now))
        .values(claimed_until=now + LEASE)
        .execution_options(synchronize_session=False)))
    return session.get(AccountEmail, email_id, populate_existing=True) if taken else None


def due_ids(session: Session, now: datetime, limit: int = 100) -> list[int]:
    return list(session.scalars(
        select(AccountEmail.id)
        .where(AccountEmail.status.in_(("pending", "failed")),
               AccountEmail.next_attempt_at <= now,
               or_(AccountEmail.claimed_until.is_(None), AccountEmail.claimed_until < now))
        .order_by(AccountEmail.next_attempt_at, AccountEmail.id).limit(limit)))


def mark_sent(row: AccountEmail, now: datetime) -> None:
    row.status, row.sent_at, row.claimed_until, row.last_error = "sent", now, None, None
    row.attempts += 1


def mark_failed(row: AccountEmail, now: datetime, error: str, permanent: bool = False) -> None:
    """Retry later with backoff (2, 4, 8 … minutes); dead after MAX_ATTEMPTS or at once for
    a permanent refusal."""
    row.attempts += 1
    row.last_error = error[:MAX_ERROR]
    row.claimed_until = None
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.status = "dead"
    else:
        row.status = "failed"
        row.next_attempt_at = now + timedelta(minutes=2 ** row.attempts)


def cancel(row: AccountEmail, reason: str) -> None:
    """Nothing to send any more (the invitation was withdrawn, the account is gone)."""
    row.status, row.last_error, row.claimed_until = "dead", reason[:MAX_ERROR], None
