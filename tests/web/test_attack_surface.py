"""ASVS level-1 items that are not route sweeps (those are in test_attack_sweeps.py):
headers on every kind of response, no inline script in any template, sessions that rotate
when an account's privileges change, emailed links that work once and expire, answers that
do not tell whether an address has an account, brute-force limits, open redirects, uploads
that are not what their name says, and XSS payloads reflected in parameters.
"""
from __future__ import annotations

import re
import secrets
from pathlib import Path

import pytest
from sqlalchemy import select

from diary.models import UserSession
from tests.conftest import PASSWORD
from tests.web.attack_world import csrf_of, sign_in

ROOT = Path(__file__).resolve().parents[2]


def _cookie(client) -> str:  # type: ignore[no-untyped-def]
    return client.get_cookie("session").value


# --- sessions rotate on a privilege change ----------------------------------------------------

class TestSessionRotation:
    @pytest.fixture()
    def app_overrides(self):  # type: ignore[no-untyped-def]
        return {"WTF_CSRF_ENABLED": True}

    def test_a_password_change_starts_a_new_session_and_csrf_token(self, app, make_family,
                                                                   session):
        """Attack: a session cookie (and its CSRF token) copied before the owner changed the
        password. The change ends other devices; it must end the copied cookie of *this*
        browser too, while the owner stays signed in with a new one."""
        user, child = make_family()
        client, token = sign_in(app, user)
        copied = _cookie(client)
        response = client.post("/account/password", data={
            "current_password": PASSWORD, "new_password": "a brand new passphrase",
            "confirm": "a brand new passphrase",
            "csrf_token": token})
        assert response.status_code == 302
        assert _cookie(client) != copied
        assert client.get(f"/children/{child.id}").status_code == 200  # still signed in
        thief = app.test_client()
        thief.set_cookie("session", copied)
        assert thief.get(f"/children/{child.id}").status_code == 302
        stale = client.post("/account/consents", data={"csrf_token": token})
        assert stale.status_code == 400  # the old token died with the old session
        fresh = csrf_of(client.get("/account").get_data(as_text=True))
        assert fresh != token
        session.expire_all()  # one live session row: the new one (the old key is ended)
        live = session.scalars(select(UserSession).where(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None))).all()
        assert len(live) == 1 and live[0].remember is False


    def _invited(self, app, session, make_family):  # type: ignore[no-untyped-def]
        """Aunt (an account of her own, signed in with CSRF on) invited into Mum's family."""
        from diary import invitations

        mum, child = make_family()
        aunt, _ = make_family(email="aunt@example.com")
        invitation = invitations.invite(session, child.family, mum, aunt.email, "editor",
                                        "other")
        session.commit()
        client, token = sign_in(app, aunt)
        return aunt, child, invitation, client, token

    def _rotated(self, app, session, client, token, copied, user, child):  # type: ignore[no-untyped-def]
        assert _cookie(client) != copied
        assert client.get(f"/children/{child.id}").status_code == 200  # in, with new rights
        thief = app.test_client()
        thief.set_cookie("session", copied)
        assert thief.get("/account").headers["Location"].startswith("/login")
        assert thief.get(f"/children/{child.id}").status_code == 302
        stale = client.post("/account/consents", data={"csrf_token": token})
        assert stale.status_code == 400  # the old token died with the old session
        assert csrf_of(client.get("/account").get_data(as_text=True)) != token
        session.expire_all()
        live = session.scalars(select(UserSession).where(
            UserSession.user_id == user.id, UserSession.revoked_at.is_(None))).all()
        assert len(live) == 1

    def test_accepting_an_invitation_starts_a_new_session_and_csrf_token(
            self, app, session, make_family):  # type: ignore[no-untyped-def]
        """Attack: a cookie copied (or planted) before a parent joined a family would carry
        the new family's rights. Joining rotates the session as signing in does."""
        aunt, child, invitation, client, token = self._invited(app, session, make_family)
        copied = _cookie(client)
        assert client.get(f"/children/{child.id}").status_code == 404  # not hers yet
        response = client.post(f"/invitations/{invitation.id}/accept",
                               data={"csrf_token": token}, follow_redirects=True)
        assert response.status_code == 200
        assert "You joined" in response.get_data(as_text=True)  # the flash survives
        self._rotated(app, session, client, token, copied, aunt, child)

    def test_joining_by_the_emailed_link_starts_a_new_session_and_csrf_token(
            self, app, session, make_family):  # type: ignore[no-untyped-def]
        from diary import invitations

        aunt, child, invitation, client, token = self._invited(app, session, make_family)
        link = "/join/" + invitations.invitation_token(invitation, app.config["SECRET_KEY"])
        copied = _cookie(client)
        assert client.get(link).status_code == 200  # the confirm page: nothing changes
        assert _cookie(client) == copied
        assert client.post(link, data={"csrf_token": token}).status_code == 302
        self._rotated(app, session, client, token, copied, aunt, child)

    def test_a_refused_join_keeps_the_session(self, app, session, make_family):  # type: ignore[no-untyped-def]
        """Only a change of rights rotates: a wrong person's or a missing token's attempt
        changes nothing (the copied cookie still works: it is still the live one)."""
        from diary import invitations

        aunt, child, invitation, client, token = self._invited(app, session, make_family)
        stranger, _ = make_family(email="stranger@example.com")
        other, other_token = sign_in(app, stranger)
        link = "/join/" + invitations.invitation_token(invitation, app.config["SECRET_KEY"])
        before = _cookie(other)
        assert other.post(link, data={"csrf_token": other_token}).status_code == 302
        assert other.post(f"/invitations/{invitation.id}/accept",
                          data={"csrf_token": other_token}).status_code == 302
        assert client.post(f"/invitations/{invitation.id}/accept").status_code == 400  # no CSRF
        thief = app.test_client()
        thief.set_cookie("session", before)
        assert thief.get("/account").status_code == 200
        assert other.get(f"/children/{child.id}").status_code == 404


