"""Questions and complaints on the site (care.tickets, webapp/blueprints/tickets, the studio's
tickets): "Ask us", who sees which ticket, the staff's replies and notes, the emails and
replies by email, escalation, privacy requests, the report, and hostile input."""
from __future__ import annotations

import io
import re
from datetime import UTC, datetime, timedelta

import pytest
from PIL import Image
from sqlalchemy import func, select

from care import sla, tickets
from care.models import Ticket, TicketAttachment, TicketEvent, TicketMessage
from crm.models import ContactEvent
from diary.models import StaffAccess, User
from tests.web.helpers import png_bytes
from tests.web.test_studio import make_staff
from webapp import data_export, scheduler

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")  # Monday 12:00 in Shanghai

XSS = '<script>alert("x")</script><img src=x onerror=alert(1)>'


def ask(client, subject="The nappies leak", body="Since the new pack, every night.",
        category="complaint", **extra):
    data = {"category": category, "severity": "normal", "child_id": "", "subject": subject,
            "body": body, "from_path": "/library/help", **extra}
    response = client.post("/help/ask", data=data, content_type="multipart/form-data")
    assert response.status_code == 302, response.get_data(as_text=True)[:800]
    return int(response.headers["Location"].rsplit("/", 1)[1])


def open_direct(session, user, subject="Sleep question", category="question", now=None,
                policy=None):
    ticket = tickets.open_ticket(session, user, tickets.TicketInput(
        category, "normal", subject, "How long should a nap be?"),
        policy or sla.Policy(), now=now)
    session.commit()
    return ticket


def jpeg_with_gps() -> bytes:
    image = Image.new("RGB", (64, 48), (10, 200, 30))
    exif = Image.Exif()
    exif[0x010F] = "SpyCam"  # Make
    exif[0x8825] = {1: "N", 2: (31.0, 14.0, 0.0)}  # GPS
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif.tobytes())
    return out.getvalue()


# --- "Ask us" ----------------------------------------------------------------------------------

def test_the_help_page_has_ask_us_with_the_page_it_was_on(client, make_family, login_as):
    user, _ = make_family()
    login_as(user)
    page = client.get("/help").get_data(as_text=True)
    assert 'href="/help/ask?from=/help"' in page
    form = client.get("/help/ask?from=/library/articles/x%3Fy%3D1").get_data(as_text=True)
    assert 'name="from_path" type="hidden" value="/library/articles/x?y=1"' in form
    # the footer has a discreet link too, and the account page one to the parent's tickets
    assert 'href="/help/ask">' in page
    assert 'href="/help/tickets"' in client.get("/account").get_data(as_text=True)
    # the footer's link names no page: the page the parent came from (same site only) counts
    came = client.get("/help/ask", headers={"Referer": "http://localhost/children/1?x=2"})
    assert 'name="from_path" type="hidden" value="/children/1?x=2"' in came.get_data(as_text=True)
    for elsewhere in ("https://evil.example/children/1", "http://localhost.evil/x",
                      "javascript:alert(1)", "http://localhost//evil.example"):
        page = client.get("/help/ask", headers={"Referer": elsewhere}).get_data(as_text=True)
        assert 'name="from_path" type="hidden" value=""' in page, elsewhere


@pytest.mark.parametrize("hostile", [
    "https://evil.example/x", "//evil.example/x", "/\\evil.example", "\\\\evil.example",
    "javascript:alert(1)", "http:/evil.example", "/ok\nSet-Cookie: x=1", "evil.example/x",
    "/" + "a" * 600, " //evil.example",
])
def test_the_from_path_is_only_ever_a_same_site_path(client, session, make_family, login_as,
                                                    hostile):
    assert tickets.safe_path(hostile) == ""
    user, _ = make_family()
    login_as(user)
    form = client.get("/help/ask", query_string={"from": hostile}).get_data(as_text=True)
    assert 'name="from_path" type="hidden" value=""' in form
    ticket_id = ask(client, from_path=hostile)
    assert session.get(Ticket, ticket_id).from_path == ""
    assert "evil" not in client.get(f"/help/tickets/{ticket_id}").get_data(as_text=True)


