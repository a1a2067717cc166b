"""Stored and reflected XSS, found generically: every text field of every form a parent or
a member of staff can reach gets script payloads, every query parameter gets them too, and
then every page those people can read is parsed (not searched for a substring): no element,
attribute or URL the payloads carry may appear as markup.

Forms come from the pages themselves (as in test_hostile_input.py): family A's pages and
the studio's are read, every POST form is parsed and sent with its text fields (text,
search, url, tel and text areas) filled with payloads and everything else as the page had
it. A page re-rendered with errors is checked too (a reflected payload).
"""
from __future__ import annotations

from collections import deque
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urljoin, urlsplit

import pytest
from werkzeug.exceptions import HTTPException
from werkzeug.routing.exceptions import RequestRedirect

from diary import accounts
from tests.conftest import PASSWORD
from tests.web.attack_world import build, csrf_of, fill, is_staff_rule
from tests.web.test_hostile_input import Attack, PageParser, good_fields, rule_path

MARK = "xssmark"
LONG = (f"\"><img src=x onerror=alert('{MARK}')><script>alert('{MARK}')</script>"
        f"<svg onload=alert('{MARK}')></svg><iframe src=javascript:alert('{MARK}')></iframe>"
        f" [{MARK}](javascript:alert('{MARK}')) xss{{{{7*7}}}}{MARK} {{% print 1 %}}")
SHORT = f"'\"><img src=x onerror=alert(1)>{{{{7*7}}}}{MARK}"
URL = f"javascript:alert('{MARK}')"
TEXT_KINDS = {"text", "textarea", "search", "tel", "url"}
STAFF_ROLES = ("admin", "marketer", "reviewer", "service", "moderator", "analyst")
PAGE_LIMIT = 400


class Injection(HTMLParser):
    """Markup a payload could have made: script elements with no src, event handler
    attributes, javascript: URLs, evaluated template syntax."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[str] = []
        self._script = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k.lower(): (v or "") for k, v in attrs}
        if tag == "script" and "src" not in a:
            self.found.append("<script> without src")
        for name, value in a.items():
            if name.startswith("on"):
                self.found.append(f"<{tag} {name}=…>")
            if name in ("href", "src", "action", "formaction", "data", "xlink:href") and \
                    value.strip().lower().replace("\t", "").startswith("javascript:"):
                self.found.append(f"<{tag} {name}={value[:40]}>")

    def handle_data(self, data: str) -> None:
        if f"xss49{MARK}" in data:
            self.found.append("template syntax evaluated")


def injections(page: str) -> list[str]:
    parser = Injection()
    parser.feed(page)
    return parser.found


def test_the_detector_sees_each_payload_unescaped():
    assert len(injections(LONG)) == 4 and injections(SHORT)
    assert injections(f'<a href="{URL}">x</a>') and injections(f"<p>xss49{MARK}</p>")
    from markupsafe import escape
    assert injections(str(escape(LONG))) == [] and injections(str(escape(SHORT))) == []


@pytest.fixture()
def app_overrides():
    return {"WTF_CSRF_ENABLED": True, "PROPAGATE_UNEXPECTED": False}


class Visitor:
    """A signed-in person's client and CSRF token."""

    def __init__(self, app: Any, user: Any) -> None:
        self.client = app.test_client()
        self.user = user
        token = csrf_of(self.client.get("/login").get_data(as_text=True))
        response = self.client.post("/login", data={
            "email": user.email, "password": PASSWORD, "csrf_token": token})
        assert response.status_code == 302, user.email
        self.token = csrf_of(self.client.get("/account").get_data(as_text=True))


