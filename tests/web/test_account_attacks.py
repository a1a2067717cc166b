"""The account attacks of the security review, each replayed against the fix.

Sessions (a copied cookie after sign-out, a CSRF token from before sign-in), invitations
(unverified inviters and invitees, volume, free text in the subject), ids that SQLite reuses,
and leaving a family that others write in.
"""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from clock import utcnow
from diary import accounts, invitations, privacy
from diary.models import AccountEmail, Entry, Family, Invitation, Membership, User, UserSession
from journeys import unsubscribe
from tests.conftest import PASSWORD
from tests.web.helpers import entry_form, mailed_link


def _session_cookie(client):  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


# --- sessions --------------------------------------------------------------------------------

def test_a_cookie_copied_before_sign_out_is_dead_after(app, client, make_family, login_as):
    user, child = make_family()
    login_as(user)
    stolen = _session_cookie(client)
    assert client.get(f"/children/{child.id}").status_code == 200
    client.post("/logout")
    thief = app.test_client()
    thief.set_cookie("session", stolen)
    assert thief.get(f"/children/{child.id}").status_code == 302  # to the sign-in page
    assert thief.get("/account").headers["Location"].startswith("/login")


def test_sign_in_starts_a_new_session_and_csrf_token(app, make_family):
    """Attack (session fixation / token reuse): plant a session and its CSRF token before the
    victim signs in. After sign-in neither the old cookie nor the old token is worth anything."""
    app.config["WTF_CSRF_ENABLED"] = True
    user, child = make_family()
    client = app.test_client()
    page = client.get("/login").get_data(as_text=True)
    before = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
    planted = _session_cookie(client)
    assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                       "csrf_token": before}).status_code == 302
    assert _session_cookie(client) != planted
    stale = client.post("/account/consents", data={"csrf_token": before})
    assert stale.status_code == 400  # the token from before sign-in died with that session
    attacker = app.test_client()
    attacker.set_cookie("session", planted)
    assert attacker.get(f"/children/{child.id}").status_code == 302


def test_sessions_end_after_idle_hours_and_move_on_with_use(app, make_family, clock_at):
    clock_at("2026-12-06T08:00")
    user, child = make_family()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    clock_at("2026-12-06T19:00")  # 11 h later: still in, and the end moves on
    assert client.get(f"/children/{child.id}").status_code == 200
    clock_at("2026-12-07T06:30")  # 11.5 h after the last use
    assert client.get(f"/children/{child.id}").status_code == 200
    clock_at("2026-12-07T19:00")  # 12.5 h idle
    assert client.get(f"/children/{child.id}").status_code == 302


def test_remember_me_lasts_thirty_days(app, make_family, clock_at):
    clock_at("2026-12-06T08:00")
    user, child = make_family()
    client = app.test_client()
    client.post("/login", data={"email": user.email, "password": PASSWORD, "remember": "y"})
    clock_at("2027-01-04T08:00")  # 29 days
    assert client.get(f"/children/{child.id}").status_code == 200
    clock_at("2027-02-04T09:00")  # 31 days after that visit
    assert client.get(f"/children/{child.id}").status_code == 302


def test_sign_out_everywhere_else_from_the_account_page(app, client, make_family, login_as,
                                                         session):
    user, _ = make_family()
    phone = app.test_client()
    phone.post("/login", data={"email": user.email, "password": PASSWORD})
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    assert "Where you are signed in" in page and "this device" in page
    client.post("/account/sessions/end-others")
    assert phone.get("/account").status_code == 302
    assert client.get("/account").status_code == 200
    assert session.scalar(select(func.count(UserSession.id)).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None))) == 1


def test_a_reset_ends_every_session(app, client, make_family, mailer):
    user, _ = make_family()
    laptop = app.test_client()
    laptop.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/forgot", data={"email": user.email})
    client.post(mailed_link(mailer, "reset"), data={"password": "fresh-password-1",
                                                    "confirm": "fresh-password-1"})
    assert laptop.get("/account").status_code == 302


# --- addresses and invitations ----------------------------------------------------------------

def test_an_unverified_account_cannot_invite(client, make_family, login_as, session, mailer):
    owner, child = make_family(verified=False)
    login_as(owner)
    page = client.post(f"/families/{child.family_id}/invitations",
                       data={"email": "gran@example.com", "role": "viewer",
                             "relationship": "grandparent"}, follow_redirects=True)
    assert "Please confirm your email address before inviting anyone" in \
        page.get_data(as_text=True)
    assert session.scalar(select(func.count(Invitation.id))) == 0 and mailer.sent == []