# --- headers on every kind of response; no inline script anywhere ------------------------------

def _directives(csp: str) -> dict[str, list[str]]:
    return {part.split()[0]: part.split()[1:] for part in csp.split(";") if part.strip()}


def _responses(app, client, session, make_family, login_as):  # type: ignore[no-untyped-def]
    """One response of every kind the site sends: page, JSON, photo, CSV, static file,
    redirect, HEAD, and errors (400, 404 page and JSON, 405, 413, 500)."""
    import io

    from diary.models import Photo
    from tests.web.helpers import entry_form, png_bytes

    @app.get("/boom-attack")
    def boom():  # type: ignore[no-untyped-def]
        raise RuntimeError("boom")

    user, child = make_family()
    kinds = {"redirect (signed out)": client.get("/dashboard"),
             "static file": client.get("/static/css/app.css")}
    login_as(user)
    created = client.post(f"/children/{child.id}/entries/new?kind=photo",
                          data=entry_form(photos=[(io.BytesIO(png_bytes()), "a.png")]),
                          content_type="multipart/form-data")
    entry_id = int(created.headers["Location"].rsplit("/", 1)[1])
    photo = session.scalar(select(Photo).where(Photo.entry_id == entry_id))
    kinds |= {
        "page": client.get("/account"), "HEAD": client.head("/account"),
        "JSON": client.get(f"/children/{child.id}/growth/weight.json"),
        "photo": client.get(f"/photos/{photo.id}/full"),
        "CSV": client.get(f"/children/{child.id}/vaccinations.csv"),
        "redirect (after a form)": created,
        "400 JSON": client.post("/api/interactions", json={"nope": 1}),
        "404 page": client.get("/no/such/page"), "404 JSON": client.get("/api/nothing"),
        "405": client.get("/logout"), "500": client.get("/boom-attack"),
    }
    app.config["MAX_CONTENT_LENGTH"] = 100
    kinds["413"] = client.post(f"/children/{child.id}/entries/new?kind=note",
                               data={"body": "x" * 500})
    return kinds


