"""Satisfaction surveys: CSAT (1–5) and NPS (0–10), each with an optional comment.

Offers: after a ticket is resolved (`offer_csat(..., trigger="ticket")`, called by the
tickets code), at key moments (two weeks after a birth is recorded, after the first month of
digests) and NPS at most once a quarter (`run_moments`, the scheduler's job). Never more than
one survey a week per person, all kinds together: `_win_slot` decides it in the database
with one conditional UPDATE of the person's `SurveyThrottle` row, so two offers made at once
(a resolved ticket and the scheduler, or two schedulers) cannot both pass.

An offer shows in the site inbox and goes by email (the account email queue, kind
`survey`): the email has one signed link per score (`make_answer_token`), usable without
signing in, once, until it expires. A low score (CSAT ≤ 2, NPS ≤ 6) opens a follow-up task
for customer service. Every answer and follow-up is written to the customer's contact history
(`crm.models.ContactEvent`, source_kind "survey", one row per source).
"""
from __future__ import annotations

import hmac
import secrets
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import BindParameter, ColumnElement, and_, bindparam, func, select, update
from sqlalchemy.orm import Session, selectinload

from care.models import SurveyFollowUp, SurveyMoment, SurveyOffer, SurveyThrottle
from clock import utcnow
from crm.models import ContactEvent
from db import dialect_insert, rowcount, table_of
from diary import account_mail, tokens
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.models import Membership, Role, User
from journeys import preferences
from journeys.models import Delivery
from journeys.unsubscribe import is_suppressed

CSAT, NPS = "csat", "nps"
KINDS = (CSAT, NPS)
#: What each trigger asks.
TRIGGERS: dict[str, str] = {"ticket": CSAT, "birth": CSAT, "digests": CSAT, "quarterly": NPS}
TRIGGER_NAMES: dict[str, str] = {
    "ticket": N_("After a question was answered"),
    "birth": N_("Two weeks after the birth"),
    "digests": N_("After a month of digests"),
    "quarterly": N_("Every quarter (NPS)"),
}
#: The scale of each kind, both ends included.
SCALES: dict[str, tuple[int, int]] = {CSAT: (1, 5), NPS: (0, 10)}
#: Scores at or below these open a follow-up task.
LOW: dict[str, int] = {CSAT: 2, NPS: 6}
WEEK = timedelta(days=7)
#: "At most once a quarter": thirteen weeks between two NPS offers.
QUARTER = timedelta(days=91)
#: An unanswered offer stays in the inbox, and its email links work, this long.
OFFER_LIFE = timedelta(days=30)
BIRTH_DELAY = timedelta(days=14)
#: The first month of digests: the first one sent at least this long ago …
DIGEST_MONTH = timedelta(days=30)
#: … and a key moment not offered within this long of its time is let go.
MOMENT_GRACE = timedelta(days=30)
#: NPS goes to parents who have had an account this long and came back recently.
NPS_MIN_ACCOUNT_AGE = timedelta(days=30)
NPS_RECENT_VISIT = timedelta(days=90)
NPS_BATCH = 200
COMMENT_MAX = 2000
NOTE_MAX = 2000
SURVEY = "survey"  # ContactEvent.source_kind
ANSWER_PURPOSE = "survey-answer"
EMAIL_CHANNELS = ("inbox", "email")


# --- offering ----------------------------------------------------------------------------------

def offer_csat(session: Session, user: User, trigger: str = "ticket", subject_ref: str = "",
               now: datetime | None = None,
               channels: Sequence[str] = EMAIL_CHANNELS) -> SurveyOffer | None:
    """Offer a CSAT survey about `subject_ref` (e.g. "ticket:12") to `user`, unless they
    were offered one of any kind in the past week, or this moment was offered before.
    Returns the new offer, or None. The caller owns the transaction."""
    if TRIGGERS.get(trigger) != CSAT:
        raise ValueError(f"not a CSAT trigger: {trigger!r}")
    return _offer(session, user, CSAT, trigger, str(subject_ref), now or utcnow(), channels)


def offer_nps(session: Session, user: User, subject_ref: str = "",
              now: datetime | None = None,
              channels: Sequence[str] = EMAIL_CHANNELS) -> SurveyOffer | None:
    """Offer the NPS survey, at most once a quarter and once a week with any other."""
    now = now or utcnow()
    return _offer(session, user, NPS, "quarterly", subject_ref or quarter_of(now), now,
                  channels)


