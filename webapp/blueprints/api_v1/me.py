"""GET/PATCH /api/v1/me: the caller's own profile."""
from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from diary import accounts
from diary.models import User
from webapp.blueprints.api_v1.framework import WRITE, Call, endpoint
from webapp.database import transaction


class MeOut(BaseModel):
    id: int
    member_no: str
    email: str
    display_name: str
    locale: str
    timezone: str
    unit_system: str
    interests: list[str]
    phone: str | None
    region_province: str | None
    region_city: str | None
    birthday: date | None
    #: What the token calling may do ("read" or "write"); "session" for the web session.
    scope: str


class MeUpdate(BaseModel):
    """Only the fields sent change; the same rules as the account page apply."""

    model_config = ConfigDict(extra="forbid", json_schema_extra={
        "examples": [{"display_name": "Lin", "locale": "zh_CN", "timezone": "Asia/Shanghai"}]})

    display_name: str | None = Field(None, min_length=1, max_length=80)
    locale: Literal["en", "zh_CN"] | None = None
    timezone: str | None = Field(None, max_length=64)
    unit_system: str | None = Field(None, max_length=8)
    interests: list[str] | None = Field(None, max_length=50)
    phone: str | None = Field(None, max_length=32)
    region_province: str | None = Field(None, max_length=80)
    region_city: str | None = Field(None, max_length=80)
    birthday: date | None = None


def _me(call: Call, user: User) -> MeOut:
    return MeOut(id=user.id, member_no=user.member_no, email=user.email,
                 display_name=user.display_name, locale=user.locale, timezone=user.timezone,
                 unit_system=user.unit_system, interests=list(user.interests or []),
                 phone=user.phone, region_province=user.region_province,
                 region_city=user.region_city, birthday=user.birthday,
                 scope=call.token.scope if call.token is not None else "session")


@endpoint("GET", "/me", tag="Profile", summary="Your profile", response=MeOut)
def get_me(call: Call) -> MeOut:
    return _me(call, call.user)


@endpoint("PATCH", "/me", tag="Profile", summary="Change your profile", scope=WRITE,
          body=MeUpdate, response=MeOut)
def patch_me(call: Call) -> MeOut:
    user = call.user
    changes = call.body.model_dump(exclude_unset=True)
    with transaction():
        accounts.apply_profile(user, replace(accounts.profile_of(user), **{
            k: v for k, v in changes.items()
            if v is not None or k in ("phone", "region_province", "region_city", "birthday")}))
    return _me(call, user)
