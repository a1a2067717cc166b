"""Sweeps over every route in `app.url_map` (so a route added later is attacked, or the
sweep fails and says what to add): another family's ids everywhere (IDOR), and every
state-changing method without its CSRF token.

The ids come from tests/web/attack_world.py: family A owns one of everything, family B
knows A's ids. Its `ARGUMENTS` table names every URL argument the site takes.
"""
from __future__ import annotations

import pytest

import db
from tests.conftest import load_all_models
from tests.web import attack_world
from tests.web.attack_world import FAMILY, SECRET, STAFF, fill, is_staff_rule, sign_in
from tests.web.test_hostile_input import rule_path
from webapp import create_app

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
API = "/api/v1/"
WRITES = ("POST", "PUT", "PATCH", "DELETE")

#: Views that take no CSRF token, each for a reason (`@csrf.exempt` on the view). A new
#: exempt view fails test_the_csrf_exemptions_are_exactly_these until it is added here.
CSRF_EXEMPT = {
    # RFC 8058 one-click unsubscribe: mail clients POST without a session; the signed
    # token in the URL is the proof (tests/web/test_email_pages.py)
    "emails.unsubscribe_link",
    # the mail provider's bounce webhook: a server-to-server call with a shared secret
    "emails.bounce",
    # the shop's order lines: a Bearer key per integration, no cookies
    "shop.order_lines",
    # the inbound-email integration: a Bearer key per integration, no cookies
    "tickets.inbound_email",
    # batched impressions: each position rides on a slate token signed by the site
    "interactions.log_impressions",
}
#: API operations authenticated by a key of their own (never the web session, so no CSRF):
#: the shop's orders take the integration key (security scheme shopIntegrationKey)
API_KEYED = {"api_v1.shop_orders"}
#: Routes that answer family B's attempt on family A's id with something else than a 404,
#: each for a reason. The sweep still checks that such a request changed no table.
ANSWERS = {
    # any parent may join any club (community.clubs.other_clubs: it adds a row); leaving
    # one you are not in is a no-op. Both redirect with a message.
    "clubs.membership": {302},
    # an invitation that is not yours is "no longer open", the same answer as a withdrawn
    # one: a redirect with that message
    "auth.accept_invitation": {302},
}
#: Generic form values, so that a view that would check its form first still gets to
#: its ownership check.
FORM = {"body": "hello", "text": "hello", "kind": "sleep", "category": "vaccination",
        "name": "x", "given_on": "2026-11-01", "rating": "5", "role": "viewer",
        "action": "tick", "subject": "s", "severity": "normal", "reason": "spam"}


@pytest.fixture()
def app_overrides():
    return {"WTF_CSRF_ENABLED": True, "PROPAGATE_UNEXPECTED": False}


@pytest.fixture()
def world(app, session, make_family):
    return attack_world.build(app, session, make_family)


def _rules(app):
    return sorted((r for r in app.url_map.iter_rules() if r.endpoint != "static"),
                  key=lambda r: (r.rule, r.endpoint))


def _text(response) -> str:
    data = response.get_data()
    response.close()
    return data.decode("utf-8", "replace")


def _counts(connection, tables) -> tuple[int, ...]:
    sql = "SELECT " + ", ".join(f'(SELECT count(*) FROM "{t}")' for t in tables)
    return tuple(connection.exec_driver_sql(sql).one())


