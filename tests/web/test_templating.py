"""webapp.templating: Jinja's and Flask-WTF's own answers, found faster.

Each fast path is compared with the library's slow one on the same template or request:
plain functions, bound methods and built-ins, functions that ask for the context / eval
context / environment, callable objects, a StopIteration, loop variables; globals added after a template was loaded and a
template's own globals; the CSRF token before and after Flask-WTF made it; and the cached
variable-free `_()` across languages and catalogues.
"""
from __future__ import annotations

from datetime import date

import pytest
from flask import g
from flask_babel import force_locale
from flask_wtf.csrf import generate_csrf
from jinja2 import Environment, pass_context, pass_environment, pass_eval_context
from jinja2.runtime import Context

from webapp import templating


def _seen(*args, **kwargs):
    return f"{args!r} {sorted(kwargs.items())!r}"


@pass_context
def _with_context(context, x):
    return f"context sees page={context.get('page')} loop={context.get('i')} x={x}"


@pass_eval_context
def _with_eval_context(eval_ctx, x):
    return f"autoescape={eval_ctx.autoescape} x={x}"


@pass_environment
def _with_environment(environment, x):
    return f"{type(environment).__name__[-11:]} x={x}"


class _Callable:
    @pass_context
    def __call__(self, context, x):
        return f"callable page={context.get('page')} x={x}"


def _stops():
    raise StopIteration


class _Thing:
    name = "thing"

    def plain(self, x):
        return f"method of {self.name} x={x}"

    @pass_context
    def with_context(self, context, x):
        return f"method page={context.get('page')} x={x}"


TEMPLATE = """
{{- seen(1, "<b>", k="v") }}|{% for i in [1, 2] %}{{ seen(i) }}{{ with_context(i) }}{% endfor %}
|{{ with_context("top") }}|{{ with_eval_context("<i>") }}|{{ callable_obj(5) }}|{{ stops() }}.
|{{ with_environment(4) }}|{% for i in [1] %}{{ with_eval_context(i) }}{% endfor %}
|{% set x = 3 %}{{ seen(x, y=x) }}|{% macro m(a) %}[{{ seen(a) }}]{% endmacro %}{{ m(7) }}
|{{ thing.plain(1) }}|{{ thing.with_context(2) }}|{% for k, v in d.items() %}{{ k }}={{ v }}
{%- endfor %}|{{ when.isoformat() }}|{{ maximum(3, 9) }}|{{ "<a>".upper() }}
"""
GLOBALS = dict(seen=_seen, with_context=_with_context, with_eval_context=_with_eval_context,
               with_environment=_with_environment, callable_obj=_Callable(), stops=_stops,
               thing=_Thing(), d={"a": "<1>", "b": 2}, when=date(2026, 12, 7), maximum=max)


@pytest.mark.parametrize("autoescape", [True, False])
def test_calls_from_a_template_are_what_jinja_gives(autoescape):
    assert issubclass(templating.FastContext, Context)
    plain = Environment(autoescape=autoescape)
    fast = Environment(autoescape=autoescape)
    fast.context_class = templating.FastContext
    for env in (plain, fast):
        env.globals.update(GLOBALS)
    expected = plain.from_string(TEMPLATE).render(page="home")
    assert fast.from_string(TEMPLATE).render(page="home") == expected
    assert "context sees page=home loop=None x=2" in expected  # as Jinja: no loop variable
    assert "callable page=home x=5|." in expected  # StopIteration: undefined, rendered empty
    assert ("(1, &#39;&lt;b&gt;&#39;)" in expected) == autoescape
    assert "|method of thing x=1|method page=home x=2|a=" in expected
    assert "|2026-12-07|9|" in expected
    assert "|Environment x=4|autoescape=" in expected and "x=1|" in expected


def test_the_apps_templates_use_the_fast_classes_and_see_globals_added_later(app):
    assert isinstance(app.jinja_env, templating.FastEnvironment)
    with app.test_request_context("/"):
        template = app.jinja_env.from_string("{{ late_global() }}|{{ with_environment(1) }}")
        app.jinja_env.globals.update(late_global=lambda: "late",
                                     with_environment=_with_environment)
        try:
            assert template.render() == "late|Environment x=1"
        finally:
            del app.jinja_env.globals["late_global"], app.jinja_env.globals["with_environment"]


