"""Suggested products on the child page (inline) and the other pages (a fragment of its own).

Attacks tried here: visitors, another family's child, a viewer, a made-up surface, a child id
that is not a number or is huge, HEAD/POST; a dismiss sent through the log endpoint hides the
item from the next list; both languages."""
from __future__ import annotations

import re
from datetime import date

import pytest
from sqlalchemy import select

from diary import invitations
from recommender.models import Interaction
from tests.recommender.test_serve import make_product

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
BORN = date(2026, 7, 10)  # month 4 on the fixed day
SHOP = "https://shop.example.com/p/"


@pytest.fixture
def shop(session):
    items = {
        "nappies": make_product(session, "BJ-NAPPY-M", "nappies", 3, 9, consumable=True,
                                text="Nappies M", buy_url=SHOP + "nappies"),
        "toy": make_product(session, "BJ-TOY-A", "toys", text="Soft rattle"),
        "tub": make_product(session, "BJ-BATH-TUB", "bath", 4, 4, text="Bath tub"),
        "pillow": make_product(session, "BJ-PREG-PILLOW", "maternity", 20, 40,
                               unit="pregnancy_week", text="Pregnancy pillow"),
    }
    session.commit()
    return items


@pytest.fixture
def family(make_family, app):
    app.config["RECO_CONTROL_SHARE"] = 0.0
    return make_family(birth_date=BORN, name="Mia")


def fragment(client, child, surface=None, hx=True):
    url = f"/children/{child.id}/suggestions" + (f"?surface={surface}" if surface else "")
    return client.get(url, headers={"HX-Request": "true"} if hx else {})


def shown(html):
    return [int(n) for n in re.findall(r'data-reco-item="(\d+)"', html)]


def test_the_child_page_shows_its_suggestions_inline_with_a_signed_slate(
        client, login_as, family, shop, session):
    user, child = family
    login_as(user)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "hx-get" not in page.split('id="suggestions-child_page"')[1][:200]  # inline
    section = re.search(r'<section class="suggestions mt-4" id="suggestions-child_page"[^>]*>',
                        page).group(0)
    assert f'data-reco-child="{child.id}"' in section
    assert 'data-reco-surface="child_page"' in section and 'data-reco-model="none"' in section
    request_id = re.search(r'data-reco-request="([0-9a-f]{32})"', section).group(1)
    token = re.search(r'data-reco-slate="([^"]+)"', section).group(1)
    assert "Suggested for Mia now" in page
    cards = shown(page.split('id="suggestions-child_page"')[1])
    assert sorted(cards) == sorted([shop["nappies"].id, shop["toy"].id, shop["tub"].id])
    assert shop["pillow"].id not in cards  # outside the stage window
    assert "Popular with parents of 4-month-olds" in page and "¥50.00" in page
    assert page.count('data-reco-action="save"') == 3
    assert page.count('data-reco-action="dismiss"') == 3
    assert page.count(f"?r={request_id}") == 1  # the one product with a shop address
    assert "reco-request-mark" not in page and "reco-token-mark" not in page
    from recommender import impressions
    slate = impressions.read_token(client.application.config["SECRET_KEY"], token)
    assert (slate.user_id, slate.child_id, slate.surface, slate.request_id, slate.stage) == (
        user.id, child.id, "child_page", request_id, "month:4")
    assert list(slate.item_ids) == cards


def test_the_fragment_for_htmx_is_the_same_block(client, login_as, family, shop):
    user, child = family
    login_as(user)
    response = fragment(client, child)
    html = response.get_data(as_text=True)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "private, no-store"
    assert "Suggested for Mia now" in html and "<html" not in html
    assert sorted(shown(html)) == sorted([shop["nappies"].id, shop["toy"].id, shop["tub"].id])
    assert html.count('data-reco-slate="') == 1


def test_without_htmx_the_link_shows_a_whole_page(client, login_as, family, shop):
    user, child = family
    login_as(user)
    html = fragment(client, child, hx=False).get_data(as_text=True)
    assert "<html" in html and "Suggested for Mia now" in html
    assert len(shown(html)) == 3


def test_a_dismiss_through_the_log_endpoint_hides_the_item_next_time(
        client, login_as, family, shop, session):
    user, child = family
    login_as(user)
    html = fragment(client, child).get_data(as_text=True)
    request_id = re.search(r'data-reco-request="([0-9a-f]{32})"', html).group(1)
    assert shop["toy"].id in shown(html)
    event = {"kind": "dismiss", "item_id": shop["toy"].id, "surface": "child_page",
             "request_id": request_id, "position": shown(html).index(shop["toy"].id),
             "model_version": "none", "child_id": child.id}
    response = client.post("/api/interactions", json={"events": [event]})
    assert (response.status_code, response.json) == (200, {"logged": 1, "received": 1})
    assert sorted(shown(fragment(client, child).get_data(as_text=True))) == sorted(
        [shop["nappies"].id, shop["tub"].id])
    # and on every surface for that child
    assert shop["toy"].id not in shown(fragment(client, child, "inbox").get_data(as_text=True))


