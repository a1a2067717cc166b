"""Duplicate customers: finding two accounts of one person, and merging them losing nothing.

Detection (`candidates`, `duplicates_of`) pairs active parent accounts that share

- "email": one mailbox written two ways (`diary.lookup_keys.email_key`: case, Gmail dots,
  "+tags");
- "phone": one phone number (`phone_key`: +86, spaces, dashes);
- "name_child": one name (`name_key`) and a child born on the same day.

A pair is a suggestion for staff to look at, never merged by itself.

A merge (`plan`, then `merge` with the plan's fingerprint) moves everything of the merged
account to the surviving one, in the caller's one transaction:

- memberships (so its families and children, and their entries, journeys and deliveries
  per child, come along); where both were caregivers of one family, the survivor keeps the
  stronger role of the two and the merged account's membership is removed (recorded);
- entries it wrote (their author), consents (the whole history; the survivor's flags then
  follow the newest record of each kind), deliveries and their inbox messages, email
  clicks, campaign decisions, interactions (clicks, saves, purchases …), saved items,
  contact events, email preferences, invitations it sent, product reviews;
- profile fields the survivor left empty (phone, region, birthday) and its interests;
- what packages above crm register a mover for (`register_mover`): reward points, with the
  balance, and samples asked for (`rewards.merge`); questions and complaints, help-centre
  votes, satisfaction surveys, their answers and planned moments, and the weekly survey
  pacing (`care.merge`); birth-club memberships, posts, comments, likes, reports and bans
  (`community.merge`: a ban follows the person).

What cannot move stays with the merged account, counted in the plan and the record: a
delivery, campaign decision, saved item, review, vote, like or club membership the survivor
has its own of (the table's unique key says it is the same thing for the same person),
email preferences when the survivor has its own, the old account's sign-ins, account
emails and data exports (the history of that account). The merged account is then closed:
inactive, signed out, no email or marketing. Its nightly scores are dropped (the next run
scores the survivor with everything) and kept in the record.

The merge is recorded (`crm.models.CustomerMerge`): who, when, both member numbers, why, and
every row that moved, by id. The preview's fingerprint must still match when the merge runs:
if anything changed in between, the merge is refused and the preview is shown again.
"""
from __future__ import annotations

import hashlib
import json
import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import (
    ColumnElement,
    delete,
    exists,
    func,
    select,
    tuple_,
    update,
)
from sqlalchemy.orm import Session, aliased

from clock import utcnow
from content.models import ProductReview, SavedItem
from crm.models import ContactEvent, CustomerMerge, CustomerScore, DueFollowUp
from crm.paging import Page, page_of
from diary import sessions
from diary.errors import N_, Conflict, NotFound, ValidationError
from diary.models import (
    AccessToken,
    AccountEmail,
    Child,
    Consent,
    DataExport,
    Entry,
    Invitation,
    Membership,
    Role,
    StaffRole,
    Timer,
    User,
    UserSession,
    Vaccination,
)
from journeys.models import CampaignSend, Delivery, EmailClick, EmailPreference, InboxMessage
from recommender.models import Interaction

REASONS: dict[str, str] = {
    "email": N_("Same mailbox (the email written differently)"),
    "phone": N_("Same phone number"),
    "name_child": N_("Same name, and a child born the same day"),
}
#: Groups read per reason, and accounts paired within one group (a number shared by
#: hundreds of accounts is a placeholder, not one person).
MAX_GROUPS = 500
MAX_GROUP_SIZE = 10
PER_PAGE = 20

