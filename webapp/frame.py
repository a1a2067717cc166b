"""The page frame's fixed parts, rendered once per language and kept per worker.

Every page wraps its content in the same frame: the head's links, the navigation, the
language switch, the footer and the scripts. Rendered each time, that was about thirty
`url_for` and `gettext` calls per page for markup that only changes with the language.
Those parts live in templates/frame/ and `base.html` takes them from here, keyed by
(part, locale, script root); what is the viewer's own — the CSRF tokens, the unread badge,
the page's own path, flashed messages, the address to confirm — stays in `base.html` and is
rendered for every request. The template `_()` reads the catalogue through
`webapp.babel_fast` instead of Flask-Babel's slower lookup.

A part may depend on the language and on the URL map only. `tests/web/test_frame.py` reads
every part's source and refuses anything that names the viewer, the session or the request,
so a part can never carry one family's (or one session's) data into another's page.
"""
from __future__ import annotations

from typing import Any

from flask import Flask, current_app, render_template, request
from jinja2 import pass_eval_context
from jinja2.nodes import EvalContext
from markupsafe import Markup

from diary.locales import interpolate
from webapp.babel_fast import locale, translations

#: The parts, each templates/frame/<name>.html.
PARTS = frozenset({
    "head", "nav_open", "nav_staff", "nav_parent_before_badge", "nav_parent_after_badge",
    "nav_guest", "language_form", "language_buttons", "sign_out_form", "sign_out_button",
    "guest_buttons", "nav_close", "footer"})
#: Each app keeps its own parts, keyed by (part, locale, script root); the locales are the
#: app's few, and the script root is the server's mount point, so this stays small. The
#: bound is only a guard.
MAX_PARTS = 1000
#: Each catalogue keeps its variable-free template strings' answers; the templates hold a
#: few hundred msgids, so the bound is only a guard.
MAX_PLAIN = 5000


class FrameParts:
    """`frame.nav_open` in a template: the part in this request's language."""

    __slots__ = ("_parts", "_locale", "_root")

    def __init__(self, parts: dict[tuple[str, str, str], Markup], locale: str,
                 root: str) -> None:
        self._parts, self._locale, self._root = parts, locale, root

    def __getattr__(self, name: str) -> Markup:
        key = (name, self._locale, self._root)
        _parts = self._parts
        html = _parts.get(key)
        if html is None:
            if name not in PARTS:
                raise AttributeError(name)
            html = Markup(render_template(f"frame/{name}.html"))  # nosec: our own template
            if len(_parts) >= MAX_PARTS:
                _parts.clear()
            _parts[key] = html  # two threads may both render a part: the same HTML
        return html


def frame_parts() -> FrameParts:
    return FrameParts(current_app.extensions["frame_parts"], str(locale()),
                      request.script_root)


def init_app(app: Flask) -> None:
    app.extensions["frame_parts"] = {}
    app.jinja_env.globals["frame_parts"] = frame_parts
    # The template `_()` and friends, as Flask-Babel installs them, looked up cheaply.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: translations().ugettext(s),
        ngettext=lambda s, p, n: translations().ungettext(s, p, n),
        pgettext=lambda c, s: translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: translations().unpgettext(c, s, p, n),
        newstyle=True)
    # `_()` and `gettext()` are a page's most frequent calls: Jinja's newstyle wrappers reach
    # the catalogue through two context calls and a name lookup. These do what those do
    # (escape-aware, always a format string) in one step; tests/web/test_babel_fast.py
    # compares them with Jinja's own.
    app.jinja_env.globals.update(_=template_gettext, gettext=template_gettext,
                                 ngettext=template_ngettext)


@pass_eval_context
def template_gettext(eval_ctx: EvalContext, string: str, **variables: Any) -> str:
    """Jinja's newstyle `gettext`: the translation, marked safe where autoescaping (so the
    variables are escaped into it), always %-formatted.

    Most calls have no variables ("Today", "Add to the book"): their answer depends only on
    the catalogue, so each catalogue keeps it (`_plain_markup`), keyed by the msgid."""
    catalogue = translations()
    if not variables and eval_ctx.autoescape:
        plain = catalogue.__dict__.get("_plain_markup")
        if plain is None:
            plain = catalogue._plain_markup = {}  # type: ignore[union-attr,attr-defined]
        text = plain.get(string)
        if text is None:
            if len(plain) >= MAX_PLAIN:
                plain.clear()
            text = plain[string] = Markup(catalogue.ugettext(string)) % variables
        return text  # type: ignore[no-any-return]
    text = catalogue.ugettext(string)
    if eval_ctx.autoescape:
        text = Markup(text)
    return interpolate(text, variables)


@pass_eval_context
def template_ngettext(eval_ctx: EvalContext, singular: str, plural: str, num: int,
                      **variables: Any) -> str:
    """Jinja's newstyle `ngettext`, as `template_gettext` (`num` is a variable too)."""
    variables.setdefault("num", num)
    text = translations().ungettext(singular, plural, num)
    if eval_ctx.autoescape:
        text = Markup(text)
    return interpolate(text, variables)
