"""The CRM's analysis: cohorts and retention by hand, the churn-risk list and its win-back
button (exactly once, holdout respected), campaign response with lift and interval by hand,
pivot reports against hand counts and hostile definitions, CSV formula safety, saved reports
and the weekly email (once a week), and the reports database setting."""
from __future__ import annotations

import dataclasses
import json
import math
import secrets
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from crm import cohorts, pivot, reports, response
from crm.models import CustomerScore, ReportMailing, SavedReport
from diary.errors import ValidationError
from diary.models import AccountEmail, Consent, StaffAccess, User
from journeys import campaigns
from journeys.models import CampaignSend, Delivery, EmailClick, InboxMessage
from recommender import log
from tests.conftest import migrated_database_url
from tests.crm.test_crm_scores import buy, product  # noqa: F401  (fixture)
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")
NOW = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def at(*args):
    return datetime(*args, tzinfo=UTC)


def text(response):
    return response.get_data(as_text=True)


def act(session, product, user, when, kind="click"):  # noqa: F811
    log.record(session, log.Event(kind=kind, item_id=product.id, surface="child_page",
                                  idempotency_key=secrets.token_hex(8), user_id=user.id,
                                  occurred_at=when))


def customer(make_family, session, created, last_seen=None):
    user = make_family()[0]
    user.created_at, user.last_seen_at = created, last_seen
    session.commit()
    return user


def score(session, user, p_alive, tier="low", clv=0, frequency=1):
    session.add(CustomerScore(user_id=user.id, computed_at=NOW, tier=tier, value_group="other",
                              p_alive=p_alive, clv_minor=clv, frequency=frequency))
    session.commit()


# --- cohorts ---------------------------------------------------------------------------------

@pytest.fixture()
def four(session, make_family, product):  # noqa: F811
    """Two September and two October sign-ups (UTC), with activity worked out by hand:
    a: Sep (signup), Oct (a click); b: Sep (signed up 20:00 UTC on the 30th, already
    October in Shanghai), Nov (a purchase); c: Oct, Nov (a visit); d: Oct only."""
    a = customer(make_family, session, at(2026, 9, 5, 8), last_seen=at(2026, 9, 6, 8))
    b = customer(make_family, session, at(2026, 9, 30, 20))
    c = customer(make_family, session, at(2026, 10, 15, 8), last_seen=at(2026, 11, 20, 8))
    d = customer(make_family, session, at(2026, 10, 20, 8))
    act(session, product, a, at(2026, 10, 10, 3))
    buy(session, product, b, at(2026, 11, 2, 3), 1000)
    session.commit()
    return a, b, c, d


def test_cohorts_and_retention_by_hand(session, four):
    make_staff(session, "analyst")  # staff are no cohort
    found = cohorts.retention(session, NOW)
    assert [(c.month.isoformat(), c.size, c.active) for c in found] == [
        ("2026-09-01", 2, (2, 1, 1)), ("2026-10-01", 2, (2, 1))]
    assert cohorts.average_retention(found) == (1.0, 0.5, 0.5)
    assert cohorts.retention(session, NOW, months=2)[0].month.isoformat() == "2026-10-01"


def test_the_cohort_page_draws_the_heat_map_with_numbers(client, login_as, session, four):
    login_as(make_staff(session, "analyst"))
    page = text(client.get("/studio/crm/cohorts"))
    assert '<th scope="row" class="text-nowrap">2026-09</th>' in page
    assert 'class="text-center crm-heat-5" title="2 customers">100%</td>' in page
    assert 'class="text-center crm-heat-3" title="1 customer">50%</td>' in page
    assert "Month 2" in page and "All cohorts" in page
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    zh = text(client.get("/studio/crm/cohorts"))
    assert "同期群与留存" in zh and "第 2 个月" in zh


def test_no_cohorts_says_so(client, login_as, session):
    login_as(make_staff(session, "analyst"))
    assert "Nobody has signed up in the last twelve months." in text(
        client.get("/studio/crm/cohorts"))


