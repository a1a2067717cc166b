"""The account page: details, sign-in changes, consents, export and deletion."""
from __future__ import annotations

import csv
import io
import json
import zipfile

from sqlalchemy import func, select

from diary import invitations
from diary.models import Child, Consent, Entry, Family, Photo, User
from tests.conftest import PASSWORD
from tests.web.helpers import confirm_address, entry_form, png_bytes


def test_account_page_shows_member_number(make_family, login_as, client):
    user, _ = make_family()
    login_as(user)
    page = client.get("/account").get_data(as_text=True)
    assert user.member_no in page


def test_profile_update_including_phone_and_region(make_family, login_as, client, session):
    user, _ = make_family()
    login_as(user)
    response = client.post("/account/profile", data={
        "display_name": "Ana", "timezone": "Europe/Madrid", "locale": "zh_CN",
        "unit_system": "imperial", "interests": ["skin_care"], "phone": "+34 600 000 000",
        "region_province": "Madrid", "region_city": "Madrid"})
    assert response.status_code == 302
    session.expire_all()
    assert (user.display_name, user.timezone, user.locale, user.unit_system) == \
        ("Ana", "Europe/Madrid", "zh_CN", "imperial")
    assert (user.phone, user.region_city, user.interests) == ("+34 600 000 000", "Madrid",
                                                              ["skin_care"])
    assert '<html lang="zh-CN">' in client.get("/account").get_data(as_text=True)


def test_profile_bad_input(make_family, login_as, client):
    user, _ = make_family()
    login_as(user)
    response = client.post("/account/profile", data={
        "display_name": "", "timezone": "Mars/Olympus", "locale": "en", "unit_system": "metric",
        "phone": "call me"})
    assert response.status_code == 400
    body = response.get_data(as_text=True)
    assert "This field is required." in body and "Not a valid choice." in body


def test_change_email_needs_password_and_the_new_address_proven(make_family, login_as, client,
                                                                  session, mailer, app):
    """Attack: a stranger at an unlocked session moves the account to their own address. The
    old address is told at once, the move waits for the new address's link, and then every
    other device is signed out and the old address is told again."""
    user, _ = make_family(email="old@example.com")
    login_as(user)
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})
    bad = client.post("/account/email", data={"new_email": "new@example.com",
                                              "current_password": "wrong"})
    assert bad.status_code == 400
    assert "Your current password is not right." in bad.get_data(as_text=True)
    assert mailer.sent == []
    ok = client.post("/account/email", data={"new_email": "New@Example.com",
                                             "current_password": PASSWORD})
    assert ok.status_code == 302
    session.expire_all()
    assert user.email == "old@example.com"  # nothing moves yet
    check, warning = mailer.sent
    assert (check.to, warning.to) == ("new@example.com", "old@example.com")
    assert "n***@example.com" in warning.text and "/forgot" in warning.text
    assert "/verify/" not in warning.text

    confirm_address(client, mailer, "new@example.com")
    session.expire_all()
    assert user.email == "new@example.com" and user.email_verified_at is not None
    assert mailer.sent[-1].to == "old@example.com"
    assert mailer.sent[-1].subject == "Your Baby Journey email address was changed"
    assert other_device.get("/account").status_code == 302  # signed out everywhere else
    assert client.get("/account").status_code == 200  # this browser: signed in again
    assert app.test_client().post("/login", data={"email": "old@example.com",
                                                  "password": PASSWORD}).status_code == 200


def test_changing_to_a_taken_address_tells_nothing(make_family, login_as, client, session,
                                                   mailer):
    """Whether another account has the address is not said to the person asking; that
    address's owner is told instead, and nothing changes."""
    user, _ = make_family()
    other, _ = make_family(email="taken@example.com")
    login_as(user)
    taken = client.post("/account/email", data={"new_email": "taken@example.com",
                                                "current_password": PASSWORD},
                        follow_redirects=True)
    assert "We sent a link to taken@example.com" in taken.get_data(as_text=True)
    [notice] = mailer.sent
    assert notice.to == "taken@example.com" and "/verify/" not in notice.text
    session.expire_all()
    assert user.email != "taken@example.com"


def test_change_password_signs_out_other_sessions(make_family, login_as, client, app):
    user, _ = make_family()
    other_device = app.test_client()
    other_device.post("/login", data={"email": user.email, "password": PASSWORD})
    assert other_device.get("/account").status_code == 200
    login_as(user)
    response = client.post("/account/password", data={
        "current_password": PASSWORD, "new_password": "another-pass", "confirm": "another-pass"})
    assert response.status_code == 302
    assert client.get("/account").status_code == 200  # this device stays signed in
    assert other_device.get("/account").status_code == 302  # the other one is signed out


