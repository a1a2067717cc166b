"""Email pages: click tracking, one-click unsubscribe (no sign-in, no CSRF), the preference
centre, the bounce webhook, the staff outbox and the CLI."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy import select

from clock import utcnow
from diary import accounts
from diary.models import Consent
from journeys import campaigns, digests, ledger, unsubscribe
from journeys.models import CampaignSend, Delivery, EmailClick, EmailPreference, Suppression
from mailer import Email, FileMailer
from tests.conftest import PASSWORD, local_today
from tests.tokens import tampered

SECRET = "test-secret-key"  # TestingConfig.SECRET_KEY


def queue_digest(session, user, status="pending", **extra):
    ledger.push(session, [ledger.row(user_id=user.id, child_id=0, item=None, channel="email",
                                     item_key="digest:2026-W48", occurrence="2026-W48",
                                     kind="digest")])
    row = session.scalar(select(Delivery).where(Delivery.user_id == user.id,
                                                Delivery.item_key == "digest:2026-W48"))
    row.status = status
    for k, v in extra.items():
        setattr(row, k, v)
    session.commit()
    return row


def make_staff(session, role="marketer"):
    user = accounts.create_staff(session, f"{role}@example.com", PASSWORD, role, "Staff")
    session.commit()
    return user


# --- click tracking -------------------------------------------------------------------------

def test_a_click_is_logged_and_redirects_on_the_site(client, session, make_family):
    user, _ = make_family()
    row = queue_digest(session, user, status="sent")
    token = digests.make_click_token(SECRET, row.id, user.id, "article:week-20",
                                     "/articles/week-20?from=email", user.link_key)
    response = client.get(f"/e/c/{token}", headers={"Host": "evil.example"})
    assert response.status_code == 302
    assert response.headers["Location"] == "/articles/week-20?from=email"
    [click] = session.scalars(select(EmailClick)).all()
    assert (click.delivery_id, click.user_id, click.item_key, click.url) == (
        row.id, user.id, "article:week-20", "/articles/week-20?from=email")


def test_a_click_names_nobody_when_the_id_now_belongs_to_someone_else(client, session,
                                                                       make_family):
    """SQLite gives a deleted account's id to the next one: an old link's click must not be
    put down to the newcomer (their link key differs), nor to a delivery that is not theirs."""
    user, _ = make_family()
    row = queue_digest(session, user, status="sent")
    token = digests.make_click_token(SECRET, row.id, user.id, "article:week-20", "/a",
                                     "0" * 8)  # the link key of the account that was deleted
    assert client.get(f"/e/c/{token}").status_code == 302
    [click] = session.scalars(select(EmailClick)).all()
    assert (click.delivery_id, click.user_id) == (None, None)
    stranger, _ = make_family()
    stolen = digests.make_click_token(SECRET, row.id, stranger.id, "article:x", "/b",
                                      stranger.link_key)  # someone else's delivery id
    client.get(f"/e/c/{stolen}")
    session.expire_all()
    assert session.scalar(select(EmailClick).where(EmailClick.url == "/b")).delivery_id is None


def test_a_click_for_a_deleted_delivery_still_redirects(client, session):
    token = digests.make_click_token(SECRET, 999_999, 999_999, "inbox", "/inbox")
    response = client.get(f"/e/c/{token}")
    assert response.status_code == 302 and response.headers["Location"] == "/inbox"
    click = session.scalars(select(EmailClick)).one()
    assert (click.delivery_id, click.user_id) == (None, None)


@pytest.mark.parametrize("path", ["//evil.example/x", "https://evil.example/",
                                  "/\\evil.example", "javascript:alert(1)"])
def test_click_links_never_leave_the_site(client, session, path):
    forged = URLSafeTimedSerializer(SECRET, salt=digests.CLICK_PURPOSE).dumps(
        {"d": 1, "u": 1, "i": "x", "p": path})
    response = client.get(f"/e/c/{forged}")
    assert response.status_code == 404
    assert "Location" not in response.headers
    assert session.scalars(select(EmailClick)).all() == []


def test_a_tampered_click_token_is_a_page_not_a_500(client):
    token = digests.make_click_token(SECRET, 1, 1, "inbox", "/inbox")
    for bad in (tampered(token), "nonsense", "a.b.c"):
        response = client.get(f"/e/c/{bad}")
        assert response.status_code == 404
        assert "This link is not valid" in response.get_data(as_text=True)


def _clicks(session):
    session.expire_all()
    return session.execute(select(EmailClick.delivery_id, EmailClick.user_id,
                                  EmailClick.item_key, EmailClick.url, EmailClick.clicked_at)
                           .order_by(EmailClick.id)).all()


def test_a_link_counts_one_click_however_often_it_is_fetched(client, session, make_family,
                                                             clock_at):
    clock_at("2026-11-23T04:00")
    user, _ = make_family()
    row = queue_digest(session, user, status="sent")
    token = digests.make_click_token(SECRET, row.id, user.id, "article:week-20",
                                     "/articles/week-20?from=email", user.link_key)
    for method in ("HEAD", "HEAD"):  # link checkers and scanners: not clicks at all
        response = client.open(f"/e/c/{token}", method=method)
        assert response.status_code == 302
        assert response.headers["Location"] == "/articles/week-20?from=email"
    assert _clicks(session) == []
    first = client.get(f"/e/c/{token}")
    assert first.status_code == 302
    [(delivery_id, user_id, item_key, url, clicked_at)] = _clicks(session)
    assert (delivery_id, user_id, item_key, url) == (row.id, user.id, "article:week-20",
                                                     "/articles/week-20?from=email")
    clock_at("2026-11-25T09:00")  # a reload two days later, a second tap, a prefetch
    for _ in range(3):
        again = client.get(f"/e/c/{token}")
        assert again.status_code == 302
        assert again.headers["Location"] == "/articles/week-20?from=email"
    client.head(f"/e/c/{token}")
    assert _clicks(session) == [(row.id, user.id, "article:week-20",
                                 "/articles/week-20?from=email", clicked_at)]
    assert clicked_at.date().isoformat() == "2026-11-23"  # the first click's time stays


def test_each_item_and_each_email_is_its_own_click(client, session, make_family):
    user, _ = make_family()
    week = queue_digest(session, user, status="sent")
    ledger.push(session, [ledger.row(user_id=user.id, child_id=0, item=None, channel="email",
                                     item_key="digest:2026-W49", occurrence="2026-W49",
                                     kind="digest")])
    session.commit()
    next_week = session.scalar(select(Delivery).where(Delivery.item_key == "digest:2026-W49"))
    links = [digests.make_click_token(SECRET, week.id, user.id, "article:a", "/articles/a", user.link_key),
             digests.make_click_token(SECRET, week.id, user.id, "product:P-1", "/products/P-1", user.link_key),
             digests.make_click_token(SECRET, next_week.id, user.id, "article:a", "/articles/a", user.link_key),
             # no item: the path is what was clicked
             digests.make_click_token(SECRET, week.id, user.id, "", "/library", user.link_key),
             digests.make_click_token(SECRET, week.id, user.id, "", "/inbox", user.link_key)]
    for token in links * 2:
        assert client.get(f"/e/c/{token}").status_code == 302
    assert sorted((d, u, i or "") for d, _, i, u, _ in _clicks(session)) == sorted([
        (week.id, "/articles/a", "article:a"), (week.id, "/products/P-1", "product:P-1"),
        (next_week.id, "/articles/a", "article:a"), (week.id, "/library", ""),
        (week.id, "/inbox", "")])


def test_a_link_of_a_deleted_email_still_counts_once(client, session):
    token = digests.make_click_token(SECRET, 999_999, 999_999, "inbox", "/inbox")
    for _ in range(3):
        assert client.get(f"/e/c/{token}").status_code == 302
    assert [(d, u) for d, u, *_ in _clicks(session)] == [(None, None)]


def test_an_old_link_redirects_and_counts_nothing(client, session, make_family):
    user, _ = make_family()
    row = queue_digest(session, user, status="sent")
    token = digests.make_click_token(SECRET, row.id, user.id, "inbox", "/inbox", user.link_key)
    old = digests.read_click_token(SECRET, token, max_age=-1)
    assert old.fresh is False
    assert digests.record_click(session, old, utcnow()) is False
    fresh = digests.read_click_token(SECRET, token)
    assert digests.record_click(session, fresh, utcnow()) is True
    assert digests.record_click(session, fresh, utcnow()) is False
    assert len(_clicks(session)) == 1


def test_repeated_clicks_keep_campaign_conversions_right(client, session, make_family):
    """The campaign report reads the first click on a product link after the send."""
    user, _ = make_family()
    row = queue_digest(session, user, status="sent")
    sent_at = utcnow() - timedelta(hours=1)
    send = CampaignSend(campaign="baby_birthday", user_id=user.id, child_id=0, occurrence="o",
                        goal="product_click", goal_days=14, created_at=sent_at)
    session.add(send)
    session.commit()
    token = digests.make_click_token(SECRET, row.id, user.id, "product:P-1", "/products/P-1", user.link_key)
    for _ in range(2):
        client.get(f"/e/c/{token}")
    [(*_, first)] = _clicks(session)
    assert campaigns.measure_conversions(session, utcnow()) == 1
    assert session.get(CampaignSend, send.id).converted_at == first


# --- unsubscribe ----------------------------------------------------------------------------

def test_the_unsubscribe_page_asks_first(client, session, make_family):
    user, _ = make_family()
    token = unsubscribe.make_token(SECRET, user)
    page = client.get(f"/e/u/{token}")
    html = page.get_data(as_text=True)
    assert page.status_code == 200
    assert "Unsubscribe from our emails?" in html
    assert f'action="/e/u/{token}"' in html and 'href="/preferences"' in html
    session.refresh(user)
    assert user.digest_opt_in is True  # a GET (or a link scanner) changes nothing


class TestOneClickWithCsrfOn:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_one_click_post_works_without_login_or_csrf(self, client, session, make_family):
        user, _ = make_family()
        accounts.record_consent(session, user, Consent.MARKETING, True, "account", "2026-11")
        row = queue_digest(session, user)
        token = unsubscribe.make_token(SECRET, user)
        response = client.post(f"/e/u/{token}", data="List-Unsubscribe=One-Click",
                               content_type="application/x-www-form-urlencoded")
        assert response.status_code == 200 and response.get_data() == b""
        session.expire_all()
        assert (user.digest_opt_in, user.marketing_opt_in) == (False, False)
        recorded = session.execute(select(Consent.kind, Consent.granted).where(
            Consent.user_id == user.id, Consent.source == "unsubscribe-link")).all()
        assert sorted(recorded) == [("digest", False), ("marketing", False)]
        assert session.get(Delivery, row.id).status == "suppressed"
        # a second POST (mail clients retry) records nothing new
        client.post(f"/e/u/{token}", data="List-Unsubscribe=One-Click",
                    content_type="application/x-www-form-urlencoded")
        assert len(session.scalars(select(Consent).where(
            Consent.source == "unsubscribe-link")).all()) == 2

    def test_only_the_one_click_route_is_exempt(self, client):
        assert client.post("/e/bounce", json={}).status_code == 404  # disabled, not a CSRF 400
        assert client.post("/preferences", data={}).status_code == 400  # CSRF
        assert client.post("/preferences/resume", data={}).status_code == 400


def test_the_button_on_the_page_unsubscribes_too(client, session, make_family):
    user, _ = make_family()
    token = unsubscribe.make_token(SECRET, user)
    response = client.post(f"/e/u/{token}", data={})
    assert response.status_code == 200
    assert "You are unsubscribed" in response.get_data(as_text=True)
    session.expire_all()
    assert user.digest_opt_in is False


def test_a_tampered_unsubscribe_token_changes_nothing(client, session, make_family):
    user, _ = make_family()
    token = unsubscribe.make_token(SECRET, user)
    forged = URLSafeTimedSerializer("wrong-key", salt=unsubscribe.PURPOSE).dumps({"uid": user.id})
    for bad in (tampered(token), forged, "nonsense"):
        assert client.get(f"/e/u/{bad}").status_code == 404
        assert client.post(f"/e/u/{bad}", data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded").status_code == 404
    session.expire_all()
    assert user.digest_opt_in is True


def test_the_unsubscribe_page_speaks_the_readers_language(client, session, make_family):
    user, _ = make_family()
    user.locale = "zh_CN"
    session.commit()
    html = client.get(f"/e/u/{unsubscribe.make_token(SECRET, user)}").get_data(as_text=True)
    assert 'lang="zh-CN"' in html


# --- preference centre ----------------------------------------------------------------------

def test_preferences_need_a_sign_in(client):
    response = client.get("/preferences")
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_preference_centre_saves_choices_and_consents(client, session, make_family,
                                                          login_as):
    user, _ = make_family()
    login_as(user)
    page = client.get("/preferences").get_data(as_text=True)
    assert "Email preferences" in page and 'name="topics"' in page
    assert re.search(r'<input checked[^>]*value="weekly"', page)
    response = client.post("/preferences", data={
        "marketing_opt_in": "y", "frequency": "daily", "send_hour": "22",
        "quiet_start": "21", "quiet_end": "7", "topics": ["sleep", "feeding"]})
    assert response.status_code == 302
    session.expire_all()
    pref = session.get(EmailPreference, user.id)
    assert (pref.frequency, pref.send_hour, pref.quiet_start, pref.quiet_end, pref.topics) == (
        "daily", 22, 21, 7, ["feeding", "sleep"])
    assert (user.digest_opt_in, user.marketing_opt_in) == (False, True)
    assert sorted(session.execute(select(Consent.kind, Consent.granted).where(
        Consent.user_id == user.id, Consent.source == "preferences")).all()) == [
        ("digest", False), ("marketing", True)]
    page = client.get("/preferences").get_data(as_text=True)
    assert "goes out at 07:00" in page  # 22:00 is in the quiet hours


def test_bad_preference_input_is_a_400_with_the_form(client, make_family, login_as):
    user, _ = make_family()
    login_as(user)
    response = client.post("/preferences", data={"frequency": "hourly", "send_hour": "25",
                                                 "quiet_start": "21", "quiet_end": "8"})
    assert response.status_code == 400
    assert "Please check the highlighted fields" in response.get_data(as_text=True)


def test_pause_and_resume(client, session, make_family, login_as):
    user, _ = make_family(tz="Asia/Shanghai")
    login_as(user)
    assert client.post("/preferences/pause", data={"weeks": "4"}).status_code == 302
    session.expire_all()
    today = local_today("Asia/Shanghai")
    assert session.get(EmailPreference, user.id).paused_until == today + timedelta(days=27)
    assert "Email is paused until" in client.get("/preferences").get_data(as_text=True)
    assert client.post("/preferences/pause", data={"weeks": "3"}).status_code == 400
    assert client.post("/preferences/resume").status_code == 302
    session.expire_all()
    assert session.get(EmailPreference, user.id).paused_until is None


# --- bounce webhook -------------------------------------------------------------------------

def test_the_bounce_webhook_is_off_without_a_secret(client):
    assert client.post("/e/bounce", json={"email": "a@example.com", "type": "hard"},
                       headers={"X-Webhook-Secret": ""}).status_code == 404


class TestBounceWebhook:
    @pytest.fixture()
    def app_overrides(self):
        return {"BOUNCE_WEBHOOK_SECRET": "s3cret", "WTF_CSRF_ENABLED": True}

    def post(self, client, body, secret="s3cret", **kw):  # type: ignore[no-untyped-def]
        headers = {"X-Webhook-Secret": secret} if secret is not None else {}
        return client.post("/e/bounce", headers=headers, **({"json": body} if body is not None
                                                             else kw))

    def test_secret_is_required(self, client, session):
        for secret in (None, "", "wrong"):
            response = self.post(client, {"email": "a@example.com", "type": "hard"}, secret)
            assert response.status_code == 403 and "error" in response.get_json()
        assert session.scalars(select(Suppression)).all() == []

    def test_bad_input_is_a_4xx_with_a_reason(self, client):
        cases = [(None, {"data": "not json", "content_type": "text/plain"}),
                 ([1, 2], {}), ({"type": "hard"}, {}),
                 ({"email": "a@example.com", "type": "medium"}, {}),
                 ({"email": "not-an-email", "type": "hard"}, {})]
        for body, kw in cases:
            response = self.post(client, body, **kw)
            assert response.status_code == 400, body
            assert response.get_json()["error"]

    def test_hard_bounce_suppresses_and_cancels(self, client, session, make_family):
        user, _ = make_family(email="Bounced@Example.com")
        row = queue_digest(session, user)
        response = self.post(client, {"email": "BOUNCED@example.com", "type": "hard"})
        assert response.status_code == 200
        assert response.get_json() == {"email": "bounced@example.com", "type": "hard",
                                       "suppressed": True}
        assert session.scalars(select(Suppression.email)).all() == ["bounced@example.com"]
        session.expire_all()
        assert session.get(Delivery, row.id).status == "suppressed"
        assert self.post(client, {"email": "bounced@example.com", "type": "hard"}
                         ).status_code == 200  # idempotent

    def test_soft_bounce_changes_nothing(self, client, session):
        response = self.post(client, {"email": "full@example.com", "type": "soft"})
        assert response.status_code == 200 and response.get_json()["suppressed"] is False
        assert session.scalars(select(Suppression)).all() == []


# --- staff outbox ---------------------------------------------------------------------------

def test_the_outbox_is_for_staff_only(client, make_family, login_as):
    user, _ = make_family()
    assert client.get("/studio/outbox").status_code == 302  # sign in first
    login_as(user)
    assert client.get("/studio/outbox").status_code == 404  # parents: nothing here


def test_staff_see_problem_deliveries_but_never_a_message(app, client, session, make_family,
                                                          login_as, mailer):
    """Attack (as a marketer): ask a reset for the admin, then read the link on the staff
    outbox page and take over the admin account. Messages are no longer readable by any
    member of staff: not the page, not a message URL, not the queue's rows (no token is
    stored; links are signed when the email is sent)."""
    from diary.models import AccountEmail

    parent, _ = make_family()
    dead = queue_digest(session, parent, status="dead", attempts=6,
                        last_error="MailerUnavailable: 127.0.0.1:25: refused")
    admin = make_staff(session, "admin")
    FileMailer(app.config["MAIL_OUTBOX_DIR"], app.config["MAIL_FROM"]).send(
        Email(to="someone@example.com", subject="Reset", text="http://localhost/reset/x"))
    marketer = make_staff(session)
    login_as(marketer)
    client.post("/logout")
    client.post("/forgot", data={"email": admin.email})
    [reset] = mailer.sent
    link = re.search(r"http://localhost(/reset/\S+)", reset.text).group(1)
    login_as(marketer)
    page = client.get("/studio/outbox").get_data(as_text=True)
    assert "MailerUnavailable: 127.0.0.1:25: refused" in page and parent.email in page
    assert f"/studio/outbox/deliveries/{dead.id}/retry" in page
    assert link not in page and "/reset/" not in page and "Reset" not in page
    for path in ("/studio/outbox/x.eml", "/studio/outbox/x.eml/html",
                 f"/studio/outbox/{sorted(app.config['MAIL_OUTBOX_DIR'].iterdir())[0].name}"):
        assert client.get(path).status_code == 404, path
    row = session.scalar(select(AccountEmail).where(AccountEmail.to_address == admin.email))
    assert row.kind == "reset_password" and link.rsplit("/", 1)[1] not in str(row.payload)


def test_the_outbox_page_is_fine_with_no_problems(client, session, login_as):
    login_as(make_staff(session, "admin"))
    page = client.get("/studio/outbox").get_data(as_text=True)
    assert "None: every email went out or is waiting its turn." in page


# --- CLI ------------------------------------------------------------------------------------

def test_cli_bounce_and_unsubscribe(runner, session, make_family):
    user, _ = make_family(email="cli@example.com")
    result = runner.invoke(args=["emails", "bounce", "CLI@example.com"])
    assert result.exit_code == 0, result.output
    assert "cli@example.com is now suppressed" in result.output
    assert session.scalars(select(Suppression.email)).all() == ["cli@example.com"]
    result = runner.invoke(args=["emails", "unsubscribe", "cli@example.com"])
    assert result.exit_code == 0 and "now unsubscribed" in result.output
    assert runner.invoke(args=["emails", "bounce", "not-an-email"]).exit_code != 0


def test_cli_digests_send(runner, session, make_family, mailer):
    user, _ = make_family(tz="Asia/Shanghai")
    monday_nine = "2026-11-23T01:00:00+00:00"  # Monday 09:00 in Shanghai
    result = runner.invoke(args=["digests", "send", "--now", monday_nine])
    assert result.exit_code == 0, result.output
    assert "scheduled 1" in result.output and "sent 1" in result.output
    [email] = mailer.sent
    assert email.to == user.email and dict(email.headers)["List-Unsubscribe-Post"]
    result = runner.invoke(args=["digests", "send", "--now", monday_nine])
    assert "scheduled 0" in result.output and len(mailer.sent) == 1
