"""Authoring and publishing an article in the content studio, in a real browser.

A marketer writes a week-20 article in English and Chinese (watching the htmx live preview
render the Markdown), saves it as a draft and sends it for review, and cannot publish it
herself. A reviewer schedules it for tomorrow, then publishes it now. A parent who is 20
weeks pregnant signs up and finds it under "This week for you", in both languages.

This module runs its own copy of the live server (same recipe as tests/e2e/conftest.py) so
it knows the database URL, which it needs to create the staff accounts, and so the three
week-20 "This week for you" slots only ever hold this test's article.
"""
from __future__ import annotations

import re
import secrets
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

import db
from diary import accounts
from tests.e2e.conftest import serve
from tests.e2e.mail import confirm_email

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
TIMEZONE = "Asia/Shanghai"  # the staff accounts' default zone, and the parent's choice
SLUG = "week-20-browser-test"
TITLE_EN = "Week 20: halfway there"
TITLE_ZH = "孕20周：旅程过半"
SUMMARY_EN = "Your baby can hear you now, and the mid-pregnancy scan is coming up."
SUMMARY_ZH = "宝宝已经能听到你的声音了，大排畸检查也快到了。"
HEADING_EN = "What happens this week"
BODY_EN = (f"## {HEADING_EN}\n\nYour baby is about the size of a banana and can "
           "**hear your voice**.\n\n- Talk and sing to your bump\n- Book the anomaly scan")
HEADING_ZH = "本周发生了什么"
BODY_ZH = f"## {HEADING_ZH}\n\n宝宝大约有一根香蕉那么长，已经能**听到你的声音**。"
PUBLISH_REFUSED = "A reviewer must approve this before it is published."


@pytest.fixture(scope="module")
def studio_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    """(base URL, database URL) of a live app of this module's own."""
    with serve(tmp_path_factory.mktemp("studio-live")) as site:
        yield site.base, site.database


@pytest.fixture(scope="module")
def live_server(studio_site: tuple[str, str]) -> str:
    """Overrides the conftest's server for this module: `page`/`new_page` use ours."""
    return studio_site[0]


@pytest.fixture(scope="module")
def staff(studio_site: tuple[str, str]) -> dict[str, str]:
    """A marketer and a reviewer in the live server's database: role → email."""
    engine = db.make_engine(studio_site[1])
    emails = {role: f"{role}-{secrets.token_hex(4)}@example.com"
              for role in ("marketer", "reviewer")}
    try:
        with db.make_session_factory(engine)() as session:
            for role, email in emails.items():
                accounts.create_staff(session, email, PASSWORD, role, f"Browser {role.title()}")
            session.commit()
    finally:
        engine.dispose()
    return emails


def _sign_in(page: Any, email: str) -> None:
    page.goto("/login")
    page.fill("input[name=email]", email)
    page.fill("input[name=password]", PASSWORD)
    with page.expect_navigation():
        page.locator("main form button[type=submit]").last.click()
    assert not page.url.endswith("/login"), "sign-in failed"


def _click_and_wait(page: Any, locator: Any) -> None:
    with page.expect_navigation():
        locator.click()


def _status(page: Any) -> Any:
    """The status badge in the editor's item header."""
    return page.locator(".studio-item-header .studio-status").first


def _write_article(page: Any) -> None:
    """Fill the new-article editor; the English body is typed key by key (htmx preview)."""
    page.goto("/studio/new/article")
    page.fill("input[name=key]", SLUG)
    page.select_option("select[name=window_unit]", "pregnancy_week")
    page.fill("input[name=window_from]", "20")
    page.fill("input[name=window_to]", "20")
    page.check("input[name=topics][value=fetal-development]")
    page.fill("input[name=title_en]", TITLE_EN)
    page.fill("textarea[name=summary_en]", SUMMARY_EN)
    page.fill("input[name=title_zh_CN]", TITLE_ZH)
    page.fill("textarea[name=summary_zh_CN]", SUMMARY_ZH)
    page.fill("textarea[name=body_zh_CN]", BODY_ZH)
    page.fill("input[name=source]", "WHO, NHS")

    # Typing fires keyup: htmx posts the text and swaps the rendered HTML into the pane.
    page.locator("textarea[name=body_en]").press_sequentially(BODY_EN)
    preview = page.locator("#preview-en")
    preview.locator("h2", has_text=HEADING_EN).wait_for()
    preview.locator("strong", has_text="hear your voice").wait_for()
    assert preview.locator("li").count() == 2
    assert "##" not in preview.inner_text() and "**" not in preview.inner_text()


