"""The parent's rights over their data: download everything, and delete the account."""
from __future__ import annotations

import csv
import io
import json
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from diary import account_mail, invitations, search
from diary.models import Child, Entry, Family, Membership, Role, User
from diary.photos import PhotoStore
from clock import utcnow

ENTRY_COLUMNS = ["entry_id", "child_id", "child_name", "kind", "occurred_at_utc", "title", "body",
                 "author", "weight_kg", "length_cm", "head_cm", "details", "photos"]


def _iso(value: Any) -> Any:
    return value.isoformat() if isinstance(value, (date, datetime)) else value


def _user_dict(user: User) -> dict[str, Any]:
    fields = ("member_no", "email", "display_name", "timezone", "locale", "unit_system", "phone",
              "region_province", "region_city", "interests", "digest_opt_in",
              "marketing_opt_in", "created_at", "last_login_at")
    data = {name: _iso(getattr(user, name)) for name in fields}
    data["consents"] = [
        {"kind": c.kind, "granted": c.granted, "policy_version": c.policy_version,
         "source": c.source, "recorded_at": _iso(c.recorded_at)} for c in user.consents]
    return data


def _child_dict(child: Child) -> dict[str, Any]:
    fields = ("id", "name", "sex", "due_date", "birth_date", "gestational_weeks_at_birth",
              "gestational_days_at_birth", "birth_weight_kg", "birth_length_cm", "birth_head_cm")
    return {name: _iso(getattr(child, name)) for name in fields}


def _photo_name(entry: Entry, position: int) -> str:
    return f"photos/child-{entry.child_id}/entry-{entry.id}-{position + 1}.jpg"


def _entry_dict(entry: Entry) -> dict[str, Any]:
    m = entry.measurement
    return {
        "id": entry.id, "child_id": entry.child_id, "kind": entry.kind,
        "occurred_at": _iso(entry.occurred_at), "title": entry.title, "body": entry.body,
        "details": entry.data, "author": entry.author.display_name if entry.author else None,
        "measurement": None if m is None else
        {"weight_kg": m.weight_kg, "length_cm": m.length_cm, "head_cm": m.head_cm},
        "photos": [_photo_name(entry, i) for i, _ in enumerate(entry.photos)],
        "created_at": _iso(entry.created_at), "updated_at": _iso(entry.updated_at),
    }


def export_zip(session: Session, user: User, store: PhotoStore) -> bytes:
    """A zip with data.json, CSV files and every photo of every family the user is in."""
    memberships = list(session.scalars(
        select(Membership).where(Membership.user_id == user.id)
        .options(selectinload(Membership.family).selectinload(Family.children))))
    children = [c for m in memberships for c in m.family.children]
    entries = list(session.scalars(
        select(Entry).where(Entry.child_id.in_([c.id for c in children]))
        .order_by(Entry.child_id, Entry.occurred_at)
        .options(selectinload(Entry.photos), selectinload(Entry.measurement),
                 selectinload(Entry.author))))
    names = {c.id: c.name for c in children}
    document = {
        "exported_at": _iso(utcnow()),
        "account": _user_dict(user),
        "families": [{"name": m.family.name, "timezone": m.family.timezone, "role": m.role,
                      "relationship": m.relationship_to_child,
                      "children": [_child_dict(c) for c in m.family.children]}
                     for m in memberships],
        "entries": [_entry_dict(e) for e in entries],
    }
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("data.json", json.dumps(document, ensure_ascii=False, indent=2))
        archive.writestr("entries.csv", _entries_csv(entries, names))
        archive.writestr("children.csv", _rows_csv(
            [_child_dict(c) for c in children],
            ["id", "name", "sex", "due_date", "birth_date", "gestational_weeks_at_birth",
             "gestational_days_at_birth", "birth_weight_kg", "birth_length_cm",
             "birth_head_cm"]))
        archive.writestr("README.txt", _README)
        for entry in entries:
            for position, photo in enumerate(entry.photos):
                path = store.path(photo.storage_key, "full")
                if path.exists():
                    archive.write(path, _photo_name(entry, position))
    return buffer.getvalue()


def _entries_csv(entries: list[Entry], names: dict[int, str]) -> str:
    rows = []
    for e in entries:
        m = e.measurement
        rows.append({
            "entry_id": e.id, "child_id": e.child_id, "child_name": names.get(e.child_id),
            "kind": e.kind, "occurred_at_utc": _iso(e.occurred_at), "title": e.title,
            "body": e.body, "author": e.author.display_name if e.author else "",
            "weight_kg": m.weight_kg if m else "", "length_cm": m.length_cm if m else "",
            "head_cm": m.head_cm if m else "",
            "details": json.dumps(e.data, ensure_ascii=False) if e.data else "",
            "photos": " ".join(_photo_name(e, i) for i, _ in enumerate(e.photos)),
        })
    return _rows_csv(rows, ENTRY_COLUMNS)


def _rows_csv(rows: list[dict[str, Any]], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, extrasaction="ignore")
    writer.writeheader()
    writer.writerows(rows)
    return "\ufeff" + out.getvalue()  # BOM so spreadsheet apps read Chinese correctly


_README = """Your Baby Journey data export
data.json     everything, in one structured file (times in UTC, ISO 8601)
entries.csv   the timeline entries, one per row (opens in spreadsheet apps)
children.csv  the children's details
photos/       every photo, by child and entry
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
