"""Family pages: add a baby, twins, "the baby has arrived", invitations and roles."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from diary.models import Child, Invitation, Membership, User
from tests.conftest import local_today
from tests.web.helpers import confirm_address


def _child_form(**overrides):
    data = {"child_name": "Twin B", "status": "born", "sex": "male",
            "birth_date": (local_today() - timedelta(days=10)).isoformat(),
            "birth_weight_unit": "kg", "birth_length_unit": "cm", "birth_head_unit": "cm"}
    data.update(overrides)
    return data


def test_add_a_second_baby_to_the_same_family(make_family, login_as, client, session):
    user, child = make_family(name="Twin A", birth_date=local_today() - timedelta(days=10))
    login_as(user)
    response = client.post("/children/new", data=_child_form())
    assert response.status_code == 302
    children = session.scalars(select(Child).where(Child.family_id == child.family_id)).all()
    assert sorted(c.name for c in children) == ["Twin A", "Twin B"]
    dashboard = client.get("/dashboard").get_data(as_text=True)
    assert "Twin A" in dashboard and "Twin B" in dashboard


def test_add_child_bad_input_is_a_form_error(make_family, login_as, client):
    user, _ = make_family()
    login_as(user)
    response = client.post("/children/new", data=_child_form(sex="", child_name=""))
    assert response.status_code == 400
    assert "This field is required." in response.get_data(as_text=True)
    response = client.post("/children/new", data=_child_form(ga_weeks="50"))
    assert "Number must be between 22 and 44." in response.get_data(as_text=True)
    response = client.post("/children/new", data=_child_form(birth_weight="12"))
    assert "Birth weight should be between 0.3 and 7 kg." in response.get_data(as_text=True)


def test_the_baby_has_arrived(make_family, login_as, client, session):
    due = local_today() + timedelta(days=3)
    user, child = make_family(born=False, due_date=due)
    login_as(user)
    assert "Week 39 of pregnancy" in client.get(f"/children/{child.id}").get_data(as_text=True)
    birth = local_today() - timedelta(days=1)
    response = client.post(f"/children/{child.id}/arrived", data=_child_form(
        child_name="Bean", sex="female", birth_date=birth.isoformat(), birth_weight="3.1"))
    assert response.status_code == 302
    session.expire_all()
    assert child.birth_date == birth and child.due_date == due
    # gestation worked out from the due date: 280 - 4 days = 276 days = 39+3
    assert (child.gestational_weeks_at_birth, child.gestational_days_at_birth) == (39, 3)
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Bean is 1 day old" in page
    assert client.get(f"/children/{child.id}/arrived").status_code == 302  # already born


def test_invite_join_as_new_user_and_roles(make_family, login_as, client, session, mailer):
    owner, child = make_family()
    login_as(owner)
    response = client.post(f"/families/{child.family_id}/invitations",
                           data={"email": "Dad@Example.com", "role": "editor",
                                 "relationship": "father"})
    assert response.status_code == 302
    assert mailer.sent[-1].to == "dad@example.com"
    link = re.search(r"http://localhost(/join/\S+)", mailer.sent[-1].text).group(1)
    client.post("/logout")
    page = client.get(link).get_data(as_text=True)
    assert 'value="dad@example.com"' in page
    response = client.post(link, data={
        "display_name": "Dad", "email": "dad@example.com", "password": "dad-password",
        "confirm": "dad-password", "timezone": "Asia/Shanghai", "locale": "zh_CN",
        "relationship": "father", "child_data_consent": "y"})
    assert response.status_code == 302
    dad = session.scalar(select(User).where(User.email == "dad@example.com"))
    # The join link may have been forwarded: Dad is in only once he proves the address.
    assert session.scalar(select(Membership).where(Membership.user_id == dad.id)) is None
    assert client.get(f"/children/{child.id}").status_code == 404
    assert confirm_address(client, mailer, "dad@example.com").headers["Location"] \
        == "/invitations"
    waiting = client.get("/invitations").get_data(as_text=True)
    invitation = session.scalar(select(Invitation).where(Invitation.email == "dad@example.com"))
    assert f"/invitations/{invitation.id}/accept" in waiting
    assert client.post(f"/invitations/{invitation.id}/accept").status_code == 302
    membership = session.scalar(select(Membership).where(Membership.user_id == dad.id))
    assert (membership.family_id, membership.role) == (child.family_id, "editor")
    assert client.get(f"/children/{child.id}").status_code == 200
    assert client.get(link, follow_redirects=True).status_code == 200  # spent link: message
    # the owner makes Dad a viewer, then removes him
    login_as(owner)
    client.post(f"/families/{child.family_id}/members/{membership.id}/role",
                data={"role": "viewer"})
    session.expire_all()
    assert membership.role == "viewer"
    client.post(f"/families/{child.family_id}/members/{membership.id}/remove")
    assert session.scalar(select(func.count(Membership.id))
                          .where(Membership.user_id == dad.id)) == 0


def test_invitation_for_existing_account_requires_that_account(make_family, login_as, client,
                                                                session, mailer):
    owner, child = make_family()
    other, _ = make_family(email="aunt@example.com")
    wrong, _ = make_family(email="someone@example.com")
    login_as(owner)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "aunt@example.com", "role": "viewer", "relationship": "other"})
    link = re.search(r"http://localhost(/join/\S+)", mailer.sent[-1].text).group(1)
    login_as(wrong)
    response = client.post(link, follow_redirects=True)
    assert "This invitation was sent to aunt@example.com" in response.get_data(as_text=True)
    login_as(other)
    assert client.post(link).status_code == 302
    assert client.get(f"/children/{child.id}").status_code == 200


def test_last_owner_cannot_step_down(make_family, login_as, client, session):
    owner, child = make_family()
    login_as(owner)
    mine = session.scalar(select(Membership).where(Membership.user_id == owner.id))
    response = client.post(f"/families/{child.family_id}/members/{mine.id}/remove",
                           follow_redirects=True)
    assert "A family needs at least one owner" in response.get_data(as_text=True)


def test_revoke_invitation(make_family, login_as, client, session, mailer):
    owner, child = make_family()
    login_as(owner)
    client.post(f"/families/{child.family_id}/invitations",
                data={"email": "x@example.com", "role": "viewer", "relationship": "other"})
    invitation = session.scalar(select(Invitation))
    client.post(f"/invitations/{invitation.id}/revoke")
    link = re.search(r"http://localhost(/join/\S+)", mailer.sent[-1].text).group(1)
    client.post("/logout")
    response = client.get(link, follow_redirects=True)
    assert "This invitation is no longer open" in response.get_data(as_text=True)


def test_invite_bad_email_is_flashed(make_family, login_as, client):
    owner, child = make_family()
    login_as(owner)
    response = client.post(f"/families/{child.family_id}/invitations",
                           data={"email": "nope", "role": "viewer", "relationship": "other"},
                           follow_redirects=True)
    assert "Invalid email address." in response.get_data(as_text=True)


def test_delete_child_removes_the_book(make_family, login_as, client, session):
    owner, child = make_family()
    login_as(owner)
    client.post(f"/children/{child.id}/entries/new?kind=note",
                data={"occurred_date": local_today().isoformat(), "occurred_time": "00:01",
                      "body": "hello"})
    assert client.get(f"/children/{child.id}/delete").status_code == 200
    assert client.post(f"/children/{child.id}/delete").status_code == 302
    child_id = child.id
    session.expire_all()
    assert session.get(Child, child_id) is None
    assert client.get(f"/children/{child_id}").status_code == 404


def test_edit_child(make_family, login_as, client, session):
    owner, child = make_family()
    login_as(owner)
    form = client.get(f"/children/{child.id}/edit").get_data(as_text=True)
    assert 'value="Mia"' in form
    response = client.post(f"/children/{child.id}/edit", data=_child_form(
        child_name="Mia Rose", sex="female", birth_date=child.birth_date.isoformat()))
    assert response.status_code == 302
    session.expire_all()
    assert child.name == "Mia Rose"
