"""Marketer campaigns: a saved segment, a trigger, a reviewed message, a holdout and a goal.

Made in the studio (`webapp.blueprints.studio.campaigns`) and run by the scheduler:

* The audience is a saved segment (`crm.segments`), which this package cannot import: `run`
  takes an `Audience` (`journeys.audiences`) that turns the segment id into a SELECT of user
  ids.
* The trigger: "once" — everyone in the segment at the first run after the campaign starts;
  "on_entry" — everyone in the segment, each once, as they enter it (those already in it when
  it starts enter then); "on_date" — everyone in the segment at the first run at or after
  `send_at`. One-off campaigns are "done" after their run.
* The message is a content item of kind "message" (`content.messages`): it goes through the
  same draft → review → published workflow as articles, and only its published version is
  sent; a campaign cannot start while its message is not published, and sends nothing while
  it is not.
* Exactly-once, like the life-moment campaigns (`journeys.campaigns`): each recipient is
  first a `CampaignSend` row (campaign "m<id>", occurrence "1") inserted with ON CONFLICT DO
  NOTHING; only the rows this call inserted go on. Held-out rows are written and nothing is
  pushed; the others go through the delivery ledger (`ledger.push`), whose unique key makes
  a re-run or a second scheduler harmless.
* Conversions are measured with the life-moment campaigns' (`campaigns.measure_conversions`,
  the same table), and `journeys.results.campaign_results` gives sent, delivered, opened,
  clicked, converted, the holdout's conversion and the lift with its 95 % interval.

Nothing here commits: the caller owns the transaction.
"""
from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, selectinload

from content import messages
from content.models import ContentItem, Message, Status
from db import dialect_insert
from diary import bounds
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.locales import locale_of
from diary.models import Child, Membership, User
from journeys import goals, ledger
from journeys.audiences import Audience
from journeys.campaigns import link_inbox_deliveries
from journeys.holdouts import MAX_SHARE, in_holdout
from journeys.models import CampaignSend, MarketingCampaign

log = logging.getLogger(__name__)

TRIGGERS = ("once", "on_entry", "on_date")
CHANNELS = ("inbox", "email")
STATUSES = ("draft", "active", "paused", "done")
NAME_MAX = 120
OCCURRENCE = "1"
BATCH = 500


@dataclass
class CampaignInput:
    """A campaign as the studio's form gives it (`validated` checks and normalises)."""

    name: str
    segment_id: int | None
    trigger: str
    message_key: str
    channels: list[str]
    holdout_share: float  # 0 … MAX_SHARE
    goal: str
    goal_days: int
    send_at: datetime | None = None

    def validated(self, session: Session, now: datetime) -> CampaignInput:
        name = " ".join((self.name or "").split())
        if not name:
            raise ValidationError(N_("Give the campaign a name."), "name")
        if len(name) > NAME_MAX:
            raise ValidationError(N_("Keep the name under %(max)d characters."), "name",
                                  max=NAME_MAX)
        if not isinstance(self.segment_id, int) or isinstance(self.segment_id, bool) or \
                not 0 < self.segment_id < 2**31:
            raise ValidationError(N_("Choose the segment the campaign is for."), "segment_id")
        if self.trigger not in TRIGGERS:
            raise ValidationError(N_("Choose when the campaign sends."), "trigger")
        send_at = None
        if self.trigger == "on_date":
            if self.send_at is None:
                raise ValidationError(N_("Choose the date and time to send."), "send_at")
            bounds.check_instant(self.send_at, "send_at")
            if self.send_at <= now:
                raise ValidationError(N_("Choose a time in the future."), "send_at")
            send_at = self.send_at
        key = (self.message_key or "").strip()
        if session.scalar(select(Message.id).where(Message.key == key)) is None:
            raise ValidationError(N_("Choose the message the campaign sends."), "message_key")
        channels = [c for c in CHANNELS if c in set(self.channels or [])]
        if not channels or set(self.channels or []) - set(CHANNELS):
            raise ValidationError(N_("Choose at least one channel (inbox or email)."),
                                  "channels")
        share = self.holdout_share
        if not isinstance(share, (int, float)) or isinstance(share, bool) or \
                not 0 <= share <= MAX_SHARE:
            raise ValidationError(N_("The holdout must be 0 to %(max)d %% of families."),
                                  "holdout_share", max=round(MAX_SHARE * 100))
        if self.goal not in goals.GOALS:
            raise ValidationError(N_("Choose the campaign's goal."), "goal")
        low, high = goals.GOAL_DAYS
        if not isinstance(self.goal_days, int) or isinstance(self.goal_days, bool) or \
                not low <= self.goal_days <= high:
            raise ValidationError(N_("The goal window must be %(low)d to %(high)d days."),
                                  "goal_days", low=low, high=high)
        return CampaignInput(name, self.segment_id, self.trigger, key, channels,
                             round(float(share), 4), self.goal, self.goal_days, send_at)


