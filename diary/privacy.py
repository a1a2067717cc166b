"""The parent's rights over their data: download everything, and delete the account.

Download everything ("export")
------------------------------
`write_export` writes one zip to a file on disk, piece by piece (data.json and the CSV files
are written straight into the zip, photos are copied into it file by file), so an export of
years of photos never sits in memory. What it holds depends on the person's role in each
family:

- **Everyone** gets their own account: details (birthday too), consents, and every section
  the packages register (inbox messages, saved items, email preferences, deliveries, email
  clicks, campaign decisions, invitations they sent, sign-ins, account emails, their earlier
  exports …).
- **Owners and editors** also get their family's diary: the children, every entry
  (data.json and entries.csv), every photo, and the children's journeys.
- **Viewers** (read-only caregivers) get their own account data and the fact of their
  membership (family name, role, since when), not the family's diary and photos: the book
  belongs to the family's owners and editors, who can download it.

Packages contribute sections without diary importing them: `journeys.privacy` and
`content.privacy` each have a `register(registry)` that adds `Section`s (and names the tables
that hold no customer data), and the web layer builds the one `ExportRegistry` the site uses
(`webapp.data_export`). The recommender's interactions register the same way. A test checks
that every table with a user/child/family column is either exported or declared not personal.

Exports are limited to `EXPORT_LIMIT` per person in `EXPORT_WINDOW`, counted in the database
(`DataExport` rows, the person's row locked while counting) so it holds across workers.
"""
from __future__ import annotations

import io
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, selectinload

import csvsafe
from clock import utcnow
from diary import account_mail, invitations, search
from diary.errors import N_, DiaryError
from diary.models import (
    AccountEmail,
    Child,
    DataExport,
    Entry,
    Family,
    Invitation,
    Membership,
    Role,
    User,
    UserSession,
)
from diary.photos import PhotoStore

EXPORT_LIMIT = 3
EXPORT_WINDOW = timedelta(hours=24)

ENTRY_COLUMNS = ["entry_id", "child_id", "child_name", "kind", "occurred_at_utc", "title", "body",
                 "author", "weight_kg", "length_cm", "head_cm", "details", "photos"]
CHILD_COLUMNS = ["id", "name", "sex", "due_date", "birth_date", "gestational_weeks_at_birth",
                 "gestational_days_at_birth", "birth_weight_kg", "birth_length_cm",
                 "birth_head_cm"]
#: Tables the export's own core (account, families, diary) covers.
CORE_TABLES = ("users", "consents", "memberships", "families", "children", "entries",
               "measurements", "photos")
#: Roles whose export includes the family's diary and photos.
DIARY_ROLES = ("owner", "editor")


# --- the limit -------------------------------------------------------------------------------

class ExportLimitReached(DiaryError):
    """The person has exported `limit` times in the window; `next_at` (UTC) is when they can
    again."""

    def __init__(self, limit: int, next_at: datetime) -> None:
        super().__init__(N_("You can download your data %(limit)d times in 24 hours."),
                         limit=limit)
        self.limit = limit
        self.next_at = next_at


def claim_export(session: Session, user: User, now: datetime | None = None) -> DataExport:
    """Count the person's exports in the last 24 hours and record this one, or refuse it.

    The person's row is locked first (PostgreSQL `FOR UPDATE`; SQLite has one writer at a
    time anyway), so two workers serving two clicks at once cannot both pass the count."""
    now = now or utcnow()
    session.execute(select(User.id).where(User.id == user.id).with_for_update())
    recent = list(session.scalars(
        select(DataExport.created_at)
        .where(DataExport.user_id == user.id, DataExport.created_at > now - EXPORT_WINDOW)
        .order_by(DataExport.created_at)))
    if len(recent) >= EXPORT_LIMIT:
        raise ExportLimitReached(EXPORT_LIMIT, recent[len(recent) - EXPORT_LIMIT]
                                 + EXPORT_WINDOW)
    claim = DataExport(user_id=user.id, created_at=now)
    session.add(claim)
    session.flush()
    return claim


def release_export(session: Session, claim_id: int) -> None:
    """Give a claimed export back (it failed before the person got anything)."""
    session.execute(delete(DataExport).where(DataExport.id == claim_id))


# --- sections and the registry ---------------------------------------------------------------

@dataclass
class ExportScope:
    """Whose data goes into one export, and which families' diaries."""

    user: User
    memberships: list[Membership]

    @property
    def diary_families(self) -> list[Family]:
        return [m.family for m in self.memberships if m.role in DIARY_ROLES]

    @property
    def children(self) -> list[Child]:
        return [c for family in self.diary_families for c in family.children]

    @property
    def child_ids(self) -> list[int]:
        return [c.id for c in self.children]