def test_marketer_writes_reviewer_publishes_parent_reads(new_page: Any, staff: dict[str, str],
                                                         server_errors: list[str]) -> None:
    anonymous = new_page()

    def is_live() -> bool:
        response = anonymous.goto(f"/articles/{SLUG}")
        assert response is not None and response.status in (200, 404), response.status
        return response.status == 200

    # 1. The marketer writes both languages, saves a draft and sends it for review.
    marketer = new_page()
    _sign_in(marketer, staff["marketer"])
    _write_article(marketer)
    _click_and_wait(marketer, marketer.locator("#item-form button[type=submit]"))
    assert re.search(r"/studio/\d+/edit$", marketer.url), marketer.url
    editor_url = marketer.url
    assert marketer.get_by_text("Saved as version 1.").is_visible()
    assert marketer.locator("h1").inner_text() == TITLE_EN
    assert _status(marketer).inner_text() == "Draft"
    assert "studio-status-draft" in (_status(marketer).get_attribute("class") or "")
    # Both languages were stored and come back in the editor, previews rendered server-side.
    assert marketer.input_value("input[name=title_zh_CN]") == TITLE_ZH
    assert marketer.locator("#preview-zh_CN h2").inner_text() == HEADING_ZH
    assert marketer.locator("#preview-en strong").inner_text() == "hear your voice"

    _click_and_wait(marketer, marketer.get_by_role("button", name="Submit for review"))
    assert marketer.get_by_text("Sent for review.").is_visible()
    assert _status(marketer).inner_text() == "In review"
    workflow = marketer.locator(".studio-workflow")
    for refused in ("Approve and publish", "Publish", "Publish now", "Schedule"):
        assert workflow.get_by_role("button", name=refused, exact=True).count() == 0, refused
    # Posting the publish action anyway (with a valid CSRF token) is refused.
    with marketer.expect_navigation():
        marketer.evaluate("""() => {
            const form = document.createElement("form");
            form.method = "post";
            form.action = location.pathname.replace(/\\/edit$/, "/workflow/publish");
            const token = document.querySelector(".studio-workflow input[name=csrf_token]");
            form.appendChild(token.cloneNode());
            document.body.appendChild(form);
            form.submit();
        }""")
    assert marketer.url == editor_url
    assert marketer.locator(".alert", has_text=PUBLISH_REFUSED).is_visible()
    assert _status(marketer).inner_text() == "In review"
    assert not is_live()

    # 2. The reviewer schedules it for tomorrow (her zone), then publishes it right away.
    reviewer = new_page()
    _sign_in(reviewer, staff["reviewer"])
    reviewer.goto(editor_url)
    assert reviewer.get_by_role("button", name="Approve and publish").is_visible()
    tomorrow = (datetime.now(ZoneInfo(TIMEZONE)) + timedelta(days=1)).replace(second=0,
                                                                              microsecond=0)
    reviewer.fill("#schedule-at", tomorrow.strftime("%Y-%m-%dT%H:%M"))
    _click_and_wait(reviewer, reviewer.get_by_role("button", name="Schedule", exact=True))
    assert reviewer.locator(".alert", has_text="Approved. It goes live on").is_visible()
    assert _status(reviewer).inner_text() == "Scheduled"
    assert not is_live()
    reviewer.goto("/studio")
    row = reviewer.locator("tr", has=reviewer.locator("code", has_text=SLUG))
    assert row.locator(".studio-status").first.inner_text() == "Scheduled"
    assert row.get_by_text(TITLE_ZH).is_visible()
    assert row.get_by_text("Pregnancy week 20").is_visible()
    _click_and_wait(reviewer, row.get_by_role("link", name=TITLE_EN))
    _click_and_wait(reviewer, reviewer.get_by_role("button", name="Publish now"))
    assert reviewer.get_by_text("Published: families can see it now.").is_visible()
    assert _status(reviewer).inner_text() == "Published"
    assert is_live()

    # 3. A parent 20 weeks pregnant (due in 140 days, Shanghai time) signs up.
    parent = new_page()
    parent.goto("/register")
    parent.fill("input[name=display_name]", "Mei Parent")
    parent_email = f"expecting-{secrets.token_hex(4)}@example.com"
    parent.fill("input[name=email]", parent_email)
    parent.fill("input[name=password]", PASSWORD)
    parent.fill("input[name=confirm]", PASSWORD)
    parent.select_option("select[name=timezone]", TIMEZONE)
    parent.fill("input[name=child_name]", "Bean")
    parent.check("input[name=status][value=expecting]")
    due = datetime.now(ZoneInfo(TIMEZONE)).date() + timedelta(days=140)
    parent.fill("input[name=due_date]", due.isoformat())
    parent.check("input[name=child_data_consent]")
    _click_and_wait(parent, parent.locator("main form button[type=submit]").last)
    confirm_email(parent, parent_email)
    assert re.search(r"/children/\d+$", parent.url), parent.url
    child_url = parent.url
    this_week = parent.locator("#this-week")
    assert this_week.get_by_role("heading", name="This week for you").is_visible()
    assert this_week.get_by_text("Pregnancy week 20", exact=True).is_visible()
    link = this_week.get_by_role("link", name=TITLE_EN)
    assert link.is_visible()
    assert this_week.get_by_text(SUMMARY_EN).is_visible()

    _click_and_wait(parent, link)
    assert parent.url.endswith(f"/articles/{SLUG}"), parent.url
    assert parent.locator("h1").inner_text() == TITLE_EN
    body = parent.locator(".article-body")
    assert body.locator("h2").inner_text() == HEADING_EN
    assert body.locator("strong").inner_text() == "hear your voice"

    _click_and_wait(parent, parent.locator("button[name=lang][value=zh_CN]"))
    assert parent.url.endswith(f"/articles/{SLUG}"), parent.url
    assert parent.locator("html").get_attribute("lang") == "zh-CN"
    assert parent.locator("h1").inner_text() == TITLE_ZH
    assert parent.locator(".article-body h2").inner_text() == HEADING_ZH
    parent.goto(child_url)  # the dashboard, now in Chinese too
    assert parent.locator("#this-week").get_by_role("link", name=TITLE_ZH).is_visible()
    assert not server_errors, server_errors
