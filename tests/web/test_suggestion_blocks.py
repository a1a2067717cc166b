"""Kept suggestion blocks (webapp/suggestion_blocks.py) and batched impressions
(POST /api/impressions with signed slate tokens).

Attacks tried here: an altered token, a token signed with another secret, a token of a
person whose account has gone, positions outside the list, negative and boolean positions,
a replayed batch, a body that is not a batch, too many slates, GET/HEAD on the endpoint, a
call with no session at all (allowed: the token is the proof)."""
from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest
from sqlalchemy import delete, select, update

from content.models import ContentItem
from diary import entries, invitations
from diary.entry_kinds import EntryInput, MeasurementInput
from recommender import impressions, present
from recommender.models import Interaction
from tests.recommender.test_serve import make_product
from tests.tokens import tampered
from tests.web.test_suggestions import BORN, shown

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


@pytest.fixture
def shop(session):
    items = [make_product(session, "BJ-NAPPY-M", "nappies", 3, 9, consumable=True,
                          text="Nappies M"),
             make_product(session, "BJ-TOY-A", "toys", text="Soft rattle"),
             make_product(session, "BJ-BATH-TUB", "bath", 4, 4, text="Bath tub")]
    session.commit()
    return items


@pytest.fixture
def family(make_family, app):
    app.config["RECO_CONTROL_SHARE"] = 0.0
    return make_family(birth_date=BORN, name="Mia")


@pytest.fixture
def ranked(monkeypatch):
    """How many times suggestions were worked out (not taken from a kept block)."""
    calls = []
    real = present.cards

    def counting(*args, **kwargs):
        calls.append(args[3].id)  # the child
        return real(*args, **kwargs)

    monkeypatch.setattr(present, "cards", counting)
    return calls


def child_page(client, child):
    return client.get(f"/children/{child.id}").get_data(as_text=True)


def suggested(html):
    """The items of the suggestions section (the page's "handy now" links carry ids too)."""
    return shown(html.split('id="suggestions-child_page"', 1)[1])


def slate_of(html):
    section = re.search(r'<section class="suggestions[^>]*data-reco-slate="([^"]+)"[^>]*'
                        r'data-reco-request="([0-9a-f]{32})"', html)
    return section.group(1), section.group(2)


def test_a_second_visit_takes_the_kept_block_under_a_new_request_id(
        client, login_as, family, shop, ranked):
    user, child = family
    login_as(user)
    first, second = child_page(client, child), child_page(client, child)
    assert ranked == [child.id]  # worked out once
    assert suggested(first) == suggested(second) and len(suggested(first)) == 3
    (token_1, request_1), (token_2, request_2) = slate_of(first), slate_of(second)
    assert request_1 != request_2 and token_1 != token_2
    assert f"?r={request_2}" in second or "/go/" not in second


def test_the_kept_block_goes_stale_with_whatever_it_depends_on(
        client, login_as, family, shop, ranked, session):
    user, child = family
    login_as(user)
    html = child_page(client, child)
    toy = shop[1]
    _, request_id = slate_of(html)
    # a dismiss (through the log) changes the child's signals: ranked again, toy gone
    event = {"kind": "dismiss", "item_id": toy.id, "surface": "child_page",
             "request_id": request_id, "position": suggested(html).index(toy.id),
             "model_version": "none", "child_id": child.id}
    assert client.post("/api/interactions", json={"events": [event]}).status_code == 200
    assert toy.id not in suggested(child_page(client, child))
    assert len(ranked) == 2
    # a measurement (the next nappy size reads the latest weight)
    author = session.get(type(user), user.id)
    kid = session.get(type(child), child.id)
    entries.create_entry(session, kid, author, EntryInput(
        kind="measurement", occurred_at=datetime(2026, 11, 22, 3, tzinfo=UTC),
        measurement=MeasurementInput(weight_kg=6.2)))
    session.commit()
    child_page(client, child)
    assert len(ranked) == 3
    # another language is another block
    client.post("/language", data={"lang": "zh_CN", "next": "/"})
    assert "不适合我们" in child_page(client, child)
    assert len(ranked) == 4
    # a product archived (the newest content change moves)
    session.execute(update(ContentItem).where(ContentItem.id == shop[2].id)
                    .values(status="archived", updated_at=datetime(2026, 11, 23, 3, tzinfo=UTC)))
    session.commit()
    assert shop[2].id not in suggested(child_page(client, child))
    assert len(ranked) == 5
    # nothing changed: kept
    child_page(client, child)
    assert len(ranked) == 5