@dataclass(frozen=True)
class Section:
    """One key of data.json: `collect(session, scope)` returns its JSON-able value."""

    key: str
    tables: tuple[str, ...]
    collect: Callable[[Session, ExportScope], Any]


@dataclass
class ExportRegistry:
    sections: dict[str, Section] = field(default_factory=dict)
    #: Tables with customer columns that are deliberately not exported, with the reason.
    not_personal: dict[str, str] = field(default_factory=dict)

    def add(self, *sections: Section) -> None:
        for section in sections:
            if section.key in self.sections or section.key in CORE_KEYS:
                raise ValueError(f"export section {section.key!r} is registered twice")
            self.sections[section.key] = section

    def not_exported(self, table: str, reason: str) -> None:
        self.not_personal[table] = reason

    def covered_tables(self) -> set[str]:
        return set(CORE_TABLES) | {t for s in self.sections.values() for t in s.tables}


CORE_KEYS = ("exported_at", "account", "families", "entries")


def iso(value: Any) -> Any:
    """Dates and times as ISO 8601 text (times are UTC), anything else as it is."""
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def row_dict(row: Any, fields: Iterable[str]) -> dict[str, Any]:
    return {name: iso(getattr(row, name)) for name in fields}


def _invitations_sent(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(Invitation).where(Invitation.invited_by_id == scope.user.id)
                           .order_by(Invitation.id))
    return [row_dict(i, ("family_id", "email", "role", "relationship_to_child", "created_at",
                         "accepted_at", "revoked_at")) for i in rows]


def _exports(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(DataExport).where(DataExport.user_id == scope.user.id)
                           .order_by(DataExport.id))
    return [{"created_at": iso(e.created_at)} for e in rows]


def _sessions(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(UserSession).where(UserSession.user_id == scope.user.id)
                           .order_by(UserSession.id))
    return [row_dict(r, ("created_at", "expires_at", "last_seen_at", "revoked_at", "remember",
                         "user_agent")) for r in rows]  # never the key's hash


