"""Safe by default: how the app refuses to start, and what production adds to responses.

Each test sets the environment as an operator would and builds the app the way wsgi.py and
the `flask` command do (`create_app()` with no name), or through `config_for` for the class.
"""
from __future__ import annotations

import gc
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

import config
from tests.conftest import PASSWORD

GOOD_KEY = "k" * 40


@pytest.fixture()
def reload_config(monkeypatch, tmp_path):  # type: ignore[no-untyped-def]
    """Config classes read the environment at import: set it, then reload the module."""
    for name in ("APP_ENV", "SECRET_KEY", "MAIL_SERVER", "RATELIMIT_STORAGE_URI",
                 "WEB_CONCURRENCY", "ALLOW_PER_WORKER_RATE_LIMITS"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("INSTANCE_PATH", str(tmp_path / "instance"))
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'app.db'}")

    def reload(**env: str):  # type: ignore[no-untyped-def]
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return importlib.reload(config)

    yield reload
    monkeypatch.undo()
    import webapp
    importlib.reload(config)
    importlib.reload(webapp)  # its names point at the config module as the suite knows it


def _create_app():  # type: ignore[no-untyped-def]
    import webapp
    importlib.reload(webapp)  # picks up the reloaded config module
    return webapp.create_app()


def test_without_app_env_the_app_is_production_and_refuses_a_missing_key(reload_config):
    reload_config()
    assert config.config_for() is config.ProductionConfig
    with pytest.raises(RuntimeError) as refused:
        _create_app()
    message = str(refused.value)
    assert "SECRET_KEY must be set" in message and "MAIL_SERVER must name" in message
    assert "RATELIMIT_STORAGE_URI must be shared storage" in message


def test_a_short_key_is_refused_too(reload_config):
    reload_config(SECRET_KEY="short", MAIL_SERVER="smtp.example.com",
                  RATELIMIT_STORAGE_URI="redis://cache:6379")
    with pytest.raises(RuntimeError, match="at least 32 characters"):
        _create_app()


def test_production_starts_with_key_mail_and_shared_limits(reload_config):
    reload_config(SECRET_KEY=GOOD_KEY, MAIL_SERVER="smtp.example.com",
                  RATELIMIT_STORAGE_URI="memory://", WEB_CONCURRENCY="1")
    app = _create_app()
    assert app.config["DEBUG"] is False and app.config["SESSION_COOKIE_SECURE"] is True
    assert app.config["HSTS_SECONDS"] == 365 * 24 * 3600


def test_the_testing_configuration_cannot_be_served(reload_config):
    reload_config(APP_ENV="testing")
    with pytest.raises(RuntimeError, match="cannot be served"):
        _create_app()


def test_development_must_be_asked_for_and_keeps_its_own_random_key(reload_config, tmp_path):
    reload_config(APP_ENV="development")
    first = _create_app()
    key = first.config["SECRET_KEY"]
    assert len(key) == 64 and key != "dev-only-not-secret"
    assert (tmp_path / "instance" / "dev-secret-key").stat().st_mode & 0o777 == 0o600
    reload_config(APP_ENV="development")
    assert _create_app().config["SECRET_KEY"] == key  # the same after a restart


def test_demo_data_is_refused_in_production(reload_config):
    reload_config(SECRET_KEY=GOOD_KEY, MAIL_SERVER="smtp.example.com", WEB_CONCURRENCY="1")
    app = _create_app()
    result = app.test_cli_runner().invoke(args=["demo", "load"])
    assert result.exit_code != 0 and "refused in production" in result.output


def test_production_pages_carry_hsts_and_no_store_when_signed_in(make_family, session_factory,
                                                                  tmp_path):
    from webapp import create_app

    app = create_app(config.ProductionConfig, SECRET_KEY=GOOD_KEY, MAIL_SERVER="smtp.invalid",
                     SESSION_FACTORY=session_factory, UPLOAD_DIR=tmp_path,
                     SESSION_COOKIE_SECURE=False, WTF_CSRF_ENABLED=False,
                     RATELIMIT_ENABLED=False, ALLOW_PER_WORKER_RATE_LIMITS=True)
    user, child = make_family()
    client = app.test_client()
    home = client.get("/login")
    assert home.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"
    assert "no-store" not in home.headers.get("Cache-Control", "")
    client.post("/login", data={"email": user.email, "password": PASSWORD})
    page = client.get(f"/children/{child.id}")
    assert page.status_code == 200 and page.headers["Cache-Control"] == "no-store"


# --- rate limits ------------------------------------------------------------------------------

