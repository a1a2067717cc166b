"""One home per concept: locales, interests, topics, categories, units, money and lists are
defined once and used everywhere; domain code spells no web path. Read from the source, so a
second copy fails here the day it is written, not when two pages disagree."""
from __future__ import annotations

import ast
from decimal import Decimal
from pathlib import Path

import pytest

from content import vocabulary
from content.stages import Stage
from diary import locales, units
from diary.vocabulary import INTEREST_LABELS, INTERESTS, interest_label

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("diary", "content", "journeys", "webapp", "db", "clock", "mailer", "csvsafe",
            "config", "scripts", "bench")
DOMAIN = ("diary", "content", "journeys")

#: Each vocabulary's name, and the one module that may spell it out.
HOMES = {
    "LOCALES": "diary/locales.py", "LANGUAGES": "diary/locales.py",
    "LANGUAGE_NAMES": "diary/locales.py", "LANGUAGE_LABELS": "diary/locales.py",
    "LOCALE_NAMES": "diary/locales.py", "LOCALE_CHOICES": "diary/locales.py",
    "INTERESTS": "diary/vocabulary.py", "INTEREST_LABELS": "diary/vocabulary.py",
    "INTEREST_CHOICES": "diary/vocabulary.py", "INTEREST_NAMES": "diary/vocabulary.py",
    "UNIT_SYSTEMS": "diary/units.py",
    "TOPICS": "content/vocabulary.py", "TOPIC_LABELS": "content/vocabulary.py",
    "TOPIC_NAMES": "content/vocabulary.py", "CATEGORIES": "content/vocabulary.py",
    "CATEGORY_LABELS": "content/vocabulary.py", "CATEGORY_NAMES": "content/vocabulary.py",
    "UNIT_NAMES": "content/vocabulary.py", "UNIT_LABELS": "content/vocabulary.py",
    "STRINGS": "webapp/translations",  # string tables: the Babel catalogue, not code
}
#: Babel's number, money and list formatting, called with an explicit locale in one place.
FORMATTING = ("babel.numbers", "babel.lists")
#: Paths of the web app's routes; the domain asks `journeys.links.SiteLinks` for them.
WEB_PATHS = ("/articles", "/products", "/library", "/inbox", "/preferences", "/e/", "/studio",
             "/account", "/family", "/dashboard", "/login")


def _sources(*packages: str) -> list[tuple[str, ast.Module]]:
    found = []
    for package in packages:
        for path in sorted((ROOT / package).rglob("*.py")):
            found.append((path.relative_to(ROOT).as_posix(), ast.parse(path.read_text())))
    return found


def _is_literal(node: ast.AST) -> bool:
    """A table written out: a dict, list, tuple or set of constants (not derived)."""
    if isinstance(node, ast.Dict):
        return bool(node.keys) and all(isinstance(k, ast.Constant) for k in node.keys)
    if isinstance(node, (ast.List, ast.Tuple, ast.Set)):
        return bool(node.elts) and all(isinstance(e, (ast.Constant, ast.Tuple))
                                       for e in node.elts)
    return False


def _docstrings(tree: ast.Module) -> set[int]:
    ids = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                ids.add(id(body[0].value))
    return ids


def test_each_vocabulary_is_written_out_in_its_home_only():
    copies = []
    for name, tree in _sources(*PACKAGES):
        for node in ast.walk(tree):
            targets = node.targets if isinstance(node, ast.Assign) else \
                [node.target] if isinstance(node, ast.AnnAssign) and node.value else []
            for target in targets:
                if isinstance(target, ast.Name) and target.id in HOMES \
                        and _is_literal(node.value) and HOMES[target.id] != name:
                    copies.append((name, node.lineno, target.id))
    assert copies == []


def test_babel_formats_money_numbers_and_lists_in_one_module():
    """Prices, numbers and lists go through diary.locales (format_price, format_number,
    format_list), which hands Babel the explicit locale."""
    imports = []
    for name, tree in _sources(*PACKAGES):
        for node in ast.walk(tree):
            modules = [node.module or ""] if isinstance(node, ast.ImportFrom) else \
                [a.name for a in node.names] if isinstance(node, ast.Import) else []
            imports += [(name, node.lineno, m) for m in modules
                        if m.startswith(FORMATTING) and name != "diary/locales.py"]
    assert imports == []


