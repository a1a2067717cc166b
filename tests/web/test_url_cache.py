"""The remembered url_for (webapp/url_cache.py) gives Flask's own answers."""
from __future__ import annotations

import pytest
from flask import Flask, url_for
from werkzeug.routing import BuildError


def _values_for(rule) -> dict:
    return {arg: (7 if "id" in arg or arg in {"number", "year", "month"} else "x-y")
            for arg in rule.arguments}


def test_every_route_builds_as_flask_builds_it(app):
    flask_url_for = Flask.url_for.__get__(app)
    checked = 0
    with app.test_request_context("/", base_url="http://localhost/mount"):
        for rule in app.url_map.iter_rules():
            values = _values_for(rule)
            for extra in ({}, {"page": 2, "q": "a b&c"}, {"staff": 2, "page": 3}):
                try:
                    expected = flask_url_for(rule.endpoint, **values, **extra)
                except (BuildError, ValueError):
                    continue  # a converter refused our made-up value: nothing to compare
                assert url_for(rule.endpoint, **values, **extra) == expected
                assert url_for(rule.endpoint, **values, **extra) == expected  # remembered
                checked += 1
    assert checked > 100
    assert app.extensions["url_cache"].cache_info().hits >= checked


def test_the_mount_point_is_part_of_the_answer(app):
    with app.test_request_context("/", base_url="http://localhost/a"):
        assert url_for("main.home") == "/a/"
    with app.test_request_context("/", base_url="http://localhost/b"):
        assert url_for("main.home") == "/b/"
    with app.test_request_context("/"):
        assert url_for("main.home") == "/"


def test_what_is_not_remembered_goes_to_flask(app):
    with app.test_request_context("/"):
        before = app.extensions["url_cache"].cache_info().currsize
        assert url_for("main.home", _external=True) == "http://localhost/"
        assert url_for("main.home", _anchor="top") == "/#top"
        assert url_for("diary.timeline", child_id=3, kind=["note", "photo"]) == \
            "/children/3/timeline?kind=note&kind=photo"
        assert app.extensions["url_cache"].cache_info().currsize == before
        with pytest.raises(BuildError):
            url_for("no.such_endpoint")


def test_a_url_defaults_callback_turns_remembering_off():
    app = Flask(__name__)
    app.add_url_rule("/<lang>/page", "page")

    @app.url_defaults
    def _lang(endpoint, values):
        values.setdefault("lang", "en")

    from webapp import url_cache
    url_cache.init_app(app)
    with app.test_request_context("/"):
        assert url_for("page") == "/en/page"
        assert app.extensions["url_cache"].cache_info().currsize == 0