def test_consents_are_recorded_and_withdrawable(make_family, login_as, client, session):
    user, _ = make_family()
    login_as(user)
    client.post("/account/consents", data={"marketing_opt_in": "y", "digest_opt_in": "y"})
    client.post("/account/consents", data={"digest_opt_in": "y"})  # marketing withdrawn
    session.expire_all()
    assert user.marketing_opt_in is False and user.digest_opt_in is True
    history = [(c.kind, c.granted, c.source) for c in session.scalars(
        select(Consent).where(Consent.user_id == user.id, Consent.kind == "marketing")
        .order_by(Consent.id))]
    assert history == [("marketing", False, "registration"), ("marketing", True, "account"),
                       ("marketing", False, "account")]


def test_export_contains_json_csv_and_photos(make_family, login_as, client):
    user, child = make_family(name="小米")
    login_as(user)
    client.post(f"/children/{child.id}/entries/new?kind=photo",
                data=entry_form(title="公园", photos=[(io.BytesIO(png_bytes()), "a.png")]),
                content_type="multipart/form-data")
    client.post(f"/children/{child.id}/entries/new?kind=measurement",
                data=entry_form(weight="6.2", length="62"))
    response = client.post("/account/export")
    assert response.mimetype == "application/zip"
    assert f"baby-journey-{user.member_no}" in response.headers["Content-Disposition"]
    archive = zipfile.ZipFile(io.BytesIO(response.data))
    names = set(archive.namelist())
    assert {"data.json", "entries.csv", "children.csv", "README.txt"} <= names
    document = json.loads(archive.read("data.json"))
    assert document["account"]["member_no"] == user.member_no
    assert document["families"][0]["children"][0]["name"] == "小米"
    kinds = {e["kind"]: e for e in document["entries"]}
    assert kinds["measurement"]["measurement"] == {"weight_kg": 6.2, "length_cm": 62.0,
                                                   "head_cm": None}
    photo_name = kinds["photo"]["photos"][0]
    assert photo_name in names and archive.read(photo_name)[:3] == b"\xff\xd8\xff"
    rows = list(csv.DictReader(io.StringIO(archive.read("entries.csv").decode("utf-8-sig"))))
    assert {r["title"] for r in rows} == {"公园", ""}
    assert [c["kind"] for c in document["account"]["consents"]] == ["child_data", "digest",
                                                                     "marketing"]


def test_delete_account_of_last_owner_removes_family_data(make_family, login_as, client,
                                                          session, app):
    user, child = make_family()
    login_as(user)
    client.post(f"/children/{child.id}/entries/new?kind=photo",
                data=entry_form(photos=[(io.BytesIO(png_bytes()), "a.png")]),
                content_type="multipart/form-data")
    key = session.scalar(select(Photo)).storage_key
    store = app.extensions["photo_store"]
    wrong = client.post("/account/delete", data={"current_password": "nope", "confirm": "y"})
    assert wrong.status_code == 400
    unticked = client.post("/account/delete", data={"current_password": PASSWORD})
    assert "Please tick the box to confirm." in unticked.get_data(as_text=True)
    response = client.post("/account/delete", data={"current_password": PASSWORD,
                                                    "confirm": "y"})
    assert response.status_code == 302
    session.expire_all()
    for model in (User, Family, Child, Entry, Photo):
        assert session.scalar(select(func.count(model.id))) == 0, model
    assert not store.path(key).exists()


def test_delete_account_keeps_family_of_remaining_owner(make_family, login_as, client, session):
    owner, child = make_family()
    co_owner, _ = make_family(email="co@example.com")
    invitation = invitations.invite(session, child.family, owner, co_owner.email, "owner",
                                    "father")
    invitations.accept(session, invitation, co_owner)
    session.commit()
    login_as(owner)
    client.post(f"/children/{child.id}/entries/new?kind=note", data=entry_form(body="kept"))
    client.post("/account/delete", data={"current_password": PASSWORD, "confirm": "y"})
    session.expire_all()
    entry = session.scalar(select(Entry).where(Entry.child_id == child.id))
    assert entry.body == "kept" and entry.author is None
    login_as(co_owner)
    assert "a former caregiver" not in client.get(f"/entries/{entry.id}").get_data(as_text=True)
    assert client.get(f"/entries/{entry.id}").status_code == 200
