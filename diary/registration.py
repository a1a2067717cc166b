"""The one friendly sign-up flow: the parent, their consents, the family and the baby.

Everything is written in the caller's single transaction, so a failure anywhere (a taken
email, an impossible birth date) leaves nothing half-created.
"""
from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from diary import accounts, families
from diary import age as agemath
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


def sign_up(session: Session, reg: Registration, policy_version: str) -> Registered | None:
    """The public sign-up: the same answer for a new address and one that has an account.

    Everything the person typed is checked first (so a mistake is reported the same way
    whoever owns the address). Then a new address gets its account, family and baby, and a
    link to prove the address; an address that has an account gets a notice instead ("was
    this you? sign in or reset your password"), after the same password work, and None comes
    back. Either way the caller says "check your inbox" and signs nobody in.
    """
    validate(reg)
    existing = accounts.find_user_by_email(session, reg.email)
    if existing is not None:
        accounts.spend_password_work(reg.password)
        accounts.notify_address_in_use(session, existing)
        return None
    done = register(session, reg, policy_version)
    accounts.send_address_check(session, done.user)
    return done


def validate(reg: Registration) -> None:
    """Every check that does not need the database, in the order the form shows fields."""
    _require_consent(reg)
    accounts.normalise_email(reg.email)
    accounts.validate_password(reg.password)
    profile = reg.profile.validated()
    if reg.child is not None:
        reg.child.validate(agemath.local_today(profile.timezone))
    if reg.child is not None and reg.relationship not in families.RELATIONSHIPS:
        raise ValidationError(N_("Please choose your relationship to the baby."), "relationship")


def _require_consent(reg: Registration) -> None:
    if not reg.child_data_consent:
        raise ValidationError(
            N_("We can only keep your baby's book if you agree to us storing your child's data."),
            "child_data_consent")


def register(session: Session, reg: Registration, policy_version: str) -> Registered:
    """Create the account (and family and baby) as given; Conflict if the address is taken.
    For trusted callers (invitations, staff tools, tests); the public form uses `sign_up`."""
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