# --- churn risk and win-back -----------------------------------------------------------------

@pytest.fixture()
def drifting(session, make_family, product, monkeypatch):  # noqa: F811
    """x: low P(alive), active yesterday; y: no score, away 60 days; z: healthy."""
    monkeypatch.setitem(campaigns.CAMPAIGNS, "we_miss_you", dataclasses.replace(
        campaigns.CAMPAIGNS["we_miss_you"], holdout_share=0.0))
    x = customer(make_family, session, at(2026, 1, 5), last_seen=NOW - timedelta(days=1))
    y = customer(make_family, session, at(2026, 1, 5), last_seen=NOW - timedelta(days=60))
    z = customer(make_family, session, at(2026, 1, 5), last_seen=NOW - timedelta(days=2))
    score(session, x, 0.1, tier="high", clv=50000)
    score(session, z, 0.9)
    act(session, product, z, NOW - timedelta(days=1))
    session.commit()
    return x, y, z


def test_a_customer_who_never_bought_is_at_risk_only_by_being_away(client, login_as, session,
                                                                  drifting, make_family):
    # the nightly scores give people who never bought P(alive) 0: it is not a churn signal
    w = customer(make_family, session, at(2026, 1, 5), last_seen=NOW - timedelta(days=1))
    score(session, w, 0.0, frequency=0)
    login_as(make_staff(session, "analyst"))
    page = text(client.get("/studio/crm/churn"))
    assert w.member_no not in page and "2 customers on the list" in page


def test_the_churn_list_by_either_or_both_conditions(client, login_as, session, drifting):
    x, y, z = drifting
    login_as(make_staff(session, "marketer"))
    page = text(client.get("/studio/crm/churn"))
    assert x.member_no in page and y.member_no in page and z.member_no not in page
    assert "2 customers on the list" in page and "Send to 2 customers" in page
    assert page.index(x.member_no) < page.index(y.member_no)  # lowest P(alive) first
    page = text(client.get("/studio/crm/churn?max_p_alive=0.5&inactive_days=30&match=any"
                           "&sort=inactive"))
    assert page.index(y.member_no) < page.index(x.member_no)  # longest away first
    page = text(client.get("/studio/crm/churn?max_p_alive=0.5&inactive_days=30&match=all"))
    assert "Nobody matches" in page
    # hostile values: the defaults, with the form's errors
    page = text(client.get("/studio/crm/churn?max_p_alive=2&inactive_days=-1&match=x&sort="
                           "id;drop"))
    assert x.member_no in page and "Not a valid choice" in page
    for nan in ("nan", "sNaN", "1e999"):
        page = text(client.get(f"/studio/crm/churn?max_p_alive={nan}&inactive_days=30"
                               "&match=any&sort=p_alive"))
        assert x.member_no in page and "Send to 2 customers" in page
        assert client.post("/studio/crm/churn/win-back",
                           data=dict(FORM, max_p_alive=nan)).status_code == 400
    accesses = session.scalars(select(StaffAccess).where(StaffAccess.what == "crm_churn"))
    assert len(list(accesses)) == 7


def _sends(session):
    session.expire_all()
    return sorted((s.user_id, s.occurrence, s.holdout) for s in session.scalars(
        select(CampaignSend).where(CampaignSend.campaign == "we_miss_you")))


def _deliveries(session):
    return session.scalar(select(func.count()).select_from(Delivery)
                          .where(Delivery.item_key == "campaign:we_miss_you"))


FORM = {"max_p_alive": "0.5", "inactive_days": "30", "match": "any", "sort": "p_alive"}