#: What moves, in the order the preview lists it. (kind, its words)
KINDS: dict[str, str] = {
    "memberships": N_("Families (caregiver memberships)"),
    "children": N_("Children in those families"),
    "entries": N_("Diary entries written"),
    "child_timers": N_("Timers started"),
    "vaccinations": N_("Vaccinations and check-ups recorded"),
    "consents": N_("Consent records"),
    "deliveries": N_("Emails and inbox messages sent"),
    "inbox_messages": N_("Inbox messages"),
    "email_clicks": N_("Email link clicks"),
    "campaign_sends": N_("Campaign decisions"),
    "interactions": N_("Interactions (clicks, saves, purchases …)"),
    "saved_items": N_("Saved items"),
    "contact_events": N_("Contact notes"),
    "due_follow_ups": N_("Due-list follow-ups"),
    "email_preferences": N_("Email preferences"),
    "invitations": N_("Invitations sent"),
    "tickets": N_("Questions and complaints"),
    "memberships_joined": N_("Families both were in (one membership kept)"),
    "customer_scores": N_("Nightly scores (recomputed tonight)"),
    "sessions": N_("Sign-ins (ended)"),
    "api_tokens": N_("API tokens (they stop working with the closed account)"),
    "account_emails": N_("Account emails (the old account's history)"),
    "data_exports": N_("Data downloads (the old account's history)"),
    "club_members": N_("Birth clubs and groups joined"),
    "club_posts": N_("Club posts"),
    "club_comments": N_("Club comments"),
    "club_likes": N_("Club likes"),
    "club_reports": N_("Club reports made"),
    "club_bans": N_("Club bans (they apply to the surviving account)"),
    "reward_points": N_("Reward points (the ledger; the balance follows)"),
    "reward_redemptions": N_("Samples asked for"),
    "reward_balances": N_("Points balance (the old account keeps what could not move)"),
    "survey_offers": N_("Satisfaction surveys and their answers"),
    "survey_moments": N_("Surveys planned for key moments"),
    "survey_throttles": N_("Survey pacing (the survivor's takes the later dates of both)"),
    "help_votes": N_("Help centre votes"),
    "product_reviews": N_("Product reviews"),
}
#: Every column that names a user, and what a merge does with it: a kind of KINDS, or why
#: nothing is done. Checked against the models by a test, so a new table is not forgotten.
USER_COLUMNS: dict[tuple[str, str], str] = {
    ("memberships", "user_id"): "memberships",
    ("entries", "author_id"): "entries",
    ("child_timers", "started_by_id"): "child_timers",
    ("vaccinations", "recorded_by_id"): "vaccinations",
    ("consents", "user_id"): "consents",
    ("deliveries", "user_id"): "deliveries",
    ("inbox_messages", "user_id"): "inbox_messages",
    ("email_clicks", "user_id"): "email_clicks",
    ("campaign_sends", "user_id"): "campaign_sends",
    ("interactions", "user_id"): "interactions",
    ("saved_items", "user_id"): "saved_items",
    ("contact_events", "user_id"): "contact_events",
    ("crm_due_follow_ups", "user_id"): "due_follow_ups",
    ("crm_due_follow_ups", "updated_by_id"): "staff only: parents set no follow-ups",
    ("segments", "created_by_id"): "staff only: parents save no segments",
    ("segments", "updated_by_id"): "staff only: parents save no segments",
    ("marketing_campaigns", "created_by_id"): "staff only: parents make no campaigns",
    ("crm_saved_reports", "owner_id"): "staff only: parents save no reports",
    ("crm_report_mailings", "user_id"): "staff only: report emails go to analysts",
    ("email_preferences", "user_id"): "email_preferences",
    ("invitations", "invited_by_id"): "invitations",
    ("customer_scores", "user_id"): "customer_scores",
    ("user_sessions", "user_id"): "sessions",
    ("access_tokens", "user_id"): "api_tokens",
    ("account_emails", "user_id"): "account_emails",
    ("data_exports", "user_id"): "data_exports",
    ("contact_events", "author_id"): "staff only: parents write no contact notes",
    ("content_items", "updated_by_id"): "staff only: parents edit no content",
    ("content_items", "submitted_by_id"): "staff only: parents edit no content",
    ("content_publications", "published_by_id"): "staff only: parents publish nothing",
    ("content_versions", "created_by_id"): "staff only: parents edit no content",
    # community sits above crm: its mover (community.merge, registered in MOVERS) moves them
    ("club_members", "user_id"): "club_members",
    ("club_posts", "author_id"): "club_posts",
    ("club_comments", "author_id"): "club_comments",
    ("club_likes", "user_id"): "club_likes",
    ("club_reports", "reporter_id"): "club_reports",
    ("club_bans", "user_id"): "club_bans",
    ("clubs", "created_by_id"): "staff only: staff make topic groups",
    ("club_reports", "resolved_by_id"): "staff only: moderators settle reports",
    ("club_bans", "created_by_id"): "staff only: moderators ban",
    ("club_moderators", "user_id"): "staff only: moderators are staff",
    ("club_blocked_words", "created_by_id"): "staff only: staff edit the word filter",
    ("care_tickets", "user_id"): "tickets",
    ("care_tickets", "assignee_id"): "staff only: tickets are assigned to staff",
    ("care_ticket_messages", "staff_id"): "staff only: a parent's messages name no user",
    ("care_ticket_events", "staff_id"): "staff only: the staff member who acted",
    # rewards sits above crm: its mover (rewards.merge, registered in MOVERS) moves them
    ("reward_balances", "user_id"): "reward_balances",
    ("reward_points", "user_id"): "reward_points",
    ("reward_redemptions", "user_id"): "reward_redemptions",
    ("reward_redemptions", "handled_by_id"): "staff only: the service agent who handled it",
    # care sits above crm: its movers (care.merge, registered in MOVERS) move them
    ("survey_offers", "user_id"): "survey_offers",
    ("survey_throttles", "user_id"): "survey_throttles",
    ("survey_moments", "user_id"): "survey_moments",
    ("survey_follow_ups", "assignee_id"): "staff only: follow-ups are given to staff",
    ("faq_votes", "user_id"): "help_votes",
    ("product_reviews", "user_id"): "product_reviews",
    ("product_reviews", "hidden_by_id"): "staff only: staff hide reviews",
}


