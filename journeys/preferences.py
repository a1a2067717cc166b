"""Email preferences: how often, at what local hour, never in quiet hours, topics, pauses,
and whether satisfaction surveys come by email.

A parent without an `EmailPreference` row gets the defaults (weekly, 09:00, quiet 21:00 →
08:00); the row is created on their first change. Whether they get email at all is a
*consent* (`User.digest_opt_in`, `User.marketing_opt_in`), always changed through
`diary.accounts.record_consent` so every change is on record.

Times are local to the parent's time zone: `Schedule` answers "is a digest due now?" and
"when do quiet hours end?" for a local datetime, so daylight-saving changes are zoneinfo's
business, never ours.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from content.vocabulary import TOPICS
from diary import accounts
from diary.errors import N_, ValidationError
from diary.models import Consent, User
from diary.policy import PRIVACY_POLICY_VERSION
from journeys.models import Delivery, EmailPreference

FREQUENCIES = ("weekly", "daily")
DEFAULT_FREQUENCY = "weekly"
DEFAULT_SEND_HOUR = 9
DEFAULT_QUIET_START = 21
DEFAULT_QUIET_END = 8
PAUSE_WEEKS = (1, 2, 4, 8)
#: The weekly digest goes out on this local weekday (Monday).
WEEKLY_DAY = 0


def zone(name: str | None) -> ZoneInfo:
    """The parent's zone; an unknown name (old data) falls back to UTC rather than failing."""
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def local_date(now: datetime, zone_name: str | None) -> date:
    """The person's calendar day at `now`, in their zone as the outbox reads it (an unknown
    zone counts as UTC, where `diary.age.local_date` would refuse it)."""
    return now.astimezone(zone(zone_name)).date()


@dataclass(frozen=True)
class Schedule:
    """One parent's email timing, with the defaults filled in."""

    frequency: str = DEFAULT_FREQUENCY
    send_hour: int = DEFAULT_SEND_HOUR
    quiet_start: int = DEFAULT_QUIET_START
    quiet_end: int = DEFAULT_QUIET_END
    paused_until: date | None = None
    topics: tuple[str, ...] = field(default_factory=tuple)

    @classmethod
    def of(cls, pref: EmailPreference | None) -> Schedule:
        if pref is None:
            return cls()
        return cls.from_values(pref.frequency, pref.send_hour, pref.quiet_start, pref.quiet_end,
                               pref.paused_until, pref.topics)

    @classmethod
    def from_values(cls, frequency: str | None, send_hour: int | None, quiet_start: int | None,
                    quiet_end: int | None, paused_until: date | None = None,
                    topics: list[str] | None = None) -> Schedule:
        """From (possibly NULL) columns: a row read by a set-based query, or an ORM row."""
        return cls(
            frequency=frequency if frequency in FREQUENCIES else DEFAULT_FREQUENCY,
            send_hour=DEFAULT_SEND_HOUR if send_hour is None else int(send_hour) % 24,
            quiet_start=DEFAULT_QUIET_START if quiet_start is None else int(quiet_start) % 24,
            quiet_end=DEFAULT_QUIET_END if quiet_end is None else int(quiet_end) % 24,
            paused_until=paused_until, topics=tuple(topics or ()))

    def in_quiet_hours(self, hour: int) -> bool:
        """Quiet hours are [start, end) in local hours and may wrap midnight (21 → 8)."""
        start, end = self.quiet_start, self.quiet_end
        if start == end:
            return False  # no quiet hours
        if start < end:
            return start <= hour < end
        return hour >= start or hour < end

    @property
    def effective_send_hour(self) -> int:
        """The chosen hour, or the end of quiet hours when the chosen hour falls inside them."""
        return self.quiet_end if self.in_quiet_hours(self.send_hour) else self.send_hour

    def is_paused(self, local_today: date) -> bool:
        return self.paused_until is not None and self.paused_until >= local_today

    def period(self, local: datetime) -> str:
        """The digest period a local moment belongs to: "2026-11-23" or ISO week "2026-W48"."""
        if self.frequency == "daily":
            return local.date().isoformat()
        year, week, _ = local.date().isocalendar()
        return f"{year}-W{week:02d}"

    def is_due(self, local: datetime) -> bool:
        """Due from the send time on the digest's day (every day, or Monday), outside quiet
        hours. A scheduler that was down at 09:00 still sends at 11:00 the same day."""
        if self.in_quiet_hours(local.hour):
            return False
        if self.frequency == "weekly" and local.weekday() != WEEKLY_DAY:
            return False
        return local.time() >= time(self.effective_send_hour)

    def quiet_hours_end(self, local: datetime) -> datetime:
        """When the quiet hours that `local` falls in end, as an aware UTC instant.

        Built from the wall-clock date and hour in the parent's zone, so a daylight-saving
        change during the night gives the right instant."""
        day = local.date() if local.hour < self.quiet_end else local.date() + timedelta(days=1)
        wall = datetime.combine(day, time(self.quiet_end), tzinfo=local.tzinfo)
        return wall.astimezone(UTC)


