"""The one friendly sign-up flow: the parent, their consents, the family and the baby.

Everything is written in the caller's single transaction, so a failure anywhere (a taken
email, an impossible birth date) leaves nothing half-created.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from diary import accounts, families
from diary.errors import N_, ValidationError
from diary.models import Child, Consent, Family, User


@dataclass
class Registration:
    email: str
    password: str
    profile: accounts.Profile
    relationship: str
    child_data_consent: bool
    digest_opt_in: bool
    marketing_opt_in: bool
    child: families.ChildDetails | None  # None when joining through an invitation


@dataclass
class Registered:
    user: User
    family: Family | None
    child: Child | None


def register(session: Session, reg: Registration, policy_version: str) -> Registered:
    if not reg.child_data_consent:
        raise ValidationError(
            N_("We can only keep your baby's book if you agree to us storing your child's data."),
            "child_data_consent")
    user = accounts.create_user(session, reg.email, reg.password, reg.profile)
    accounts.record_consent(session, user, Consent.CHILD_DATA, True, "registration",
                            policy_version)
    accounts.record_consent(session, user, Consent.DIGEST, reg.digest_opt_in, "registration",
                            policy_version)
    accounts.record_consent(session, user, Consent.MARKETING, reg.marketing_opt_in,
                            "registration", policy_version)
    family = child = None
    if reg.child is not None:
        family = families.create_family(session, user, reg.relationship)
        child = families.add_child(session, family, reg.child)
    return Registered(user, family, child)
