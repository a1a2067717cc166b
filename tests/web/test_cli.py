"""Command-line tools."""
from __future__ import annotations

from sqlalchemy import select

from diary.models import User, UserSession
from tests.conftest import PASSWORD


def test_staff_create_and_promote(runner, session, make_family):
    result = runner.invoke(args=["staff", "create", "--email", "Mkt@Example.com", "--role",
                                 "marketer", "--name", "Mia Marketer"],
                           input="a-strong-password\na-strong-password\n")
    assert result.exit_code == 0, result.output
    user = session.scalar(select(User).where(User.email == "mkt@example.com"))
    assert user.staff_role == "marketer" and "is now marketer" in result.output
    parent, _ = make_family(email="parent@example.com")
    result = runner.invoke(args=["staff", "create", "--email", "parent@example.com", "--role",
                                 "analyst", "--password", "ignored-for-existing"])
    assert result.exit_code == 0
    session.expire_all()
    assert parent.staff_role == "analyst"


def test_staff_create_rejects_short_password(runner):
    result = runner.invoke(args=["staff", "create", "--email", "x@example.com", "--role",
                                 "admin", "--password", "short"])
    assert result.exit_code != 0
    assert "Use at least 8 characters" in result.output


def test_staff_pages_are_hidden_from_parents(app, client, make_family, login_as):
    from webapp.security import staff_required

    @app.get("/staff-test")
    @staff_required("marketer")
    def staff_test():  # type: ignore[no-untyped-def]
        return "staff only"

    parent, _ = make_family()
    login_as(parent)
    assert client.get("/staff-test").status_code == 404


def _signed_in(app, user):  # type: ignore[no-untyped-def]
    client = app.test_client()
    assert client.post("/login", data={"email": user.email,
                                       "password": PASSWORD}).status_code == 302
    return client


def _live_sessions(session, user):  # type: ignore[no-untyped-def]
    session.expire_all()
    return len(session.scalars(select(UserSession).where(
        UserSession.user_id == user.id, UserSession.revoked_at.is_(None))).all())


def test_a_staff_role_grant_ends_the_persons_sessions(app, runner, session, make_family):
    """A parent made analyst: the browser signed in before the grant is out (new rights start
    with a fresh sign-in); the admin's own browser is untouched."""
    from tests.web.test_studio import make_staff

    admin = make_staff(session, "admin")
    at_desk = _signed_in(app, admin)
    parent, child = make_family(email="parent@example.com")
    phone, laptop = _signed_in(app, parent), _signed_in(app, parent)
    assert phone.get(f"/children/{child.id}").status_code == 200
    result = runner.invoke(args=["staff", "create", "--email", "parent@example.com", "--role",
                                 "analyst", "--password", "ignored-for-existing"])
    assert result.exit_code == 0, result.output
    assert "will need to sign in again" in result.output
    for browser in (phone, laptop):
        assert browser.get(f"/children/{child.id}").headers["Location"].startswith("/login")
    assert _live_sessions(session, parent) == 0
    again = _signed_in(app, parent)
    assert again.get("/studio/customers").status_code == 200  # the new rights, signed in anew
    assert at_desk.get("/studio/audit").status_code == 200
    assert _live_sessions(session, admin) == 1
    # The same role again changes nothing: no session ends, no message.
    result = runner.invoke(args=["staff", "create", "--email", "parent@example.com", "--role",
                                 "analyst", "--password", "ignored-for-existing"])
    assert result.exit_code == 0 and "sign in again" not in result.output
    assert again.get("/studio/customers").status_code == 200
    # Another role: out again; then in with the marketer's rights and not the analyst's.
    result = runner.invoke(args=["staff", "create", "--email", "parent@example.com", "--role",
                                 "marketer", "--password", "ignored-for-existing"])
    assert "will need to sign in again" in result.output
    assert again.get("/studio").headers["Location"].startswith("/login")
    marketer = _signed_in(app, parent)
    assert marketer.get("/studio/customers").status_code == 403
    assert marketer.get("/studio").status_code == 200


def test_a_staff_role_removal_ends_the_persons_sessions(app, runner, session, make_family):
    from tests.web.test_studio import make_staff

    admin = make_staff(session, "admin")
    at_desk = _signed_in(app, admin)
    marketer = make_staff(session, "marketer")
    browser = _signed_in(app, marketer)
    assert browser.get("/studio").status_code == 200
    result = runner.invoke(args=["staff", "remove", "--email", marketer.email.upper()])
    assert result.exit_code == 0, result.output
    assert f"{marketer.email} is no longer marketer" in result.output
    assert "will need to sign in again" in result.output
    assert browser.get("/studio").headers["Location"].startswith("/login")
    session.expire_all()
    assert marketer.staff_role is None and _live_sessions(session, marketer) == 0
    assert _signed_in(app, marketer).get("/studio").status_code == 404  # a parent now
    assert at_desk.get("/studio/audit").status_code == 200
    # Not staff (any more, or ever): refused, and nobody's sessions end.
    parent, child = make_family(email="parent@example.com")
    phone = _signed_in(app, parent)
    for email in (marketer.email, "parent@example.com", "nobody@example.com"):
        result = runner.invoke(args=["staff", "remove", "--email", email])
        assert result.exit_code != 0 and f"No staff account uses {email}." in result.output
    assert phone.get(f"/children/{child.id}").status_code == 200
    assert at_desk.get("/studio/audit").status_code == 200


def test_set_staff_role_checks_the_role(session, make_family):
    import pytest

    from diary import accounts
    from diary.errors import ValidationError

    parent, _ = make_family()
    with pytest.raises(ValidationError):
        accounts.set_staff_role(session, parent, "owner")
    assert parent.staff_role is None