def test_a_parent_opens_a_ticket_with_a_photo_and_its_promise(client, session, make_family,
                                                             login_as, app):
    user, child = make_family()
    login_as(user)
    ticket_id = ask(client, child_id=str(child.id),
                    photos=[(io.BytesIO(jpeg_with_gps()), "leak.jpg")])
    ticket = session.get(Ticket, ticket_id)
    assert (ticket.user_id, ticket.child_id, ticket.category, ticket.status,
            ticket.from_path) == (user.id, child.id, "complaint", "new", "/library/help")
    # a moment after Monday 12:00 in Shanghai + 24 business hours (6 + 9 + 9): the last
    # moment spills over Wednesday's closing into Thursday 09:00
    assert ticket.first_response_due_at == sla.due_at(ticket.opened_at, 24, sla.Calendar())
    assert timedelta(0) < ticket.first_response_due_at - \
        datetime(2026, 11, 26, 1, 0, tzinfo=UTC) < timedelta(minutes=1)
    [message] = ticket.messages
    [photo] = message.attachments
    full = client.get(f"/help/tickets/{ticket_id}/attachments/{photo.id}/full")
    assert full.status_code == 200 and full.mimetype == "image/jpeg"
    assert full.headers["Cache-Control"] == "private, no-store"
    stored = Image.open(io.BytesIO(full.get_data()))
    assert dict(stored.getexif()) == {}  # re-encoded: no camera, no location
    assert client.get(f"/help/tickets/{ticket_id}/attachments/{photo.id}/thumb"
                      ).status_code == 200
    # the opening is on the customer's contact history
    [event] = session.scalars(select(ContactEvent).where(ContactEvent.user_id == user.id))
    assert (event.source_kind, event.direction, event.outcome, event.channel) == \
        ("ticket", "inbound", "complaint", "ticket")


