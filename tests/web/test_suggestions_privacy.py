""""Personalise my suggestions" on the account page, and the recommender's data going with
the account."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from clock import utcnow
from diary import invitations
from diary import privacy as diary_privacy
from recommender import log
from recommender.models import Interaction, UnmatchedOrderLine
from tests.conftest import PASSWORD
from tests.web.test_studio import make_item


def checkbox(html):
    return re.search(r'<input[^>]*name="personalise_suggestions"[^>]*>', html).group(0)


def test_suggestions_are_personalised_until_the_parent_says_no(make_family, login_as, client,
                                                               session):
    user, _ = make_family()
    assert user.personalise_suggestions is True  # the default
    login_as(user)
    html = client.get("/account").get_data(as_text=True)
    assert "Personalise my suggestions" in html and "checked" in checkbox(html)
    response = client.post("/account/suggestions", data={})  # the box unticked
    assert response.status_code == 302 and response.headers["Location"].endswith(
        "/account#suggestions")
    session.expire_all()
    assert user.personalise_suggestions is False
    assert "checked" not in checkbox(client.get("/account").get_data(as_text=True))
    client.post("/account/suggestions", data={"personalise_suggestions": "y"})
    session.expire_all()
    assert user.personalise_suggestions is True


def test_the_choice_is_in_both_languages(make_family, login_as, client, session):
    user, _ = make_family()
    user.locale = "zh_CN"
    session.commit()
    login_as(user)
    html = client.get("/account").get_data(as_text=True)
    assert "个性化推荐" in html and "Personalise my suggestions" not in html


def test_only_the_signed_in_person_changes_their_own_choice(make_family, login_as, client,
                                                            session):
    user, _ = make_family()
    other, _ = make_family()
    response = client.post("/account/suggestions", data={})
    assert response.status_code == 302 and "/login" in response.headers["Location"]
    assert client.get("/account/suggestions").status_code == 405
    login_as(user)
    client.post("/account/suggestions", data={"user_id": other.id})
    session.expire_all()
    assert (user.personalise_suggestions, other.personalise_suggestions) == (False, True)


class TestCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_forged_post_changes_nothing(self, make_family, client, session):
        user, _ = make_family()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)
        client.post("/login", data={"email": user.email, "password": PASSWORD,
                                    "csrf_token": token})
        assert client.post("/account/suggestions", data={}).status_code == 400
        session.expire_all()
        assert user.personalise_suggestions is True


# --- going with the account --------------------------------------------------------------------

def _interaction(session, user, child, item, key):
    log.record(session, log.Event(kind="click", item_id=item.id, surface="child_page",
                                  idempotency_key=key, user_id=user.id, child_id=child.id,
                                  occurred_at=datetime(2026, 11, 20, tzinfo=UTC)))


def _kept(session, order_line_id, email=None, member_no=None):
    session.add(UnmatchedOrderLine(
        order_line_id=order_line_id, reason="product", source="csv",
        ordered_at=datetime(2026, 11, 20, tzinfo=UTC), email=email, member_no=member_no,
        sku="GONE", quantity=1, amount_minor=100, currency="CNY", received_at=utcnow()))


def test_deleting_the_account_deletes_its_interactions_and_kept_order_lines(
        make_family, login_as, client, session):
    owner, child = make_family(email="owner@example.com")
    editor, _ = make_family(email="editor@example.com")
    invitations.accept(session, invitations.invite(session, child.family, owner, editor.email,
                                                   "editor", "father"), editor)
    item = make_item(session)
    _interaction(session, owner, child, item, "owner-1")
    _interaction(session, editor, child, item, "editor-1")
    _kept(session, "L-1", email="owner@example.com")
    _kept(session, "L-2", member_no=owner.member_no)
    _kept(session, "L-3", email="editor@example.com")
    session.commit()
    login_as(owner)
    response = client.post("/account/delete", data={"current_password": PASSWORD,
                                                    "confirm": "y"})
    assert response.status_code == 302
    session.expire_all()
    assert session.execute(select(Interaction.user_id, Interaction.child_id)).all() == [
        (editor.id, child.id)]  # the family stays with the editor, and so does theirs
    assert session.scalars(select(UnmatchedOrderLine.order_line_id)).all() == ["L-3"]


def test_the_database_itself_takes_interactions_with_the_account(make_family, session):
    """Without the web layer's help: the foreign key cascades (on every partition), so no
    other way of deleting an account can leave a person's interactions behind."""
    user, child = make_family()
    _interaction(session, user, child, make_item(session), "k-1")
    session.commit()
    diary_privacy.delete_account(session, user)
    session.commit()
    assert session.scalar(select(func.count()).select_from(Interaction)) == 0
