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
from tests.e2e.conftest import serve, sign_in
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
    sign_in(marketer, staff["marketer"], PASSWORD)
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
    sign_in(reviewer, staff["reviewer"], PASSWORD)
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


def test_a_version_saved_after_the_reviewer_opened_it_is_not_published(
        new_page: Any, staff: dict[str, str], server_errors: list[str]) -> None:
    """The pen-test's race: the reviewer opens version 1, the marketer saves version 2, the
    reviewer presses Approve — nothing goes live, the conflict links to the changes. Then the
    reviewer's own edit to the live article cannot be approved by the reviewer."""
    slug = "week-30-review-race"
    first, second = "Week 30: reviewed text", "Week 30: changed later"
    anonymous = new_page()

    def live_title() -> str | None:
        response = anonymous.goto(f"/articles/{slug}")
        assert response is not None and response.status in (200, 404), response.status
        return anonymous.locator("h1").inner_text() if response.status == 200 else None

    def fill(page: Any, title: str) -> None:
        page.fill("input[name=title_en]", title)
        page.fill("input[name=title_zh_CN]", "孕30周")
        page.fill("textarea[name=body_en]", "Nearly there.")
        page.fill("textarea[name=body_zh_CN]", "快到了。")

    marketer = new_page()
    sign_in(marketer, staff["marketer"], PASSWORD)
    marketer.goto("/studio/new/article")
    marketer.fill("input[name=key]", slug)
    marketer.select_option("select[name=window_unit]", "pregnancy_week")
    marketer.fill("input[name=window_from]", "30")
    marketer.fill("input[name=window_to]", "30")
    fill(marketer, first)
    _click_and_wait(marketer, marketer.locator("#item-form button[type=submit]"))
    editor_url = marketer.url
    _click_and_wait(marketer, marketer.get_by_role("button", name="Submit for review"))

    reviewer = new_page()
    sign_in(reviewer, staff["reviewer"], PASSWORD)
    reviewer.goto(editor_url)
    seen = reviewer.locator(".studio-workflow").inner_text()

    marketer.goto(editor_url)  # meanwhile the marketer saves version 2
    fill(marketer, second)
    _click_and_wait(marketer, marketer.locator("#item-form button[type=submit]"))
    assert marketer.get_by_text("Saved as version 2.").is_visible()

    with reviewer.expect_navigation() as navigation:
        reviewer.get_by_role("button", name="Approve and publish").click()
    assert navigation.value.status == 409
    alert = reviewer.locator(".studio-refused")
    assert ("This item changed since you opened it (version 2 by Browser Marketer). Review "
            "the new version before publishing.") in alert.inner_text()
    assert live_title() is None
    assert "To approve" in seen and "Version 1 · by Browser Marketer" in seen
    _click_and_wait(reviewer, alert.get_by_role("link", name="See what changed since version 1"))
    assert reviewer.locator(".diff-add", has_text=second).is_visible()
    assert reviewer.locator(".diff-del", has_text=first).is_visible()

    reviewer.goto(editor_url)
    assert "Version 2" in reviewer.locator(".studio-under-review").inner_text()
    _click_and_wait(reviewer, reviewer.get_by_role("button", name="Approve and publish"))
    assert reviewer.get_by_text("Published: families can see it now.").is_visible()
    assert live_title() == second

    # The reviewer's own change to the live article waits, and is not theirs to approve.
    fill(reviewer, "Week 30: the reviewer's own words")
    _click_and_wait(reviewer, reviewer.locator("#item-form button[type=submit]"))
    button = reviewer.locator(".studio-workflow").get_by_role("button",
                                                             name="Approve and publish")
    assert button.is_disabled()
    assert reviewer.locator("#own-edit-reason").inner_text() == (
        "You wrote or changed this version, so another reviewer must approve it.")
    assert live_title() == second
    reviewer.goto(editor_url.replace("/edit", "/versions"))
    log = reviewer.locator(".studio-publications")
    assert "Approved by a second person" in log.inner_text()
    assert "Browser Reviewer" in log.inner_text()
    assert not server_errors, server_errors
