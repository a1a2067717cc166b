"""Rewards on the site: points from the diary pages, the rewards page, redeeming a sample
(confirm step, double submit, not enough points, out of stock), other people's redemptions,
the studio's catalogue and redemptions, hostile values, CSRF, export and deletion."""
from __future__ import annotations

import re
from datetime import timedelta

import pytest
from sqlalchemy import select

from diary import invitations
from diary import privacy as diary_privacy
from diary.privacy import ExportRegistry, ExportScope
from rewards import catalogue, points
from rewards import privacy as reward_privacy
from rewards.models import PointsBalance, PointsEntry, Redemption, RewardItem
from tests.rewards.test_catalogue import HOME, T0, earn, make_redemption, sample
from tests.web.helpers import entry_form
from tests.web.test_studio import make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")

ADDRESS = {"recipient": "Li Na", "phone": "13800138000", "province": "Shanghai",
           "city": "Shanghai", "address": "88 Century Avenue, Flat 1201", "postcode": "200120"}


def text(response):
    return response.get_data(as_text=True)


def key_of(page):
    return re.search(r'id="request_key" name="request_key" type="hidden" value="([^"]+)"',
                     page).group(1)


def redeem_via_pages(client, item_id, **changes):
    """The three steps: the form, the confirm page, the confirm button."""
    form = client.get(f"/rewards/samples/{item_id}")
    assert form.status_code == 200
    data = {**ADDRESS, "request_key": key_of(text(form)), **changes}
    review = client.post(f"/rewards/samples/{item_id}", data={**data, "step": "review"})
    return data, review


# --- earning on the diary's pages ------------------------------------------------------------

def test_writing_and_deleting_an_entry_on_the_pages_gives_and_takes_back(
        client, session, make_family, login_as):
    parent, child = make_family()
    login_as(parent)
    response = client.post(f"/children/{child.id}/entries/new?kind=note",
                           data=entry_form(body="First bath"))
    assert response.status_code == 302
    entry_id = int(response.headers["Location"].rsplit("/", 1)[1])
    assert points.balance(session, parent) == 2
    assert client.post(f"/entries/{entry_id}/delete").status_code == 302
    session.expire_all()
    assert points.balance(session, parent) == 0
    assert [(r.rule, r.points) for r in session.scalars(select(PointsEntry).where(
        PointsEntry.user_id == parent.id).order_by(PointsEntry.id))] == \
        [("diary_entry", 2), ("diary_entry", -2)]


def test_a_milestone_ticked_twice_pays_once_and_unticking_takes_it_back(
        client, session, make_family, login_as):
    parent, child = make_family()
    login_as(parent)
    url = f"/children/{child.id}/milestones/m02-social-smiles"
    assert client.post(url, data={"action": "tick"}).status_code == 302
    assert client.post(url, data={"action": "tick"}).status_code == 302  # "Already ticked."
    assert points.balance(session, parent) == 10
    assert client.post(url, data={"action": "untick"}).status_code == 302
    session.expire_all()
    assert points.balance(session, parent) == 0 == points.ledger_sum(session, parent)


def test_a_viewer_earns_nothing(client, session, make_family, login_as):
    owner, child = make_family()
    viewer, _ = make_family()
    inv = invitations.invite(session, child.family, owner, viewer.email, "viewer", "other")
    invitations.accept(session, inv, viewer)
    session.commit()
    login_as(viewer)
    assert client.post(f"/children/{child.id}/entries/new?kind=note",
                       data=entry_form(body="Hi")).status_code == 403
    assert client.post(f"/children/{child.id}/milestones/m02-social-smiles",
                       data={"action": "tick"}).status_code == 403
    assert points.balance(session, viewer) == 0
    assert session.scalar(select(PointsEntry.id).where(PointsEntry.user_id == viewer.id)) \
        is None


# --- the pages -------------------------------------------------------------------------------

