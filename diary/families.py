"""Families, children and who may see them.

Every route that names a child, entry or photo goes through `child_for` / `entry_for` /
`photo_for` here: a person outside the family gets NotFound (so the URL reveals nothing), a
viewer who tries to write gets PermissionDenied.
"""
from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from sqlalchemy import Select, bindparam, select, update
from sqlalchemy.orm import Session, selectinload
from sqlalchemy.orm.attributes import set_committed_value

from diary import age as agemath
from diary.errors import N_, NotFound, PermissionDenied, ValidationError
from diary.locales import words
from diary.models import Child, Entry, Family, Membership, Photo, Relationship, Role, User

SEXES = ("female", "male")
RELATIONSHIPS = tuple(r.value for r in Relationship)
ROLES = tuple(r.value for r in Role)


@dataclass
class ChildDetails:
    """What a parent tells us about a baby, expected or born."""

    name: str
    due_date: date | None = None
    birth_date: date | None = None
    sex: str | None = None
    gestational_weeks: int | None = None
    gestational_days: int | None = None
    birth_weight_kg: float | None = None
    birth_length_cm: float | None = None
    birth_head_cm: float | None = None

    def validate(self, today: date) -> None:
        """Raise ValidationError naming the first field that cannot be right."""
        if not (self.name or "").strip():
            raise ValidationError(N_("Please give the baby a name or a nickname."), "name")
        if len(self.name.strip()) > 60:
            raise ValidationError(N_("Please keep the name under 60 characters."), "name")
        if self.sex is not None and self.sex not in SEXES:
            raise ValidationError(N_("Please choose girl or boy."), "sex")
        if self.birth_date is None:
            self._validate_expected(today)
        else:
            self._validate_born(today)

    def _validate_expected(self, today: date) -> None:
        if self.due_date is None:
            raise ValidationError(N_("Please enter the due date."), "due_date")
        if self.due_date > today + timedelta(days=agemath.FULL_TERM_DAYS):
            raise ValidationError(N_("The due date is more than 40 weeks away."), "due_date")
        if self.due_date < today - timedelta(weeks=4):
            raise ValidationError(
                N_("The due date is more than 4 weeks ago. If the baby has arrived, "
                   "choose “Born” and enter the birth date."), "due_date")

    def _validate_born(self, today: date) -> None:
        assert self.birth_date is not None
        if self.birth_date > today:
            raise ValidationError(N_("The birth date cannot be in the future."), "birth_date")
        if self.birth_date < today - timedelta(days=6 * 366):
            raise ValidationError(N_("This site follows children up to 6 years old."), "birth_date")
        if self.sex is None:
            raise ValidationError(N_("Please choose girl or boy (growth charts differ)."), "sex")
        if self.gestational_weeks is not None:
            try:
                agemath.gestation_days_at_birth(self.gestational_weeks,
                                                self.gestational_days or 0)
            except ValueError:
                raise ValidationError(
                    N_("Gestational age at birth must be between 22+0 and 44+6 weeks."),
                    "gestational_weeks") from None
        _check_range(self.birth_weight_kg, 0.3, 7.0, "birth_weight", N_("Birth weight"), "kg")
        _check_range(self.birth_length_cm, 20, 65, "birth_length", N_("Birth length"), "cm")
        _check_range(self.birth_head_cm, 15, 45, "birth_head", N_("Head circumference"), "cm")


def _check_range(value: float | None, low: float, high: float, field: str, label: str,
                 unit: str) -> None:
    if value is not None and not low <= value <= high:
        raise ValidationError(N_("%(label)s should be between %(low)s and %(high)s %(unit)s."),
                              field, label=label, low=f"{low:g}", high=f"{high:g}", unit=unit)


def create_family(session: Session, owner: User, relationship: str, name: str | None = None,
                  timezone: str | None = None) -> Family:
    if relationship not in RELATIONSHIPS:
        raise ValidationError(N_("Please choose your relationship to the baby."), "relationship")
    default = words(owner.locale).gettext("%(name)s's family", name=owner.display_name)
    family = Family(name=(name or default)[:80],
                    timezone=timezone or owner.timezone)
    family.memberships.append(
        Membership(user=owner, role=Role.OWNER.value, relationship_to_child=relationship))
    session.add(family)
    session.flush()
    return family


