"""Every child, entry and photo URL is private: another family gets 404, viewers can't write."""
from __future__ import annotations

import io

import pytest
from sqlalchemy import select

from diary import invitations
from diary.models import Entry, Membership, Photo
from tests.web.helpers import entry_form, png_bytes


@pytest.fixture()
def owned(make_family, login_as, client, session):
    """A family with a photo entry, created by its owner through the views."""
    owner, child = make_family()
    login_as(owner)
    client.post(f"/children/{child.id}/entries/new?kind=photo",
                data=entry_form(title="mine", photos=[(io.BytesIO(png_bytes()), "a.png")]),
                content_type="multipart/form-data")
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id))
    photo = session.scalar(select(Photo).where(Photo.entry_id == entry.id))
    client.post("/logout")
    return owner, child, entry, photo


def _urls(child, entry, photo):
    c, e, p = child.id, entry.id, photo.id
    family = child.family_id
    member = 1
    return [
        ("GET", f"/children/{c}"), ("GET", f"/children/{c}/timeline"),
        ("GET", f"/children/{c}/entries/new?kind=note"),
        ("POST", f"/children/{c}/entries/new?kind=note"),
        ("GET", f"/children/{c}/edit"), ("POST", f"/children/{c}/edit"),
        ("GET", f"/children/{c}/arrived"), ("GET", f"/children/{c}/delete"),
        ("POST", f"/children/{c}/delete"),
        ("GET", f"/entries/{e}"), ("GET", f"/entries/{e}/edit"), ("POST", f"/entries/{e}/edit"),
        ("GET", f"/entries/{e}/delete"), ("POST", f"/entries/{e}/delete"),
        ("GET", f"/photos/{p}/full"), ("GET", f"/photos/{p}/thumb"),
        ("POST", f"/families/{family}/invitations"),
        ("POST", f"/families/{family}/members/{member}/role"),
        ("POST", f"/families/{family}/members/{member}/remove"),
    ]


def test_another_family_gets_404_everywhere(owned, make_family, login_as, client, session):
    _, child, entry, photo = owned
    stranger, _ = make_family()
    login_as(stranger)
    for method, url in _urls(child, entry, photo):
        response = client.open(url, method=method, data={})
        assert response.status_code == 404, (method, url)
    assert session.get(Entry, entry.id) is not None


def test_anonymous_is_sent_to_login(owned, client):
    _, child, entry, photo = owned
    for method, url in _urls(child, entry, photo):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_viewer_can_read_but_not_write(owned, make_family, login_as, client, session):
    owner, child, entry, photo = owned
    viewer, _ = make_family()
    inv = invitations.invite(session, child.family, owner, viewer.email, "viewer", "other")
    invitations.accept(session, inv, viewer)
    session.commit()
    login_as(viewer)
    for url in (f"/children/{child.id}", f"/children/{child.id}/timeline", f"/entries/{entry.id}",
                f"/photos/{photo.id}/thumb"):
        assert client.get(url).status_code == 200, url
    page = client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert f"/entries/{entry.id}/edit" not in page  # no buttons that would only fail
    for method, url in (("GET", f"/children/{child.id}/entries/new?kind=note"),
                        ("POST", f"/entries/{entry.id}/delete"),
                        ("GET", f"/entries/{entry.id}/edit"),
                        ("GET", f"/children/{child.id}/edit")):
        assert client.open(url, method=method).status_code == 403, url
    assert session.get(Entry, entry.id) is not None


def test_editor_writes_and_is_shown_as_author(owned, make_family, login_as, client, session):
    owner, child, entry, _ = owned
    editor, _ = make_family(email="grandma@example.com")
    inv = invitations.invite(session, child.family, owner, editor.email, "editor", "grandparent")
    invitations.accept(session, inv, editor)
    session.commit()
    login_as(editor)
    response = client.post(f"/children/{child.id}/entries/new?kind=note",
                           data=entry_form(body="Visited today"))
    assert response.status_code == 302
    login_as(owner)
    page = client.get(f"/children/{child.id}/timeline").get_data(as_text=True)
    assert "by grandma" in page and f"by {owner.display_name}" in page
    # editors cannot delete the child or manage members
    login_as(editor)
    assert client.post(f"/children/{child.id}/delete").status_code == 403
    membership = session.scalar(select(Membership).where(Membership.user_id == owner.id))
    assert client.post(f"/families/{child.family_id}/members/{membership.id}/remove") \
        .status_code == 403