@pytest.fixture()
def app_overrides():  # type: ignore[no-untyped-def]
    return {"PROPAGATE_UNEXPECTED": False}


def test_every_kind_of_response_carries_the_security_headers(app, client, session, make_family,
                                                             login_as):
    from webapp.security import CSP

    kinds = _responses(app, client, session, make_family, login_as)
    assert {k: r.status_code for k, r in kinds.items() if k[0].isdigit()} == {
        "400 JSON": 400, "404 page": 404, "404 JSON": 404, "405": 405, "500": 500, "413": 413}
    directives = _directives(CSP)
    assert directives["script-src"] == ["'self'"] and directives["object-src"] == ["'none'"]
    assert directives["frame-ancestors"] == ["'none'"] and directives["base-uri"] == ["'self'"]
    assert "unsafe" not in CSP  # neither 'unsafe-inline' nor 'unsafe-eval', for anything
    for kind, response in kinds.items():
        headers = response.headers
        assert headers.get("Content-Security-Policy") == CSP, kind
        assert headers.get("X-Content-Type-Options") == "nosniff", kind
        assert headers.get("X-Frame-Options") == "DENY", kind
        assert headers.get("Referrer-Policy") == "same-origin", kind
        assert "Strict-Transport-Security" not in headers, kind  # not in development/testing


def test_production_sends_hsts_on_every_kind_of_response_and_development_does_not(
        make_family, session_factory, tmp_path, session, mailer):
    import config
    from tests.web.test_configuration import GOOD_KEY
    from webapp import create_app

    common = {"SECRET_KEY": GOOD_KEY, "SESSION_FACTORY": session_factory,
              "UPLOAD_DIR": tmp_path, "WTF_CSRF_ENABLED": False, "RATELIMIT_ENABLED": False,
              "PROPAGATE_UNEXPECTED": False, "MAIL_OUTBOX_DIR": tmp_path / "outbox"}
    for config_class, hsts in ((config.ProductionConfig, "max-age=31536000; includeSubDomains"),
                               (config.DevelopmentConfig, None)):
        app = create_app(config_class, MAIL_SERVER="smtp.invalid", SESSION_COOKIE_SECURE=False,
                         ALLOW_PER_WORKER_RATE_LIMITS=True, **common)
        app.extensions["mailer"] = mailer
        client = app.test_client()

        def login_as(user, client=client):  # type: ignore[no-untyped-def]
            assert client.post("/login", data={"email": user.email, "password": PASSWORD}
                               ).status_code == 302

        kinds = _responses(app, client, session, make_family, login_as)
        for kind, response in kinds.items():
            assert response.headers.get("Strict-Transport-Security") == hsts, (config_class,
                                                                               kind)


TEMPLATES = sorted([*(ROOT / "webapp" / "templates").rglob("*.html"),
                    *(ROOT / "journeys" / "digests" / "templates").rglob("*.html")])
INLINE_SCRIPT = re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.IGNORECASE)
HANDLER = re.compile(r"<[^>]*\s(on[a-z]+|hx-on[:\w-]*)\s*=", re.IGNORECASE)
SCRIPT_URL = re.compile(r"(href|src|action|formaction)\s*=\s*[\"']?\s*javascript:", re.IGNORECASE)