def test_which_language_a_person_reads_and_imperial_units_are_decided_once():
    guesses = []
    for name, tree in _sources(*PACKAGES):
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                    and node.func.attr == "startswith" and node.args \
                    and isinstance(node.args[0], ast.Constant) \
                    and str(node.args[0].value).lower().startswith("zh") \
                    and name != "diary/locales.py":
                guesses.append((name, node.lineno, "startswith zh"))
            if isinstance(node, ast.Compare) and name != "diary/units.py" and any(
                    isinstance(part, ast.Constant) and part.value == "imperial"
                    for part in [node.left, *node.comparators]):
                guesses.append((name, node.lineno, "== imperial"))
    assert guesses == []


def test_domain_code_spells_no_web_path():
    """Paths belong to the web app's routes (journeys.links): a renamed route must not leave
    a dead link in an email."""
    spelled = []
    for name, tree in _sources(*DOMAIN):
        docstrings = _docstrings(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str) \
                    and id(node) not in docstrings \
                    and any(node.value.startswith(p) for p in WEB_PATHS):
                spelled.append((name, node.lineno, node.value))
    assert spelled == []


# --- the vocabularies themselves -------------------------------------------------------------

@pytest.mark.parametrize(("said", "reads"), [
    ("zh_CN", "zh_CN"), ("zh", "zh_CN"), ("zh-CN", "zh_CN"), ("zh_Hans_CN", "zh_CN"),
    ("ZH-cn", "zh_CN"), ("zh-TW", "zh_CN"), ("en", "en"), ("en-GB", "en"), ("", "en"),
    (None, "en"), ("fr", "en"), ("zhx", "en"), ("<script>", "en")])
def test_reading_locale(said, reads):
    assert locales.reading_locale(said) == reads


def test_catalogue_without_flask_in_each_language():
    assert locales.words("zh_CN").gettext("Reminders") == "提醒"
    assert locales.words("zh-CN") is locales.words("zh_CN")  # loaded once per process
    assert locales.words("en").gettext("Reminders") == "Reminders"
    assert locales.words("zh_CN").gettext("Hello %(name)s,", name="<b>") == "<b>，您好："
    assert locales.words("en").ngettext("%(num)d week", "%(num)d weeks", 3) == "3 weeks"
    assert locales.words("fr").locale == "en"  # a language we do not have reads English


def test_money_numbers_lists_and_dates_follow_the_locale():
    assert locales.format_price(12900, "CNY", "en") == "CN¥129.00"
    assert locales.format_price(12900, "CNY", "zh_CN") == "¥129.00"
    assert locales.format_price(500, "JPY", "en") == "¥500"  # no minor unit
    assert locales.format_price(None, "CNY", "en") == locales.format_price(5, "", "en") == ""
    assert locales.minor_to_amount(5990, "CNY") == Decimal("59.90")
    assert locales.format_number(1234.5, "en") == "1,234.5"
    assert locales.format_list(["Bean", "Mia"], "en") == "Bean and Mia"
    assert locales.format_list(["Bean", "Mia"], "zh_CN") == "Bean和Mia"
    assert locales.format_list([], "en") == ""
    from datetime import date
    assert locales.format_date(date(2026, 11, 23), "zh_CN") == "2026年11月23日"


def test_labels_of_interests_topics_categories_and_units():
    assert list(INTERESTS) == list(INTEREST_LABELS)
    assert interest_label("skin_care", "zh_CN") == "肌肤护理"
    assert interest_label("unknown", "zh_CN") == "unknown"
    assert vocabulary.topic_label("sleep", "zh_CN") == "睡眠"
    assert vocabulary.category_label("account", "en") == "Your account"
    assert vocabulary.unit_name("month", "zh_CN") == "宝宝月龄"
    assert set(vocabulary.TOPICS) == set(vocabulary.TOPIC_LABELS)
    assert {c for kind in vocabulary.CATEGORIES.values() for c in kind} \
        == set(vocabulary.CATEGORY_LABELS)


@pytest.mark.parametrize(("stage", "en", "zh"), [
    (Stage("pregnancy_week", 20), "Pregnancy week 20", "孕 20 周"),
    (Stage("week", 3), "Baby week 3", "宝宝 3 周"),
    (Stage("month", 3), "Baby, month 3", "宝宝 3 个月"),
    ("month:12", "Baby, month 12", "宝宝 12 个月"),
    ("nonsense", "nonsense", "nonsense")])
def test_one_wording_for_stages(stage, en, zh):
    assert vocabulary.stage_label(stage, "en") == en
    assert vocabulary.stage_label(stage, "zh_CN") == zh


