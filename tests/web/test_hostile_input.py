"""Hostile input to every route, form field and query parameter: never a 5xx, never half a row.

Nothing here lists the site's pages by hand, so routes, forms and parameters added later are
covered without touching this file:

- routes come from `app.url_map`, filled in with ids of a small world built through the
  services (a family with a born and an expected baby, a viewer, staff of every role, live
  and draft content, a journey, an inbox, an outbox email, signed tokens);
- forms come from the pages themselves: every page is read as an anonymous visitor, as the
  family's owner and as an admin (who sees every staff form), links are followed where they
  add a parameter value, and every `<form>` (and htmx `hx-post` element) is parsed: inputs
  with their types, selects with their options, text areas, files, buttons;
- parameters are the ones the views actually read: `request.args` and `request.form` are
  wrapped while crawling, and while posting once to every POST route, to record every name
  a view asks for.

Then every slot (each path argument, query parameter and form field of every route) is sent
hostile values while everything else stays as the page had it, with GET, HEAD and POST, as
the person who saw the form (other persons of the same kind too: a viewer where the owner
may, every staff role where an admin may): the sharpest values of the slot's kind as
hypothesis `@example`s (NaN and sNaN, 1e999 and numbers past 64 bits for numbers; year 1
and 9999 for dates; cursor-shaped and huge values for parameters) plus values hypothesis
generates (unicode, NUL bytes, very long strings, lists where one value is expected,
missing fields, SQL and HTML payloads, random bytes as uploads). Each route also gets a
few requests with everything hostile at once. Hypothesis is derandomized and every count is
bounded, so the run is the same every time and stays well under a minute. Each request runs
in a savepoint that is rolled back: every example starts from the same world.

Asserted: no response is a 5xx, and a response that is an error (4xx, or a page re-rendered
with form errors) changed no table's row count. Every failure is collected (method, URL,
person, payload, the exception logged) and all of them are reported together.
"""
from __future__ import annotations

import inspect
import io
import itertools
import json
import logging
import re
from collections import defaultdict, deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, IntegerConverter, Rule
from werkzeug.routing.exceptions import RequestRedirect

import db
from clock import utcnow
from content import authoring
from content.authoring import TOPICS
from crm import segments
from diary import accounts, entries, families, invitations, milestones
from diary.entry_kinds import EntryInput, MeasurementInput
from diary.photos import process_upload
from journeys import authoring as journey_authoring
from journeys import defaults as journey_defaults
from journeys import digests, marketing, unsubscribe
from journeys import engine as journeys
from journeys.models import Delivery, InboxMessage
from tests.conftest import PASSWORD, load_all_models, local_today
from tests.web.helpers import png_bytes
from tests.web.test_studio import make_item
from webapp import fragments
from webapp.blueprints.growth.charts import INDICATORS

ROLES = ("anonymous", "owner", "viewer", "marketer", "reviewer", "analyst", "service", "admin")
STAFF_ROLES = ROLES[3:]
#: Pages are read as these persons; a page or form one of them can use is then attacked as
#: the persons of the same kind too (a viewer may not write, an analyst may only read).
CRAWLERS = {"anonymous": ("anonymous",), "owner": ("owner", "viewer"),
            "admin": ("admin", "marketer", "reviewer", "analyst", "service")}
WEBHOOK_SECRET = "hostile-webhook-secret"
CRAWL_LIMIT = 700  # pages read while discovering forms and parameters
LINK_VARIANTS = 16  # URLs of one endpoint read per person by following links


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    # A crash must be seen as the 500 page a visitor would get, not raised into the test.
    return {"PROPAGATE_UNEXPECTED": False, "BOUNCE_WEBHOOK_SECRET": WEBHOOK_SECRET}


# --- hostile values --------------------------------------------------------------------------

HOSTILE = [
    "", " ", "sNaN", "-sNaN", "NaN", "Infinity", "-Infinity", "1e999", "-1e999", "1e-999",
    "0", "-0", "-1", "0.5", "1_000", "٣", "0x10", "2147483647", "2147483648",
    "-2147483649", "9223372036854775808", "99999999999999999999999", "9" * 5000,
    "0001-01-01", "9999-12-31", "1899-12-31", "0000-00-00", "2026-02-30",
    "0001-01-01T00:00", "9999-12-31T23:59", "10000-01-01", "24:00",
    "1_99999999999999999999999", "99999999999999999999999_1", "-1_-1",
    "\x00", "a\x00b", "' OR '1'='1' --", "\"; DROP TABLE users; --", "%", "_", "\\",
    "<script>alert(1)</script>", "{{ 7 * 7 }}", "%s%s%n", "../../etc/passwd",
    "//evil.example", "javascript:alert(1)", "null", "[]", "{}", "𝕳𝖔𝖘𝖙𝖎𝖑𝖊", "宝宝的睡眠",
    "\u202e", "\ufeff", "a" * 10_000, "week:-1", "month:99999999999999999999",
]

