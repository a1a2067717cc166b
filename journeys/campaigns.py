"""Life-moment campaigns: the baby's birthday, the parent's birthday, "we miss you".

Each campaign has a holdout group and a conversion goal, so its lift can be measured:

1. `eligible(session, now)` finds who is due right now (birthdays are local days: the
   family's time zone for a baby, the user's own for a parent).
2. `run(session, now)` records one `CampaignSend` per (campaign, user, child, occurrence) with
   INSERT … ON CONFLICT DO NOTHING; only the rows this call inserted go on. A fixed,
   deterministic share (`in_holdout`) is held out: the row is written with holdout=True and
   nothing is pushed. The others are pushed through the delivery ledger (`ledger.push`), so a
   re-run, a retry or a second scheduler sends nothing twice.
3. `measure_conversions(session, now)` marks rows whose goal happened within `goal_days` of
   the send (`journeys.goals`), holdout rows the same way — lift = conversion(sent) −
   conversion(holdout). It measures the marketers' campaigns (`journeys.marketing`) too:
   their sends are rows of the same table.
4. `report(session)` gives those numbers per campaign.

Like the rest of the domain, nothing here commits: the caller owns the transaction.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any, NamedTuple

from sqlalchemy import and_, case, extract, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from content import messages
from content.models import ContentItem
from db import dialect_insert
from diary import age as agemath
from diary.locales import format_number, locale_of, words
from diary.models import Child, Family, Membership, User
from journeys import goals, ledger
from journeys.holdouts import in_holdout
from journeys.models import CampaignSend, Delivery

WE_MISS_YOU_DAYS = 30
CHUNK = 500


@dataclass(frozen=True)
class Campaign:
    name: str
    goal: str  # "visit" | "product_click"
    goal_days: int
    holdout_share: float = 0.10
    channels: tuple[str, ...] = ("inbox", "email")

    @property
    def message_key(self) -> str:
        """The studio message (content.messages) with this campaign's copy."""
        return self.name.replace("_", "-")


CAMPAIGNS: dict[str, Campaign] = {
    # A birthday is a new stage: the greeting points to what is new for the age.
    "baby_birthday": Campaign("baby_birthday", goal="product_click", goal_days=14),
    "parent_birthday": Campaign("parent_birthday", goal="visit", goal_days=7),
    "we_miss_you": Campaign("we_miss_you", goal="visit", goal_days=14),
}
GOALS = ("visit", "product_click")  # the life-moment campaigns' (journeys.goals has all)


class Eligible(NamedTuple):
    campaign: str
    user: User
    child: Child | None
    occurrence: str  # the year for birthdays, the date of the last visit for "we miss you"
    family_id: int | None = None  # the holdout unit (the child's family, or the user's first)


def holdout_unit(found: Eligible) -> str:
    return f"family:{found.family_id}" if found.family_id else f"user:{found.user.id}"


@dataclass
class RunStats:
    eligible: int = 0
    recorded: int = 0  # new CampaignSend rows (sent + held out)
    held_out: int = 0
    pushed: int = 0  # ledger rows won (inbox + email)
    converted: int = 0  # filled by the job after `measure_conversions`
    by_campaign: dict[str, int] = field(default_factory=dict)  # new rows per campaign


# --- who is due ------------------------------------------------------------------------------

def birthday_in(born: date, year: int) -> date:
    """The birthday in `year` (Feb 29 → Feb 28 in non-leap years)."""
    return agemath.add_months(born, 12 * (year - born.year))


def _candidate_days(now: datetime) -> list[tuple[int, int]]:
    """(month, day) pairs that are "today" somewhere on Earth (UTC−12 … UTC+14) at `now`,
    plus Feb 29 when one of them is Feb 28 of a non-leap year."""
    utc_day = agemath.local_date(now, "UTC")
    pairs: set[tuple[int, int]] = set()
    for offset in (-1, 0, 1):
        day = utc_day + timedelta(days=offset)
        pairs.add((day.month, day.day))
        if (day.month, day.day) == (2, 28) and (day + timedelta(days=1)).month == 3:
            pairs.add((2, 29))
    return sorted(pairs)


def _month_day_filter(column: Any, now: datetime) -> Any:
    """Coarse SQL filter (exact per-zone checks happen in Python)."""
    return or_(*(and_(extract("month", column) == m, extract("day", column) == d)
                 for m, d in _candidate_days(now)))


def _is_birthday(born: date | None, today: date) -> bool:
    return born is not None and today.year > born.year and birthday_in(born, today.year) == today