def add_child(session: Session, family: Family, details: ChildDetails) -> Child:
    details.validate(agemath.local_today(family.timezone))
    child = Child(family=family, name=details.name.strip())
    _apply(child, details)
    session.add(child)
    session.flush()
    return child


def signals_changed(session: Session, child_ids: Iterable[int] = (),
                    user_ids: Iterable[int] = ()) -> None:
    """Something suggestions read changed for these children, or for every child in the
    families of these people (a person's own history shapes their suggestions for each of
    their children): their `signals_version` goes up, in the caller's transaction."""
    children, users = sorted(set(child_ids)), sorted(set(user_ids))
    if not children and not users:
        return
    in_families = select(Membership.family_id).where(Membership.user_id.in_(users))
    wanted = Child.id.in_(children) | Child.family_id.in_(in_families) if users \
        else Child.id.in_(children)
    session.execute(update(Child).where(wanted)
                    .values(signals_version=Child.signals_version + 1)
                    .execution_options(synchronize_session=False))


def update_child(child: Child, details: ChildDetails) -> None:
    details.validate(agemath.local_today(child.family.timezone))
    child.name = details.name.strip()
    _apply(child, details)


def record_birth(child: Child, details: ChildDetails) -> None:
    """"The baby has arrived": keep the due date, add what we learn at birth."""
    if child.is_born:
        raise ValidationError(N_("This baby's birth is already recorded."))
    if details.birth_date is None:
        raise ValidationError(N_("Please enter the birth date."), "birth_date")
    details.due_date = child.due_date
    if details.gestational_weeks is None and child.due_date is not None:
        # Infer gestation at birth from the due date when the parent leaves it blank.
        ga = agemath.FULL_TERM_DAYS - (child.due_date - details.birth_date).days
        if 22 * 7 <= ga <= 44 * 7 + 6:
            details.gestational_weeks, details.gestational_days = divmod(ga, 7)
    update_child(child, details)


def _apply(child: Child, d: ChildDetails) -> None:
    child.sex = d.sex
    child.due_date = d.due_date
    child.birth_date = d.birth_date
    child.gestational_weeks_at_birth = d.gestational_weeks
    child.gestational_days_at_birth = (d.gestational_days or 0) if d.gestational_weeks else None
    child.birth_weight_kg = d.birth_weight_kg
    child.birth_length_cm = d.birth_length_cm
    child.birth_head_cm = d.birth_head_cm


# --- who may see what -------------------------------------------------------------------

def memberships_of(session: Session, user: User) -> list[Membership]:
    return list(session.scalars(
        select(Membership).where(Membership.user_id == user.id)
        .options(selectinload(Membership.family).selectinload(Family.children))
        .order_by(Membership.id)
    ))


#: Every child of every family the user is in, with the user's membership and the family
#: as an entity of its own (explicit joins, no loader options), families in the order
#: joined: read alone (`children_of`, `child_and_siblings`) or by `db.one_trip_with_entities`
#: beside a page's other reads (`children_query`). Built once: the child home asks on every
#: visit.
_CHILDREN_OF = (select(Child, Membership, Family)
                .join(Membership, Membership.family_id == Child.family_id)
                .join(Family, Family.id == Child.family_id)
                .where(Membership.user_id == bindparam("user_id"))
                .order_by(Membership.id, Child.id))


def _with_families(rows: Sequence[Sequence[Any]]) -> None:
    """Hand each (child, membership, family) row's child its family, as joinedload would: no
    query when it is asked for, and the child keeps it alive in the session's weakly held
    identity map."""
    for child, _membership, family in rows:
        set_committed_value(child, "family", family)


def _in_order(rows: Sequence[Sequence[Any]]) -> list[Sequence[Any]]:
    """The rows of `_CHILDREN_OF` in its order (families joined, then child id), sorted here:
    inside db.one_trip's UNION ALL a statement's order is not promised."""
    ordered = sorted(rows, key=lambda row: (row[1].id, row[0].id))
    _with_families(ordered)
    return ordered


def children_with_memberships(session: Session, user: User) -> list[tuple[Child, Membership]]:
    """Every child the user may see, each with the user's membership of its family (what
    they may do there: the dashboard offers "add" only where they may write)."""
    return [(row[0], row[1]) for row in _in_order(
        session.execute(_CHILDREN_OF, {"user_id": user.id}).all())]


def children_of(session: Session, user: User) -> list[Child]:
    return [child for child, _membership in children_with_memberships(session, user)]


