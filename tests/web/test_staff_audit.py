"""Staff reads of customer data are recorded; look-ups are POSTs; admins read the log."""
from __future__ import annotations

import csv
import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, select, update

from diary import invitations, privacy
from diary.models import Membership, User
from journeys.models import Delivery
from tests.conftest import PASSWORD
from tests.web.test_data_export import familyless, join
from tests.web.test_studio import make_staff, page_text


def accesses(session):
    from diary.models import StaffAccess
    session.expire_all()
    return list(session.scalars(select(StaffAccess).order_by(StaffAccess.id)))


def people(access):
    return sorted(s.member_no for s in access.subjects if s.member_no)


def families_of(access):
    return sorted(s.family_id for s in access.subjects if s.family_id)


def every_value(session):
    """Every value stored in the log, as text (to prove what is never in it)."""
    from diary.models import StaffAccess, StaffAccessSubject
    rows = list(session.scalars(select(StaffAccess))) + \
        list(session.scalars(select(StaffAccessSubject)))
    return " ".join(str(getattr(r, c.key)) for r in rows for c in r.__table__.columns)


@pytest.fixture()
def analyst(session):
    return make_staff(session, "analyst", "Ana Analyst")


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Marketer")


@pytest.fixture()
def admin(session):
    return make_staff(session, "admin", "Ada Admin")


@pytest.fixture()
def family(session, make_family):
    """A mother (owner) and a father (editor who joined by invitation) with one baby."""
    mother, child = make_family(email="mother@example.com", name="Lily")
    father = familyless(session, "father@example.com")
    join(session, mother, child.family, father, "editor", "father")
    return mother, father, child


# --- the family look-up ----------------------------------------------------------------------

def test_a_look_up_by_email_is_a_post_and_the_address_is_never_in_a_url_or_the_log(
        client, session, login_as, analyst, family):
    mother, father, child = family
    login_as(analyst)
    old_link = client.get("/studio/families", query_string={"q": mother.email})
    assert old_link.status_code == 200  # a GET only shows the form
    assert mother.member_no not in page_text(old_link) and "Lily" not in page_text(old_link)
    assert accesses(session) == []
    form = page_text(client.get("/studio/families"))
    assert re.search(r'<form method="post" action="/studio/families"', form)

    response = client.post("/studio/families", data={"q": f"  {mother.email.upper()} "},
                           headers={"X-Request-ID": "req-0123456789"})
    assert response.status_code == 303
    assert response.headers["Location"] == f"/studio/families/members/{mother.id}"
    page = page_text(client.get(response.headers["Location"]))
    assert mother.email in page and father.member_no in page and "Lily" in page

    lookup, view = accesses(session)
    assert (lookup.what, lookup.method, lookup.route, lookup.path) == \
        ("family_lookup", "POST", "/studio/families", "/studio/families")
    assert (lookup.search_kind, lookup.search_term) == ("email", None)
    assert (lookup.staff_user_id, lookup.staff_member_no, lookup.staff_role) == \
        (analyst.id, analyst.member_no, "analyst")
    assert (lookup.request_id, lookup.ip) == ("req-0123456789", "127.0.0.1")
    assert people(lookup) == [mother.member_no] and families_of(lookup) == []
    assert (view.what, view.method, view.route, view.path) == (
        "family_journey", "GET", "/studio/families/members/<int:user_id>",
        f"/studio/families/members/{mother.id}")
    assert people(view) == sorted([mother.member_no, father.member_no])
    assert families_of(view) == [child.family.id]
    assert re.fullmatch(r"[0-9a-f]{32}", view.request_id)  # made up when none was given
    assert lookup.at.tzinfo is not None and lookup.at <= view.at
    stored = every_value(session).lower()
    assert "mother@example.com" not in stored and "@" not in stored


