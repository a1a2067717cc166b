"""Registration, sign-in, sign-out and password reset through the real views."""
from __future__ import annotations

import re
from datetime import timedelta

from sqlalchemy import func, select

from diary.models import Child, Consent, Family, Membership, User
from tests.conftest import PASSWORD, local_today
from tests.web.helpers import confirm_address


def _form(**overrides):
    data = {
        "display_name": "Lin Wei", "email": "lin@example.com", "password": "a-long-password",
        "confirm": "a-long-password", "timezone": "Asia/Shanghai", "locale": "en",
        "relationship": "mother", "child_name": "Doudou", "status": "expecting",
        "due_date": (local_today() + timedelta(days=100)).isoformat(), "sex": "",
        "birth_weight_unit": "kg", "birth_length_unit": "cm", "birth_head_unit": "cm",
        "child_data_consent": "y", "digest_opt_in": "y", "interests": ["sleep", "feeding"],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def test_register_expecting_creates_family_child_and_consents(client, session, mailer):
    response = client.post("/register", data=_form())
    assert response.headers["Location"] == "/register/check-your-email"
    assert client.get("/dashboard").status_code == 302  # nobody is signed in yet
    user = session.scalar(select(User).where(User.email == "lin@example.com"))
    assert user.email_verified_at is None
    assert re.fullmatch(r"BJ\d{8}", user.member_no)
    assert user.interests == ["feeding", "sleep"]
    assert user.digest_opt_in is True and user.marketing_opt_in is False
    membership = session.scalar(select(Membership).where(Membership.user_id == user.id))
    assert membership.role == "owner" and membership.relationship_to_child == "mother"
    child = session.scalar(select(Child).where(Child.family_id == membership.family_id))
    assert child.name == "Doudou" and child.birth_date is None
    [email] = mailer.sent
    assert (email.to, email.subject) == ("lin@example.com",
                                         "Confirm your email address for Baby Journey")
    confirmed = confirm_address(client, mailer, "lin@example.com")
    assert confirmed.headers["Location"] == "/dashboard"  # signed in now; one child → its page
    session.expire_all()
    assert user.email_verified_at is not None
    kinds = {(c.kind, c.granted) for c in session.scalars(
        select(Consent).where(Consent.user_id == user.id))}
    assert kinds == {("child_data", True), ("digest", True), ("marketing", False)}
    page = client.get(f"/children/{child.id}").get_data(as_text=True)
    assert "Week 25 of pregnancy" in page  # 280-100 = 180 days = 25+5 → week 25


def test_register_born_baby_with_imperial_units(client, session):
    response = client.post("/register", data=_form(
        status="born", due_date="", birth_date=(local_today() - timedelta(days=30)).isoformat(),
        sex="male", ga_weeks="35", ga_days="4", birth_weight="5", birth_weight_oz="8",
        birth_weight_unit="lb", birth_length="19", birth_length_unit="in"))
    assert response.status_code == 302, response.get_data(as_text=True)
    child = session.scalar(select(Child).where(Child.name == "Doudou"))
    assert child.birth_weight_kg == 2.495  # 5 lb 8 oz = 5.5 × 0.45359237 = 2.49476 kg
    assert child.birth_length_cm == 48.3  # 19 in × 2.54 = 48.26 cm
    assert (child.gestational_weeks_at_birth, child.gestational_days_at_birth) == (35, 4)


def test_register_without_child_data_consent_creates_nothing(client, session):
    before = session.scalar(select(func.count(User.id)))
    response = client.post("/register", data=_form(child_data_consent=None))
    assert response.status_code == 200
    assert "agree to us storing your child" in response.get_data(as_text=True)
    assert session.scalar(select(func.count(User.id))) == before
    assert session.scalar(select(func.count(Family.id))) == 0


def test_register_with_future_birth_date_shows_field_error(client, session):
    response = client.post("/register", data=_form(
        status="born", birth_date=(local_today() + timedelta(days=3)).isoformat(), sex="female"))
    body = response.get_data(as_text=True)
    assert "The birth date cannot be in the future." in body
    assert session.scalar(select(func.count(User.id))) == 0


def test_registering_a_taken_address_answers_like_a_new_one(client, make_family, session,
                                                              mailer, monkeypatch):
    """Attack: learn who has an account from the sign-up form (the message, or the time it
    takes). Both addresses get the same redirect, the same page and one password hash; the
    owner of the taken address gets a notice; nothing else is created."""
    from diary import passwords

    user, _ = make_family(email="taken@example.com")
    hashes = []
    real_hash, real_verify = passwords.hash_password, passwords.verify_password
    monkeypatch.setattr(passwords, "hash_password",
                        lambda p: hashes.append("hash") or real_hash(p))
    monkeypatch.setattr(passwords, "verify_password",
                        lambda h, p: hashes.append("verify") or real_verify(h, p))
    users_before = session.scalar(select(func.count(User.id)))

    taken = client.post("/register", data=_form(email="TAKEN@example.com"))
    taken_work, hashes[:] = list(hashes), []
    new = client.post("/register", data=_form(email="new@example.com"))
    assert (taken.status_code, taken.headers["Location"]) == \
        (new.status_code, new.headers["Location"]) == (302, "/register/check-your-email")
    assert len(taken_work) == len(hashes) == 1  # one Argon2 computation on either path
    assert session.scalar(select(func.count(User.id))) == users_before + 1  # only the new one
    notice, check = mailer.sent
    assert (notice.to, notice.subject) == ("taken@example.com", "Your Baby Journey account")
    assert "nothing was changed" in notice.text and "/forgot" in notice.text
    assert "/verify/" not in notice.text and user.display_name in notice.text
    assert check.to == "new@example.com"
    client.post("/register", data=_form(email="taken@example.com"))
    assert len(mailer.sent) == 2  # one notice an hour per address, however often they try


def test_a_mistake_reads_the_same_whoever_owns_the_address(client, make_family):
    make_family(email="taken@example.com")
    future = (local_today() + timedelta(days=3)).isoformat()
    bodies = [client.post("/register", data=_form(email=email, status="born", sex="female",
                                                  birth_date=future)).get_data(as_text=True)
              for email in ("taken@example.com", "free@example.com")]
    assert all("The birth date cannot be in the future." in b for b in bodies)


def test_register_password_mismatch_and_bad_email(client):
    response = client.post("/register", data=_form(email="not-an-email", confirm="different"))
    body = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "The two passwords do not match." in body
    assert "Invalid email address." in body


def test_login_logout_and_safe_next(client, make_family):
    user, child = make_family()
    response = client.post("/login?next=https://evil.example/steal",
                           data={"email": user.email, "password": PASSWORD})
    assert response.headers["Location"] == "/dashboard"
    client.post("/logout")
    response = client.post(f"/login?next=/children/{child.id}/timeline",
                           data={"email": user.email.upper(), "password": PASSWORD})
    assert response.headers["Location"] == f"/children/{child.id}/timeline"
    assert client.get("/dashboard").status_code == 302  # one child → its page
    client.post("/logout")
    assert client.get("/dashboard").headers["Location"].startswith("/login")


def test_login_wrong_password(client, make_family):
    user, _ = make_family()
    response = client.post("/login", data={"email": user.email, "password": "wrong-password"})
    assert response.status_code == 200
    assert "That email and password do not match an account." in response.get_data(as_text=True)


def test_password_reset_flow_single_use(client, make_family, mailer, session):
    user, _ = make_family(verified=False)
    client.post("/forgot", data={"email": user.email})
    assert len(mailer.sent) == 1
    link = re.search(r"http://localhost(/reset/\S+)", mailer.sent[0].text).group(1)
    assert client.get(link).status_code == 200
    response = client.post(link, data={"password": "brand-new-pass", "confirm": "brand-new-pass"})
    assert response.headers["Location"] == "/login"
    assert client.post("/login", data={"email": user.email, "password": "brand-new-pass"}) \
        .status_code == 302
    client.post("/logout")
    again = client.get(link)  # the stamp changed: the link is spent
    assert again.status_code == 302 and again.headers["Location"] == "/forgot"
    session.expire_all()
    assert user.email_verified_at is not None  # the link reached the address: it is proven


def test_forgot_queues_the_mail_and_throttles_per_address(client, make_family, mailer, session):
    """/forgot only queues (the email goes after the answer), at most three an hour."""
    from diary.models import AccountEmail

    user, _ = make_family()
    for _ in range(5):
        client.post("/forgot", data={"email": user.email})
    rows = session.scalars(select(AccountEmail).where(AccountEmail.to_address == user.email)).all()
    assert [(r.kind, r.status) for r in rows] == [("reset_password", "sent")] * 3
    assert all(r.payload == {"name": user.display_name} for r in rows)  # no token at rest
    assert len(mailer.sent) == 3


def test_forgot_unknown_email_sends_nothing_and_says_the_same(client, mailer):
    response = client.post("/forgot", data={"email": "nobody@example.com"}, follow_redirects=True)
    assert "If an account uses that address" in response.get_data(as_text=True)
    assert mailer.sent == []


def test_tampered_reset_token_is_refused(client):
    response = client.get("/reset/not-a-real-token", follow_redirects=True)
    assert "This link is not valid" in response.get_data(as_text=True)


def test_reset_link_ignores_a_forged_host_header(client, make_family, mailer):
    user, _ = make_family()
    client.post("/forgot", data={"email": user.email}, headers={"Host": "evil.example"})
    assert "evil.example" not in mailer.sent[0].text
    assert "http://localhost/reset/" in mailer.sent[0].text


def test_staff_land_in_the_studio_with_a_staff_menu(client, session):
    from diary import accounts

    accounts.create_user(session, "marketer@example.com", PASSWORD,
                         accounts.Profile(display_name="Mia Marketer")).staff_role = "marketer"
    session.commit()
    response = client.post("/login", data={"email": "marketer@example.com",
                                           "password": PASSWORD})
    assert response.headers["Location"] == "/studio"
    assert client.get("/").headers["Location"] == "/studio"
    page = client.get("/studio").get_data(as_text=True)
    assert "My baby's book" not in page and ">Inbox<" not in page
    assert 'href="/studio"' in page