def quarter_of(when: datetime) -> str:
    return f"{when.year}-Q{(when.month - 1) // 3 + 1}"


class _Taken(Exception):
    """The moment was offered by someone else meanwhile: undo the slot."""


def _offer(session: Session, user: User, kind: str, trigger: str, subject_ref: str,
           now: datetime, channels: Sequence[str]) -> SurveyOffer | None:
    if user.is_staff or not user.is_active:
        return None
    if _offered(session, user.id, trigger, subject_ref):
        return None
    try:
        with session.begin_nested():
            if not _win_slot(session, user.id, kind, now):
                return None
            # The slot is the person's lock: nobody else can be between here and the insert.
            if _offered(session, user.id, trigger, subject_ref):
                raise _Taken()
            wanted = [c for c in EMAIL_CHANNELS if c in channels]
            if "email" in wanted and not can_email(session, user):
                wanted.remove("email")
            offer = SurveyOffer(user_id=user.id, kind=kind, trigger=trigger,
                                subject_ref=subject_ref[:64], channels=wanted,
                                link_key=secrets.token_hex(16), offered_at=now, comment="")
            session.add(offer)
            session.flush()
            if "email" in wanted:
                account_mail.queue(session, account_mail.SURVEY, user.email, user=user,
                                   locale=user.locale, offer_id=offer.id)
    except _Taken:
        return None
    return offer


def _offered(session: Session, user_id: int, trigger: str, subject_ref: str) -> bool:
    return session.scalar(select(SurveyOffer.id).where(
        SurveyOffer.user_id == user_id, SurveyOffer.trigger == trigger,
        SurveyOffer.subject_ref == subject_ref)) is not None


def can_email(session: Session, user: User) -> bool:
    """Whether a survey may go to this person by email: a proven, unsuppressed address, and
    survey emails not turned off (preferences, or an unsubscribe link)."""
    return bool(user.email) and user.email_verified_at is not None \
        and not is_suppressed(session, user.email) \
        and preferences.wants_survey_email(session, user)


def _win_slot(session: Session, user_id: int, kind: str, now: datetime) -> bool:
    """Take the person's survey slot: True when no survey was offered in the past week (and
    for NPS, none in the past quarter). The conditional UPDATE is the decision: a second
    offer racing this one waits on the row and then finds the new time."""
    session.execute(dialect_insert(session, table_of(SurveyThrottle))
                    .values(user_id=user_id).on_conflict_do_nothing())
    conditions = [SurveyThrottle.user_id == user_id,
                  (SurveyThrottle.last_offer_at.is_(None))
                  | (SurveyThrottle.last_offer_at <= now - WEEK)]
    values: dict[str, datetime] = {"last_offer_at": now}
    if kind == NPS:
        conditions.append((SurveyThrottle.last_nps_at.is_(None))
                          | (SurveyThrottle.last_nps_at <= now - QUARTER))
        values["last_nps_at"] = now
    won = rowcount(session.execute(update(SurveyThrottle).where(*conditions).values(values)
                                   .execution_options(synchronize_session=False)))
    return won == 1


# --- key moments (the scheduler's job) ---------------------------------------------------------

def birth_recorded(session: Session, child_id: int, family_id: int,
                   now: datetime | None = None) -> int:
    """A birth was recorded for an expected baby: each of the family's caregivers (owners
    and editors) is asked how it went 14 days later. Returns the moments added."""
    now = now or utcnow()
    users = list(session.scalars(select(Membership.user_id).where(
        Membership.family_id == family_id,
        Membership.role.in_((Role.OWNER.value, Role.EDITOR.value)))))
    added = 0
    for user_id in users:
        moments = table_of(SurveyMoment)
        added += len(session.execute(
            dialect_insert(session, moments).values(
                user_id=user_id, trigger="birth", subject_ref=f"child:{child_id}",
                due_at=now + BIRTH_DELAY, status="pending", created_at=now)
            .on_conflict_do_nothing().returning(moments.c.id)).all())
    return added


