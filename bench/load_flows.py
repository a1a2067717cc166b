"""What the simulated parents of bench/load.py do, apart from any load tool.

A parent signs in through the real form, then, with a pause between pages as people take,
opens their child's home page (most often), the timeline, the library and an article, the
suggestions fragment, and now and then writes a quick entry (the form as the browser would
send it: every field as the page filled it in, a few set by hand). Every answer is checked:
the right status, the parent's own child on the child's pages. A wrong answer is an error of
its page kind, never a silent success.

The flows speak to a `Client` (one signed-in browser: it keeps its cookies), so the same
code runs under locust in bench/load.py and against the Flask test client in
tests/web/test_load_flows.py, which keeps them in step with the routes. Nothing here imports
locust, gevent or the app.
"""
from __future__ import annotations

import random
import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from html.parser import HTMLParser
from typing import Protocol

#: How often each flow is chosen, like real use: the child home is where a parent lands and
#: returns; the timeline next; reading and the suggestions less; writing an entry now and then.
WEIGHTS: dict[str, int] = {
    "child_home": 40,
    "timeline": 22,
    "article": 16,
    "suggestions": 10,
    "add_entry": 12,
}
#: The page kinds the flows report timings and errors under (a flow may ask for several).
PAGE_KINDS = ("login", "child_home", "timeline", "library", "library_stage", "article",
              "suggestions", "entry_form", "add_entry", "entry")
#: Quick entries a parent writes: born children get the daily logs, expected ones notes.
BORN_KINDS = ("feeding", "diaper", "sleep", "note")
EXPECTING_KINDS = ("note", "kicks")
_ARTICLE = re.compile(r'href="/articles/([A-Za-z0-9_-]+)"')
_STAGE = re.compile(r'href="/library/stage/([A-Za-z0-9_:-]+)"')
_ENTRY = re.compile(r"^/entries/(\d+)$")


@dataclass
class Reply:
    status: int  # 0: no answer (refused, reset, timed out), `text` names the error
    text: str
    location: str | None = None


