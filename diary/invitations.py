"""Inviting a co-caregiver, accepting, and managing who is in a family."""
from __future__ import annotations

import secrets
from datetime import timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from clock import utcnow
from diary import account_mail, tokens
from diary.accounts import normalise_email
from diary.errors import N_, Conflict, NotFound, PermissionDenied, ValidationError
from diary.families import RELATIONSHIPS, ROLES, membership_in
from diary.models import Family, Invitation, Membership, Role, User

DEFAULT_PER_FAMILY_PER_DAY = 10


def invite(session: Session, family: Family, inviter: User, email: str, role: str,
           relationship: str, per_day: int = DEFAULT_PER_FAMILY_PER_DAY) -> Invitation:
    """Invite `email` into `family` and queue the invitation email.

    Only an inviter whose own address is proven may invite (an unproven account could be
    anyone's), and a family sends at most `per_day` invitations in 24 hours: invitations go
    to any address, so they must not become a way to send mail to strangers."""
    if not inviter.email_verified:
        raise PermissionDenied(
            N_("Please confirm your email address before inviting anyone (see the link we "
               "sent you, or ask for a new one on your account page)."))
    sent_today = session.scalar(select(func.count(Invitation.id)).where(
        Invitation.family_id == family.id,
        Invitation.created_at >= utcnow() - timedelta(days=1))) or 0
    if sent_today >= per_day:
        raise ValidationError(
            N_("Your family has sent %(count)d invitations in the last 24 hours, the most we "
               "allow. Please try again tomorrow."), "email", count=per_day)
    if role not in ROLES:
        raise ValidationError(N_("Please choose a role."), "role")
    if relationship not in RELATIONSHIPS:
        raise ValidationError(N_("Please choose their relationship to the baby."), "relationship")
    email = normalise_email(email)
    already = session.scalar(
        select(Membership).join(User).where(Membership.family_id == family.id,
                                            User.email == email))
    if already is not None:
        raise Conflict(N_("This person is already in your family."), "email")
    for open_invitation in (i for i in family.invitations if i.is_open and i.email == email):
        open_invitation.revoked_at = utcnow()  # the newest invitation replaces older ones
    invitation = Invitation(family=family, email=email, role=role,
                            relationship_to_child=relationship, invited_by_id=inviter.id)
    session.add(invitation)
    session.flush()
    account_mail.queue(session, account_mail.INVITATION, email, invitation=invitation,
                       locale=inviter.locale, inviter=inviter.display_name)
    return invitation


def invitation_token(invitation: Invitation, secret: str) -> str:
    return tokens.make_token(secret, tokens.INVITATION,
                             {"iid": invitation.id, "n": invitation.nonce})


def invitation_for_token(session: Session, token: str, secret: str, max_age: int) -> Invitation:
    payload = tokens.read_token(secret, tokens.INVITATION, token, max_age)
    invitation = None
    if isinstance(payload, dict) and isinstance(payload.get("iid"), int) \
            and isinstance(payload.get("n"), str):
        invitation = session.get(Invitation, payload["iid"])
        if invitation is not None and not secrets.compare_digest(invitation.nonce, payload["n"]):
            invitation = None  # a newer invitation that inherited a deleted one's id
    if invitation is None or not invitation.is_open:
        raise ValidationError(N_("This invitation is no longer open. Ask for a new one."))
    return invitation


def open_invitations_for(session: Session, user: User) -> list[Invitation]:
    """Invitations waiting for this person's (proven) address."""
    if not user.email_verified:
        return []
    return [i for i in session.scalars(select(Invitation).where(
        Invitation.email == user.email, Invitation.accepted_at.is_(None),
        Invitation.revoked_at.is_(None)).order_by(Invitation.id)) if i.is_open]


def accept(session: Session, invitation: Invitation, user: User) -> Membership:
    """Join the family. The invitation was sent to one address; only that account may use it,
    and only once the account has proven it reads that address (anyone can type an address
    into a sign-up form)."""
    if not invitation.is_open:
        raise ValidationError(N_("This invitation is no longer open. Ask for a new one."))
    if user.email != invitation.email:
        raise PermissionDenied(
            N_("This invitation was sent to %(email)s. Sign in with that address."),
            email=invitation.email)
    if not user.email_verified:
        raise PermissionDenied(
            N_("Please confirm your email address first: open the link we sent to "
               "%(email)s, then accept the invitation."), email=user.email)
    membership = membership_in(session, user, invitation.family_id)
    if membership is None:
        membership = Membership(family_id=invitation.family_id, user=user,
                                role=invitation.role,
                                relationship_to_child=invitation.relationship_to_child)
        session.add(membership)
    invitation.accepted_at = utcnow()
    session.flush()
    return membership


def revoke(invitation: Invitation) -> None:
    invitation.revoked_at = utcnow()


def owners_count(session: Session, family_id: int) -> int:
    return session.scalar(select(func.count(Membership.id)).where(
        Membership.family_id == family_id, Membership.role == Role.OWNER.value)) or 0


def change_role(session: Session, membership: Membership, role: str) -> None:
    if role not in ROLES:
        raise ValidationError(N_("Please choose a role."), "role")
    if membership.is_owner and role != Role.OWNER.value \
            and owners_count(session, membership.family_id) <= 1:
        raise ValidationError(
            N_("A family needs at least one owner. Make someone else owner first."))
    membership.role = role


def remove_member(session: Session, membership: Membership) -> None:
    if membership.is_owner and owners_count(session, membership.family_id) <= 1:
        raise ValidationError(
            N_("A family needs at least one owner. Make someone else owner first."))
    session.delete(membership)


def membership_by_id(session: Session, family: Family, membership_id: int) -> Membership:
    membership = session.get(Membership, membership_id)
    if membership is None or membership.family_id != family.id:
        raise NotFound()
    return membership