def test_no_template_has_an_inline_script_or_event_handler():
    """The CSP refuses inline script; a template that had one would be a page that silently
    does not work (or a reason to weaken the policy). Event handlers (on…=, htmx's hx-on)
    and javascript: URLs are inline script too."""
    assert len(TEMPLATES) > 100
    found = [f"{path.relative_to(ROOT)}: {m.group(0)[:80]}" for path in TEMPLATES
             for pattern in (INLINE_SCRIPT, HANDLER, SCRIPT_URL)
             for m in pattern.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
    # the scan finds what it looks for
    sample = '<script>x()</script><a onclick="x()"><b hx-on:click="x"><a href="javascript:x">'
    assert [bool(p.search(sample)) for p in (INLINE_SCRIPT, HANDLER, SCRIPT_URL)] == [True] * 3
    assert not INLINE_SCRIPT.search('<script src="/static/js/app.js"></script>')


# --- open redirects ----------------------------------------------------------------------------

EVIL = ["//evil.example", "/\\evil.example", "\\\\evil.example", "https:evil.example",
        "https://evil.example/", "javascript:alert(1)", "/\t/evil.example", "/\n/evil.example",
        " //evil.example", "//evil.example/%2F..", "http:/evil.example", "\x00//evil.example",
        "data:text/html,<script>alert(1)</script>", "/%09/evil.example"]
#: Query and form names that hold a place to go back to. Each read of one in the web layer
#: must go through safe_next (or care.tickets.safe_path); the test below checks the source.
REDIRECT_NAMES = ("next", "from", "return", "return_to", "redirect", "url", "target",
                  "continue", "came_from")


def _is_same_site(location: str) -> bool:
    """What a browser would do with the Location: tabs and newlines dropped, backslashes
    read as slashes, leading spaces and controls trimmed."""
    from urllib.parse import urlsplit

    seen = re.sub(r"[\t\n\r]", "", location).replace("\\", "/").lstrip("\x00\x20\x1f")
    parts = urlsplit(seen)
    return (not parts.scheme and not parts.netloc and seen.startswith("/")
            and not seen.startswith("//"))


def test_no_redirect_leaves_the_site(client, make_family, login_as, session):
    user, _ = make_family()
    from tests.web.test_studio import make_item
    make_item(session, "article", "redirect-article", "An article", "month", 3, 12)
    session.commit()
    for target in EVIL:
        client.post("/logout")
        sent = [client.post("/login", query_string={"next": target},
                            data={"email": user.email, "password": PASSWORD}),
                client.get("/login", query_string={"next": target}),  # already signed in
                client.post("/language", data={"lang": "en", "next": target}),
                client.post("/articles/redirect-article/save", data={"next": target}),
                client.post("/verify/resend", data={"next": target})]
        client.post("/logout")
        sent.append(client.post("/language", data={"lang": "en", "next": target}))
        for response in sent:
            if response.status_code == 400 and "\x00" in target:
                continue  # a NUL byte is refused before any view (test_hostile_input)
            assert response.status_code in (302, 303), (target, response.request.path)
            location = response.headers["Location"]
            assert _is_same_site(location), (target, response.request.path, location)
    assert _is_same_site("/children/1?x=//y") and not _is_same_site("/\t/evil.example")


def test_every_place_to_go_back_to_is_read_through_a_safe_check():
    """A new `?next=` (or `from`, `url`…) read anywhere in the web layer must go through
    safe_next or safe_path, on the line that reads it or the line before."""
    reads = re.compile(r"request\.(args|form|values)\.get\([\"'](" + "|".join(REDIRECT_NAMES)
                       + r")[\"']")
    unsafe = []
    for path in sorted((ROOT / "webapp").rglob("*.py")):
        lines = path.read_text(encoding="utf-8").splitlines()
        for number, line in enumerate(lines):
            near = line + (lines[number - 1] if number else "")
            if reads.search(line) and not re.search(r"safe_next\(|safe_path\(|type=int", near):
                unsafe.append(f"{path.relative_to(ROOT)}:{number + 1}: {line.strip()}")
    assert unsafe == []


# --- emailed links: single use, and they expire ----------------------------------------------

class TestEmailedLinks:
    """Each link that signs someone in or changes an account works once and expires."""

    def test_an_address_check_link_signs_in_once_only(self, app, client, make_family, session,
                                                      mailer):
        """Attack: the address-check email read again later (a shared mailbox, a forwarded
        message, a stolen mail account). Its link signs the person in: a second use must
        not, for as long as the link would otherwise live."""
        from diary import accounts
        user, child = make_family(verified=False)
        link = "/verify/" + accounts.make_verify_token(user, app.config["SECRET_KEY"],
                                                       user.email)
        assert client.post(link).status_code == 302
        assert client.get(f"/children/{child.id}").status_code == 200  # signed in by it
        client.post("/logout")
        again = client.post(link)
        assert again.status_code == 200
        assert "This link has already been used" in again.get_data(as_text=True)
        assert client.get(f"/children/{child.id}").status_code == 302  # not signed in
        session.expire_all()
        assert user.email_verified_at is not None

    def test_a_used_address_check_link_says_so_without_a_button(self, app, client, make_family,
                                                                session, login_as):
        """Opening the email again after the click showed the confirm button, whose press
        could only fail. GET (and HEAD, and a POST) now answer 200 with the same page: the
        link has done its work, no button, a way on (sign in, or the account when in)."""
        from diary import accounts
        user, child = make_family(verified=False)
        link = "/verify/" + accounts.make_verify_token(user, app.config["SECRET_KEY"],
                                                       user.email)
        fresh = client.get(link).get_data(as_text=True)
        assert "Confirm and continue" in fresh and 'method="post"' in fresh
        assert client.post(link).status_code == 302
        client.post("/logout")
        for response in (client.get(link), client.post(link)):
            page = response.get_data(as_text=True)
            assert response.status_code == 200
            assert "This link has already been used" in page
            assert "The email address is confirmed" in page
            assert "Confirm and continue" not in page
            assert 'class="btn btn-primary" href="/login"' in page
        assert client.head(link).status_code == 200
        assert client.get(f"/children/{child.id}").status_code == 302  # still not signed in
        chinese = client.get(link, headers={"Accept-Language": "zh-CN"}).get_data(as_text=True)
        assert "此链接已使用过" in chinese and "邮箱地址已确认" in chinese and "登录" in chinese
        login_as(user)
        page = client.get(link).get_data(as_text=True)
        assert 'class="btn btn-primary" href="/account"' in page
        assert "This link has already been used" in page and "Confirm and continue" not in page

    def test_an_address_check_link_checks_its_account_before_showing_a_button(
            self, app, client, make_family, session):
        """Hostile values: an altered link, and a link whose account is no longer active,
        go home with a message on GET already (not a button whose press fails)."""
        from diary import accounts
        user, _ = make_family(verified=False)
        link = "/verify/" + accounts.make_verify_token(user, app.config["SECRET_KEY"],
                                                       user.email)
        altered = client.get(link[:-3] + ("aaa" if not link.endswith("aaa") else "bbb"),
                             follow_redirects=True)
        assert "Confirm and continue" not in altered.get_data(as_text=True)
        user.is_active = False
        session.commit()
        gone = client.get(link)
        assert gone.status_code == 302 and gone.headers["Location"] == "/"
        assert "This link is not valid. Please ask for a new one." in \
            client.get("/").get_data(as_text=True)

    def test_an_address_change_link_works_once(self, app, client, make_family, session):
        from diary import accounts
        user, child = make_family()
        link = "/verify/" + accounts.make_verify_token(user, app.config["SECRET_KEY"],
                                                       "moved@example.com")
        assert client.post(link).headers["Location"] == "/account"
        session.expire_all()
        assert user.email == "moved@example.com"
        client.post("/logout")
        client.post(link)
        assert client.get(f"/children/{child.id}").status_code == 302

    @pytest.mark.parametrize("kind", ["reset", "verify", "join"])
    def test_links_expire(self, app, client, make_family, session, clock_at, kind):
        from datetime import timedelta

        from clock import utcnow
        from diary import accounts, invitations
        secret = app.config["SECRET_KEY"]
        owner, child = make_family()
        user, _ = make_family(verified=kind != "verify")
        ages = {"reset": app.config["PASSWORD_RESET_MAX_AGE"],
                "verify": app.config["EMAIL_VERIFY_MAX_AGE"],
                "join": app.config["INVITATION_MAX_AGE"]}
        assert ages == {"reset": 3600, "verify": 7 * 86400, "join": 14 * 86400}
        password_hash = user.password_hash
        start = utcnow()
        clock_at(start)
        if kind == "reset":
            link = "/reset/" + accounts.make_reset_token(user, secret)
        elif kind == "verify":
            link = "/verify/" + accounts.make_verify_token(user, secret, user.email)
        else:
            invitation = invitations.invite(session, child.family, owner, user.email,
                                            "viewer", "other")
            session.commit()
            link = "/join/" + invitations.invitation_token(invitation, secret)
        clock_at(start + timedelta(seconds=ages[kind] - 60))
        fresh = client.get(link)  # (an invited account is asked to sign in first)
        assert fresh.status_code == 200 or "/login" in fresh.headers["Location"]
        clock_at(start + timedelta(seconds=ages[kind] + 60))
        expired = client.get(link)
        assert expired.status_code == 302
        assert expired.headers["Location"] in ("/", "/forgot")
        posted = client.post(link, data={"password": "another passphrase",
                                         "confirm": "another passphrase"})
        assert posted.status_code == 302 and posted.headers["Location"] in ("/", "/forgot")
        session.expire_all()
        assert user.password_hash == password_hash
        assert (user.email_verified_at is None) == (kind == "verify")
        assert len(child.family.memberships) == 1

    def test_an_invitation_link_works_once(self, app, client, make_family, session, login_as):
        from diary import invitations
        from diary.models import Membership
        owner, child = make_family()
        invited, _ = make_family()
        invitation = invitations.invite(session, child.family, owner, invited.email,
                                        "viewer", "other")
        session.commit()
        link = "/join/" + invitations.invitation_token(invitation, app.config["SECRET_KEY"])
        login_as(invited)
        assert client.post(link).headers["Location"] == "/dashboard"
        again = client.post(link)
        assert again.status_code == 302 and again.headers["Location"] == "/"
        assert len(session.scalars(select(Membership).where(
            Membership.user_id == invited.id)).all()) == 2  # their own family and this one


# --- no account enumeration ----------------------------------------------------------------------

def _shape(response, email: str) -> tuple[int, str, str]:  # type: ignore[no-untyped-def]
    """Status, where it leads, and the page with the typed address and tokens taken out."""
    page = re.sub(re.escape(email), "EMAIL", response.get_data(as_text=True), flags=re.I)
    page = re.sub(r'value="[^"]{20,}"', 'value="TOKEN"', page)
    return response.status_code, response.headers.get("Location", ""), page


def test_sign_in_reset_and_sign_up_answer_the_same_for_known_and_unknown_addresses(
        app, make_family, mailer):
    from tests.web.test_registration import _form

    known, _ = make_family(email="known@example.com")
    unverified, _ = make_family(email="unproven@example.com", verified=False)
    answers = {}
    for email in ("known@example.com", "unproven@example.com", "nobody@example.com"):
        steps = []
        for method, path, data in (
                ("POST", "/login", {"email": email, "password": "not the password"}),
                ("POST", "/forgot", {"email": email}),
                ("GET", "/forgot", None),  # the page after: the same flash message
                ("POST", "/register", _form(email=email)),
                ("POST", "/register", _form(email=email, confirm="different")),
                ("POST", "/login", {"email": email.upper(), "password": ""})):
            client = app.test_client()  # a fresh visitor each time: nothing carried over
            if method == "GET":
                client.post("/forgot", data={"email": email})
            steps.append(_shape(client.open(path, method=method, data=data), email))
        answers[email] = steps
    assert answers["known@example.com"] == answers["nobody@example.com"]
    assert answers["unproven@example.com"] == answers["nobody@example.com"]
    assert [s[0] for s in answers["nobody@example.com"]] == [200, 302, 200, 302, 200, 200]
    assert "If an account uses that address" in answers["nobody@example.com"][2][2]


# --- brute force -----------------------------------------------------------------------------------

#: POST routes that take a guessable secret (a password, an address, a link's token) but no
#: rate limit, each for a reason.
UNLIMITED_SECRETS = {
    # RFC 8058 one-click unsubscribe: the mail provider POSTs; the token is signed with the
    # site's secret (nothing to guess), and a limit would fail real unsubscribes
    "emails.unsubscribe_link",
    # a survey's answer links: signed with the site's secret, and all one can do with one is
    # answer that survey (again)
    "surveys.answer_link", "surveys.comment_link",
    # signing out guesses nothing
    "auth.logout",
    # signed in only, and about one's own account: accepting offers only invitations to
    # one's own proven address; sending the address check again is limited per account
    # (VERIFY_RESEND_RATE_LIMIT, tests/web/test_configuration.py)
    "auth.accept_invitation", "auth.resend_verification",
}


class TestBruteForce:
    @pytest.fixture()
    def app_overrides(self):  # type: ignore[no-untyped-def]
        import config
        limits = {name: "2 per minute" for name in dir(config.TestingConfig)
                  if name.endswith("_RATE_LIMIT")}
        return {"RATELIMIT_ENABLED": True, **limits}

    def test_every_route_that_takes_a_secret_is_limited(self, app, client, make_family):
        """Sign-in, reset, sign-up, and every link with a token: the third try in a minute
        is a 429 page that says what to do."""
        make_family(email="known@example.com")
        guarded = sorted(
            (rule for rule in app.url_map.iter_rules() if "POST" in rule.methods
             and (rule.endpoint.startswith("auth.") or "token" in rule.arguments)
             and rule.endpoint not in UNLIMITED_SECRETS), key=lambda r: r.rule)
        assert {r.endpoint for r in guarded} >= {
            "auth.login", "auth.forgot_password", "auth.register", "auth.reset_password",
            "auth.verify_email", "auth.join"}
        failures = []
        for rule in guarded:
            url = rule.rule.replace("<token>", "guessed-token").replace(
                "<int:invitation_id>", "1")
            data = {"email": "known@example.com", "password": "guess"}
            codes = [client.post(url, data=data).status_code for _ in range(3)]
            last = client.post(url, data=data)
            if codes[-1] != 429 or last.status_code != 429 \
                    or "Too many attempts" not in last.get_data(as_text=True):
                failures.append(f"{rule.endpoint}: {codes + [last.status_code]}")
        assert failures == []


# --- uploads that are not what they say -----------------------------------------------------------

SVG = (b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg" onload="alert(1)">'
       b"<script>alert(1)</script></svg>")
SPOOFS = [  # (file name, bytes, the Content-Type the browser claims, a real image?)
    ("page.jpg", b"<html><body><script>alert(1)</script></body></html>", "image/jpeg", False),
    ("drawing.svg", SVG, "image/svg+xml", False),
    ("drawing.jpg", SVG, "image/jpeg", False),
    ("shell.php.jpg", b"<?php system($_GET['c']); ?>", "image/jpeg", False),
    ("shell.jpg.php", b"<?php system($_GET['c']); ?>", "application/x-php", False),
    ("anim.gif", b"GIF89a/*<script>alert(1)</script>*/=1;", "image/gif", False),
    ("head.jpg", b"\xff\xd8\xff\xe0" + b"<script>alert(1)</script>" * 20, "image/jpeg", False),
    ("poly.png", None, "image/png", True),  # a real PNG with a script after its end
    ("photo.html", None, "text/html", True),  # a real PNG, named and typed as HTML
]
#: Every form with a file field, by class name: the route that takes it (an upload form
#: added later fails test_every_upload_form_is_attacked until it is added here).
UPLOAD_FORMS = {"EntryForm": "new entry, entry edit", "PostForm": "club post",
                "TicketForm": "ticket", "ReplyForm": "ticket reply",
                "ItemForm": "studio hero image",
                "ImportForm": "content pack (zip: tests/content/test_pack_limits.py)"}
IMAGE_MAGIC = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n", b"RIFF")


def _spoof_bytes(name: str, data: bytes | None) -> bytes:
    from tests.web.helpers import png_bytes
    if data is not None:
        return data
    return png_bytes() + (b"<script>alert(1)</script>" if name == "poly.png" else b"")


def test_every_upload_form_is_attacked(app):
    from flask_wtf import FlaskForm
    from wtforms.fields import FileField, MultipleFileField

    def subclasses(cls):  # type: ignore[no-untyped-def]
        for sub in cls.__subclasses__():
            yield sub
            yield from subclasses(sub)

    with_files = {form.__name__ for form in subclasses(FlaskForm)
                  if form.__module__.startswith("webapp.") and any(
                      getattr(value, "field_class", None) is not None
                      and issubclass(value.field_class, (FileField, MultipleFileField))
                      for value in vars(form).values())}
    assert with_files == set(UPLOAD_FORMS)


def test_files_that_are_not_images_are_refused_on_every_upload_route(
        app, client, session, make_family, login_as, tmp_path):
    """Whatever the name and Content-Type say, only a picture decoded and written again by
    us is kept; nothing else reaches the disk, and what is served is an image."""
    import io
    from datetime import date

    from care import sla, tickets
    from community import clubs
    from diary.models import Photo
    from tests.web.helpers import entry_form
    from tests.web.test_studio import article_form, make_staff

    user, child = make_family(birth_date=date(2026, 8, 14))
    club = clubs.join_birth_club(session, user, child)
    ticket = tickets.open_ticket(session, user, tickets.TicketInput(
        "question", "normal", "Sizes", "Which size?"), sla.Policy())
    marketer = make_staff(session, "marketer")
    session.commit()
    login_as(user)
    entry = client.post(f"/children/{child.id}/entries/new?kind=photo",
                        data=entry_form(title="x", photos=[(io.BytesIO(_spoof_bytes(
                            "a.png", None)), "a.png")]), content_type="multipart/form-data")
    entry_id = int(entry.headers["Location"].rsplit("/", 1)[1])

    def routes(file):  # type: ignore[no-untyped-def]
        return {
            "new entry": (user, f"/children/{child.id}/entries/new?kind=photo",
                          entry_form(title="x", photos=[file])),
            "entry edit": (user, f"/entries/{entry_id}/edit", entry_form(title="x",
                                                                      photos=[file])),
            "club post": (user, f"/clubs/{club.id}/posts", {"body": "hello", "photo": file}),
            "ticket": (user, "/help/ask", {"category": "question", "severity": "normal",
                                           "subject": "s", "body": "b", "photos": [file]}),
            "ticket reply": (user, f"/help/tickets/{ticket.id}/reply",
                             {"body": "b", "photos": [file]}),
            "studio hero image": (marketer, "/studio/new/article",
                                  article_form(key=f"spoof-{secrets.token_hex(3)}", image=file)),
        }

    uploads = tmp_path / "uploads"
    signed_in = None
    for name, data, content_type, is_image in SPOOFS:
        raw = _spoof_bytes(name, data)
        for route, (person, url, form) in routes(None).items():
            if person is not signed_in:
                login_as(person)
                signed_in = person
            form = routes((io.BytesIO(raw), name, content_type))[route][2]
            response = client.post(url, data=form, content_type="multipart/form-data")
            assert response.status_code < 500, (route, name)
            if not is_image:
                assert response.status_code in (200, 400), (route, name)
                assert "alert alert-danger" in response.get_data(as_text=True) \
                    or "invalid-feedback" in response.get_data(as_text=True), (route, name)
            else:
                assert response.status_code in (302, 303), (route, name, response.status_code)
    # Nothing on the disk is anything but an image we wrote, with no script in it.
    written = [p for p in uploads.rglob("*") if p.is_file()]
    assert len(written) >= 12  # the real pictures were kept, in their sizes
    for path in written:
        content = path.read_bytes()
        assert content.startswith(IMAGE_MAGIC), path
        assert b"<script" not in content and b"<?php" not in content and b"<svg" not in content
    # ... and served as images, never sniffed as something else
    login_as(user)
    session.expire_all()
    for photo in session.scalars(select(Photo)).all():
        served = client.get(f"/photos/{photo.id}/full")
        assert served.status_code == 200 and served.mimetype.startswith("image/")
        assert served.headers["X-Content-Type-Options"] == "nosniff"