def test_win_back_sends_once_however_often_the_button_is_pressed(client, login_as, session,
                                                                 drifting):
    x, y, z = drifting
    login_as(make_staff(session, "marketer"))
    first = client.post("/studio/crm/churn/win-back", data=FORM)
    assert first.status_code == 303 and first.headers["Location"].startswith("/studio/crm/churn?")
    sends = _sends(session)
    assert sends == [(x.id, "2026-11-22", False), (y.id, "2026-09-24", False)]
    assert _deliveries(session) == 2  # inbox only: nobody opted in to marketing email
    assert "went to 2 customers; 0 held out" in text(client.get(first.headers["Location"]))
    again = client.post("/studio/crm/churn/win-back", data=FORM)
    assert "Nobody new on this list" in text(client.get(again.headers["Location"]))
    with session.begin_nested():
        campaigns.run(session, NOW)  # the hourly job: y's absence was handled
    assert _sends(session) == sends and _deliveries(session) == 2
    login_as(make_staff(session, "reviewer"))
    assert client.post("/studio/crm/churn/win-back", data=FORM).status_code == 403


def test_win_back_respects_the_holdout(session, make_family, monkeypatch):
    monkeypatch.setitem(campaigns.CAMPAIGNS, "we_miss_you", dataclasses.replace(
        campaigns.CAMPAIGNS["we_miss_you"], holdout_share=1.0))
    user = customer(make_family, session, at(2026, 1, 5), last_seen=at(2026, 8, 1))
    staff = make_staff(session, "analyst")
    stats = campaigns.win_back(session, [user.id, staff.id, 10**9], NOW)
    assert (stats.recorded, stats.held_out, stats.pushed) == (1, 1, 0)
    assert _sends(session) == [(user.id, "2026-08-01", True)] and _deliveries(session) == 0


def test_win_back_refuses_bad_forms(client, login_as, session, drifting):
    login_as(make_staff(session, "analyst"))
    for bad in ({}, dict(FORM, max_p_alive="x"), dict(FORM, match="1 OR 1=1"),
                dict(FORM, inactive_days="99999")):
        assert client.post("/studio/crm/churn/win-back", data=bad).status_code == 400
    assert _sends(session) == []


# --- response, lift and interval -------------------------------------------------------------

def test_campaign_response_and_its_lift_by_hand(session, make_family):
    people = [customer(make_family, session, at(2026, 1, 5)) for _ in range(6)]
    sent_at = at(2026, 10, 1)
    sends = []
    for n, user in enumerate(people):
        send = CampaignSend(campaign="we_miss_you", user_id=user.id, child_id=0,
                            occurrence="2026-08-01", holdout=n >= 4, goal="visit",
                            goal_days=14, created_at=sent_at,
                            converted_at=sent_at + timedelta(days=2) if n in (0, 1) else None)
        session.add(send)
        sends.append(send)
    inbox = Delivery(user_id=people[0].id, child_id=0, item_key="campaign:we_miss_you",
                     channel="inbox", occurrence="we_miss_you:2026-08-01", status="sent")
    email = Delivery(user_id=people[1].id, child_id=0, item_key="campaign:we_miss_you",
                     channel="email", occurrence="we_miss_you:2026-08-01", status="sent")
    session.add_all([inbox, email])
    session.flush()
    sends[0].delivery_id = inbox.id
    session.add_all([
        InboxMessage(user_id=people[0].id, delivery_id=inbox.id, title="t", read_at=sent_at),
        EmailClick(delivery_id=email.id, user_id=people[1].id, url="/x", clicked_at=sent_at),
        Consent(user_id=people[2].id, kind="marketing", granted=False, policy_version="1",
                source="unsubscribe-link", recorded_at=sent_at + timedelta(days=3)),
        Consent(user_id=people[3].id, kind="marketing", granted=False, policy_version="1",
                source="unsubscribe-link", recorded_at=sent_at + timedelta(days=40))])
    session.commit()
    found = {r.key: r for r in response.by_campaign(session)}
    r = found["we_miss_you"]
    assert (r.sent, r.delivered, r.opened, r.clicked, r.converted, r.unsubscribed) == \
        (4, 2, 1, 1, 2, 1)
    assert (r.holdout, r.holdout_converted) == (2, 0)
    # conversion 2/4 against 0/2; variance of the sent arm 4/3 · (4 · 0.25) / 16 = 1/12
    se = math.sqrt(1 / 12)
    assert r.lift.difference == pytest.approx(0.5)
    assert r.lift.standard_error == pytest.approx(se)
    assert (r.lift.low, r.lift.high) == (pytest.approx(0.5 - 1.959964 * se),
                                         pytest.approx(0.5 + 1.959964 * se))
    assert found["baby_birthday"].sent == 0 and found["baby_birthday"].lift is None


