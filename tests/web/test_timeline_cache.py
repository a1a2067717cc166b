"""The timeline's page cache never shows a stale or someone else's page: every change a
parent can make shows at once, each session keeps its own CSRF token, and flashed messages
are shown once."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from diary.models import Entry, Membership
from journeys import ledger
from tests.conftest import PASSWORD
from tests.web.helpers import entry_form
from webapp import fragments


def _post_entry(client, child, title):  # type: ignore[no-untyped-def]
    return client.post(f"/children/{child.id}/entries/new?kind=note",
                       data=entry_form(title=title, body="text"),
                       content_type="multipart/form-data")


@pytest.fixture()
def parent(make_family, login_as):  # type: ignore[no-untyped-def]
    user, child = make_family()
    login_as(user)
    return user, child


def _timeline(client, child, **args) -> str:  # type: ignore[no-untyped-def]
    response = client.get(f"/children/{child.id}/timeline", query_string=args)
    assert response.status_code == 200
    return response.get_data(as_text=True)


def test_a_repeat_view_is_served_from_the_cache(client, parent):
    _, child = parent
    _post_entry(client, child, "First")
    first = _timeline(client, child)  # the flash of the save shows here, uncached
    assert "Saved to" in first
    again = _timeline(client, child)
    assert "Saved to" not in again and len(fragments._pages) == 1
    assert _timeline(client, child) == again and len(fragments._pages) == 1


def test_new_edited_and_deleted_entries_show_at_once(client, parent, session):
    _, child = parent
    _post_entry(client, child, "First")
    _timeline(client, child)
    assert "First" in _timeline(client, child)
    _post_entry(client, child, "Second")
    _timeline(client, child)  # with the flash
    page = _timeline(client, child)
    assert "First" in page and "Second" in page
    entry = session.scalar(select(Entry).where(Entry.title == "First"))
    client.post(f"/entries/{entry.id}/edit", data=entry_form(title="Renamed", body="text"))
    _timeline(client, child)
    page = _timeline(client, child)
    assert "Renamed" in page and "First" not in page
    client.post(f"/entries/{entry.id}/delete")
    _timeline(client, child)
    assert "Renamed" not in _timeline(client, child)


def test_the_child_language_and_unread_badge_are_part_of_the_page(client, parent, session):
    user, child = parent
    _timeline(client, child)
    child.name = "Xiaomi"
    child.birth_date = None
    child.due_date = child.created_at.date()
    session.commit()
    assert "Xiaomi" in _timeline(client, child)  # expecting babies show their name
    ledger.push(session, [ledger.row(user_id=user.id, child_id=child.id, item=None,
                                     channel="inbox", item_key="test:hello", occurrence="t",
                                     title="Hello")])
    session.commit()
    assert re.search(r"nav-badge\">\s*1\s*<", _timeline(client, child))
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    assert "搜索" in _timeline(client, child)


def test_a_viewer_does_not_get_an_editors_cached_page(client, parent, session, make_family,
                                                      login_as):
    user, child = parent
    other, _ = make_family()
    membership = Membership(family_id=child.family_id, user_id=other.id, role="editor",
                            relationship_to_child="father")
    session.add(membership)
    session.commit()
    assert "+ Note" in _timeline(client, child)
    login_as(other)
    _timeline(client, child)  # signing in may flash a greeting: that view is not cached
    assert "+ Note" in _timeline(client, child)
    membership.role = "viewer"
    session.commit()
    assert "+ Note" not in _timeline(client, child)


class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):  # type: ignore[no-untyped-def]
        return {"WTF_CSRF_ENABLED": True}

    @staticmethod
    def _sign_in(client, user):  # type: ignore[no-untyped-def]
        token = _token(client.get("/login").get_data(as_text=True))
        response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                               "csrf_token": token})
        assert response.status_code == 302

    def test_two_sessions_of_one_parent_each_keep_their_own_token(self, app, make_family):
        user, child = make_family()
        phone, laptop = app.test_client(), app.test_client()
        self._sign_in(phone, user)
        self._sign_in(laptop, user)
        phone_page, laptop_page = _timeline(phone, child), _timeline(laptop, child)
        _timeline(phone, child)  # cached now
        laptop_token = _token(_timeline(laptop, child))
        assert _token(phone_page) != _token(laptop_page)
        response = laptop.post("/logout", data={"csrf_token": laptop_token})
        assert response.status_code == 302  # the laptop's own token, not the phone's


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
