"""Safe formatting for what parents write: a little Markdown, never raw HTML.

markdown-it-py renders with HTML input disabled, and nh3 then keeps only a short list of
tags, so a note can have bold, italics, lists and links but no script, style or image.
"""
from __future__ import annotations

from functools import lru_cache

import nh3
from markdown_it import MarkdownIt

_md = MarkdownIt("commonmark", {"html": False, "linkify": False, "breaks": True})
_md.disable(["image", "heading", "html_block", "html_inline", "code", "fence", "table"],
            ignoreInvalid=True)

ALLOWED_TAGS = {"p", "br", "strong", "em", "ul", "ol", "li", "a", "blockquote"}
ALLOWED_ATTRIBUTES = {"a": {"href"}}


@lru_cache(maxsize=4096)
def render_note(text: str) -> str:
    """HTML safe to insert into a page, from a parent's note (pure, so cached)."""
    if not text:
        return ""
    return nh3.clean(_md.render(text), tags=ALLOWED_TAGS, attributes=ALLOWED_ATTRIBUTES,
                     url_schemes={"http", "https", "mailto"}, link_rel="nofollow noopener")