def _baby_birthdays(session: Session, now: datetime) -> list[Eligible]:
    latest_year = agemath.local_date(now, "UTC").year + 1
    children = session.scalars(
        select(Child).where(Child.birth_date.is_not(None),
                            Child.birth_date < date(latest_year, 1, 1),
                            _month_day_filter(Child.birth_date, now))
        .options(selectinload(Child.family).selectinload(Family.memberships)
                 .selectinload(Membership.user))
        .order_by(Child.id))
    found = []
    for child in children:
        today = agemath.local_date(now, child.family.timezone)
        if not _is_birthday(child.birth_date, today):
            continue
        for membership in sorted(child.family.memberships, key=lambda m: m.user_id):
            if _recipient(membership.user):
                found.append(Eligible("baby_birthday", membership.user, child, str(today.year),
                                      child.family_id))
    return found


def _parent_birthdays(session: Session, now: datetime) -> list[Eligible]:
    users = session.scalars(
        select(User).where(User.birthday.is_not(None), User.is_active.is_(True),
                           User.staff_role.is_(None), _month_day_filter(User.birthday, now))
        .order_by(User.id))
    found = []
    for user in users:
        today = agemath.local_date(now, user.timezone)
        if _is_birthday(user.birthday, today):
            found.append(Eligible("parent_birthday", user, None, str(today.year)))
    return found


def _we_miss_you(session: Session, now: datetime, days: int) -> list[Eligible]:
    last_visit = func.coalesce(User.last_seen_at, User.created_at)
    # This absence was already handled if a send was recorded after the last visit.
    handled = select(CampaignSend.id).where(
        CampaignSend.campaign == "we_miss_you", CampaignSend.user_id == User.id,
        CampaignSend.created_at > last_visit).exists()
    users = session.scalars(
        select(User).where(User.is_active.is_(True), User.staff_role.is_(None),
                           last_visit < now - timedelta(days=days), ~handled)
        .order_by(User.id))
    return [Eligible("we_miss_you", user, None, absence_occurrence(user)) for user in users]


def absence_occurrence(user: User) -> str:
    """What one absence is called in "we miss you"'s key: the local day of the last visit
    (of the sign-up while there was none). A later visit starts a new absence."""
    return agemath.local_date(user.last_seen_at or user.created_at, user.timezone).isoformat()


def _recipient(user: User) -> bool:
    return user.is_active and user.staff_role is None


def eligible(session: Session, now: datetime,
             we_miss_you_days: int = WE_MISS_YOU_DAYS) -> list[Eligible]:
    """Everyone a campaign is due for at `now` (whether or not it was already recorded)."""
    parents = _parent_birthdays(session, now) + _we_miss_you(session, now, we_miss_you_days)
    return _baby_birthdays(session, now) + _with_family(session, parents)


def _with_family(session: Session, found: list[Eligible]) -> list[Eligible]:
    """Campaigns about the parent take the parent's first family as their holdout unit."""
    ids = {e.user.id for e in found}
    first: dict[int, int] = {}
    if ids:
        for user_id, family_id in session.execute(
                select(Membership.user_id, func.min(Membership.family_id))
                .where(Membership.user_id.in_(ids)).group_by(Membership.user_id)):
            first[user_id] = family_id
    return [e._replace(family_id=first.get(e.user.id)) for e in found]


# --- messages --------------------------------------------------------------------------------

def _values(found: Eligible, locale: str) -> dict[str, str]:
    """What a message's placeholders stand for: {name}, {child}, {years}."""
    values = {"name": found.user.display_name}
    if found.child is not None and found.child.birth_date is not None:
        values["child"] = found.child.name
        values["years"] = format_number(int(found.occurrence) - found.child.birth_date.year,
                                        locale)
    return values


def default_message(campaign: str, locale: str) -> tuple[str, str]:
    """The catalogue's copy for a campaign, with `{…}` placeholders like a studio message's:
    what is sent while no message for it is published."""
    w = words(locale)
    if campaign == "baby_birthday":
        return (w.gettext("%(child)s is %(years)s today! 🎂", child="{child}", years="{years}"),
                w.gettext("Every day with %(child)s is worth keeping. Add a birthday photo to "
                          "the diary, and take a look at what's new for this next stage.",
                          child="{child}"))
    if campaign == "parent_birthday":
        return (w.gettext("Happy birthday, %(name)s! 🎉", name="{name}"),
                w.gettext("Today is all about you. Thank you for all the love you give your "
                          "family — we hope someone spoils you a little today."))
    if campaign == "we_miss_you":
        return (w.gettext("We miss you, %(name)s 💛", name="{name}"),
                w.gettext("It's been a while! Drop by to see what's new for your little one's "
                          "stage, and jot down a moment or two in the diary."))
    raise KeyError(campaign)


