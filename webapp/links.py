"""The domain's `SiteLinks`, built from the app's URL map: email links follow the routes.

`site_links(app)` needs no request (the scheduler, the outbox, the CLI): paths come from the
URL map, absolute links are on the configured SITE_URL (never on a request's Host header).
Renaming or moving a route moves every link the domain puts in an email with it; a route
that is gone fails loudly (werkzeug's BuildError) instead of mailing a dead link.
"""
from __future__ import annotations

from flask import Flask
from werkzeug.routing import Map

#: The endpoint each link of `journeys.links.SiteLinks` goes to, and its argument.
ENDPOINTS = {
    "article": ("library.article", "slug"),
    "product": ("library.product", "sku"),
    "stage": ("library.stage", "stage_key"),
    "inbox": ("inbox.index", None),
    "preferences": ("emails.preferences_centre", None),
    "click": ("emails.click", "token"),
    "unsubscribe": ("emails.unsubscribe_link", "token"),
}


class UrlMapLinks:
    """`journeys.links.SiteLinks` for one URL map and site."""

    def __init__(self, url_map: Map, site_url: str) -> None:
        self._url_map = url_map
        self._site = site_url.rstrip("/")

    def _path(self, name: str, value: str | None = None) -> str:
        endpoint, argument = ENDPOINTS[name]
        values = {argument: value} if argument else {}
        return self._url_map.bind("localhost").build(endpoint, values)

    def article(self, slug: str) -> str:
        return self._path("article", slug)

    def product(self, sku: str) -> str:
        return self._path("product", sku)

    def stage(self, stage_key: str) -> str:
        return self._path("stage", stage_key)

    def inbox(self) -> str:
        return self._path("inbox")

    def preferences(self) -> str:
        return self._path("preferences")

    def click(self, token: str) -> str:
        return self._site + self._path("click", token)

    def unsubscribe(self, token: str) -> str:
        return self._site + self._path("unsubscribe", token)

    def home(self) -> str:
        return self._site


def site_links(app: Flask) -> UrlMapLinks:
    """The app's links (made once per app)."""
    links = app.extensions.get("site_links")
    if links is None:
        links = app.extensions["site_links"] = UrlMapLinks(app.url_map, app.config["SITE_URL"])
    return links
