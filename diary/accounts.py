"""Accounts: registration, sign-in, profile changes, consents, staff and password resets."""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clock import utcnow
from diary import account_mail, passwords, sessions, tokens
from diary.age import local_today
from diary.errors import N_, Conflict, ValidationError
from diary.locales import LOCALES
from diary.models import Consent, StaffRole, User
from diary.units import UNIT_SYSTEMS
from diary.vocabulary import INTERESTS

#: The earliest birthday a parent may give (anything older is a typo).
EARLIEST_BIRTHDAY = date(1900, 1, 1)
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def normalise_email(email: str) -> str:
    email = (email or "").strip().lower()
    if not _EMAIL.match(email) or len(email) > 254:
        raise ValidationError(N_("Please enter a valid email address."), "email")
    return email


def validate_timezone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValidationError(N_("Unknown time zone %(name)s."), "timezone", name=name) from None
    return name


def validate_password(password: str) -> str:
    if len(password or "") < passwords.MIN_LENGTH:
        raise ValidationError(N_("Use at least %(count)d characters for your password."),
                              "password", count=passwords.MIN_LENGTH)
    return password


@dataclass
class Profile:
    """What a parent tells us about themselves (registration and the account page)."""

    display_name: str
    timezone: str = "Asia/Shanghai"
    locale: str = "en"
    unit_system: str = "metric"
    interests: list[str] = field(default_factory=list)
    phone: str | None = None
    region_province: str | None = None
    region_city: str | None = None
    #: The parent's own birthday (optional), for the birthday greeting.
    birthday: date | None = None

    def validated(self) -> Profile:
        name = (self.display_name or "").strip()
        if not name:
            raise ValidationError(N_("Please tell us your name."), "display_name")
        if self.locale not in LOCALES:
            raise ValidationError(N_("Choose English or 简体中文."), "locale")
        if self.unit_system not in UNIT_SYSTEMS:
            raise ValidationError(N_("Choose metric or imperial units."), "unit_system")
        unknown = set(self.interests) - set(INTERESTS)
        if unknown:
            raise ValidationError(N_("Unknown interests: %(names)s."), "interests",
                                  names=", ".join(sorted(unknown)))
        phone = (self.phone or "").strip() or None
        if phone and not re.fullmatch(r"\+?[0-9 ()-]{5,20}", phone):
            raise ValidationError(N_("Please enter a phone number using digits only."), "phone")
        timezone = validate_timezone(self.timezone)
        if self.birthday is not None:
            if self.birthday < EARLIEST_BIRTHDAY:
                raise ValidationError(N_("Please enter a birthday from %(date)s on."),
                                      "birthday", date=EARLIEST_BIRTHDAY.isoformat())
            if self.birthday > local_today(timezone):
                raise ValidationError(N_("Your birthday cannot be in the future."), "birthday")
        return Profile(
            display_name=name[:80],
            timezone=timezone,
            locale=self.locale,
            unit_system=self.unit_system,
            interests=sorted(set(self.interests)),
            phone=phone,
            region_province=(self.region_province or "").strip()[:80] or None,
            region_city=(self.region_city or "").strip()[:80] or None,
            birthday=self.birthday,
        )


def _new_member_no(session: Session) -> str:
    while True:
        candidate = f"BJ{secrets.randbelow(10**8):08d}"
        if session.scalar(select(User.id).where(User.member_no == candidate)) is None:
            return candidate


def find_user_by_email(session: Session, email: str) -> User | None:
    return session.scalar(select(User).where(User.email == email.strip().lower()))


def create_user(session: Session, email: str, password: str, profile: Profile) -> User:
    """A new account with a member number; raises Conflict when the email is taken."""
    email = normalise_email(email)
    validate_password(password)
    profile = profile.validated()
    if find_user_by_email(session, email) is not None:
        raise Conflict(N_("An account with this email already exists. Try signing in."), "email")
    user = User(
        email=email,
        password_hash=passwords.hash_password(password),
        member_no=_new_member_no(session),
        security_stamp=secrets.token_hex(16),
        interests=[],
    )
    apply_profile(user, profile)
    session.add(user)
    session.flush()
    return user


