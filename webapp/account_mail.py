"""Rendering and sending the account email queue (`diary.account_mail`).

Views only queue (in their transaction). What was queued during a request is sent after the
response has gone out (`response.call_on_close`), so the answer takes the same time whether
or not an email was due; in the test configuration it is sent before the view returns, so
tests can read it. The scheduler's job sends anything left over (a mail server that was down,
a worker that died) with backoff.

Links are signed here, at send time, from the ids in the row: the queue never holds a token.
"""
from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from flask import Flask, current_app, g, has_request_context, render_template
from flask_babel import force_locale, gettext
from sqlalchemy import event
from sqlalchemy.orm import Session

from clock import utcnow
from diary import account_mail as queue
from diary import accounts, invitations
from diary.locales import reading_locale
from diary.models import AccountEmail, Invitation, User
from journeys import unsubscribe
from journeys.digests.headers import unsubscribe_headers, unsubscribe_mailto
from mailer import Email, is_permanent_refusal
from webapp.database import get_session, reports_session_or
from webapp.services import site_url_for

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Message:
    subject: str
    template: str  # emails/<template>.txt and .html
    context: dict[str, Any]
    headers: tuple[tuple[str, str], ...] = ()  # e.g. Reply-To


#: (session, row) → the message, or None when there is nothing to send any more (the
#: invitation was withdrawn, the account is gone or has another address now).
Renderer = Callable[[Session, AccountEmail], Message | None]
RENDERERS: dict[str, Renderer] = {}


def renders(kind: str) -> Callable[[Renderer], Renderer]:
    def register(func: Renderer) -> Renderer:
        RENDERERS[kind] = func
        return func
    return register


def _user(session: Session, row: AccountEmail) -> User | None:
    user = session.get(User, row.user_id) if row.user_id is not None else None
    return user if user is not None and user.is_active else None


def _secret() -> str:
    return current_app.config["SECRET_KEY"]


@renders(queue.VERIFY_ADDRESS)
def _verify(session: Session, row: AccountEmail) -> Message | None:
    user = _user(session, row)
    if user is None:
        return None
    change = bool(row.payload.get("change"))
    if not change and user.email != row.to_address:
        return None  # the account has moved to another address since
    link = site_url_for("auth.verify_email",
                        token=accounts.make_verify_token(user, _secret(), row.to_address))
    subject = gettext("Confirm your new email address for Baby Journey") if change \
        else gettext("Confirm your email address for Baby Journey")
    return Message(subject, "verify", {"name": user.display_name, "link": link,
                                       "change": change, "days": 7})


@renders(queue.ADDRESS_IN_USE)
def _in_use(session: Session, row: AccountEmail) -> Message | None:
    return Message(gettext("Your Baby Journey account"), "address_in_use", {
        "name": row.payload.get("name") or "", "login": site_url_for("auth.login"),
        "forgot": site_url_for("auth.forgot_password")})


@renders(queue.RESET_PASSWORD)
def _reset(session: Session, row: AccountEmail) -> Message | None:
    user = _user(session, row)
    if user is None or user.email != row.to_address:
        return None
    link = site_url_for("auth.reset_password",
                        token=accounts.make_reset_token(user, _secret()))
    return Message(gettext("Reset your Baby Journey password"), "reset",
                   {"user": user, "link": link})


@renders(queue.INVITATION)
def _invitation(session: Session, row: AccountEmail) -> Message | None:
    invitation = session.get(Invitation, row.invitation_id) \
        if row.invitation_id is not None else None
    if invitation is None or not invitation.is_open:
        return None
    link = site_url_for("auth.join",
                        token=invitations.invitation_token(invitation, _secret()))
    # The subject is ours alone: an inviter's name is free text, and a subject line is
    # where a stranger's words would look most like ours.
    return Message(gettext("You are invited to a baby's book on Baby Journey"), "invitation", {
        "inviter": row.payload.get("inviter") or "", "link": link,
        "children": [c.name for c in invitation.family.children]})


@renders(queue.ADDRESS_CHANGING)
def _changing(session: Session, row: AccountEmail) -> Message | None:
    return Message(gettext("A change of your Baby Journey email address was asked for"),
                   "address_change", {"name": row.payload.get("name") or "", "done": False,
                                      "new_address": row.payload.get("new_address") or "",
                                      "forgot": site_url_for("auth.forgot_password")})