#: The sharpest values of each kind of slot, sent as explicit examples (the kinds are the
#: HTML input types; "param" is a query parameter or a form name known only from the view).
SHARP: dict[str, list[str]] = {
    "number": ["sNaN", "1e999"],
    "date": ["0001-01-01", "9999-12-31"],
    "datetime-local": ["0001-01-01T00:00", "9999-12-31T23:59"],
    "time": ["24:00"],
    "param": ["99999999999999999999999", "1_99999999999999999999999"],
    "int-path": ["99999999999999999999999"],
    **{kind: ["x" * 5000] for kind in ("text", "textarea", "email", "search", "url", "tel")},
}
CHOICE_KINDS = {"select", "radio", "checkbox", "hidden", "submit"}
DIGITS = re.compile(r"[0-9]+")


def hostile() -> st.SearchStrategy[str]:
    return st.one_of(
        st.sampled_from(HOSTILE),
        st.text(max_size=30),
        st.integers(min_value=-(10 ** 30), max_value=10 ** 30).map(str),
        st.floats().map(str),
        st.dates(min_value=date(1, 1, 1)).map(date.isoformat),
        st.datetimes().map(lambda d: d.isoformat(timespec="minutes")),
    )


def hostile_or_list() -> st.SearchStrategy[Any]:
    return st.one_of(hostile(), st.lists(hostile(), min_size=2, max_size=3))


def good_fields() -> dict[str, str]:
    """Plausible values for common field names, so that one hostile field is met with the
    others valid and the request reaches the domain (fields not named here keep the value
    or the first option the page shows)."""
    today = local_today()
    return {
        "email": "someone.new@example.com", "new_email": "renamed@example.com",
        "password": PASSWORD, "confirm": PASSWORD, "current_password": PASSWORD,
        "new_password": "another long password", "display_name": "Lin",
        "child_name": "Doudou", "due_date": (today + timedelta(days=100)).isoformat(),
        "birth_date": (today - timedelta(days=30)).isoformat(),
        "occurred_date": today.isoformat(), "occurred_time": "00:30", "title": "A day",
        "body": "Hello", "med_name": "Vitamin D", "child_data_consent": "y",
        "title_en": "Title", "title_zh_CN": "标题", "body_en": "Text.", "body_zh_CN": "正文。",
        "publish_at": (today + timedelta(days=3)).isoformat() + "T09:00",
    }


# --- the world -------------------------------------------------------------------------------

@dataclass
class World:
    users: dict[str, Any]
    values: dict[str, list[str]]  # path argument name → good values
    by_endpoint: dict[tuple[str, str], list[str]]  # (endpoint, argument) → good values