def profile_of(user: User) -> Profile:
    """The person's profile as it is stored: the start of a change to a few of its fields
    (`dataclasses.replace(profile_of(user), locale="zh_CN")`, then `apply_profile`)."""
    return Profile(display_name=user.display_name, timezone=user.timezone, locale=user.locale,
                   unit_system=user.unit_system, interests=list(user.interests or []),
                   phone=user.phone, region_province=user.region_province,
                   region_city=user.region_city, birthday=user.birthday)


def apply_profile(user: User, profile: Profile) -> None:
    profile = profile.validated()
    for name in ("display_name", "timezone", "locale", "unit_system", "interests", "phone",
                 "region_province", "region_city", "birthday"):
        setattr(user, name, getattr(profile, name))


def record_consent(session: Session, user: User, kind: str, granted: bool, source: str,
                   policy_version: str) -> Consent:
    """Append a consent record and keep the user's current flags in step."""
    if kind not in Consent.KINDS:
        raise ValueError(kind)
    consent = Consent(user=user, kind=kind, granted=granted, source=source,
                      policy_version=policy_version, recorded_at=utcnow())
    session.add(consent)
    if kind == Consent.MARKETING:
        user.marketing_opt_in = granted
    elif kind == Consent.DIGEST:
        user.digest_opt_in = granted
    return consent


def current_consent(session: Session, user: User, kind: str) -> Consent | None:
    return session.scalar(
        select(Consent)
        .where(Consent.user_id == user.id, Consent.kind == kind)
        .order_by(Consent.recorded_at.desc(), Consent.id.desc())
        .limit(1)
    )


def spend_password_work(password: str) -> None:
    """Hash a password for nothing: the paths that turn out to need no hash (an address that
    already has an account) take as long as those that do, so timing tells nothing."""
    passwords.verify_password(_DUMMY_HASH, password or "")


def authenticate(session: Session, email: str, password: str) -> User | None:
    """The active user with these credentials, or None. Upgrades old hashes on the way."""
    user = find_user_by_email(session, email or "")
    if user is None or not user.is_active:
        spend_password_work(password)  # same work either way
        return None
    if not passwords.verify_password(user.password_hash, password or ""):
        return None
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = user.last_seen_at = utcnow()  # signing in is a visit
    return user


_DUMMY_HASH = passwords.hash_password(secrets.token_hex(8))


def set_password(user: User, new_password: str) -> None:
    """New hash and a new security stamp: open reset links and remember-me cookies die."""
    validate_password(new_password)
    user.password_hash = passwords.hash_password(new_password)
    user.security_stamp = secrets.token_hex(16)


def require_password(user: User, password: str) -> None:
    """Re-check the password before sensitive changes (email, password, deletion)."""
    if not passwords.verify_password(user.password_hash, password or ""):
        raise ValidationError(N_("Your current password is not right."), "current_password")


def change_password(user: User, current_password: str, new_password: str) -> None:
    require_password(user, current_password)
    set_password(user, new_password)


#: Per address: resets and "your address is in use" notices in one hour, at most.
RESETS_PER_HOUR = 3
NOTICES_PER_HOUR = 1


def request_email_change(session: Session, user: User, current_password: str,
                         new_email: str) -> str:
    """Ask to move the account to `new_email`: nothing changes until a link sent there is
    opened. The old address is told at once (if it was not its owner, they can act).

    Whether another account uses the new address is not said (that would tell a signed-in
    stranger who has an account here); that address gets a notice instead of a link."""
    require_password(user, current_password)
    new_email = normalise_email(new_email)
    if new_email == user.email:
        raise ValidationError(N_("That is already your address."), "email")
    other = find_user_by_email(session, new_email)
    if other is not None:
        notify_address_in_use(session, other)
        return new_email
    account_mail.queue(session, account_mail.VERIFY_ADDRESS, new_email, user=user,
                       locale=user.locale, name=user.display_name, change=True)
    account_mail.queue(session, account_mail.ADDRESS_CHANGING, user.email, user=user,
                       locale=user.locale, name=user.display_name,
                       new_address=mask_email(new_email))
    return new_email


