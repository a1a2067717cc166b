"""From "Ask us" to an answer, in a real browser.

A parent on the help centre presses "Ask us", sends a question (the page she was on goes
with it), and sees it in her questions. The demo-like service agent finds it in the studio's
queue, answers with an internal note beside it, and the parent sees the answer, never the
note.
"""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

import clock
import db
from diary import accounts, families, registration
from tests.e2e.conftest import serve, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"


@pytest.fixture(scope="module")
def tickets_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with serve(tmp_path_factory.mktemp("tickets-live")) as site:
        yield site.base, site.database


@pytest.fixture(scope="module")
def live_server(tickets_site: tuple[str, str]) -> str:
    return tickets_site[0]


@pytest.fixture(scope="module")
def people(tickets_site: tuple[str, str]) -> dict[str, str]:
    """A parent and a service agent in the live server's database: who → email."""
    engine = db.make_engine(tickets_site[1])
    emails = {"parent": f"ask-{secrets.token_hex(4)}@example.com",
              "service": f"service-{secrets.token_hex(4)}@example.com"}
    try:
        with db.make_session_factory(engine)() as session:
            done = registration.register(session, registration.Registration(
                email=emails["parent"], password=PASSWORD,
                profile=accounts.Profile(display_name="Asking Mum", timezone="Asia/Shanghai"),
                relationship="mother", child_data_consent=True, digest_opt_in=False,
                marketing_opt_in=False, child=families.ChildDetails(
                    name="Mia", birth_date=clock.today_in("Asia/Shanghai")
                    - timedelta(days=60), sex="female")), "test")
            done.user.email_verified_at = clock.utcnow()
            accounts.create_staff(session, emails["service"], PASSWORD, "service",
                                  "Sam Browser")
            session.commit()
    finally:
        engine.dispose()
    return emails


def test_ask_us_to_a_staff_reply_to_a_csat_answer(new_page: Any, people: dict[str, str],
                                                    server_errors: list[str]) -> None:
    parent = new_page()
    sign_in(parent, people["parent"], PASSWORD)
    parent.goto("/help")
    with parent.expect_navigation():
        parent.locator("a.ask-us").click()
    assert parent.url.endswith("/help/ask?from=/help")
    parent.select_option("select[name=category]", "complaint")
    parent.select_option("select[name=child_id]", label="Mia")
    parent.fill("input[name=subject]", "Nappy <b>leaks</b>")
    parent.fill("textarea[name=body]", "Every night since the new pack.")
    with parent.expect_navigation():
        parent.locator("main form.ticket-form button[type=submit]").click()
    assert "/help/tickets/" in parent.url
    ticket_url = parent.url
    assert parent.locator("h1.ticket-subject").inner_text() == "Nappy <b>leaks</b>"
    assert parent.locator(".ticket-status").inner_text() == "New"

    staff = new_page()
    sign_in(staff, people["service"], PASSWORD)
    staff.goto("/studio/tickets")
    row = staff.locator("table.tickets-queue tr", has_text="Nappy <b>leaks</b>")
    with staff.expect_navigation():
        row.locator("a").first.click()
    assert "/help" in staff.locator("header").inner_text()  # asked from the help centre
    staff.fill("#note textarea[name=body]", "Check the batch number.")
    with staff.expect_navigation():
        staff.locator("#note button[type=submit]").click()
    staff.fill("#reply textarea[name=body]", "Sorry! A new pack is on its way.")
    staff.select_option("#reply select[name=status]", "waiting")
    with staff.expect_navigation():
        staff.locator("#reply form[method=post] button[type=submit]").click()
    assert staff.locator(".ticket-status").inner_text() == "Waiting on customer"

    parent.goto(ticket_url)
    thread = parent.locator("ol.ticket-thread").inner_text()
    assert "Sorry! A new pack is on its way." in thread
    assert "Check the batch number." not in parent.content()
    assert parent.locator(".ticket-status").inner_text() == "Waiting on customer"
    parent.fill("textarea[name=body]", "Thank you!")
    with parent.expect_navigation():
        parent.locator("#reply button[type=submit]").click()
    assert "Thank you!" in parent.locator("ol.ticket-thread").inner_text()
    assert parent.locator(".ticket-status").inner_text() == "In progress"

    # the service agent resolves it; the parent finds "how did we do?" in her inbox
    staff.reload()
    staff.select_option("form[action$='/status'] select[name=status]", "resolved")
    with staff.expect_navigation():
        staff.locator("form[action$='/status'] button[type=submit]").click()
    assert staff.locator(".ticket-status").inner_text() == "Resolved"
    parent.goto("/inbox")
    card = parent.locator("form[action^='/surveys/']")
    assert "How satisfied are you with the answer to your question?" in \
        parent.locator("main").inner_text()
    with parent.expect_navigation():
        card.locator("button.survey-score[value='5']").click()
    assert "Thank you for your answer!" in parent.content()
    assert "How satisfied are you" not in parent.goto("/inbox").text()
    assert server_errors == []
