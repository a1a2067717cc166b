"""Journeys in the studio: access, the list, the flow view and its editors, the family view."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from clock import utcnow
from diary import age as agemath
from journeys import authoring, defaults, jobs
from journeys.models import Delivery, Journey, TickRun
from tests.conftest import PASSWORD
from tests.web.test_studio import make_item, make_staff, page_text

STEP = {"push": ["article"], "channels": ["inbox"], "delay_days": 0, "limit": 1}


@pytest.fixture()
def marketer(session):
    return make_staff(session, "marketer", "Mia Marketer")


@pytest.fixture()
def analyst(session):
    return make_staff(session, "analyst", "Ana Analyst")


@pytest.fixture()
def default_journey(session):
    journey = defaults.ensure_default_journey(session)
    session.commit()
    return journey


@pytest.fixture()
def small(session):
    """A paused two-stage journey."""
    journey = authoring.create_journey(session, "first-year", "First year", {"stage": "born"})
    authoring.add_stage(session, journey, "bw-0-4", "Newborn", "week", 0, 4,
                        [STEP, {"push": ["product"], "channels": ["inbox", "email"],
                                "delay_days": 3, "limit": 2, "when_interest": "bathing"}])
    authoring.add_stage(session, journey, "bm-3-5", "Months 3 to 5", "month", 3, 5)
    session.commit()
    return journey


def look_up(client, query):
    """The family look-up: a POST (the address never in a URL), then the member's page."""
    return client.post("/studio/families", data={"q": query}, follow_redirects=True)


def fresh(session, journey_id):
    session.expire_all()
    return authoring.get_journey(session, journey_id)


def step_form(prefix, version=None, **fields):
    data = {"push": ["article"], "channels": ["inbox"], "delay_days": "0", "limit": "1",
            "when_interest": ""}
    data.update(fields)
    out = {f"{prefix}-{k}": v for k, v in data.items()}
    if version is not None:
        out["version"] = str(version)
    return out


def stage_urls(journey):
    stage = journey.stages[0]
    base = f"/studio/journeys/{journey.id}"
    return base, stage, [f"{base}/settings", f"{base}/pause", f"{base}/resume",
                         f"{base}/stages", f"{base}/stages/{stage.id}",
                         f"{base}/stages/{stage.id}/remove", f"{base}/stages/{stage.id}/steps",
                         f"{base}/stages/{stage.id}/steps/0",
                         f"{base}/stages/{stage.id}/steps/0/remove"]


# --- access ----------------------------------------------------------------------------------

def test_parents_get_404_and_visitors_are_sent_to_sign_in(client, session, make_family,
                                                          login_as, small):
    base, _, posts = stage_urls(small)
    user, _ = make_family()
    gets = ["/studio/journeys", "/studio/journeys/new", base, "/studio/families",
            "/studio/families?q=BJ12345678", f"/studio/families/members/{user.id}"]
    for url in gets:
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url
    login_as(user)
    for url in gets:
        assert client.get(url).status_code == 404, url
    for url in posts + ["/studio/journeys/new", "/studio/families"]:
        assert client.post(url, data={}).status_code == 404, url
    assert fresh(session, small.id).version == small.version


def test_analysts_read_but_never_change(client, session, login_as, analyst, small):
    login_as(analyst)
    base, stage, posts = stage_urls(small)
    listing = page_text(client.get("/studio/journeys"))
    assert "First year" in listing and "New journey" not in listing
    assert 'href="/studio/journeys"' in listing and 'href="/studio/families"' in listing
    page = client.get(f"{base}?edit={stage.id}")
    assert page.status_code == 200
    text = page_text(page)
    assert "Newborn" in text and "On entry: push 1 article to the inbox" in text
    assert "<form method=\"post\"" not in text.split("</nav>", 2)[-1]  # no edit forms at all
    assert "Edit this stage" not in text and "Resume the journey" not in text
    assert client.get("/studio/journeys/new").status_code == 403
    for url in posts + ["/studio/journeys/new"]:
        assert client.post(url, data={}).status_code == 403, url
    assert client.get("/studio/families").status_code == 200
    assert fresh(session, small.id).version == small.version


# --- the list --------------------------------------------------------------------------------