def test_a_partners_action_makes_the_childs_block_stale_for_the_other_parent(
        client, login_as, family, shop, ranked, session, make_family):
    user, child = family
    partner, _ = make_family()
    invitation = invitations.invite(session, child.family, user, partner.email, "editor",
                                    "other")
    invitations.accept(session, invitation, partner)
    session.commit()
    login_as(user)
    child_page(client, child)
    toy = shop[1]
    login_as(partner)
    html = child_page(client, child)
    event = {"kind": "dismiss", "item_id": toy.id, "surface": "child_page",
             "request_id": slate_of(html)[1], "position": 0, "model_version": "none",
             "child_id": child.id}
    assert client.post("/api/interactions", json={"events": [event]}).status_code == 200
    login_as(user)
    assert toy.id not in suggested(child_page(client, child))


def test_an_operator_can_switch_a_surface_off(client, login_as, family, shop, app):
    user, child = family
    login_as(user)
    app.config["RECO_SURFACES"] = ("article",)
    assert "suggestion-card" not in child_page(client, child)
    assert client.get(f"/children/{child.id}/suggestions?surface=child_page",
                      headers={"HX-Request": "true"}).status_code == 404
    assert 'hx-get="/children' not in client.get("/inbox").get_data(as_text=True)


# --- POST /api/impressions ---------------------------------------------------------------------

def drained(session):
    """What the scheduler's "impressions" job does: (batches taken, impressions logged)."""
    session.commit()  # end the test's own transaction (a rollback would undo the app's)
    result = impressions.drain(session)
    session.commit()
    return result


def logged(session):
    return session.execute(select(
        Interaction.kind, Interaction.item_id, Interaction.user_id, Interaction.child_id,
        Interaction.position, Interaction.surface, Interaction.stage, Interaction.request_id,
        Interaction.model_version).order_by(Interaction.position)).all()


def test_seen_positions_of_a_signed_list_are_logged_once(client, app, login_as, family, shop,
                                                         session):
    user, child = family
    login_as(user)
    html = child_page(client, child)
    token, request_id = slate_of(html)
    items = suggested(html)
    fresh = app.test_client()  # no session, no CSRF token: the slate token is the proof
    body = {"slates": [{"token": token, "seen": [0, 2, 2, 7]}]}
    response = fresh.post("/api/impressions", json=body)
    assert (response.status_code, response.json) == (200, {"accepted": 2, "received": 1})
    assert logged(session) == []  # kept for the scheduler, not yet in the log
    assert drained(session) == (1, 2)
    assert logged(session) == [
        ("impression", items[0], user.id, child.id, 0, "child_page", "month:4", request_id,
         "none"),
        ("impression", items[2], user.id, child.id, 2, "child_page", "month:4", request_id,
         "none")]
    assert fresh.post("/api/impressions", json=body).json["accepted"] == 2  # a replay
    assert drained(session) == (1, 0)  # … logs nothing twice
    assert drained(session) == (0, 0)
    # the same impression through the card endpoint is the same event
    event = {"kind": "impression", "item_id": items[0], "surface": "child_page",
             "position": 0, "model_version": "none", "request_id": request_id,
             "child_id": child.id}
    assert client.post("/api/interactions", json={"events": [event]}).json["logged"] == 0