@dataclass
class MomentStats:
    offered: dict[str, int] = field(default_factory=Counter)
    waiting: int = 0  # due, but the person had a survey this week
    skipped: int = 0

    def summary(self) -> str:
        made = ", ".join(f"{k} {v}" for k, v in sorted(self.offered.items())) or "none"
        return f"surveys offered: {made}; waiting {self.waiting}; let go {self.skipped}"


def run_moments(session: Session, now: datetime | None = None) -> MomentStats:
    """Offer what is due: births recorded two weeks ago, first months of digests, and the
    quarter's NPS. Safe to run again and beside another run: each moment is one offer at
    most (the offers' unique key), and the weekly slot is decided per person."""
    now = now or utcnow()
    stats = MomentStats()
    for moment in session.scalars(select(SurveyMoment).where(
            SurveyMoment.status == "pending", SurveyMoment.due_at <= now)
            .order_by(SurveyMoment.due_at, SurveyMoment.id).limit(500)):
        user = session.get(User, moment.user_id)
        if user is None or moment.due_at < now - MOMENT_GRACE:
            moment.status = "skipped"
            stats.skipped += 1
            continue
        if _offered(session, moment.user_id, moment.trigger, moment.subject_ref) or \
                offer_csat(session, user, moment.trigger, moment.subject_ref, now):
            moment.status = "offered"
            stats.offered[moment.trigger] += 1
        else:
            stats.waiting += 1
    for user in _digest_month_due(session, now):
        if offer_csat(session, user, "digests", "first-month", now):
            stats.offered["digests"] += 1
        else:
            stats.waiting += 1
    for user in _nps_due(session, now):
        if offer_nps(session, user, now=now):
            stats.offered["quarterly"] += 1
    session.flush()
    return stats


def _digest_month_due(session: Session, now: datetime) -> list[User]:
    """Parents whose first digest went out a month ago (not longer than the grace), not
    asked about it yet."""
    first = (select(Delivery.user_id, func.min(Delivery.sent_at).label("first_at"))
             .where(Delivery.item_key.like("digest:%"), Delivery.channel == "email",
                    Delivery.status == "sent", Delivery.sent_at.is_not(None))
             .group_by(Delivery.user_id).subquery())
    asked = select(SurveyOffer.user_id).where(SurveyOffer.trigger == "digests")
    return list(session.scalars(
        select(User).join(first, first.c.user_id == User.id)
        .where(first.c.first_at <= now - DIGEST_MONTH,
               first.c.first_at > now - DIGEST_MONTH - MOMENT_GRACE,
               User.id.not_in(asked), User.is_active.is_(True), User.staff_role.is_(None))
        .order_by(User.id).limit(500)))


def _nps_due(session: Session, now: datetime) -> list[User]:
    """Parents with an account a month old who came in the last three months and have had
    no NPS survey for a quarter (the slot re-checks it, race-safe)."""
    recent_nps = select(SurveyThrottle.user_id).where(
        SurveyThrottle.last_nps_at > now - QUARTER)
    busy = select(SurveyThrottle.user_id).where(SurveyThrottle.last_offer_at > now - WEEK)
    return list(session.scalars(
        select(User).where(User.staff_role.is_(None), User.is_active.is_(True),
                           User.created_at <= now - NPS_MIN_ACCOUNT_AGE,
                           User.last_seen_at > now - NPS_RECENT_VISIT,
                           User.id.not_in(recent_nps), User.id.not_in(busy))
        .order_by(User.id).limit(NPS_BATCH)))


# --- the signed one-click links ------------------------------------------------------------------

def make_answer_token(secret: str, offer: SurveyOffer, score: int) -> str:
    """A link that answers `offer` with `score` (no sign-in needed): the offer's id, its
    random key and the score, signed for this purpose only."""
    return tokens.make_token(secret, ANSWER_PURPOSE, {"o": offer.id, "k": offer.link_key,
                                                      "s": score})


@dataclass(frozen=True)
class LinkAnswer:
    offer: SurveyOffer
    score: int


