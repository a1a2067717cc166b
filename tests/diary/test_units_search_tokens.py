"""Unit conversions, search segmentation, signed tokens and note formatting."""
from __future__ import annotations

import time

import pytest

from diary import search, tokens, units
from diary.errors import ValidationError
from diary.formatting import render_note


@pytest.mark.parametrize("value, unit, ounces, kg", [
    (3.5, "kg", 0, 3.5), (3500, "g", 0, 3.5), (7, "lb", 8, 3.401942775),  # 7.5 lb
    (1, "lb", 0, 0.45359237), (0, "lb", 8, 0.226796185),
])
def test_weight_to_kg(value, unit, ounces, kg):
    assert units.weight_to_kg(value, unit, ounces) == pytest.approx(kg, abs=1e-9)


def test_weight_errors():
    with pytest.raises(ValidationError):
        units.weight_to_kg(-1, "kg")
    with pytest.raises(ValidationError):
        units.weight_to_kg(7, "lb", 16)
    with pytest.raises(ValidationError):
        units.weight_to_kg(7, "stone")


def test_lb_oz_round_trip():
    assert units.kg_to_lb_oz(3.40194277) == (7, 8.0)
    assert units.kg_to_lb_oz(units.weight_to_kg(9, "lb", 15.5)) == (9, 15.5)


@pytest.mark.parametrize("value, unit, cm", [(20, "in", 50.8), (50, "cm", 50)])
def test_length(value, unit, cm):
    assert units.length_to_cm(value, unit) == pytest.approx(cm)
    assert units.cm_to_in(units.length_to_cm(value, unit)) == pytest.approx(cm / 2.54)


@pytest.mark.parametrize("value, unit, celsius", [(98.6, "f", 37.0), (100.4, "f", 38.0),
                                                  (37.5, "c", 37.5), (32, "f", 0.0)])
def test_temperature(value, unit, celsius):
    assert units.temperature_to_c(value, unit) == pytest.approx(celsius)
    assert units.c_to_f(celsius) == pytest.approx(value if unit == "f" else 99.5)


def test_segment_splits_chinese_into_words():
    words = search.segment("宝宝的睡眠和哭闹").split()
    assert "睡眠" in words and "哭闹" in words and "宝宝" in words
    assert search.segment("First BATH, then sleep!") == "first bath then sleep"
    assert search.segment(None, "") == ""


def test_tokens_round_trip_expire_and_purpose():
    token = tokens.make_token("s3cret", tokens.PASSWORD_RESET, {"uid": 7})
    assert tokens.read_token("s3cret", tokens.PASSWORD_RESET, token, 60) == {"uid": 7}
    with pytest.raises(ValidationError, match="not valid"):
        tokens.read_token("other", tokens.PASSWORD_RESET, token, 60)
    with pytest.raises(ValidationError, match="not valid"):
        tokens.read_token("s3cret", tokens.INVITATION, token, 60)
    time.sleep(1.1)
    with pytest.raises(ValidationError, match="expired"):
        tokens.read_token("s3cret", tokens.PASSWORD_RESET, token, 0)


@pytest.mark.parametrize("payload", [
    "<img src=x onerror=alert(1)>", "<script>alert(1)</script>", "[x](javascript:alert(1))",
    "<a href='javascript:alert(1)'>x</a>", "<iframe src=//evil>", "<svg onload=alert(1)>",
])
def test_note_formatting_never_emits_active_html(payload):
    html = render_note(payload)
    for bad in ("<script", "<img", "<iframe", "<svg",
                'href="javascript'):
        assert bad not in html


def test_note_formatting_keeps_simple_markdown():
    assert render_note("**a** *b*\n\n- c") == \
        "<p><strong>a</strong> <em>b</em></p>\n<ul>\n<li>c</li>\n</ul>\n"
    assert 'rel="nofollow noopener"' in render_note("[site](https://example.com)")
