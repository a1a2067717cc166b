"""Who may call /api/v1: tokens (hashed, scoped, expiring, revocable), the web session with
its CSRF token, another family's ids, rate limits."""
from __future__ import annotations

import hashlib
import io
import re
from datetime import timedelta

import pytest
from api_helpers import bearer, make_token
from family_fixtures import messages
from sqlalchemy import select

from diary import access_tokens
from diary.errors import NotFound, ValidationError
from diary.models import AccessToken, Entry
from tests.conftest import PASSWORD
from tests.web.helpers import png_bytes
from webapp.blueprints.api_v1.framework import REGISTRY

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOTE = {"kind": "note", "occurred_at": "2026-11-22T09:30:00+08:00", "body": "Hello"}


def _code(response, status):
    assert response.status_code == status, response.get_data(as_text=True)
    return response.get_json()["error"]["code"]


def test_a_token_is_stored_only_as_the_sha256_of_its_secret(session, make_family):
    user, _ = make_family()
    token, secret = access_tokens.create(session, user, "  Phone app ", "read", 90)
    assert secret.startswith("bjpat_") and len(secret) > 40
    assert token.token_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert token.token_prefix == secret[:12] and token.name == "Phone app"
    assert token.expires_at == token.created_at + timedelta(days=90)
    row = session.execute(select(AccessToken.__table__)).one()
    assert secret not in [str(v) for v in row]
    assert access_tokens.verify(session, secret) is token
    assert access_tokens.verify(session, secret + "x") is None
    assert access_tokens.verify(session, token.token_prefix) is None


@pytest.mark.parametrize(("name", "scope", "days", "field"), [
    ("", "read", 30, "name"), ("x" * 81, "read", 30, "name"), ("a\nb", "read", 30, "name"),
    ("ok", "admin", 30, "scope"), ("ok", "read", 7, "expires_in_days")])
def test_a_token_needs_a_name_a_scope_and_an_offered_expiry(session, make_family, name, scope,
                                                             days, field):
    user, _ = make_family()
    with pytest.raises(ValidationError) as caught:
        access_tokens.create(session, user, name, scope, days)
    assert caught.value.field == field


def test_expired_revoked_and_closed_account_tokens_are_401(client, session, make_family,
                                                          clock_at):
    user, _ = make_family()
    expiring = make_token(session, user, scope="read", days=30)
    revoked_secret = make_token(session, user, scope="read", days=None, name="old")
    assert client.get("/api/v1/me", headers=bearer(expiring)).status_code == 200
    assert session.scalar(select(AccessToken.last_used_at).where(
        AccessToken.name == "test")) is not None
    revoked = access_tokens.list_tokens(session, user)[0]
    assert revoked.name == "old"
    access_tokens.revoke(session, user, revoked.id)
    session.commit()
    assert _code(client.get("/api/v1/me", headers=bearer(revoked_secret)), 401) == \
        "unauthorized"
    clock_at("2026-12-23T04:00:01")  # 30 days and a second later
    assert _code(client.get("/api/v1/me", headers=bearer(expiring)), 401) == "unauthorized"
    forever = make_token(session, user, days=None, name="forever")
    assert client.get("/api/v1/me", headers=bearer(forever)).status_code == 200
    user.is_active = False
    session.commit()
    assert _code(client.get("/api/v1/me", headers=bearer(forever)), 401) == "unauthorized"


def test_revoking_another_persons_token_is_not_found(session, make_family):
    owner, _ = make_family()
    other, _ = make_family()
    token, _ = access_tokens.create(session, owner, "mine", "write", 30)
    with pytest.raises(NotFound):
        access_tokens.revoke(session, other, token.id)
    assert token.revoked_at is None


def test_a_token_does_not_open_the_web_pages(client, session, make_family):
    user, child = make_family()
    secret = make_token(session, user)
    response = client.get(f"/children/{child.id}", headers=bearer(secret))
    assert response.status_code == 302 and "/login" in response.headers["Location"]


@pytest.fixture()
def two_families(client, session, make_family):
    mine, my_child = make_family(email="me@example.com")
    theirs, their_child = make_family(email="them@example.com")
    their_headers = bearer(make_token(session, theirs))
    entry = client.post(f"/api/v1/children/{their_child.id}/entries", json=NOTE,
                        headers=their_headers).get_json()
    photo = client.post(f"/api/v1/children/{their_child.id}/photos",
                        data={"file": (io.BytesIO(png_bytes()), "a.png")},
                        headers=their_headers).get_json()
    timer = client.post(f"/api/v1/children/{their_child.id}/timers", json={"kind": "sleep"},
                        headers=their_headers).get_json()
    [message] = messages(session, theirs, their_child, 1)
    ids = {"child_id": their_child.id, "entry_id": entry["id"],
           "photo_id": photo["photos"][0]["id"], "timer_id": timer["id"],
           "message_id": message.id}
    return bearer(make_token(session, mine)), ids


