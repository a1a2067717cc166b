"""The staff area's shape: one `/studio` parent with its areas, and the same answers as before.

The URLs, methods and role checks of every staff page are pinned here (recorded before the
pages moved into the nested blueprints), so the move provably changed no behaviour.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from care import sla, tickets
from clock import utcnow
from crm import segments
from journeys import authoring as journey_authoring
from journeys import marketing
from journeys.models import Delivery
from tests.rewards.test_catalogue import make_redemption
from tests.web.test_studio import make_item, make_staff

ROOT = Path(__file__).resolve().parents[2]

ROLES = ("visitor", "parent", "analyst", "marketer", "reviewer", "admin", "service",
         "moderator")

#: Every staff URL (and the public content images): its methods, its endpoint, and what each
#: role gets on GET and on an empty POST (without following redirects), in the order of ROLES;
#: "-" where the rule does not take the method. The URLs, methods and answers were recorded
#: before the pages moved into the nested blueprints: the move changed none of them.
STAFF = {
    "/content-images/<key>/<any(full, thumb):size>":
        ("GET,HEAD", "library.content_image", "404 404 404 404 404 404 404 404", "- - - - - - - -"),
    "/studio":
        ("GET,HEAD", "studio.content.index", "302 404 302 200 200 200 302 302", "- - - - - - - -"),
    "/studio/<int:item_id>/edit":
        ("GET,HEAD,POST", "studio.content.edit", "302 404 403 200 200 200 403 403", "302 404 403 400 400 400 403 403"),
    "/studio/<int:item_id>/versions":
        ("GET,HEAD", "studio.content.versions", "302 404 403 200 200 200 403 403", "- - - - - - - -"),
    "/studio/<int:item_id>/versions/<int:number>":
        ("GET,HEAD", "studio.content.version_diff", "302 404 403 200 200 200 403 403", "- - - - - - - -"),
    "/studio/<int:item_id>/versions/<int:number>/revert":
        ("GET,HEAD,POST", "studio.content.revert", "302 404 403 405 405 405 403 403", "302 404 403 302 302 302 403 403"),
    "/studio/<int:item_id>/workflow/<any(submit, publish, publish_now, schedule, "
     "reject, archive, restore):action>":
        ("GET,HEAD,POST", "studio.content.act", "302 404 403 405 405 405 403 403", "302 404 403 302 400 400 403 403"),
    "/studio/audit":
        ("GET,HEAD", "studio.audit.index", "302 404 403 403 403 200 403 403", "- - - - - - - -"),
    "/studio/suggestions":
        ("GET,HEAD", "studio.reco.index", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/value":
        ("GET,HEAD", "studio.crm_value.value_page", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/due":
        ("GET,HEAD", "studio.crm_value.due_page", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/due/status":
        ("POST", "studio.crm_value.due_status", "- - - - - - - -", "302 404 400 400 403 400 403 403"),
    "/studio/crm/cohorts":
        ("GET,HEAD", "studio.crm_analysis.cohorts_page", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/churn":
        ("GET,HEAD", "studio.crm_analysis.churn_page", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/churn/win-back":
        ("POST", "studio.crm_analysis.win_back", "- - - - - - - -", "302 404 400 400 403 400 403 403"),
    "/studio/crm/response":
        ("GET,HEAD", "studio.crm_analysis.response_page", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/reports":
        ("GET,HEAD", "studio.crm_analysis.reports_page", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/reports/export.csv":
        ("GET,HEAD", "studio.crm_analysis.reports_export", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/crm/reports/save":
        ("POST", "studio.crm_analysis.reports_save", "- - - - - - - -", "302 404 400 403 403 400 403 403"),
    "/studio/crm/reports/<int:report_id>/delete":
        ("POST", "studio.crm_analysis.reports_delete", "- - - - - - - -", "302 404 303 403 403 303 403 403"),
    "/studio/crm/reports/<int:report_id>/weekly":
        ("POST", "studio.crm_analysis.reports_weekly", "- - - - - - - -", "302 404 400 403 403 400 403 403"),
    "/studio/audit/export.csv":
        ("GET,HEAD", "studio.audit.export", "302 404 403 403 403 200 403 403", "- - - - - - - -"),
    "/studio/customers":
        ("GET,HEAD,POST", "studio.customers.index", "302 404 200 403 403 200 200 403", "302 404 200 403 403 200 200 403"),
    "/studio/customers/<int:user_id>":
        ("GET,HEAD", "studio.customers.show", "302 404 200 403 403 200 200 403", "- - - - - - - -"),
    "/studio/customers/<int:user_id>/notes":
        ("POST", "studio.customers.add_note", "- - - - - - - -", "302 404 400 403 403 400 400 403"),
    "/studio/customers/duplicates":
        ("GET,HEAD", "studio.customers.duplicates_list", "302 404 200 403 403 200 200 403", "- - - - - - - -"),
    "/studio/customers/merge/<int:survivor_id>/<int:merged_id>":
        ("GET,HEAD", "studio.customers.merge", "302 404 200 403 403 200 200 403", "- - - - - - - -"),
    "/studio/customers/merge/<int:survivor_id>/<int:merged_id>/confirm":
        ("POST", "studio.customers.merge_confirm", "- - - - - - - -", "302 404 403 403 403 303 303 403"),
    "/studio/customers/merges/<int:merge_id>":
        ("GET,HEAD", "studio.customers.merge_record", "302 404 404 403 403 404 404 403", "- - - - - - - -"),
    "/studio/coverage":
        ("GET,HEAD", "studio.content.coverage_page", "302 404 200 200 200 200 403 403", "- - - - - - - -"),
    "/studio/families":
        ("GET,HEAD,POST", "studio.families.index", "302 404 200 200 200 200 403 403", "302 404 200 200 200 200 403 403"),
    "/studio/families/members/<int:user_id>":
        ("GET,HEAD", "studio.families.member", "302 404 200 200 200 200 403 403", "- - - - - - - -"),
    "/studio/images/<key>/<any(full, thumb):size>":
        ("GET,HEAD", "studio.content.staff_image", "302 404 403 404 404 404 403 403", "- - - - - - - -"),
    "/studio/journeys":
        ("GET,HEAD", "studio.journeys.index", "302 404 200 200 200 200 403 403", "- - - - - - - -"),
    "/studio/journeys/<int:journey_id>":
        ("GET,HEAD", "studio.journeys.detail", "302 404 200 200 200 200 403 403", "- - - - - - - -"),
    "/studio/journeys/<int:journey_id>/<any(pause, resume):action>":
        ("POST", "studio.journeys.set_status", "- - - - - - - -", "302 404 403 302 302 302 403 403"),
    "/studio/journeys/<int:journey_id>/settings":
        ("POST", "studio.journeys.settings", "- - - - - - - -", "302 404 403 400 400 400 403 403"),
    "/studio/journeys/<int:journey_id>/stages":
        ("POST", "studio.journeys.stage_add", "- - - - - - - -", "302 404 403 400 400 400 403 403"),
    "/studio/journeys/<int:journey_id>/stages/<int:stage_id>":
        ("POST", "studio.journeys.stage_update", "- - - - - - - -", "302 404 403 400 400 400 403 403"),
    "/studio/journeys/<int:journey_id>/stages/<int:stage_id>/remove":
        ("POST", "studio.journeys.stage_remove", "- - - - - - - -", "302 404 403 302 302 302 403 403"),
    "/studio/journeys/<int:journey_id>/stages/<int:stage_id>/steps":
        ("POST", "studio.journeys.step_add", "- - - - - - - -", "302 404 403 400 400 400 403 403"),
    "/studio/journeys/<int:journey_id>/stages/<int:stage_id>/steps/<int:index>":
        ("POST", "studio.journeys.step_update", "- - - - - - - -", "302 404 403 400 400 400 403 403"),
    "/studio/journeys/<int:journey_id>/stages/<int:stage_id>/steps/<int:index>/remove":
        ("POST", "studio.journeys.step_remove", "- - - - - - - -", "302 404 403 302 302 302 403 403"),
    "/studio/journeys/new":
        ("GET,HEAD,POST", "studio.journeys.new", "302 404 403 200 200 200 403 403", "302 404 403 400 400 400 403 403"),
    "/studio/new/<kind>":
        ("GET,HEAD,POST", "studio.content.new", "302 404 403 200 200 200 403 403", "302 404 403 400 400 400 403 403"),
    "/studio/outbox":
        ("GET,HEAD", "studio.outbox.index", "302 404 403 200 403 200 403 403", "- - - - - - - -"),
    "/studio/outbox/deliveries/<int:delivery_id>/retry":
        ("POST", "studio.outbox.retry", "- - - - - - - -", "302 404 403 302 403 302 403 403"),
    "/studio/packs":
        ("GET,HEAD", "studio.content.packs_page", "302 404 403 200 200 200 403 403", "- - - - - - - -"),
    "/studio/packs/export":
        ("POST", "studio.content.export_pack", "- - - - - - - -", "302 404 403 200 200 200 403 403"),
    "/studio/packs/import":
        ("GET,HEAD,POST", "studio.content.import_pack", "302 404 403 403 405 405 403 403", "302 404 403 403 400 400 403 403"),
    "/studio/preview":
        ("POST", "studio.content.preview", "- - - - - - - -", "302 404 403 200 200 200 403 403"),
    "/studio/preview-as-family":
        ("GET,HEAD", "studio.content.family_preview", "302 404 403 200 200 200 403 403", "- - - - - - - -"),
    # segments and campaigns: marketers and analysts (campaign changes: marketers)
    "/studio/segments":
        ("GET,HEAD", "studio.segments.index", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/segments/new":
        ("GET,HEAD,POST", "studio.segments.new", "302 404 200 200 403 200 403 403", "302 404 400 400 403 400 403 403"),
    "/studio/segments/builder":
        ("POST", "studio.segments.rebuild", "- - - - - - - -", "302 404 200 200 403 200 403 403"),
    "/studio/segments/count":
        ("GET,HEAD", "studio.segments.live_count", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/segments/<int:segment_id>":
        ("GET,HEAD,POST", "studio.segments.edit", "302 404 200 200 403 200 403 403", "302 404 400 400 403 400 403 403"),
    "/studio/segments/<int:segment_id>/count":
        ("GET,HEAD", "studio.segments.saved_count", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/segments/<int:segment_id>/members":
        ("GET,HEAD", "studio.segments.members", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/segments/<int:segment_id>/export.csv":
        ("GET,HEAD", "studio.segments.export", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/segments/<int:segment_id>/delete":
        ("POST", "studio.segments.delete", "- - - - - - - -", "302 404 303 303 403 303 403 403"),
    "/studio/campaigns":
        ("GET,HEAD", "studio.campaigns.index", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/campaigns/new":
        ("GET,HEAD,POST", "studio.campaigns.new", "302 404 403 200 403 200 403 403", "302 404 403 400 403 400 403 403"),
    "/studio/campaigns/<int:campaign_id>":
        ("GET,HEAD", "studio.campaigns.detail", "302 404 200 200 403 200 403 403", "- - - - - - - -"),
    "/studio/campaigns/<int:campaign_id>/edit":
        ("GET,HEAD,POST", "studio.campaigns.edit", "302 404 403 200 403 200 403 403", "302 404 403 400 403 400 403 403"),
    "/studio/campaigns/<int:campaign_id>/<any(start, pause):action>":
        ("POST", "studio.campaigns.set_status", "- - - - - - - -", "302 404 403 303 403 303 403 403"),
    # birth clubs: moderators (their clubs; admins all); groups and moderators: admins
    "/studio/clubs/queue":
        ("GET,HEAD", "studio.clubs.queue", "302 404 403 403 403 200 403 200", "- - - - - - - -"),
    "/studio/clubs/<any(posts, comments):kind>/<int:item_id>/<any(hide, restore):action>":
        ("POST", "studio.clubs.decide", "- - - - - - - -", "302 404 403 403 403 404 403 404"),
    "/studio/clubs/<any(posts, comments):kind>/<int:item_id>/ban":
        ("POST", "studio.clubs.ban", "- - - - - - - -", "302 404 403 403 403 400 403 400"),
    "/studio/clubs/words":
        ("GET,HEAD,POST", "studio.clubs.words", "302 404 403 403 403 200 403 200", "302 404 403 403 403 400 403 400"),
    "/studio/clubs/words/<int:word_id>/delete":
        ("POST", "studio.clubs.delete_word", "- - - - - - - -", "302 404 403 403 403 404 403 404"),
    "/studio/clubs/groups":
        ("GET,HEAD,POST", "studio.clubs.groups", "302 404 403 403 403 200 403 403", "302 404 403 403 403 400 403 403"),
    "/studio/clubs/moderators":
        ("GET,HEAD,POST", "studio.clubs.moderators", "302 404 403 403 403 200 403 403", "302 404 403 403 403 400 403 403"),
    "/studio/clubs/moderators/<int:assignment_id>/remove":
        ("POST", "studio.clubs.unassign", "- - - - - - - -", "302 404 403 403 403 404 403 403"),
    "/studio/journeys/<int:journey_id>/results":
        ("GET,HEAD", "studio.journeys.results_page", "302 404 200 200 200 200 403 403", "- - - - - - - -"),

    # tickets: customer service (and admins)
    "/studio/tickets":
        ("GET,HEAD", "studio.tickets.index", "302 404 403 403 403 200 200 403", "- - - - - - - -"),
    "/studio/tickets/<int:ticket_id>":
        ("GET,HEAD", "studio.tickets.show", "302 404 403 403 403 200 200 403", "- - - - - - - -"),
    "/studio/tickets/<int:ticket_id>/reply":
        ("POST", "studio.tickets.reply", "- - - - - - - -", "302 404 403 403 403 400 400 403"),
    "/studio/tickets/<int:ticket_id>/note":
        ("POST", "studio.tickets.note", "- - - - - - - -", "302 404 403 403 403 400 400 403"),
    "/studio/tickets/<int:ticket_id>/status":
        ("POST", "studio.tickets.status", "- - - - - - - -", "302 404 403 403 403 400 400 403"),
    "/studio/tickets/<int:ticket_id>/assign":
        ("POST", "studio.tickets.assign", "- - - - - - - -", "302 404 403 403 403 400 400 403"),
    "/studio/tickets/<int:ticket_id>/privacy/<any(export, delete):action>":
        ("POST", "studio.tickets.privacy", "- - - - - - - -", "302 404 403 403 403 400 400 403"),
    "/studio/tickets/<int:ticket_id>/attachments/<int:attachment_id>/<any(full, thumb):size>":
        ("GET,HEAD", "studio.tickets.attachment", "302 404 403 403 403 404 404 403", "- - - - - - - -"),
    "/studio/tickets/report":
        ("GET,HEAD", "studio.tickets.report", "302 404 403 403 403 200 200 403", "- - - - - - - -"),
    "/studio/tickets/canned":
        ("GET,HEAD,POST", "studio.tickets.canned", "302 404 403 403 403 200 200 403", "302 404 403 403 403 400 400 403"),
    "/studio/tickets/canned/<int:reply_id>/delete":
        ("POST", "studio.tickets.canned_delete", "- - - - - - - -", "302 404 403 403 403 404 404 403"),
    # rewards: the catalogue (marketers), the redemptions (customer service)
    "/studio/rewards":
        ("GET,HEAD", "studio.rewards.index", "302 404 403 200 403 200 403 403", "- - - - - - - -"),
    "/studio/rewards/new":
        ("GET,HEAD,POST", "studio.rewards.new", "302 404 403 200 403 200 403 403", "302 404 403 400 403 400 403 403"),
    "/studio/rewards/<int:sample_id>/edit":
        ("GET,HEAD,POST", "studio.rewards.edit", "302 404 403 200 403 200 403 403", "302 404 403 400 403 400 403 403"),
    "/studio/rewards/redemptions":
        ("GET,HEAD", "studio.rewards.redemptions", "302 404 403 403 403 200 200 403", "- - - - - - - -"),
    "/studio/rewards/redemptions/<int:redemption_id>/sent":
        ("POST", "studio.rewards.mark_sent", "- - - - - - - -", "302 404 403 403 403 302 302 403"),
    "/studio/rewards/redemptions/<int:redemption_id>/cancel":
        ("POST", "studio.rewards.cancel", "- - - - - - - -", "302 404 403 403 403 302 302 403"),
    # surveys: follow-ups for customer service, results for analysts; help votes for
    # content staff and analysts
    "/studio/surveys":
        ("GET,HEAD", "studio.surveys.index", "302 404 403 403 403 200 200 403", "- - - - - - - -"),
    "/studio/surveys/follow-ups/<int:follow_up_id>":
        ("POST", "studio.surveys.update", "- - - - - - - -", "302 404 403 403 403 400 400 403"),
    "/studio/surveys/results":
        ("GET,HEAD", "studio.surveys.results", "302 404 200 403 403 200 403 403", "- - - - - - - -"),
    "/studio/help":
        ("GET,HEAD", "studio.help.stats", "302 404 200 200 200 200 403 403", "- - - - - - - -"),
    # product reviews: reviewers and marketers hide or restore them
    "/studio/reviews":
        ("GET,HEAD", "studio.reviews.index", "302 404 403 200 200 200 403 403", "- - - - - - - -"),
    "/studio/reviews/<int:review_id>/<any(hide, restore):action>":
        ("POST", "studio.reviews.decide", "- - - - - - - -", "302 404 403 404 404 404 403 403"),
}
#: Pieces of pages (htmx fragments): no navigation of their own.
FRAGMENTS = {"/studio/preview", "/studio/segments/count", "/studio/segments/builder",
             "/studio/segments/<int:segment_id>/count"}


def test_every_staff_url_is_kept_under_one_studio_parent(app):
    assert {r.rule: (",".join(sorted(r.methods - {"OPTIONS"})), r.endpoint)
            for r in app.url_map.iter_rules()
            if r.rule.startswith(("/studio", "/content-images"))} == \
        {rule: (methods, endpoint) for rule, (methods, endpoint, _, _) in STAFF.items()}
    staff = {e for rule, (_, e, _, _) in STAFF.items() if rule.startswith("/studio")}
    assert all(e.startswith("studio.") for e in staff)
    assert {e.split(".")[1] for e in staff} == {"content", "journeys", "families", "outbox", "reco",
                                                "audit", "crm_value", "segments",
                                                "campaigns", "customers", "crm_analysis",
                                                "clubs", "tickets", "rewards", "surveys",
                                                "help", "reviews"}
    assert "studio" in app.blueprints and set(app.blueprints) >= {
        "studio.content", "studio.journeys", "studio.families", "studio.outbox",
        "studio.audit", "studio.customers"}
    assert not {"journeys_admin", "audit"} & set(app.blueprints)


def _journey(session, slug):
    journey = journey_authoring.create_journey(session, slug, slug.title(), {"stage": "born"})
    stage = journey_authoring.add_stage(session, journey, "bw-0-4", "Newborn", "week", 0, 4, [
        {"push": ["article"], "channels": ["inbox"], "delay_days": 0, "limit": 1}])
    session.commit()
    return journey, stage


@pytest.mark.clock_at("2026-11-23T04:00")
def test_every_role_gets_the_same_answer_on_every_staff_url(app, client, session, make_family,
                                                             login_as):
    """Each role in turn, on a journey of its own (one role's removals do not hide the
    next role's answers). Every staff page a role may see has the studio's navigation."""
    item = make_item(session)
    parent, _ = make_family()
    twin, _ = make_family(email=parent.email.replace("@", "+twin@"))
    delivery = Delivery(user_id=parent.id, item_key="article:x", channel="email",
                        occurrence="staff-area-test", status="dead", attempts=6)
    session.add(delivery)
    ticket = tickets.open_ticket(session, parent, tickets.TicketInput(
        "question", "normal", "Naps", "How long?"), sla.Policy())
    session.commit()
    people = {"visitor": None, "parent": parent}
    people.update({role: make_staff(session, role) for role in ROLES[2:]})
    rules = [rule for rule in app.url_map.iter_rules() if rule.rule in STAFF]
    assert {rule.rule for rule in rules} == set(STAFF)
    journeys = {role: _journey(session, f"journey-{role}") for role in ROLES}
    owner = make_staff(session, "marketer")
    message = make_item(session, "message", "hello", "Hello {name}", None, None, None)
    audiences = {role: segments.create(session, owner, f"Segment {role}", "",
                                       {"conditions": []}) for role in ROLES}
    session.flush()
    adverts = {role: marketing.create(session, owner, marketing.CampaignInput(
        f"Campaign {role}", audiences[role].id, "once", message.key, ["inbox"], 0.0, "visit",
        7),
        utcnow()) for role in ROLES}
    sample, redemption = make_redemption(session, parent)
    session.commit()
    got: dict[str, tuple[list[str], list[str]]] = {rule: ([], []) for rule in STAFF}
    for role in ROLES:
        journey, stage = journeys[role]
        values = {"item_id": item.id, "number": 1, "action": "publish",
                  "journey_id": journey.id, "stage_id": stage.id, "index": 0,
                  "user_id": parent.id, "delivery_id": delivery.id, "kind": "article",
                  "key": "a" * 32, "size": "thumb", "segment_id": audiences[role].id,
                  "campaign_id": adverts[role].id, "survivor_id": parent.id,
                  "merged_id": twin.id, "merge_id": 1, "report_id": 2**31 - 1,
                  "word_id": 2**31 - 1, "assignment_id": 2**31 - 1,
                  "ticket_id": ticket.id, "attachment_id": 2**31 - 1, "reply_id": 2**31 - 1,
                  "sample_id": sample.id, "redemption_id": redemption.id, "follow_up_id": 1,
                  "review_id": 2**31 - 1}
        client.post("/logout")
        if people[role] is not None:
            login_as(people[role])
        # removals last (a step's before its stage's), so they hide nothing
        for rule in sorted(rules, key=lambda r: (r.rule.endswith(("/remove", "/delete")),
                                                 -len(r.rule), r.rule)):
            args = {k: v for k, v in values.items() if k in rule.arguments}
            if rule.rule.endswith(("<any(pause, resume):action>",
                                   "<any(start, pause):action>")):
                args["action"] = "pause"
            if rule.rule.startswith("/studio/clubs/<any"):  # a post nobody moderates
                args.update(kind="posts", item_id=2**31 - 1, action="hide")
            if rule.rule.startswith("/studio/reviews/"):  # a review nobody wrote
                args["action"] = "hide"
            if rule.rule.endswith("<any(export, delete):action>"):
                args["action"] = "export"
            url = rule.build(args)[1]
            for answers, method in zip(got[rule.rule], ("GET", "POST"), strict=True):
                if method not in rule.methods:
                    answers.append("-")
                    continue
                response = client.open(url, method=method)
                answers.append(str(response.status_code))
                if response.status_code == 200 and response.mimetype == "text/html" and \
                        url.startswith("/studio") and rule.rule not in FRAGMENTS:
                    # every staff page: the studio's layout and navigation
                    assert 'class="studio-nav' in response.get_data(as_text=True), url
    assert {rule: (" ".join(g), " ".join(p)) for rule, (g, p) in got.items()} == \
        {rule: (gets, posts) for rule, (_, _, gets, posts) in STAFF.items()}


# --- thin views, shared pieces ---------------------------------------------------------------

#: SQL a view module may still name: the session's type (the timeline's render helper).
ALLOWED_SQL_IMPORTS = {("sqlalchemy.orm", "Session")}
SQL_BUILDERS = {"select", "insert", "update", "delete", "text", "func", "and_", "or_"}
SQL_RUNNERS = {"execute", "scalars", "scalar"}


def test_views_leave_queries_to_the_domain():
    """No module under webapp/blueprints builds or runs SQL: queries are typed service
    functions in diary/, content/ and journeys/ taking the session first."""
    problems = []
    for path in sorted((ROOT / "webapp/blueprints").rglob("*.py")):
        where = path.relative_to(ROOT)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("sqlalchemy"):
                problems += [f"{where}:{node.lineno} imports {node.module}.{a.name}"
                             for a in node.names
                             if (node.module, a.name) not in ALLOWED_SQL_IMPORTS]
            elif isinstance(node, ast.Import):
                problems += [f"{where}:{node.lineno} imports {a.name}" for a in node.names
                             if a.name.startswith("sqlalchemy")]
            elif isinstance(node, ast.Call):
                func = node.func
                if isinstance(func, ast.Name) and func.id in SQL_BUILDERS or \
                        isinstance(func, ast.Attribute) and func.attr in SQL_RUNNERS:
                    problems.append(f"{where}:{node.lineno} calls {ast.unparse(func)}(…)")
    assert problems == []


def _classes(path: Path) -> list[ast.ClassDef]:
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    return [node for node in ast.walk(tree) if isinstance(node, ast.ClassDef)]


def _empty(cls: ast.ClassDef) -> bool:
    return all(isinstance(s, ast.Pass) or isinstance(s, ast.Expr)
               and isinstance(s.value, ast.Constant) for s in cls.body)


def test_shared_form_pieces_are_defined_once_in_forms_common():
    """The empty confirm form and the checkbox list live in webapp/forms_common.py only;
    the interest names come from the one vocabulary (diary.vocabulary, webapp.i18n)."""
    problems = []
    for path in sorted((ROOT / "webapp").rglob("*.py")):
        if path.name == "forms_common.py":
            continue
        where = path.relative_to(ROOT)
        for cls in _classes(path):
            bases = {ast.unparse(b) for b in cls.bases}
            if "FlaskForm" in bases and _empty(cls):
                problems.append(f"{where}: {cls.name} is another empty form (ConfirmForm)")
            if bases & {"SelectMultipleField", "SelectField", "RadioField"}:
                problems.append(f"{where}: {cls.name} is another choice field")
        if "pregnancy_wellbeing" in path.read_text(encoding="utf-8"):
            problems.append(f"{where}: names the interests (diary.vocabulary.INTEREST_LABELS)")
    common = {cls.name for cls in _classes(ROOT / "webapp/forms_common.py")}
    assert problems == [] and {"ConfirmForm", "MultiCheckboxField"} <= common


def test_tables_and_page_links_are_drawn_by_the_macros():
    """Table cards and pagination come from webapp/templates/macros/tables.html only."""
    repeated = re.compile(r'class="[^"]*\b(table-responsive|pagination|studio-table-card)\b')
    found = [f"{path.relative_to(ROOT)}: {m.group(1)}"
             for path in sorted((ROOT / "webapp" / "templates").rglob("*.html"))
             if path.parent.name != "macros"
             for m in repeated.finditer(path.read_text(encoding="utf-8"))]
    assert found == []