# --- authoring -------------------------------------------------------------------------------

def get(session: Session, campaign_id: int) -> MarketingCampaign:
    campaign = session.get(MarketingCampaign, campaign_id) if 0 < campaign_id < 2**31 else None
    if campaign is None:
        raise NotFound()
    return campaign


def all_campaigns(session: Session) -> list[MarketingCampaign]:
    return list(session.scalars(select(MarketingCampaign).order_by(
        MarketingCampaign.created_at.desc(), MarketingCampaign.id.desc())))


def _unique(session: Session, name: str, campaign_id: int | None) -> None:
    if session.scalar(select(MarketingCampaign.id).where(
            func.lower(MarketingCampaign.name) == name.lower(),
            MarketingCampaign.id != (campaign_id or 0))) is not None:
        raise Conflict(N_("Another campaign is already called “%(name)s”."), "name", name=name)


def _flush_unique(session: Session, name: str) -> None:
    """Write now, in a savepoint: a name taken a moment ago is refused with a message."""
    try:
        with session.begin_nested():
            session.flush()
    except IntegrityError:
        raise Conflict(N_("Another campaign is already called “%(name)s”."), "name",
                       name=name) from None


def create(session: Session, staff: User, data: CampaignInput, now: datetime
           ) -> MarketingCampaign:
    """A new campaign, as a draft: it sends nothing until someone starts it."""
    clean = data.validated(session, now)
    assert clean.segment_id is not None
    _unique(session, clean.name, None)
    campaign = MarketingCampaign(
        name=clean.name, segment_id=clean.segment_id, trigger=clean.trigger,
        send_at=clean.send_at, message_key=clean.message_key, channels=clean.channels,
        holdout_share=clean.holdout_share, goal=clean.goal, goal_days=clean.goal_days,
        status="draft", version=1, created_by_id=staff.id, created_at=now, updated_at=now)
    session.add(campaign)
    _flush_unique(session, clean.name)
    return campaign


def has_sent(session: Session, campaign: MarketingCampaign) -> bool:
    return session.scalar(select(CampaignSend.id).where(
        CampaignSend.campaign == campaign.key).limit(1)) is not None


def update(session: Session, campaign: MarketingCampaign, data: CampaignInput,
           version: int | None, now: datetime) -> MarketingCampaign:
    """Change a draft or paused campaign. Once it has sent, its holdout and goal stay as they
    were (the results would otherwise mix two experiments)."""
    if version is not None and version != campaign.version:
        raise Conflict(N_("Someone changed this campaign while you were editing it (it is now "
                          "version %(version)d). Check it and save again."),
                       version=campaign.version)
    if campaign.status == "active":
        raise Conflict(N_("Pause the campaign before changing it."))
    if campaign.status == "done":
        raise Conflict(N_("This campaign has finished; make a new one instead."))
    clean = data.validated(session, now)
    assert clean.segment_id is not None
    _unique(session, clean.name, campaign.id)
    if has_sent(session, campaign) and (
            clean.holdout_share, clean.goal, clean.goal_days) != (
            campaign.holdout_share, campaign.goal, campaign.goal_days):
        raise Conflict(N_("This campaign has already sent, so its holdout and goal stay as "
                          "they are: the results compare like with like."), "goal")
    before = (campaign.name, campaign.segment_id, campaign.trigger, campaign.send_at,
              campaign.message_key, campaign.channels)
    after = (clean.name, clean.segment_id, clean.trigger, clean.send_at, clean.message_key,
             clean.channels)
    if before != after or (campaign.holdout_share, campaign.goal, campaign.goal_days) != (
            clean.holdout_share, clean.goal, clean.goal_days):
        (campaign.name, campaign.segment_id, campaign.trigger, campaign.send_at,
         campaign.message_key, campaign.channels) = after
        campaign.holdout_share, campaign.goal, campaign.goal_days = (
            clean.holdout_share, clean.goal, clean.goal_days)
        campaign.version += 1
        campaign.updated_at = now
    _flush_unique(session, clean.name)
    return campaign