def test_the_list_shows_status_version_stages_families_and_the_last_tick(
        client, session, login_as, marketer, default_journey, small, make_family):
    make_family(born=False)
    empty = page_text(login_as(marketer).get("/studio/journeys"))
    assert "The scheduler has not run yet." in empty
    jobs.run_journeys_tick(client.application.extensions["session_factory"], utcnow())
    page = page_text(client.get("/studio/journeys"))
    rows = re.findall(r"<tr>(.*?)</tr>", page, re.S)
    default_row = next(r for r in rows if "Pregnancy to age 3" in r)
    cells = [re.sub(r"<[^>]+>|\s+", " ", c).strip()
             for c in re.findall(r"<td[^>]*>(.*?)</td>", default_row, re.S)]
    assert cells[1:5] == ["Active", "1", "84", "1"]  # status, version, stages, families
    small_row = next(r for r in rows if "First year" in r)
    assert "Paused" in small_row and "Families whose baby is born" in small_row
    tick = session.scalar(select(TickRun))
    # the child is enrolled on both journeys (the paused one pushes nothing)
    assert tick is not None and "Last scheduler tick" in page and "2 enrolments processed" in page


# --- the flow view ---------------------------------------------------------------------------

def test_the_default_journey_reads_as_a_flow_grouped_and_collapsed(client, login_as, marketer,
                                                                   default_journey):
    page = page_text(login_as(marketer).get(f"/studio/journeys/{default_journey.id}"))
    assert page.count('class="jr-stage card') == 84
    assert page.count("<details class=\"jr-group") == 3  # pregnancy weeks, baby weeks, months
    assert '<details class="jr-group mb-3" open>' not in page  # 84 stages: collapsed
    assert "37 stages" in page and "13 stages" in page and "34 stages" in page
    for text in ("On entry: push 1 article to the inbox",
                 "On entry: push 2 reminders to the inbox",
                 "After 3 days: push 2 products to the inbox",
                 "If interested in skin care, after 1 day: push 2 articles to the inbox"):
        assert page.count(text) == 84, text
    # opening a stage for editing opens its group and shows one form per step
    stage = next(s for s in default_journey.stages if s.key == "bm-6")
    edit = page_text(client.get(f"/studio/journeys/{default_journey.id}?edit={stage.id}"))
    assert edit.count('<details class="jr-group mb-3" open>') == 1
    assert "Save step 4" in edit and "Remove step 4" in edit and "Add the step" in edit
    assert f'action="/studio/journeys/{default_journey.id}/stages/{stage.id}/steps/3#' in edit


def test_a_small_journey_shows_branches_channels_and_empty_stages(client, login_as, marketer,
                                                                   small):
    page = page_text(login_as(marketer).get(f"/studio/journeys/{small.id}"))
    assert page.count('<details class="jr-group mb-3" open>') == 2
    assert ("If interested in bathing, after 3 days: push 2 products to the inbox and by "
            "email") in page
    assert "No steps: families pass through this stage without pushes." in page
    assert "This journey is paused" in page and "Resume the journey" in page