def notify_address_in_use(session: Session, owner: User) -> None:
    """Tell an account's address that someone tried to use it for another account (at most
    NOTICES_PER_HOUR an hour): its owner learns, the person who tried learns nothing."""
    if account_mail.sent_since(session, account_mail.ADDRESS_IN_USE, owner.email,
                               utcnow() - timedelta(hours=1)) < NOTICES_PER_HOUR:
        account_mail.queue(session, account_mail.ADDRESS_IN_USE, owner.email, user=owner,
                           locale=owner.locale, name=owner.display_name)


def mask_email(email: str) -> str:
    """'n***@example.com': enough for the owner to recognise, not to harvest."""
    local, _, domain = email.partition("@")
    return f"{local[:1]}***@{domain}"


def make_verify_token(user: User, secret: str, email: str) -> str:
    return tokens.make_token(secret, tokens.EMAIL_VERIFY,
                             {"uid": user.id, "k": user.link_key, "email": email})


def address_link_used(session: Session, token: str, secret: str, max_age: int) -> bool:
    """Check an address-check link without using it (the page that asks for the confirming
    click): ValidationError when it is expired, altered or names no account; True when it
    has done its work already (this link or a newer one proved the address), so the page
    says so instead of offering a button that can only fail."""
    payload = tokens.read_token(secret, tokens.EMAIL_VERIFY, token, max_age)
    user = _user_for_payload(session, payload)
    email = payload.get("email") if isinstance(payload, dict) else None
    if user is None or not isinstance(email, str):
        raise ValidationError(N_("This link is not valid. Please ask for a new one."))
    return email == user.email and user.email_verified_at is not None


@dataclass(frozen=True)
class Verified:
    user: User
    previous_email: str | None  # set when the link moved the account to a new address
    first: bool  # the account's address was proven just now for the first time


def verify_email(session: Session, token: str, secret: str, max_age: int) -> Verified:
    """Open an address-check link: the address is proven; for a change, the account moves to
    it, every session ends (the caller signs this browser in again) and the old address is
    told."""
    payload = tokens.read_token(secret, tokens.EMAIL_VERIFY, token, max_age)
    user = _user_for_payload(session, payload)
    email = payload.get("email") if isinstance(payload, dict) else None
    if user is None or not isinstance(email, str):
        raise ValidationError(N_("This link is not valid. Please ask for a new one."))
    if email == user.email and user.email_verified_at is not None:
        # Used already (this link or a newer one): the link signs its reader in, so it
        # must not keep doing so for the rest of its week.
        raise ValidationError(N_("This link has already been used. Please ask for a new one."))
    now = utcnow()
    previous = None
    if email != user.email:
        if find_user_by_email(session, email) is not None:
            raise Conflict(N_("Another account uses that address now. Please choose another."))
        previous, user.email = user.email, email
        user.security_stamp = secrets.token_hex(16)  # reset links to the old address die
        sessions.end_all(session, user, now)
        account_mail.queue(session, account_mail.ADDRESS_CHANGED, previous, user=user,
                           locale=user.locale, name=user.display_name,
                           new_address=mask_email(email))
    first = user.email_verified_at is None
    if first or previous is not None:
        user.email_verified_at = now
    session.flush()
    return Verified(user, previous, first and previous is None)


def send_address_check(session: Session, user: User) -> None:
    """(Re)send the link that proves the account's address."""
    account_mail.queue(session, account_mail.VERIFY_ADDRESS, user.email, user=user,
                       locale=user.locale, name=user.display_name)


