"""Where things are on the site: what the domain asks the web layer for, never spells itself.

Emails link to articles, products, a stage's page, the inbox, the preference centre, the
unsubscribe page and the click tracker. Their paths belong to the web app's routes, so the
web layer hands the domain a `SiteLinks` built from its URL map (`webapp.links`): renaming
a route moves every email link with it, and nothing here can point at a page that is gone.

Pages a tracked link leads to are site paths ("/articles/x"): the click token carries
them and the tracker redirects only to a path on this site. Links an email carries as they
are (`click`, `unsubscribe`, `home`) are absolute URLs on the configured site.
"""
from __future__ import annotations

from typing import Protocol


class SiteLinks(Protocol):
    def article(self, slug: str) -> str:
        """The article's page (a site path)."""
        ...

    def product(self, sku: str) -> str:
        """The product's page (a site path)."""
        ...

    def stage(self, stage_key: str) -> str:
        """Everything for a stage, "month:3" (a site path)."""
        ...

    def inbox(self) -> str:
        """The person's inbox (a site path)."""
        ...

    def preferences(self) -> str:
        """The email preference centre (a site path)."""
        ...

    def click(self, token: str) -> str:
        """The click tracker for a signed click token (an absolute URL)."""
        ...

    def unsubscribe(self, token: str) -> str:
        """The one-click unsubscribe page for a signed token (an absolute URL)."""
        ...

    def home(self) -> str:
        """The site itself (an absolute URL, no trailing slash)."""
        ...


def item_page(links: SiteLinks, kind: str, key: str) -> str | None:
    """The page of a content item that has one (articles, products), else None."""
    if kind == "article":
        return links.article(key)
    if kind == "product":
        return links.product(key)
    return None
