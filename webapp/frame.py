"""The page frame's fixed parts, rendered once per language and kept per worker.

Every page wraps its content in the same frame: the head's links, the navigation, the
language switch, the footer and the scripts. Rendered each time, that was about thirty
`url_for` and `gettext` calls per page for markup that only changes with the language.
Those parts live in templates/frame/ and `base.html` takes them from here, keyed by
(part, locale, script root); what is the viewer's own — the CSRF tokens, the unread badge,
the page's own path, flashed messages, the address to confirm — stays in `base.html` and is
rendered for every request. The template `_()` also looks the catalogue up once per request
instead of once per call (`_translations`).

A part may depend on the language and on the URL map only. `tests/web/test_frame.py` reads
every part's source and refuses anything that names the viewer, the session or the request,
so a part can never carry one family's (or one session's) data into another's page.
"""
from __future__ import annotations

from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_app_context, render_template, request
from flask_babel import get_locale, get_translations
from markupsafe import Markup

#: The parts, each templates/frame/<name>.html.
PARTS = frozenset({
    "head", "nav_open", "nav_staff", "nav_parent_before_badge", "nav_parent_after_badge",
    "nav_guest", "language_form", "language_buttons", "sign_out_form", "sign_out_button",
    "guest_buttons", "nav_close", "footer"})
#: Each app keeps its own parts, keyed by (part, locale, script root); the locales are the
#: app's few, and the script root is the server's mount point, so this stays small. The
#: bound is only a guard.
MAX_PARTS = 1000


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
    return FrameParts(current_app.extensions["frame_parts"], str(get_locale()),
                      request.script_root)


def _translations() -> Translations | NullTranslations:
    """The request's catalogue, looked up once per request and locale. Flask-Babel's own
    lookup (domain, context, locale, cache key) took longer than most template tags; the
    locale is still asked every time, so `force_locale` (emails in the reader's language)
    gets its own catalogue."""
    if not has_app_context():
        return get_translations()
    locale = get_locale()
    memo = g.get("_translations_memo")
    if memo is None or memo[0] is not locale:
        memo = g._translations_memo = (locale, get_translations())
    return memo[1]


def init_app(app: Flask) -> None:
    app.extensions["frame_parts"] = {}
    app.jinja_env.globals["frame_parts"] = frame_parts
    # The template `_()` and friends, as Flask-Babel installs them, with the memo above.
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=lambda s: _translations().ugettext(s),
        ngettext=lambda s, p, n: _translations().ungettext(s, p, n),
        pgettext=lambda c, s: _translations().upgettext(c, s),
        npgettext=lambda c, s, p, n: _translations().unpgettext(c, s, p, n),
        newstyle=True)