def test_a_marketer_builds_a_journey_end_to_end(client, session, login_as, marketer):
    login_as(marketer)
    bad = client.post("/studio/journeys/new", data={"slug": "Bad Slug", "name": "Skin",
                                                    "entry_stage": "any"})
    assert bad.status_code == 400 and "lowercase letters, digits and hyphens" in page_text(bad)
    created = client.post("/studio/journeys/new", data={
        "slug": "skin-club", "name": "Skin club", "entry_stage": "born",
        "interests": ["skin_care"], "region": "Zhejiang"})
    assert created.status_code == 302
    journey = session.scalar(select(Journey).where(Journey.slug == "skin-club"))
    assert journey.status == "paused" and journey.version == 1
    assert journey.entry_rule == {"stage": "born", "interests": ["skin_care"],
                                  "region": "Zhejiang"}
    base = f"/studio/journeys/{journey.id}"
    assert "no stages yet" in page_text(client.get(base))

    added = client.post(f"{base}/stages", data={
        "add-name": "Newborn skin", "add-key": "bw-0-6", "add-window_unit": "week",
        "add-window_from": "0", "add-window_to": "6", "add-standard_steps": "y"})
    assert added.status_code == 302
    journey = fresh(session, journey.id)
    (stage,) = journey.stages
    assert added.headers["Location"].endswith(f"{base}?edit={stage.id}#stage-{stage.id}")
    assert len(stage.steps) == 4 and journey.version == 2

    # an overlapping window: refused next to the field, naming the other stage; never a 500
    overlap = client.post(f"{base}/stages", data={
        "add-name": "Later", "add-key": "bw-6-12", "add-window_unit": "week",
        "add-window_from": "6", "add-window_to": "12"})
    assert overlap.status_code == 400
    text = page_text(overlap)
    assert re.search(r'is-invalid[^>]*name="add-window_from"|name="add-window_from"[^>]*'
                     r'is-invalid', text)
    assert "overlaps the stage “Newborn skin” (bw-0-6" in text
    out_of_range = client.post(f"{base}/stages", data={
        "add-name": "Later", "add-key": "bm-x", "add-window_unit": "month",
        "add-window_from": "2", "add-window_to": "x"})
    assert out_of_range.status_code == 400 and "Not a valid integer value" in \
        page_text(out_of_range)

    # move the window, then edit, add and remove steps
    moved = client.post(f"{base}/stages/{stage.id}", data={
        "stage-name": "First weeks", "stage-window_unit": "week", "stage-window_from": "0",
        "stage-window_to": "8", "version": "2"})
    assert moved.status_code == 302
    bad_step = client.post(f"{base}/stages/{stage.id}/steps/1",
                           data=step_form("step1", 3, limit="9", delay_days="61"))
    assert bad_step.status_code == 400
    assert "Step 2: the delay must be 0 to 60 days." in page_text(bad_step)
    no_kind = client.post(f"{base}/stages/{stage.id}/steps/1",
                          data=step_form("step1", 3, push=[]))
    assert "Step 2: choose at least one kind of content" in page_text(no_kind)
    assert client.post(f"{base}/stages/{stage.id}/steps/1", data=step_form(
        "step1", 3, push=["reminder", "product"], channels=["inbox", "email"],
        delay_days="2", limit="3", when_interest="sleep")).status_code == 302
    assert client.post(f"{base}/stages/{stage.id}/steps",
                       data=step_form("newstep", 4, push=["product"])).status_code == 302
    assert client.post(f"{base}/stages/{stage.id}/steps/0/remove",
                       data={"version": "5"}).status_code == 302
    journey = fresh(session, journey.id)
    (stage,) = journey.stages
    assert (stage.key, stage.name, stage.window_to) == ("bw-0-6", "First weeks", 8)
    assert stage.steps[0] == {"push": ["reminder", "product"], "channels": ["inbox", "email"],
                              "delay_days": 2, "limit": 3, "when_interest": "sleep"}
    assert len(stage.steps) == 4 and journey.version == 6
    page = page_text(client.get(base))
    assert ("If interested in sleep, after 2 days: push 3 reminders and 3 products to the "
            "inbox and by email") in page and "Version 6" in page

    # settings, resume, pause
    assert client.post(f"{base}/settings", data={
        "journey-name": "Skin club", "journey-entry_stage": "toddler"}).status_code == 400
    assert client.post(f"{base}/settings", data={
        "journey-name": "Skin club+", "journey-entry_stage": "any"}).status_code == 302
    assert client.post(f"{base}/resume").status_code == 302
    assert fresh(session, journey.id).status == "active"
    assert client.post(f"{base}/pause").status_code == 302
    journey = fresh(session, journey.id)
    assert (journey.name, journey.status, journey.entry_rule, journey.version) == (
        "Skin club+", "paused", {"stage": "any"}, 9)

    # and remove the stage
    assert client.post(f"{base}/stages/{stage.id}/remove").status_code == 302
    assert fresh(session, journey.id).stages == []


def test_an_edit_on_a_stale_version_is_refused_with_the_form_kept(client, session, login_as,
                                                                  marketer, small):
    login_as(marketer)
    stage = small.stages[0]
    base = f"/studio/journeys/{small.id}"
    stale = client.post(f"{base}/stages/{stage.id}/steps/1",
                        data=step_form("step1", small.version - 1, limit="4"))
    assert stale.status_code == 400
    text = page_text(stale)
    assert "Someone changed this journey while you were editing it" in text
    assert re.search(r'name="step1-limit"[^>]*value="4"|value="4"[^>]*name="step1-limit"', text)
    assert fresh(session, small.id).stages[0].steps[1]["limit"] == 2


def test_unknown_stages_and_steps_are_404_not_500(client, login_as, marketer, small):
    login_as(marketer)
    base = f"/studio/journeys/{small.id}"
    stage = small.stages[0]
    assert client.get("/studio/journeys/999999").status_code == 404
    assert client.post(f"{base}/stages/999999", data={}).status_code == 404
    assert client.post(f"{base}/stages/{stage.id}/steps/7",
                       data=step_form("step7")).status_code == 404
    assert client.post(f"{base}/stages/{stage.id}/steps/7/remove").status_code == 404
    assert client.get(f"{base}?edit=999999").status_code == 200


# --- the family view -------------------------------------------------------------------------

