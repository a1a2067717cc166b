"""Hostile input to every route, form field and query parameter: never a 5xx, never half a row.

Nothing here lists the site's pages by hand, so routes, forms and parameters added later are
covered without touching this file:

- routes come from `app.url_map`, filled in with ids of a small world built through the
  services (a family with a born and an expected baby, a viewer, staff of every role, live
  and draft content, a journey, an inbox, an outbox email, signed tokens);
- forms come from the pages themselves: every page is fetched as every person (anonymous,
  the owner, a viewer, each staff role), links are followed a little, and every `<form>`
  (and htmx `hx-post` element) is read from the HTML: inputs, selects with their options,
  text areas, file inputs, buttons;
- parameters are those the views actually read: `request.args` and `request.form` are
  wrapped while crawling (and while probing each POST route once) to record every name a
  view asks for.

Then hypothesis, derandomized and with a bounded number of examples per target, sends every
route GET, HEAD and POST as the persons who can use it: one field hostile while the others
stay plausible, or everything at once. Values: NaN and sNaN, huge and negative numbers,
dates in year 1 and 9999, NUL bytes, unicode, very long strings, lists where one value is
expected, missing fields, SQL and HTML payloads, random bytes as uploads. Each example runs
in a savepoint that is rolled back, so each starts from the same world.

Asserted: no response is a 5xx; and a response that is an error (4xx, or a page re-rendered
with form errors) changed no table's row count. Every failure is collected (method, URL,
person, payload, the exception logged) and all are reported together.
"""
from __future__ import annotations

import io
import itertools
import json
import logging
from collections import defaultdict, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from email.message import EmailMessage
from html.parser import HTMLParser
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qsl, quote, urljoin, urlsplit

import pytest
from flask import Flask, request
from flask.testing import FlaskClient
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.datastructures import ImmutableMultiDict, MultiDict
from werkzeug.exceptions import HTTPException
from werkzeug.routing import AnyConverter, Rule
from werkzeug.routing.exceptions import RequestRedirect

import db
from clock import utcnow
from content import authoring
from content.authoring import TOPICS
from diary import accounts, entries, families, invitations, milestones
from diary.entry_kinds import EntryInput, MeasurementInput
from diary.photos import process_upload
from journeys import digests, unsubscribe
from journeys import engine as journeys
from journeys.models import Delivery, InboxMessage, Journey
from tests.conftest import PASSWORD, local_today
from tests.web.helpers import png_bytes
from tests.web.test_studio import make_item
from webapp import fragments
from webapp.blueprints.growth.charts import INDICATORS

ROLES = ("anonymous", "owner", "viewer", "marketer", "reviewer", "analyst", "admin")
STAFF_ROLES = ROLES[3:]
#: Pages are read as these persons (an admin sees every staff form); a page one of them can
#: use is then attacked as the persons of the same kind too.
CRAWLERS = {"anonymous": ("anonymous",), "owner": ("owner", "viewer"),
            "admin": ("admin", "marketer", "reviewer", "analyst")}
WEBHOOK_SECRET = "hostile-webhook-secret"
#: Examples per target (route × method); a form's POST gets one more per field, up to
#: FIELD_EXAMPLES. Bounded, so that the whole test stays well under a minute.
EXAMPLES = {"GET": 3, "HEAD": 1, "POST": 4}
FIELD_EXAMPLES = 8
CRAWL_LIMIT = 450  # pages fetched while discovering forms and parameters
VARIANTS_PER_ENDPOINT = 8  # distinct URLs of one endpoint read per person


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    # A crash must be seen as the 500 page a visitor would get, not raised into the test.
    return {"PROPAGATE_UNEXPECTED": False, "BOUNCE_WEBHOOK_SECRET": WEBHOOK_SECRET}


# --- hostile values --------------------------------------------------------------------------