def children_query(user: User) -> tuple[Select[Child, Membership, Family], dict[str, Any]]:
    """Every child the user may see, with their membership and family, as the entities of
    a `db.one_trip_with_entities` call; `child_and_siblings_in` reads its rows."""
    return _CHILDREN_OF, {"user_id": user.id}


def child_and_siblings_in(rows: Sequence[Sequence[Any]], child_id: int, write: bool = False
                          ) -> tuple[Child, Membership, list[Child]]:
    """`child_and_siblings`' answer in the rows of `children_query`: NotFound unless the
    child is in one of the user's families; the children in the order of the families
    joined, then of birth into the site."""
    rows = _in_order(rows)
    for child, membership, _family in rows:
        if child.id == child_id:
            return child, _require(membership, write), [row[0] for row in rows]
    raise NotFound()


def child_and_siblings(session: Session, user: User, child_id: int, write: bool = False
                       ) -> tuple[Child, Membership, list[Child]]:
    """`child_access` and `children_of` in one query (the child home shows a switcher
    between every child the user may see): NotFound unless the child is in one of the user's
    families."""
    return child_and_siblings_in(
        session.execute(_CHILDREN_OF, {"user_id": user.id}).all(), child_id, write)


def membership_in(session: Session, user: User, family_id: int) -> Membership | None:
    return session.scalar(select(Membership).where(
        Membership.user_id == user.id, Membership.family_id == family_id))


def _require(membership: Membership | None, write: bool, owner: bool = False) -> Membership:
    if membership is None:
        raise NotFound()
    if owner and not membership.is_owner:
        raise PermissionDenied(N_("Only the family's owners can do that."))
    if write and not membership.can_write:
        raise PermissionDenied()
    return membership


def family_for(session: Session, user: User, family_id: int, owner: bool = False) -> Membership:
    return _require(membership_in(session, user, family_id), write=owner, owner=owner)


def child_for(session: Session, user: User, child_id: int, write: bool = False) -> Child:
    return child_access(session, user, child_id, write)[0]


#: Every child page asks this, alone (`child_access`) or beside the page's other reads
#: (`access_query`); built once (see diary.sessions._USER_FOR for why). The family is an
#: entity of its own, handed to the child (`_with_families`).
_CHILD_ACCESS = (select(Child, Membership, Family)
                 .join(Membership, Membership.family_id == Child.family_id)
                 .join(Family, Family.id == Child.family_id)
                 .where(Child.id == bindparam("child_id"),
                        Membership.user_id == bindparam("user_id")))


def access_query(user: User, child_id: int
                 ) -> tuple[Select[Child, Membership, Family], dict[str, Any]]:
    """`child_access`' read as the entities of a `db.one_trip_with_entities` call;
    `child_access_in` reads its rows."""
    return _CHILD_ACCESS, {"child_id": child_id, "user_id": user.id}


def child_access_in(rows: Sequence[Sequence[Any]], write: bool = False
                    ) -> tuple[Child, Membership]:
    """`child_access`' answer in the rows of `access_query`: NotFound without a row."""
    if not rows:
        raise NotFound()
    _with_families(rows[:1])
    child, membership, _family = rows[0]
    return child, _require(membership, write)


def child_access(session: Session, user: User, child_id: int,
                 write: bool = False) -> tuple[Child, Membership]:
    """The child and the user's membership in its family, in one query (pages need both)."""
    statement, params = access_query(user, child_id)
    return child_access_in(session.execute(statement, params).all(), write)


def entry_for(session: Session, user: User, entry_id: int, write: bool = False) -> Entry:
    return entry_access(session, user, entry_id, write)[0]


def entry_access(session: Session, user: User, entry_id: int,
                 write: bool = False) -> tuple[Entry, Membership]:
    """The entry and the user's membership in its child's family, in one query."""
    row = session.execute(
        select(Entry, Membership)
        .join(Child, Child.id == Entry.child_id)
        .join(Membership, Membership.family_id == Child.family_id)
        .where(Entry.id == entry_id, Membership.user_id == user.id)
    ).first()
    if row is None:
        raise NotFound()
    entry, membership = row
    return entry, _require(membership, write)


def photo_for(session: Session, user: User, photo_id: int) -> Photo:
    photo = session.get(Photo, photo_id)
    if photo is None:
        raise NotFound()
    _require(membership_in(session, user, photo.entry.child.family_id), write=False)
    return photo