def test_script_payloads_in_every_text_field_and_parameter_are_never_markup(
        app, session, make_family):
    world = build(app, session, make_family)
    staff = {role: accounts.create_staff(session, f"xss-{role}@example.com", PASSWORD, role,
                                         role.title()) for role in STAFF_ROLES}
    session.commit()
    people = {"owner": Visitor(app, world["a"]),
              **{role: Visitor(app, user) for role, user in staff.items()}}
    adapter = app.url_map.bind("localhost")
    failures: list[str] = []

    def match(base: str, href: str, method: str) -> Any:
        url = urlsplit(urljoin(base, href))
        if url.scheme not in ("", "http") or url.netloc not in ("", "localhost"):
            return None
        try:
            rule, _ = adapter.match(url.path, method=method, return_rule=True)
        except (HTTPException, RequestRedirect):
            return None
        return None if rule.endpoint == "static" else (rule, url)

    def crawl(readers: tuple[str, ...]) -> list[tuple[str, str, str]]:
        """Read every page the readers can, following links; check each; return the pages
        (reader, url, html)."""
        queue: deque[tuple[str, str]] = deque()
        for rule in app.url_map.iter_rules():
            if "GET" not in rule.methods or rule.endpoint == "static" or \
                    rule.endpoint.endswith((".export", "reports_export")):
                continue
            try:
                args, _ = fill(rule, world["values"])
            except AssertionError:
                continue  # test_attack_sweeps reports unknown arguments
            for reader in readers:
                if is_staff_rule(rule) == (reader != "owner"):
                    queue.append((reader, rule_path(rule, args)))
        seen: set[tuple[str, str]] = set()
        pages = []
        per_endpoint: dict[tuple[str, str], int] = {}
        while queue and len(seen) < PAGE_LIMIT * len(readers):
            reader, url = queue.popleft()
            if (reader, url) in seen:
                continue
            seen.add((reader, url))
            response = people[reader].client.get(url)
            if response.status_code != 200 or response.mimetype != "text/html":
                response.close()
                continue
            page = response.get_data(as_text=True)
            for found in injections(page):
                failures.append(f"GET {url} as {reader}: {found}")
            pages.append((reader, url, page))
            links = PageParser()
            links.feed(page)
            for href in links.links:
                found = match(url, href, "GET")
                if found is None:
                    continue
                key = (reader, found[0].endpoint)
                if per_endpoint.get(key, 0) < 2:  # a list and one of its items
                    per_endpoint[key] = per_endpoint.get(key, 0) + 1
                    queue.append((reader, found[1].path + (
                        "?" + found[1].query if found[1].query else "")))
        return pages

    # 1. Every POST form on every page, its text fields full of payloads.
    pages = crawl(("owner", "admin"))
    good = good_fields()
    sent = 0
    for reader, url, page in pages:
        forms = PageParser()
        forms.feed(page)
        for form in forms.forms:
            found = match(url, form.action or url, form.method)
            if form.method != "POST" or found is None or found[0].endpoint in (
                    "auth.logout", "account.delete", "account.end_other_sessions",
                    "family.delete_child", "diary.delete_entry", "main.set_language"):
                continue
            texts = [f for f in form.fields.values() if f.kind in TEXT_KINDS]
            if not texts:
                continue
            kept = False
            for payload in (LONG, SHORT):  # the short one where the long one was refused
                if payload is SHORT and kept:
                    break
                data: dict[str, Any] = {}
                for name, f in form.fields.items():
                    if f.kind in TEXT_KINDS:
                        data[name] = URL if f.kind == "url" else payload
                    elif f.kind == "file":
                        continue
                    else:
                        value = Attack.valid(f, good)
                        if value is not None:
                            data[name] = value
                data["csrf_token"] = people[reader].token
                target = found[1].path + ("?" + found[1].query if found[1].query else "")
                posters = (reader,) if reader == "owner" else STAFF_ROLES
                for poster in posters:  # the admin sees every staff form; some are a role's
                    data["csrf_token"] = people[poster].token
                    response = people[poster].client.post(target, data=data)
                    sent += 1
                    if response.mimetype == "text/html":
                        for hit in injections(response.get_data(as_text=True)):
                            failures.append(f"POST {target} as {poster}: {hit}")
                    if response.status_code not in (403, 404):
                        break
                kept = response.status_code in (302, 303)
    assert sent > 60
    # 2. Every page again, as the family and as the admin (who reads every staff page):
    # nothing stored is markup.
    stored = crawl(("owner", "admin"))
    assert len(stored) > 100
    assert any(MARK in page for _, _, page in stored)  # the payloads were kept, as text
    # 3. Reflected: every page with every parameter name the site uses set to payloads.
    names = {"q", "next", "from", "kind", "status", "page", "before", "topic", "back",
             "stage", "segment", "month", "months", "days", "surface", "version", "step",
             "show", "drafts", "canned", "end", "locale", "name", "r", "review_id"}
    done: set[tuple[str, str]] = set()
    for reader, url, _ in pages:
        path = urlsplit(url).path
        rule = match(url, path, "GET")
        if rule is None or (reader, rule[0].endpoint) in done:
            continue  # one page of each kind
        done.add((reader, rule[0].endpoint))
        response = people[reader].client.get(path, query_string={n: SHORT for n in names})
        if response.mimetype == "text/html":
            for hit in injections(response.get_data(as_text=True)):
                failures.append(f"GET {path}?…={SHORT} as {reader}: {hit}")
    assert not failures, "\n".join(sorted(set(failures)))