def live_message(session: Session, campaign: MarketingCampaign, now: datetime
                 ) -> ContentItem | None:
    return messages.published(session, [campaign.message_key], now).get(campaign.message_key)


def message_status(session: Session, campaign: MarketingCampaign) -> str | None:
    """The message's workflow status ("draft", "in_review", "published", …; None: gone)."""
    return session.scalar(select(Message.status).where(Message.key == campaign.message_key))


def start(session: Session, campaign: MarketingCampaign, now: datetime,
          version: int | None = None) -> MarketingCampaign:
    """Start a draft or resume a paused campaign; its message must be published."""
    if version is not None and version != campaign.version:
        raise Conflict(N_("Someone changed this campaign while you were looking at it (it is "
                          "now version %(version)d). Check it and try again."),
                       version=campaign.version)
    if campaign.status == "done":
        raise Conflict(N_("This campaign has finished; make a new one instead."))
    if campaign.status == "active":
        return campaign
    if live_message(session, campaign, now) is None:
        raise ValidationError(N_("The message “%(key)s” is not published yet: a reviewer must "
                                 "approve it before the campaign can send it."), "message_key",
                              key=campaign.message_key)
    if campaign.trigger == "on_date" and not has_sent(session, campaign) and (
            campaign.send_at is None or campaign.send_at <= now):
        raise ValidationError(N_("The send time has passed. Choose a new one."), "send_at")
    campaign.status = "active"
    campaign.started_at = campaign.started_at or now
    campaign.version += 1
    campaign.updated_at = now
    session.flush()
    return campaign


def pause(session: Session, campaign: MarketingCampaign, now: datetime,
          version: int | None = None) -> MarketingCampaign:
    if version is not None and version != campaign.version:
        raise Conflict(N_("Someone changed this campaign while you were looking at it (it is "
                          "now version %(version)d). Check it and try again."),
                       version=campaign.version)
    if campaign.status != "active":
        raise Conflict(N_("Only a running campaign can be paused."))
    campaign.status = "paused"
    campaign.version += 1
    campaign.updated_at = now
    session.flush()
    return campaign


# --- sending ---------------------------------------------------------------------------------

@dataclass
class RunStats:
    campaigns: int = 0  # campaigns looked at
    recorded: int = 0  # new CampaignSend rows (sent + held out)
    held_out: int = 0
    pushed: int = 0  # ledger rows won (inbox + email)
    waiting: list[str] = field(default_factory=list)  # campaigns whose message is not live
    by_campaign: dict[str, int] = field(default_factory=dict)


def due(session: Session, now: datetime) -> list[MarketingCampaign]:
    return list(session.scalars(select(MarketingCampaign).where(
        MarketingCampaign.status == "active",
        (MarketingCampaign.trigger != "on_date") | (MarketingCampaign.send_at <= now))
        .order_by(MarketingCampaign.id)))


def run(session: Session, now: datetime, audience: Audience | None) -> RunStats:
    """Send every due campaign to the members of its segment who have not had it."""
    stats = RunStats()
    if audience is None:
        return stats  # nobody can tell who is in a segment: send nothing (never everyone)
    for campaign in due(session, now):
        stats.campaigns += 1
        copy = live_message(session, campaign, now)
        if copy is None:
            stats.waiting.append(campaign.key)
            continue
        try:
            members = audience(session, campaign.segment_id, now)
        except NotFound:
            log.warning("campaign %s: segment %s is gone", campaign.key, campaign.segment_id)
            stats.waiting.append(campaign.key)
            continue
        _send(session, campaign, copy, members, now, stats)
        campaign.last_run_at = now
        if campaign.trigger in ("once", "on_date"):
            campaign.status = "done"
    session.flush()
    return stats


def _send(session: Session, campaign: MarketingCampaign, copy: ContentItem, members: Any,
          now: datetime, stats: RunStats) -> None:
    had = select(CampaignSend.user_id).where(CampaignSend.campaign == campaign.key)
    last = 0
    while True:
        users = list(session.scalars(
            select(User).where(User.id.in_(members), ~User.id.in_(had), User.id > last,
                               User.is_active.is_(True), User.staff_role.is_(None))
            .order_by(User.id).limit(BATCH)))
        if not users:
            return
        last = users[-1].id
        _send_batch(session, campaign, copy, users, now, stats)
        if len(users) < BATCH:
            return