class Mover(Protocol):
    """What a package above crm moves in a merge (crm never imports it: the package
    registers itself with `register_mover`). `plan` says, per kind of KINDS, the row ids
    that move and those that stay, changing nothing; `move` moves them, in the merge's
    transaction, given the ids its `plan` said move (per kind)."""

    kinds: tuple[str, ...]

    def plan(self, session: Session, survivor: User, merged: User
             ) -> dict[str, tuple[list[int], list[int]]]: ...

    def move(self, session: Session, survivor: User, merged: User,
             moving: dict[str, list[int]], now: datetime) -> None: ...


#: The registered movers of packages above crm (rewards: points and samples).
MOVERS: list[Mover] = []


def register_mover(mover: Mover) -> None:
    """Let a merge move `mover`'s rows too (once, however often it is registered)."""
    if mover not in MOVERS:
        MOVERS.append(mover)


#: Staff roles that merge accounts (analysts look, they do not change customers' data).
MERGERS = (StaffRole.SERVICE.value, StaffRole.ADMIN.value)
ROLE_STRENGTH = {Role.OWNER.value: 3, Role.EDITOR.value: 2, Role.VIEWER.value: 1}
PROFILE_FIELDS = ("phone", "region_province", "region_city", "birthday")
#: Kinds whose ids the record keeps one by one (the others: how many, and the id range).
IDS_KEPT_UP_TO = 2000


def _customers() -> tuple[ColumnElement[bool], ...]:
    return (User.staff_role.is_(None), User.is_active.is_(True))


# --- detection -------------------------------------------------------------------------------

@dataclass
class Pair:
    first: User  # the older account: the suggested survivor
    second: User
    reasons: list[str]


def _group_rows(session: Session, only: User | None = None
                ) -> list[tuple[str, Any, list[int]]]:
    """(reason, shared value, account ids) of each group of accounts sharing something."""
    groups: list[tuple[str, Any, list[int]]] = []
    for reason, column in (("email", User.email_key), ("phone", User.phone_key)):
        shared = select(column).where(*_customers(), column.is_not(None))
        if only is not None:
            value = getattr(only, column.key)
            if value is None:
                continue
            shared = shared.where(column == value)
        shared = shared.group_by(column).having(func.count() > 1).order_by(column) \
            .limit(MAX_GROUPS)
        members: dict[Any, list[int]] = {}
        for uid, value in session.execute(select(User.id, column).where(
                *_customers(), column.in_(shared)).order_by(column, User.id)):
            members.setdefault(value, []).append(uid)
        groups += [(reason, value, ids) for value, ids in members.items()]
    named = (select(User.id.label("uid"), User.name_key.label("name_key"),
                    Child.birth_date.label("born"))
             .join(Membership, Membership.user_id == User.id)
             .join(Child, Child.family_id == Membership.family_id)
             .where(*_customers(), User.name_key.is_not(None), Child.birth_date.is_not(None)))
    if only is not None:
        if only.name_key is None:
            return groups
        named = named.where(User.name_key == only.name_key)
    named_sub = named.subquery()
    shared_pairs = (select(named_sub.c.name_key, named_sub.c.born)
                    .group_by(named_sub.c.name_key, named_sub.c.born)
                    .having(func.count(func.distinct(named_sub.c.uid)) > 1)
                    .order_by(named_sub.c.name_key, named_sub.c.born).limit(MAX_GROUPS))
    members_nc: dict[Any, set[int]] = {}
    for uid, name_key, born in session.execute(
            select(named_sub.c.uid, named_sub.c.name_key, named_sub.c.born).where(
                tuple_(named_sub.c.name_key, named_sub.c.born).in_(shared_pairs))):
        members_nc.setdefault((name_key, born), set()).add(uid)
    groups += [("name_child", value, sorted(ids)) for value, ids in sorted(
        members_nc.items(), key=lambda kv: (kv[0][0], kv[0][1]))]
    return groups