def test_squatting_an_address_does_not_let_anyone_into_a_family(app, client, make_family,
                                                                 login_as, session, mailer):
    """Attack: register grandma's address before she does, wait for the family to invite
    her, then accept as "her". Joining needs the proven address, which the squatter lacks."""
    owner, child = make_family()
    squatter = app.test_client()
    squatter.post("/register", data={
        "display_name": "Not Gran", "email": "gran@example.com", "password": "squatter-pass",
        "confirm": "squatter-pass", "timezone": "Asia/Shanghai", "locale": "en",
        "relationship": "other", "child_name": "X", "status": "expecting",
        "due_date": (utcnow() + timedelta(days=100)).date().isoformat(),
        "birth_weight_unit": "kg", "birth_length_unit": "cm", "birth_head_unit": "cm",
        "child_data_consent": "y"})
    login_as(owner)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "gran@example.com", "role": "viewer",
                      "relationship": "grandparent"})
    link = mailed_link(mailer, "join", "gran@example.com")
    squatter.post("/login", data={"email": "gran@example.com", "password": "squatter-pass"})
    refused = squatter.post(link, follow_redirects=True).get_data(as_text=True)
    assert "Please confirm your email address first" in refused
    gran = session.scalar(select(User).where(User.email == "gran@example.com"))
    assert session.scalar(select(Membership).where(Membership.user_id == gran.id,
                                                   Membership.family_id == child.family_id)) \
        is None
    assert squatter.get(f"/children/{child.id}").status_code == 404


def test_invitations_per_family_per_day_and_no_free_text_in_the_subject(
        app, client, make_family, login_as, session, mailer):
    app.config["INVITATIONS_PER_FAMILY_PER_DAY"] = 3
    owner, child = make_family()
    owner.display_name = "FREE IPHONE at evil.example"
    session.commit()
    login_as(owner)
    for n in range(4):
        client.post(f"/families/{child.family_id}/invitations",
                    data={"email": f"person{n}@example.com", "role": "viewer",
                          "relationship": "other"})
    assert session.scalar(select(func.count(Invitation.id))) == 3
    assert [m.subject for m in mailer.sent] == \
        ["You are invited to a baby's book on Baby Journey"] * 3
    assert "FREE IPHONE at evil.example" in mailer.sent[0].text  # named in the body, as said
    assert session.scalar(select(func.count(AccountEmail.id)).where(
        AccountEmail.kind == "invitation")) == 3


def test_the_family_limit_message(client, make_family, login_as, app):
    app.config["INVITATIONS_PER_FAMILY_PER_DAY"] = 1
    owner, child = make_family()
    login_as(owner)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "a@example.com", "role": "viewer", "relationship": "other"})
    page = client.post(f"/families/{child.family_id}/invitations",
                       data={"email": "b@example.com", "role": "viewer",
                             "relationship": "other"}, follow_redirects=True)
    assert "Your family has sent 1 invitations in the last 24 hours" in \
        page.get_data(as_text=True)


def test_a_withdrawn_invitation_sends_nothing_if_still_queued(app, client, make_family,
                                                              login_as, session, mailer):
    """A queued invitation is signed only when it is sent: withdrawn first, none goes."""
    from webapp import account_mail

    app.config["ACCOUNT_MAIL_AFTER_RESPONSE"] = True  # queue only; send below, by hand
    owner, child = make_family()
    login_as(owner)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "late@example.com", "role": "viewer", "relationship": "other"})
    invitation = session.scalar(select(Invitation))
    client.post(f"/invitations/{invitation.id}/revoke")
    row = session.scalar(select(AccountEmail).where(AccountEmail.kind == "invitation"))
    with app.app_context():
        done = account_mail.send(app.extensions["session_factory"], mailer, [row.id])
    assert done == {"sent": 0, "failed": 0, "cancelled": 1} and mailer.sent == []


def test_unverified_parents_get_no_digest_until_they_confirm(session, make_family):
    from journeys.digests import scheduling

    verified, _ = make_family()
    unverified, _ = make_family(verified=False)
    eligible = {row.id for row in scheduling._eligible(session, 0, 100)}
    assert verified.id in eligible and unverified.id not in eligible


# --- ids that SQLite gives again ---------------------------------------------------------------

def _recreate_with_same_id(session, user: User) -> User:  # type: ignore[no-untyped-def]
    """Delete `user` and make a new account that gets the same id (SQLite reuses the
    highest id; PostgreSQL never does, so there we insert the id by hand)."""
    old_id = user.id
    privacy.delete_account(session, user)
    session.commit()
    newcomer = accounts.create_user(session, "newcomer@example.com", PASSWORD,
                                    accounts.Profile(display_name="Newcomer"))
    if newcomer.id != old_id:
        session.execute(User.__table__.update().where(User.id == newcomer.id)
                        .values(id=old_id))
        session.commit()
        session.expire_all()
        newcomer = session.get(User, old_id)
    session.commit()
    return newcomer


def test_an_old_link_never_opens_a_newer_account_with_the_same_id(app, client, session,
                                                                  make_family):
    user, _ = make_family(email="leaver@example.com")
    secret = app.config["SECRET_KEY"]
    reset = accounts.make_reset_token(user, secret)
    verify = accounts.make_verify_token(user, secret, user.email)
    unsub = unsubscribe.make_token(secret, user)
    newcomer = _recreate_with_same_id(session, user)
    assert newcomer.id == user.id
    newcomer.security_stamp = user.security_stamp  # even a stamp collision would not help
    session.commit()
    assert client.get(f"/reset/{reset}").headers["Location"] == "/forgot"
    assert client.post(f"/verify/{verify}").headers["Location"] == "/"
    assert client.get(f"/e/u/{unsub}").status_code == 404
    client.post(f"/e/u/{unsub}")
    session.expire_all()
    assert newcomer.email_verified_at is None


