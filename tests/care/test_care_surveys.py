"""Satisfaction surveys (care.surveys): hand-computed CSAT and NPS figures, the weekly and
quarterly throttle (with a fixed clock, and two offers at once), the signed one-click links,
low scores' follow-ups and contact history, and the key moments the scheduler offers."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

import db
from care import surveys
from care.models import SurveyFollowUp, SurveyMoment, SurveyOffer, SurveyThrottle
from crm.models import ContactEvent
from diary import account_mail, accounts, tokens
from diary.errors import NotFound, ValidationError
from diary.models import AccountEmail, User
from journeys.models import Delivery
from tests.conftest import PASSWORD, migrated_database_url, run_at_once

T0 = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)
SECRET = "s" * 32


def offers(session, user=None):
    stmt = select(SurveyOffer).order_by(SurveyOffer.id)
    if user is not None:
        stmt = stmt.where(SurveyOffer.user_id == user.id)
    return list(session.scalars(stmt))


# --- the figures -------------------------------------------------------------------------------

def test_nps_and_csat_figures_match_hand_computed_examples():
    # 10 answers: promoters 10, 9, 9, 10 (4); passives 8, 7 (2); detractors 6, 0, 5, 3 (4)
    assert surveys.nps_score([10, 9, 9, 8, 7, 6, 0, 10, 5, 3]) == 0.0
    # 3 promoters, 1 passive, 1 detractor of 5: 60 % − 20 % = 40
    assert surveys.nps_score([10, 10, 9, 8, 6]) == 40.0
    # 1 promoter, 2 detractors of 3: 33.3 % − 66.7 % = −33.3
    assert surveys.nps_score([9, 6, 0]) == -33.3
    assert surveys.nps_score([]) is None
    assert surveys.csat_average([5, 4, 4, 2, 1]) == 3.2  # 16 / 5
    assert surveys.csat_average([5, 4]) == 4.5
    assert surveys.csat_average([]) is None


def _answered(session, user, kind, trigger, ref, score, offered, answered, comment=""):
    offer = SurveyOffer(user_id=user.id, kind=kind, trigger=trigger, subject_ref=ref,
                        channels=["inbox"], link_key="k" * 32, offered_at=offered,
                        comment="", score=None)
    session.add(offer)
    session.flush()
    if score is not None:
        surveys.answer(session, offer, score, "site", comment, answered)
    return offer


def test_results_give_exact_figures_by_trigger_month_and_response_rate(session, make_family):
    people = [make_family()[0] for _ in range(6)]
    nov, dec = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 12, 2, tzinfo=UTC)
    # CSAT: tickets 5, 4, 1 (November) and 2 (December); births 3 (December), one unanswered
    _answered(session, people[0], "csat", "ticket", "ticket:1", 5, nov, nov)
    _answered(session, people[1], "csat", "ticket", "ticket:2", 4, nov, nov)
    _answered(session, people[2], "csat", "ticket", "ticket:3", 1, nov, nov, "Too slow <b>!</b>")
    _answered(session, people[3], "csat", "ticket", "ticket:4", 2, dec, dec)
    _answered(session, people[4], "csat", "birth", "child:1", 3, dec, dec)
    _answered(session, people[5], "csat", "birth", "child:2", None, dec, None)
    # NPS: November 10, 9, 7, 3 → (2 − 1) / 4 = 25; December 6 → −100
    for person, score, when in ((people[0], 10, nov), (people[1], 9, nov), (people[2], 7, nov),
                                (people[3], 3, nov), (people[4], 6, dec)):
        _answered(session, person, "nps", "quarterly", "2026-Q4", score, when, when)
    _answered(session, people[5], "nps", "quarterly", "2026-Q4", None, dec, None)
    found = surveys.results(session, datetime(2026, 1, 1, tzinfo=UTC))
    by_trigger = {line.key: line for line in found.csat_by_trigger}
    assert (by_trigger["ticket"].count, by_trigger["ticket"].average) == (4, 3.0)  # 12 / 4
    assert by_trigger["ticket"].distribution == {1: 1, 2: 1, 3: 0, 4: 1, 5: 1}
    assert (by_trigger["birth"].count, by_trigger["birth"].average) == (1, 3.0)
    assert [(m.key, m.count, m.average) for m in found.csat_by_month] == [
        ("2026-11", 3, 3.33), ("2026-12", 2, 2.5)]
    assert [(m.month, m.count, m.promoters, m.passives, m.detractors, m.nps)
            for m in found.nps_by_month] == [("2026-11", 4, 2, 1, 1, 25.0),
                                             ("2026-12", 1, 0, 0, 1, -100.0)]
    assert (found.csat.count, found.csat.average) == (5, 3.0)  # 15 / 5
    assert (found.nps.count, found.nps.nps) == (5, 0.0)  # 2 promoters, 2 detractors of 5
    assert {(r.key, r.offered, r.answered, r.rate) for r in found.response} == {
        ("birth", 2, 1, 50.0), ("ticket", 4, 4, 100.0), ("quarterly", 6, 5, 83.3)}
    assert [o.comment for o in found.comments] == ["Too slow <b>!</b>"]
    # a window that starts after November leaves November out
    later = surveys.results(session, datetime(2026, 12, 1, tzinfo=UTC))
    assert [m.key for m in later.csat_by_month] == ["2026-12"]


# --- the throttle ------------------------------------------------------------------------------

def test_one_survey_a_week_of_any_kind(session, make_family):
    user, _ = make_family()
    first = surveys.offer_csat(session, user, "ticket", "ticket:1", now=T0)
    assert first is not None and first.kind == "csat" and first.channels == ["inbox", "email"]
    almost = T0 + timedelta(days=7) - timedelta(seconds=1)
    assert surveys.offer_csat(session, user, "ticket", "ticket:2", now=almost) is None
    assert surveys.offer_nps(session, user, now=almost) is None  # all kinds together
    assert surveys.offer_csat(session, user, "ticket", "ticket:2",
                              now=T0 + timedelta(days=7)) is not None
    # the same moment is never offered twice, however long after
    assert surveys.offer_csat(session, user, "ticket", "ticket:1",
                              now=T0 + timedelta(days=60)) is None
    assert [o.subject_ref for o in offers(session, user)] == ["ticket:1", "ticket:2"]


def test_nps_at_most_once_a_quarter(session, make_family):
    user, _ = make_family()
    assert surveys.offer_nps(session, user, now=T0).subject_ref == "2026-Q4"
    # a CSAT may come a week later; NPS not until thirteen weeks have passed
    assert surveys.offer_csat(session, user, "birth", "child:1",
                              now=T0 + timedelta(days=8)) is not None
    assert surveys.offer_nps(session, user, subject_ref="next",
                             now=T0 + timedelta(days=90)) is None
    second = surveys.offer_nps(session, user, now=T0 + timedelta(days=91))
    assert second is not None and second.subject_ref == "2027-Q1"
    throttle = session.get(SurveyThrottle, user.id)
    assert throttle.last_nps_at == throttle.last_offer_at == T0 + timedelta(days=91)


def test_the_throttle_holds_on_a_leap_day(session, make_family):
    user, _ = make_family()
    leap = datetime(2028, 2, 29, 15, 0, tzinfo=UTC)
    assert surveys.offer_nps(session, user, now=leap).subject_ref == "2028-Q1"
    assert surveys.offer_csat(session, user, "ticket", "t:1",
                              now=datetime(2028, 3, 7, 14, 59, tzinfo=UTC)) is None
    assert surveys.offer_csat(session, user, "ticket", "t:1",
                              now=datetime(2028, 3, 7, 15, 0, tzinfo=UTC)) is not None
    assert surveys.offer_nps(session, user, "q", now=leap + timedelta(days=90)) is None
    assert surveys.offer_nps(session, user, now=leap + timedelta(days=91)) is not None


def test_staff_and_closed_accounts_are_not_asked(session, make_family):
    staff = accounts.create_staff(session, "svc@example.com", PASSWORD, "service", "S")
    user, _ = make_family()
    user.is_active = False
    assert surveys.offer_csat(session, staff, "ticket", "t:1", now=T0) is None
    assert surveys.offer_csat(session, user, "ticket", "t:1", now=T0) is None
    assert offers(session) == []


def test_email_goes_only_to_a_proven_address(session, make_family):
    proven, _ = make_family()
    unproven, _ = make_family(verified=False)
    a = surveys.offer_csat(session, proven, "ticket", "t:1", now=T0)
    b = surveys.offer_csat(session, unproven, "ticket", "t:2", now=T0)
    assert (a.channels, b.channels) == (["inbox", "email"], ["inbox"])
    mails = list(session.scalars(select(AccountEmail).where(
        AccountEmail.kind == account_mail.SURVEY)))
    assert [(m.user_id, m.payload) for m in mails] == [(proven.id, {"offer_id": a.id})]
    assert surveys.offer_csat(session, proven, "ticket", "t:3", channels=("inbox",),
                              now=T0 + timedelta(days=8)).channels == ["inbox"]


def test_an_unknown_csat_trigger_is_a_programming_error(session, make_family):
    user, _ = make_family()
    with pytest.raises(ValueError):
        surveys.offer_csat(session, user, "quarterly", "x", now=T0)


@pytest.fixture()
def racing_world(tmp_path):
    url, drop = migrated_database_url(tmp_path)
    engine = db.make_engine(url)
    factory = db.make_session_factory(db.writer_engine(engine))
    with factory() as s, s.begin():
        user = accounts.create_staff(s, "p@example.com", PASSWORD, "service", "P")
        user.staff_role = None  # a parent, without a family (enough for offers)
        user_id = user.id
    yield factory, user_id
    engine.dispose()
    drop()


def test_two_offers_at_once_make_one_survey(racing_world):
    """A resolved ticket and the scheduler, at the same moment: the database decides."""
    factory, user_id = racing_world
    refs = iter(["ticket:1", "ticket:2", "ticket:3"])
    made: list[bool] = []

    def offer() -> None:
        ref = next(refs)
        with factory() as s, s.begin():
            made.append(surveys.offer_csat(s, s.get(User, user_id), "ticket", ref,
                                           now=T0) is not None)

    assert run_at_once(offer, 3) == []
    assert sorted(made) == [False, False, True]
    with factory() as s:
        assert s.scalar(select(func.count(SurveyOffer.id))) == 1


def test_two_offers_of_one_moment_at_once_make_one(racing_world):
    factory, user_id = racing_world
    made: list[bool] = []

    def offer() -> None:
        with factory() as s, s.begin():
            made.append(surveys.offer_csat(s, s.get(User, user_id), "ticket", "ticket:9",
                                           now=T0) is not None)

    assert run_at_once(offer, 2) == []
    assert sorted(made) == [False, True]


# --- signed links ------------------------------------------------------------------------------

def test_a_link_names_its_offer_and_score(session, make_family):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    found = surveys.read_answer_token(session, SECRET,
                                      surveys.make_answer_token(SECRET, offer, 4))
    assert (found.offer.id, found.score) == (offer.id, 4)


def test_tampered_forged_and_foreign_links_are_refused(session, make_family):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    token = surveys.make_answer_token(SECRET, offer, 5)
    tampered = token[:-2] + ("AA" if token[-2:] != "AA" else "BB")
    forged = [tokens.make_token(SECRET, surveys.ANSWER_PURPOSE, payload) for payload in (
        {"o": offer.id, "k": "x" * 32, "s": 5},      # another key: an older row's id
        {"o": offer.id, "k": offer.link_key, "s": 7},  # off the CSAT scale
        {"o": offer.id, "k": offer.link_key, "s": "5"},
        {"o": offer.id + 1000, "k": offer.link_key, "s": 5},
        ["not", "a", "dict"])]
    other_purpose = tokens.make_token(SECRET, "email-unsubscribe",
                                      {"o": offer.id, "k": offer.link_key, "s": 5})
    wrong_secret = surveys.make_answer_token("t" * 32, offer, 5)
    for bad in [tampered, other_purpose, wrong_secret, "", "x.y.z", *forged]:
        with pytest.raises(ValidationError) as raised:
            surveys.read_answer_token(session, SECRET, bad)
        assert "not valid" in str(raised.value.message), bad


def test_links_expire(session, make_family, clock_at):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    clock_at("2026-11-23T04:00")
    token = surveys.make_answer_token(SECRET, offer, 5)
    clock_at("2026-12-23T03:59")  # 30 days less a minute: still good
    assert surveys.read_answer_token(session, SECRET, token).score == 5
    clock_at("2026-12-23T04:01")
    with pytest.raises(ValidationError) as raised:
        surveys.read_answer_token(session, SECRET, token)
    assert "expired" in str(raised.value.message)


def test_a_score_is_recorded_once(session, make_family):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    surveys.answer(session, offer, 4, "email", now=T0 + timedelta(hours=1))
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.answer(session, offer, 1, "email", now=T0 + timedelta(hours=2))
    session.refresh(offer)
    assert (offer.score, offer.answered_via) == (4, "email")
    surveys.add_comment(session, offer, "  Lovely  ", now=T0 + timedelta(hours=3))
    with pytest.raises(surveys.AlreadyAnswered):
        surveys.add_comment(session, offer, "Changed my mind", now=T0 + timedelta(hours=4))
    assert offer.comment == "Lovely"


@pytest.mark.parametrize("score", [0, 6, -1, 11])
def test_scores_off_the_scale_are_refused(session, make_family, score):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    if score in (0, 6):
        with pytest.raises(ValidationError):
            surveys.answer(session, offer, score, "site", now=T0)
    else:
        nps = surveys.offer_nps(session, user, now=T0 + timedelta(days=8))
        with pytest.raises(ValidationError):
            surveys.answer(session, nps, score, "site", now=T0)
    assert session.scalar(select(func.count(SurveyOffer.id)).where(
        SurveyOffer.answered_at.is_not(None))) == 0


def test_comments_are_bounded_and_plain(session, make_family):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    with pytest.raises(ValidationError):
        surveys.answer(session, offer, 3, "site", "x" * (surveys.COMMENT_MAX + 1), now=T0)
    with pytest.raises(ValidationError):
        surveys.answer(session, offer, 3, "site", "bell \x07", now=T0)
    with pytest.raises(ValidationError):
        surveys.add_comment(session, offer, "before a score", now=T0)


def test_someone_elses_offer_is_not_found(session, make_family):
    mine, _ = make_family()
    theirs, _ = make_family()
    offer = surveys.offer_csat(session, theirs, "ticket", "t:1", now=T0)
    with pytest.raises(NotFound):
        surveys.offer_for(session, mine, offer.id)
    assert surveys.offer_for(session, theirs, offer.id) is offer


# --- low scores, follow-ups and the contact history ------------------------------------------------

def events(session, user):
    return [(e.source_id, e.outcome, e.subject) for e in session.scalars(
        select(ContactEvent).where(ContactEvent.user_id == user.id,
                                   ContactEvent.source_kind == "survey")
        .order_by(ContactEvent.id))]


@pytest.mark.parametrize(("kind", "score", "low"), [
    ("csat", 2, True), ("csat", 3, False), ("nps", 6, True), ("nps", 7, False)])
def test_a_low_score_opens_a_follow_up(session, make_family, kind, score, low):
    user, _ = make_family()
    offer = surveys.offer_csat(session, user, "ticket", "ticket:5", now=T0) if kind == "csat" \
        else surveys.offer_nps(session, user, now=T0)
    surveys.answer(session, offer, score, "site", "Hmm", now=T0)
    high = 5 if kind == "csat" else 10
    ref = "ticket:5" if kind == "csat" else "2026-Q4"
    subject = f"{kind.upper()} {score}/{high} · {ref}"
    follow_up = session.scalar(select(SurveyFollowUp).where(SurveyFollowUp.offer_id == offer.id))
    if low:
        assert follow_up is not None and follow_up.status == "open"
        assert events(session, user) == [
            (f"answer:{offer.id}", "complaint", subject),
            (f"follow_up:{follow_up.id}", "follow_up", f"Follow-up opened: {subject}")]
    else:
        assert follow_up is None
        assert events(session, user) == [(f"answer:{offer.id}", "informed", subject)]


def test_closing_a_follow_up_is_written_to_the_contact_history(session, make_family):
    user, _ = make_family()
    agent = accounts.create_staff(session, "agent@example.com", PASSWORD, "service", "Agent")
    marketer = accounts.create_staff(session, "mk@example.com", PASSWORD, "marketer", "M")
    offer = surveys.offer_csat(session, user, "ticket", "ticket:5", now=T0)
    surveys.answer(session, offer, 1, "email", now=T0)
    follow_up = offer.follow_up
    with pytest.raises(ValidationError):  # only customer service (or admins) take them
        surveys.update_follow_up(session, follow_up.id, agent, "open", marketer.id, "")
    with pytest.raises(ValidationError):
        surveys.update_follow_up(session, follow_up.id, agent, "closed", None, "")
    with pytest.raises(NotFound):
        surveys.update_follow_up(session, follow_up.id + 1000, agent, "done", None, "")
    surveys.update_follow_up(session, follow_up.id, agent, "open", agent.id, "Calling",
                             now=T0 + timedelta(hours=1))
    assert len(events(session, user)) == 2  # nothing new until it is done
    surveys.update_follow_up(session, follow_up.id, agent, "done", agent.id, "Sorted",
                             now=T0 + timedelta(hours=2))
    assert (follow_up.status, follow_up.done_at) == ("done", T0 + timedelta(hours=2))
    done = events(session, user)[-1]
    assert done[1:] == ("resolved", "Follow-up done: CSAT 1/5 · ticket:5")
    assert surveys.follow_ups(session, "open") == []
    assert surveys.follow_ups(session, "done") == [follow_up]


def test_the_latest_answers_of_each_kind(session, make_family):
    user, _ = make_family()
    old = surveys.offer_csat(session, user, "ticket", "t:1", now=T0)
    surveys.answer(session, old, 2, "site", now=T0)
    new = surveys.offer_csat(session, user, "ticket", "t:2", now=T0 + timedelta(days=7))
    surveys.answer(session, new, 5, "site", now=T0 + timedelta(days=7))
    nps = surveys.offer_nps(session, user, now=T0 + timedelta(days=14))
    assert surveys.latest_answers(session, user.id) == {"csat": new}
    surveys.answer(session, nps, 9, "email", now=T0 + timedelta(days=15))
    assert surveys.latest_answers(session, user.id) == {"csat": new, "nps": nps}


# --- key moments ---------------------------------------------------------------------------------

def test_a_birth_is_asked_about_two_weeks_later_once(session, make_family):
    user, child = make_family(born=False)
    assert surveys.birth_recorded(session, child.id, child.family_id, T0) == 1
    assert surveys.birth_recorded(session, child.id, child.family_id, T0) == 0  # again: same
    assert surveys.run_moments(session, T0 + timedelta(days=13)).offered == {}
    stats = surveys.run_moments(session, T0 + timedelta(days=14))
    assert stats.offered == {"birth": 1}
    assert [(o.trigger, o.subject_ref) for o in offers(session, user)] == [
        ("birth", f"child:{child.id}")]
    assert surveys.run_moments(session, T0 + timedelta(days=15)).offered == {}
    assert session.scalar(select(SurveyMoment.status)) == "offered"


def test_a_throttled_moment_waits_then_is_let_go(session, make_family):
    user, child = make_family(born=False)
    surveys.birth_recorded(session, child.id, child.family_id, T0)
    surveys.offer_csat(session, user, "ticket", "t:1", now=T0 + timedelta(days=13))
    stats = surveys.run_moments(session, T0 + timedelta(days=14))
    assert (stats.offered, stats.waiting) == ({}, 1)
    assert surveys.run_moments(session, T0 + timedelta(days=20)).offered == {"birth": 1}
    # another family's moment, missed for longer than the grace, is let go
    other, other_child = make_family(born=False)
    surveys.birth_recorded(session, other_child.id, other_child.family_id, T0)
    stats = surveys.run_moments(session, T0 + timedelta(days=14) + surveys.MOMENT_GRACE
                                + timedelta(minutes=1))
    assert stats.skipped == 1 and offers(session, other) == []


def _digest(session, user, sent_at):
    session.add(Delivery(user_id=user.id, item_key=f"digest:{sent_at.date()}", channel="email",
                         occurrence=str(sent_at.date()), status="sent", sent_at=sent_at,
                         created_at=sent_at))
    session.flush()


def test_the_first_month_of_digests_is_asked_about_once(session, make_family):
    user, _ = make_family()
    late, _ = make_family()
    _digest(session, user, T0)
    _digest(session, user, T0 + timedelta(days=7))
    _digest(session, late, T0 - timedelta(days=90))  # long ago: not a "first month" any more
    assert surveys.run_moments(session, T0 + timedelta(days=29)).offered == {}
    assert surveys.run_moments(session, T0 + timedelta(days=30)).offered == {"digests": 1}
    assert surveys.run_moments(session, T0 + timedelta(days=40)).offered == {}
    assert [(o.trigger, o.subject_ref) for o in offers(session)] == [("digests", "first-month")]


def test_nps_goes_to_regular_visitors_once_a_quarter(session, make_family):
    regular, _ = make_family()
    newcomer, _ = make_family()
    away, _ = make_family()
    now = T0
    regular.created_at, regular.last_seen_at = now - timedelta(days=60), now - timedelta(days=1)
    newcomer.created_at, newcomer.last_seen_at = now - timedelta(days=5), now
    away.created_at, away.last_seen_at = now - timedelta(days=400), now - timedelta(days=100)
    session.flush()
    assert surveys.run_moments(session, now).offered == {"quarterly": 1}
    assert [o.user_id for o in offers(session)] == [regular.id]
    # a month on the newcomer's account is old enough; the regular waits for the quarter
    assert surveys.run_moments(session, now + timedelta(days=30)).offered == {"quarterly": 1}
    assert [o.user_id for o in offers(session)] == [regular.id, newcomer.id]
    assert surveys.run_moments(session, now + timedelta(days=90)).offered == {}
    regular.last_seen_at = now + timedelta(days=90)  # still coming
    assert surveys.run_moments(session, now + timedelta(days=91)).offered == {"quarterly": 1}
    assert [o.user_id for o in offers(session)] == [regular.id, newcomer.id, regular.id]


def test_the_badges_open_count_is_what_the_inbox_shows(session, make_family):
    """`OPEN_COUNT` (added to the inbox's unread count by the web layer) counts exactly the
    offers `open_offers` gives: the person's own, unanswered, within their life."""
    from journeys import inbox
    user, _ = make_family()
    other, _ = make_family()
    life = timedelta(days=30)
    old = surveys.offer_csat(session, user, "ticket", "ticket:1", now=T0 - life)
    new = surveys.offer_csat(session, user, "ticket", "ticket:2", now=T0 - timedelta(days=8))
    answered = surveys.offer_csat(session, user, "ticket", "ticket:3", now=T0)
    theirs = surveys.offer_csat(session, other, "ticket", "ticket:4", now=T0)
    assert None not in (old, new, answered, theirs)
    surveys.answer(session, answered, 5, "site", now=T0)
    session.flush()

    def counted(who, now):
        also = (surveys.OPEN_COUNT, {"offered_after": now - life})
        return (session.scalar(surveys.OPEN_COUNT, {"user_id": who.id,
                                                    "offered_after": now - life}),
                inbox.unread_count(session, who, now, also=also))

    assert [o.id for o in surveys.open_offers(session, user, T0, life)] == [new.id]
    assert counted(user, T0) == (1, 1)  # the answered one and the month-old one are closed
    assert counted(user, T0 - timedelta(seconds=1)) == (2, 2)  # a second before, both open
    assert counted(other, T0) == (1, 1)
