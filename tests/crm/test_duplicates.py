"""Duplicate customers (crm.duplicates): found by mailbox, phone, or name and a child's
birthday; merged in one transaction that loses nothing: every row of every kind is counted
before and after, and the merge record says what moved."""
from __future__ import annotations

from datetime import date, timedelta

import pytest
from sqlalchemy import func, select, text

import db
from care import surveys
from care.models import FaqVote, SurveyMoment, SurveyOffer, SurveyThrottle, Ticket
from clock import utcnow
from community import posts as club_posts
from community.models import Club, ClubBan, ClubComment, ClubLike, ClubMember, ClubPost, ClubReport
from content.models import ProductReview
from crm import contact, duplicates
from crm.models import CustomerMerge, CustomerScore, MergeRecordAppendOnly
from diary import account_mail, accounts, entries, invitations, sessions
from diary.entry_kinds import EntryInput
from diary.errors import Conflict, NotFound
from diary.models import Consent, DataExport, Membership, User
from journeys.models import CampaignSend, Delivery, EmailClick, EmailPreference, InboxMessage
from recommender import log
from rewards import catalogue, points
from tests.conftest import load_all_models
from tests.rewards.test_catalogue import HOME
from tests.web.test_studio import make_item, make_staff

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


def first_club_id(session) -> int:
    return session.scalar(select(Club.id).where(Club.month == date(2026, 5, 1)))


def user_rows(session, *users) -> dict[tuple[str, str], dict[int, int]]:
    """Rows per (table, user column) per account, for every column the merge knows of."""
    session.expire_all()
    ids = [u.id for u in users]
    counts = {}
    for (table, column) in duplicates.USER_COLUMNS:
        found = dict(session.execute(text(
            f"SELECT {column}, count(*) FROM {table} WHERE {column} IN ({', '.join(map(str, ids))}) "
            f"GROUP BY {column}")).all())
        counts[(table, column)] = {i: found.get(i, 0) for i in ids}
    return counts


def totals(session) -> dict[str, int]:
    session.expire_all()
    load_all_models()
    return {t.name: session.scalar(select(func.count()).select_from(t))
            for t in db.Base.metadata.sorted_tables}


