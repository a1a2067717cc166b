"""The email preference centre and the unsubscribe link, in a real browser.

A parent signs up with the weekly email ticked, finds "Email preferences" on the account page,
switches to a daily email at 07:00 about two topics (kept after a reload), pauses email for two
weeks (the page names the last paused day, two weeks ahead), resumes, and turns the digest off.
Then, with the digest and offers back on, the unsubscribe link from an email, opened without
signing in, withdraws both at once, and the preference centre shows them off.

This module runs its own copy of the live server (same recipe as tests/e2e/conftest.py) so it
knows the database URL and the app's secret: the unsubscribe link is signed with the app's
SECRET_KEY and names the parent's user id, which no page shows.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from types import SimpleNamespace
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

import db
from diary.models import Consent, User
from journeys import unsubscribe
from tests.e2e.conftest import serve
from tests.e2e.mail import confirm_email
from tests.tokens import tampered

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
TIMEZONE = "Asia/Shanghai"
TOPICS = ("feeding", "sleep")
SAVED = "Your choices are saved."
DIGEST = "input[name=digest_opt_in]"
MARKETING = "input[name=marketing_opt_in]"


@pytest.fixture(scope="module")
def prefs_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """A live app of this module's own: its base URL, database URL and secret."""
    with serve(tmp_path_factory.mktemp("prefs-live")) as site:
        yield {"base": site.base, "database": site.database, "secret": site.secret}


@pytest.fixture(scope="module")
def live_server(prefs_site: dict[str, str]) -> str:
    """Overrides the conftest's server for this module: `page`/`new_page` use ours."""
    return prefs_site["base"]


def _user(database_url: str, email: str) -> dict[str, Any]:
    """The parent's row, and the digest consent records, read straight from the database."""
    engine = db.make_engine(database_url)
    try:
        with db.make_session_factory(engine)() as session:
            user = session.scalar(select(User).where(User.email == email))
            assert user is not None, email
            digest_consents = list(session.scalars(
                select(Consent.granted).where(Consent.user_id == user.id,
                                              Consent.kind == Consent.DIGEST)
                .order_by(Consent.id)))
            return {"id": user.id, "link_key": user.link_key, "digest": user.digest_opt_in,
                    "marketing": user.marketing_opt_in, "digest_consents": digest_consents}
    finally:
        engine.dispose()


def _register(page: Any, email: str) -> None:
    """Sign up in Shanghai time, expecting a baby, with the weekly email ticked."""
    page.goto("/register")
    page.fill("input[name=display_name]", "Mei Prefs")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    page.fill("input[name=confirm]", PASSWORD)
    page.select_option("select[name=timezone]", TIMEZONE)
    page.fill("input[name=child_name]", "Bao")
    page.check("input[name=status][value=expecting]")
    due = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=120)
    page.fill("input[name=due_date]", due.isoformat())
    page.check("input[name=child_data_consent]")
    page.check(DIGEST)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    confirm_email(page, email)
    assert re.search(r"/children/\d+$", page.url), page.url


def _submit(page: Any, button_text: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=button_text).click()


def _flash(page: Any) -> str:
    return page.locator(".alert-success").first.inner_text()


def _settings(page: Any) -> dict[str, Any]:
    """What the preference centre's form shows now."""
    return {
        "digest": page.is_checked(DIGEST),
        "marketing": page.is_checked(MARKETING),
        "frequency": page.locator("input[name=frequency]:checked").get_attribute("value"),
        "send_hour": page.input_value("select[name=send_hour]"),
        "topics": sorted(page.locator("input[name=topics]:checked").evaluate_all(
            "inputs => inputs.map(i => i.value)")),
    }


def _paused_until_choices() -> set[str]:
    """The last paused day for a two-week pause started today in Shanghai (inclusive, so
    today + 13 days); tomorrow's value too, in case the test runs across local midnight."""
    today: date = datetime.now(ZoneInfo(TIMEZONE)).date()
    return {(day + timedelta(weeks=2) - timedelta(days=1)).isoformat()
            for day in (today, today + timedelta(days=1))}