def build_world(app: Flask, session: Session, make_family: Any) -> World:
    secret = app.config["SECRET_KEY"]
    photos, images = app.extensions["photo_store"], app.extensions["content_store"]
    owner, born = make_family(email="owner@example.com", name="Mia")
    family = born.family
    expected = families.add_child(session, family, families.ChildDetails(
        name="Bean", due_date=local_today() + timedelta(days=120)))
    viewer = accounts.create_user(session, "viewer@example.com", PASSWORD, accounts.Profile(
        display_name="Vera", timezone="America/Los_Angeles"))
    if hasattr(viewer, "email_verified_at"):  # where addresses are proven by a link first
        viewer.email_verified_at = utcnow()
    membership = invitations.accept(session, invitations.invite(
        session, family, owner, viewer.email, "viewer", "grandparent"), viewer)
    pending = invitations.invite(session, family, owner, "pending@example.com", "editor",
                                 "father")
    staff = {role: accounts.create_staff(session, f"{role}@example.com", PASSWORD, role,
                                         role.title()) for role in STAFF_ROLES}
    image = process_upload(png_bytes())
    article = make_item(session, "article", "first-weeks", "First weeks", "month", 3, 12,
                        topics=[TOPICS[0]])
    data = authoring.working_copy(session, article)
    data.translations["en"].body = "Edited **text**."
    authoring.save(session, article, data, staff["marketer"], False, note="v2")  # version 2
    draft = make_item(session, "article", "a-draft", "A draft", publish=False)
    product = make_item(session, "product", "BJ-BATH-001", "Baby wash", "month", 3, 12,
                        category="bath", price_minor=5990, currency="CNY",
                        image_key=images.save(image))
    make_item(session, "reminder", "weigh-in", "Weigh-in", "month", 3, 12, category="checkup")
    make_item(session, "faq", "how-to", "How do I?", category="account")
    now = utcnow()
    note = entries.create_entry(session, born, owner, EntryInput(
        "note", now - timedelta(hours=2), body="A *note*"))
    measured = entries.create_entry(session, born, owner, EntryInput(
        "measurement", now - timedelta(hours=3), measurement=MeasurementInput(weight_kg=6.1)))
    pictured = entries.create_entry(session, born, owner, EntryInput(
        "photo", now - timedelta(hours=4)), [(photos.save(image), image)])
    kicks = entries.create_entry(session, expected, owner, EntryInput(
        "kicks", now - timedelta(hours=1), data={"count": 10}))
    ticked, unticked = milestones.for_checkpoint(2)[:2]
    milestones.tick(session, born, owner, ticked.id, now, "en")
    # A small default journey (the shipped one has a stage per week: heavy pages to read).
    journey = journey_authoring.create_journey(session, journey_defaults.SLUG, "Small",
                                               {"stage": "any"})
    journey.status, journey.is_default = "active", True
    journey_authoring.add_stage(session, journey, "bm-3-12", "Months 3 to 12", "month", 3, 12,
                                [{"push": ["article", "product"], "channels": ["inbox"],
                                  "delay_days": 0, "limit": 2}])
    journeys.start(session, born, now)
    journeys.start(session, expected, now)
    segment = segments.create(session, staff["marketer"], "Skin care", "", {"conditions": [
        {"field": "interests", "op": "any_of", "value": ["skin_care"]},
        {"field": "child_age", "op": "months_between", "value": [0, 12]}]})
    message = make_item(session, "message", "hello", "Hello {name}", None, None, None)
    campaign = marketing.create(session, staff["marketer"], marketing.CampaignInput(
        "Hello", segment.id, "on_entry", message.key, ["inbox"], 0.1, "visit", 7), now)
    session.commit()
    message = session.scalars(select(InboxMessage).where(InboxMessage.user_id == owner.id)
                              ).first()
    delivery = session.scalars(select(Delivery)).first()
    outbox = Path(app.config["MAIL_OUTBOX_DIR"])
    outbox.mkdir(parents=True, exist_ok=True)
    mail = EmailMessage()
    mail["Subject"], mail["To"], mail["From"] = "Hello", owner.email, "site@example.com"
    mail.set_content("Plain text")
    mail.add_alternative("<p>HTML</p>", subtype="html")
    (outbox / "20261123-hello.eml").write_bytes(mail.as_bytes())
    ids = lambda *rows: [str(r.id) for r in rows if r is not None]  # noqa: E731
    values = {
        "child_id": ids(born, expected), "entry_id": ids(note, measured, pictured, kicks),
        "photo_id": ids(*pictured.photos), "item_id": ids(article, draft, product),
        "number": ["1", "2"], "journey_id": ids(journey), "index": ["0"],
        "stage_id": ids(journey.stages[0]) if journey else [], "message_id": ids(message),
        "family_id": ids(family), "membership_id": ids(membership),
        "invitation_id": ids(pending), "delivery_id": ids(delivery),
        "slug": [article.key], "sku": [product.key], "key": [product.image_key or "abc"],
        "stage_key": ["week:14", "pregnancy_week:20"], "topic": [TOPICS[0]],
        "kind": ["article", "product"], "indicator": list(INDICATORS)[:2],
        "milestone_id": [unticked.id, ticked.id], "name": ["20261123-hello.eml"],
        "segment_id": ids(segment), "campaign_id": ids(campaign),
    }
    tokens = {
        "auth.join": [invitations.invitation_token(pending, secret)],
        "auth.reset_password": [accounts.make_reset_token(owner, secret)],
        "emails.unsubscribe_link": [unsubscribe_token(secret, owner)],
        "emails.click": [digests.make_click_token(
            secret, delivery.id if delivery else 1, owner.id, article.key, "/library")],
    }
    by_endpoint = {(endpoint, "token"): value for endpoint, value in tokens.items()}
    users = {"anonymous": None, "owner": owner, "viewer": viewer, **staff}
    return World(users, values, by_endpoint)


def unsubscribe_token(secret: str, user: Any) -> str:
    """The unsubscribe link's token (its maker first took the person's id, then the person,
    whose link key it signs too)."""
    takes_user = "user" in inspect.signature(unsubscribe.make_token).parameters
    return unsubscribe.make_token(secret, user if takes_user else user.id)


# --- reading pages ---------------------------------------------------------------------------

@dataclass
class FormField:
    name: str
    kind: str  # the input's type, "select", "textarea" or "button"
    options: list[str] = field(default_factory=list)
    value: str = ""


@dataclass
class PageForm:
    action: str
    method: str
    fields: dict[str, FormField] = field(default_factory=dict)


