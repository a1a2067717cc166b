"""ASVS level-1 items that are not route sweeps (those are in test_attack_sweeps.py):
headers on every kind of response, no inline script in any template, sessions that rotate
when an account's privileges change, emailed links that work once and expire, answers that
do not tell whether an address has an account, brute-force limits, open redirects, uploads
that are not what their name says, and XSS payloads reflected in parameters.
"""
from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from diary.models import UserSession
from tests.conftest import PASSWORD
from tests.web.attack_world import csrf_of, sign_in

ROOT = Path(__file__).resolve().parents[2]


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


# --- sessions rotate on a privilege change ----------------------------------------------------

class TestSessionRotation:
    @pytest.fixture()
    def app_overrides(self):  # type: ignore[no-untyped-def]
        return {"WTF_CSRF_ENABLED": True}

    def test_a_password_change_starts_a_new_session_and_csrf_token(self, app, make_family,
                                                                   session):
        """Attack: a session cookie (and its CSRF token) copied before the owner changed the
        password. The change ends other devices; it must end the copied cookie of *this*
        browser too, while the owner stays signed in with a new one."""
        user, child = make_family()
        client, token = sign_in(app, user)
        copied = _cookie(client)
        response = client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": token})
        assert response.status_code == 302
        assert _cookie(client) != copied
        assert client.get(f"/children/{child.id}").status_code == 200  # still signed in
        thief = app.test_client()
        thief.set_cookie("session", copied)
        assert thief.get(f"/children/{child.id}").status_code == 302
        stale = client.post("/account/consents", data={"csrf_token": token})
        assert stale.status_code == 400  # the old token died with the old session
        fresh = csrf_of(client.get("/account").get_data(as_text=True))
        assert fresh != token
        session.expire_all()  # one live session row: the new one (the old key is ended)
        live = session.scalars(select(UserSession).where(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None))).all()
        assert len(live) == 1 and live[0].remember is False
