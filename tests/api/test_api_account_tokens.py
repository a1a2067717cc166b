"""The account page's API tokens: list, make (the secret shown once), revoke."""
from __future__ import annotations

import hashlib
import re

import pytest
from api_helpers import bearer
from sqlalchemy import select

from diary import access_tokens
from diary.models import AccessToken
from tests.conftest import PASSWORD

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
SECRET = re.compile(r"bjpat_[A-Za-z0-9_-]{43}")


def test_making_a_token_shows_its_secret_once_and_stores_only_its_hash(
        client, session, login_as, make_family):
    user, _ = make_family()
    login_as(user)
    page = client.post("/account/tokens", data={"name": "Phone", "scope": "write",
                                                "expires": "30"})
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    [secret] = set(SECRET.findall(html))
    assert "shown only this once" in html
    token = session.scalars(select(AccessToken).where(AccessToken.user_id == user.id)).one()
    assert (token.name, token.scope) == ("Phone", "write")
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert client.get("/api/v1/me", headers=bearer(secret)).get_json()["scope"] == "write"
    again = client.get("/account").get_data(as_text=True)
    assert secret not in again and "Phone" in again and token.token_prefix in again
    assert "Read and write" in again and 'href="/api/v1/docs"' in again


@pytest.mark.parametrize(("data", "message"), [
    ({"name": "", "scope": "read", "expires": "30"}, "This field is required."),
    ({"name": "x", "scope": "root", "expires": "30"}, "Not a valid choice."),
    ({"name": "x", "scope": "read", "expires": "7"}, "Not a valid choice."),
])
def test_a_bad_token_form_is_400_and_makes_nothing(client, session, login_as, make_family,
                                                   data, message):
    user, _ = make_family()
    login_as(user)
    page = client.post("/account/tokens", data=data)
    assert page.status_code == 400 and message in page.get_data(as_text=True)
    assert session.scalar(select(AccessToken.id)) is None


def test_revoking_from_the_account_page(client, session, login_as, make_family):
    user, _ = make_family()
    other, _ = make_family()
    mine, secret = access_tokens.create(session, user, "Script", "read", None)
    theirs, _ = access_tokens.create(session, other, "Theirs", "read", None)
    session.commit()
    login_as(user)
    assert client.post(f"/account/tokens/{theirs.id}/revoke").status_code == 404
    response = client.post(f"/account/tokens/{mine.id}/revoke")
    assert response.status_code == 302 and response.headers["Location"].endswith("#api-tokens")
    session.expire_all()
    assert session.get(AccessToken, mine.id).revoked_at is not None
    assert session.get(AccessToken, theirs.id).revoked_at is None
    assert client.get("/api/v1/me", headers=bearer(secret)).status_code == 401
    assert "revoked" in client.get("/account").get_data(as_text=True)


def test_the_token_section_speaks_chinese(client, session, login_as, make_family):
    user, _ = make_family()
    user.locale = "zh_CN"
    access_tokens.create(session, user, "脚本", "write", 90)
    session.commit()
    login_as(user)
    html = client.get("/account").get_data(as_text=True)
    for text in ("API 令牌", "读取和写入", "撤销", "创建令牌"):
        assert text in html


class TestCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_token_forms_need_the_csrf_token(self, app, client, session, make_family):
        user, _ = make_family()
        token, _ = access_tokens.create(session, user, "Script", "read", None)
        session.commit()
        page = client.get("/login").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": user.email, "password": PASSWORD,
                                    "csrf_token": csrf})
        assert client.post("/account/tokens", data={"name": "x", "scope": "read",
                                                    "expires": "30"}).status_code == 400
        assert client.post(f"/account/tokens/{token.id}/revoke").status_code == 400
        assert session.scalar(select(AccessToken.id).where(AccessToken.name == "x")) is None
        session.expire_all()
        assert session.get(AccessToken, token.id).revoked_at is None
        page = client.get("/account").get_data(as_text=True)
        csrf = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/account/tokens", data={"name": "x", "scope": "read",
                                                    "expires": "30", "csrf_token": csrf}
                           ).status_code == 200
