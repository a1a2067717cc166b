"""webapp.babel_fast gives Flask-Babel's own answers: per request, inside force_locale (an
email in the reader's language), and in an app context without a request."""
from __future__ import annotations

import flask_babel
import pytest
from flask_babel import force_locale

from webapp import babel_fast


def _same_answers() -> None:
    assert babel_fast.locale() == flask_babel.get_locale()
    assert babel_fast.gettext("Menu") == flask_babel.gettext("Menu")
    assert babel_fast.gettext("%(name)s is %(age)s old", name="Mia", age="3") == \
        flask_babel.gettext("%(name)s is %(age)s old", name="Mia", age="3")
    for n in (1, 2):
        assert babel_fast.ngettext("%(num)d day", "%(num)d days", n) == \
            flask_babel.ngettext("%(num)d day", "%(num)d days", n)


def test_answers_follow_the_request_and_force_locale(app):
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        _same_answers()
        assert babel_fast.gettext("Menu") == "菜单"
        with force_locale("en"):
            _same_answers()
            assert babel_fast.gettext("Menu") == "Menu"
            assert str(babel_fast.locale()) == "en"
        _same_answers()
        assert babel_fast.gettext("Menu") == "菜单"  # the request's language is back
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        _same_answers()
        assert babel_fast.ngettext("%(num)d day", "%(num)d days", 2) == "2 days"


def test_in_an_app_context_without_a_request_it_is_flask_babels_answer(app):
    with app.app_context():  # a scheduler job's or a CLI command's emails name a language
        with force_locale("zh_CN"):
            _same_answers()
            assert babel_fast.gettext("Menu") == "菜单"


TEMPLATES = [
    '{{ _("Menu") }}',
    '{{ _("%(name)s is %(age)s old", name=name, age="3") }}',
    '{{ gettext("%(name)s is %(age)s old", name=name, age=3) }}',
    '{{ ngettext("%(num)d day", "%(num)d days", 1) }} {{ ngettext("%(num)d day", "%(num)d days", 5) }}',
    '{% trans %}Menu{% endtrans %}',
    '{% trans n=2 %}{{ n }} day{% pluralize %}{{ n }} days{% endtrans %}',
    '{{ _("100%% sure") }}',
]


@pytest.mark.parametrize("source", TEMPLATES)
@pytest.mark.parametrize("autoescape", [True, False])
@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_template_words_are_what_jinjas_own_wrappers_give(app, source, autoescape, language):
    """Our `_`/`gettext`/`ngettext` against Jinja's newstyle wrappers around Flask-Babel's
    catalogue (as Flask-Babel installs them), in HTML (escaping a
    hostile name) and in plain-text templates (emails: nothing escaped)."""
    from jinja2.ext import _gettext_alias, _make_new_gettext, _make_new_ngettext

    with app.test_request_context("/", headers={"Accept-Language": language}):
        ours = app.jinja_env.overlay(autoescape=autoescape)
        theirs = app.jinja_env.overlay(autoescape=autoescape)
        theirs.globals = dict(theirs.globals,
                              _=_gettext_alias,
                              gettext=_make_new_gettext(
                                  lambda s: flask_babel.get_translations().ugettext(s)),
                              ngettext=_make_new_ngettext(
                                  lambda s, p, n: flask_babel.get_translations()
                                  .ungettext(s, p, n)))
        name = "<b>Mia & Leo</b>"
        assert ours.from_string(source).render(name=name) == \
            theirs.from_string(source).render(name=name)
