"""Email links come from the web app's URL map (journeys.links / webapp.links): every link in
a digest resolves to the page it means, and renaming a route moves the links with it."""
from __future__ import annotations

from urllib.parse import urlsplit

import pytest
from flask import Flask
from sqlalchemy import select
from werkzeug.routing import BuildError, Map, Rule

from content.models import Article
from journeys import digests, ledger
from journeys.models import Delivery
from tests.conftest import site_links
from tests.journeys.test_digests import (  # content is a fixture
    NOW,
    SECRET,
    content,
    digest_rows,
    make_parent,
    schedule,
)
from webapp import create_app
from webapp.links import ENDPOINTS, UrlMapLinks

pytestmark = pytest.mark.clock_at("2026-11-23T01:00")
_ = content


def _hrefs(html: str) -> list[str]:
    import re
    return re.findall(r'href="([^"]+)"', html)


def _endpoint(app: Flask, path: str) -> tuple[str, dict]:
    return app.url_map.bind("localhost").match(path)


def test_every_digest_link_resolves_to_the_page_it_means(session, content):
    app = create_app("testing")
    mum = make_parent(session, "mum@example.com", interests=["skin_care"])
    session.commit()
    schedule(session, NOW)
    row = digest_rows(session, mum)[-1]
    email = digests.render(session, row, mum, NOW, site_links(), SECRET)
    targets = set()
    for href in _hrefs(email.html):
        url = urlsplit(href)
        assert (url.scheme, url.netloc) == ("http", "localhost")  # TestingConfig.SITE_URL
        endpoint, values = _endpoint(app, url.path)
        if endpoint == "emails.unsubscribe_link":
            continue
        assert endpoint == "emails.click", href
        click = digests.read_click_token(SECRET, values["token"])
        targets.add((click.item_key, *_endpoint(app, click.path)[:1],
                     tuple(sorted(_endpoint(app, click.path)[1].values()))))
    assert targets >= {
        ("article:skin-20", "library.article", ("skin-20",)),
        ("product:BJ-BELT-001", "library.product", ("BJ-BELT-001",)),
        ("stage:pregnancy_week:20", "library.stage", ("pregnancy_week:20",)),
        ("inbox", "inbox.index", ()), ("preferences", "emails.preferences_centre", ())}
    [unsubscribe] = [h for h in _hrefs(email.html) if "/e/u/" in h]
    assert dict(email.headers)["List-Unsubscribe"].startswith(f"<{unsubscribe}>")


def _moved_map(app: Flask, moves: dict[str, str], drop: str | None = None) -> Map:
    """The app's URL map with some routes at new paths (and one gone)."""
    rules = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint == drop:
            continue
        rules.append(Rule(moves.get(rule.endpoint, rule.rule), endpoint=rule.endpoint,
                          methods=rule.methods))
    return Map(rules, converters=app.url_map.converters)


def test_renamed_routes_move_the_email_links_with_them(session, content):
    app = create_app("testing")
    moved = _moved_map(app, {"library.article": "/read/<slug>", "emails.click": "/go/<token>",
                             "emails.unsubscribe_link": "/stop/<token>",
                             "inbox.index": "/messages"})
    links = UrlMapLinks(moved, "https://babyjourney.example/")
    mum = make_parent(session, "mum@example.com", interests=["skin_care"])
    session.commit()
    schedule(session, NOW)
    row = digest_rows(session, mum)[-1]
    email = digests.render(session, row, mum, NOW, links, SECRET)
    hrefs = _hrefs(email.html)
    assert hrefs and all(h.startswith(("https://babyjourney.example/go/",
                                       "https://babyjourney.example/stop/")) for h in hrefs)
    paths = {digests.read_click_token(SECRET, h.rsplit("/", 1)[1]).path
             for h in hrefs if "/go/" in h}
    assert {"/read/skin-20", "/messages", "/products/BJ-BELT-001"} <= paths
    assert not any(p.startswith(("/articles/", "/inbox")) for p in paths)
    assert "<https://babyjourney.example/stop/" in dict(email.headers)["List-Unsubscribe"]
    # a pushed article (a one-off email) follows the same route
    article = session.scalar(select(Article).where(Article.key == "week-20"))
    ledger.push(session, [ledger.row(user_id=mum.id, child_id=0, item=article,
                                     channel="email", item_key="article:week-20",
                                     occurrence="x")])
    pushed = session.scalar(select(Delivery).where(Delivery.item_key == "article:week-20"))
    message = digests.render_message(session, pushed, mum, NOW, links, SECRET)
    paths = {digests.read_click_token(SECRET, h.rsplit("/", 1)[1]).path
             for h in _hrefs(message.html) if "/go/" in h}
    assert paths == {"/read/week-20", "/messages", "/preferences"}


def test_a_route_that_is_gone_fails_loudly_instead_of_mailing_a_dead_link(session, content):
    app = create_app("testing")
    links = UrlMapLinks(_moved_map(app, {}, drop="library.product"), "http://localhost")
    mum = make_parent(session, "mum@example.com")
    session.commit()
    schedule(session, NOW)
    with pytest.raises(BuildError):
        digests.render(session, digest_rows(session, mum)[-1], mum, NOW, links, SECRET)


def test_every_link_the_domain_asks_for_has_a_route():
    app = create_app("testing")
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert {endpoint for endpoint, _ in ENDPOINTS.values()} <= endpoints
    links = site_links()
    assert (links.article("a b"), links.stage("month:3"), links.inbox(),
            links.click("t.k"), links.home()) == (
        "/articles/a%20b", "/library/stage/month:3", "/inbox", "http://localhost/e/c/t.k",
        "http://localhost")
