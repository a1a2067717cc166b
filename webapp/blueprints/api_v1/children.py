"""GET /api/v1/children and /api/v1/children/{id}: the children of the caller's families."""
from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from diary import families
from diary.models import Child, Membership
from webapp.blueprints.api_v1.framework import Call, endpoint


class ChildOut(BaseModel):
    id: int
    family_id: int
    name: str
    sex: str | None
    due_date: date | None
    birth_date: date | None
    is_born: bool
    #: The family's time zone: entries' local days are counted in it.
    timezone: str
    #: Whether the caller's role in the family may add and change entries.
    can_write: bool


class ChildrenOut(BaseModel):
    children: list[ChildOut]


def child_out(child: Child, membership: Membership) -> ChildOut:
    return ChildOut(id=child.id, family_id=child.family_id, name=child.name, sex=child.sex,
                    due_date=child.due_date, birth_date=child.birth_date,
                    is_born=child.is_born, timezone=child.family.timezone,
                    can_write=membership.can_write)


@endpoint("GET", "/children", tag="Children", summary="Your children", response=ChildrenOut,
          description="Every child of every family you belong to, families in the order "
                      "you joined them.")
def list_children(call: Call) -> ChildrenOut:
    memberships = {m.family_id: m for m in families.memberships_of(call.session, call.user)}
    return ChildrenOut(children=[child_out(c, memberships[c.family_id])
                                 for c in families.children_of(call.session, call.user)])


@endpoint("GET", "/children/<int:child_id>", tag="Children", summary="One child",
          response=ChildOut)
def get_child(call: Call, child_id: int) -> ChildOut:
    child, membership = families.child_access(call.session, call.user, child_id)
    return child_out(child, membership)
