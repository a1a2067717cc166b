"""Rendering marketing email: the digest, and one-off messages (campaigns, pushed items).

Jinja2 directly (no Flask here) with the templates beside this module (`templates/`), in
the reader's language from the same Babel catalogue the pages use (`diary.locales.words`):
the templates call `_()`/`gettext()`/`ngettext()` like page templates do. Every link is
click-tracked and built by the web layer's `SiteLinks`; the unsubscribe link and headers
follow RFC 8058.
"""
from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, select_autoescape
from sqlalchemy.orm import Session

from content.models import ContentItem
from diary.locales import format_list, html_lang, locale_of, words
from diary.models import User
from journeys.digests.blocks import (
    ChildBlock,
    ContentCache,
    Suggesting,
    blocks_for,
    item_text,
)
from journeys.digests.clicks import Tracker
from journeys.digests.headers import marketing_headers
from journeys.links import SiteLinks, item_page
from journeys.models import Delivery
from journeys.unsubscribe import make_token as make_unsubscribe_token
from mailer import Email

#: The digest's own templates ship inside this package (a plain `pip install .` has them).
TEMPLATES = Path(__file__).resolve().with_name("templates")

_env: Environment | None = None


def environment() -> Environment:
    global _env
    if _env is None:
        _env = Environment(loader=FileSystemLoader(str(TEMPLATES)),
                           autoescape=select_autoescape(["html"]), trim_blocks=True,
                           lstrip_blocks=True, keep_trailing_newline=True)
    return _env


def subject_for(blocks: list[ChildBlock], weekly: bool, locale: str) -> str:
    """"This week with Bean: Pregnancy week 20", "Today with Bean and Mia", or the plain
    subject when no child has a stage."""
    w = words(locale)
    names = format_list([b.name for b in blocks[:2]], locale)
    if len(blocks) == 1:
        return w.gettext("This week with %(names)s: %(stage)s", names=names,
                         stage=blocks[0].stage) if weekly else \
            w.gettext("Today with %(names)s: %(stage)s", names=names, stage=blocks[0].stage)
    if blocks:
        return w.gettext("This week with %(names)s", names=names) if weekly else \
            w.gettext("Today with %(names)s", names=names)
    return w.gettext("Your Baby Journey digest")


def render(session: Session, delivery: Delivery, user: User, now: datetime, links: SiteLinks,
           secret: str, *, unsubscribe_mailto: str | None = None,
           cache: ContentCache | None = None, suggesting: Suggesting | None = None) -> Email:
    """The digest email for one ledger row: HTML and text parts, RFC 8058 headers.

    `cache` (a dict the caller keeps for one run) shares the stage content between emails:
    everyone at the same stage with the same interests reads the same articles."""
    locale = locale_of(user)
    weekly = "-W" in (delivery.occurrence or "")
    tracker = Tracker(links, secret, delivery.id, user)
    blocks = blocks_for(session, user, now, locale, tracker, cache, suggesting)
    return compose(delivery, user, tracker, subject_for(blocks, weekly, locale), blocks,
                   weekly=weekly, unsubscribe_mailto=unsubscribe_mailto)


def render_message(session: Session, delivery: Delivery, user: User, now: datetime,
                   links: SiteLinks, secret: str, *, unsubscribe_mailto: str | None = None
                   ) -> Email:
    """A one-off email from the ledger: a campaign's title and body (payload "title",
    "body"), or one content item pushed by a journey step (payload "item_id")."""
    payload = delivery.payload or {}
    locale = locale_of(user)
    tracker = Tracker(links, secret, delivery.id, user)
    title, body, url = str(payload.get("title") or ""), str(payload.get("body") or ""), None
    item = session.get(ContentItem, payload["item_id"]) if payload.get("item_id") else None
    if item is not None:
        title, body = item_text(item, locale)
        page = item_page(links, item.kind, item.key)
        if page is not None:
            url = tracker.tracked(f"{item.kind}:{item.key}", page)
    subject = title or words(locale).gettext("Your Baby Journey digest")
    return compose(delivery, user, tracker, subject, [],
                   message={"title": title, "body": body, "url": url},
                   unsubscribe_mailto=unsubscribe_mailto)


def compose(delivery: Delivery, user: User, tracker: Tracker, subject: str,
            blocks: list[ChildBlock], *, weekly: bool = True,
            message: dict[str, Any] | None = None,
            unsubscribe_mailto: str | None = None) -> Email:
    """Both parts from the templates, and the headers every marketing email carries."""
    locale = locale_of(user)
    w = words(locale)
    links = tracker.links
    unsubscribe_url = links.unsubscribe(make_unsubscribe_token(tracker.secret, user))
    context = {
        "_": w.gettext, "gettext": w.gettext, "ngettext": w.ngettext,
        "lang": html_lang(locale), "subject": subject, "name": user.display_name,
        "weekly": weekly, "children": [] if message else blocks, "message": message,
        "inbox_url": tracker.tracked("inbox", links.inbox()),
        "preferences_url": tracker.tracked("preferences", links.preferences()),
        "unsubscribe_url": unsubscribe_url, "site_url": links.home(),
    }
    env = environment()
    html = env.get_template("digest.html").render(context)
    text = env.get_template("digest.txt").render(context)
    headers = marketing_headers(delivery.id, links.home(), unsubscribe_url, unsubscribe_mailto)
    return Email(to=user.email, subject=subject, text=text, html=html, headers=headers)