def test_look_ups_by_number_unknown_and_malformed(client, session, login_as, marketer,
                                                  family):
    mother, _, _ = family
    login_as(marketer)
    assert client.post("/studio/families",
                       data={"q": mother.member_no.lower()}).status_code == 303
    missing = client.post("/studio/families", data={"q": "BJ00000000"})
    assert missing.status_code == 200
    assert "No member has that number or email." in page_text(missing)
    nobody = client.post("/studio/families", data={"q": "nobody@example.com"})
    assert "No member has that number or email." in page_text(nobody)
    nonsense = client.post("/studio/families", data={"q": "Lily"})
    assert "Type a member number (BJ followed by 8 digits) or an email address." in \
        page_text(nonsense)
    rows = accesses(session)
    assert [(a.what, a.search_kind, a.search_term, people(a)) for a in rows] == [
        ("family_lookup", "member_no", mother.member_no, [mother.member_no]),
        ("family_lookup", "member_no", "BJ00000000", []),
        ("family_lookup", "email", None, []),
    ]  # a name is not a search: nothing was looked up, nothing recorded


def test_the_family_page_records_former_caregivers_who_received_deliveries(
        client, session, login_as, analyst, family):
    mother, father, child = family
    session.add(Delivery(user_id=father.id, child_id=child.id, item_key="article:x",
                         channel="inbox", occurrence="j1:pw-1", status="sent"))
    membership = session.scalar(select(Membership).where(Membership.user_id == father.id))
    invitations.remove_member(session, membership)
    session.commit()
    login_as(analyst)
    page = page_text(client.get(f"/studio/families/members/{mother.id}"))
    assert father.display_name in page  # shown as a delivery's recipient
    [view] = accesses(session)
    assert people(view) == sorted([mother.member_no, father.member_no])


def test_unknown_members_are_404_and_not_recorded(client, session, login_as, analyst):
    login_as(analyst)
    assert client.get("/studio/families/members/999999").status_code == 404
    assert accesses(session) == []


def test_a_read_whose_record_fails_is_refused(client, session, login_as, analyst, family,
                                              monkeypatch):
    from diary import staff_audit
    mother, _, _ = family

    def broken(*args, **kwargs):
        raise RuntimeError("audit table is gone")

    monkeypatch.setattr(staff_audit, "record", broken)
    login_as(analyst)
    page = client.get(f"/studio/families/members/{mother.id}")
    assert page.status_code == 503
    text = page_text(page)
    assert "your access to it could not be recorded, so it is not shown" in text
    assert mother.email not in text and mother.member_no not in text and "Lily" not in text
    lookup = client.post("/studio/families", data={"q": mother.email})
    assert lookup.status_code == 503 and "Location" not in lookup.headers
    assert mother.member_no not in page_text(lookup)