@pytest.fixture()
def pair(session, make_family):
    """Anna twice: an older account and a newer one made with the same Gmail mailbox, each
    with a family; the newer one also an editor in the older one's family, and busy."""
    old, old_child = make_family(email="anna.lee@gmail.com", name="Mia")
    new, new_child = make_family(email="annalee+baby@googlemail.com", name="Leo")
    old.display_name = new.display_name = "Anna Lee"
    new.phone, new.region_province, new.interests = "+86 138 0013 8000", "Shanghai", ["sleep"]
    old.interests = ["feeding"]
    invitation = invitations.invite(session, old_child.family, old, new.email, "editor",
                                    "mother")
    invitations.accept(session, invitation, new)
    session.flush()
    item = make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S",
                     unit="month", low=3, high=6, category="nappies", price_minor=8900,
                     currency="CNY")
    now = utcnow()
    entries.create_entry(session, new_child, new, EntryInput(kind="note", occurred_at=now,
                                                             body="First bath"))
    entries.create_entry(session, old_child, new, EntryInput(kind="note", occurred_at=now,
                                                             body="Visited Mia"))
    same = dict(child_id=old_child.id, item_key="article:x", channel="inbox",
                occurrence="j1:bw-1")
    theirs = Delivery(user_id=old.id, status="sent", sent_at=now, **same)
    twin = Delivery(user_id=new.id, status="sent", sent_at=now, **same)  # a copy: stays
    own = Delivery(user_id=new.id, child_id=new_child.id, item_key="campaign:baby_birthday",
                   channel="email", occurrence="baby_birthday:2026", status="sent",
                   sent_at=now, payload={"title": "Happy birthday"})
    session.add_all([theirs, twin, own])
    session.flush()
    session.add_all([
        InboxMessage(user_id=new.id, child_id=old_child.id, delivery_id=twin.id, title="x"),
        EmailClick(delivery_id=own.id, user_id=new.id, item_key="campaign:baby_birthday",
                   url="/children/1"),
        CampaignSend(campaign="baby_birthday", user_id=new.id, child_id=new_child.id,
                     occurrence="2026", goal="product_click", delivery_id=own.id),
        CampaignSend(campaign="we_miss_you", user_id=old.id, child_id=0, occurrence="2026-11",
                     goal="visit", holdout=True),
        CampaignSend(campaign="we_miss_you", user_id=new.id, child_id=0, occurrence="2026-11",
                     goal="visit", holdout=True),  # the survivor has this decision: stays
        EmailPreference(user_id=new.id, frequency="daily"),
        CustomerScore(user_id=new.id, computed_at=now, frequency=1, monetary_minor=8900,
                      tier="low", value_group="other", p_alive=0.4, clv_minor=1000),
        DataExport(user_id=new.id, created_at=now),
    ])
    from content.models import SavedItem
    session.add_all([SavedItem(user_id=old.id, item_id=item.id),
                     SavedItem(user_id=new.id, item_id=item.id)])
    log.record_many(session, [
        log.Event(kind="click", item_id=item.id, surface="child_page", idempotency_key="k1",
                  user_id=new.id, child_id=new_child.id, occurred_at=now),
        log.Event(kind="purchase", item_id=item.id, surface="shop", idempotency_key="k2",
                  user_id=new.id, quantity=1, amount_minor=8900, currency="CNY",
                  occurred_at=now, order_ref="SO-1")])
    service = make_staff(session, "service")
    contact.add_note(session, new, service, contact.NoteInput(
        department="service", channel="phone", direction="inbound", outcome="resolved",
        subject="Asked about sizes"))
    from care import sla, tickets  # a question asked from the newer account moves too
    tickets.open_ticket(session, new, tickets.TicketInput(
        "question", "normal", "Sizes?", "Which size after 6 kg?"), sla.Policy())
    accounts.record_consent(session, new, Consent.MARKETING, True, "account", "2026-11")
    invitations.invite(session, new_child.family, new, "grandma@example.com", "viewer",
                       "grandparent")
    account_mail.queue(session, account_mail.RESET_PASSWORD, new.email, user=new)
    sessions.start(session, new, now, remember=False, life=timedelta(hours=8))
    # points: 20 + 20 + 15 for the newer account, one sample of 30 asked for; and the
    # survey both accounts were paid for (the same reference): that award stays behind
    for days, ref in enumerate(("survey:1", "survey:2", "survey:3")):  # one a day
        assert points.award(session, new, "survey", ref, now=now - timedelta(days=days))
    points.award(session, new, "review", "review:7", now=now)
    points.award(session, old, "survey", "survey:3", now=now)
    sample = catalogue.create_item(session, catalogue.ItemInput(
        "Wipes", "湿巾", "", "", 30, 5, True))
    session.flush()
    catalogue.redeem(session, new, sample.id, HOME, "k" * 16, now)
    # surveys: one the older account was asked for the same moment stays behind; the
    # other two, a planned moment and the weekly pacing follow the person
    for person in (old, new):
        surveys.offer_csat(session, person, "ticket", "ticket:5", now=now - timedelta(days=20))
    surveys.offer_csat(session, new, "ticket", "ticket:6", now=now - timedelta(days=10))
    surveys.offer_nps(session, new, now=now - timedelta(days=2))
    session.add(SurveyMoment(user_id=new.id, trigger="birth", subject_ref=f"child:{new_child.id}",
                             due_at=now + timedelta(days=3)))
    # club life: both joined May's club and liked the older account's post (those stay);
    # the newer account's sleep group, post, comment, like of its own post, report and ban
    # follow the person
    may = Club(kind="birth", month=date(2026, 5, 1), name_en="May 2026")
    sleep = Club(kind="topic", slug="naps-test", name_en="Naps")
    session.add_all([may, sleep])
    session.flush()
    first = ClubPost(club_id=may.id, author_id=old.id, body="Hello May", status="published")
    second = ClubPost(club_id=sleep.id, author_id=new.id, body="Naps?", status="published")
    session.add_all([first, second])
    session.flush()
    session.add_all([
        ClubMember(club_id=may.id, user_id=old.id), ClubMember(club_id=may.id, user_id=new.id),
        ClubMember(club_id=sleep.id, user_id=new.id),
        ClubLike(post_id=first.id, user_id=old.id), ClubLike(post_id=first.id, user_id=new.id),
        ClubLike(post_id=second.id, user_id=new.id),
        ClubComment(post_id=first.id, author_id=new.id, body="Hi!", status="published"),
        ClubReport(post_id=first.id, reporter_id=new.id, reason="spam?"),
        ClubBan(user_id=new.id, club_id=None, until=now + timedelta(days=7), reason="rude"),
    ])
    # help votes: both answered FAQ 1 (the older account's stays the person's one vote);
    # the newer account's vote on FAQ 2 moves, under the survivor's voter key
    faq1 = make_item(session, kind="faq", key="faq-sleep", title="Sleep?", category="account")
    faq2 = make_item(session, kind="faq", key="faq-feed", title="Feeding?", category="account")
    session.add_all([FaqVote(item_id=faq1.id, voter=f"u{old.id}", user_id=old.id, helpful=True),
                     FaqVote(item_id=faq1.id, voter=f"u{new.id}", user_id=new.id, helpful=False),
                     FaqVote(item_id=faq2.id, voter=f"u{new.id}", user_id=new.id, helpful=True)])
    # reviews: both reviewed the nappies (the survivor's stays its one review); the
    # newer account's review of the wipes moves
    wipes = make_item(session, kind="product", key="BJ-WIPES", title="Wipes", unit="month",
                      low=3, high=36, category="wipes", price_minor=1900, currency="CNY")
    session.add_all([ProductReview(user_id=old.id, item_id=item.id, rating=5, body="Good"),
                     ProductReview(user_id=new.id, item_id=item.id, rating=4, body="Fine"),
                     ProductReview(user_id=new.id, item_id=wipes.id, rating=5, body="Soft")])
    session.commit()
    return old, new, old_child, new_child, service


