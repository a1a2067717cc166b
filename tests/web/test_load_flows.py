"""bench/load.py's simulated parents, run for a few rounds against the test app (CSRF on),
so that its flows cannot rot as routes and forms change: every flow, 0 errors, the entries
really written. And the flows' checks catch what they must: another family's child, a
viewer who tries to write, a wrong password."""
from __future__ import annotations

import json
import random
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from sqlalchemy import func, select

from content import packs
from diary.models import Entry, Membership
from diary.photos import PhotoStore
from tests.conftest import PASSWORD

# appended: bench/crm.py and bench/recommender.py must never shadow the packages
sys.path.append(str(Path(__file__).resolve().parents[2] / "bench"))
import load_flows  # noqa: E402
from load_flows import Flows, Parent, Tally  # noqa: E402


@pytest.fixture()
def app_overrides() -> dict[str, Any]:
    return {"WTF_CSRF_ENABLED": True}  # the flows send the forms' tokens, as browsers do


class AppClient:
    """load_flows.Client over a Flask test client (which keeps the cookies)."""

    def __init__(self, app: Any) -> None:
        self.client = app.test_client()
        self.client.environ_base.update({"HTTP_USER_AGENT": "bench-load/1.0"})
        self.requests: list[tuple[str, str, str]] = []

    def request(self, method: str, path: str, kind: str, data: dict[str, str] | None = None,
                headers: dict[str, str] | None = None) -> load_flows.Reply:
        self.requests.append((kind, method, path))
        response = self.client.open(path, method=method, data=data, headers=headers or {})
        location = response.headers.get("Location")
        if location:
            parts = urlsplit(location)
            location = parts.path + (f"?{parts.query}" if parts.query else "")
        return load_flows.Reply(response.status_code, response.get_data(as_text=True),
                                location)


@pytest.fixture()
def content(session, tmp_path):
    """Two articles, one for each child's stage (the default pack takes seconds)."""
    folder = tmp_path / "pack"
    folder.mkdir()
    articles = []
    for slug, unit, week in (("month-3", "month", 3), ("week-20", "pregnancy_week", 20)):
        text = {"title": slug.title(), "summary": "Short.", "body": "## Sleep\n\nText."}
        articles.append({"slug": slug, "window": {"unit": unit, "from": week, "to": week},
                         "topics": ["prenatal-care"], "source": "WHO",
                         "translations": {"en": text, "zh_CN": text}})
    (folder / "articles.json").write_text(json.dumps(articles))
    packs.import_pack(session, folder, None, PhotoStore(tmp_path / "img"))
    session.commit()


def parent_of(user, child, **kw) -> Parent:
    return Parent(user.email, PASSWORD, child.id, child.name, **kw)


@pytest.mark.clock_at("2026-11-23T04:00")
def test_every_flow_runs_without_errors(app, session, make_family, content):
    born_user, born = make_family(name="Mia")
    expecting_user, bump = make_family(born=False, name="Bean")
    tally = Tally()
    runs = []
    for n, parent in enumerate((parent_of(born_user, born),
                                parent_of(expecting_user, bump, born=False))):
        client = AppClient(app)
        flows = Flows(client, parent, tally, random.Random(n))
        assert flows.sign_in()
        flows.article()  # nothing known yet: the library, the child's stage, an article
        assert [kind for kind, _, _ in client.requests[-3:]] == [
            "library", "library_stage", "article"]
        for name in load_flows.WEIGHTS:  # each flow twice, then a few chosen by weight
            flows.flows[name]()
            flows.flows[name]()
        chosen = [flows.step() for _ in range(10)]
        runs.append((client, chosen))
    assert tally.errors == {}, tally.errors
    kinds = {kind for client, _ in runs for kind, _, _ in client.requests}
    assert kinds == set(load_flows.PAGE_KINDS)
    assert tally.entries_written >= 4
    assert set(tally.visits) == set(load_flows.PAGE_KINDS)
    written = session.scalar(select(func.count()).select_from(Entry).where(
        Entry.child_id.in_([born.id, bump.id])))
    assert written == tally.entries_written
    assert session.scalar(select(func.count()).select_from(Entry).where(
        Entry.child_id == bump.id, Entry.kind.notin_(load_flows.EXPECTING_KINDS))) == 0


@pytest.mark.clock_at("2026-11-23T04:00")
def test_the_checks_count_wrong_answers_as_errors(app, session, make_family, content):
    user, child = make_family(name="Mia")
    other_user, other = make_family(name="Noah")
    tally = Tally()
    # Someone else's child: every child page is an error (404), nothing is written.
    flows = Flows(AppClient(app), Parent(user.email, PASSWORD, other.id, other.name), tally,
                  random.Random(1))
    assert flows.sign_in()
    flows.child_home()
    flows.timeline()
    flows.suggestions()
    flows.add_entry()
    assert tally.errors == {("child_home", "HTTP 404"): 1, ("timeline", "HTTP 404"): 1,
                            ("suggestions", "HTTP 404"): 1, ("entry_form", "HTTP 404"): 1}
    assert tally.entries_written == 0
    # Not signed in (a lost session): the sign-in page's redirect is an error, not a page.
    tally = Tally()
    Flows(AppClient(app), Parent(user.email, PASSWORD, child.id, "Mia"), tally).child_home()
    assert tally.errors == {("child_home", "HTTP 302 to /login"): 1}
    # Their own child's page under another child's name: the page is checked, not trusted.
    tally = Tally()
    wrong_name = Flows(AppClient(app), Parent(user.email, PASSWORD, child.id, "Noah"), tally)
    assert wrong_name.sign_in()
    wrong_name.child_home()
    assert tally.errors == {("child_home", "page without 'Noah'"): 1}
    # A wrong password: the sign-in fails and says so.
    tally = Tally()
    assert not Flows(AppClient(app), Parent(user.email, "wrong-password", child.id, "Mia"),
                     tally).sign_in()
    assert tally.errors == {("login", "HTTP 200"): 1}
    assert session.scalar(select(func.count()).select_from(Entry).where(
        Entry.child_id.in_([child.id, other.id]))) == 0


@pytest.mark.clock_at("2026-11-23T04:00")
def test_a_viewer_reads_instead_of_writing(app, session, make_family, content):
    owner, child = make_family(name="Mia")
    viewer, _ = make_family(name="Other")
    session.add(Membership(family_id=child.family_id, user_id=viewer.id, role="viewer",
                           relationship_to_child="grandparent"))
    session.commit()
    tally = Tally()
    client = AppClient(app)
    flows = Flows(client, Parent(viewer.email, PASSWORD, child.id, "Mia", can_write=False),
                  tally, random.Random(3))
    assert flows.sign_in()
    chosen = [flows.step() for _ in range(40)]
    assert "add_entry" not in chosen and "timeline" in chosen
    assert tally.errors == {}
    # Told it may write, the viewer's attempt is an error: the form is refused.
    flows.parent.can_write = True
    flows.add_entry()
    assert tally.errors == {("entry_form", "HTTP 403"): 1}
    assert tally.entries_written == 0