def test_windows_read_like_stages():
    assert vocabulary.window_label("month", 3, 6, "en") == "Baby, months 3–6"
    assert vocabulary.window_label("week", 0, 4, "zh_CN") == "宝宝 0–4 周"
    assert vocabulary.window_label("pregnancy_week", 12, 12, "en") == "Pregnancy week 12"
    assert vocabulary.window_label(None, 1, 2, "en") == ""


def test_imperial_is_a_choice_of_the_person():
    class Person:
        unit_system = "imperial"

    assert units.uses_imperial(Person())
    assert not units.uses_imperial(None) and not units.uses_imperial(object())
    assert units.UNIT_SYSTEMS == (units.METRIC, units.IMPERIAL)


def test_emails_are_worded_without_flask():
    """The domain's words, links and formatting load without Flask (the scheduler's email
    rendering runs outside any request)."""
    import subprocess
    import sys

    code = ("import sys, journeys.digests, journeys.campaigns, diary.locales as l; "
            "assert l.words('zh_CN').gettext('Read more') == '阅读全文'; "
            "assert not [m for m in sys.modules if m.split('.')[0] in "
            "('flask', 'flask_babel', 'werkzeug', 'webapp')], 'Flask was imported'")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.parametrize(("text", "values", "said"), [
    # A Chinese value meets Chinese text: no space on that side.
    ("现在为 %(name)s 推荐", {"name": "小满"}, "现在为小满推荐"),
    ("%(name)s 的宝宝", {"name": "小满"}, "小满的宝宝"),
    ("于 %(date)s 到期", {"date": "2026年12月8日"}, "于 2026年12月8日到期"),  # digit, then 日
    ("缺少 %(locale)s 标题。", {"locale": "中文"}, "缺少中文标题。"),
    ("（%(name)s）", {"name": "小满"}, "（小满）"),  # nothing to drop
    # A Latin value or a number keeps the catalogue's spaces.
    ("现在为 %(name)s 推荐", {"name": "Mia"}, "现在为 Mia 推荐"),
    ("第 %(n)d 周", {"n": 3}, "第 3 周"),
    ("宝宝 %(n)s 个月", {"n": "3"}, "宝宝 3 个月"),
    ("现在为 %(name)s 推荐", {"name": "Mia 小满"}, "现在为 Mia 小满推荐"),
    # Placeholders side by side, Latin text, `%%`, a width: `%` as usual.
    ("%(a)s %(b)s", {"a": "小满", "b": "小雨"}, "小满 小雨"),
    ("Hello %(name)s 的", {"name": "小满"}, "Hello 小满的"),
    ("完成 100%% %(x)s", {"x": "好"}, "完成 100% 好"),
    ("编号 %(n)03d 号", {"n": 7}, "编号 007 号"),
])
def test_chinese_is_spaced_around_values_as_it_is_written(text, values, said):
    assert locales.interpolate(text, values) == said


def test_spacing_keeps_percent_formattings_escaping_and_errors():
    from markupsafe import Markup

    assert locales.interpolate(Markup("现在为 %(name)s 推荐"), {"name": "<i>小满"}) == \
        Markup("现在为 &lt;i&gt;小满推荐")  # escaped in, and the space follows the raw value
    assert isinstance(locales.interpolate(Markup("为 %(n)s 推"), {"n": "小"}), Markup)
    with pytest.raises(KeyError):
        locales.interpolate("为 %(name)s 推", {"other": "小满"})
    assert locales.interpolate("没有占位", {}) == "没有占位"


def test_every_way_of_saying_a_sentence_spaces_it_alike(app):
    """Flask-Babel's gettext (the 61 modules), webapp.babel_fast, the templates' `_()` and
    diary.locales.Words give the same sentence for a Chinese value and for a Latin one."""
    import flask_babel
    from flask import render_template_string

    from webapp import babel_fast

    msgid = "The %(locale)s title is missing."
    for value, said in (("中文", "缺少中文标题。"), ("English", "缺少 English 标题。")):
        assert locales.words("zh_CN").gettext(msgid, locale=value) == said
        with app.test_request_context("/", headers={"Accept-Language": "zh-CN"}):
            assert flask_babel.gettext(msgid, locale=value) == said
            assert str(flask_babel.lazy_gettext(msgid, locale=value)) == said
            assert babel_fast.gettext(msgid, locale=value) == said
            assert render_template_string("{{ _(m, locale=v) }}", m=msgid, v=value) == said