def test_the_rewards_page_and_the_badges_show_the_balance(client, session, make_family,
                                                           login_as):
    parent, child = make_family()
    earn(session, parent, 40)
    sample(session, cost=30, name="Nappy sample")
    sample(session, cost=500, name="Stroller")
    session.commit()
    login_as(parent)
    page = text(client.get("/rewards"))
    assert '<div class="display-6 fw-bold">40</div>' in page
    assert "Survey answered" in page and "+20" in page
    assert "Nappy sample" in page and "Choose this" in page
    assert "460 more points to go" in page
    assert "⭐ 40 points" in text(client.get("/account"))
    client.post("/language", data={"lang": "zh_CN"})
    page = text(client.get("/rewards"))
    assert "完成了问卷" in page and "纸尿裤试用装" in page and "还差 460 积分" in page


def test_a_days_diary_entries_are_one_line_of_the_history(client, session, make_family,
                                                          login_as):
    parent, child = make_family()
    login_as(parent)
    for body in ("First bath", "Long nap", "Smiled at the cat"):
        assert client.post(f"/children/{child.id}/entries/new?kind=note",
                           data=entry_form(body=body)).status_code == 302
    page = text(client.get("/rewards"))
    history = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page[page.index('id="history"'):
                                                               page.index("</section>",
                                                                          page.index('id="history"'))]))
    assert "Diary entry × 3 Nov 23, 2026 +6" in history
    assert history.count("Diary entry") == 1


def test_redeeming_goes_through_a_confirm_step_and_a_double_submit_redeems_once(
        client, session, make_family, login_as):
    parent, _ = make_family()
    earn(session, parent, 40)
    item = sample(session, cost=30, stock=2)
    session.commit()
    login_as(parent)
    data, review = redeem_via_pages(client, item.id)
    assert review.status_code == 200
    assert "Please confirm" in text(review) and "Your points after this: 10" in text(review)
    assert session.scalar(select(Redemption.id)) is None  # nothing yet
    # "Change the address" goes back to the form, filled in
    back = client.post(f"/rewards/samples/{item.id}", data={**data, "step": "change"})
    assert back.status_code == 200 and 'value="Li Na"' in text(back)
    first = client.post(f"/rewards/samples/{item.id}", data={**data, "step": "confirm"})
    again = client.post(f"/rewards/samples/{item.id}", data={**data, "step": "confirm"})
    assert first.status_code == again.status_code == 302
    assert first.headers["Location"] == again.headers["Location"]
    session.expire_all()
    assert points.balance(session, parent) == 10
    assert session.get(RewardItem, item.id).stock == 1
    [made] = session.scalars(select(Redemption)).all()
    assert (made.status, made.recipient, made.phone) == ("requested", "Li Na", "13800138000")
    page = text(client.get(first.headers["Location"]))
    assert "Requested" in page and "88 Century Avenue" in page


def test_not_enough_points_is_said_and_nothing_is_taken(client, session, make_family,
                                                        login_as):
    parent, _ = make_family()
    earn(session, parent, 20)
    item = sample(session, cost=30, stock=1)
    session.commit()
    login_as(parent)
    message = "This sample needs 30 points and you have 20."
    assert message in text(client.get(f"/rewards/samples/{item.id}"))
    response = client.post(f"/rewards/samples/{item.id}",
                           data={**ADDRESS, "request_key": "k" * 22, "step": "confirm"})
    assert response.status_code == 400 and message in text(response)
    session.expire_all()
    assert points.balance(session, parent) == 20 and session.get(RewardItem, item.id).stock == 1


def test_the_last_one_gone_is_a_409_with_the_points_kept(client, session, make_family,
                                                         login_as):
    parent, _ = make_family()
    earn(session, parent, 40)
    item = sample(session, cost=30, stock=1)
    session.commit()
    login_as(parent)
    data, _ = redeem_via_pages(client, item.id)
    item.stock = 0  # someone else took it meanwhile
    session.commit()
    response = client.post(f"/rewards/samples/{item.id}", data={**data, "step": "confirm"})
    assert response.status_code == 409
    assert "Sorry, this sample has just run out." in text(response)
    session.expire_all()
    assert points.balance(session, parent) == 40