class PageParser(HTMLParser):
    """The forms (and htmx posts) and links of one page."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.forms: list[PageForm] = []
        self.links: list[str] = []
        self._form: PageForm | None = None
        self._select: FormField | None = None
        self._option: list[str] | None = None
        self._textarea: FormField | None = None

    def _field(self, name: str, kind: str) -> FormField:
        assert self._form is not None
        return self._form.fields.setdefault(name, FormField(name, kind))

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        if a.get("hx-post") and tag != "form":
            form = PageForm(a["hx-post"], "POST")
            if a.get("name"):
                form.fields[a["name"]] = FormField(a["name"], "text", [], a.get("value", ""))
            self.forms.append(form)
        if tag == "form":
            self._form = PageForm(a.get("action", ""), (a.get("method") or "get").upper())
            self.forms.append(self._form)
        elif self._form is None or not a.get("name") and tag not in ("option",):
            return
        elif tag in ("input", "button"):
            kind = (a.get("type") or ("submit" if tag == "button" else "text")).lower()
            f = self._field(a["name"], kind)
            value = a.get("value", "on" if kind in ("checkbox", "radio") else "")
            if kind in ("checkbox", "radio", "submit", "hidden") and value not in f.options:
                f.options.append(value)
            if "checked" in a or kind not in ("checkbox", "radio", "submit"):
                f.value = value
        elif tag == "select":
            self._select = self._field(a["name"], "select")
        elif tag == "option" and self._select is not None:
            if "value" in a:
                self._select.options.append(a["value"])
                if "selected" in a:
                    self._select.value = a["value"]
            else:
                self._option = []
        elif tag == "textarea":
            self._textarea = self._field(a["name"], "textarea")

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self._textarea.value += data
        if self._option is not None:
            self._option.append(data)

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self._form = None
        elif tag == "select":
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "option" and self._option is not None and self._select is not None:
            self._select.options.append("".join(self._option).strip())
            self._option = None


class Recorder(ImmutableMultiDict):
    """`request.args` / `request.form` that remember which names a view asked for."""

    sink: set[str]

    def _saw(self, key: Any) -> None:
        if isinstance(key, str):
            self.sink.add(key)

    def get(self, key: Any, default: Any = None, type: Any = None) -> Any:  # noqa: A002
        self._saw(key)
        return super().get(key, default, type)

    def getlist(self, key: Any, type: Any = None) -> Any:  # noqa: A002
        self._saw(key)
        return super().getlist(key, type)

    def __getitem__(self, key: Any) -> Any:
        self._saw(key)
        return super().__getitem__(key)

    def __contains__(self, key: Any) -> bool:
        self._saw(key)
        return super().__contains__(key)


# --- what to attack --------------------------------------------------------------------------

@dataclass
class Variant:
    """One way a person met a route: as a page (GET) or as a form on some page (POST)."""

    role: str
    path: dict[str, str]
    query: list[tuple[str, str]]
    fields: dict[str, FormField] = field(default_factory=dict)


@dataclass
class Target:
    rule: Rule
    method: str
    roles: set[str] = field(default_factory=set)
    variants: list[Variant] = field(default_factory=list)
    params: dict[str, FormField] = field(default_factory=dict)  # query parameters

    def add(self, variant: Variant) -> None:
        for known in self.variants:
            if (known.role, known.path, known.query) == (variant.role, variant.path,
                                                         variant.query):
                for name, f in variant.fields.items():
                    known.fields.setdefault(name, f)
                return
        self.variants.append(variant)

    def param(self, name: str, kind: str = "param", options: list[str] = ()) -> None:
        known = self.params.setdefault(name, FormField(name, kind))
        if known.kind == "param" and kind != "param":
            known.kind = kind
        known.options += [o for o in options if o not in known.options]


@dataclass(frozen=True)
class Slot:
    """One thing to make hostile: a path argument, a query parameter or a form field."""

    where: str  # "path" | "param" | "field"
    name: str
    kind: str
    variant: int = 0


def rule_path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with these (possibly hostile) argument values, percent-encoded."""
    parts = [quote(str(values[part]), safe="") if is_dynamic else part
             for is_dynamic, part in rule._trace]  # noqa: SLF001 - the rule's parts in order
    path = "".join(parts)
    return path[path.index("|") + 1:]  # the trace starts with the (empty) host part


def good_path_values(rule: Rule, world: World) -> list[dict[str, str]]:
    choices = []
    for name in sorted(rule.arguments):
        converter = rule._converters.get(name)  # noqa: SLF001
        if isinstance(converter, AnyConverter):
            options = sorted(converter.items)
        else:
            options = world.by_endpoint.get((rule.endpoint, name)) \
                or world.values.get(name) or ["1"]
        choices.append([(name, value) for value in options[:3]])
    return [dict(combo) for combo in itertools.product(*choices)][:4]


def is_error_page(page: str) -> bool:
    return 'class="invalid-feedback' in page or "alert alert-danger" in page