def test_the_family_view_finds_a_family_and_shows_what_was_delivered(
        client, session, login_as, marketer, analyst, make_family):
    make_item(session, key="halfway", title="Halfway there", low=17, high=23)
    user, child = make_family(born=False)
    now = utcnow()
    jobs.run_journeys_tick(client.application.extensions["session_factory"], now)
    delivery = session.scalar(select(Delivery).where(Delivery.user_id == user.id))
    assert delivery is not None and delivery.channel == "inbox"

    login_as(analyst)  # read-only staff may look too
    page = page_text(look_up(client, user.member_no.lower()))
    assert user.member_no in page and user.email in page and child.name in page
    assert "Pregnancy to age 3" in page and "Halfway there" in page
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "Halfway there" in r)
    assert "Inbox" in row and "Sent" in row
    today = agemath.local_date(now, "Asia/Shanghai")
    week = (280 - (child.due_date - today).days) // 7
    assert f"pw-{week}" in page  # the stage now, recomputed

    login_as(marketer)
    by_email = page_text(look_up(client, user.email.upper()))
    assert "Halfway there" in by_email
    missing = page_text(look_up(client, "BJ00000000"))
    assert "No member has that number or email." in missing


def test_the_family_view_shows_email_waiting_and_exited_children(client, session, login_as,
                                                                 marketer, make_family):
    make_item(session, kind="product", key="BJ-BELT-001", title="Belly belt", low=4, high=40,
              category="maternity", price_minor=100, currency="CNY")
    user, child = make_family(born=False)
    journey = defaults.ensure_default_journey(session)
    stage = next(s for s in journey.stages if s.window_unit == "pregnancy_week"
                 and s.window_from == 19)
    for s in journey.stages:
        if s.window_unit == "pregnancy_week":
            authoring.set_steps(s, [{"push": ["product"], "channels": ["email"],
                                     "delay_days": 0, "limit": 1}])
    session.commit()
    assert stage.steps[0]["channels"] == ["email"]
    jobs.run_journeys_tick(client.application.extensions["session_factory"],
                           utcnow() + timedelta(minutes=1))
    login_as(marketer)
    page = page_text(look_up(client, user.member_no))
    row = next(r for r in re.findall(r"<tr>(.*?)</tr>", page, re.S) if "Belly belt" in r)
    assert "Email" in row and "Waiting" in row


# --- CSRF ------------------------------------------------------------------------------------

class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_every_form_carries_the_token_and_posts_without_it_fail(self, client, session,
                                                                    marketer, small):
        token = page_text(client.get("/login")).split(
            'name="csrf_token" type="hidden" value="')[1].split('"')[0]
        client.post("/login", data={"email": marketer.email, "password": PASSWORD,
                                    "csrf_token": token})
        stage = small.stages[0]
        page = page_text(client.get(f"/studio/journeys/{small.id}?edit={stage.id}"))
        main = page.split('<main id="main"', 1)[1]
        forms = re.findall(r'<form method="post".*?</form>', main, re.S)
        assert len(forms) >= 8  # pause, settings, window, 2 steps × 2, new step, remove, add
        assert all("csrf_token" in f for f in forms)
        base = f"/studio/journeys/{small.id}"
        assert client.post(f"{base}/resume").status_code == 400
        assert client.post(f"{base}/stages/{stage.id}/steps/0",
                           data=step_form("step0", limit="3")).status_code == 400
        assert fresh(session, small.id).status == "paused"
        step_token = re.search(r'name="step0-csrf_token" type="hidden" value="([^"]+)"',
                               page).group(1)
        ok = client.post(f"{base}/stages/{stage.id}/steps/0",
                         data={**step_form("step0", limit="3"), "step0-csrf_token": step_token})
        assert ok.status_code == 302
        # The token from before sign-in died with that session; the page's own one works.
        assert client.post(f"{base}/resume", data={"csrf_token": token}).status_code == 400
        fresh_token = re.search(r'name="csrf_token"[^>]*value="([^"]+)"', main).group(1)
        assert client.post(f"{base}/resume", data={"csrf_token": fresh_token}).status_code == 302
        assert fresh(session, small.id).status == "active"


@pytest.mark.parametrize(("language", "expected"), [
    ("en", "On entry: push 1 article, 1 reminder, and 1 product to the inbox and by email"),
    ("zh-CN", "进入阶段时：通过收件箱和邮件推送 1 篇文章、1 条提醒和1 个产品"),
])
def test_step_texts_join_lists_the_way_each_language_does(app, language, expected):
    from webapp.blueprints.studio.journeys.routes import step_text

    step = {"push": ["article", "reminder", "product"], "channels": ["inbox", "email"],
            "delay_days": 0, "limit": 1}
    with app.test_request_context("/", headers={"Accept-Language": language}):
        assert step_text(step) == expected
