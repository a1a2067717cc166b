"""Two families for the attack sweeps (tests/web/test_attack_sweeps.py): family A owns one of
every private thing the site has, family B is a stranger who knows A's ids.

`ARGUMENTS` says, for every URL argument name in `app.url_map`, what kind of value it is and
how to fill it from this world. The sweeps fail on a route whose argument is not in the table,
so a new route (an `/api/v1/...` one too) is attacked as soon as it exists: add its argument
name here, with A's value, and say whether it names something of A's (FAMILY), something
everyone may see (PUBLIC), a signed link (TOKEN) or an id only the staff area takes (STAFF).
"""
from __future__ import annotations

import io
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from care import surveys
from clock import utcnow
from community import clubs
from diary import access_tokens, accounts, invitations
from diary.models import Membership, Photo
from journeys import authoring as journey_authoring
from journeys import defaults as journey_defaults
from journeys import engine as journeys
from journeys.models import InboxMessage
from tests.conftest import PASSWORD
from tests.rewards.test_catalogue import make_redemption
from tests.web.helpers import entry_form, png_bytes
from tests.web.test_studio import make_item

#: Every text family A typed contains this: it must never reach family B.
SECRET = "Qwzsecret"
CSRF = re.compile(r'name="csrf_token" type="hidden" value="([^"]+)"')

FAMILY = "family"  # names something of family A's: family B gets 404
PUBLIC = "public"  # the same for everyone (an article's slug, a size): no 5xx, no leak
TOKEN = "token"  # a signed link: whoever holds it may use it (tested in test_attack_surface)
STAFF = "staff"  # taken only by staff pages: a parent gets 404 or 403 whatever the value


@dataclass(frozen=True)
class Arg:
    kind: str
    value: Callable[[dict[str, Any]], Any]