def test_not_a_photo_or_too_many_photos_are_refused_and_nothing_is_kept(
        client, session, make_family, login_as, app):
    user, _ = make_family()
    login_as(user)
    before = session.scalar(select(func.count(Ticket.id)))
    response = client.post("/help/ask", data={
        "category": "question", "severity": "normal", "subject": "x", "body": "y",
        "photos": [(io.BytesIO(b"%PDF-1.4 not an image"), "a.jpg")]},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "not a photo we can read" in response.get_data(as_text=True)
    response = client.post("/help/ask", data={
        "category": "question", "severity": "normal", "subject": "x", "body": "y",
        "photos": [(io.BytesIO(png_bytes()), f"{i}.png") for i in range(5)]},
        content_type="multipart/form-data")
    assert response.status_code == 400
    assert "Attach at most 4 photos." in response.get_data(as_text=True)
    assert session.scalar(select(func.count(Ticket.id))) == before
    assert list((app.config["UPLOAD_DIR"]).glob("*/*.jpg")) == []


def test_bad_choices_are_refused(client, session, make_family, login_as):
    user, _ = make_family()
    _, other_child = make_family()
    login_as(user)
    for field, value in (("category", "refund-now"), ("severity", "apocalyptic"),
                         ("child_id", str(other_child.id)),
                         ("subject", "Hi\nBcc: everyone@example.com")):
        data = {"category": "question", "severity": "normal", "subject": "s", "body": "b",
                field: value}
        assert client.post("/help/ask", data=data).status_code == 400, field
    assert session.scalar(select(func.count(Ticket.id)).where(Ticket.user_id == user.id)) == 0


# --- who sees what ---------------------------------------------------------------------------

def test_parents_see_only_their_own_tickets(client, session, make_family, login_as):
    anna, _ = make_family()
    bob, _ = make_family()
    login_as(anna)
    mine = ask(client, photos=[(io.BytesIO(png_bytes()), "a.png")])
    photo = session.scalar(select(TicketAttachment).where(TicketAttachment.ticket_id == mine))
    login_as(bob)
    theirs = ask(client, subject="Bob's own")
    listing = client.get("/help/tickets").get_data(as_text=True)
    assert "Bob&#39;s own" in listing and "The nappies leak" not in listing
    messages = session.scalar(select(func.count(TicketMessage.id)))
    for method, url in (("GET", f"/help/tickets/{mine}"),
                        ("POST", f"/help/tickets/{mine}/reply"),
                        ("GET", f"/help/tickets/{mine}/attachments/{photo.id}/full"),
                        ("GET", f"/help/tickets/{theirs}/attachments/{photo.id}/full"),
                        ("GET", f"/help/tickets/{mine}/attachments/{photo.id}/thumb"),
                        ("GET", "/help/tickets/999999"),
                        ("GET", f"/studio/tickets/{mine}"),
                        ("GET", f"/studio/tickets/{mine}/attachments/{photo.id}/full")):
        response = client.open(url, method=method, data={"body": "hijack"})
        assert response.status_code == 404, (method, url)
    assert session.scalar(select(func.count(TicketMessage.id))) == messages
    # signed out: sign in first
    client.post("/logout")
    assert client.get(f"/help/tickets/{mine}").status_code == 302
    assert client.get(f"/help/tickets/{mine}/attachments/{photo.id}/full").status_code == 302


@pytest.mark.parametrize(("role", "status"), [("marketer", 403), ("analyst", 403),
                                              ("reviewer", 403), ("service", 200),
                                              ("admin", 200)])
def test_the_queue_is_for_customer_service(client, session, make_family, login_as, role,
                                          status):
    user, _ = make_family()
    ticket = open_direct(session, user)
    login_as(make_staff(session, role))
    for url in ("/studio/tickets", f"/studio/tickets/{ticket.id}", "/studio/tickets/report",
                "/studio/tickets/canned"):
        assert client.get(url).status_code == status, url
    response = client.post(f"/studio/tickets/{ticket.id}/reply", data={"body": "hi",
                                                                       "status": "waiting"})
    assert response.status_code == (403 if status == 403 else 302)
    if role in ("service", "admin"):
        # staff answer tickets, they do not open them
        assert client.get("/help/ask").status_code == 404


# --- the conversation ------------------------------------------------------------------------

def test_a_staff_reply_is_emailed_and_seen_and_internal_notes_never_are(
        client, session, make_family, login_as, mailer, app):
    user, _ = make_family()
    login_as(user)
    ticket_id = ask(client)
    service = make_staff(session, "service", "Lin Service")
    login_as(service)
    assert client.post(f"/studio/tickets/{ticket_id}/note",
                       data={"body": "SECRET-NOTE: customer sounds upset"}).status_code == 302
    sent = len(mailer.sent)
    assert client.post(f"/studio/tickets/{ticket_id}/reply", data={
        "body": "Sorry! A new pack is on its way.", "status": "waiting"}).status_code == 302
    assert len(mailer.sent) == sent + 1  # the note sends nothing; the reply one email
    email = mailer.sent[-1]
    assert email.to == user.email and "A new pack is on its way." in email.text
    assert "SECRET-NOTE" not in email.text + (email.html or "")
    reply_to = dict(email.headers)["Reply-To"]
    assert re.fullmatch(rf"reply\+{ticket_id}-{user.id}-[0-9a-f]{{24}}@reply\.babyjourney\."
                        r"example", reply_to)
    link = re.search(r"http://localhost(/help/t/\S+)", email.text).group(1)
    ticket = session.get(Ticket, ticket_id)
    session.refresh(ticket)
    assert ticket.status == "waiting" and ticket.first_responded_at is not None
    # the parent follows the link and sees the reply, never the note
    login_as(user)
    opened = client.get(link)
    assert opened.status_code == 302 and opened.headers["Location"] == \
        f"/help/tickets/{ticket_id}"
    page = client.get(f"/help/tickets/{ticket_id}").get_data(as_text=True)
    assert "A new pack is on its way." in page and "SECRET-NOTE" not in page
    assert "Lin Service" not in page  # the team answers, not a named person
    # ... nor in their data export, nor in their contact history
    registry = data_export.build_registry()
    scope = __import__("diary.privacy", fromlist=["export_scope"]).export_scope(session, user)
    exported = registry.sections["tickets"].collect(session, scope)
    assert [m["text"] for m in exported[0]["messages"]] == [
        "Since the new pack, every night.", "Sorry! A new pack is on its way."]
    contacts = list(session.scalars(select(ContactEvent).where(
        ContactEvent.user_id == user.id).order_by(ContactEvent.id)))
    assert all("SECRET-NOTE" not in c.body for c in contacts)
    assert [c.direction for c in contacts] == ["inbound", "outbound", "internal"]
    assert len({c.source_id for c in contacts}) == 3
    assert all(c.source_kind == "ticket" for c in contacts)
    # the parent answers: back in progress
    assert client.post(f"/help/tickets/{ticket_id}/reply",
                       data={"body": "Thanks, got it."}).status_code == 302
    session.refresh(ticket)
    assert ticket.status == "in_progress"
    # a link made for someone else's ticket (or altered) opens nothing of theirs
    bob, _ = make_family()
    login_as(bob)
    assert client.get(link).headers["Location"] == f"/help/tickets/{ticket_id}"
    assert client.get(f"/help/tickets/{ticket_id}").status_code == 404
    assert client.get(link[:-1] + ("0" if link[-1] != "0" else "1")).headers["Location"] == \
        "/help/tickets"


def test_resolve_is_the_one_place_a_ticket_is_resolved(session, make_family):
    user, _ = make_family()
    service = make_staff(session, "service")
    ticket = open_direct(session, user)
    assert tickets.resolve(session, ticket, service) is ticket
    tickets.resolve(session, ticket, service)  # twice: nothing more
    session.commit()
    kinds = list(session.scalars(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id)))
    assert kinds == ["opened", "resolved"] and ticket.resolved_at is not None
    tickets.set_status(session, service, ticket, "in_progress")
    tickets.set_status(session, service, ticket, "resolved")
    assert ticket.status == "resolved"
    assert [k for k in session.scalars(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket.id))] == ["opened", "resolved", "status", "resolved"]