def message(found: Eligible, copy: ContentItem | None = None) -> tuple[str, str]:
    """(title, body) in the recipient's language: the campaign's published studio message
    (`copy`) in that language when it has one, else the catalogue's default copy."""
    locale = locale_of(found.user)
    text = next((t for t in copy.translations if t.locale == locale), None) \
        if copy is not None else None
    title, body = (text.title, text.body_md) if text is not None else \
        default_message(found.campaign, locale)
    values = _values(found, locale)
    return messages.fill(title, values), messages.fill(body, values)


def published_copy(session: Session, now: datetime) -> dict[str, ContentItem]:
    """Each campaign's published studio message, by campaign name (absent: none yet)."""
    found = messages.published(session, [c.message_key for c in CAMPAIGNS.values()], now)
    return {name: found[c.message_key] for name, c in CAMPAIGNS.items()
            if c.message_key in found}


# --- sending ---------------------------------------------------------------------------------

def _key(campaign: str, user_id: int, child_id: int, occurrence: str) -> tuple[str, int, int, str]:
    return campaign, user_id, child_id, occurrence


def run(session: Session, now: datetime, we_miss_you_days: int = WE_MISS_YOU_DAYS) -> RunStats:
    """Record and send every due campaign; only rows this call inserted are acted on."""
    return _record_and_push(session, eligible(session, now, we_miss_you_days), now)


def win_back(session: Session, user_ids: list[int], now: datetime) -> RunStats:
    """Send "we miss you" now to the given customers (the CRM's churn-risk list), whatever
    the scheduler's 30 days say. The same key as the scheduler's (one row per absence:
    `absence_occurrence`) and the same holdout, so a second click, a retry or the hourly job
    sends nothing twice, and the held-out share still gets nothing. Staff, deactivated
    accounts and unknown ids are skipped."""
    ids = sorted(set(user_ids))
    users: list[User] = []
    for start in range(0, len(ids), CHUNK):
        users.extend(session.scalars(
            select(User).where(User.id.in_(ids[start:start + CHUNK]), User.is_active.is_(True),
                               User.staff_role.is_(None)).order_by(User.id)))
    found = _with_family(session, [Eligible("we_miss_you", u, None, absence_occurrence(u))
                                   for u in users])
    return _record_and_push(session, found, now)


def _record_and_push(session: Session, found: list[Eligible], now: datetime) -> RunStats:
    stats = RunStats(eligible=len(found))
    due: dict[tuple[str, int, int, str], Eligible] = {}
    for e in found:
        due.setdefault(_key(e.campaign, e.user.id, e.child.id if e.child else 0, e.occurrence), e)
    if not due:
        return stats
    rows = []
    for (name, user_id, child_id, occurrence), e in due.items():
        campaign = CAMPAIGNS[name]
        rows.append({"campaign": name, "user_id": user_id, "child_id": child_id,
                     "occurrence": occurrence, "goal": campaign.goal,
                     "goal_days": campaign.goal_days, "created_at": now,
                     "holdout": in_holdout(name, holdout_unit(e), occurrence,
                                           campaign.holdout_share)})
    won: list[Any] = []
    for start in range(0, len(rows), CHUNK):
        stmt = dialect_insert(session, CampaignSend).values(rows[start:start + CHUNK]) \
            .on_conflict_do_nothing(index_elements=["campaign", "user_id", "child_id",
                                                    "occurrence"]) \
            .returning(CampaignSend.id, CampaignSend.campaign, CampaignSend.user_id,
                       CampaignSend.child_id, CampaignSend.occurrence, CampaignSend.holdout)
        won.extend(session.execute(stmt).all())
    stats.recorded = len(won)
    copy = published_copy(session, now)
    pushes, send_ids = [], {}
    for w in won:
        stats.by_campaign[w.campaign] = stats.by_campaign.get(w.campaign, 0) + 1
        if w.holdout:
            stats.held_out += 1
            continue
        e = due[_key(w.campaign, w.user_id, w.child_id, w.occurrence)]
        send_ids[(w.user_id, w.child_id, f"campaign:{w.campaign}",
                  f"{w.campaign}:{w.occurrence}")] = w.id
        pushes.extend(_ledger_rows(e, w.child_id, copy.get(e.campaign)))
    stats.pushed = ledger.push(session, pushes)
    link_inbox_deliveries(session, send_ids)
    session.flush()
    return stats