def _row(session: Session, user: User) -> EmailPreference:
    pref = session.get(EmailPreference, user.id)
    if pref is None:
        pref = EmailPreference(user_id=user.id, frequency=DEFAULT_FREQUENCY,
                               send_hour=DEFAULT_SEND_HOUR, quiet_start=DEFAULT_QUIET_START,
                               quiet_end=DEFAULT_QUIET_END, topics=[])
        session.add(pref)
    return pref


@dataclass
class Choices:
    """What the preference centre's form says."""

    digest: bool
    marketing: bool
    frequency: str = DEFAULT_FREQUENCY
    send_hour: int = DEFAULT_SEND_HOUR
    quiet_start: int = DEFAULT_QUIET_START
    quiet_end: int = DEFAULT_QUIET_END
    topics: list[str] = field(default_factory=list)
    surveys: bool = True

    def validated(self) -> Choices:
        if self.frequency not in FREQUENCIES:
            raise ValidationError(N_("Choose weekly or daily."), "frequency")
        for name in ("send_hour", "quiet_start", "quiet_end"):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value <= 23:
                raise ValidationError(N_("Choose an hour between 0 and 23."), name)
        unknown = set(self.topics) - set(TOPICS)
        if unknown:
            raise ValidationError(N_("Unknown topics: %(names)s."), "topics",
                                  names=", ".join(sorted(unknown)))
        return self


def save(session: Session, user: User, choices: Choices, source: str = "preferences",
         policy_version: str = PRIVACY_POLICY_VERSION) -> EmailPreference:
    """Apply the preference centre: consents (recorded when they change) and timing."""
    choices = choices.validated()
    if bool(choices.digest) != bool(user.digest_opt_in):
        accounts.record_consent(session, user, Consent.DIGEST, bool(choices.digest), source,
                                policy_version)
        if not choices.digest:
            cancel_pending(session, user.id, "unsubscribed", digests_only=True)
    if bool(choices.marketing) != bool(user.marketing_opt_in):
        accounts.record_consent(session, user, Consent.MARKETING, bool(choices.marketing),
                                source, policy_version)
    pref = _row(session, user)
    pref.frequency = choices.frequency
    pref.send_hour = choices.send_hour
    pref.quiet_start = choices.quiet_start
    pref.quiet_end = choices.quiet_end
    pref.topics = sorted(set(choices.topics))
    pref.surveys_by_email = bool(choices.surveys)
    session.flush()
    return pref


def wants_survey_email(session: Session, user: User) -> bool:
    """Whether satisfaction surveys may go to this person by email (the default, until
    they turn it off here or unsubscribe); the inbox gets them either way."""
    pref = session.get(EmailPreference, user.id)
    return pref is None or bool(pref.surveys_by_email)


def stop_survey_email(session: Session, user: User) -> bool:
    """Turn survey emails off (an unsubscribe link does); True when they were on."""
    pref = _row(session, user)
    was_on = pref.surveys_by_email is not False  # a new row's default is on
    pref.surveys_by_email = False
    session.flush()
    return was_on


def pause(session: Session, user: User, weeks: int, local_today: date) -> date:
    """No digests until the returned date (inclusive); the inbox keeps filling meanwhile."""
    if weeks not in PAUSE_WEEKS:
        raise ValidationError(N_("Choose a pause of 1, 2, 4 or 8 weeks."), "weeks")
    pref = _row(session, user)
    pref.paused_until = local_today + timedelta(weeks=weeks) - timedelta(days=1)
    session.flush()
    return pref.paused_until


def resume(session: Session, user: User) -> None:
    pref = session.get(EmailPreference, user.id)
    if pref is not None:
        pref.paused_until = None
        session.flush()


def cancel_pending(session: Session, user_id: int, reason: str, digests_only: bool = False
                   ) -> int:
    """Email not yet sent to this person is not sent: status "suppressed", with the reason.

    Reads the person's few queued rows (not a table scan: `user_id` is indexed) so the
    reason can be added to each payload.
    """
    stmt = select(Delivery).where(Delivery.user_id == user_id, Delivery.channel == "email",
                                  Delivery.status.in_(("pending", "failed")))
    if digests_only:
        stmt = stmt.where(Delivery.item_key.like("digest:%"))
    rows = list(session.scalars(stmt))
    for row in rows:
        row.status, row.claimed_until = "suppressed", None
        row.payload = {**(row.payload or {}), "reason": reason}
    session.flush()
    return len(rows)