def request_password_reset(session: Session, email: str) -> None:
    """Queue a reset link for an active account with this address, at most RESETS_PER_HOUR
    an hour; for any other address nothing happens. The caller answers the same either way."""
    try:
        email = normalise_email(email)
    except ValidationError:
        return
    user = find_user_by_email(session, email)
    if user is None or not user.is_active:
        return
    if account_mail.sent_since(session, account_mail.RESET_PASSWORD, email,
                               utcnow() - timedelta(hours=1)) >= RESETS_PER_HOUR:
        return
    account_mail.queue(session, account_mail.RESET_PASSWORD, email, user=user,
                       locale=user.locale, name=user.display_name)


def _user_for_payload(session: Session, payload: object) -> User | None:
    """The user a link names, only if its random key matches (not a newer row's id)."""
    if not isinstance(payload, dict):
        return None
    uid, key = payload.get("uid"), payload.get("k")
    if not isinstance(uid, int) or not isinstance(key, str):
        return None
    user = session.get(User, uid)
    if user is None or not user.is_active or not secrets.compare_digest(user.link_key, key):
        return None
    return user


def make_reset_token(user: User, secret: str) -> str:
    return tokens.make_token(secret, tokens.PASSWORD_RESET,
                             {"uid": user.id, "k": user.link_key, "stamp": user.security_stamp})


def user_for_reset_token(session: Session, token: str, secret: str, max_age: int) -> User:
    """The user a reset link was made for; a used link (stamp changed) is refused."""
    payload = tokens.read_token(secret, tokens.PASSWORD_RESET, token, max_age)
    user = _user_for_payload(session, payload)
    if user is None or user.security_stamp != payload.get("stamp"):
        raise ValidationError(N_("This link has already been used. Please ask for a new one."))
    return user


def reset_password(session: Session, user: User, new_password: str) -> None:
    """Set the password from a reset link: the link reached the address, so the address is
    proven too; every session ends (whoever knew the old password is out)."""
    set_password(user, new_password)
    now = utcnow()
    if user.email_verified_at is None:
        user.email_verified_at = now
    sessions.end_all(session, user, now)


def _check_staff_role(role: str) -> None:
    if role not in {r.value for r in StaffRole}:
        raise ValidationError(N_("Role must be one of %(roles)s."), "role",
                              roles=", ".join(r.value for r in StaffRole))


def set_staff_role(session: Session, user: User, role: str | None) -> bool:
    """Give `user` a staff role, another one, or none (a parent again). New rights start with
    a fresh sign-in: a change ends every session of theirs, so neither a browser signed in
    before a removal keeps the old rights nor one from before a grant gains new ones without
    the person signing in. Returns whether the role changed (and sessions ended)."""
    if role is not None:
        _check_staff_role(role)
    if user.staff_role == role:
        return False
    user.staff_role = role
    sessions.end_all(session, user, utcnow())
    return True


def create_staff(session: Session, email: str, password: str, role: str, name: str) -> User:
    """A staff account (marketer, analyst, admin); or give an existing account the role
    (ending its sessions when that changes its rights: `set_staff_role`)."""
    _check_staff_role(role)
    existing = find_user_by_email(session, email)
    if existing is not None:
        set_staff_role(session, existing, role)
        return existing
    user = create_user(session, email, password, Profile(display_name=name))
    user.staff_role = role
    user.email_verified_at = utcnow()  # an administrator vouches for staff addresses
    return user


def members_count(session: Session) -> int:
    return session.scalar(select(func.count(User.id))) or 0


def users_by_id(session: Session, user_ids: Iterable[int]) -> dict[int, User]:
    """The accounts with these ids (those that exist), by id: one query, none for no ids."""
    wanted = set(user_ids)
    if not wanted:
        return {}
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(wanted)))}