@renders(queue.ADDRESS_CHANGED)
def _changed(session: Session, row: AccountEmail) -> Message | None:
    return Message(gettext("Your Baby Journey email address was changed"), "address_change", {
        "name": row.payload.get("name") or "", "done": True,
        "new_address": row.payload.get("new_address") or "",
        "forgot": site_url_for("auth.forgot_password")})


@renders(queue.FAMILY_OWNER)
def _owner(session: Session, row: AccountEmail) -> Message | None:
    user = _user(session, row)
    if user is None:
        return None
    return Message(gettext("You now look after a baby's book on Baby Journey"), "family_owner", {
        "name": user.display_name, "family": row.payload.get("family") or "",
        "former": row.payload.get("former") or "", "link": site_url_for("family.index")})


@renders(queue.CRM_REPORT)
def _crm_report(session: Session, row: AccountEmail) -> Message | None:
    """A saved pivot report, with this moment's numbers from the reports database (nothing,
    when the report was deleted or taken off the weekly email, or the person is no analyst
    any more)."""
    from crm import pivot
    from crm.models import SavedReport
    from diary.errors import ValidationError
    from webapp.blueprints.studio.crm_analysis.routes import report_args

    user = _user(session, row)
    report_id = row.payload.get("report_id")
    report = session.get(SavedReport, report_id) if isinstance(report_id, int) else None
    if user is None or user.staff_role not in ("analyst", "admin") or report is None \
            or not report.weekly:
        return None
    try:
        definition = pivot.parse(report.definition)
    except ValidationError:
        return None
    # The figures come from the reports database (REPORTS_DATABASE_URL, a read replica) when
    # one is set, as on the report pages; the report and its reader are the main one's.
    result = pivot.run(reports_session_or(session), definition)
    return Message(gettext("Weekly report: %(name)s", name=report.name), "crm_report", {
        "name": user.display_name, "report": report.name, "week": row.payload.get("week"),
        "result": result, "definition": definition, "rows": result.rows[:EMAIL_REPORT_ROWS],
        "more": max(0, len(result.rows) - EMAIL_REPORT_ROWS),
        "link": site_url_for("studio.crm_analysis.reports_page", **report_args(definition))})


EMAIL_REPORT_ROWS = 50


@renders(queue.TICKET_REPLY)
def _ticket_reply(session: Session, row: AccountEmail) -> Message | None:
    """Staff answered a ticket: the answer, a signed link that opens the ticket, and a
    Reply-To address whose signed token threads an emailed answer onto it."""
    from care.models import Ticket, TicketMessage
    from webapp import tickets

    user = _user(session, row)
    ticket = session.get(Ticket, row.payload.get("ticket_id")) \
        if isinstance(row.payload.get("ticket_id"), int) else None
    reply = session.get(TicketMessage, row.payload.get("message_id")) \
        if isinstance(row.payload.get("message_id"), int) else None
    if user is None or ticket is None or ticket.user_id != user.id or reply is None \
            or reply.ticket_id != ticket.id or reply.internal or user.email != row.to_address:
        return None
    token = tickets.reply_token(ticket.id, user)
    return Message(gettext("Re: %(subject)s [#%(number)d]", subject=ticket.subject,
                           number=ticket.id), "ticket_reply", {
        "name": user.display_name, "subject": ticket.subject, "number": ticket.id,
        "reply": reply.body, "link": site_url_for("tickets.by_link", token=token)},
        headers=(("Reply-To", tickets.reply_address(token)),))
@renders(queue.SURVEY)
def _survey(session: Session, row: AccountEmail) -> Message | None:
    """A satisfaction survey: one signed link per score (each answers at one click on the
    site's confirm page), made now; nothing when it was answered meanwhile or the person
    has another address now."""
    from care import surveys
    from care.models import SurveyOffer
    from webapp.blueprints.surveys.forms import QUESTIONS, SCALE_ENDS

    user = _user(session, row)
    offer_id = row.payload.get("offer_id")
    offer = session.get(SurveyOffer, offer_id) if isinstance(offer_id, int) else None
    if user is None or offer is None or offer.user_id != user.id or \
            offer.answered_at is not None or user.email != row.to_address or \
            not surveys.can_email(session, user):  # turned off, or unsubscribed, since
        return None
    low, high = surveys.SCALES[offer.kind]
    links = [(n, site_url_for("surveys.answer_link",
                              token=surveys.make_answer_token(_secret(), offer, n)))
             for n in range(low, high + 1)]
    ends = SCALE_ENDS[offer.kind]
    unsubscribe_url = site_url_for("emails.unsubscribe_link",
                                   token=unsubscribe.make_token(_secret(), user))
    return Message(gettext("A quick question from Baby Journey"), "survey", {
        "name": user.display_name, "question": str(QUESTIONS[offer.trigger]),
        "links": links, "low_label": str(ends[0]), "high_label": str(ends[1]),
        "days": int(current_app.config["SURVEY_LINK_DAYS"]),
        "inbox": site_url_for("surveys.offer_page", offer_id=offer.id),
        "unsubscribe": unsubscribe_url,
        "preferences": site_url_for("emails.preferences_centre")},
        headers=unsubscribe_headers(current_app.config["SITE_URL"], unsubscribe_url,
                                    unsubscribe_mailto(current_app.config.get("MAIL_FROM")),
                                    list_name="surveys"))



