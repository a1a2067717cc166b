"""Cross-cutting web security: CSRF, rate limits, headers, error pages, language switch."""
from __future__ import annotations

import pytest

from tests.conftest import PASSWORD


class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_post_without_token_is_refused_with_a_page(self, client, make_family):
        user, _ = make_family()
        response = client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 400
        assert "This form has expired" in response.get_data(as_text=True)

    def test_post_with_token_works(self, client, make_family):
        user, _ = make_family()
        page = client.get("/login").get_data(as_text=True)
        token = page.split('name="csrf_token" type="hidden" value="')[1].split('"')[0]
        response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302

    def test_logout_needs_a_token_too(self, client):
        assert client.post("/logout").status_code == 400


class TestRateLimit:
    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "3 per minute"}

    def test_fourth_failed_login_in_a_minute_is_429(self, client, make_family):
        user, _ = make_family()
        codes = [client.post("/login", data={"email": user.email, "password": "nope"})
                 .status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        assert "Too many attempts" in client.post("/login", data={}).get_data(as_text=True)


def test_security_headers_and_cookie_flags(client, make_family):
    user, _ = make_family()
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "remember": "y"})
    cookies = response.headers.getlist("Set-Cookie")
    [session_cookie] = [c for c in cookies if c.startswith("session=")]
    assert "HttpOnly" in session_cookie and "SameSite=Lax" in session_cookie
    assert "Expires=" in session_cookie  # "remember me": the one cookie outlives the browser
    assert not any(c.startswith("remember_token=") for c in cookies)  # no second credential
    page = client.get("/account")
    assert "frame-ancestors 'none'" in page.headers["Content-Security-Policy"]
    assert page.headers["X-Content-Type-Options"] == "nosniff"
    assert page.headers["Cache-Control"] == "no-store"  # a signed-in page is nobody else's
    assert "Strict-Transport-Security" not in page.headers  # production only
    assert "Cache-Control" not in client.get("/static/css/app.css").headers \
        or "no-store" not in client.get("/static/css/app.css").headers["Cache-Control"]


def test_error_pages_are_finished_pages_and_json_for_api(client):
    page = client.get("/no/such/page")
    assert page.status_code == 404 and "Page not found" in page.get_data(as_text=True)
    api = client.get("/api/nothing")
    assert api.status_code == 404 and "error" in api.get_json()
    json_404 = client.get("/nothing", headers={"Accept": "application/json"})
    assert json_404.get_json()["error"]


def test_unexpected_errors_render_a_500_page(app, client):
    app.config["PROPAGATE_UNEXPECTED"] = False

    @app.get("/boom-test")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    response = client.get("/boom-test")
    assert response.status_code == 500
    assert "Something went wrong on our side" in response.get_data(as_text=True)


def test_upload_too_large_is_413_page(make_family, login_as, client, app):
    user, child = make_family()
    login_as(user)
    app.config["MAX_CONTENT_LENGTH"] = 1000
    response = client.post(f"/children/{child.id}/entries/new?kind=photo",
                           data={"body": "x" * 5000})
    assert response.status_code == 413
    assert "File too large" in response.get_data(as_text=True)


def test_language_switch_anonymous_and_signed_in(client, make_family, session):
    response = client.post("/language", data={"lang": "zh_CN", "next": "/login"})
    assert response.headers["Location"] == "/login"
    page = client.get("/login").get_data(as_text=True)
    assert '<html lang="zh-CN">' in page and "欢迎回来" in page
    client.post("/language", data={"lang": "en", "next": "https://evil.example/"})
    assert "Welcome back" in client.get("/login").get_data(as_text=True)
    user, _ = make_family()
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    client.post("/language", data={"lang": "zh_CN"})
    session.expire_all()
    assert user.locale == "zh_CN"
    assert "我的账号" in client.get("/account").get_data(as_text=True)


def test_accept_language_header_picks_chinese(client):
    page = client.get("/", headers={"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert '<html lang="zh-CN">' in page.get_data(as_text=True)


@pytest.mark.parametrize("path", ["/", "/register", "/login", "/privacy", "/forgot"])
def test_public_pages_render_in_both_languages(client, path):
    for lang, marker in (("en", "Baby Journey"), ("zh_CN", "宝宝旅程")):
        client.post("/language", data={"lang": lang})
        response = client.get(path)
        assert response.status_code == 200 and marker in response.get_data(as_text=True)


def test_visits_are_noted_at_most_hourly(client, make_family, login_as, session):
    from datetime import timedelta

    from clock import utcnow
    user, child = make_family()
    login_as(user)
    session.expire_all()
    first = user.last_seen_at
    assert first is not None and utcnow() - first < timedelta(minutes=1)
    client.get(f"/children/{child.id}")
    session.expire_all()
    assert user.last_seen_at == first  # not rewritten within the hour
    user.last_seen_at = utcnow() - timedelta(hours=2)
    session.commit()
    client.get(f"/children/{child.id}")
    session.expire_all()
    assert utcnow() - user.last_seen_at < timedelta(minutes=1)


def test_errors_translate_our_words_but_show_what_people_typed_as_typed(app):
    """A domain error's parameters marked with N_ are translated; typed values never are,
    even when they happen to be a word the catalogue knows."""
    from diary.errors import N_, ValidationError
    from webapp.i18n import translate_error

    ours = ValidationError(N_("The %(locale)s title is missing."), locale=N_("English"))
    typed = ValidationError(N_("Unknown time zone %(name)s."), name="English")
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert "英文" in translate_error(ours)
        assert "English" in translate_error(typed) and "英文" not in translate_error(typed)
