"""Pages are rendered for every request: there is no whole-page cache, so nothing a parent
changes waits to show, and no session's page (its CSRF token, its banner) reaches another.
What is cached is only what depends on nothing but the entry and the language (the timeline
cards, webapp/fragments.py) or on the language alone (the frame's parts, webapp/frame.py)."""
from __future__ import annotations

import re

import pytest
from sqlalchemy import select

import clock
from diary.models import Entry, Membership
from journeys import ledger
from tests.conftest import PASSWORD
from tests.web.helpers import entry_form


def _post_entry(client, child, title, kind="note", **fields):  # type: ignore[no-untyped-def]
    return client.post(f"/children/{child.id}/entries/new?kind={kind}",
                       data=entry_form(title=title, body="text", **fields),
                       content_type="multipart/form-data")


@pytest.fixture()
def parent(make_family, login_as):  # type: ignore[no-untyped-def]
    user, child = make_family()
    login_as(user)
    return user, child


def _page(client, path: str, **args) -> str:  # type: ignore[no-untyped-def]
    response = client.get(path, query_string=args)
    assert response.status_code == 200
    assert response.headers["Cache-Control"] == "no-store"  # never kept by a browser
    return response.get_data(as_text=True)


def _both(client, child) -> tuple[str, str]:  # type: ignore[no-untyped-def]
    return _page(client, f"/children/{child.id}/timeline"), _page(client, f"/children/{child.id}")


def test_new_edited_and_deleted_entries_show_at_once_on_both_pages(client, parent, session):
    _, child = parent
    _post_entry(client, child, "First")
    assert all("First" in page for page in _both(client, child))
    _both(client, child)
    _post_entry(client, child, "Second")
    assert all("First" in page and "Second" in page for page in _both(client, child))
    entry = session.scalar(select(Entry).where(Entry.title == "First"))
    client.post(f"/entries/{entry.id}/edit", data=entry_form(title="Renamed", body="text"))
    assert all("Renamed" in page and "First" not in page for page in _both(client, child))
    client.post(f"/entries/{entry.id}/delete")
    assert all("Renamed" not in page and "Second" in page for page in _both(client, child))


def test_a_flashed_message_shows_once(client, parent):
    _, child = parent
    _post_entry(client, child, "First")
    assert "Saved to" in _page(client, f"/children/{child.id}/timeline")
    assert "Saved to" not in _page(client, f"/children/{child.id}/timeline")


def test_the_child_language_units_and_unread_badge_show_at_once(client, parent, session):
    user, child = parent
    child.birth_weight_kg = 3.4
    session.commit()
    timeline, home = _both(client, child)
    assert "3.4 kg" in home and "nav-badge" not in timeline + home
    child.name = "Xiaomi"
    session.commit()
    assert all("Xiaomi" in page for page in _both(client, child))
    ledger.push(session, [ledger.row(user_id=user.id, child_id=child.id, item=None,
                                     channel="inbox", item_key="test:hello", occurrence="t",
                                     title="Hello")])
    session.commit()
    assert all(re.search(r"nav-badge\">\s*1\s*<", page) for page in _both(client, child))
    user.unit_system = "imperial"
    session.commit()
    assert "7 lb" in _page(client, f"/children/{child.id}")
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    timeline, home = _both(client, child)
    assert "搜索" in timeline and "收件箱" in timeline and "收件箱" in home


def test_a_role_change_shows_at_once(client, parent, session, make_family, login_as):
    _, child = parent
    other, _ = make_family()
    membership = Membership(family_id=child.family_id, user_id=other.id, role="editor",
                            relationship_to_child="father")
    session.add(membership)
    session.commit()
    login_as(other)
    timeline, home = _both(client, child)
    assert "+ Note" in timeline and "Add to the book" in home
    membership.role = "viewer"
    session.commit()
    timeline, home = _both(client, child)
    assert "+ Note" not in timeline and "Add to the book" not in home


def test_confirming_the_address_takes_the_banner_away_at_once(client, make_family, login_as,
                                                              session):
    """The old whole-page cache kept this banner for up to a minute after the address was
    confirmed (the banner was not part of its key)."""
    user, child = make_family(verified=False)
    login_as(user)
    for _ in range(2):
        assert "verify-banner" in _page(client, f"/children/{child.id}/timeline")
    user.email_verified_at = clock.utcnow()
    session.commit()
    assert "verify-banner" not in _page(client, f"/children/{child.id}/timeline")


def test_another_familys_child_is_not_found_on_either_page(client, parent, make_family):
    _, other_child = make_family()
    for path in (f"/children/{other_child.id}", f"/children/{other_child.id}/timeline"):
        assert client.get(path).status_code == 404


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

    @pytest.mark.parametrize("page", ["/children/{id}/timeline", "/children/{id}"])
    def test_two_sessions_of_one_parent_each_keep_their_own_token(self, app, make_family,
                                                                   page):
        user, child = make_family()
        phone, laptop = app.test_client(), app.test_client()
        self._sign_in(phone, user)
        self._sign_in(laptop, user)
        path = page.format(id=child.id)
        # A page's token is the session's token, signed with the second it was signed in:
        # two pages a second apart differ in the signature only. Compare what is signed.
        phone_pages = [_token(_page(phone, path)) for _ in range(2)]
        laptop_pages = [_token(_page(laptop, path)) for _ in range(2)]
        phone_tokens = {_signed_value(t) for t in phone_pages}
        laptop_tokens = {_signed_value(t) for t in laptop_pages}
        assert len(phone_tokens) == len(laptop_tokens) == 1 and phone_tokens != laptop_tokens
        response = laptop.post("/logout", data={"csrf_token": laptop_pages[-1]})
        assert response.status_code == 302  # the laptop's own token, not the phone's
        assert phone.get(path).status_code == 200


def _signed_value(token: str) -> str:
    """The value an itsdangerous timed token signs (its part before the timestamp)."""
    return token.split(".")[0]


def _token(page: str) -> str:
    return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"', page).group(1)