def test_every_column_naming_a_user_is_handled_by_the_merge():
    load_all_models()
    found = {(t.name, c.name) for t in db.Base.metadata.sorted_tables for c in t.columns
             for fk in c.foreign_keys if fk.column.table.name == "users"}
    assert found == set(duplicates.USER_COLUMNS)
    assert {v for v in duplicates.USER_COLUMNS.values() if not v.startswith("staff only")} \
        <= set(duplicates.KINDS)


def test_pairs_are_found_by_mailbox_phone_and_name_with_a_child_born_the_same_day(
        session, make_family, pair):
    old, new, *_ = pair
    born = date(2026, 5, 1)
    a, _ = make_family(email="x1@example.com", birth_date=born)
    b, _ = make_family(email="x2@example.com", birth_date=born)
    c, _ = make_family(email="x3@example.com", birth_date=born + timedelta(days=1))
    phone1, _ = make_family(email="p1@example.com")
    phone2, _ = make_family(email="p2@example.com")
    a.display_name = b.display_name = c.display_name = "Wang Fang"
    phone1.phone, phone2.phone = "13900001111", "+86 139-0000-1111"
    staff = make_staff(session, "analyst")
    staff.email = "anna.lee+staff@gmail.com"  # staff are never customers
    session.commit()
    found = duplicates.candidates(session)
    # the two Annas care for Mia, one child: one name and a child born the same day too
    assert [(p.first.id, p.second.id, p.reasons) for p in found.items] == [
        (old.id, new.id, ["email", "name_child"]), (a.id, b.id, ["name_child"]),
        (phone1.id, phone2.id, ["phone"])]
    assert [(p.first.id, p.second.id) for p in duplicates.duplicates_of(session, new)] == \
        [(old.id, new.id)]
    assert duplicates.duplicates_of(session, c) == []
    # the older account is the one made first, whatever its id
    phone2.created_at = phone1.created_at - timedelta(days=1)
    session.commit()
    assert [(p.first.id, p.second.id) for p in duplicates.duplicates_of(session, phone1)] == \
        [(phone2.id, phone1.id)]
    assert duplicates.reasons_for(session, new, old) == ["email", "name_child"]