def test_preference_centre_and_unsubscribe_link(page: Any, new_page: Any,
                                                prefs_site: dict[str, str],
                                                server_errors: list[str]) -> None:
    email = f"prefs-{secrets.token_hex(4)}@example.com"
    _register(page, email)
    assert _user(prefs_site["database"], email)["digest"] is True

    # The account page links to the preference centre.
    page.goto("/account")
    with page.expect_navigation():
        page.get_by_role("link", name=re.compile("Email preferences")).click()
    assert page.url.endswith("/preferences"), page.url
    assert page.locator("h1").inner_text().strip() == "Email preferences"
    before = _settings(page)
    assert before == {"digest": True, "marketing": False, "frequency": "weekly",
                      "send_hour": "9", "topics": []}, before

    # Daily at 07:00, two topics.
    page.check("input[name=frequency][value=daily]")
    page.select_option("select[name=send_hour]", "7")
    for topic in TOPICS:
        page.check(f"input[name=topics][value={topic}]")
    _submit(page, "Save my choices")
    assert page.url.endswith("/preferences"), page.url
    assert SAVED in _flash(page)
    page.reload()
    assert page.locator(".alert-success").count() == 0  # the message was shown once
    saved = {"digest": True, "marketing": False, "frequency": "daily", "send_hour": "7",
             "topics": sorted(TOPICS)}
    assert _settings(page) == saved

    # Pause for two weeks: the page names the last paused day.
    pause = page.locator("#pause")
    page.select_option("select[name=weeks]", "2")
    _submit(page, "Pause")
    flash = _flash(page)
    shown = re.search(r"paused until (\d{4}-\d{2}-\d{2})", pause.inner_text())
    assert shown, pause.inner_text()
    assert shown.group(1) in _paused_until_choices(), shown.group(1)
    assert f"Email is paused until {shown.group(1)}." in flash
    assert pause.get_by_role("button", name="Resume email now").is_visible()
    page.reload()
    assert f"Email is paused until {shown.group(1)}." in pause.inner_text()
    assert _settings(page) == saved  # pausing leaves the other choices alone

    # Resume.
    _submit(page, "Resume email now")
    assert "Email is back on." in _flash(page)
    assert "paused until" not in pause.inner_text()
    assert pause.get_by_role("button", name="Pause").is_visible()

    # Turn the digest off.
    page.uncheck(DIGEST)
    _submit(page, "Save my choices")
    assert SAVED in _flash(page)
    page.reload()
    assert _settings(page) == {**saved, "digest": False}
    row = _user(prefs_site["database"], email)
    assert row["digest"] is False
    assert row["digest_consents"] == [True, False]  # sign-up, then withdrawn: both on record

    # Back on, with offers too, so the unsubscribe link has something to withdraw.
    page.check(DIGEST)
    page.check(MARKETING)
    _submit(page, "Save my choices")
    assert SAVED in _flash(page)
    assert _settings(page) == {**saved, "marketing": True}

    # The link from an email, opened where nobody is signed in (a phone's mail app).
    token = unsubscribe.make_token(prefs_site["secret"],
                                   SimpleNamespace(id=row["id"], link_key=row["link_key"]))
    mail_app = new_page()
    mail_app.goto(f"/e/u/{token}")
    assert mail_app.locator("h1").inner_text().strip() == "Unsubscribe from our emails?"
    body = mail_app.locator("main").inner_text()
    assert email not in body  # the address is masked on this sign-in-free page
    assert "@example.com" in body
    _submit(mail_app, "Unsubscribe")
    assert mail_app.locator("h1").inner_text().strip() == "You are unsubscribed"
    assert "takes effect at once" in mail_app.locator("main").inner_text()

    row = _user(prefs_site["database"], email)
    assert (row["digest"], row["marketing"]) == (False, False)
    page.goto("/preferences")
    assert _settings(page) == {**saved, "digest": False, "marketing": False}

    # A link with an altered signature is refused, not an error.
    mail_app.goto(f"/e/u/{tampered(token)}")
    assert "This link is not valid" in mail_app.locator("main").inner_text()

    assert server_errors == []