def test_assignment_to_a_department_and_an_agent(client, session, make_family, login_as):
    user, _ = make_family()
    ticket = open_direct(session, user)
    service = make_staff(session, "service")
    agent = make_staff(session, "service", "Agent Wu")
    login_as(service)
    assert client.post(f"/studio/tickets/{ticket.id}/assign", data={
        "department": "sales", "assignee_id": str(agent.id)}).status_code == 302
    session.refresh(ticket)
    assert (ticket.department, ticket.assignee_id, ticket.status) == \
        ("sales", agent.id, "in_progress")
    # a parent, or a department that is not one, cannot be the assignee
    assert client.post(f"/studio/tickets/{ticket.id}/assign", data={
        "department": "sales", "assignee_id": str(user.id)}).status_code == 400
    assert client.post(f"/studio/tickets/{ticket.id}/assign", data={
        "department": "account", "assignee_id": ""}).status_code == 400
    queue = client.get(f"/studio/tickets?assignee={agent.id}&department=sales")
    assert f"#{ticket.id} Sleep question" in queue.get_data(as_text=True)
    assert f"#{ticket.id} " not in client.get("/studio/tickets?assignee=none"
                                              ).get_data(as_text=True)
    event = session.scalar(select(ContactEvent).where(ContactEvent.user_id == user.id,
                                                      ContactEvent.body.like("sales%")))
    assert event is not None and event.author_id == service.id


def test_xss_in_subject_message_and_notes_is_escaped_everywhere(client, session, make_family,
                                                                login_as, mailer):
    user, _ = make_family()
    login_as(user)
    ticket_id = ask(client, subject=XSS[:150], body=XSS)
    service = make_staff(session, "service")
    login_as(service)
    client.post(f"/studio/tickets/{ticket_id}/note", data={"body": XSS})
    client.post(f"/studio/tickets/{ticket_id}/reply", data={"body": XSS, "status": "waiting"})
    pages = [client.get("/studio/tickets").get_data(as_text=True),
             client.get(f"/studio/tickets/{ticket_id}").get_data(as_text=True),
             client.get(f"/studio/customers/{user.id}").get_data(as_text=True),
             mailer.sent[-1].html]
    login_as(user)
    pages += [client.get("/help/tickets").get_data(as_text=True),
              client.get(f"/help/tickets/{ticket_id}").get_data(as_text=True)]
    for page in pages:
        assert "<script>alert" not in page and "<img src=x" not in page
        assert "&lt;script&gt;" in page


class TestCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_forms_without_the_token_change_nothing(self, app, session, make_family):
        user, _ = make_family()
        ticket = open_direct(session, user)
        service = make_staff(session, "service")
        for person, url, data in (
                (user, "/help/ask", {"category": "question", "severity": "normal",
                                     "subject": "s", "body": "b"}),
                (user, f"/help/tickets/{ticket.id}/reply", {"body": "b"}),
                (service, f"/studio/tickets/{ticket.id}/reply", {"body": "b",
                                                                 "status": "resolved"}),
                (service, f"/studio/tickets/{ticket.id}/note", {"body": "b"}),
                (service, f"/studio/tickets/{ticket.id}/status", {"status": "resolved"}),
                (service, "/studio/tickets/canned", {"title": "t", "body_en": "b"})):
            client = app.test_client()
            page = client.get("/login").get_data(as_text=True)
            token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
            assert client.post("/login", data={"email": person.email, "password": "correct "
                               "horse battery", "csrf_token": token}).status_code == 302
            assert client.post(url, data=data).status_code == 400, url
            assert client.post(url, data={**data, "csrf_token": "forged"}).status_code == 400
        session.expire_all()
        assert session.scalar(select(func.count(TicketMessage.id)).where(
            TicketMessage.ticket_id == ticket.id)) == 1
        assert session.get(Ticket, ticket.id).status == "new"
        assert session.scalar(select(func.count(Ticket.id)).where(
            Ticket.user_id == user.id)) == 1


# --- escalation, queue, report ---------------------------------------------------------------

def test_breached_tickets_are_escalated_exactly_once(app, session, session_factory,
                                                     make_family, clock_at):
    app.extensions["job_session_factory"] = session_factory
    lead = make_staff(session, "service", "Lead")
    app.config["TICKET_ESCALATION_LEAD"] = lead.email
    user, _ = make_family()
    late = open_direct(session, user, "Late one")
    answered = open_direct(session, user, "Answered")
    tickets.staff_reply(session, lead, answered, "Here you go.")
    session.commit()
    later = open_direct(session, user, "Opened later", now=datetime(2026, 11, 26, 2, tzinfo=UTC))
    clock_at("2026-11-26T01:05")  # 5 minutes past the first two's promise (Thu 09:00)
    scheduler.ticket_escalation_job(app)
    scheduler.ticket_escalation_job(app)  # a second run (or a second scheduler) adds nothing
    session.expire_all()
    events = list(session.scalars(select(TicketEvent).where(TicketEvent.kind == "escalated")))
    assert [e.ticket_id for e in events] == [late.id]
    late = session.get(Ticket, late.id)
    assert late.assignee_id == lead.id and late.escalated_at is not None
    assert session.get(Ticket, answered.id).escalated_at is None
    assert session.get(Ticket, later.id).escalated_at is None
    assert session.scalar(select(func.count(ContactEvent.id)).where(
        ContactEvent.source_id == str(events[0].id), ContactEvent.source_kind == "ticket")) == 1


def test_the_queue_shows_due_times_and_breaches_and_filters_them(client, session, make_family,
                                                                 login_as, clock_at):
    user, _ = make_family()
    old = open_direct(session, user, "Old one", now=datetime(2026, 11, 16, 4, tzinfo=UTC))
    soon = open_direct(session, user, "Soon due", now=datetime(2026, 11, 20, 4, tzinfo=UTC))
    fresh = open_direct(session, user, "Fresh one")
    service = make_staff(session, "service")
    login_as(service)
    page = client.get("/studio/tickets").get_data(as_text=True)
    assert page.index("Old one") < page.index("Soon due") < page.index("Fresh one")
    row = re.search(r'<tr class="table-danger">\s*<td><a href="/studio/tickets/(\d+)"', page)
    assert row and int(row.group(1)) == old.id
    # "Soon due": Friday 12:00 + 24 h → Wednesday... no: Fri 6 + Mon 9 + Tue 9 → Tue 18:00
    assert soon.first_response_due_at == datetime(2026, 11, 24, 10, tzinfo=UTC)
    assert "Due soon" not in page
    clock_at("2026-11-24T08:00")  # Tuesday 16:00: two business hours left
    login_as(service)  # a day later: the sign-in has ended
    page = client.get("/studio/tickets").get_data(as_text=True)
    assert re.search(rf'<tr class="table-warning">\s*<td><a href="/studio/tickets/{soon.id}"',
                     page)
    breached = client.get("/studio/tickets?breached=1").get_data(as_text=True)
    assert "Old one" in breached and "Soon due" not in breached and "Fresh one" not in breached
    assert fresh.id  # listed in the full queue above
    assert "Old one" not in client.get("/studio/tickets?status=resolved").get_data(as_text=True)
    # the queue is a read of customer data: recorded
    assert session.scalar(select(func.count(StaffAccess.id)).where(
        StaffAccess.what == "ticket_queue")) == 4