def test_the_response_page_in_both_languages(client, login_as, session):
    login_as(make_staff(session, "analyst"))
    page = text(client.get("/studio/crm/response"))
    assert "We miss you" in page and "Needs sends and a holdout" in page
    assert "arrive with surveys" in page and "No journey has sent anything yet." in page
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    zh = text(client.get("/studio/crm/response"))
    assert "好久不见" in zh and "满意度" in zh


# --- pivot reports ---------------------------------------------------------------------------

@pytest.fixture()
def shop(session, make_family, product):  # noqa: F811
    high = customer(make_family, session, at(2026, 9, 1))
    low = customer(make_family, session, at(2026, 10, 1))
    none = customer(make_family, session, at(2026, 10, 2))
    score(session, high, 0.8, tier="high")
    score(session, low, 0.3, tier="low")
    buy(session, product, high, at(2026, 10, 5), 1000)
    buy(session, product, high, at(2026, 11, 5), 2000)
    buy(session, product, low, at(2026, 11, 6), 500)
    act(session, product, high, at(2026, 11, 7))
    session.add(Delivery(user_id=none.id, child_id=0, item_key="a", channel="email",
                         occurrence="x", status="sent"))
    staff = make_staff(session, "analyst")
    buy(session, product, staff, at(2026, 11, 6), 99999)  # staff are nobody's customer
    session.commit()
    return high, low, none


def run(session, **raw):
    result = pivot.run(session, pivot.parse(raw))
    return {k: v for k, v in result.cells.items()}


def test_pivots_against_hand_counts(session, shop):
    assert run(session, source="orders", rows="month", columns="tier",
               measure="sum_amount") == {("2026-10", "high"): 1000, ("2026-11", "high"): 2000,
                                         ("2026-11", "low"): 500}
    assert run(session, source="orders", rows="tier", measure="customers") == {
        ("high", ""): 1, ("low", ""): 1}
    assert run(session, source="orders", rows="tier", measure="count") == {
        ("high", ""): 2, ("low", ""): 1}
    assert run(session, source="interactions", rows="kind", measure="count") == {
        ("click", ""): 1, ("purchase", ""): 3}
    assert run(session, source="customers", rows="tier", measure="customers") == {
        ("", ""): 1, ("high", ""): 1, ("low", ""): 1}
    assert run(session, source="orders", rows="month", measure="sum_amount",
               filters={"tier": "high"}) == {("2026-10", ""): 1000, ("2026-11", ""): 2000}
    assert run(session, source="orders", rows="tier", measure="sum_quantity",
               filters={"month": "2026-11"}) == {("high", ""): 1, ("low", ""): 1}
    assert run(session, source="deliveries", rows="channel", columns="status",
               measure="count") == {("email", "sent"): 1}
    assert run(session, source="customers", rows="month", measure="customers") == {
        ("2026-09", ""): 1, ("2026-10", ""): 2}