def test_the_list_pages(session, make_family):
    for n in range(5):
        first, _ = make_family(email=f"twin{n}@example.com")
        second, _ = make_family(email=f"twin{n}+x@example.com")
    session.commit()
    one = duplicates.candidates(session, page=1, per_page=2)
    three = duplicates.candidates(session, page=3, per_page=2)
    assert (one.total, one.pages, len(one.items), three.number, len(three.items)) == \
        (5, 3, 2, 3, 1)
    assert duplicates.candidates(session, page=99, per_page=2).number == 3


def test_a_merge_moves_every_row_and_loses_none(session, pair):
    old, new, old_child, new_child, service = pair
    before_rows, before_totals = user_rows(session, old, new), totals(session)
    plan = duplicates.plan(session, old.id, new.id)
    assert plan.counts() == {
        "memberships": 1, "children": 1, "entries": 2, "consents": 4, "deliveries": 1,
        "email_clicks": 1, "campaign_sends": 1, "interactions": 2, "contact_events": 2,
        "email_preferences": 1, "invitations": 1, "tickets": 1, "club_members": 1,
        "club_posts": 1, "club_comments": 1, "club_likes": 1, "club_reports": 1,
        "club_bans": 1, "reward_points": 4, "reward_redemptions": 1, "survey_offers": 2,
        "survey_moments": 1, "help_votes": 1, "product_reviews": 1}
    assert plan.kept() == {
        "deliveries": 1, "inbox_messages": 1, "campaign_sends": 1, "saved_items": 1,
        "club_members": 1, "club_likes": 1, "reward_points": 1, "reward_balances": 1,
        "survey_offers": 1, "survey_throttles": 1, "help_votes": 1, "product_reviews": 1,
        "memberships_joined": 1, "customer_scores": 1, "sessions": 1,
        "account_emails": 4, "data_exports": 1}  # three of the emails: the surveys'

    assert (points.balance(session, old), points.balance(session, new)) == (20, 45)
    assert plan.profile == {"phone": "+86 138 0013 8000", "region_province": "Shanghai"}
    assert plan.interests_added == ["sleep"]
    assert plan.reasons == ["email", "name_child"]

    record = duplicates.merge(session, old.id, new.id, service, plan.fingerprint, "Same mum")
    session.commit()
    after_rows, after_totals = user_rows(session, old, new), totals(session)

    # nothing vanished: every table has as many rows as before, but for the one duplicate
    # membership, the dropped scores and the new merge record
    changed = {t: (before_totals[t], after_totals[t]) for t in before_totals
               if before_totals[t] != after_totals[t]}
    assert changed == {"memberships": (3, 2), "customer_scores": (1, 0),
                       "customer_merges": (0, 1)}
    # per column: the survivor has its own rows and everything that moved; the merged
    # account keeps exactly what the plan said stays
    kept = plan.kept()
    for key, before in before_rows.items():
        kind = duplicates.USER_COLUMNS[key]
        stays = 0 if kind == "memberships" else kept.get(kind, 0)
        if kind == "customer_scores":
            assert after_rows[key] == {old.id: before[old.id], new.id: 0}, key
            continue
        if kind == "memberships":
            assert after_rows[key] == {old.id: before[old.id] + 1, new.id: 0}, key
            continue
        assert after_rows[key] == {old.id: before[old.id] + before[new.id] - stays,
                                   new.id: stays}, key

    session.expire_all()
    old, new = session.get(User, old.id), session.get(User, new.id)
    assert (new.is_active, new.digest_opt_in, new.marketing_opt_in) == (False, False, False)
    assert sessions.active(session, new, utcnow()) == []
    assert old.is_active and old.phone == "+86 138 0013 8000" and old.region_province == \
        "Shanghai" and old.interests == ["feeding", "sleep"]
    assert old.marketing_opt_in is True  # the newest marketing record said yes
    roles = {m.family_id: m.role for m in session.scalars(
        select(Membership).where(Membership.user_id == old.id))}
    assert roles == {old_child.family_id: "owner", new_child.family_id: "owner"}
    assert session.get(EmailPreference, old.id).frequency == "daily"
    # points: survey:1, survey:2, review:7 and the sample's -30 moved (+25); survey:3 stayed
    assert (points.balance(session, old), points.balance(session, new)) == (45, 20)
    assert points.ledger_sum(session, old) == 45 and points.ledger_sum(session, new) == 20
    assert [r.user_id for r in catalogue.redemptions_of(session, old)] == [old.id]
    # the person's pacing is the later of both: the newer account's NPS two days ago
    pacing = session.get(SurveyThrottle, old.id)
    nps = session.scalars(select(SurveyOffer).where(SurveyOffer.kind == "nps")).one()
    assert nps.user_id == old.id
    assert pacing.last_offer_at == pacing.last_nps_at == nps.offered_at
    assert surveys.offer_csat(session, old, "ticket", "ticket:8", now=utcnow()) is None
    # the person's club life: a ban follows them, their post reads as the survivor's, and
    # each of the one-a-person rows is still one
    assert club_posts.active_ban(session, old, first_club_id(session)) is not None
    assert {p.body: p.author_id for p in session.scalars(select(ClubPost))} == \
        {"Hello May": old.id, "Naps?": old.id}
    assert session.scalar(select(func.count()).select_from(ClubLike)
                          .where(ClubLike.user_id == old.id)) == 2
    assert sorted((v.voter, v.helpful) for v in session.scalars(
        select(FaqVote).where(FaqVote.user_id == old.id))) == \
        [(f"u{old.id}", True), (f"u{old.id}", True)]
    assert sorted((r.rating, r.body) for r in session.scalars(
        select(ProductReview).where(ProductReview.user_id == old.id))) == \
        [(5, "Good"), (5, "Soft")]
    assert session.scalars(select(Ticket.user_id)).all() == [old.id]

    record = session.get(CustomerMerge, record.id)
    assert (record.survivor_member_no, record.merged_member_no, record.staff_member_no,
            record.staff_role, record.reasons, record.note) == (
        old.member_no, new.member_no, service.member_no, "service", ["email", "name_child"],
        "Same mum")
    assert record.moved == plan.counts() and record.kept == kept
    assert record.details["score_dropped"]["tier"] == "low"
    assert record.details["memberships_joined"][0]["family_id"] == old_child.family_id
    assert len(record.details["ids"]["interactions"]) == 2
    assert duplicates.merged_into(session, new).id == old.id
    assert duplicates.merges_of(session, old) == [record]


