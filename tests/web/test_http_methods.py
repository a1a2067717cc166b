"""Only POST changes anything: HEAD (sent by mail scanners and link checkers) and GET answer
like GET on every page that also takes a form, and never write a row or send an email."""
from __future__ import annotations

import secrets

import pytest
from sqlalchemy import select

from care import surveys
from clock import utcnow
from crm import segments
from db import Base
from diary import accounts, invitations, vaccinations
from diary.models import Consent
from journeys import marketing, unsubscribe
from journeys.models import Delivery
from tests.conftest import PASSWORD
from tests.rewards.test_catalogue import make_redemption
from tests.web.helpers import entry_form
from tests.web.test_email_pages import SECRET, queue_digest
from tests.web.test_studio import make_item

#: Columns a plain visit may touch (the "last seen" stamp is a visit, not a change).
IGNORED_COLUMNS = {("users", "last_seen_at")}


def snapshot(session) -> dict[str, list[str]]:
    """Every row of every table, as text: two snapshots differ if anything was written."""
    session.expire_all()
    tables = {}
    for table in Base.metadata.sorted_tables:
        columns = [c for c in table.c if (table.name, c.name) not in IGNORED_COLUMNS]
        tables[table.name] = sorted(repr(tuple(row)) for row in session.execute(
            select(*columns)))
    return tables


# --- the finding: HEAD on the one-click unsubscribe link -------------------------------------

@pytest.mark.parametrize("body", [None, "List-Unsubscribe=One-Click"])
def test_head_on_the_unsubscribe_link_unsubscribes_nobody(client, session, make_family, body):
    user, _ = make_family()
    accounts.record_consent(session, user, Consent.MARKETING, True, "account", "2026-11")
    row = queue_digest(session, user)
    token = unsubscribe.make_token(SECRET, user)
    before = snapshot(session)
    kwargs = {"data": body, "content_type": "application/x-www-form-urlencoded"} if body else {}
    response = client.head(f"/e/u/{token}", **kwargs)
    assert response.status_code == 200
    assert response.get_data() == b""
    assert snapshot(session) == before
    session.expire_all()
    assert (user.digest_opt_in, user.marketing_opt_in) == (True, True)
    assert session.get(Delivery, row.id).status == "pending"
    assert session.scalars(select(Consent).where(
        Consent.source == unsubscribe.SOURCE)).all() == []
    # ... and POST still does it (the one thing that may)
    assert client.post(f"/e/u/{token}", data="List-Unsubscribe=One-Click",
                       content_type="application/x-www-form-urlencoded").status_code == 200
    session.expire_all()
    assert (user.digest_opt_in, user.marketing_opt_in) == (False, False)
    assert session.get(Delivery, row.id).status == "suppressed"


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_other_methods_on_the_unsubscribe_link_are_405(client, session, make_family, method):
    user, _ = make_family()
    token = unsubscribe.make_token(SECRET, user)
    response = client.open(f"/e/u/{token}", method=method, data="List-Unsubscribe=One-Click",
                           content_type="application/x-www-form-urlencoded")
    assert response.status_code == 405
    session.expire_all()
    assert user.digest_opt_in is True


def test_head_on_the_preference_centre_is_the_page_not_a_failed_form(client, make_family,
                                                                     login_as):
    user, _ = make_family()
    login_as(user)
    assert client.get("/preferences").status_code == 200
    assert client.head("/preferences").status_code == 200  # was a 400: the POST branch


# --- the audit: every route that takes GET and POST ------------------------------------------