ID_ROUTES = [e for e in REGISTRY if "<" in e.path]
#: Bodies that pass validation, so the sweep reaches the ownership check.
BODIES = {"start_timer": {"kind": "sleep"}}


@pytest.mark.parametrize("declared", ID_ROUTES, ids=[e.name for e in ID_ROUTES])
def test_another_familys_ids_are_404_on_every_endpoint(client, session, two_families,
                                                       declared):
    headers, ids = two_families
    path = re.sub(r"<int:(\w+)>", lambda m: str(ids[m[1]]), declared.rule)
    kwargs = {}
    if declared.body is not None:
        kwargs["json"] = BODIES.get(declared.name) or (
            {"occurred_at": "2026-11-22T10:00:00Z", "body": "mine now"}
            if declared.method in ("PUT", "PATCH") else NOTE)
    if declared.files:
        kwargs["data"] = {"file": (io.BytesIO(png_bytes()), "b.png")}
    response = client.open(path, method=declared.method, headers=headers, **kwargs)
    assert _code(response, 404) == "not_found"
    session.expire_all()
    entry = session.get(Entry, ids["entry_id"])
    assert entry is not None and entry.body == "Hello" and len(entry.photos) == 0


def test_every_path_parameter_in_the_sweep_is_known():
    names = {n for e in ID_ROUTES for n in re.findall(r"<int:(\w+)>", e.path)}
    assert names == {"child_id", "entry_id", "photo_id", "timer_id", "message_id"}


class TestSessionCalls:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_the_session_reads_and_writes_only_with_the_csrf_header(
            self, app, client, session, make_family):
        user, child = make_family()
        page = client.get("/login").get_data(as_text=True)
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token}).status_code == 302
        assert client.get("/api/v1/me").get_json()["scope"] == "session"
        url = f"/api/v1/children/{child.id}/entries"
        assert _code(client.post(url, json=NOTE), 403) == "csrf_failed"
        assert _code(client.post(url, json=NOTE, headers={"X-CSRFToken": "forged"}),
                     403) == "csrf_failed"
        page = client.get("/account").get_data(as_text=True)
        fresh = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        assert client.post(url, json=NOTE, headers={"X-CSRFToken": fresh}).status_code == 201
        assert session.scalar(select(Entry.body).where(Entry.child_id == child.id)) == "Hello"

    def test_a_token_call_needs_no_csrf_token(self, client, session, make_family):
        user, child = make_family()
        response = client.post(f"/api/v1/children/{child.id}/entries", json=NOTE,
                               headers=bearer(make_token(session, user)))
        assert response.status_code == 201


class TestRateLimit:
    @pytest.fixture()
    def app_overrides(self):
        return {"RATELIMIT_ENABLED": True, "API_RATE_LIMIT": "3 per minute"}

    def test_the_limit_counts_per_token_and_answers_429_in_the_error_shape(
            self, client, session, make_family):
        user, _ = make_family()
        first, second = make_token(session, user, name="a"), make_token(session, user, name="b")
        codes = [client.get("/api/v1/me", headers=bearer(first)).status_code for _ in range(4)]
        assert codes == [200, 200, 200, 429]
        response = client.get("/api/v1/children", headers=bearer(first))
        assert _code(response, 429) == "rate_limited"
        assert response.get_json()["error"]["message"]
        assert response.headers["Retry-After"] == "60"
        assert client.get("/api/v1/me", headers=bearer(second)).status_code == 200


def test_a_multipart_part_without_a_name_is_no_server_error(client, session, make_family):
    """Found by schemathesis: werkzeug names such a part None, and the request check read it
    as text (a 500 on every form)."""
    user, child = make_family()
    body = (b'--b\r\nContent-Disposition: form-data\r\n\r\n[]\r\n'
            b'--b\r\nContent-Disposition: form-data; filename="f"\r\n\r\nxx\r\n--b--\r\n')
    for url, headers in ((f"/api/v1/children/{child.id}/photos",
                          bearer(make_token(session, user))), ("/login", {})):
        response = client.post(url, data=body, headers=headers,
                               content_type="multipart/form-data; boundary=b")
        assert response.status_code in (200, 400, 422), (url, response.status_code)