def _first_families(session: Session, ids: Sequence[int]) -> dict[int, int]:
    return dict(session.execute(select(Membership.user_id, func.min(Membership.family_id))
                                .where(Membership.user_id.in_(ids))
                                .group_by(Membership.user_id)).all())


def _first_children(session: Session, ids: Sequence[int]) -> dict[int, str]:
    names: dict[int, str] = {}
    for user_id, name in session.execute(
            select(Membership.user_id, Child.name)
            .join(Child, Child.family_id == Membership.family_id)
            .where(Membership.user_id.in_(ids)).order_by(Membership.family_id, Child.id)):
        names.setdefault(user_id, name)
    return names


def _send_batch(session: Session, campaign: MarketingCampaign, copy: ContentItem,
                users: list[User], now: datetime, stats: RunStats) -> None:
    ids = [u.id for u in users]
    families = _first_families(session, ids)
    rows = [{"campaign": campaign.key, "user_id": u.id, "child_id": 0,
             "occurrence": OCCURRENCE, "goal": campaign.goal, "goal_days": campaign.goal_days,
             "created_at": now,
             "holdout": in_holdout(campaign.key, f"family:{families[u.id]}" if u.id in families
                                   else f"user:{u.id}", OCCURRENCE, campaign.holdout_share)}
            for u in users]
    won = session.execute(
        dialect_insert(session, CampaignSend).values(rows)
        .on_conflict_do_nothing(index_elements=["campaign", "user_id", "child_id",
                                                "occurrence"])
        .returning(CampaignSend.id, CampaignSend.user_id, CampaignSend.holdout)).all()
    stats.recorded += len(won)
    stats.by_campaign[campaign.key] = stats.by_campaign.get(campaign.key, 0) + len(won)
    children = _first_children(session, ids)
    by_id = {u.id: u for u in users}
    pushes: list[dict[str, Any]] = []
    send_ids: dict[tuple[int, int, str, str], int] = {}
    for row in won:
        if row.holdout:
            stats.held_out += 1
            continue
        user = by_id[row.user_id]
        send_ids[(user.id, 0, f"campaign:{campaign.key}",
                  f"{campaign.key}:{OCCURRENCE}")] = row.id
        pushes.extend(_ledger_rows(campaign, copy, user, children.get(user.id)))
    stats.pushed += ledger.push(session, pushes)
    link_inbox_deliveries(session, send_ids)


def message_for(copy: ContentItem, user: User, child_name: str | None) -> tuple[str, str]:
    """(title, body) of the published message in the person's language (else English), with
    {name} and {child} (their first child's name) filled in; {years} is left out."""
    text = copy.text(locale_of(user))
    if text is None:
        return "", ""
    values = {"name": user.display_name}
    if child_name:
        values["child"] = child_name
    return messages.fill(text.title, values), messages.fill(text.body_md, values)


def _ledger_rows(campaign: MarketingCampaign, copy: ContentItem, user: User,
                 child_name: str | None) -> list[dict[str, Any]]:
    title, body = message_for(copy, user, child_name)
    rows = []
    for channel in campaign.channels or ["inbox"]:
        payload: dict[str, Any] = {"title": title, "body": body}
        if channel == "email":
            if not user.marketing_opt_in or user.email_verified_at is None:
                continue
            payload.update(kind="campaign", campaign=campaign.key, locale=locale_of(user))
        elif channel != "inbox":
            raise ValueError(f"unknown channel {channel!r}")
        r = ledger.row(user_id=user.id, child_id=0, item=None, channel=channel,
                       item_key=f"campaign:{campaign.key}",
                       occurrence=f"{campaign.key}:{OCCURRENCE}", **payload)
        r.setdefault("sent_at", None)
        rows.append(r)
    return rows


def messages_to_choose(session: Session) -> list[ContentItem]:
    """Every message (any status), for the campaign form's list."""
    return list(session.scalars(select(Message).where(Message.status != Status.ARCHIVED.value)
                                .options(selectinload(ContentItem.translations))
                                .order_by(Message.key)))