def test_the_apps_templates_call_the_fast_csrf_token_for_flask_wtfs_token(app):
    """Flask-WTF puts its own `csrf_token` in every render through a context processor;
    the app's templates get the fast one, with the same token."""
    assert not [p for p in app.template_context_processors[None]
                if getattr(p, "__module__", "") == "flask_wtf.csrf"]
    with app.test_request_context("/"):
        probe = app.jinja_env.from_string("{{ csrf_token() }}|{{ csrf_token is sameas fast }}")
        from flask import render_template_string
        page = render_template_string("{{ csrf_token() }}|{{ csrf_token is sameas fast }}",
                                      fast=templating.csrf_token)
        assert page == f"{generate_csrf()}|True"
        assert probe.render(fast=templating.csrf_token) == page
        assert "csrf_meta_tag" in app.jinja_env.globals  # Flask-WTF's other global stays


def test_a_templates_own_globals_stay_its_own(app):
    with app.test_request_context("/"):
        own = app.jinja_env.from_string("{{ only_here }}", globals={"only_here": "mine"})
        assert own.render() == "mine"
        assert "only_here" not in app.jinja_env.globals
        assert app.jinja_env.from_string("{{ only_here is defined }}").render() == "False"


def test_csrf_token_is_flask_wtfs_token_before_and_after_it_is_made(app):
    with app.test_request_context("/"):
        assert "csrf_token" not in g
        first = templating.csrf_token()  # not made yet: Flask-WTF makes it
        assert first == g.csrf_token == generate_csrf()
        assert templating.csrf_token() == first
        assert app.jinja_env.from_string("{{ csrf_token() }}").render() == first
    with app.test_request_context("/"):  # another request (another session): its own token
        assert templating.csrf_token() != first


@pytest.mark.parametrize("source, en, zh", [
    ('{{ _("Menu") }}', "Menu", "菜单"),
    ('{{ _("100%% sure") }}', "100% sure", None),
])
def test_plain_words_are_kept_per_catalogue(app, source, en, zh):
    template = app.jinja_env.from_string(source * 2)
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert template.render() == en * 2
        with force_locale("zh_CN"):
            assert template.render() == (zh or en) * 2
        assert template.render() == en * 2
    with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
        assert template.render() == (zh or en) * 2
    with app.test_request_context("/", headers={"Accept-Language": "en"}):  # plain text
        plain = app.jinja_env.overlay(autoescape=False).from_string(source)
        assert plain.render() == en


@pytest.mark.parametrize("language", ["en", "zh-CN"])
def test_kept_dates_and_numbers_are_flask_babels_and_babels_own(app, language):
    """local_date and the measurement formats keep their answers (lru caches); each answer is
    still the library's, in the request's language, for every format a template names."""
    from datetime import UTC, date, datetime

    import flask_babel
    from babel.numbers import format_decimal

    from diary import locales
    from webapp.i18n import local_date_text

    days = [date(2025, 12, 19), date(2028, 2, 29), date(1999, 1, 1)]
    with app.test_request_context("/", headers={"Accept-Language": language}):
        for day in days:
            for fmt in ("short", "medium", "long", "full", "yMMMd", None):
                expected = flask_babel.format_date(day, fmt) if fmt else \
                    flask_babel.format_date(day)
                got = local_date_text(day, fmt) if fmt else local_date_text(day)
                assert got == expected == local_date_text(day, fmt or "medium")
        instant = datetime(2026, 11, 30, 23, 30, tzinfo=UTC)  # a date in the viewer's zone
        assert local_date_text(instant) == flask_babel.format_date(
            flask_babel.to_user_timezone(instant).date())
        code = "zh_CN" if language == "zh-CN" else "en"
        for value in (3.67, 50.0, 1234.5, 0.1 + 0.2):
            for pattern in (None, "#,##0.###", "#,##0.#"):
                expected = format_decimal(value, format=pattern, locale=locales.babel_locale(code))
                assert locales.format_number(value, code, pattern) == expected
                assert locales.format_number(value, code, pattern) == expected  # kept
        assert local_date_text(days[0]) == ("Dec 19, 2025" if code == "en" else "2025年12月19日")