@pytest.mark.parametrize(("field", "value"), [
    ("phone", "<script>alert(1)</script>"), ("recipient", ""), ("address", "x" * 201),
    ("postcode", "99999999999"), ("city", "a\x00b"),
])
def test_a_bad_address_is_shown_on_the_form(client, session, make_family, login_as, field,
                                            value):
    parent, _ = make_family()
    earn(session, parent, 40)
    item = sample(session)
    session.commit()
    login_as(parent)
    data, review = redeem_via_pages(client, item.id, **{field: value})
    assert review.status_code == 400
    assert "<script>alert" not in text(review)
    confirm = client.post(f"/rewards/samples/{item.id}", data={**data, "step": "confirm"})
    assert confirm.status_code == 400
    assert session.scalar(select(Redemption.id)) is None


def test_inactive_and_unknown_samples_are_404(client, session, make_family, login_as):
    parent, _ = make_family()
    hidden = sample(session, active=False)
    session.commit()
    login_as(parent)
    for url in (f"/rewards/samples/{hidden.id}", "/rewards/samples/999999"):
        assert client.get(url).status_code == 404
        assert client.post(url, data={**ADDRESS, "step": "confirm"}).status_code == 404


def test_someone_elses_redemption_is_404_and_cancelling_mine_refunds(
        client, session, make_family, login_as):
    parent, _ = make_family()
    other, _ = make_family()
    _, mine = make_redemption(session, parent, cost=20)
    session.commit()
    login_as(other)
    assert client.get(f"/rewards/redemptions/{mine.id}").status_code == 404
    assert client.post(f"/rewards/redemptions/{mine.id}/cancel").status_code == 404
    assert client.get("/rewards/redemptions/999999").status_code == 404
    session.expire_all()
    assert session.get(Redemption, mine.id).status == "requested"
    login_as(parent)
    assert client.post(f"/rewards/redemptions/{mine.id}/cancel").status_code == 302
    assert client.post(f"/rewards/redemptions/{mine.id}/cancel").status_code == 302
    session.expire_all()
    assert session.get(Redemption, mine.id).status == "cancelled"
    assert points.balance(session, parent) == 20 == points.ledger_sum(session, parent)
    assert "Only a redemption that is not sent yet can be cancelled." in text(
        client.get(f"/rewards/redemptions/{mine.id}"))


# --- the studio ------------------------------------------------------------------------------

def test_a_marketer_keeps_the_catalogue_and_names_are_escaped(client, session, make_family,
                                                              login_as):
    marketer = make_staff(session, "marketer")
    login_as(marketer)
    form = {"name_en": '<img src=x onerror=alert(1)>Wipes', "name_zh": "湿巾<script>",
            "description_en": "Soft.", "description_zh": "柔软。", "cost": "25",
            "stock": "3", "active": "y"}
    assert client.post("/studio/rewards/new", data=form).status_code == 302
    item = session.scalar(select(RewardItem))
    assert (item.cost, item.stock, item.active) == (25, 3, True)
    assert "&lt;img src=x" in text(client.get("/studio/rewards"))
    changed = client.post(f"/studio/rewards/{item.id}/edit", data={**form, "stock": "9"})
    assert changed.status_code == 302
    session.expire_all()
    assert session.get(RewardItem, item.id).stock == 9
    parent, _ = make_family()
    login_as(parent)
    page = text(client.get("/rewards"))
    assert "<img src=x" not in page and "&lt;img src=x onerror=alert(1)&gt;Wipes" in page