class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_a_look_up_needs_the_form_token(self, client, session, analyst, family):
        mother, _, _ = family
        token = page_text(client.get("/login")).split(
            'name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": analyst.email, "password": PASSWORD,
                                    "csrf_token": token})
        assert client.post("/studio/families", data={"q": mother.email}).status_code == 400
        assert accesses(session) == []
        form = page_text(client.get("/studio/families"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', form).group(1)
        ok = client.post("/studio/families", data={"q": mother.email, "csrf_token": token})
        assert ok.status_code == 303


# --- the outbox ------------------------------------------------------------------------------

def test_the_outbox_records_whose_addresses_it_shows(client, session, login_as, marketer,
                                                    family, make_family):
    mother, father, child = family
    stranger, _ = make_family(email="stranger@example.com")
    for user, status in ((mother, "dead"), (father, "failed"), (stranger, "sent")):
        session.add(Delivery(user_id=user.id, child_id=0, item_key="digest:2026-W48",
                             channel="email", occurrence="2026-W48", status=status,
                             attempts=5, last_error="550 mailbox unavailable"))
    session.commit()
    login_as(marketer)
    listing = page_text(client.get("/studio/outbox"))
    assert mother.email in listing and father.email in listing
    assert stranger.email not in listing
    [outbox] = accesses(session)
    assert (outbox.what, outbox.route, outbox.staff_role) == ("outbox", "/studio/outbox",
                                                             "marketer")
    assert people(outbox) == sorted([mother.member_no, father.member_no])


def test_preview_as_a_family_shows_no_real_family_and_is_not_recorded(client, session,
                                                                      login_as, marketer):
    login_as(marketer)
    assert client.get("/studio/preview-as-family").status_code == 200
    assert accesses(session) == []


# --- the log, for admins ---------------------------------------------------------------------

def test_the_log_is_for_admins_only(client, session, login_as, make_family, analyst,
                                    marketer):
    reviewer = make_staff(session, "reviewer")
    urls = ["/studio/audit", "/studio/audit/export.csv",
            "/studio/audit?member=BJ12345678&page=2"]
    for url in urls:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]
    parent, _ = make_family()
    login_as(parent)
    assert [client.get(url).status_code for url in urls] == [404] * 3
    for staff in (analyst, marketer, reviewer):
        login_as(staff)
        assert [client.get(url).status_code for url in urls] == [403] * 3, staff.staff_role
        assert 'href="/studio/audit"' not in page_text(client.get("/studio/journeys"))
    assert accesses(session) == []


def test_nothing_in_the_app_changes_or_deletes_the_log(client, session, login_as, admin,
                                                       analyst, family):
    from diary.models import StaffAccess, StaffAccessSubject
    from diary.models.audit import AppendOnly
    mother, _, _ = family
    login_as(analyst)
    client.get(f"/studio/families/members/{mother.id}")
    login_as(admin)
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert client.open("/studio/audit", method=method).status_code == 405, method
    [row] = accesses(session)
    row.what = "nothing"
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()
    [row] = accesses(session)
    session.delete(row)
    with pytest.raises(AppendOnly):
        session.flush()
    session.rollback()
    for statement in (delete(StaffAccessSubject), update(StaffAccess).values(what="x"),
                      delete(StaffAccess)):
        with pytest.raises(AppendOnly):
            session.execute(statement)
        session.rollback()
    # the customer leaves: what was recorded stays, with the member number they had
    number = mother.member_no
    privacy.delete_account(session, session.get(User, mother.id))
    session.commit()
    [row] = accesses(session)
    assert row.what == "family_journey" and number in people(row)


def record(session, staff, what, at, users=(), families=(), kind=None, term=None):
    from diary import staff_audit
    where = staff_audit.Where("GET", "/x", "/x", "test-request-id")
    staff_audit.record(session, staff, what, where, users=users, families=families,
                       kind=kind, term=term, now=at)


def table_rows(response):
    body = page_text(response).split("<tbody>", 1)[-1].split("</tbody>", 1)[0]
    return re.findall(r"<tr>(.*?)</tr>", body, re.S)


@pytest.mark.clock_at("2026-12-01T04:00")
def test_admins_search_the_log_by_staff_customer_kind_and_local_dates(
        client, session, login_as, admin, analyst, marketer, family):
    mother, father, child = family
    t0 = datetime(2026, 11, 20, 15, 30, tzinfo=UTC)  # Nov 20 23:30 in Shanghai
    record(session, analyst, "family_lookup", t0, [mother], kind="email", term=mother.email)
    record(session, analyst, "family_journey", t0 + timedelta(hours=1), [mother, father],
           [child.family])  # Nov 21 00:30 in Shanghai
    record(session, marketer, "outbox", t0 + timedelta(days=2), [father])
    session.commit()
    login_as(admin)

    def shown(**args):
        response = client.get("/studio/audit", query_string=args)
        assert response.status_code == 200, page_text(response)[:300]
        found = [re.search(r"<code>(BJ\d+)</code> <span", r).group(1) for r in
                 table_rows(response)]
        return [n for n in found if n != admin.member_no]  # not the admin's own reads

    everything = client.get("/studio/audit")
    assert "3 accesses" in page_text(everything)
    assert shown() == [marketer.member_no, analyst.member_no, analyst.member_no]
    assert shown(staff=str(analyst.id)) == [analyst.member_no] * 2
    assert shown(member=father.member_no.lower()) == [marketer.member_no, analyst.member_no]
    assert shown(what="family_lookup") == [analyst.member_no]
    # dates are the admin's own (Shanghai): Nov 21 holds the second read, not the first
    assert shown(since="2026-11-21", until="2026-11-21") == [analyst.member_no]
    assert shown(until="2026-11-20") == [analyst.member_no]
    assert shown(since="2026-11-22") == [marketer.member_no]
    bad = client.get("/studio/audit", query_string={"member": "mother@example.com"})
    assert bad.status_code == 400 and "Member numbers look like BJ12345678." in page_text(bad)
    assert "mother@example.com" not in every_value(session)
    reads = [a for a in accesses(session) if a.what == "audit_log"]
    assert len(reads) == 8  # every successful read of the log is recorded
    assert [(a.search_kind, a.search_term) for a in reads if a.search_term] == \
        [("member_no", father.member_no)]
    assert reads[0].staff_user_id == admin.id and reads[0].route == "/studio/audit"


def test_the_log_pages_fifty_at_a_time(client, session, login_as, admin, analyst, family):
    mother, _, _ = family
    t0 = datetime(2026, 11, 1, 8, 0, tzinfo=UTC)
    for i in range(53):
        record(session, analyst, "family_journey", t0 + timedelta(minutes=i), [mother])
    session.commit()
    login_as(admin)
    first = client.get("/studio/audit", query_string={"staff": str(analyst.id)})
    assert len(table_rows(first)) == 50
    assert f'href="/studio/audit?staff={analyst.id}&amp;page=2"' in page_text(first)
    second = client.get("/studio/audit", query_string={"staff": str(analyst.id), "page": 2})
    assert len(table_rows(second)) == 3
    assert len(table_rows(client.get("/studio/audit", query_string={
        "staff": str(analyst.id), "page": 99}))) == 3  # past the end: the last page


def test_the_log_downloads_as_formula_safe_streamed_csv(client, session, login_as, admin,
                                                        analyst, family):
    mother, father, child = family
    login_as(analyst)
    client.get(f"/studio/families/members/{mother.id}",
               headers={"X-Request-ID": "-cmd-calc-0001"})
    login_as(admin)
    response = client.get("/studio/audit/export.csv",
                          query_string={"member": mother.member_no})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    assert response.is_streamed
    assert "attachment" in response.headers["Content-Disposition"]
    text = response.get_data(as_text=True)
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    assert [r["what"] for r in rows] == ["audit_export", "family_journey"]  # newest first
    assert (rows[0]["staff_member_no"], rows[0]["search_term"]) == \
        (admin.member_no, mother.member_no)  # this download, recorded before it streamed
    row = rows[1]
    assert row["request_id"] == "'-cmd-calc-0001"  # a header the client chose: escaped
    assert row["what"] == "family_journey" and row["staff_member_no"] == analyst.member_no
    assert row["customer_member_nos"].split() == [mother.member_no, father.member_no]
    assert row["family_ids"] == str(child.family.id)
    assert row["path"] == f"/studio/families/members/{mother.id}"
    export = accesses(session)[-1]
    assert (export.what, export.search_term) == ("audit_export", mother.member_no)


@pytest.mark.parametrize("args", [
    {"staff": "abc"}, {"staff": "999999"}, {"since": "2026-13-45"}, {"until": "yesterday"},
    {"member": "BJ1234567890123"}, {"member": "=cmd|' /C calc'!A0"}, {"what": "everything"},
])
def test_hostile_filters_are_refused_and_not_recorded(client, session, login_as, admin, args):
    login_as(admin)
    assert client.get("/studio/audit", query_string=args).status_code == 400
    assert client.get("/studio/audit/export.csv", query_string=args).status_code == 400
    assert accesses(session) == []


def test_odd_pages_and_request_ids_are_harmless(client, session, login_as, admin):
    login_as(admin)
    for page in ("-5", "0", "x", "10**9"):
        assert client.get("/studio/audit", query_string={"page": page}).status_code == 200
    client.get("/studio/audit", headers={"X-Request-ID": "x" * 500})
    client.get("/studio/audit", headers={"X-Request-ID": "<script>alert(1)</script>"})
    rows = accesses(session)
    assert len(rows) == 6
    assert all(re.fullmatch(r"[0-9a-f]{32}", a.request_id) for a in rows[-2:])