def _pairs(session: Session, groups: list[tuple[str, Any, list[int]]],
           only: User | None = None) -> list[Pair]:
    found: dict[tuple[int, int], list[str]] = {}
    for reason, _, ids in groups:
        ids = ids[:MAX_GROUP_SIZE]
        for i, a in enumerate(ids):
            for b in ids[i + 1:]:
                if only is not None and only.id not in (a, b):
                    continue
                reasons = found.setdefault((min(a, b), max(a, b)), [])
                if reason not in reasons:
                    reasons.append(reason)
    users = {u.id: u for u in session.scalars(select(User).where(
        User.id.in_({i for pair in found for i in pair})))} if found else {}
    def older_first(a: User, b: User) -> tuple[User, User]:
        return (a, b) if (a.created_at, a.id) <= (b.created_at, b.id) else (b, a)

    return [Pair(*older_first(users[a], users[b]), [r for r in REASONS if r in reasons])
            for (a, b), reasons in sorted(found.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def candidates(session: Session, page: int = 1, per_page: int = PER_PAGE) -> Page[Pair]:
    """Pairs of active parent accounts that look like one person: most reasons first."""
    pairs = _pairs(session, _group_rows(session))
    number, pages, offset = page_of(len(pairs), page, per_page)
    return Page(pairs[offset:offset + per_page], len(pairs), number, pages)


def duplicates_of(session: Session, user: User) -> list[Pair]:
    """The pairs this customer is in (for their page)."""
    if user.is_staff or not user.is_active:
        return []
    return _pairs(session, _group_rows(session, only=user), only=user)


def reasons_for(session: Session, first: User, second: User) -> list[str]:
    """Why two accounts look like one person (empty: they do not)."""
    for pair in duplicates_of(session, first):
        if {pair.first.id, pair.second.id} == {first.id, second.id}:
            return pair.reasons
    return []


# --- the plan --------------------------------------------------------------------------------

class MergeRefused(ValidationError):
    """A merge that cannot be done as asked (the message says why)."""


@dataclass
class Plan:
    survivor: User
    merged: User
    reasons: list[str]
    #: Row ids that move, per kind; and those that stay with the merged account.
    moving: dict[str, list[int]] = field(default_factory=dict)
    staying: dict[str, list[int]] = field(default_factory=dict)
    #: Memberships of the merged account in families the survivor is in: removed, with
    #: the role the survivor ends up with there.
    joined: list[dict[str, Any]] = field(default_factory=list)
    children: list[int] = field(default_factory=list)  # in the families that move
    profile: dict[str, Any] = field(default_factory=dict)  # survivor's empty fields filled
    interests_added: list[str] = field(default_factory=list)
    consents_after: dict[str, bool | None] = field(default_factory=dict)
    score: dict[str, Any] | None = None  # the merged account's scores (dropped)

    def counts(self) -> dict[str, int]:
        moved = {kind: len(ids) for kind, ids in self.moving.items() if ids}
        if self.children:
            moved["children"] = len(self.children)
        return {kind: moved[kind] for kind in KINDS if kind in moved}

    def kept(self) -> dict[str, int]:
        kept = {kind: len(ids) for kind, ids in self.staying.items() if ids}
        if self.joined:
            kept["memberships_joined"] = len(self.joined)
        if self.score is not None:
            kept["customer_scores"] = 1
        return {kind: kept[kind] for kind in KINDS if kind in kept}

    @property
    def fingerprint(self) -> str:
        """Changes when anything the merge would do changes."""
        data = {"survivor": self.survivor.id, "merged": self.merged.id,
                "moving": self.moving, "staying": self.staying, "joined": self.joined,
                "children": self.children, "profile": self.profile,
                "interests": self.interests_added, "consents": self.consents_after}
        return hashlib.sha256(json.dumps(data, sort_keys=True, default=str).encode()
                              ).hexdigest()[:32]


def _check(survivor: User | None, merged: User | None) -> tuple[User, User]:
    if survivor is None or merged is None or survivor.is_staff or merged.is_staff:
        raise NotFound()
    if survivor.id == merged.id:
        raise MergeRefused(N_("An account cannot be merged into itself."))
    if not survivor.is_active or not merged.is_active:
        raise MergeRefused(N_("Only open accounts can be merged: one of these is closed "
                              "or was merged before."))
    return survivor, merged


def _ids(session: Session, query: Any) -> list[int]:
    return sorted(int(i) for i in session.scalars(query))


def movable(session: Session, model: Any, user_column: Any, merged: User, survivor: User,
             same: Sequence[str]) -> tuple[list[int], list[int]]:
    """(ids that move, ids that stay): a row stays when the survivor has one with the same
    values in `same` (the table's unique key besides the user). Movers use it too."""
    other = aliased(model)
    twin = exists().where(getattr(other, user_column.key) == survivor.id,
                          *[getattr(other, c) == getattr(model, c) for c in same])
    mine = user_column == merged.id
    return (_ids(session, select(model.id).where(mine, ~twin)),
            _ids(session, select(model.id).where(mine, twin)))


def plan(session: Session, survivor_id: int, merged_id: int,
         now: datetime | None = None) -> Plan:
    """What merging `merged_id` into `survivor_id` would do (nothing is changed)."""
    now = now or utcnow()
    survivor, merged = _check(session.get(User, survivor_id), session.get(User, merged_id))
    result = Plan(survivor, merged, reasons_for(session, survivor, merged))
    moving, staying = result.moving, result.staying

    theirs = {m.family_id: m for m in session.scalars(
        select(Membership).where(Membership.user_id == survivor.id))}
    moving["memberships"] = []
    for m in session.scalars(select(Membership).where(Membership.user_id == merged.id)
                             .order_by(Membership.id)):
        if m.family_id in theirs:
            kept = theirs[m.family_id]
            stronger = max((kept.role, m.role), key=lambda r: ROLE_STRENGTH.get(r, 0))
            result.joined.append({"membership_id": m.id, "family_id": m.family_id,
                                  "role": m.role, "relationship": m.relationship_to_child,
                                  "joined_at": m.joined_at.isoformat(),
                                  "survivor_role_before": kept.role,
                                  "survivor_role_after": stronger})
        else:
            moving["memberships"].append(m.id)
    if moving["memberships"]:
        result.children = _ids(session, select(Child.id).join(
            Membership, Membership.family_id == Child.family_id).where(
            Membership.id.in_(moving["memberships"])))
    moving["entries"] = _ids(session, select(Entry.id).where(Entry.author_id == merged.id))
    moving["child_timers"] = _ids(session, select(Timer.id).where(
        Timer.started_by_id == merged.id))
    moving["vaccinations"] = _ids(session, select(Vaccination.id).where(
        Vaccination.recorded_by_id == merged.id))
    moving["consents"] = _ids(session, select(Consent.id).where(Consent.user_id == merged.id))
    moving["deliveries"], staying["deliveries"] = movable(
        session, Delivery, Delivery.user_id, merged, survivor,
        ("child_id", "item_key", "channel", "occurrence"))
    moving["inbox_messages"] = _ids(session, select(InboxMessage.id).where(
        InboxMessage.user_id == merged.id, InboxMessage.delivery_id.in_(
            moving["deliveries"] or [-1])))
    staying["inbox_messages"] = _ids(session, select(InboxMessage.id).where(
        InboxMessage.user_id == merged.id, InboxMessage.id.not_in(
            moving["inbox_messages"] or [-1])))
    moving["email_clicks"] = _ids(session, select(EmailClick.id).where(
        EmailClick.user_id == merged.id))
    moving["campaign_sends"], staying["campaign_sends"] = movable(
        session, CampaignSend, CampaignSend.user_id, merged, survivor,
        ("campaign", "child_id", "occurrence"))
    moving["interactions"] = _ids(session, select(Interaction.id).where(
        Interaction.user_id == merged.id))
    moving["saved_items"], staying["saved_items"] = movable(
        session, SavedItem, SavedItem.user_id, merged, survivor, ("item_id",))
    moving["product_reviews"], staying["product_reviews"] = movable(
        session, ProductReview, ProductReview.user_id, merged, survivor, ("item_id",))
    moving["contact_events"] = _ids(session, select(ContactEvent.id).where(
        ContactEvent.user_id == merged.id))
    moving["due_follow_ups"], staying["due_follow_ups"] = movable(
        session, DueFollowUp, DueFollowUp.user_id, merged, survivor,
        ("child_id", "kind", "due_on"))
    if session.get(EmailPreference, merged.id) is not None:
        target = moving if session.get(EmailPreference, survivor.id) is None else staying
        target["email_preferences"] = [merged.id]
    moving["invitations"] = _ids(session, select(Invitation.id).where(
        Invitation.invited_by_id == merged.id))
    staying["sessions"] = _ids(session, select(UserSession.id).where(
        UserSession.user_id == merged.id, UserSession.revoked_at.is_(None),
        UserSession.expires_at > now))
    staying["api_tokens"] = _ids(session, select(AccessToken.id).where(
        AccessToken.user_id == merged.id))
    staying["account_emails"] = _ids(session, select(AccountEmail.id).where(
        AccountEmail.user_id == merged.id))
    staying["data_exports"] = _ids(session, select(DataExport.id).where(
        DataExport.user_id == merged.id))
    for mover in MOVERS:
        for kind, (move_ids, stay_ids) in mover.plan(session, survivor, merged).items():
            moving[kind], staying[kind] = move_ids, stay_ids
    score = session.get(CustomerScore, merged.id)
    if score is not None:
        result.score = {"tier": score.tier, "value_group": score.value_group,
                        "clv_minor": score.clv_minor, "p_alive": score.p_alive,
                        "computed_at": score.computed_at.isoformat()}

    for name in PROFILE_FIELDS:
        mine, other = getattr(survivor, name), getattr(merged, name)
        if mine in (None, "") and other not in (None, ""):
            result.profile[name] = other.isoformat() if hasattr(other, "isoformat") else other
    result.interests_added = sorted(set(merged.interests or []) - set(survivor.interests or []))
    records = list(session.scalars(select(Consent).where(
        Consent.user_id.in_((survivor.id, merged.id)))
        .order_by(Consent.recorded_at, Consent.id)))
    latest = {c.kind: c.granted for c in records}
    result.consents_after = {kind: latest.get(kind) for kind in Consent.KINDS}
    return result


# --- the merge -------------------------------------------------------------------------------

def _chunks(ids: Sequence[int], size: int = 500) -> Iterable[Sequence[int]]:
    for start in range(0, len(ids), size):
        yield ids[start:start + size]


def move_rows(session: Session, model: Any, column: Any, ids: Sequence[int], to: int,
              **also: Any) -> None:
    """Give rows `ids` of `model` to user `to` in `column` (and set `also` on them), in chunks
    a database's parameter limit allows. Movers use it too."""
    for chunk in _chunks(ids):
        session.execute(update(model).where(model.id.in_(chunk))
                        .values({column.key: to, **also})
                        .execution_options(synchronize_session=False))


def merge(session: Session, survivor_id: int, merged_id: int, staff: User, fingerprint: str,
          note: str = "", now: datetime | None = None) -> CustomerMerge:
    """Merge `merged_id` into `survivor_id` as previewed (see the module's docstring). The
    caller owns the one transaction; MergeRefused when the preview is out of date."""
    now = now or utcnow()
    if staff.staff_role not in MERGERS:
        raise MergeRefused(N_("Only customer service and administrators merge accounts."))
    note = (note or "").strip()
    if len(note) > 500 or any(ord(c) < 32 and c not in "\n\t" for c in note):
        raise MergeRefused(N_("Keep the note under 500 characters of plain text."))
    # Both accounts locked for the transaction (PostgreSQL; SQLite has one writer anyway).
    session.execute(select(User.id).where(User.id.in_((survivor_id, merged_id)))
                    .order_by(User.id).with_for_update())
    session.expire_all()
    p = plan(session, survivor_id, merged_id, now)
    if not secrets.compare_digest(p.fingerprint, fingerprint or ""):
        raise Conflict(N_("Something changed since the preview. Look at it again, then "
                          "merge."))
    survivor, merged = p.survivor, p.merged

    for joined in p.joined:
        session.execute(update(Membership).where(
            Membership.user_id == survivor.id, Membership.family_id == joined["family_id"])
            .values(role=joined["survivor_role_after"]))
        session.execute(delete(Membership).where(Membership.id == joined["membership_id"]))
    for model, column, kind in (
            (Membership, Membership.user_id, "memberships"),
            (Entry, Entry.author_id, "entries"),
            (Timer, Timer.started_by_id, "child_timers"),
            (Vaccination, Vaccination.recorded_by_id, "vaccinations"),
            (Consent, Consent.user_id, "consents"),
            (Delivery, Delivery.user_id, "deliveries"),
            (InboxMessage, InboxMessage.user_id, "inbox_messages"),
            (EmailClick, EmailClick.user_id, "email_clicks"),
            (CampaignSend, CampaignSend.user_id, "campaign_sends"),
            (SavedItem, SavedItem.user_id, "saved_items"),
            (ProductReview, ProductReview.user_id, "product_reviews"),
            (ContactEvent, ContactEvent.user_id, "contact_events"),
            (DueFollowUp, DueFollowUp.user_id, "due_follow_ups"),
            (Invitation, Invitation.invited_by_id, "invitations")):
        move_rows(session, model, column, p.moving[kind], survivor.id)
    if p.moving["interactions"]:  # all of them: by the account, not id by id
        session.execute(update(Interaction).where(Interaction.user_id == merged.id)
                        .values(user_id=survivor.id)
                        .execution_options(synchronize_session=False))
    if p.moving.get("email_preferences"):
        session.execute(update(EmailPreference).where(EmailPreference.user_id == merged.id)
                        .values(user_id=survivor.id))
    for mover in MOVERS:
        mover.move(session, survivor, merged,
                   {kind: p.moving.get(kind, []) for kind in mover.kinds}, now)
    if p.score is not None:
        session.execute(delete(CustomerScore).where(CustomerScore.user_id == merged.id))

    for name in p.profile:
        setattr(survivor, name, getattr(merged, name))
    if p.interests_added:
        survivor.interests = sorted(set(survivor.interests or []) | set(p.interests_added))
    if p.consents_after.get(Consent.MARKETING) is not None:
        survivor.marketing_opt_in = bool(p.consents_after[Consent.MARKETING])
    if p.consents_after.get(Consent.DIGEST) is not None:
        survivor.digest_opt_in = bool(p.consents_after[Consent.DIGEST])
    if merged.last_seen_at and (survivor.last_seen_at is None
                                or merged.last_seen_at > survivor.last_seen_at):
        survivor.last_seen_at = merged.last_seen_at

    merged.is_active = False
    merged.digest_opt_in = merged.marketing_opt_in = False
    merged.security_stamp = secrets.token_hex(16)
    sessions.end_all(session, merged, now)

    record = CustomerMerge(
        at=now, staff_user_id=staff.id, staff_member_no=staff.member_no,
        staff_role=staff.staff_role or "", survivor_user_id=survivor.id,
        survivor_member_no=survivor.member_no, merged_user_id=merged.id,
        merged_member_no=merged.member_no, reasons=p.reasons, moved=p.counts(),
        kept=p.kept(), note=note, details={
            "ids": {kind: _kept_ids(ids) for kind, ids in p.moving.items() if ids},
            "stayed_ids": {kind: _kept_ids(ids) for kind, ids in p.staying.items() if ids},
            "children": p.children, "memberships_joined": p.joined,
            "profile_filled": p.profile, "interests_added": p.interests_added,
            "consents_after": p.consents_after, "score_dropped": p.score})
    session.add(record)
    session.flush()
    return record


def _kept_ids(ids: list[int]) -> Any:
    if len(ids) <= IDS_KEPT_UP_TO:
        return ids
    return {"count": len(ids), "first": ids[0], "last": ids[-1]}


def merges_of(session: Session, user: User) -> list[CustomerMerge]:
    return list(session.scalars(select(CustomerMerge).where(
        (CustomerMerge.survivor_user_id == user.id) | (CustomerMerge.merged_user_id == user.id))
        .order_by(CustomerMerge.at.desc(), CustomerMerge.id.desc())))


def get_merge(session: Session, merge_id: int) -> CustomerMerge:
    record = session.get(CustomerMerge, merge_id)
    if record is None:
        raise NotFound()
    return record


def merged_into(session: Session, user: User) -> User | None:
    """The account this one was merged into, if it was."""
    survivor_id = session.scalar(select(CustomerMerge.survivor_user_id).where(
        CustomerMerge.merged_user_id == user.id).order_by(CustomerMerge.id.desc()).limit(1))
    return session.get(User, survivor_id) if survivor_id is not None else None