class Attack:
    """Discovers what to attack, sends the examples and collects every failure."""

    def __init__(self, app: Flask, world: World, connection: Any) -> None:
        self.app, self.world, self.connection = app, world, connection
        self.adapter = app.url_map.bind("localhost")
        self.targets: dict[tuple[str, str], Target] = {}
        self.failures: list[dict[str, Any]] = []
        self.cookies: dict[str, str | None] = {}
        self.recording = False
        self.recorded: dict[tuple[str, str], set[str]] = defaultdict(set)
        self.logged: list[str] = []
        self.sent = 0
        load_all_models()
        self.tables = [t.name for t in db.Base.metadata.sorted_tables]
        self.baseline: tuple[int, ...] = ()
        app.before_request(self._record)
        self._handler = logging.Handler()
        self._handler.emit = self._log  # type: ignore[method-assign]
        logging.getLogger("webapp.errors").addHandler(self._handler)

    def close(self) -> None:
        logging.getLogger("webapp.errors").removeHandler(self._handler)

    # -- plumbing ----------------------------------------------------------------------------

    def _log(self, record: logging.LogRecord) -> None:
        """Keep the exception behind a 500 (type, message, the project line it came from)."""
        if not record.exc_info or record.exc_info[1] is None:
            return
        error, tb, where = record.exc_info[1], record.exc_info[2], ""
        while tb is not None:
            name = tb.tb_frame.f_code.co_filename
            if "site-packages" not in name:
                where = f"{Path(name).name}:{tb.tb_lineno}"
            tb = tb.tb_next
        self.logged.append(f"{type(error).__name__}: {str(error)[:200]} at {where}")

    def _record(self) -> None:
        if not self.recording or request.endpoint is None:
            return
        for source in ("args", "form"):
            recorder = Recorder(getattr(request, source).items(multi=True))
            recorder.sink = self.recorded[(request.endpoint, source)]
            setattr(request, source, recorder)

    def client(self, role: str) -> FlaskClient:
        client = self.app.test_client()
        if self.cookies.get(role):
            client.set_cookie("session", self.cookies[role], domain="localhost")
        return client

    def login_everyone(self) -> None:
        for role, user in self.world.users.items():
            self.cookies[role] = None
            if user is None:
                continue
            client = self.app.test_client()
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302, role
            cookie = client.get_cookie("session", domain="localhost")
            assert cookie is not None
            self.cookies[role] = cookie.value
        self.baseline = self.counts()

    def counts(self) -> tuple[int, ...]:
        sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in self.tables)
        return tuple(self.connection.exec_driver_sql(sql).one())

    def savepoint(self) -> Any:
        """Everything inside is rolled back: the next example starts from the same world."""
        connection = self.connection

        class Savepoint:
            def __enter__(self) -> None:
                self.nested = connection.begin_nested()

            def __exit__(self, *exc: Any) -> None:
                self.nested.rollback()

        return Savepoint()

    def target(self, rule: Rule, method: str) -> Target:
        return self.targets.setdefault((rule.endpoint, method), Target(rule, method))

    def resolve(self, base: str, href: str, method: str
                ) -> tuple[Rule, dict[str, str], list[tuple[str, str]]] | None:
        url = urlsplit(urljoin(base, href))
        if url.scheme not in ("", "http") or url.netloc not in ("", "localhost"):
            return None
        try:
            rule, args = self.adapter.match(url.path, method=method, return_rule=True)
        except (HTTPException, RequestRedirect):
            return None
        if rule.endpoint == "static":
            return None
        return rule, {k: str(v) for k, v in args.items()}, parse_qsl(url.query, True)

    # -- discovery ---------------------------------------------------------------------------

    def crawl(self) -> None:
        """Read every page as each crawler (and pages their links lead to); parse forms."""
        self.recording = True
        queue: deque[tuple[str, Rule, dict[str, str], list[tuple[str, str]]]] = deque()
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint != "static" and "GET" in rule.methods:
                for values in good_path_values(rule, self.world)[:2]:
                    queue.extend((role, rule, values, []) for role in CRAWLERS)
        clients = {role: self.client(role) for role in CRAWLERS}
        seen: set[tuple[str, str, str]] = set()
        followed: dict[tuple[str, str], int] = defaultdict(int)
        while queue and len(seen) < CRAWL_LIMIT:
            role, rule, values, query = queue.popleft()
            path = rule_path(rule, values)
            key = (role, path, repr(sorted(query)))
            if key in seen:
                continue
            seen.add(key)
            response = clients[role].get(path, query_string=query, buffered=True)
            data = read(response)
            location = response.headers.get("Location", "")
            if response.status_code >= 400 or (response.status_code >= 300
                                                and "/login" in location):
                continue  # not this person's page
            target = self.target(rule, "GET")
            target.roles.update(CRAWLERS[role])
            target.add(Variant(role, values, query))
            for name, value in query:
                target.param(name, options=[value])
            if response.mimetype != "text/html":
                continue
            parser = PageParser()
            parser.feed(data.decode("utf-8", "replace"))
            page = path + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query) if query else "")
            for form in parser.forms:
                self._read_form(page, form, role)
            for href in parser.links:
                found = self.resolve(page, href, "GET")
                if found is None or followed[(role, found[0].endpoint)] >= LINK_VARIANTS:
                    continue
                # Follow a link for what it adds: a parameter value, or a second path.
                known = self.targets.get((found[0].endpoint, "GET"))
                paths = [v.path for v in known.variants] if known else []
                new_value = any(known is None or k not in known.params
                                or v not in known.params[k].options for k, v in found[2])
                if new_value or (found[1] not in paths and len(paths) < 2):
                    followed[(role, found[0].endpoint)] += 1
                    queue.append((role, *found))
        self.recording = False

    def _read_form(self, page: str, form: PageForm, role: str) -> None:
        method = "POST" if form.method == "POST" else "GET"
        found = self.resolve(page, form.action or page, method)
        if found is None:
            return
        rule, values, query = found
        target = self.target(rule, method)
        target.roles.update(CRAWLERS[role])
        for name, value in query:
            target.param(name, options=[value])
        if method == "GET":  # a GET form's fields are query parameters
            target.add(Variant(role, values, query))
            for name, f in form.fields.items():
                target.param(name, f.kind, f.options or [f.value])
            return
        target.add(Variant(role, values, query, dict(form.fields)))

    def probe_posts(self) -> None:
        """POST once to every POST route (empty), recording the form names its view reads;
        a route no page had a form for is tried as each crawler to learn who may post."""
        self.recording = True
        for rule in self.app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            target = self.target(rule, "POST")
            if target.variants:
                first = target.variants[0]
                with self.savepoint():
                    read(self.client(first.role).post(rule_path(rule, first.path),
                                                      query_string=first.query, buffered=True))
                continue
            values = good_path_values(rule, self.world)[0]
            for role in CRAWLERS:
                with self.savepoint():
                    response = self.client(role).post(rule_path(rule, values), buffered=True)
                    read(response)
                if response.status_code not in (401, 403, 404) and \
                        "/login" not in response.headers.get("Location", ""):
                    target.roles.update(CRAWLERS[role])
                    target.add(Variant(role, values, []))
            if not target.variants:
                target.add(Variant("anonymous", values, []))
        self.recording = False

    def finish(self) -> list[Target]:
        """Add the names views read; HEAD beside every GET; GET-only routes get a POST too
        (a 405); whoever could use nothing is attacked as anonymous."""
        for (endpoint, source), names in self.recorded.items():
            for method in ("GET", "POST"):
                target = self.targets.get((endpoint, method))
                if target is None:
                    continue
                for name in names:
                    if source == "args":
                        target.param(name)
                    elif method == "POST":
                        for variant in target.variants:
                            variant.fields.setdefault(name, FormField(name, "param"))
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in ("GET", "POST"):
                target = self.target(rule, method)
                if not target.variants:
                    values = good_path_values(rule, self.world)[0]
                    target.add(Variant("anonymous", values, []))
                target.roles = target.roles or {"anonymous"}
            if "GET" in rule.methods:
                get = self.targets[(rule.endpoint, "GET")]
                self.targets[(rule.endpoint, "HEAD")] = Target(
                    rule, "HEAD", get.roles, get.variants, get.params)
        return sorted(self.targets.values(), key=lambda t: (t.rule.rule, t.method))

    # -- values ------------------------------------------------------------------------------

    @staticmethod
    def valid(f: FormField, good: dict[str, str]) -> Any:
        """What a person would send in this field (None: leave it out)."""
        if f.name in good:
            return good[f.name]
        if f.kind == "file":
            return (png_bytes(), "photo.png")
        if f.kind == "checkbox":
            return f.value or None
        if f.kind in CHOICE_KINDS and not f.value:
            usable = [o for o in f.options if o]
            return usable[0] if usable else None
        return f.value or ("1" if f.kind == "number" else None)

    @staticmethod
    def nasty(f: FormField) -> st.SearchStrategy[Any]:
        if f.kind == "file":
            return st.tuples(st.binary(max_size=64), st.sampled_from(
                ["x.jpg", "../../x.png", "a\u202egpj.exe", "", "x" * 300]))
        if f.kind in CHOICE_KINDS and len(f.options) > 1:
            return st.one_of(st.just(list(f.options)), hostile_or_list())
        return hostile_or_list()

    # -- sending -----------------------------------------------------------------------------

    def slots(self, target: Target) -> list[Slot]:
        slots = []
        for name in sorted(target.rule.arguments):
            converter = target.rule._converters.get(name)  # noqa: SLF001
            slots.append(Slot("path", name, "int-path" if isinstance(
                converter, IntegerConverter) else "path"))
        slots += [Slot("param", name, target.params[name].kind) for name in sorted(
            target.params)]
        if target.method == "POST" and "POST" in target.rule.methods:
            done: set[str] = set()  # one slot per field name ("step0-limit" as "step3-limit")
            for index, variant in enumerate(target.variants):
                for name, f in sorted(variant.fields.items()):
                    if DIGITS.sub("#", name) not in done:
                        done.add(DIGITS.sub("#", name))
                        slots.append(Slot("field", name, f.kind, index))
        return slots

    def run(self, target: Target) -> None:
        if target.method == "POST" and "POST" not in target.rule.methods:
            self.send(target, target.variants[0], "anonymous", {}, [], None, None)  # 405
            return
        if target.method == "HEAD":  # the GET view without a body: one mixed example
            self.run_chaos(target, 1)
            return
        for slot in self.slots(target):
            self.run_slot(target, slot)
        self.run_chaos(target, 2 if target.method == "POST" else 1)

    def run_slot(self, target: Target, slot: Slot) -> None:
        """The slot's sharpest values as explicit examples, then generated ones; everything
        else as the page had it."""
        variant = target.variants[slot.variant]
        f = variant.fields.get(slot.name) or target.params.get(slot.name) \
            or FormField(slot.name, slot.kind)
        strategy = hostile() if slot.where == "path" else self.nasty(f)
        generated = 0 if slot.kind == "int-path" else 1

        def attack(value: Any) -> None:
            path, query, body = self.plain(target, variant)
            if slot.where == "path":
                path[slot.name] = value
            elif slot.where == "param":
                query = [(k, v) for k, v in query if k != slot.name] + [
                    (slot.name, v) for v in (value if isinstance(value, list) else [value])]
            else:
                body[slot.name] = value
            self.send(target, variant, variant.role, path, query, body, None)

        test = given(value=strategy)(attack)
        for value in reversed(self.sharp(target, variant, slot, f)):
            test = example(value=value)(test)
        self.hypothesis(generated, test)

    @staticmethod
    def sharp(target: Target, variant: Variant, slot: Slot, f: FormField) -> list[str]:
        """The slot's kind's sharpest values, and its own good value with every run of
        digits blown up (a stage "week:14", a cursor, an id, a date): past 64 bits, and past
        the 4300 digits Python's int() accepts."""
        if slot.where == "path":
            seed = variant.path.get(slot.name, "")
        elif slot.where == "param":
            seed = next((v for k, v in variant.query if k == slot.name), None) or next(
                (o for o in f.options if o), "")
        else:
            seed = f.value or next((o for o in f.options if o), "")
        values = list(SHARP.get(slot.kind, []))
        if DIGITS.search(seed):  # (a form's number fields go through WTForms' own int())
            values += [DIGITS.sub("9" * 25, seed)] + (
                [DIGITS.sub("9" * 5000, seed)] if slot.where != "field" else [])
        return list(dict.fromkeys(values))

    def plain(self, target: Target, variant: Variant
              ) -> tuple[dict[str, str], list[tuple[str, str]], dict[str, Any]]:
        good = good_fields()
        body = {name: self.valid(f, good) for name, f in variant.fields.items()} \
            if target.method == "POST" else {}
        return dict(variant.path), list(variant.query), body

    def run_chaos(self, target: Target, count: int) -> None:
        """Everything at once: any person of the target's kind, any variant, every slot
        hostile, valid or missing (and JSON bodies where no form is known)."""
        roles = sorted(target.roles, key=ROLES.index)

        def attack(data: Any) -> None:
            variant = data.draw(st.sampled_from(target.variants), label="variant")
            role = data.draw(st.sampled_from(roles), label="role")
            path, query, body = self.plain(target, variant)
            for name in sorted(path):
                path[name] = data.draw(st.just(path[name]) | hostile(), label=name)
            for name in sorted(target.params):
                value = data.draw(st.none() | self.nasty(target.params[name]), label=name)
                query = [(k, v) for k, v in query if k != name] + [
                    (name, v) for v in (value if isinstance(value, list) else [value])
                    if value is not None]
            for name, f in sorted(variant.fields.items()):
                body[name] = data.draw(st.just(body[name]) | st.none() | self.nasty(f),
                                       label=name)
            json_body = None
            if target.method == "POST" and not body and data.draw(st.booleans(), label="json"):
                json_body = data.draw(st.dictionaries(
                    st.sampled_from(["email", "type", "id", "name"]) | hostile(),
                    hostile() | st.integers() | st.none() | st.lists(hostile(), max_size=2),
                    max_size=4), label="json")
            self.send(target, variant, role, path, query, body, json_body,
                      htmx=data.draw(st.booleans(), label="htmx"))

        self.hypothesis(count, given(st.data())(attack))

    @staticmethod
    def hypothesis(count: int, test: Callable[..., Any]) -> None:
        settings(max_examples=max(count, 1), derandomize=True, database=None, deadline=None,
                 phases=[Phase.explicit, Phase.generate] if count else [Phase.explicit],
                 suppress_health_check=list(HealthCheck), print_blob=False)(test)()

    def send(self, target: Target, variant: Variant, role: str, path: dict[str, Any],
             query: list[tuple[str, Any]], body: dict[str, Any] | None, json_body: Any,
             htmx: bool = False) -> None:
        url = rule_path(target.rule, path or variant.path)
        form = MultiDict()
        for name, value in sorted((body or {}).items()):
            for one in (value if isinstance(value, list) else [value]):
                if isinstance(one, tuple):
                    form.add(name, (io.BytesIO(one[0]), one[1]))
                elif one is not None:
                    form.add(name, one)
        kwargs: dict[str, Any] = {"query_string": query, "headers": {
            "X-Webhook-Secret": WEBHOOK_SECRET, **({"HX-Request": "true"} if htmx else {})}}
        if json_body is not None:
            kwargs["json"] = json_body
        elif target.method == "POST":
            kwargs["data"] = form
            if any(isinstance(v, tuple) for v in form.values()):
                kwargs["content_type"] = "multipart/form-data"
        fragments.clear()  # ids repeat between rolled-back examples
        self.logged.clear()
        with self.savepoint():
            response = self.client(role).open(url, method=target.method, buffered=True,
                                              **kwargs)
            self.sent += 1
            status = response.status_code
            page = read(response).decode("utf-8", "replace") if response.mimetype == "text/html" \
                else ""
            problem = None
            if status >= 500:
                problem = f"{status}"
            elif status >= 400 or (status < 300 and target.method == "POST"
                                   and is_error_page(page)):
                after = self.counts()
                if after != self.baseline:
                    changed = {t: (b, a) for t, b, a in zip(self.tables, self.baseline, after, strict=True)
                               if a != b}
                    problem = f"{status} but rows changed: {changed}"
        if problem is not None:
            self.failures.append({
                "endpoint": target.rule.endpoint, "method": target.method, "role": role,
                "url": url + ("?" + "&".join(f"{k}={v!r}" for k, v in query) if query else ""),
                "payload": _short(json_body if json_body is not None else [
                    (k, v if isinstance(v, str) else "<file>")
                    for k, v in form.items(multi=True)]),
                "problem": problem, "error": "; ".join(self.logged) or "-"})


