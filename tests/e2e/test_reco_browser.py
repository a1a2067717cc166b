"""The cards report themselves from a real browser (webapp/static/js/reco.js).

A signed-in parent opens the product list for her baby's stage: the cards in view are logged
as impressions — only those in view, not the one far below the fold — with the list's request
id, positions and the child, through the CSRF-protected endpoint. Tapping a card logs a
click before the product page opens, and the product page's "Where to buy" goes through the
tracked redirect to the shop's stored address.
"""
from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import select

import clock
import db
from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from diary import accounts, families, registration
from recommender import impressions
from recommender.models import Interaction
from tests.e2e.conftest import serve, sign_in

pytestmark = pytest.mark.browser

PASSWORD = "a-long-browser-password"
SHOP = "https://shop.example.com/p/BJ-E2E-0"


@pytest.fixture(scope="module")
def reco_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    with serve(tmp_path_factory.mktemp("reco-live")) as site:
        yield site.base, site.database


@pytest.fixture(scope="module")
def live_server(reco_site: tuple[str, str]) -> str:
    return reco_site[0]


@pytest.fixture(scope="module")
def family(reco_site: tuple[str, str]) -> dict[str, Any]:
    """A parent of a 100-day-old (month 3) and 24 products for month 3, in the live
    server's database."""
    engine = db.make_engine(reco_site[1])
    email = f"reco-{secrets.token_hex(4)}@example.com"
    try:
        with db.make_session_factory(engine)() as session:
            done = registration.register(session, registration.Registration(
                email=email, password=PASSWORD,
                profile=accounts.Profile(display_name="Reco Mum", timezone="Asia/Shanghai"),
                relationship="mother", child_data_consent=True, digest_opt_in=False,
                marketing_opt_in=False, child=families.ChildDetails(
                    name="Mia", birth_date=clock.today_in("Asia/Shanghai")
                    - timedelta(days=100), sex="female")), "test")
            done.user.email_verified_at = clock.utcnow()
            ids = []
            for n in range(24):
                item = authoring.create(session, ItemInput(
                    kind="product", key=f"BJ-E2E-{n}", translations={
                        "en": TextInput(f"Product {n}", "s", "b"),
                        "zh_CN": TextInput(f"商品 {n}", "s", "b")},
                    window_unit="month", window_from=3, window_to=6, category="bath",
                    price_minor=1000 + n, currency="CNY",
                    buy_url=f"https://shop.example.com/p/BJ-E2E-{n}"), None)
                workflow.publish_reviewed(session, item)
                ids.append(item.id)
            session.commit()
            assert done.child is not None
            return {"email": email, "child_id": done.child.id, "user_id": done.user.id,
                    "items": ids}
    finally:
        engine.dispose()


def _logged(database: str, user_id: int) -> list[Any]:
    """The person's rows in the log, once the reported cards waiting have been logged (what
    the scheduler's "impressions" job does every half minute)."""
    engine = db.make_engine(database)
    try:
        with db.make_session_factory(engine)() as session:
            with session.begin():
                impressions.drain(session)
            return list(session.execute(
                select(Interaction.kind, Interaction.item_id, Interaction.position,
                       Interaction.child_id, Interaction.surface, Interaction.request_id)
                .where(Interaction.user_id == user_id).order_by(Interaction.id)))
    finally:
        engine.dispose()


def test_cards_in_view_are_impressions_and_a_tap_is_a_click(
        page: Any, family: dict[str, Any], reco_site: tuple[str, str],
        server_errors: list[str]) -> None:
    sign_in(page, family["email"], PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 600})
    with page.expect_response("**/api/interactions") as reported:
        page.goto("/products")
    assert reported.value.status == 200
    first = _logged(reco_site[1], family["user_id"])
    assert first and {row.kind for row in first} == {"impression"}
    positions = sorted(row.position for row in first)
    assert positions == list(range(len(positions))) and len(positions) < 24  # in view only
    assert {(row.child_id, row.surface) for row in first} == {(family["child_id"],
                                                               "product_list")}
    assert len({row.request_id for row in first}) == 1
    card = page.locator(f".product-card[data-reco-item='{family['items'][0]}']")  # not the suggestions' card
    # Opened in a new tab, so this page stays to hear the answer (a plain tap sends the
    # same report with keepalive while the next page loads, which a test cannot wait on).
    with page.expect_response("**/api/interactions") as sent:
        card.click(modifiers=["Control"])
    assert sent.value.status == 200
    kinds = [row.kind for row in _logged(reco_site[1], family["user_id"])]
    assert kinds.count("click") == 1
    page.goto("/products/BJ-E2E-0")
    buy = page.get_by_role("link", name="Where to buy")
    assert buy.get_attribute("href").startswith("/go/")
    with page.expect_response(lambda r: "/go/" in r.url) as redirect:
        page.evaluate("url => fetch(url, {redirect: 'manual'})", buy.get_attribute("href"))
    assert redirect.value.status in (0, 302)  # an opaque redirect to the shop
    clicks = [row for row in _logged(reco_site[1], family["user_id"]) if row.kind == "click"]
    assert len(clicks) == 2 and clicks[-1].surface == "product_list"
    assert server_errors == []


def test_suggestions_seen_wait_for_company_and_go_when_the_visitor_leaves(
        page: Any, family: dict[str, Any], reco_site: tuple[str, str],
        server_errors: list[str]) -> None:
    """The child page's suggestions are inline; the cards seen wait in sessionStorage while
    the parent moves around the site, and are sent in one batch, with the list's signed
    token, when she leaves (here: the tab is closed)."""
    sign_in(page, family["email"], PASSWORD)
    page.set_viewport_size({"width": 1280, "height": 2400})  # every card in view
    page.goto(f"/children/{family['child_id']}")
    section = page.locator("section[data-reco-slate]")
    request_id = section.get_attribute("data-reco-request")
    cards = page.locator("section[data-reco-slate] [data-reco-item]").count()
    assert cards > 0
    page.wait_for_function(
        "n => { const s = JSON.parse(sessionStorage.getItem('reco-seen') || '{}');"
        " return s.slates && Object.values(s.slates).flat().length >= n; }", arg=cards)
    before = [r for r in _logged(reco_site[1], family["user_id"]) if r.request_id == request_id]
    assert before == []  # waiting, not sent
    page.get_by_role("link", name="Timeline").first.click()  # a link of ours: still waiting
    page.wait_for_url("**/timeline")
    assert page.evaluate("Object.keys(JSON.parse(sessionStorage.getItem('reco-seen')).slates)"
                         ".length") == 1
    page.close(run_before_unload=True)  # leaving: the batch goes with keepalive
    found: list[Any] = []
    for _ in range(100):  # the request finishes after the page is gone
        found = [r for r in _logged(reco_site[1], family["user_id"])
                 if r.request_id == request_id]
        if len(found) == cards:
            break
        time.sleep(0.05)
    assert sorted(r.position for r in found) == list(range(cards))
    assert {(r.kind, r.surface, r.child_id) for r in found} == {
        ("impression", "child_page", family["child_id"])}
    assert server_errors == []