def test_the_report_counts_answers_in_time_and_the_median(client, session, make_family,
                                                          login_as):
    user, _ = make_family()
    service = make_staff(session, "service")
    monday = datetime(2026, 11, 2, 2, tzinfo=UTC)  # 10:00 in Shanghai
    quick = open_direct(session, user, "Quick", now=monday)
    tickets.staff_reply(session, service, quick, "Done", now=monday + timedelta(hours=2))
    slow = open_direct(session, user, "Slow", category="complaint", now=monday)
    tickets.staff_reply(session, service, slow, "Done", now=monday + timedelta(days=7))
    open_direct(session, user, "Never", category="complaint", now=monday)  # past due, open
    session.commit()
    result = tickets.report(session, sla.Policy(), datetime(2026, 11, 1, tzinfo=UTC),
                            datetime(2026, 12, 1, tzinfo=UTC))
    assert (result.total.opened, result.total.answered, result.total.due,
            result.total.in_time) == (3, 2, 3, 1)
    # business hours: 2 (quick), and a week later = 5 working days × 9 h = 45 (slow)
    assert result.total.median_hours == pytest.approx((2 + 45) / 2)
    by_category = {line.key: (line.opened, line.in_time, line.due) for line in result.by_category}
    assert by_category == {"question": (1, 1, 1), "complaint": (2, 0, 2)}
    assert [line.key for line in result.by_month] == ["2026-11"]
    login_as(service)
    page = client.get("/studio/tickets/report").get_data(as_text=True)
    assert "33 %" in page and "23.5 h" in page


def test_canned_replies_in_both_languages(client, session, make_family, login_as):
    user, _ = make_family()
    user.locale = "zh_CN"
    session.commit()
    ticket = open_direct(session, user)
    login_as(make_staff(session, "service"))
    assert client.post("/studio/tickets/canned", data={
        "title": "Thanks", "body_en": "Thank you for asking.",
        "body_zh": "谢谢您的提问。"}).status_code == 302
    assert client.post("/studio/tickets/canned", data={"title": "Empty"}).status_code == 400
    [reply] = tickets.canned_replies(session)
    page = client.get(f"/studio/tickets/{ticket.id}?canned={reply.id}").get_data(as_text=True)
    assert "谢谢您的提问。</textarea>" in page
    assert client.post(f"/studio/tickets/canned/{reply.id}/delete").status_code == 302
    assert tickets.canned_replies(session) == []


def test_the_customer_360_lists_the_tickets(client, session, make_family, login_as):
    user, _ = make_family()
    ticket = open_direct(session, user)
    login_as(make_staff(session, "service"))
    page = client.get(f"/studio/customers/{user.id}").get_data(as_text=True)
    assert f'href="/studio/tickets/{ticket.id}">#{ticket.id} Sleep question</a>' in page
    assert "How long should a nap be?" in page  # the opening, in the contact history
    assert "a former staff member" not in page  # the customer wrote it, not staff
    login_as(make_staff(session, "analyst"))
    page = client.get(f"/studio/customers/{user.id}").get_data(as_text=True)
    assert f"#{ticket.id} Sleep question" in page
    assert f'href="/studio/tickets/{ticket.id}"' not in page  # analysts do not open tickets


# --- replies by email ------------------------------------------------------------------------