def read_answer_token(session: Session, secret: str, token: str,
                      max_age: timedelta = OFFER_LIFE) -> LinkAnswer:
    """The offer and score a link names; ValidationError when it is altered, expired, or
    names no offer (any more)."""
    payload = tokens.read_token(secret, ANSWER_PURPOSE, token, int(max_age.total_seconds()))
    bad = ValidationError(N_("This link is not valid. Please ask for a new one."))
    if not isinstance(payload, dict):
        raise bad
    offer_id, key, score = payload.get("o"), payload.get("k"), payload.get("s")
    if not isinstance(offer_id, int) or not isinstance(key, str) or not isinstance(score, int):
        raise bad
    offer = session.get(SurveyOffer, offer_id)
    if offer is None or not hmac.compare_digest(offer.link_key, key):
        raise bad
    low, high = SCALES[offer.kind]
    if not low <= score <= high:
        raise bad
    return LinkAnswer(offer, score)


# --- answering ---------------------------------------------------------------------------------

class AlreadyAnswered(Conflict):
    def __init__(self) -> None:
        super().__init__(N_("You have already answered this survey. Thank you!"))


def offer_for(session: Session, user: User, offer_id: int) -> SurveyOffer:
    """One of the person's own offers; NotFound for anyone else's."""
    offer = session.get(SurveyOffer, offer_id)
    if offer is None or offer.user_id != user.id:
        raise NotFound()
    return offer


def _open(user_id: int | BindParameter[int],
          offered_after: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    return and_(SurveyOffer.user_id == user_id, SurveyOffer.answered_at.is_(None),
                SurveyOffer.offered_at > offered_after)


def open_offers(session: Session, user: User, now: datetime | None = None,
                life: timedelta = OFFER_LIFE) -> list[SurveyOffer]:
    """The person's unanswered offers that are still open (the inbox shows them)."""
    now = now or utcnow()
    return list(session.scalars(select(SurveyOffer).where(_open(user.id, now - life))
                                .order_by(SurveyOffer.offered_at.desc())))


#: How many offers `open_offers` gives, as a statement built once: the header's unread badge
#: adds it to the inbox's unread count in the same statement (journeys.inbox `also`). Its
#: values: "user_id" and "offered_after" (now minus the offers' life).
OPEN_COUNT = select(func.count(SurveyOffer.id)).where(
    _open(bindparam("user_id"), bindparam("offered_after")))


def is_low(kind: str, score: int) -> bool:
    return score <= LOW[kind]


def _comment(text: str | None) -> str:
    value = (text or "").replace("\r\n", "\n").strip()
    if any(ord(c) < 32 and c not in "\n\t" or ord(c) == 127 for c in value):
        raise ValidationError(N_("Your comment has characters that cannot be stored."),
                              "comment")
    if len(value) > COMMENT_MAX:
        raise ValidationError(N_("Please keep your comment under %(count)d characters."),
                              "comment", count=COMMENT_MAX)
    return value


def answer(session: Session, offer: SurveyOffer, score: int, via: str,
           comment: str | None = None, now: datetime | None = None) -> SurveyOffer:
    """Record the score (once: AlreadyAnswered after that), the comment if given, the
    contact-history line and, for a low score, the follow-up task."""
    now = now or utcnow()
    low_end, high_end = SCALES[offer.kind]
    if not isinstance(score, int) or not low_end <= score <= high_end:
        raise ValidationError(N_("Choose a score from %(low)d to %(high)d."), "score",
                              low=low_end, high=high_end)
    text = _comment(comment)
    # The answer is decided by one conditional UPDATE: two clicks at once record one.
    won = rowcount(session.execute(
        update(SurveyOffer).where(SurveyOffer.id == offer.id,
                                  SurveyOffer.answered_at.is_(None))
        .values(score=score, answered_at=now, answered_via=via,
                comment=text, commented_at=now if text else None)
        .execution_options(synchronize_session=False)))
    if not won:
        raise AlreadyAnswered()
    session.refresh(offer)
    session.add(ContactEvent(
        user_id=offer.user_id, occurred_at=now, department="service",
        channel="email" if via == "email" else "inbox", direction="inbound",
        outcome="complaint" if is_low(offer.kind, score) else "informed",
        subject=answer_subject(offer), body=text, source_kind=SURVEY,
        source_id=f"answer:{offer.id}", created_at=now))
    if is_low(offer.kind, score):
        follow_up = SurveyFollowUp(offer_id=offer.id, status="open", note="",
                                   created_at=now, updated_at=now)
        session.add(follow_up)
        session.flush()
        session.add(ContactEvent(
            user_id=offer.user_id, occurred_at=now, department="service", channel="note",
            direction="internal", outcome="follow_up",
            subject=f"Follow-up opened: {answer_subject(offer)}", body="",
            source_kind=SURVEY, source_id=f"follow_up:{follow_up.id}", created_at=now))
    session.flush()
    return offer


def answer_subject(offer: SurveyOffer) -> str:
    """"CSAT 4/5 · ticket:12" (the contact history's subject line; codes, not prose)."""
    high = SCALES[offer.kind][1]
    ref = f" · {offer.subject_ref}" if offer.subject_ref else f" · {offer.trigger}"
    return f"{offer.kind.upper()} {offer.score}/{high}{ref}"[:120]


def add_comment(session: Session, offer: SurveyOffer, comment: str | None,
                now: datetime | None = None) -> SurveyOffer:
    """The comment after a one-click score (once; the score must be given first)."""
    now = now or utcnow()
    if offer.answered_at is None:
        raise ValidationError(N_("Please choose a score first."), "score")
    text = _comment(comment)
    if not text:
        raise ValidationError(N_("Please write your comment."), "comment")
    won = rowcount(session.execute(
        update(SurveyOffer).where(SurveyOffer.id == offer.id, SurveyOffer.commented_at.is_(None))
        .values(comment=text, commented_at=now).execution_options(synchronize_session=False)))
    if not won:
        raise AlreadyAnswered()
    session.refresh(offer)
    event = session.scalar(select(ContactEvent).where(
        ContactEvent.source_kind == SURVEY, ContactEvent.source_id == f"answer:{offer.id}"))
    if event is not None:
        event.body = text
    session.flush()
    return offer


# --- staff: follow-ups --------------------------------------------------------------------------

FOLLOW_UP_STATUSES = ("open", "done")


def follow_ups(session: Session, status: str = "open", limit: int = 200
               ) -> list[SurveyFollowUp]:
    """Follow-up tasks, oldest open first (or the newest done)."""
    order = SurveyFollowUp.created_at.asc() if status == "open" \
        else SurveyFollowUp.updated_at.desc()
    return list(session.scalars(
        select(SurveyFollowUp).where(SurveyFollowUp.status == status)
        .options(selectinload(SurveyFollowUp.offer)).order_by(order, SurveyFollowUp.id)
        .limit(limit)))


def users_by_id(session: Session, ids: Iterable[int]) -> dict[int, User]:
    wanted = set(ids)
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))} \
        if wanted else {}