@pytest.mark.parametrize("raw", [
    {"source": "users", "rows": "month", "measure": "count"},
    {"source": "orders", "rows": "password_hash", "measure": "count"},
    {"source": "orders", "rows": "month; DROP TABLE users", "measure": "count"},
    {"source": "orders", "rows": "month", "columns": "month", "measure": "count"},
    {"source": "orders", "rows": "month", "columns": "channel", "measure": "count"},
    {"source": "orders", "rows": "month", "measure": "sum_clv"},
    {"source": "orders", "rows": "month", "measure": "max(amount_minor)"},
    {"source": "orders", "rows": "month", "measure": "count", "filters": {"email": "a"}},
    {"source": "orders", "rows": "month", "measure": "count", "filters": {"month": "2026-13"}},
    {"source": "orders", "rows": "month", "measure": "count", "filters": {"tier": 1}},
    {"source": "orders", "rows": "month", "measure": "count", "filters": ["tier"]},
    {"source": ["orders"], "rows": "month", "measure": "count"},
])
def test_definitions_outside_the_whitelist_are_refused(raw):
    with pytest.raises(ValidationError):
        pivot.parse(raw)


def test_sql_in_filter_values_is_only_a_value(session, shop):
    assert run(session, source="orders", rows="tier", measure="count",
               filters={"tier": "high' OR '1'='1"}) == {}
    assert run(session, source="orders", rows="tier", measure="count",
               filters={"region": "x\"; DELETE FROM users; --"}) == {}
    assert session.scalar(select(func.count()).select_from(User)) >= 4


def test_the_reports_page_chart_table_and_errors(client, login_as, session, shop):
    login_as(make_staff(session, "analyst"))
    page = text(client.get("/studio/crm/reports"))  # the default: orders' amount by month × tier
    assert "<svg" in page and 'class="crm-chart-bar"' in page and "CN¥20.00" in page
    page = text(client.get("/studio/crm/reports?source=orders&rows=password_hash&measure=count"))
    assert "Choose rows this source has." in page and 'class="crm-chart-bar"' not in page
    bad = client.get("/studio/crm/reports/export.csv?source=orders&rows=id&measure=count")
    assert bad.status_code == 400


def test_csv_export_is_formula_safe(client, login_as, session, shop):
    high = shop[0]
    high.region_province = '=HYPERLINK("http://evil.example","x")'
    session.commit()
    login_as(make_staff(session, "analyst"))
    got = client.get("/studio/crm/reports/export.csv?source=orders&rows=region&columns=tier"
                     "&measure=count")
    assert got.status_code == 200 and got.mimetype == "text/csv"
    body = text(got)
    assert body.startswith("\ufeffregion,high,low")
    assert "'=HYPERLINK" in body and "\n=HYPERLINK" not in body


def test_saving_a_report_and_the_weekly_email_once_a_week(app, client, login_as, session, shop):
    analyst, other = make_staff(session, "analyst"), make_staff(session, "analyst")
    make_staff(session, "marketer")  # not an analyst: no email
    login_as(analyst)
    definition = {"source": "orders", "rows": "tier", "columns": None, "measure": "count",
                  "filters": {}}
    for hostile in ("not json", json.dumps({"source": "orders", "rows": "1=1"}), "[]"):
        assert client.post("/studio/crm/reports/save", data={
            "name": "x", "definition": hostile}).status_code == 400
    saved = client.post("/studio/crm/reports/save", data={
        "name": "  Orders   by tier ", "definition": json.dumps(definition)})
    assert saved.status_code == 303
    report = session.scalar(select(SavedReport))
    assert (report.name, report.definition, report.owner_id, report.weekly) == (
        "Orders by tier", definition, analyst.id, False)
    assert client.post(f"/studio/crm/reports/{report.id}/weekly",
                       data={"weekly": "on"}).status_code == 303
    session.expire_all()
    assert report.weekly is True
    analysts = sorted(session.scalars(select(User.email).where(User.staff_role == "analyst")))
    assert len(analysts) == 3 and {analyst.email, other.email} < set(analysts)
    assert reports.queue_weekly(session, NOW).queued == 3
    assert reports.queue_weekly(session, NOW + timedelta(days=3)).queued == 0  # same week
    session.commit()
    mails = list(session.scalars(select(AccountEmail).where(AccountEmail.kind == "crm_report")))
    assert sorted(m.to_address for m in mails) == analysts
    assert {m.payload["week"] for m in mails} == {"2026-W48"}
    from webapp import account_mail
    with app.test_request_context():
        email = account_mail.render(session, mails[0])
    assert email.subject == "Weekly report: Orders by tier"
    assert "high" in email.text and "/studio/crm/reports?" in email.text
    assert reports.queue_weekly(session, NOW + timedelta(days=7)).queued == 3  # next week
    assert session.scalar(select(func.count()).select_from(ReportMailing)) == 6
    assert client.post(f"/studio/crm/reports/{report.id}/delete").status_code == 303
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(SavedReport)) == 0
    with app.test_request_context():
        assert account_mail.render(session, mails[0]) is None  # deleted: nothing to send