HOSTILE = [
    "", " ", "sNaN", "-sNaN", "NaN", "nan", "Infinity", "-Infinity", "inf", "1e999", "-1e999",
    "1e-999", "1E+999999999", "0", "-0", "-1", "0.5", "3.5", "1_000", "٣", "0x10", "1e3",
    "2147483647", "2147483648", "-2147483649", "9223372036854775808",
    "99999999999999999999999", "-99999999999999999999999", "9" * 5000,
    "0001-01-01", "9999-12-31", "1899-12-31", "2100-12-31", "0000-00-00", "2026-02-30",
    "0001-01-01T00:00", "9999-12-31T23:59", "10000-01-01", "24:00", "23:59", "00:00",
    "1_99999999999999999999999", "99999999999999999999999_1", "-1_-1",
    "\x00", "a\x00b", "' OR '1'='1' --", "\"; DROP TABLE users; --", "%", "_", "\\",
    "<script>alert(1)</script>", "{{ 7 * 7 }}", "%s%s%n", "../../etc/passwd", "//evil.example",
    "javascript:alert(1)", "null", "true", "[]", "{}", "𝕳𝖔𝖘𝖙𝖎𝖑𝖊", "宝宝的睡眠", "\u202e", "\ufeff",
    "a" * 10_000, "pregnancy_week:99999999999999999999", "week:-1", "month:1e9",
]


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
    or the options the page shows)."""
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
    authoring.save(session, article, data, staff["reviewer"], can_publish=True, note="v2")
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
    journeys.start(session, born, now)
    journeys.start(session, expected, now)
    session.commit()
    journey = session.scalars(select(Journey)).first()
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
    }
    tokens = {
        "auth.join": [invitations.invitation_token(pending, secret)],
        "auth.reset_password": [accounts.make_reset_token(owner, secret)],
        "emails.unsubscribe_link": [unsubscribe.make_token(secret, owner.id)],
        "emails.click": [digests.make_click_token(
            secret, delivery.id if delivery else 1, owner.id, article.key, "/library")],
    }
    by_endpoint = {(endpoint, "token"): value for endpoint, value in tokens.items()}
    users = {"anonymous": None, "owner": owner, "viewer": viewer, **staff}
    return World(users, values, by_endpoint)


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
class Target:
    rule: Rule
    method: str
    roles: set[str] = field(default_factory=set)
    paths: list[dict[str, str]] = field(default_factory=list)
    query: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    fields: dict[str, FormField] = field(default_factory=dict)

    def add_path(self, values: dict[str, str]) -> None:
        if values not in self.paths:
            self.paths.append(values)


def rule_path(rule: Rule, values: dict[str, str]) -> str:
    """The rule's path with these (possibly hostile) argument values, percent-encoded."""
    out = []
    for is_dynamic, part in rule._trace:  # noqa: SLF001 - the rule's own parts, in order
        out.append(quote(str(values[part]), safe="") if is_dynamic else part)
    path = "".join(out)
    return path[path.index("|") + 1:] if "|" in path else path


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