def test_personalisation_off_or_the_holdout_get_the_control(client, login_as, family, shop,
                                                           session, app):
    user, child = family
    login_as(user)
    assert 'data-reco-model="none"' in fragment(client, child).get_data(as_text=True)
    app.config["RECO_CONTROL_SHARE"] = 1.0
    html = fragment(client, child).get_data(as_text=True)
    assert html.count('data-reco-model="control"') == 1 and len(shown(html)) == 3
    app.config["RECO_CONTROL_SHARE"] = 0.0
    user.personalise_suggestions = False
    session.commit()
    html = fragment(client, child).get_data(as_text=True)
    assert html.count('data-reco-model="control"') == 1 and len(shown(html)) == 3


def test_the_reader_gets_the_reasons_and_titles_in_their_language(client, login_as, family,
                                                                  shop):
    user, child = family
    login_as(user)
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    html = fragment(client, child).get_data(as_text=True)
    assert "现在为 Mia 推荐" in html
    assert "4 个月宝宝的爸妈常选" in html
    assert "Soft rattle（中文）" in html and "不适合我们" in html
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "现在为 Mia 推荐" in page and "4 个月宝宝的爸妈常选" in page  # inline


def test_another_familys_child_unknown_surfaces_and_visitors(client, login_as, family,
                                                            make_family, shop):
    user, child = family
    _, stranger = make_family()
    login_as(user)
    assert fragment(client, stranger).status_code == 404
    assert client.get(f"/children/{child.id}/suggestions?surface=child_page%00").status_code \
        in (400, 404)
    for hostile in ("email", "shop", "%3Cscript%3E", "", "CHILD_PAGE"):
        assert client.get(f"/children/{child.id}/suggestions?surface={hostile}").status_code \
            == 404, hostile
    assert client.get("/children/99999999999999999999/suggestions").status_code == 404
    assert client.get("/children/abc/suggestions").status_code == 404
    assert client.post(f"/children/{child.id}/suggestions").status_code in (400, 405)
    assert client.head(f"/children/{child.id}/suggestions").status_code == 200
    client.post("/logout")
    response = fragment(client, child)
    assert response.status_code in (302, 401)
    assert "Soft rattle" not in response.get_data(as_text=True)


def test_a_viewer_sees_their_own_suggestions_and_logs_nothing_by_looking(
        client, login_as, family, make_family, session, shop):
    owner, child = family
    viewer, _ = make_family()
    inv = invitations.invite(session, child.family, owner, viewer.email, "viewer", "other")
    invitations.accept(session, inv, viewer)
    session.commit()
    login_as(viewer)
    html = fragment(client, child).get_data(as_text=True)
    assert len(shown(html)) == 3
    assert session.scalars(select(Interaction)).all() == []  # rendering writes no log


def test_no_products_for_the_stage_says_so(client, login_as, family):
    user, child = family
    login_as(user)
    html = fragment(client, child).get_data(as_text=True)
    assert "No suggestions for this stage yet." in html and shown(html) == []


# --- the product list, articles and the inbox ---------------------------------------------------

@pytest.fixture
def article(session):
    from tests.web.test_studio import make_item
    return make_item(session, key="month-4-play", title="Playing at four months", unit="month",
                     low=4, high=4)


@pytest.mark.parametrize(("url", "surface"), [
    ("/products?stage=month:4", "product_list"), ("/products", "product_list"),
    ("/articles/month-4-play", "article"), ("/inbox", "inbox")])
def test_other_pages_load_a_small_block_for_the_parents_child(
        client, login_as, family, shop, article, url, surface):
    user, child = family
    login_as(user)
    page = client.get(url).get_data(as_text=True)
    assert f'hx-get="/children/{child.id}/suggestions?surface={surface}"' in page
    assert page.count("hx-trigger=\"load\"") == 1
    html = fragment(client, child, surface).get_data(as_text=True)
    assert html.count(f'data-reco-surface="{surface}"') == 1 and len(shown(html)) == 3
    assert "Suggested for Mia now" in html


def test_the_product_list_picks_the_child_at_the_stage_shown(client, login_as, family,
                                                            session, shop):
    user, child = family
    from diary import families
    baby = families.add_child(session, child.family, families.ChildDetails(
        name="Leo", birth_date=date(2026, 1, 10), sex="male"))
    session.commit()
    login_as(user)
    page = client.get("/products?stage=month:4").get_data(as_text=True)
    assert f"/children/{child.id}/suggestions?surface=product_list" in page
    page = client.get("/products?stage=month:10").get_data(as_text=True)
    assert f"/children/{baby.id}/suggestions?surface=product_list" in page


@pytest.mark.parametrize("url", ["/products?stage=month:4", "/articles/month-4-play"])
def test_visitors_get_no_block(client, shop, article, url):
    assert "hx-trigger=\"load\"" not in client.get(url).get_data(as_text=True)