def test_only_analysts_save_or_change_reports(client, login_as, session):
    login_as(make_staff(session, "marketer"))
    assert client.post("/studio/crm/reports/save", data={}).status_code == 403
    assert client.get("/studio/crm/reports").status_code == 403
    assert client.head("/studio/crm/cohorts").status_code == 403


# --- the reports database --------------------------------------------------------------------

def test_report_pages_read_the_reports_database_when_one_is_set(app, client, login_as,
                                                                session, tmp_path):
    import db

    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as other, other.begin():
            other.add(User(email="replica@example.com", password_hash="!", display_name="R",
                           member_no="BJ99999999", security_stamp="s" * 32,
                           created_at=at(2026, 9, 9)))
        login_as(make_staff(session, "analyst"))
        assert "2026-09" not in text(client.get("/studio/crm/cohorts"))
        app.config["REPORTS_DATABASE_URL"] = url
        page = text(client.get("/studio/crm/cohorts"))
        assert '<th scope="row" class="text-nowrap">2026-09</th>' in page
    finally:
        _close_reports_database(app, engine, drop)


def _close_reports_database(app, engine, drop) -> None:
    """Forget the app's reports session factory and remove the test's reports database."""
    factory = app.extensions.pop("reports_session_factory", None)
    if factory is not None:
        factory.kw["bind"].dispose()
    engine.dispose()
    drop()


def test_the_weekly_report_email_counts_from_the_reports_database_when_one_is_set(
        app, session, session_factory, mailer, make_family, tmp_path):
    """The report and its readers are the main database's; the figures the email shows are
    the reports database's (here a separate database holding other customers), as on the
    report pages, for the scheduler's send (no request around) and for a render."""
    import db
    from webapp import account_mail

    analyst = make_staff(session, "analyst")
    for _ in range(2):
        make_family()[0].region_province = "Primary-Province"
    session.add(SavedReport(name="Customers by region", owner_id=analyst.id, weekly=True,
                            created_at=NOW, definition={
                                "source": "customers", "rows": "region", "columns": None,
                                "measure": "customers", "filters": {}}))
    session.commit()
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    try:
        with db.make_session_factory(engine)() as other, other.begin():
            for n in range(3):
                other.add(User(email=f"replica{n}@example.com", password_hash="!",
                               display_name="R", member_no=f"BJ9999999{n}",
                               security_stamp="s" * 32, created_at=at(2026, 9, 9),
                               region_province="Replica-Province"))
        # Without the setting: the main database's figures.
        assert reports.queue_weekly(session, NOW).queued == 1
        session.commit()
        with app.test_request_context():
            email = account_mail.render(session, session.scalar(select(AccountEmail)))
        assert "Primary-Province: 2" in email.text and "Replica-Province" not in email.text

        app.config["REPORTS_DATABASE_URL"] = url
        with app.test_request_context():
            email = account_mail.render(session, session.scalar(select(AccountEmail)))
        assert "Replica-Province: 3" in email.text and "Primary-Province" not in email.text
        assert account_mail.send_due(app, session_factory)["sent"] == 1
        [sent] = mailer.sent
        assert sent.to == analyst.email and sent.subject == "Weekly report: Customers by region"
        assert "Replica-Province: 3" in sent.text and "Primary-Province" not in sent.text
    finally:
        _close_reports_database(app, engine, drop)
