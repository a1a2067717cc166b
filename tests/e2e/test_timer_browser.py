"""A feed timer on a phone-sized screen: one tap starts it, a reload keeps it (it lives on
the server), another device stops it, and the entry and "Last feed … ago" appear."""
from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests.e2e.conftest import sign_in
from tests.e2e.test_growth_browser import PASSWORD, TIMEZONE
from tests.e2e.test_growth_browser import _register_boy as _register

pytestmark = pytest.mark.browser

PHONE = {"width": 390, "height": 844, "is_mobile": True, "has_touch": True}


def _fits(page: Any) -> None:
    assert page.evaluate("document.documentElement.scrollWidth") <= 390


def test_a_feed_timer_on_a_phone(new_page: Any, server_errors: list[str]) -> None:
    birth = datetime.now(ZoneInfo(TIMEZONE)).date() - timedelta(days=20)
    email = f"timer-{secrets.token_hex(4)}@example.com"
    phone = new_page(PHONE["width"], PHONE["height"], is_mobile=True, has_touch=True)
    child_url = _register(phone, email, birth.isoformat())
    assert phone.locator("#last-feed").inner_text().strip().endswith("No feed logged yet")
    _fits(phone)

    # one tap starts a feed on the left
    with phone.expect_navigation():
        phone.locator("#start-feed-left").tap()
    assert "Feed timer started." in phone.locator("main").inner_text()
    running = phone.locator(".running-timer[data-kind=feed]")
    assert "Feed (left)" in running.inner_text()
    # the script ticks the clock (m:ss) from the stored start
    phone.wait_for_function(
        "() => /^\\d+:\\d\\d$/.test(document.querySelector('.timer-clock').textContent)")
    assert phone.locator("#start-feed-left").count() == 0
    _fits(phone)

    # a reload keeps it: it is on the server, not in the page
    phone.reload()
    assert phone.locator(".running-timer[data-kind=feed]").count() == 1
    started = phone.locator(".timer-clock").get_attribute("data-started")

    # the other parent's phone (another device, same family) sees the same timer, stops it
    other = new_page(PHONE["width"], PHONE["height"], is_mobile=True, has_touch=True)
    sign_in(other, email, PASSWORD)
    other.goto(child_url)
    assert other.locator(".timer-clock").get_attribute("data-started") == started
    with other.expect_navigation():
        other.locator(".running-timer form button[type=submit]").first.tap()
    main = other.locator("main").inner_text()
    assert "Saved to Leo's book." in main
    assert re.search(r"Last feed \d+ min ago \(left\)", other.locator("#last-feed").inner_text())
    assert other.locator(".running-timer").count() == 0
    latest = other.locator("section[aria-labelledby=latest-title]").inner_text()
    assert re.search(r"Breast \(left\) · \d+ minutes?", latest), latest
    _fits(other)

    # the first phone, still showing the old page, presses Stop: told, nothing doubled
    with phone.expect_navigation():
        phone.locator(".running-timer form button[type=submit]").first.tap()
    assert "This timer was already stopped." in phone.locator("main").inner_text()
    assert phone.locator("section[aria-labelledby=latest-title]").get_by_text(
        re.compile(r"Breast \(left\)")).count() == 1

    # the day's summary on the phone: one feed today, drawn without a script library
    phone.goto(child_url + "/days")
    assert phone.locator("#total-feeds").inner_text().strip() == "1"
    assert phone.locator("svg.daily-chart").count() == 4  # no bottles: no amounts chart
    _fits(phone)
    assert server_errors == []