def service_staff(session: Session) -> list[User]:
    """Whom a follow-up may be given to: customer service and admins."""
    return list(session.scalars(select(User).where(
        User.staff_role.in_(("service", "admin")), User.is_active.is_(True))
        .order_by(User.display_name, User.id)))


def update_follow_up(session: Session, follow_up_id: int, staff: User, status: str,
                     assignee_id: int | None, note: str | None,
                     now: datetime | None = None) -> SurveyFollowUp:
    now = now or utcnow()
    follow_up = session.get(SurveyFollowUp, follow_up_id)
    if follow_up is None:
        raise NotFound()
    if status not in FOLLOW_UP_STATUSES:
        raise ValidationError(N_("Choose one of the options."), "status")
    if assignee_id is not None:
        assignee = session.get(User, assignee_id)
        if assignee is None or assignee.staff_role not in ("service", "admin") \
                or not assignee.is_active:
            raise ValidationError(N_("Choose one of the options."), "assignee")
    text = (note or "").replace("\r\n", "\n").strip()
    if len(text) > NOTE_MAX:
        raise ValidationError(N_("Please keep the note under %(count)d characters."), "note",
                              count=NOTE_MAX)
    closing = status == "done" and follow_up.status != "done"
    follow_up.status, follow_up.assignee_id, follow_up.note = status, assignee_id, text
    follow_up.updated_at = now
    follow_up.done_at = now if status == "done" else None
    if closing:
        session.add(ContactEvent(
            user_id=follow_up.offer.user_id, occurred_at=now, department="service",
            channel="note", direction="internal", outcome="resolved",
            subject=f"Follow-up done: {answer_subject(follow_up.offer)}", body=text,
            author_id=staff.id, author_member_no=staff.member_no, source_kind=SURVEY,
            source_id=f"follow_up_done:{follow_up.id}:{int(now.timestamp())}",
            created_at=now))
    session.flush()
    return follow_up


# --- the customer page and the data export --------------------------------------------------------