def read(response: Any) -> bytes:
    """The body of a response made with `buffered=True`: a streamed body (a CSV export) ran
    to its end, and its request context was closed, inside the request's savepoint."""
    data = response.get_data()
    response.close()
    return data


def _short(value: Any, limit: int = 400) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= limit else text[:limit] + "…"


def report(failures: list[dict[str, Any]]) -> str:
    lines = [f"{len(failures)} hostile request(s) failed:"]
    for f in failures:
        lines.append(f"- {f['method']} {f['url'][:300]} as {f['role']}: {f['problem']}\n"
                     f"    error: {f['error']}\n    payload: {f['payload']}")
    return "\n".join(lines)


# --- the test --------------------------------------------------------------------------------

def test_hostile_input_never_crashes_or_half_writes(app, session, session_factory,
                                                    make_family):
    world = build_world(app, session, make_family)
    attack = Attack(app, world, session_factory.kw["bind"])
    try:
        attack.login_everyone()
        with attack.savepoint():
            attack.crawl()
        attack.probe_posts()
        targets = attack.finish()
        # Discovery found the site: every route, the forms on its pages, the parameters its
        # views read and who may use them (checked on a few that must be there).
        assert {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"} <= \
            {t.rule.endpoint for t in targets}
        entry_form = attack.targets[("diary.new_entry", "POST")]
        assert {"weight", "temperature", "occurred_date", "photos"} <= \
            {name for v in entry_form.variants for name in v.fields}
        assert entry_form.roles >= {"owner", "viewer"}
        assert {"before", "kind", "q"} <= set(attack.targets[("diary.timeline", "GET")].params)
        assert "publish_at" in {name for v in attack.targets[("studio.content.act", "POST")].variants
                                for name in v.fields}
        assert attack.targets[("studio.content.index", "GET")].roles >= set(STAFF_ROLES)
        assert attack.targets[("auth.register", "POST")].roles >= {"anonymous"}
        for target in targets:
            attack.run(target)
    finally:
        attack.close()
    assert not attack.failures, report(attack.failures)
    assert attack.sent > 500
