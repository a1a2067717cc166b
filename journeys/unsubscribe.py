"""Leaving email: one-click unsubscribe links (RFC 8058) and bounced addresses.

An unsubscribe link carries a signed token naming the person; the signature is the proof, so
it works without signing in and without a CSRF token (mail clients POST to it directly).
Unsubscribing withdraws both email consents (recorded, like every consent change), turns
survey emails off and cancels email that is queued but not sent yet. The links never
expire: an unsubscribe link in a months-old email must still work.

Hard bounces and complaints put the address on the suppression list; the outbox checks it
again just before each send.
"""
from __future__ import annotations

import hmac

from sqlalchemy import select
from sqlalchemy.orm import Session

from diary import accounts, tokens
from diary.errors import N_, DiaryError, ValidationError
from diary.models import Consent, User
from diary.policy import PRIVACY_POLICY_VERSION
from journeys.models import Suppression
from journeys.preferences import cancel_pending, stop_survey_email

PURPOSE = "email-unsubscribe"
SOURCE = "unsubscribe-link"
BOUNCE_TYPES = ("hard", "soft")


def make_token(secret: str, user: User) -> str:
    """The person's id and their random link key (an id alone could, after the account is
    deleted, name a newer account that SQLite gave the same id)."""
    return tokens.make_token(secret, PURPOSE, {"uid": user.id, "k": user.link_key})


def user_for_token(session: Session, secret: str, token: str) -> User:
    """The person an unsubscribe link was made for; ValidationError if the link is bad."""
    try:
        payload = tokens.read_token(secret, PURPOSE, token, max_age=None)  # type: ignore[arg-type]
    except DiaryError:
        raise ValidationError(N_("This link is not valid. Please ask for a new one.")) from None
    uid = payload.get("uid") if isinstance(payload, dict) else None
    key = payload.get("k") if isinstance(payload, dict) else None
    user = session.get(User, uid) if isinstance(uid, int) else None
    if user is None or not isinstance(key, str) or not hmac.compare_digest(user.link_key, key):
        raise ValidationError(N_("This link is not valid. Please ask for a new one."))
    return user


def unsubscribe(session: Session, user: User, source: str = SOURCE,
                policy_version: str = PRIVACY_POLICY_VERSION) -> bool:
    """Withdraw digest and marketing consent now, stop survey emails and cancel queued
    email (a survey queued but not sent is dropped when it would be sent).

    Returns False when there was nothing to withdraw (a repeated click), in which case no
    new consent records are written.
    """
    consented = bool(user.digest_opt_in or user.marketing_opt_in)
    if consented:
        for kind in (Consent.DIGEST, Consent.MARKETING):
            accounts.record_consent(session, user, kind, False, source, policy_version)
    surveys = stop_survey_email(session, user)
    cancel_pending(session, user.id, "unsubscribed")
    session.flush()
    return consented or surveys


def is_suppressed(session: Session, email: str) -> bool:
    return session.scalar(select(Suppression.id).where(
        Suppression.email == email.strip().lower())) is not None


def suppress(session: Session, email: str, reason: str = "hard-bounce") -> bool:
    """Put an address on the suppression list (idempotent); cancels its queued email.

    Returns True when the address was newly suppressed.
    """
    email = accounts.normalise_email(email)
    new = not is_suppressed(session, email)
    if new:
        session.add(Suppression(email=email, reason=reason[:32]))
    user = accounts.find_user_by_email(session, email)
    if user is not None:
        cancel_pending(session, user.id, "suppressed")
    session.flush()
    return new


def record_bounce(session: Session, email: str, bounce_type: str) -> bool:
    """A bounce report from the mail provider: hard → suppressed; soft → nothing (the
    outbox's retries handle a full mailbox). Returns True when the address was suppressed."""
    if bounce_type not in BOUNCE_TYPES:
        raise ValidationError(N_("type must be \"hard\" or \"soft\"."), "type")
    email = accounts.normalise_email(email)
    if bounce_type == "hard":
        suppress(session, email, "hard-bounce")
        return True
    return False