def _ledger_rows(found: Eligible, child_id: int, copy: ContentItem | None
                 ) -> list[dict[str, Any]]:
    title, body = message(found, copy)
    locale = locale_of(found.user)
    rows = []
    for channel in CAMPAIGNS[found.campaign].channels:
        payload: dict[str, Any]
        if channel == "inbox":
            payload = {"title": title, "body": body}
        elif channel == "email":
            if not found.user.marketing_opt_in or found.user.email_verified_at is None:
                continue
            payload = {"kind": "campaign", "campaign": found.campaign, "title": title,
                       "body": body, "locale": locale}
        else:
            raise ValueError(f"unknown channel {channel!r}")
        r = ledger.row(user_id=found.user.id, child_id=child_id, item=None, channel=channel,
                       item_key=f"campaign:{found.campaign}",
                       occurrence=f"{found.campaign}:{found.occurrence}", **payload)
        # `ledger.push` adds sent_at to inbox rows only; a multi-row INSERT needs the same
        # keys in every row, so email rows carry an explicit None.
        r.setdefault("sent_at", None)
        rows.append(r)
    return rows


def link_inbox_deliveries(session: Session,
                           send_ids: dict[tuple[int, int, str, str], int]) -> None:
    """Store each send's inbox delivery id (looked up by the ledger's unique key)."""
    keys = list(send_ids)
    updates = []
    for start in range(0, len(keys), CHUNK):
        chunk = keys[start:start + CHUNK]
        found = session.execute(select(
            Delivery.id, Delivery.user_id, Delivery.child_id, Delivery.item_key,
            Delivery.occurrence).where(
            Delivery.channel == "inbox",
            Delivery.user_id.in_({k[0] for k in chunk}),
            Delivery.item_key.in_({k[2] for k in chunk}),
            Delivery.occurrence.in_({k[3] for k in chunk})))
        for d in found:
            send_id = send_ids.get((d.user_id, d.child_id, d.item_key, d.occurrence))
            if send_id is not None:
                updates.append({"id": send_id, "delivery_id": d.id})
    if updates:
        session.execute(update(CampaignSend), updates)


# --- measuring -------------------------------------------------------------------------------

def measure_conversions(session: Session, now: datetime) -> int:
    """Set `converted_at` on sends (and holdout rows) whose goal happened within goal_days:
    the life-moment campaigns' and the marketers' alike (`journeys.goals` says what counts
    as evidence of each goal)."""
    horizon = now - timedelta(days=goals.HORIZON_DAYS)
    updates: list[dict[str, Any]] = []
    for goal in goals.GOALS:
        subjects = select(CampaignSend.id, CampaignSend.created_at.label("start"),
                          CampaignSend.goal_days.label("days"),
                          CampaignSend.user_id.label("user_id")).where(
            CampaignSend.converted_at.is_(None), CampaignSend.created_at >= horizon,
            CampaignSend.goal == goal)
        updates.extend({"id": send_id, "converted_at": at} for send_id, at in
                       goals.first_evidence(session, subjects, goal, now).items())
    if updates:
        session.execute(update(CampaignSend), updates)
    return len(updates)


def report(session: Session) -> dict[str, dict[str, Any]]:
    """Per campaign: sent / holdout counts, conversions, and lift (None without both groups)."""
    out: dict[str, dict[str, Any]] = {
        name: {"sent": 0, "holdout": 0, "sent_converted": 0, "holdout_converted": 0}
        for name in CAMPAIGNS}
    converted = func.sum(case((CampaignSend.converted_at.is_not(None), 1), else_=0))
    for name, holdout, n, conv in session.execute(
            select(CampaignSend.campaign, CampaignSend.holdout, func.count(), converted)
            .group_by(CampaignSend.campaign, CampaignSend.holdout)):
        entry = out.setdefault(name, {"sent": 0, "holdout": 0, "sent_converted": 0,
                                      "holdout_converted": 0})
        group = "holdout" if holdout else "sent"
        entry[group] += n
        entry[f"{group}_converted"] += int(conv or 0)
    for entry in out.values():
        entry["lift"] = (entry["sent_converted"] / entry["sent"]
                         - entry["holdout_converted"] / entry["holdout"]
                         if entry["sent"] and entry["holdout"] else None)
    return out