def _a(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda w: w[key]


def _literal(value: str) -> Callable[[dict[str, Any]], Any]:
    return lambda w: value


#: URL argument name → what it is and family A's value for it. Extend this table for a new
#: argument name (the sweeps fail and name the route until you do).
ARGUMENTS: dict[str, Arg] = {
    # family A's own things
    "child_id": Arg(FAMILY, _a("child_id")),
    "entry_id": Arg(FAMILY, _a("entry_id")),
    "photo_id": Arg(FAMILY, _a("photo_id")),
    "timer_id": Arg(FAMILY, _a("timer_id")),
    "record_id": Arg(FAMILY, _a("record_id")),  # a vaccination record
    "family_id": Arg(FAMILY, _a("family_id")),
    "membership_id": Arg(FAMILY, _a("membership_id")),
    "invitation_id": Arg(FAMILY, _a("invitation_id")),  # sent by A to someone else
    "message_id": Arg(FAMILY, _a("message_id")),  # A's inbox
    "ticket_id": Arg(FAMILY, _a("ticket_id")),
    "attachment_id": Arg(FAMILY, _a("attachment_id")),
    # A's birth club (B's baby is of another month): its posts are for its members only
    "club_id": Arg(FAMILY, _a("club_id")),
    "post_id": Arg(FAMILY, _a("post_id")),
    "comment_id": Arg(FAMILY, _a("comment_id")),
    "review_id": Arg(FAMILY, _a("review_id")),  # public on the product page; only A deletes it
    "redemption_id": Arg(FAMILY, _a("redemption_id")),
    "offer_id": Arg(FAMILY, _a("offer_id")),  # a survey offered to A
    "token_id": Arg(FAMILY, _a("token_id")),  # A's personal access token (account page)
    # the same for everyone
    "milestone_id": Arg(PUBLIC, _literal("m02-social-smiles")),
    "key": Arg(PUBLIC, _literal("hep-b-2")),  # a reminder's key; content images' keys too
    "indicator": Arg(PUBLIC, _literal("weight")),
    "size": Arg(PUBLIC, _literal("full")),
    "action": Arg(PUBLIC, _literal("join")),
    "kind": Arg(PUBLIC, _literal("article")),
    "slug": Arg(PUBLIC, _a("slug")),
    "sku": Arg(PUBLIC, _a("sku")),
    "topic": Arg(PUBLIC, _literal("sleep")),
    "stage_key": Arg(PUBLIC, _literal("month:3")),
    "filename": Arg(PUBLIC, _literal("css/app.css")),
    "sample_id": Arg(PUBLIC, _a("sample_id")),  # the rewards catalogue
    "item_id": Arg(PUBLIC, _a("item_id")),  # content (a help article's vote; studio items)
    "year": Arg(PUBLIC, _a("birth_year")),  # A's birth club's month: B may not join it
    "month": Arg(PUBLIC, _a("birth_month")),
    # signed links (whoever holds one may use it; expiry and single use are tested apart)
    "token": Arg(TOKEN, _literal("not-a-token")),
    # only the staff area takes these: a parent is turned away before the id is read
    "user_id": Arg(STAFF, _a("user_id")),  # the customer 360 of A
    "survivor_id": Arg(STAFF, _a("user_id")),
    "merged_id": Arg(STAFF, _a("user_id")),
    **{name: Arg(STAFF, _literal("1")) for name in (
        "number", "index", "journey_id", "stage_id", "segment_id", "campaign_id",
        "merge_id", "report_id", "assignment_id", "word_id", "delivery_id", "follow_up_id",
        "reply_id")},
}

#: Staff pages: a parent (of any family) is turned away with one of these.
STAFF_PREFIXES = ("/studio",)


def csrf_of(page: str) -> str:
    found = CSRF.search(page)
    assert found, "no CSRF token on the page"
    return found.group(1)


def sign_in(app: Flask, user: Any) -> tuple[FlaskClient, str]:
    """A client signed in as `user` with CSRF protection on; returns it and its token."""
    client = app.test_client()
    token = csrf_of(client.get("/login").get_data(as_text=True))
    response = client.post("/login", data={"email": user.email, "password": PASSWORD,
                                           "csrf_token": token})
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    return client, csrf_of(client.get("/account").get_data(as_text=True))


def _posted_id(response: Any) -> int:
    assert response.status_code == 302, response.get_data(as_text=True)[:500]
    return int(response.headers["Location"].rstrip("/").rsplit("/", 1)[1])


def build(app: Flask, session: Session, make_family: Any) -> dict[str, Any]:
    """Family A (with one of everything), stranger B; returns A's values by name and the
    two users. Needs `WTF_CSRF_ENABLED` on (every form is posted with its token)."""
    born = date(2026, 8, 14)
    a_user, a_child = make_family(email="qwz-a@example.com", name=f"{SECRET}child",
                                  birth_date=born)
    b_user, _ = make_family(email="b-stranger@example.com", birth_date=date(2026, 3, 3))
    a_user.display_name = "Anna"  # shown beside her public review and club posts
    club = clubs.join_birth_club(session, a_user, a_child)
    marketer = accounts.create_staff(session, "attack-marketer@example.com", PASSWORD,
                                     "marketer", "M")
    article = make_item(session, "article", "attack-article", "An article", "month", 3, 24)
    product = make_item(session, "product", "BJ-ATTACK-1", "Baby wash", "month", 3, 24,
                        category="bath", price_minor=100, currency="CNY")
    journey = journey_authoring.create_journey(session, journey_defaults.SLUG, "Small",
                                               {"stage": "any"})
    journey.status, journey.is_default = "active", True
    journey_authoring.add_stage(session, journey, "attack-3-24", "Months", "month", 3, 24,
                                [{"push": ["article"], "channels": ["inbox"],
                                  "delay_days": 0, "limit": 1}])
    journeys.start(session, a_child, utcnow())
    pending = invitations.invite(session, a_child.family, a_user, "qwz-invited@example.com",
                                 "editor", "father")
    sample, redemption = make_redemption(session, a_user)
    offer = surveys.offer_csat(session, a_user, "ticket", "ticket:1", now=utcnow())
    api_token, _ = access_tokens.create(session, a_user, f"{SECRET}token", "write", 30)
    session.commit()
    assert offer is not None and marketer is not None

    client, token = sign_in(app, a_user)
    c = a_child.id
    entry_id = _posted_id(client.post(
        f"/children/{c}/entries/new?kind=photo", content_type="multipart/form-data",
        data=entry_form(title=f"{SECRET}entry", body=f"{SECRET}note", csrf_token=token,
                        photos=[(io.BytesIO(png_bytes()), "a.png")])))
    assert client.post(f"/children/{c}/timers", data={
        "kind": "sleep", "csrf_token": token}).status_code in (200, 302)
    assert client.post(f"/children/{c}/vaccinations", data={
        "category": "vaccination", "name": f"{SECRET}vax", "given_on": born.isoformat(),
        "csrf_token": token}).status_code in (200, 302)
    ticket_id = _posted_id(client.post("/help/ask", content_type="multipart/form-data", data={
        "category": "question", "severity": "normal", "child_id": str(c),
        "subject": f"{SECRET}ticket", "body": f"{SECRET}ticket body", "from_path": "/help",
        "csrf_token": token, "photos": [(io.BytesIO(png_bytes()), "t.png")]}))
    assert client.post(f"/clubs/{club.id}/posts", content_type="multipart/form-data", data={
        "body": f"{SECRET}post", "csrf_token": token,
        "photo": (io.BytesIO(png_bytes()), "p.png")}).status_code == 302
    assert client.post(f"/products/{product.key}/review", data={
        "rating": "5", "text": "Gentle and kind", "csrf_token": token}).status_code == 302

    from care.models import TicketAttachment
    from community.models import ClubComment, ClubPost
    from content.models import ProductReview
    from diary.models import Timer, Vaccination
    session.expire_all()
    post = session.scalar(select(ClubPost).where(ClubPost.author_id == a_user.id))
    assert client.post(f"/clubs/posts/{post.id}/comments", data={
        "body": f"{SECRET}comment", "csrf_token": token}).status_code == 302
    session.expire_all()
    first = lambda model, *where: session.scalar(select(model.id).where(*where))  # noqa: E731
    values = {
        "user_id": a_user.id, "child_id": c, "entry_id": entry_id,
        "photo_id": first(Photo, Photo.entry_id == entry_id),
        "timer_id": first(Timer, Timer.child_id == c),
        "record_id": first(Vaccination, Vaccination.child_id == c),
        "family_id": a_child.family_id,
        "membership_id": first(Membership, Membership.user_id == a_user.id),
        "invitation_id": pending.id,
        "message_id": first(InboxMessage, InboxMessage.user_id == a_user.id),
        "ticket_id": ticket_id,
        "attachment_id": first(TicketAttachment, TicketAttachment.ticket_id == ticket_id),
        "club_id": club.id, "post_id": post.id,
        "comment_id": first(ClubComment, ClubComment.post_id == post.id),
        "review_id": first(ProductReview, ProductReview.user_id == a_user.id),
        "redemption_id": redemption.id, "offer_id": offer.id, "sample_id": sample.id,
        "token_id": api_token.id,
        "slug": article.key, "sku": product.key, "item_id": article.id,
        "birth_year": born.year, "birth_month": born.month,
    }
    missing = sorted(k for k, v in values.items() if v is None)
    assert not missing, f"family A lacks {missing}"
    return {"values": values, "a": a_user, "b": b_user, "a_child": a_child}


def fill(rule: Any, values: dict[str, Any]) -> tuple[dict[str, Any], set[str]]:
    """The rule's arguments from the table, and their kinds; AssertionError naming the rule
    and the argument when the table does not know one."""
    unknown = sorted(set(rule.arguments) - set(ARGUMENTS))
    assert not unknown, (f"{rule.rule} ({rule.endpoint}) takes {unknown}: add to ARGUMENTS "
                         "in tests/web/attack_world.py what it names and family A's value")
    args, kinds = {}, set()
    for name in rule.arguments:
        converter = rule._converters.get(name)  # noqa: SLF001
        items = getattr(converter, "items", None)  # any(...): one of its own words
        value = ARGUMENTS[name].value(values)
        args[name] = value if items is None or value in items else sorted(items)[0]
        kinds.add(ARGUMENTS[name].kind)
    return args, kinds


def is_staff_rule(rule: Any) -> bool:
    return rule.rule.startswith(STAFF_PREFIXES)