@pytest.mark.parametrize("changes", [
    {"cost": "-5"}, {"cost": "0"}, {"cost": "99999999999999999999"}, {"stock": "-1"},
    {"stock": "1e9"}, {"cost": "ten"}, {"name_en": ""}, {"name_zh": "x" * 81},
    {"name_en": "a\x07b"},
])
def test_hostile_catalogue_values_are_refused_on_the_page(client, session, login_as, changes):
    login_as(make_staff(session, "marketer"))
    form = {"name_en": "Wipes", "name_zh": "湿巾", "cost": "25", "stock": "3", "active": "y"}
    response = client.post("/studio/rewards/new", data={**form, **changes})
    assert response.status_code == 400
    assert session.scalar(select(RewardItem.id)) is None


def test_customer_service_sees_redemptions_marks_them_sent_and_it_is_recorded(
        client, session, make_family, login_as):
    from diary.models import StaffAccess
    parent, _ = make_family()
    _, made = make_redemption(session, parent)
    agent = make_staff(session, "service")
    session.commit()
    login_as(agent)
    page = text(client.get("/studio/rewards/redemptions"))
    assert parent.member_no in page and "88 Century Avenue" in page
    assert session.scalar(select(StaffAccess.what).where(
        StaffAccess.staff_user_id == agent.id)) == "reward_redemptions"
    assert client.post(f"/studio/rewards/redemptions/{made.id}/sent").status_code == 302
    session.expire_all()
    assert (made.status, made.handled_by_id) == ("sent", agent.id)
    assert "88 Century Avenue" in text(client.get("/studio/rewards/redemptions?status=sent"))
    assert "88 Century Avenue" not in text(client.get("/studio/rewards/redemptions"))
    # a sent one cannot be cancelled: the points stay spent
    assert client.post(f"/studio/rewards/redemptions/{made.id}/cancel").status_code == 302
    session.expire_all()
    assert made.status == "sent" and points.balance(session, parent) == 0


def test_a_blanked_address_says_so_to_the_parent_and_the_service_team(
        client, session, make_family, login_as):
    parent, _ = make_family()
    _, made = make_redemption(session, parent)
    agent = make_staff(session, "service")
    catalogue.mark_sent(session, made.id, agent, T0)
    catalogue.erase_old_addresses(session, T0 + timedelta(days=31))
    session.commit()
    login_as(parent)
    page = text(client.get(f"/rewards/redemptions/{made.id}"))
    assert "Removed on Dec 24, 2026: we keep an address only while the parcel may need it." \
        in page and "88 Century Avenue" not in page
    login_as(agent)
    page = text(client.get("/studio/rewards/redemptions?status=sent"))
    assert "Address removed on Dec 24, 2026" in page and "88 Century Avenue" not in page


def test_the_daily_housekeeping_blanks_old_addresses(app, session, session_factory,
                                                     make_family, clock_at):
    """The scheduler's housekeeping job does it, with REWARD_ADDRESS_DAYS."""
    from webapp import scheduler
    app.extensions["job_session_factory"] = session_factory  # the test's database
    parent, _ = make_family()
    _, made = make_redemption(session, parent)
    catalogue.mark_sent(session, made.id, make_staff(session, "service"), T0)
    session.commit()
    app.config["REWARD_ADDRESS_DAYS"] = 7
    clock_at(T0 + timedelta(days=6))
    scheduler.housekeeping_job(app)
    session.expire_all()
    assert made.address_erased_at is None
    clock_at(T0 + timedelta(days=7, seconds=1))
    scheduler.housekeeping_job(app)
    session.expire_all()
    assert made.address_erased_at == T0 + timedelta(days=7, seconds=1) and made.phone == ""


def test_staff_cancel_refunds_and_an_unknown_redemption_is_404(client, session, make_family,
                                                               login_as):
    parent, _ = make_family()
    _, made = make_redemption(session, parent, cost=40)
    session.commit()
    login_as(make_staff(session, "service"))
    assert client.post(f"/studio/rewards/redemptions/{made.id}/cancel").status_code == 302
    assert client.post("/studio/rewards/redemptions/999999/sent").status_code == 404
    assert client.post("/studio/rewards/redemptions/999999/cancel").status_code == 404
    session.expire_all()
    assert made.status == "cancelled" and points.balance(session, parent) == 40