def test_an_old_invitation_link_never_opens_a_newer_invitation(app, client, session,
                                                               make_family):
    owner, child = make_family()
    family = session.get(Family, child.family_id)
    first = invitations.invite(session, family, owner, "first@example.com", "viewer", "other")
    session.commit()
    token = invitations.invitation_token(first, app.config["SECRET_KEY"])
    first_id = first.id
    session.delete(first)
    session.commit()
    second = invitations.invite(session, family, owner, "second@example.com", "editor",
                                "other")
    session.commit()
    if second.id != first_id:  # PostgreSQL: give it the old id by hand
        session.execute(AccountEmail.__table__.delete().where(
            AccountEmail.invitation_id == second.id))
        session.execute(Invitation.__table__.update().where(Invitation.id == second.id)
                        .values(id=first_id))
        session.commit()
    response = client.get(f"/join/{token}", follow_redirects=True)
    assert "This invitation is no longer open" in response.get_data(as_text=True)


# --- leaving ----------------------------------------------------------------------------------

def test_a_sole_owner_leaving_hands_the_family_to_the_editor(client, make_family, login_as,
                                                             session, mailer):
    """Attack on the co-caregivers' data: the only owner deletes their account. The family,
    the editor's entries and photos stay; the editor becomes owner and is told."""
    owner, child = make_family()
    editor, _ = make_family(email="dad@example.com")
    family = session.get(Family, child.family_id)
    invitation = invitations.invite(session, family, owner, editor.email, "editor", "father")
    invitations.accept(session, invitation, editor)
    viewer, _ = make_family(email="gran@example.com")
    invitation = invitations.invite(session, family, owner, viewer.email, "viewer",
                                    "grandparent")
    invitations.accept(session, invitation, viewer)
    session.commit()
    login_as(editor)
    client.post(f"/children/{child.id}/entries/new?kind=note",
                data=entry_form(title="Dad's first note", body="hello"))
    login_as(owner)
    plan = client.get("/account/delete").get_data(as_text=True)
    assert "dad becomes its owner and keeps everything" in plan
    mailer.sent.clear()
    client.post("/account/delete", data={"current_password": PASSWORD, "confirm": "y"})
    session.expire_all()
    assert session.get(Family, child.family_id) is not None
    roles = dict(session.execute(select(Membership.user_id, Membership.role).where(
        Membership.family_id == child.family_id)).all())
    assert roles == {editor.id: "owner", viewer.id: "viewer"}
    assert session.scalar(select(Entry.title).where(Entry.child_id == child.id,
                                                    Entry.author_id == editor.id)) \
        == "Dad's first note"
    [told] = mailer.sent
    assert told.to == "dad@example.com" and "You are now the owner" in told.text
    login_as(editor)
    assert client.get(f"/children/{child.id}").status_code == 200


def test_a_family_with_nobody_else_goes_with_its_owner(client, make_family, login_as, session):
    owner, child = make_family()
    family_id = child.family_id
    login_as(owner)
    assert "nobody else is in this family" in client.get("/account/delete").get_data(
        as_text=True)
    client.post("/account/delete", data={"current_password": PASSWORD, "confirm": "y"})
    session.expire_all()
    assert session.get(Family, family_id) is None


@pytest.mark.parametrize("path", ["/verify/not-a-token", "/join/not-a-token"])
def test_bad_links_are_a_friendly_redirect(client, path):
    response = client.get(path, follow_redirects=True)
    assert response.status_code == 200
    assert "This link is not valid" in response.get_data(as_text=True)


def test_devices_are_named_in_words_and_ended_sessions_are_forgotten(session, make_family,
                                                                     clock_at):
    from diary import sessions
    from webapp.security import describe_device

    assert describe_device("Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) "
                           "AppleWebKit/605.1.15 Version/17.0 Mobile/15E148 Safari/604.1") \
        == "Safari · iPhone"
    assert describe_device("Mozilla/5.0 (Linux; Android 14) AppleWebKit/537.36 Chrome/120 "
                           "Mobile Safari/537.36 MicroMessenger/8.0") == "WeChat · Android"
    assert describe_device(None) is None
    clock_at("2026-12-06T08:00")
    user, _ = make_family()
    now = utcnow()
    old = sessions.start(session, user, now, remember=False, life=timedelta(hours=12))
    live = sessions.start(session, user, now, remember=True, life=timedelta(days=30))
    sessions.end(session, old, now)
    session.commit()
    assert sessions.prune(session, now + timedelta(days=31)) == 1
    assert sessions.user_for(session, user.id, live, now + timedelta(days=29)) is not None