def test_another_familys_ids_are_not_found_on_every_route(app, world, session_factory):
    """As family B (signed in, with a valid CSRF token), every route with an argument, with
    family A's ids, with every method it takes: 404 where an argument is A's (403 or 404 on
    staff pages), no table changed, never a 5xx, and never a word A typed in the body. Each
    request is rolled back, so that one answered wrongly cannot open the next."""
    load_all_models()
    tables = [t.name for t in db.Base.metadata.sorted_tables]
    connection = session_factory.kw["bind"]
    client, token = sign_in(app, world["b"])
    anonymous = app.test_client()
    failures, checked = [], 0
    baseline = _counts(connection, tables)
    for rule in _rules(app):
        if not rule.arguments:
            continue
        try:
            args, kinds = fill(rule, world["values"])
        except AssertionError as unknown:
            failures.append(str(unknown))
            continue
        if STAFF in kinds and not is_staff_rule(rule):
            failures.append(f"{rule.rule}: a staff-only argument on a parent's route; "
                            "say in ARGUMENTS what it names")
            continue
        url = rule_path(rule, args)
        for method in sorted(set(rule.methods or ()) & set(METHODS)):
            kwargs: dict = {"headers": {"X-CSRFToken": token}}
            api = rule.rule.startswith(API)
            if method in WRITES:
                if api:  # the JSON API reads JSON (a form body is a 415 before anything)
                    kwargs["json"] = {}
                else:
                    kwargs["data"] = {**FORM, "csrf_token": token}
            nested = connection.begin_nested()
            try:
                response = client.open(url, method=method, **kwargs)
                body, status = _text(response), response.status_code
                changed = _counts(connection, tables) != baseline
            finally:
                nested.rollback()
            checked += 1
            if changed and (FAMILY in kinds or STAFF in kinds) \
                    and rule.endpoint != "clubs.membership":
                failures.append(f"{method} {url} as family B changed a table")
            if rule.endpoint in ANSWERS:
                expected = ANSWERS[rule.endpoint]
            elif is_staff_rule(rule):
                expected = {403, 404}
            elif FAMILY in kinds and api and method in WRITES:
                # the body is checked before the handler: an empty one may be refused (422)
                # alike for any id, A's or none; tests/api/test_api_auth.py sends every
                # endpoint a valid body with A's ids and gets 404
                expected = {404, 422}
            elif FAMILY in kinds:
                expected = {404}
            else:
                expected = set(range(200, 500))
            if status not in expected:
                failures.append(f"{method} {url} as family B: {status}, expected "
                                f"{sorted(expected) if len(expected) < 3 else '< 500'}")
            if SECRET.lower() in body.lower():
                failures.append(f"{method} {url} as family B shows family A's words")
            if FAMILY in kinds:  # and a visitor who is signed in to nothing
                seen = anonymous.open(url, method=method)
                where = seen.headers.get("Location", "")
                if not (seen.status_code in (400, 401, 403, 404, 405)
                        or seen.status_code == 302 and "/login" in where) \
                        or SECRET.lower() in _text(seen).lower():
                    failures.append(f"{method} {url} anonymous: {seen.status_code} {where}")
    assert not failures, "\n".join(failures)
    assert checked > 150


def test_the_sweep_fails_on_an_argument_it_cannot_fill():
    """A route added later with an argument the table does not know is not skipped."""
    app = create_app("testing")

    @app.get("/api/v1/things/<int:thing_id>")
    def thing(thing_id):  # type: ignore[no-untyped-def]
        return {"id": thing_id}

    [rule] = [r for r in app.url_map.iter_rules() if r.endpoint == "thing"]
    with pytest.raises(AssertionError, match=r"takes \['thing_id'\]: add to ARGUMENTS"):
        fill(rule, {})


def test_the_csrf_exemptions_are_exactly_these(app):
    """Every view without CSRF protection is one of the commented CSRF_EXEMPT above."""
    csrf = app.extensions["csrf"]
    exempt_views = {f"{v.__module__}.{v.__name__}" for v in app.view_functions.values()}
    exempt = {endpoint for endpoint, view in app.view_functions.items()
              if f"{view.__module__}.{view.__name__}" in csrf._exempt_views}  # noqa: SLF001
    assert exempt == CSRF_EXEMPT
    assert exempt_views  # (the app has views at all)
    # one blueprint is exempt wholesale: the JSON API, whose framework checks CSRF itself
    # (a web-session call needs X-CSRFToken; a Bearer-token call carries no cookie), which
    # test_every_state_changing_route_needs_its_csrf_token below holds it to
    assert {bp.name for bp in csrf._exempt_blueprints} == {"api_v1"}  # noqa: SLF001


def test_every_state_changing_route_needs_its_csrf_token(app, world):
    """Signed in as the family that owns the ids (so that with a token the request would
    do something), every POST/PUT/PATCH/DELETE of every route without the token: 400 and
    the "form has expired" answer, nothing done."""
    client, token = sign_in(app, world["a"])
    failures, checked = [], 0
    for rule in _rules(app):
        methods = set(rule.methods or ()) & set(WRITES)
        if not methods or rule.endpoint in CSRF_EXEMPT | API_KEYED:
            continue
        try:
            args, _ = fill(rule, world["values"])
        except AssertionError as unknown:
            failures.append(str(unknown))
            continue
        url = rule_path(rule, args)
        for method in sorted(methods):
            for data, headers in (({**FORM}, {}), ({**FORM, "csrf_token": "forged"}, {}),
                                  ({**FORM}, {"X-CSRFToken": "forged"})):
                response = client.open(url, method=method, data=data, headers=headers)
                checked += 1
                body = _text(response)
                if rule.rule.startswith(API):  # the API's own check, its error shape
                    refused = response.status_code == 403 and '"csrf_failed"' in body
                else:
                    refused = response.status_code == 400 and (
                        "This form has expired" in body or '"error"' in body)
                if not refused:
                    failures.append(f"{method} {url} {sorted(data)} {headers}: "
                                    f"{response.status_code}")
    assert not failures, "\n".join(failures)
    assert checked > 100
    # ... and with the token the same client gets past the check (the sweep is not vacuous)
    assert client.post("/inbox/read-all", data={"csrf_token": token}).status_code == 302