class TestRateLimits:
    @pytest.fixture()
    def app_overrides(self):  # type: ignore[no-untyped-def]
        return {"RATELIMIT_ENABLED": True, "LOGIN_RATE_LIMIT": "100 per minute",
                "LOGIN_ACCOUNT_RATE_LIMIT": "3 per minute", "REGISTER_RATE_LIMIT": "2 per hour",
                "RESET_RATE_LIMIT": "100 per minute", "RESET_ACCOUNT_RATE_LIMIT": "2 per hour",
                "UPLOAD_RATE_LIMIT": "2 per hour", "ACCOUNT_CHANGE_RATE_LIMIT": "2 per hour",
                "EXPORT_RATE_LIMIT": "1 per hour", "INVITE_RATE_LIMIT": "2 per hour",
                "JOIN_RATE_LIMIT": "2 per minute", "TRUSTED_PROXY_COUNT": 1}

    def test_one_account_is_limited_whatever_address_the_attacker_uses(self, client,
                                                                       make_family):
        user, _ = make_family()
        codes = [client.post("/login", data={"email": user.email, "password": "guess"},
                             headers={"X-Forwarded-For": f"203.0.113.{n}"}).status_code
                 for n in range(4)]
        assert codes == [200, 200, 200, 429]
        other, _ = make_family()  # another account from the same addresses is unaffected
        assert client.post("/login", data={"email": other.email, "password": PASSWORD},
                           headers={"X-Forwarded-For": "203.0.113.9"}).status_code == 302

    def test_behind_a_trusted_proxy_each_client_has_its_own_bucket(self, client):
        form = {"display_name": "x"}  # invalid: only the count matters
        one = [client.post("/register", data=form, headers={"X-Forwarded-For": "198.51.100.1"})
               .status_code for _ in range(3)]
        two = client.post("/register", data=form, headers={"X-Forwarded-For": "198.51.100.2"})
        assert one == [200, 200, 429] and two.status_code == 200

    def test_reset_requests_are_limited_per_address(self, client, make_family):
        user, _ = make_family()
        codes = [client.post("/forgot", data={"email": user.email},
                             headers={"X-Forwarded-For": f"192.0.2.{n}"}).status_code
                 for n in range(3)]
        assert codes == [302, 302, 429]

    def test_account_changes_exports_invitations_and_uploads_are_limited(self, client,
                                                                         make_family, login_as):
        import io

        from tests.web.helpers import png_bytes

        user, child = make_family()
        login_as(user)
        bad = {"new_email": "x@example.com", "current_password": "wrong"}
        assert [client.post("/account/email", data=bad).status_code
                for _ in range(3)] == [400, 400, 429]
        assert [client.post("/account/export").status_code for _ in range(2)][1] == 429
        invite = {"email": "a@example.com", "role": "viewer", "relationship": "other"}
        assert [client.post(f"/families/{child.family_id}/invitations", data=invite)
                .status_code for _ in range(3)] == [302, 302, 429]
        photo = entry_photo_form()
        codes = [client.post(f"/children/{child.id}/entries/new?kind=photo",
                             data={**photo, "photos": [(io.BytesIO(png_bytes()), "p.png")]},
                             content_type="multipart/form-data").status_code
                 for _ in range(3)]
        assert codes == [302, 302, 429]
        # A note without files is not an upload: still allowed.
        note = client.post(f"/children/{child.id}/entries/new?kind=note",
                           data=entry_photo_form(title="Still fine", body="x"))
        assert note.status_code == 302

    def test_join_links_are_limited(self, client):
        codes = [client.post("/join/whatever", headers={"X-Forwarded-For": "192.0.2.50"})
                 .status_code for _ in range(3)]
        assert codes[-1] == 429


def entry_photo_form(**fields):  # type: ignore[no-untyped-def]
    from tests.web.helpers import entry_form
    return entry_form(**{"title": "Beach", **fields})


def test_wsgi_sets_what_it_built_aside_from_the_garbage_collector(tmp_path):
    """The production entry point freezes the objects made while building the app (about
    260,000), so a full collection in a worker walks only what requests made since (it took
    about 140 ms each time before). The test suite's own apps are not frozen."""
    probe = ("import gc, wsgi; "
             "print(gc.get_freeze_count(), sum(gc.get_count()), len(gc.get_objects()))")
    env = {**os.environ, "APP_ENV": "development", "INSTANCE_PATH": str(tmp_path),
           "DATABASE_URL": f"sqlite:///{tmp_path / 'app.db'}"}
    done = subprocess.run([sys.executable, "-c", probe], cwd=Path(__file__).parents[2],
                          env=env, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr[-2000:]
    frozen, pending, tracked = map(int, done.stdout.split()[-3:])
    assert frozen > 100_000  # the app and everything it imported
    assert tracked < frozen // 10 and pending < 1_000  # left for the collector: a little
    assert gc.get_freeze_count() == 0  # the suite's process freezes nothing