def render(session: Session, row: AccountEmail) -> Email | None:
    renderer = RENDERERS.get(row.kind)
    if renderer is None:
        raise LookupError(f"no renderer for account email kind {row.kind!r}")
    with force_locale(reading_locale(row.locale)):
        message = renderer(session, row)
        if message is None:
            return None
        return Email(to=row.to_address, subject=message.subject,
                     text=render_template(f"emails/{message.template}.txt", **message.context),
                     html=render_template(f"emails/{message.template}.html",
                                          **message.context),
                     headers=message.headers)


def send(open_session: Callable[[], Any], mailer: Any, ids: list[int]) -> dict[str, int]:
    """Claim, render and send the given rows, each in its own short transactions (never
    holding one open while the mail server talks). `open_session()` is a context manager
    giving a session with no transaction open. Returns counts by outcome."""
    counts = {"sent": 0, "failed": 0, "cancelled": 0}
    for email_id in ids:
        with open_session() as session:
            with session.begin():
                row = queue.claim(session, email_id, utcnow())
                if row is None:
                    continue
                try:
                    email = render(session, row)
                except LookupError as error:
                    queue.cancel(row, str(error))
                    counts["cancelled"] += 1
                    continue
                if email is None:
                    queue.cancel(row, "nothing to send any more")
                    counts["cancelled"] += 1
                    continue
            error = _deliver(mailer, email)
            with session.begin():
                row = session.get(AccountEmail, email_id, populate_existing=True)
                if row is None:
                    continue
                if error is None:
                    queue.mark_sent(row, utcnow())
                    counts["sent"] += 1
                else:
                    queue.mark_failed(row, utcnow(), f"{type(error).__name__}: {error}",
                                      permanent=is_permanent_refusal(error))
                    counts["failed"] += 1
    return counts


def _deliver(mailer: Any, email: Email) -> Exception | None:
    try:
        mailer.send(email)
    except Exception as error:  # noqa: BLE001 - any failure is recorded and retried
        log.warning("account email %s failed: %s", email.subject, error)
        return error
    return None


def send_due(app: Flask, session_factory: Any, limit: int = 100) -> dict[str, int]:
    """The scheduler's job: everything due (new rows nobody sent, retries after backoff)."""
    with app.app_context():
        with session_factory() as session:
            ids = queue.due_ids(session, utcnow(), limit)
        return send(session_factory, app.extensions["mailer"], ids)


@contextmanager
def _request_session() -> Iterator[Session]:
    """The request's own session, its transaction ended (tests send before the response)."""
    session = get_session()
    session.commit()
    yield session


# --- sending what a request queued -----------------------------------------------------------

def init_app(app: Flask) -> None:
    app.after_request(_send_after_response)


@event.listens_for(Session, "pending_to_persistent")
def _note_queued(session: Session, instance: object) -> None:
    """Remember the rows a request queues, to send them once its response is out."""
    if isinstance(instance, AccountEmail) and has_request_context():
        g.setdefault("account_mail_ids", []).append(instance.id)


def _send_after_response(response: Any) -> Any:
    ids = g.pop("account_mail_ids", None)
    if not ids:
        return response
    app = current_app._get_current_object()  # type: ignore[attr-defined]
    factory = app.extensions["session_factory"]
    mailer = app.extensions["mailer"]

    def deliver() -> None:
        with app.app_context():
            try:
                send(factory, mailer, ids)
            except Exception:  # noqa: BLE001 - the scheduler retries; the response is gone
                log.exception("sending account email after the response failed")

    if app.config.get("ACCOUNT_MAIL_AFTER_RESPONSE", True):
        response.call_on_close(deliver)
    else:
        send(_request_session, mailer, ids)
    return response
