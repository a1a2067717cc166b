"""Command-line tools."""
from __future__ import annotations

from sqlalchemy import select

from diary.models import User


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