def test_the_stronger_role_is_kept_where_both_were_caregivers(session, make_family):
    owner, child = make_family(email="kim@example.com")
    viewer_account, _ = make_family(email="kim+2@example.com")
    invitation = invitations.invite(session, child.family, owner, viewer_account.email,
                                    "viewer", "mother")
    invitations.accept(session, invitation, viewer_account)
    session.commit()
    staff = make_staff(session, "admin")
    # the survivor is the viewer: it becomes the owner of the family it shared
    plan = duplicates.plan(session, viewer_account.id, owner.id)
    duplicates.merge(session, viewer_account.id, owner.id, staff, plan.fingerprint)
    session.commit()
    roles = {m.family_id: m.role for m in session.scalars(
        select(Membership).where(Membership.user_id == viewer_account.id))}
    assert roles[child.family_id] == "owner"


def test_a_merge_is_one_transaction(session, pair, monkeypatch):
    old, new, *_, service = pair
    before_rows, before_totals = user_rows(session, old, new), totals(session)
    plan = duplicates.plan(session, old.id, new.id)
    calls = []
    real = duplicates.move_rows

    def failing(*args, **kwargs):  # late: the core rows and the movers' first rows moved
        calls.append(1)
        if len(calls) == 18:
            raise RuntimeError("the database went away")
        return real(*args, **kwargs)

    monkeypatch.setattr(duplicates, "move_rows", failing)
    with pytest.raises(RuntimeError):
        duplicates.merge(session, old.id, new.id, service, plan.fingerprint)
    session.rollback()
    assert user_rows(session, old, new) == before_rows and totals(session) == before_totals
    assert session.get(User, new.id).is_active