class Attack:
    """Discovers targets, then sends hostile examples; collects every failure."""

    def __init__(self, app: Flask, world: World, connection: Any) -> None:
        self.app, self.world, self.connection = app, world, connection
        self.adapter = app.url_map.bind("localhost")
        self.targets: dict[tuple[str, str], Target] = {}
        self.failures: list[dict[str, Any]] = []
        self.sessions: dict[str, str | None] = {}
        self.recording = False
        self.recorded: dict[str, set[str]] = {}  # "endpoint args|form" → names views read
        self.logged: list[str] = []
        self.sent = 0
        self.timing = []
        self.tables = [t.name for t in db.Base.metadata.sorted_tables]
        app.before_request(self._record)
        handler = logging.Handler()
        handler.emit = self._log  # type: ignore[method-assign]
        logging.getLogger("webapp.errors").addHandler(handler)
        self._handler = handler

    def close(self) -> None:
        logging.getLogger("webapp.errors").removeHandler(self._handler)

    # -- plumbing --

    def _log(self, record: logging.LogRecord) -> None:
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            tb = record.exc_info[2]
            where = ""
            while tb is not None:
                if "site-packages" not in tb.tb_frame.f_code.co_filename:
                    where = f"{Path(tb.tb_frame.f_code.co_filename).name}:{tb.tb_lineno}"
                tb = tb.tb_next
            self.logged.append(f"{type(error).__name__}: {str(error)[:160]} at {where}")

    def _record(self) -> None:
        if not self.recording or request.endpoint is None:
            return
        for name in ("args", "form"):
            recorder = Recorder(getattr(request, name).items(multi=True))
            recorder.sink = self.recorded.setdefault(f"{request.endpoint} {name}", set())
            setattr(request, name, recorder)

    def client(self, role: str) -> FlaskClient:
        client = self.app.test_client()
        cookie = self.sessions.get(role)
        if cookie:
            client.set_cookie("session", cookie, domain="localhost")
        return client

    def login_everyone(self) -> None:
        for role, user in self.world.users.items():
            if user is None:
                self.sessions[role] = None
                continue
            client = self.app.test_client()
            response = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert response.status_code == 302, role
            cookie = client.get_cookie("session", domain="localhost")
            assert cookie is not None
            self.sessions[role] = cookie.value

    def counts(self) -> tuple[int, ...]:
        sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in self.tables)
        return tuple(self.connection.exec_driver_sql(sql).one())

    def target(self, rule: Rule, method: str) -> Target:
        return self.targets.setdefault((rule.endpoint, method), Target(rule, method))

    def resolve(self, base: str, href: str, method: str) -> tuple[Rule, dict[str, str],
                                                               list[tuple[str, str]]] | None:
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

    # -- discovery --

    def crawl(self) -> None:
        """Fetch every page as every person (and pages their links lead to); read forms."""
        self.recording = True
        queue: deque[tuple[str, Rule, dict[str, str], list[tuple[str, str]]]] = deque()
        seen: set[tuple[str, str]] = set()
        per_endpoint: dict[tuple[str, str], int] = defaultdict(int)
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint != "static" and "GET" in rule.methods:
                for values in good_path_values(rule, self.world)[:2]:
                    for role in CRAWLERS:
                        queue.append((role, rule, values, []))
        clients = {role: self.client(role) for role in CRAWLERS}
        fetched = 0
        while queue and fetched < CRAWL_LIMIT:
            role, rule, values, query = queue.popleft()
            path = rule_path(rule, values)
            key = (role, path + "?" + "&".join(f"{k}={v}" for k, v in sorted(query)))
            if key in seen or per_endpoint[(role, rule.endpoint)] >= VARIANTS_PER_ENDPOINT:
                continue
            seen.add(key)
            per_endpoint[(role, rule.endpoint)] += 1
            fetched += 1
            import time as _t; _s = _t.monotonic()
            response = clients[role].get(path, query_string=query)
            self.timing.append((_t.monotonic() - _s, role, path, query))
            location = response.headers.get("Location", "")
            ok = response.status_code < 300 or (response.status_code < 400
                                                 and "/login" not in location)
            if not ok:
                continue
            target = self.target(rule, "GET")
            target.roles.update(CRAWLERS[role])
            target.add_path(values)
            for name, value in query:
                target.query[name].add(value)
            if not response.mimetype == "text/html":
                continue
            parser = PageParser()
            parser.feed(response.get_data(as_text=True))
            page = path + ("?" + "&".join(f"{k}={quote(v)}" for k, v in query) if query else "")
            for form in parser.forms:
                self._read_form(page, form, role)
            for href in parser.links:
                found = self.resolve(page, href, "GET")
                if found is None:
                    continue
                # Follow a link only for what it adds: a new path, or a parameter value.
                rule_, values_, query_ = found
                known = self.targets.get((rule_.endpoint, "GET"))
                if known is None or values_ not in known.paths or any(
                        v not in known.query.get(k, ()) for k, v in query_):
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
        target.add_path(values)
        for name, value in query:
            target.query[name].add(value)
        if method == "GET":  # a GET form's fields are query parameters
            for name, f in form.fields.items():
                target.query[name].update(f.options or [f.value])
            return
        for name, f in form.fields.items():
            known = target.fields.setdefault(name, FormField(name, f.kind))
            known.options += [o for o in f.options if o not in known.options]
            known.value = known.value or f.value

    def probe_posts(self) -> None:
        """POST once (empty) to every POST route, recording the form names views read."""
        self.recording = True
        for rule in self.app.url_map.iter_rules():
            if "POST" not in rule.methods:
                continue
            target = self.target(rule, "POST")
            roles = target.roles or self.targets.get((rule.endpoint, "GET"),
                                                     Target(rule, "GET")).roles or set(ROLES)
            target.roles = set(roles)
            if not target.paths:
                for values in good_path_values(rule, self.world):
                    target.add_path(values)
            role = min(roles, key=ROLES.index)
            with self.savepoint():
                self.client(role).post(rule_path(rule, target.paths[0]))
        self.recording = False

    def finish_targets(self) -> list[Target]:
        """Add the names views read; HEAD beside every GET; GET-only routes also get a POST
        (405); routes nobody could open are tried by everyone."""
        for key, names in self.recorded.items():
            endpoint, kind = key.split(" ")
            if kind == "form" and (endpoint, "POST") in self.targets:
                fields = self.targets[(endpoint, "POST")].fields
                for name in names:
                    fields.setdefault(name, FormField(name, "text"))
            elif kind == "args":
                for method in ("GET", "POST"):
                    if (endpoint, method) in self.targets:
                        for name in names:
                            self.targets[(endpoint, method)].query[name]
        for rule in self.app.url_map.iter_rules():
            if rule.endpoint == "static":
                continue
            for method in ("GET", "HEAD", "POST"):
                if method == "HEAD":
                    if "GET" not in rule.methods:
                        continue
                    get = self.target(rule, "GET")
                    head = self.target(rule, "HEAD")
                    head.roles, head.paths, head.query = get.roles, get.paths, get.query
                    continue
                target = self.target(rule, method)
                if not target.paths:
                    for values in good_path_values(rule, self.world):
                        target.add_path(values)
                if not target.roles:
                    target.roles = set(ROLES) if method in rule.methods else {"anonymous"}
        for target in self.targets.values():
            if not target.roles:
                target.roles = set(ROLES)
        return sorted(self.targets.values(), key=lambda t: (t.rule.rule, t.method))

    # -- sending --

    @staticmethod
    def _pick(values: set[str]) -> st.SearchStrategy[Any]:
        good = sorted(v for v in values if v != "1" or len(values) == 1)
        options = [st.none(), hostile_or_list()]
        if good:
            options.insert(1, st.sampled_from(good))
        return st.one_of(*options)

    def valid(self, f: FormField, good: dict[str, str]) -> st.SearchStrategy[Any]:
        if f.name in good:
            return st.just(good[f.name])
        if f.kind == "file":
            return st.just((png_bytes(), "photo.png"))
        if f.kind in ("checkbox", "radio", "select", "submit", "hidden") and f.options:
            usable = [o for o in f.options if o] or f.options
            return st.sampled_from(usable)
        return st.just(f.value or "1")

    def nasty(self, f: FormField) -> st.SearchStrategy[Any]:
        if f.kind == "file":
            return st.tuples(st.binary(max_size=64), st.sampled_from(
                ["x.jpg", "../../x.png", "a\u202egpj.exe", "", "x" * 300]))
        return hostile_or_list()

    def example(self, target: Target, data: Any) -> None:
        role = data.draw(st.sampled_from(sorted(target.roles, key=ROLES.index)), label="role")
        values = dict(data.draw(st.sampled_from(target.paths), label="path"))
        hit = data.draw(st.none() | st.sampled_from(sorted(values)), label="hostile path") \
            if values else None
        if hit is not None:
            values[hit] = data.draw(hostile(), label=hit)
        query: list[tuple[str, str]] = []
        for name in sorted(target.query):
            value = data.draw(self._pick(target.query[name]), label=f"?{name}")
            if value is not None:
                query += [(name, v) for v in (value if isinstance(value, list) else [value])]
        body: MultiDict | None = None
        headers = {"X-Webhook-Secret": WEBHOOK_SECRET}
        if data.draw(st.booleans(), label="htmx"):
            headers["HX-Request"] = "true"
        json_body = None
        if target.method == "POST":
            body = MultiDict()
            good = good_fields()
            names = sorted(target.fields)
            mode = data.draw(st.sampled_from(("focus", "chaos", "valid")), label="mode")
            focus = data.draw(st.sampled_from(names), label="focus") \
                if names and mode == "focus" else None
            for name in names:
                f = target.fields[name]
                if mode == "valid" or (mode == "focus" and name != focus):
                    value = data.draw(self.valid(f, good), label=name)
                elif mode == "focus":
                    value = data.draw(st.none() | self.nasty(f), label=name)
                else:
                    value = data.draw(st.none() | self.valid(f, good) | self.nasty(f),
                                      label=name)
                for one in (value if isinstance(value, list) else [value]):
                    if isinstance(one, tuple):
                        body.add(name, (io.BytesIO(one[0]), one[1]))
                    elif one is not None:
                        body.add(name, one)
            if not names and data.draw(st.booleans(), label="json"):
                json_body = data.draw(st.dictionaries(
                    st.sampled_from(["email", "type", "id", "name", "value"]) | hostile(),
                    hostile() | st.integers() | st.none() | st.lists(hostile(), max_size=2),
                    max_size=4), label="json")
        self.send(target, role, rule_path(target.rule, values), query, body, json_body,
                  headers)

    def send(self, target: Target, role: str, path: str, query: list[tuple[str, str]],
             body: MultiDict | None, json_body: Any, headers: dict[str, str]) -> None:
        fragments.clear()
        self.logged.clear()
        with self.savepoint():
            before = self.counts()
            client = self.client(role)
            kwargs: dict[str, Any] = {"query_string": query, "headers": headers}
            if json_body is not None:
                kwargs["json"] = json_body
            elif body is not None:
                kwargs["data"] = body
                if any(isinstance(v, tuple) for v in body.values()):
                    kwargs["content_type"] = "multipart/form-data"
            response = client.open(path, method=target.method, **kwargs)
            self.sent += 1
            status = response.status_code
            page = response.get_data().decode("utf-8", "replace") \
                if response.mimetype == "text/html" else ""
            problem = None
            if status >= 500:
                problem = f"{status}"
            elif status >= 400 or (status < 300 and target.method == "POST" and (
                    'class="invalid-feedback' in page or "alert alert-danger" in page)):
                after = self.counts()
                if after != before:
                    changed = {t: (b, a) for t, b, a in zip(self.tables, before, after) if a != b}
                    problem = f"{status} but rows changed: {changed}"
            if problem is not None:
                self.failures.append({
                    "endpoint": target.rule.endpoint, "method": target.method, "role": role,
                    "url": path + ("?" + "&".join(f"{k}={v!r}" for k, v in query)[:300]
                                   if query else ""),
                    "payload": _short(json_body if json_body is not None else
                                      [(k, v if isinstance(v, str) else "<file>")
                                       for k, v in (body.items(multi=True) if body else [])]),
                    "problem": problem, "error": "; ".join(self.logged) or "-"})

    def savepoint(self) -> Any:
        attack = self

        class _Savepoint:
            def __enter__(self) -> None:
                self.nested = attack.connection.begin_nested()

            def __exit__(self, *exc: Any) -> None:
                self.nested.rollback()

        return _Savepoint()

    def run(self, target: Target) -> None:
        count = EXAMPLES[target.method]
        if target.method == "POST" and target.method not in target.rule.methods:
            count = 1  # 405: one is enough
        elif target.method == "POST":
            count += min(len(target.fields), FIELD_EXAMPLES)

        @settings(max_examples=count, derandomize=True, database=None, deadline=None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck),
                  print_blob=False)
        @given(st.data())
        def attack(data: Any) -> None:
            self.example(target, data)

        attack()


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=True, default=str)
    return text if len(text) <= 400 else text[:400] + "…"


