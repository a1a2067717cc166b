"""The frame's fixed parts are rendered once per language (webapp/frame.py): they must depend
on the language alone, so one viewer's page can never lend another anything of theirs."""
from __future__ import annotations

from pathlib import Path

import pytest
from flask import render_template_string
from flask_babel import force_locale
from jinja2 import meta

from config import BASE_DIR
from webapp import frame

FRAME_DIR = Path(BASE_DIR) / "webapp" / "templates" / "frame"
#: All a part may use: words, URLs and the language's own name and code.
ALLOWED = {"_", "gettext", "ngettext", "url_for", "LANGUAGE_NAMES", "current_locale"}


def test_every_part_is_a_template_and_every_template_a_part():
    assert {p.stem for p in FRAME_DIR.glob("*.html")} == frame.PARTS


@pytest.mark.parametrize("name", sorted(frame.PARTS))
def test_a_part_names_nothing_of_the_viewer_or_the_request(app, name):
    source = (FRAME_DIR / f"{name}.html").read_text()
    used = meta.find_undeclared_variables(app.jinja_env.parse(source))
    assert used <= ALLOWED, f"frame/{name}.html uses {used - ALLOWED}"
    for word in ("current_user", "session", "request", "csrf", "inbox_unread", "g.",
                 "config", "include", "import", "extends"):
        assert word not in source, f"frame/{name}.html mentions {word}"


def _nav(page: str) -> str:
    return page.split('<ul class="navbar-nav me-auto">')[1].split("</ul>")[0]


def test_each_language_and_each_kind_of_viewer_gets_its_own_frame(client, app, make_family,
                                                                   login_as, session):
    guest = client.get("/").get_data(as_text=True)
    assert "Sign in" in guest and "Inbox" not in _nav(guest) and "Studio" not in _nav(guest)
    user, child = make_family()
    login_as(user)
    english = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert ">Inbox" in _nav(english) and "Sign out" in english and "Sign in" not in english
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    chinese = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "收件箱" in _nav(chinese) and ">Inbox" not in chinese and "退出" in chinese
    assert 'aria-current="true">简体中文</button>' in chinese
    assert 'aria-current="true">English' not in chinese
    user.staff_role = "editor"
    session.commit()
    staff = client.get("/library").get_data(as_text=True)
    assert "工作室" in _nav(staff) and "收件箱" not in _nav(staff) and "nav-badge" not in staff
    kept = app.extensions["frame_parts"]
    assert {("nav_open", "en"), ("nav_open", "zh_Hans_CN")} <= {k[:2] for k in kept}
    assert all(isinstance(key[2], str) for key in kept)


def test_parts_are_kept_per_app(app, client):
    client.get("/")
    assert app.extensions["frame_parts"]
    from webapp import create_app
    other = create_app("testing")
    assert other.extensions["frame_parts"] == {}


def test_template_words_follow_force_locale_inside_a_request(app):
    """The template `_()` looks the catalogue up once per request and locale: an email
    rendered in the reader's language inside an English request is in that language, and
    the page after it in English again."""
    with app.test_request_context("/", headers={"Accept-Language": "en"}):
        assert render_template_string("{{ _('Inbox') }}") == "Inbox"
        with force_locale("zh_CN"):
            assert render_template_string("{{ _('Inbox') }}") == "收件箱"
        assert render_template_string("{{ _('Inbox') }}") == "Inbox"


def test_template_words_outside_a_request_are_not_translated(app):
    assert app.jinja_env.from_string("{{ _('Inbox') }}").render() == "Inbox"