def latest_answers(session: Session, user_id: int) -> dict[str, SurveyOffer]:
    """The person's newest answered CSAT and NPS (the customer 360 shows them)."""
    found: dict[str, SurveyOffer] = {}
    for kind in KINDS:
        offer = session.scalar(select(SurveyOffer).where(
            SurveyOffer.user_id == user_id, SurveyOffer.kind == kind,
            SurveyOffer.answered_at.is_not(None))
            .order_by(SurveyOffer.answered_at.desc(), SurveyOffer.id.desc()).limit(1))
        if offer is not None:
            found[kind] = offer
    return found


# --- analysis ----------------------------------------------------------------------------------

def csat_average(scores: Sequence[int]) -> float | None:
    return round(sum(scores) / len(scores), 2) if scores else None


def nps_score(scores: Sequence[int]) -> float | None:
    """% promoters (9–10) − % detractors (0–6), one decimal; None without answers."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores), 1)


@dataclass
class CsatLine:
    key: str  # a trigger or a month "2026-11"
    count: int
    average: float | None
    distribution: dict[int, int]


@dataclass
class NpsLine:
    month: str
    count: int
    promoters: int
    passives: int
    detractors: int
    nps: float | None


@dataclass
class RateLine:
    key: str  # a kind or a trigger
    offered: int
    answered: int

    @property
    def rate(self) -> float | None:
        return round(100 * self.answered / self.offered, 1) if self.offered else None


@dataclass
class Results:
    since: datetime
    csat_by_trigger: list[CsatLine]
    csat_by_month: list[CsatLine]
    nps_by_month: list[NpsLine]
    response: list[RateLine]
    comments: list[SurveyOffer]
    csat: CsatLine
    nps: NpsLine


def _csat_line(key: str, scores: list[int]) -> CsatLine:
    counts = Counter(scores)
    return CsatLine(key, len(scores), csat_average(scores),
                    {n: counts.get(n, 0) for n in range(1, 6)})


def _nps_line(month: str, scores: list[int]) -> NpsLine:
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return NpsLine(month, len(scores), promoters, len(scores) - promoters - detractors,
                   detractors, nps_score(scores))


def results(session: Session, since: datetime, comments: int = 50) -> Results:
    """Answers given since `since` (by UTC month of the answer), and the response rate of
    the offers made since then."""
    rows = session.execute(select(SurveyOffer.kind, SurveyOffer.trigger, SurveyOffer.score,
                                  SurveyOffer.answered_at).where(
        SurveyOffer.answered_at >= since, SurveyOffer.score.is_not(None))).all()
    by_trigger: dict[str, list[int]] = {}
    csat_months: dict[str, list[int]] = {}
    nps_months: dict[str, list[int]] = {}
    all_csat: list[int] = []
    all_nps: list[int] = []
    for kind, trigger, score, at in rows:
        if score is None or at is None:  # pragma: no cover - the query excludes them
            continue
        month = f"{at.year:04d}-{at.month:02d}"
        if kind == CSAT:
            by_trigger.setdefault(trigger, []).append(score)
            csat_months.setdefault(month, []).append(score)
            all_csat.append(score)
        else:
            nps_months.setdefault(month, []).append(score)
            all_nps.append(score)
    offered = session.execute(
        select(SurveyOffer.trigger, func.count(SurveyOffer.id),
               func.count(SurveyOffer.answered_at))
        .where(SurveyOffer.offered_at >= since).group_by(SurveyOffer.trigger)
        .order_by(SurveyOffer.trigger)).all()
    notes = list(session.scalars(select(SurveyOffer).where(
        SurveyOffer.answered_at >= since, SurveyOffer.comment != "")
        .order_by(SurveyOffer.answered_at.desc(), SurveyOffer.id.desc()).limit(comments)))
    return Results(
        since=since,
        csat_by_trigger=[_csat_line(t, by_trigger[t]) for t in TRIGGERS if t in by_trigger],
        csat_by_month=[_csat_line(m, s) for m, s in sorted(csat_months.items())],
        nps_by_month=[_nps_line(m, s) for m, s in sorted(nps_months.items())],
        response=[RateLine(t, n, a) for t, n, a in offered],
        comments=notes, csat=_csat_line("all", all_csat), nps=_nps_line("all", all_nps))