class Client(Protocol):
    """One browser: sends a request with its own cookies (and keeps those it is given), does
    not follow redirects, and returns the answer."""

    def request(self, method: str, path: str, kind: str,
                data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> Reply: ...


@dataclass
class Parent:
    """Who a simulated user is: their sign-in and the child whose pages they open."""
    email: str
    password: str
    child_id: int
    child_name: str
    born: bool = True
    can_write: bool = True


@dataclass
class Tally:
    """Errors by page kind and by what went wrong (the timings are the load tool's)."""
    errors: Counter[tuple[str, str]] = field(default_factory=Counter)
    visits: Counter[str] = field(default_factory=Counter)
    entries_written: int = 0

    def error(self, kind: str, what: str) -> None:
        self.errors[(kind, what)] += 1

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


class FormFields(HTMLParser):
    """The fields of a page's own form (the first POST form sent to the page's URL: no
    `action`, or `action` = `path`) as a browser would send them unchanged."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.actions = {"", path}
        self.fields: dict[str, str] = {}
        self._in_form = self._done = False
        self._select: str | None = None
        self._select_first: str | None = None
        self._textarea: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {k: v or "" for k, v in attrs}
        if tag == "form" and not self._done and a.get("method", "").lower() == "post" \
                and a.get("action", "") in self.actions:
            self._in_form = True
        if not self._in_form or not a.get("name") and tag != "option":
            return
        if tag == "input":
            kind = a.get("type", "text").lower()
            if kind in ("submit", "button", "file", "image", "reset"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                return
            self.fields[a["name"]] = a.get("value", "on" if kind == "checkbox" else "")
        elif tag == "select":
            self._select, self._select_first = a["name"], None
        elif tag == "option" and self._select is not None:
            value = a.get("value", "")
            if self._select_first is None:
                self._select_first = value
            if "selected" in a:
                self.fields[self._select] = value
        elif tag == "textarea":
            self._textarea = a["name"]
            self.fields[a["name"]] = ""

    def handle_data(self, data: str) -> None:
        if self._textarea is not None:
            self.fields[self._textarea] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "select" and self._select is not None:
            self.fields.setdefault(self._select, self._select_first or "")
            self._select = None
        elif tag == "textarea":
            self._textarea = None
        elif tag == "form" and self._in_form:
            self._in_form, self._done = False, True


def form_fields(html: str, path: str) -> dict[str, str]:
    parser = FormFields(path)
    parser.feed(html)
    return parser.fields


def quick_entry(kind: str, rng: random.Random) -> dict[str, str]:
    """What a parent types into the entry form of `kind` (the rest stays as filled in)."""
    if kind == "feeding":
        return {"method": "bottle_formula", "amount_ml": str(rng.randrange(60, 210, 10))}
    if kind == "diaper":
        return {"wet": "y"} if rng.random() < 0.7 else {"wet": "y", "dirty": "y"}
    if kind == "sleep":
        return {"sleep_hours": str(rng.randint(0, 3)), "sleep_minutes": str(rng.randint(5, 55))}
    if kind == "kicks":
        return {"kick_count": str(rng.randint(5, 20)), "kick_minutes": str(rng.randint(10, 60))}
    return {"body": rng.choice(["A quiet afternoon.", "Long walk in the park.",
                                "今天很开心，睡得很好。", "Grandma came to visit."])}


class Flows:
    """One simulated parent's visits over one `Client`; checks every answer into `tally`."""

    def __init__(self, client: Client, parent: Parent, tally: Tally,
                 rng: random.Random | None = None) -> None:
        self.client, self.parent, self.tally = client, parent, tally
        self.rng = rng or random.Random()
        self.articles: list[str] = []
        self.flows: dict[str, Callable[[], None]] = {
            "child_home": self.child_home, "timeline": self.timeline,
            "article": self.article, "suggestions": self.suggestions,
            "add_entry": self.add_entry}

    # -- checks -------------------------------------------------------------------------

    def get(self, path: str, kind: str, *, expect: int = 200, shows: str | None = None,
            headers: dict[str, str] | None = None) -> Reply | None:
        return self._checked(self.client.request("GET", path, kind, headers=headers), kind,
                             expect, shows)

    def _checked(self, reply: Reply, kind: str, expect: int, shows: str | None
                 ) -> Reply | None:
        self.tally.visits[kind] += 1
        if reply.status == 0:  # the client got no answer: reply.text says why
            self.tally.error(kind, f"no answer ({reply.text})")
            return None
        if reply.status != expect:
            # where it sent the browser, without the query (a lost session's /login?next=…
            # is one kind of error, whichever page it was on)
            where = f" to {reply.location.split('?')[0]}" if reply.location else ""
            self.tally.error(kind, f"HTTP {reply.status}{where}")
            return None
        if shows is not None and shows not in reply.text:
            self.tally.error(kind, f"page without {shows!r}")
            return None
        return reply

    # -- what a parent does ---------------------------------------------------------------

    def sign_in(self) -> bool:
        """The real form: GET /login for its CSRF token, POST the address and password."""
        page = self.get("/login", "login")
        if page is None:
            return False
        fields = form_fields(page.text, "/login")
        fields.update(email=self.parent.email, password=self.parent.password)
        reply = self.client.request("POST", "/login", "login", data=fields)
        return self._checked(reply, "login", 302, None) is not None

    def step(self) -> str:
        """One visit, chosen by WEIGHTS (viewers, who cannot write, read instead)."""
        names = list(WEIGHTS)
        name = self.rng.choices(names, weights=[WEIGHTS[n] for n in names])[0]
        if name == "add_entry" and not self.parent.can_write:
            name = "timeline"
        self.flows[name]()
        return name

    def _child_path(self) -> str:
        return f"/children/{self.parent.child_id}"

    def _learn_articles(self, html: str) -> None:
        for slug in _ARTICLE.findall(html):
            if slug not in self.articles:
                self.articles.append(slug)

    def child_home(self) -> None:
        page = self.get(self._child_path(), "child_home", shows=self.parent.child_name)
        if page is not None:
            self._learn_articles(page.text)

    def timeline(self) -> None:
        self.get(f"{self._child_path()}/timeline", "timeline", shows=self.parent.child_name)

    def suggestions(self) -> None:
        """The fragment the child page's htmx asks for (it may be empty for a stage)."""
        self.get(f"{self._child_path()}/suggestions?surface=child_page", "suggestions",
                 headers={"HX-Request": "true"})

    def article(self) -> None:
        """Now and then (always when no article is known yet) the library and the first
        stage it offers (the parent's own child's), then an article met on the way."""
        if not self.articles or self.rng.random() < 0.25:
            page = self.get("/library", "library")
            if page is None:
                return
            stages = _STAGE.findall(page.text)
            if not stages:
                self.tally.error("library", "no stage links")
                return
            page = self.get(f"/library/stage/{stages[0]}", "library_stage")
            if page is None:
                return
            self._learn_articles(page.text)
        if not self.articles:
            self.tally.error("library_stage", "no article links")
            return
        self.get(f"/articles/{self.rng.choice(self.articles)}", "article")

    def add_entry(self) -> None:
        """Open the new-entry form, send it as filled in plus the parent's own values, and
        follow the redirect to the new entry."""
        kind = self.rng.choice(BORN_KINDS if self.parent.born else EXPECTING_KINDS)
        path = f"{self._child_path()}/entries/new?kind={kind}"
        form = self.get(path, "entry_form")
        if form is None:
            return
        fields = form_fields(form.text, path)
        fields.update(quick_entry(kind, self.rng))
        reply = self.client.request("POST", path, "add_entry", data=fields)
        if self._checked(reply, "add_entry", 302, None) is None:
            return
        target = _ENTRY.match(reply.location or "")
        if target is None:
            self.tally.error("add_entry", f"redirected to {reply.location!r}, not an entry")
            return
        self.tally.entries_written += 1
        self.get(reply.location or "", "entry", shows=self.parent.child_name)
