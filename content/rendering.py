"""Markdown written by marketers → sanitised HTML (markdown-it-py, then nh3)."""
from __future__ import annotations

import html

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": True})
_md.disable(["image", "html_block", "html_inline"], ignoreInvalid=True)

ALLOWED_TAGS = {"h2", "h3", "h4", "p", "br", "hr", "strong", "em", "ul", "ol", "li", "a",
                "blockquote", "code", "pre"}
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}}


def render_markdown(text: str) -> str:
    """Safe HTML for an article body. `#` headings become `h2` (the page has the `h1`)."""
    if not text:
        return ""
    html = _md.render(text).replace("<h1>", "<h2>").replace("</h1>", "</h2>")
    return nh3.clean(html, tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener")


def plain_text(text: str) -> str:
    """Untrusted short text (titles, summaries) with tags removed, stored unescaped.

    Templates escape it on output; storing `&amp;` would show "Tom &amp; Jerry".
    """
    return html.unescape(nh3.clean(text or "", tags=set())).strip()