# --- privacy ---------------------------------------------------------------------------------

def test_points_and_redemptions_are_exported_and_go_with_the_account(session, make_family):
    parent, _ = make_family()
    _, made = make_redemption(session, parent, cost=20)
    registry = ExportRegistry()
    reward_privacy.register(registry)
    scope = ExportScope(user=parent, memberships=[])
    exported = registry.sections["reward_points"].collect(session, scope)
    assert exported["balance"] == 0
    assert [(r["rule"], r["points"]) for r in exported["ledger"]] == [("survey", 20),
                                                                      ("redeem", -20)]
    [row] = registry.sections["reward_redemptions"].collect(session, scope)
    assert (row["sample"], row["status"], row["address"]) == \
        ("Nappy sample", "requested", HOME.address)
    session.commit()
    diary_privacy.delete_account(session, parent)
    session.commit()
    for model in (PointsEntry, Redemption):
        assert session.scalar(select(model.id).where(model.user_id == made.user_id)) is None
    assert session.get(PointsBalance, made.user_id) is None


class TestWithCsrf:
    @pytest.fixture()
    def app_overrides(self):
        return {"WTF_CSRF_ENABLED": True}

    def test_redeeming_and_cancelling_need_the_form_token(self, client, session, make_family):
        from tests.conftest import PASSWORD
        parent, _ = make_family()
        earn(session, parent, 40)
        item = sample(session, cost=30)
        _, made = make_redemption(session, parent, cost=20)
        session.commit()
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"',
                          text(client.get("/login"))).group(1)
        client.post("/login", data={"email": parent.email, "password": PASSWORD,
                                    "csrf_token": token})
        response = client.post(f"/rewards/samples/{item.id}",
                               data={**ADDRESS, "request_key": "k" * 22, "step": "confirm"})
        assert response.status_code == 400
        assert client.post(f"/rewards/redemptions/{made.id}/cancel").status_code == 400
        session.expire_all()
        assert session.scalar(select(Redemption.id).where(Redemption.item_id == item.id)) \
            is None
        assert made.status == "requested" and points.balance(session, parent) == 40
        page = text(client.get(f"/rewards/samples/{item.id}"))
        token = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)
        response = client.post(f"/rewards/samples/{item.id}", data={
            **ADDRESS, "request_key": key_of(page), "step": "confirm", "csrf_token": token})
        assert response.status_code == 302
        session.expire_all()
        assert points.balance(session, parent) == 10


def test_the_stylesheet_closes_every_block():
    """An unclosed @media block (found under the segment styles) put every rule after it,
    the points badge's too, inside a phone-only query: white text on desktop."""
    from pathlib import Path
    css = (Path(__file__).resolve().parents[2] / "webapp/static/css/app.css").read_text()
    depth = 0
    for number, line in enumerate(css.splitlines(), 1):
        depth += line.count("{") - line.count("}")
        assert depth >= 0, number
    assert depth == 0


def test_the_parent_routes_answer_each_method_as_they_should(client, session, make_family,
                                                            login_as):
    parent, _ = make_family()
    item, made = make_redemption(session, parent)
    session.commit()
    assert client.get("/rewards").status_code == 302  # signed out: to the login
    login_as(parent)
    expected = {  # url: (GET, HEAD, POST)
        "/rewards": (200, 200, 405),
        f"/rewards/samples/{item.id}": (200, 200, 400),
        f"/rewards/redemptions/{made.id}": (200, 200, 405),
        f"/rewards/redemptions/{made.id}/cancel": (405, 405, 302),
    }
    for url, answers in expected.items():
        got = tuple(client.open(url, method=m).status_code for m in ("GET", "HEAD", "POST"))
        assert got == answers, url
    for url in ("/rewards", f"/rewards/redemptions/{made.id}"):
        assert client.put(url).status_code == 405