def test_an_emailed_reply_is_threaded_once_by_its_message_id(client, session, make_family,
                                                             app):
    user, _ = make_family()
    ticket = open_direct(session, user)
    service = make_staff(session, "service")
    tickets.staff_reply(session, service, ticket, "Try a shorter nap.")
    _, key = tickets.create_integration(session, "mailgun")
    session.commit()
    with app.test_request_context():
        from webapp.tickets import reply_address, reply_token
        address = reply_address(reply_token(ticket.id, user))
    body = {"message_id": "<abc@mail.example>", "to": [address],
            "text": "It worked!\n\nOn Mon, Baby Journey wrote:\n> Try a shorter nap."}
    url = "/api/care/inbound-email"
    assert client.post(url, json=body).status_code == 401
    assert client.post(url, json=body, headers={"Authorization": "Bearer bjmail_nope"}
                       ).status_code == 401
    auth = {"Authorization": f"Bearer {key}"}
    first = client.post(url, json=body, headers=auth)
    assert first.status_code == 201 and first.get_json()["created"] is True
    again = client.post(url, json=body, headers=auth)
    assert again.status_code == 200 and again.get_json()["created"] is False
    session.expire_all()
    emailed = [m for m in session.get(Ticket, ticket.id).messages if m.via == "email"]
    assert [m.body for m in emailed] == ["It worked!"]
    assert session.get(Ticket, ticket.id).status == "in_progress"
    # a forged or altered address threads nothing
    forged = address.replace(f"reply+{ticket.id}-", f"reply+{ticket.id + 1}-")
    for to in (forged, "someone@example.com", address.replace("@", "0@")):
        response = client.post(url, json={**body, "message_id": f"<{to}>", "to": [to]},
                               headers=auth)
        assert response.status_code == 404, to
    assert client.post(url, json={**body, "message_id": ""}, headers=auth).status_code == 400
    assert client.post(url, data="not json", headers=auth).status_code == 400
    tickets.revoke_integration(session, "mailgun")
    session.commit()
    assert client.post(url, json=body, headers=auth).status_code == 401


# --- privacy requests ------------------------------------------------------------------------

def test_a_privacy_request_is_fulfilled_from_the_ticket(client, session, make_family,
                                                        login_as, mailer, app):
    user, _ = make_family()
    login_as(user)
    ticket_id = ask(client, category="privacy", subject="Delete my data",
                    photos=[(io.BytesIO(png_bytes()), "a.png")])
    key = session.scalar(select(TicketAttachment.storage_key))
    question = open_direct(session, user)
    service = make_staff(session, "service")
    login_as(service)
    url = f"/studio/tickets/{ticket_id}/privacy"
    assert client.post(f"{url}/export", data={}).status_code == 400  # not confirmed
    assert client.post(f"/studio/tickets/{question.id}/privacy/export",
                       data={"confirm": "y"}).status_code == 400  # not a privacy request
    assert client.post(f"{url}/export", data={"confirm": "y"}).status_code == 302
    reply, survey = mailer.sent[-2:]  # the answer, then "how did we do?" (resolved)
    assert "/account#your-data" in reply.text
    assert survey.subject == "A quick question from Baby Journey"
    assert session.get(Ticket, ticket_id).status == "resolved"
    assert client.post(f"{url}/delete", data={"confirm": "y"}).status_code == 400
    assert client.post(f"{url}/delete", data={"confirm": "y", "member_no": "BJ00000000"}
                       ).status_code == 400
    assert session.get(User, user.id) is not None
    kinds = list(session.scalars(select(TicketEvent.kind).where(
        TicketEvent.ticket_id == ticket_id)))
    assert "privacy_export" in kinds
    store = app.extensions["photo_store"]
    assert store.path(key, "full").exists()
    member_no, user_id = user.member_no, user.id
    assert client.post(f"{url}/delete", data={"confirm": "y", "member_no": member_no.lower()}
                       ).status_code == 302
    session.expire_all()
    assert session.get(User, user_id) is None
    assert session.get(Ticket, ticket_id) is None  # the tickets went with the account
    assert not store.path(key, "full").exists()
    recorded = list(session.scalars(select(StaffAccess.what).where(
        StaffAccess.staff_user_id == service.id, StaffAccess.what == "ticket_privacy")))
    assert recorded == ["ticket_privacy", "ticket_privacy"]


def test_deleting_the_account_on_the_account_page_removes_ticket_photos(
        client, session, make_family, login_as, app):
    user, _ = make_family()
    login_as(user)
    ask(client, photos=[(io.BytesIO(png_bytes()), "a.png")])
    key = session.scalar(select(TicketAttachment.storage_key))
    assert client.post("/account/delete", data={"current_password": "correct horse battery",
                                                "confirm": "y"}).status_code == 302
    assert not app.extensions["photo_store"].path(key, "full").exists()


# --- demo data -------------------------------------------------------------------------------