def test_a_stale_preview_analysts_and_odd_pairs_are_refused(session, pair, make_family):
    old, new, old_child, _, service = pair
    plan = duplicates.plan(session, old.id, new.id)
    session.add(Delivery(user_id=new.id, child_id=0, item_key="digest:2026-W48",
                         channel="email", occurrence="2026-W48", status="pending"))
    session.commit()
    with pytest.raises(Conflict):
        duplicates.merge(session, old.id, new.id, service, plan.fingerprint)
    session.rollback()
    with pytest.raises(Conflict):
        duplicates.merge(session, old.id, new.id, service, "")
    session.rollback()
    analyst = make_staff(session, "analyst")
    fresh = duplicates.plan(session, old.id, new.id)
    with pytest.raises(duplicates.MergeRefused):
        duplicates.merge(session, old.id, new.id, analyst, fresh.fingerprint)
    session.rollback()
    with pytest.raises(duplicates.MergeRefused):
        duplicates.plan(session, old.id, old.id)
    with pytest.raises(NotFound):
        duplicates.plan(session, old.id, service.id)  # staff are not customers
    with pytest.raises(NotFound):
        duplicates.plan(session, old.id, 2**31 - 1)
    duplicates.merge(session, old.id, new.id, service, fresh.fingerprint)
    session.commit()
    with pytest.raises(duplicates.MergeRefused):  # merged once: closed
        duplicates.plan(session, old.id, new.id)
    assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 1


def test_merge_records_cannot_be_changed_or_deleted(session, pair):
    old, new, *_, service = pair
    record = duplicates.merge(session, old.id, new.id, service,
                              duplicates.plan(session, old.id, new.id).fingerprint)
    session.commit()
    record.note = "rewritten"
    with pytest.raises(MergeRecordAppendOnly):
        session.commit()
    session.rollback()
    from sqlalchemy import delete
    with pytest.raises(MergeRecordAppendOnly):
        session.execute(delete(CustomerMerge))
    session.rollback()
    assert session.scalar(select(func.count()).select_from(CustomerMerge)) == 1


def test_deleting_a_merged_account_keeps_the_record(session, pair):
    from diary import privacy
    old, new, *_, service = pair
    duplicates.merge(session, old.id, new.id, service,
                     duplicates.plan(session, old.id, new.id).fingerprint)
    session.commit()
    privacy.delete_account(session, session.get(User, new.id))
    session.commit()
    record = session.scalar(select(CustomerMerge))
    assert record.merged_member_no == new.member_no and session.get(User, new.id) is None



def test_the_demo_has_one_pair_for_customer_service_to_look_at(session, make_family):
    from crm import demo as crm_demo

    first, _ = make_family(email=crm_demo.SECOND_OF)
    first.phone = "+86 138 0013 8000"
    make_item(session, kind="product", key="BJ-WIPES", title="Wipes", unit="month", low=3,
              high=36, category="wipes", price_minor=1900, currency="CNY")
    assert crm_demo.second_account(session, utcnow()) is True
    assert crm_demo.second_account(session, utcnow()) is False  # once
    session.commit()
    second = session.scalar(select(User).where(User.email == crm_demo.SECOND_EMAIL))
    assert (second.phone, second.display_name) == ("138-0013-8000", first.display_name)
    assert [(p.first.id, p.second.id, p.reasons) for p in duplicates.candidates(session).items] \
        == [(first.id, second.id, ["phone"])]
    plan = duplicates.plan(session, first.id, second.id)
    assert (plan.counts(), plan.kept()) == ({"interactions": 1, "saved_items": 1}, {})
    assert accounts.authenticate(session, crm_demo.SECOND_EMAIL, "!") is None  # no sign-in