def test_altered_foreign_and_orphaned_tokens_log_nothing(client, app, login_as, family, shop,
                                                         session, make_family):
    user, child = family
    login_as(user)
    token, request_id = slate_of(child_page(client, child))
    foreign = impressions.make_token("another-secret", impressions.read_token(
        app.config["SECRET_KEY"], token))
    for bad in (tampered(token), foreign, "x", 5, None):
        response = client.post("/api/impressions", json={"slates": [{"token": bad,
                                                                     "seen": [0]}]})
        assert (response.status_code, response.json["accepted"]) == (200, 0)
    session.execute(delete(type(child)).where(type(child).id == child.id))
    session.commit()
    response = client.post("/api/impressions", json={"slates": [{"token": token, "seen": [0]}]})
    assert (response.status_code, response.json["accepted"]) == (200, 1)  # the token holds
    assert drained(session) == (1, 0)  # but the child has gone: nothing names nobody
    assert logged(session) == []


@pytest.mark.parametrize("body", [
    None, [], {}, {"slates": []}, {"slates": "x"}, {"slates": [{"token": "t"}]},
    {"slates": [{"token": "t", "seen": []}]}, {"slates": [{"token": "t", "seen": ["0"]}]},
    {"slates": [{"token": "t", "seen": [True]}]}, {"slates": [{"token": "t", "seen": [0.5]}]},
    {"slates": [{"token": "t", "seen": [0]}] * 21},
    {"slates": [{"token": "t", "seen": list(range(51))}]}])
def test_a_body_that_is_not_a_batch_gets_the_reason(client, body):
    response = client.post("/api/impressions", json=body)
    assert response.status_code == 400
    assert "list of 1 to 20 slates" in response.json["error"]


def test_negative_positions_are_ignored_and_only_post_is_allowed(client, login_as, family, shop,
                                                                 session):
    user, child = family
    login_as(user)
    token, _ = slate_of(child_page(client, child))
    response = client.post("/api/impressions", json={"slates": [{"token": token,
                                                                 "seen": [-1, 3]}]})
    assert response.json["accepted"] == 0  # the list holds three cards: 0 to 2
    assert client.get("/api/impressions").status_code == 405
    assert client.head("/api/impressions").status_code == 405
    big = client.post("/api/impressions", data="x" * (70 * 1024),
                      content_type="application/json")
    assert big.status_code == 413


def test_the_scheduler_job_logs_every_waiting_batch_in_rounds(client, app, login_as, family,
                                                               shop, session, session_factory,
                                                               monkeypatch):
    """Three batches, one per drain: the job goes round until none waits; a second run
    finds nothing."""
    from webapp import scheduler

    user, child = family
    login_as(user)
    token, request_id = slate_of(child_page(client, child))
    for seen in ([0], [1], [0, 1, 2]):
        assert client.post("/api/impressions", json={"slates": [{"token": token,
                                                                 "seen": seen}]}).status_code == 200
    session.commit()
    assert impressions.waiting(session) == 3
    monkeypatch.setattr(impressions, "DRAIN_BATCHES", 1)
    app.extensions["job_session_factory"] = session_factory  # the test's database
    scheduler.impressions_job(app)
    session.commit()
    assert impressions.waiting(session) == 0
    assert [(row.position, row.request_id) for row in logged(session)] == [
        (0, request_id), (1, request_id), (2, request_id)]
    scheduler.impressions_job(app)
    assert len(logged(session)) == 3


@pytest.mark.parametrize("value", ["no-dot", "a.b.c", "!!!.0123456789abcdef",
                                   "eyJ1IjoxfQ.0123456789abcdef0123456789abcdef"])
def test_a_token_we_signed_that_is_not_a_slate_is_refused(value):
    """Signed with the right key but not a slate part and a request id (or not the fields a
    slate has): refused as not a slate, never a 500."""
    token = impressions._signer("secret").sign(value).decode()
    with pytest.raises(impressions.BadSlate, match="not a slate"):
        impressions.read_token("secret", token)


def test_a_slate_token_round_trips_and_is_bound_to_the_key():
    shown = impressions.Shown(7, 3, "child_page", "0123456789abcdef0123456789abcdef", "none",
                              "month:4", (11, 12, 13))
    token = impressions.make_token("secret", shown)
    assert impressions.read_token("secret", token) == shown
    with pytest.raises(impressions.BadSlate, match="altered"):
        impressions.read_token("other", token)
