"""Building a segment in a real browser: the live count follows every change (htmx), rows are
added and swapped in place, the segment is saved and its members load on its page — in
English on a desktop and in Chinese on a phone."""
from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
from playwright.sync_api import expect

import clock
import db
from crm.models import CustomerScore
from diary import accounts, families
from diary.models import Child
from tests.conftest import months_before
from tests.e2e.conftest import serve, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with serve(tmp_path_factory.mktemp("segments-live")) as live:
        yield live.base, live.database


@pytest.fixture(scope="module")
def live_server(site: tuple[str, str]) -> str:
    return site[0]


@pytest.fixture(scope="module")
def people(site: tuple[str, str]) -> dict[str, str]:
    """An analyst (English), a marketer (Chinese), and three scored customers: two high-tier,
    one of them with a child turning one within the month."""
    engine = db.make_engine(site[1])
    emails = {"analyst": f"analyst-{secrets.token_hex(3)}@example.com",
              "marketer": f"marketer-{secrets.token_hex(3)}@example.com"}
    now = datetime.now(UTC)
    try:
        with db.make_session_factory(engine)() as s:
            accounts.create_staff(s, emails["analyst"], PASSWORD, "analyst", "Alex Analyst")
            zh = accounts.create_staff(s, emails["marketer"], PASSWORD, "marketer", "米娅")
            zh.locale = "zh_CN"
            # turns one in ten days, in the family's zone
            soon = months_before(clock.today_in("Asia/Shanghai") + timedelta(days=10), 12)
            today = clock.today_in("Asia/Shanghai")
            for n, (tier, born) in enumerate((("high", soon),
                                              ("high", date(today.year - 3, 1, 1)),
                                              ("low", None))):
                user = accounts.create_user(s, f"c{n}-{secrets.token_hex(3)}@example.com",
                                            PASSWORD, accounts.Profile(display_name=f"C{n}"))
                family = families.create_family(s, user, "mother")
                if born is not None:
                    s.add(Child(family=family, name=f"K{n}", birth_date=born))
                s.add(CustomerScore(user_id=user.id, computed_at=now, frequency=1,
                                    monetary_minor=100, r_score=1, f_score=1, m_score=1,
                                    tier=tier, value_group="other", expected_purchases_90d=0,
                                    p_alive=0.5, clv_minor=100))
            s.commit()
    finally:
        engine.dispose()
    return emails


def _count(page: Any) -> str:
    return " ".join(page.locator("#segment-count").inner_text().split())


def _settled(page: Any) -> None:
    """Wait until htmx has finished swapping and settling: a new row's controls get their
    handlers when it settles, and a change made before that would go unheard."""
    page.wait_for_function(
        "() => !document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling, "
        ".htmx-added')")


def test_build_a_segment_and_watch_the_count(new_page: Any, people: dict[str, str],
                                             server_errors: list[str]) -> None:
    page = new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)
    sign_in(page, people["analyst"], PASSWORD)
    problems.clear()  # (staff land on /studio after signing in: content, not for analysts)
    page.goto("/studio/segments/new")
    # the first row asks for born children: two customers have one
    assert _count(page) == "2 customers match"

    # a new field: htmx swaps the row for that field's comparisons and values
    page.select_option("#c-0-field", "tier")
    page.wait_for_selector("#c-0-v-high")
    _settled(page)
    page.check("#c-0-v-high")
    expect(page.locator("#segment-count")).to_contain_text("2 customers")
    page.check("#c-0-v-low")
    expect(page.locator("#segment-count")).to_contain_text("3 customers")
    page.uncheck("#c-0-v-low")

    # another condition: the child turns 12 months within 31 days
    page.click("button[name=add]")
    page.wait_for_selector("#c-1-field")
    _settled(page)
    page.select_option("#c-1-field", "child_age")
    page.wait_for_selector("#c-1-op option[value=turning_months_within_days]",
                           state="attached")
    page.select_option("#c-1-op", "turning_months_within_days")
    page.wait_for_selector("#c-1-v2")
    _settled(page)
    page.fill("#c-1-v", "12")
    page.fill("#c-1-v2", "31")
    expect(page.locator("#segment-count")).to_contain_text("1 customer matches")
    # a value out of range is explained in place of the number
    page.fill("#c-1-v2", "999")
    expect(page.locator("#segment-count")).to_contain_text("enter whole numbers")
    page.fill("#c-1-v2", "31")
    expect(page.locator("#segment-count")).to_contain_text("1 customer matches")

    page.fill("#name", "High value, turning one")
    with page.expect_navigation():
        page.click("button[name=save]")
    assert "/studio/segments/" in page.url and page.url.rstrip("/").split("/")[-1].isdigit()
    assert "Segment “High value, turning one” saved." in page.inner_text("main")
    assert _count(page) == "1 customer matches"
    page.wait_for_selector("#members table")  # loaded after the page, recorded
    assert "C0" in page.inner_text("#members")
    assert server_errors == [] and problems == []


def test_the_builder_on_a_phone_in_chinese(new_page: Any, people: dict[str, str],
                                          server_errors: list[str]) -> None:
    page = new_page(width=390, height=844, is_mobile=True, has_touch=True)
    sign_in(page, people["marketer"], PASSWORD)
    page.goto("/studio/segments/new")
    assert "添加条件" in page.inner_text("main")
    assert "位客户符合" in _count(page)
    page.select_option("#c-0-field", "interests")
    page.wait_for_selector("#c-0-v-skin_care")
    assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert server_errors == []