@pytest.fixture()
def world(client, session, make_family, login_as, app):
    """One of everything the GET+POST pages need, and who may see each page."""
    parent, child = make_family()
    _, unborn = make_family(email=parent.email.replace("@", "+2@"), born=False)
    login_as(parent)
    response = client.post(f"/children/{child.id}/entries/new?kind=note",
                           data=entry_form(body="First smile"))
    assert response.status_code == 302, response.get_data(as_text=True)[:300]
    entry_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert client.post(f"/children/{child.id}/milestones/m02-social-smiles",
                       data={"action": "tick"}).status_code == 302
    unborn_parent = unborn.family.memberships[0].user
    invitee, _ = make_family(email=f"invitee-{secrets.token_hex(3)}@example.com")
    unproven, _ = make_family(email=f"new-{secrets.token_hex(3)}@example.com", verified=False)
    invitation = invitations.invite(session, child.family, parent, invitee.email, "editor",
                                    "father")
    marketer = accounts.create_staff(session, f"m-{secrets.token_hex(3)}@example.com",
                                     PASSWORD, "marketer", "Marketer")
    service = accounts.create_staff(session, f"s-{secrets.token_hex(3)}@example.com",
                                    PASSWORD, "service", "Service")
    item = make_item(session)
    segment = segments.create(session, marketer, "Everyone", "", {"conditions": []})
    message = make_item(session, "message", "hello", "Hello {name}", None, None, None)
    campaign = marketing.create(session, marketer, marketing.CampaignInput(
        "Hello", segment.id, "once", message.key, ["inbox"], 0.1, "visit", 7), utcnow())
    admin = accounts.create_staff(session, f"a-{secrets.token_hex(3)}@example.com",
                                  PASSWORD, "admin", "Admin")
    sample = make_redemption(session, parent)[0]
    survey = surveys.offer_csat(session, parent, "ticket", "ticket:1", now=utcnow())
    record = vaccinations.add(session, child, parent, "vaccination", "BCG", child.birth_date)
    session.commit()
    secret = app.config["SECRET_KEY"]
    return {
        "surveys.offer_page": (parent, f"/surveys/{survey.id}"),
        "surveys.answer_link": (None, f"/s/{surveys.make_answer_token(secret, survey, 5)}"),
        "account.delete": (parent, "/account/delete"),
        "family.arrived": (unborn_parent, f"/children/{unborn.id}/arrived"),
        "family.delete_child": (parent, f"/children/{child.id}/delete"),
        "family.edit_child": (parent, f"/children/{child.id}/edit"),
        "family.add_child": (parent, "/children/new"),
        "diary.new_entry": (parent, f"/children/{child.id}/entries/new?kind=note"),
        "diary.edit_entry": (parent, f"/entries/{entry_id}/edit"),
        "diary.delete_entry": (parent, f"/entries/{entry_id}/delete"),
        "daily.vaccination_record": (parent, f"/children/{child.id}/vaccinations"),
        "daily.edit_vaccination": (parent,
                                   f"/children/{child.id}/vaccinations/{record.id}/edit"),
        "growth.untick_milestone": (parent,
                                    f"/children/{child.id}/milestones/m02-social-smiles/untick"),
        "emails.unsubscribe_link": (None, f"/e/u/{unsubscribe.make_token(secret, parent)}"),
        "emails.preferences_centre": (parent, "/preferences"),
        "auth.forgot_password": (None, "/forgot"),
        "auth.login": (None, "/login"),
        "auth.register": (None, "/register"),
        "auth.reset_password": (None, f"/reset/{accounts.make_reset_token(parent, secret)}"),
        "auth.verify_email": (None, "/verify/" + accounts.make_verify_token(
            unproven, secret, unproven.email)),
        "auth.join": (invitee, f"/join/{invitations.invitation_token(invitation, secret)}"),
        "studio.content.new": (marketer, "/studio/new/article"),
        "studio.content.edit": (marketer, f"/studio/{item.id}/edit"),
        # POST-only actions that also answer GET/HEAD (405 for staff, 404 for parents):
        "studio.content.revert": (marketer, f"/studio/{item.id}/versions/1/revert"),
        "studio.content.import_pack": (marketer, "/studio/packs/import"),
        "studio.content.act": (marketer, f"/studio/{item.id}/workflow/publish"),
        "studio.journeys.new": (marketer, "/studio/journeys/new"),
        "studio.families.index": (marketer, "/studio/families"),
        "studio.segments.new": (marketer, "/studio/segments/new"),
        "studio.segments.edit": (marketer, f"/studio/segments/{segment.id}"),
        "studio.campaigns.new": (marketer, "/studio/campaigns/new"),
        "studio.campaigns.edit": (marketer, f"/studio/campaigns/{campaign.id}/edit"),
        "studio.customers.index": (service, "/studio/customers"),
        "studio.clubs.words": (admin, "/studio/clubs/words"),
        "studio.clubs.groups": (admin, "/studio/clubs/groups"),
        "studio.clubs.moderators": (admin, "/studio/clubs/moderators"),
        "tickets.new": (parent, "/help/ask?from=/help"),
        "studio.tickets.canned": (service, "/studio/tickets/canned"),
        "rewards.redeem": (parent, f"/rewards/samples/{sample.id}"),
        "studio.rewards.new": (marketer, "/studio/rewards/new"),
        "studio.rewards.edit": (marketer, f"/studio/rewards/{sample.id}/edit"),
    }


def test_every_get_and_post_page_is_covered(app, world):
    both = {rule.endpoint for rule in app.url_map.iter_rules()
            if {"GET", "POST"} <= (rule.methods or set())}
    assert both == set(world), "add the new page to world() above"


def test_head_answers_like_get_and_changes_nothing(client, session, login_as, mailer, world):
    for endpoint, (user, url) in sorted(world.items()):
        if user is None:
            client.post("/logout")
        else:
            login_as(user)
        before, sent = snapshot(session), len(mailer.sent)
        head = client.head(url)
        assert snapshot(session) == before, endpoint
        assert len(mailer.sent) == sent, endpoint
        get = client.get(url)
        assert head.status_code == get.status_code, endpoint
        assert head.get_data() == b"", endpoint
        assert snapshot(session) == before, endpoint  # GET does not write either