def _api_tokens(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    from diary import access_tokens
    tokens = access_tokens.list_tokens(session, scope.user)
    return [row_dict(t, ("name", "scope", "created_at", "expires_at", "last_used_at",
                         "revoked_at")) for t in tokens]  # never the hash


def _account_emails(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    rows = session.scalars(select(AccountEmail).where(AccountEmail.user_id == scope.user.id)
                           .order_by(AccountEmail.id))
    return [row_dict(r, ("kind", "to_address", "locale", "status", "created_at", "sent_at"))
            for r in rows]


def _timers(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    from diary import timers
    return timers.export_rows(session, scope.child_ids)


def _vaccinations(session: Session, scope: ExportScope) -> list[dict[str, Any]]:
    from diary import vaccinations
    return vaccinations.export_rows(session, scope.child_ids)


def register(registry: ExportRegistry) -> None:
    """The diary's own sections beyond the core, and its tables that are not exported."""
    registry.add(Section("timers", ("child_timers",), _timers),
                 Section("vaccinations", ("vaccinations",), _vaccinations))
    registry.add(Section("invitations_sent", ("invitations",), _invitations_sent),
                 Section("data_exports", ("data_exports",), _exports),
                 Section("sign_ins", ("user_sessions",), _sessions),
                 Section("api_tokens", ("access_tokens",), _api_tokens),
                 Section("account_emails", ("account_emails",), _account_emails))
    registry.not_exported("staff_accesses", "the staff access log: who on the staff read "
                          "customer data; kept for accountability, not customer data itself")
    registry.not_exported("staff_access_subjects", "the customers each staff access showed "
                          "(ids and member numbers only); part of the staff access log")


# --- the export ------------------------------------------------------------------------------

def _user_dict(user: User) -> dict[str, Any]:
    data = row_dict(user, ("member_no", "email", "email_verified_at", "display_name", "birthday",
                           "timezone",
                           "locale", "unit_system", "phone", "region_province", "region_city",
                           "interests", "digest_opt_in", "marketing_opt_in", "created_at",
                           "last_login_at", "last_seen_at"))
    data["consents"] = [
        {"kind": c.kind, "granted": c.granted, "policy_version": c.policy_version,
         "source": c.source, "recorded_at": iso(c.recorded_at)} for c in user.consents]
    return data


def _child_dict(child: Child) -> dict[str, Any]:
    return row_dict(child, CHILD_COLUMNS)


def _family_dict(membership: Membership) -> dict[str, Any]:
    family = membership.family
    data = {"family_id": family.id, "name": family.name, "timezone": family.timezone,
            "role": membership.role, "relationship": membership.relationship_to_child,
            "joined_at": iso(membership.joined_at),
            "diary_included": membership.role in DIARY_ROLES}
    if membership.role in DIARY_ROLES:
        data["children"] = [_child_dict(c) for c in family.children]
    return data


def _photo_name(entry: Entry, position: int) -> str:
    return f"photos/child-{entry.child_id}/entry-{entry.id}-{position + 1}.jpg"


def _entry_dict(entry: Entry) -> dict[str, Any]:
    m = entry.measurement
    return {
        "id": entry.id, "child_id": entry.child_id, "kind": entry.kind,
        "occurred_at": iso(entry.occurred_at), "title": entry.title, "body": entry.body,
        "details": entry.data, "author": entry.author.display_name if entry.author else None,
        "measurement": None if m is None else
        {"weight_kg": m.weight_kg, "length_cm": m.length_cm, "head_cm": m.head_cm},
        "photos": [_photo_name(entry, i) for i, _ in enumerate(entry.photos)],
        "created_at": iso(entry.created_at), "updated_at": iso(entry.updated_at),
    }


def export_scope(session: Session, user: User) -> ExportScope:
    memberships = list(session.scalars(
        select(Membership).where(Membership.user_id == user.id).order_by(Membership.id)
        .options(selectinload(Membership.family).selectinload(Family.children))))
    return ExportScope(user=user, memberships=memberships)


def write_export(session: Session, user: User, store: PhotoStore,
                 target: str | Path | IO[bytes], registry: ExportRegistry,
                 now: datetime | None = None) -> list[str]:
    """Write the person's export as a zip to `target` (a path or a binary file on disk).

    Returns the names in the zip. See the module's docstring for who gets what."""
    scope = export_scope(session, user)
    children = scope.children
    entries = list(session.scalars(
        select(Entry).where(Entry.child_id.in_(scope.child_ids))
        .order_by(Entry.child_id, Entry.occurred_at, Entry.id)
        .options(selectinload(Entry.photos), selectinload(Entry.measurement),
                 selectinload(Entry.author)))) if children else []
    document: dict[str, Any] = {
        "exported_at": iso(now or utcnow()),
        "account": _user_dict(user),
        "families": [_family_dict(m) for m in scope.memberships],
        "entries": [_entry_dict(e) for e in entries],
    }
    for key, section in registry.sections.items():
        document[key] = section.collect(session, scope)
    diary = bool(scope.diary_families)
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("README.txt", _README_DIARY if diary else _README_ACCOUNT)
        with _text_member(archive, "data.json") as out:
            json.dump(document, out, ensure_ascii=False, indent=2)
        if diary:
            names = {c.id: c.name for c in children}
            with _text_member(archive, "entries.csv") as out:
                csvsafe.writer(out, ENTRY_COLUMNS).writerows(_entry_rows(entries, names))
            with _text_member(archive, "children.csv") as out:
                csvsafe.writer(out, CHILD_COLUMNS).writerows(_child_dict(c) for c in children)
            for entry in entries:
                for position, photo in enumerate(entry.photos):
                    path = store.path(photo.storage_key, "full")
                    if path.exists():  # JPEGs do not deflate: stored as they are
                        archive.write(path, _photo_name(entry, position),
                                      compress_type=zipfile.ZIP_STORED)
        return archive.namelist()


def _text_member(archive: zipfile.ZipFile, name: str) -> io.TextIOWrapper:
    """A text stream that writes straight into the zip member `name` (UTF-8)."""
    return io.TextIOWrapper(archive.open(name, "w"), encoding="utf-8", newline="")


def _entry_rows(entries: list[Entry], names: dict[int, str]) -> Iterable[dict[str, Any]]:
    for e in entries:
        m = e.measurement
        yield {
            "entry_id": e.id, "child_id": e.child_id, "child_name": names.get(e.child_id),
            "kind": e.kind, "occurred_at_utc": iso(e.occurred_at), "title": e.title,
            "body": e.body, "author": e.author.display_name if e.author else "",
            "weight_kg": m.weight_kg if m else "", "length_cm": m.length_cm if m else "",
            "head_cm": m.head_cm if m else "",
            "details": json.dumps(e.data, ensure_ascii=False) if e.data else "",
            "photos": " ".join(_photo_name(e, i) for i, _ in enumerate(e.photos)),
        }


_README_ACCOUNT = """Your Baby Journey data export
data.json     everything about you, in one structured file (times in UTC, ISO 8601): your
              account, consents, families you belong to, inbox messages, saved items, email
              preferences, deliveries, email clicks, what you did with suggestions
              (interactions) and shop purchases, invitations and earlier exports

You are not an owner or editor of a family (viewers only look), so no family's diary and
photos are in this export: the family's owners and editors can download those.
"""

_README_DIARY = """Your Baby Journey data export
data.json     everything, in one structured file (times in UTC, ISO 8601): your account,
              consents, families and children, every entry, inbox messages, saved items,
              email preferences, deliveries, email clicks, what you did with suggestions
              (interactions) and shop purchases, journeys, invitations and earlier exports
entries.csv   the timeline entries, one per row (opens in spreadsheet apps)
children.csv  the children's details
photos/       every photo, by child and entry

Spreadsheet cells that start with = + - or @ begin with an apostrophe, so that no text
anyone typed can run as a formula.

Families where you are a viewer are listed in data.json, without their diary and photos.
"""


@dataclass(frozen=True)
class FamilyFate:
    """What deleting an account does to one of its families (shown before, done after)."""

    family: Family
    successor: User | None  # the caregiver who becomes owner; None: nothing changes or …
    deleted: bool  # … the family goes (its last member leaves)


def _successor(family: Family, leaving: User) -> User | None:
    """Who takes over a family whose only owner leaves: another owner needs nothing; else
    the longest-standing editor (they already write the book), else the longest-standing
    viewer; None when nobody else is in the family."""
    others = [m for m in family.memberships if m.user_id != leaving.id]
    for role in (Role.EDITOR.value, Role.VIEWER.value):
        ranked = sorted((m for m in others if m.role == role), key=lambda m: (m.joined_at, m.id))
        if ranked:
            return ranked[0].user
    return None


def leaving_plan(session: Session, user: User) -> list[FamilyFate]:
    """For each family of `user`: kept as is (other owners remain, or they were not an
    owner), handed to a successor, or deleted (nobody else is in it)."""
    fates = []
    for membership in user.memberships:
        family = membership.family
        if not membership.is_owner or invitations.owners_count(session, family.id) > 1:
            fates.append(FamilyFate(family, None, False))
            continue
        successor = _successor(family, user)
        fates.append(FamilyFate(family, successor, successor is None))
    return fates


def delete_account(session: Session, user: User) -> list[str]:
    """Remove the user. A family they alone owned passes to another caregiver (who is told
    by email): the editors' entries and photos are theirs too and must not vanish with the
    owner. Only a family with nobody else in it is removed with its data.

    Returns the photo storage keys to delete from disk once the transaction has committed.
    """
    doomed_keys: list[str] = []
    for fate in leaving_plan(session, user):
        if fate.deleted:
            doomed_keys.extend(_delete_family(session, fate.family))
            continue
        if fate.successor is not None:
            _hand_over(session, fate.family, fate.successor, user)
        mine = next(m for m in fate.family.memberships if m.user_id == user.id)
        session.delete(mine)
    session.flush()
    session.expire(user, ["memberships"])  # those rows are gone (or gone with their families)
    session.delete(user)
    session.flush()
    return doomed_keys


def _hand_over(session: Session, family: Family, successor: User, former: User) -> None:
    membership = next(m for m in family.memberships if m.user_id == successor.id)
    membership.role = Role.OWNER.value
    account_mail.queue(session, account_mail.FAMILY_OWNER, successor.email, user=successor,
                       locale=successor.locale, family=family.name,
                       former=former.display_name)


def _delete_family(session: Session, family: Family) -> list[str]:
    keys = _forget_entries(session, [c.id for c in family.children])
    session.delete(family)
    return keys


def delete_child(session: Session, child: Child) -> list[str]:
    """Remove a child and their whole book; photo keys come back for deletion after commit."""
    keys = _forget_entries(session, [child.id])
    session.delete(child)
    session.flush()
    return keys


def _forget_entries(session: Session, child_ids: list[int]) -> list[str]:
    entries = list(session.scalars(select(Entry).where(Entry.child_id.in_(child_ids))
                                   .options(selectinload(Entry.photos))))
    search.unindex(session, [e.id for e in entries])
    return [p.storage_key for e in entries for p in e.photos]