def test_demo_tickets_fill_the_board_once(client, session, make_family, login_as, app):
    from care import demo
    from webapp.tickets import policy_from

    service = make_staff(session, "service")
    service.email = demo.SERVICE_EMAIL
    parents = {email: make_family(email=email)[0] for email in (
        demo.MAIN_PARENT, "demo.expecting@example.com", "demo.preterm@example.com",
        "demo.twins@example.com")}
    session.commit()
    policy = policy_from(app.config)
    now = datetime(2026, 11, 23, 4, tzinfo=UTC)
    assert demo.load(session, policy, now) == 9
    assert demo.load(session, policy, now) == 0  # nothing twice
    session.commit()
    statuses = [t.status for t in session.scalars(select(Ticket))]
    assert {s: statuses.count(s) for s in set(statuses)} == {
        "new": 2, "in_progress": 2, "waiting": 2, "resolved": 3}
    main = session.scalar(select(Ticket).where(Ticket.user_id == parents[demo.MAIN_PARENT].id))
    assert [(m.author_kind, m.staff_id) for m in main.messages] == [
        ("customer", None), ("staff", service.id), ("customer", None)]
    rows = tickets.queue(session, tickets.Filters(status="open"), policy, now)
    assert [r.ticket.subject for r in rows if r.clock.breached and
            r.ticket.first_responded_at is None] == ["Wipes pack arrived torn"]
    assert [r.ticket.subject for r in rows if r.clock.near] == ["成长曲线显示不对"]
    assert len(tickets.canned_replies(session)) == 3
    login_as(service)
    page = client.get("/studio/tickets").get_data(as_text=True)
    assert "Promise broken" in page and "Due soon" in page


@pytest.mark.parametrize(("setting", "value"), [
    ("TICKET_BUSINESS_HOURS", "9 to 5"), ("TICKET_BUSINESS_HOURS", "18:00-09:00"),
    ("TICKET_TIMEZONE", "Mars/Olympus"), ("TICKET_BUSINESS_DAYS", ""),
    ("TICKET_HOLIDAYS", "2026-13-01"), ("TICKET_FIRST_RESPONSE_HOURS_BY_CATEGORY", "privacy")])
def test_a_bad_promise_setting_stops_the_app_at_start(session_factory, tmp_path, setting,
                                                      value):
    from webapp import create_app

    with pytest.raises(Exception) as raised:  # noqa: PT011 - ValueError or ZoneInfo's
        create_app("testing", SESSION_FACTORY=session_factory, UPLOAD_DIR=tmp_path,
                   **{setting: value})
    assert isinstance(raised.value, (ValueError, LookupError))


def test_the_promise_follows_the_settings(app, session, make_family):
    from webapp.tickets import policy_from

    settings = dict(app.config, TICKET_FIRST_RESPONSE_HOURS="8",
                    TICKET_FIRST_RESPONSE_HOURS_BY_CATEGORY="privacy=72",
                    TICKET_BUSINESS_HOURS="10:00-16:00", TICKET_BUSINESS_DAYS="0-5",
                    TICKET_TIMEZONE="Europe/London", TICKET_HOLIDAYS="2026-11-24")
    policy = policy_from(settings)
    assert (policy.hours_for("question"), policy.hours_for("privacy")) == (8.0, 72.0)
    user, _ = make_family()
    ticket = open_direct(session, user, now=datetime(2026, 11, 23, 15, tzinfo=UTC),
                         policy=policy)
    # Monday 15:00 London: 1 h, Tuesday a holiday, Wednesday 6 h, Thursday 1 h → 11:00
    assert ticket.first_response_due_at == datetime(2026, 11, 26, 11, tzinfo=UTC)


def test_inbound_integration_keys_from_the_command_line(runner, session):
    made = runner.invoke(args=["care", "inbound-integration", "create", "mailgun"])
    assert made.exit_code == 0, made.output
    key = made.output.splitlines()[1]
    assert key.startswith("bjmail_")
    assert tickets.integration_for_key(session, key) is not None
    again = runner.invoke(args=["care", "inbound-integration", "create", "mailgun"])
    assert again.exit_code == 1 and "already an integration" in again.output
    assert runner.invoke(args=["care", "inbound-integration", "revoke", "mailgun"]
                         ).exit_code == 0
    session.expire_all()
    assert tickets.integration_for_key(session, key) is None
    assert runner.invoke(args=["care", "inbound-integration", "revoke", "mailgun"]
                         ).exit_code == 1