def report(failures: list[dict[str, Any]]) -> str:
    lines = [f"{len(failures)} hostile request(s) failed:"]
    seen: set[tuple[str, str, str]] = set()
    for f in failures:
        key = (f["endpoint"], f["method"], f["error"].split(" at ")[0][:60])
        marker = "" if key not in seen else "  (same as above)"
        seen.add(key)
        lines.append(f"- {f['method']} {f['url']} as {f['role']}: {f['problem']}{marker}\n"
                     f"    error: {f['error']}\n    payload: {f['payload']}")
    return "\n".join(lines)


# --- the test --------------------------------------------------------------------------------

def test_hostile_input_never_crashes_or_half_writes(app, session, session_factory,
                                                    make_family):
    world = build_world(app, session, make_family)
    connection = session_factory.kw["bind"]
    attack = Attack(app, world, connection)
    try:
        import time; t0 = time.monotonic()
        attack.login_everyone()
        with attack.savepoint():
            attack.crawl()
        print("crawl", time.monotonic() - t0, len(attack.timing), sum(t[0] for t in attack.timing)); t0 = time.monotonic()
        for t in sorted(attack.timing, key=lambda t: -t[0])[:25]: print("  slow", t)
        import collections; c = collections.Counter(t[2].split("/")[1] for t in attack.timing); print(c)
        attack.probe_posts()
        print("probe", time.monotonic() - t0)
        targets = attack.finish_targets()
        print("targets", len(targets), sum(len(t.fields) for t in targets))
        # The discovery found the site: every rule is a target, forms were read.
        rules = {r.endpoint for r in app.url_map.iter_rules() if r.endpoint != "static"}
        assert rules <= {t.rule.endpoint for t in targets}
        assert len(attack.targets[("diary.new_entry", "POST")].fields) >= 10
        assert "before" in attack.targets[("diary.timeline", "GET")].query
        assert "publish_at" in attack.targets[("studio.act", "POST")].fields
        assert "owner" in attack.targets[("diary.new_entry", "POST")].roles
        assert "marketer" in attack.targets[("studio.index", "GET")].roles
        t0 = time.monotonic()
        for target in targets:
            t1 = time.monotonic()
            attack.run(target)
            print(f"{target.method} {target.rule.rule} {time.monotonic() - t1:.2f}")
        print("attack", time.monotonic() - t0, attack.sent)
    finally:
        attack.close()
    assert not attack.failures, report(attack.failures)
    assert attack.sent > 500
