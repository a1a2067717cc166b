"""The help centre (care.help): FAQs for the child's stage first, by topic, searched, and
"was this helpful?" votes (one per person per FAQ, changeable) with the least helpful list."""
from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from care import help as faq_help
from care.models import FaqVote
from content import authoring, workflow
from content.authoring import ItemInput, TextInput
from content.errors import ValidationError as ContentValidationError
from content.stages import Stage
from diary.errors import NotFound, ValidationError

T0 = datetime(2026, 11, 23, 4, 0, tzinfo=UTC)


def faq(session, key, title, category="baby", window=None, topics=(), publish=True,
        body="An answer."):
    unit, low, high = window or (None, None, None)
    item = authoring.create(session, ItemInput(
        kind="faq", key=key, category=category, window_unit=unit, window_from=low,
        window_to=high, topics=list(topics), translations={
            "en": TextInput(title, "", body), "zh_CN": TextInput(title + "（中文）", "", body)}),
        None)
    if publish:
        workflow.publish_reviewed(session, item)
    session.flush()
    return item


@pytest.fixture()
def faqs(session):
    return {
        "sleep": faq(session, "newborn-sleep", "How long do newborns sleep?", "baby",
                     ("week", 0, 8), ["sleep"], body="Newborns sleep 14 to 17 hours."),
        "scan": faq(session, "scan-dates", "When is the dating scan?", "pregnancy",
                    ("pregnancy_week", 10, 14), ["prenatal-care"]),
        "email": faq(session, "change-email", "How do I change my email?", "account"),
        "draft": faq(session, "draft-faq", "A draft about sleep", "baby", ("week", 0, 8),
                     ["sleep"], publish=False),
    }


def keys(items):
    return [i.key for i in items]


def test_the_childs_stage_comes_first_then_categories(session, faqs):
    page = faq_help.help_page(session, Stage("week", 3), now=T0)
    assert keys(page.for_stage) == ["newborn-sleep"]
    assert {c: keys(i) for c, i in page.groups.items()} == {
        "account": ["change-email"], "pregnancy": ["scan-dates"]}
    # another stage: nothing first; no stage (a visitor): everything by category
    assert faq_help.help_page(session, Stage("week", 9), now=T0).for_stage == []
    assert faq_help.help_page(session, Stage("pregnancy_week", 12), now=T0).for_stage == [
        faqs["scan"]]
    assert faq_help.help_page(session, None, now=T0).count == 3  # the draft is not shown
    assert page.topics == ["prenatal-care", "sleep"]  # in the vocabulary's order


def test_topic_filter_and_search(session, faqs):
    assert keys(faq_help.help_page(session, None, "sleep", now=T0).groups["baby"]) == [
        "newborn-sleep"]
    assert faq_help.help_page(session, None, "sleep", now=T0).count == 1
    assert faq_help.help_page(session, None, "play", now=T0).count == 0
    with pytest.raises(NotFound):
        faq_help.help_page(session, None, "<script>", now=T0)
    found = faq_help.help_page(session, Stage("week", 3), query="hours", now=T0)
    assert keys(found.for_stage) == ["newborn-sleep"] and found.groups == {}
    assert faq_help.help_page(session, None, query="email", now=T0).count == 1
    assert faq_help.help_page(session, None, query="中文", now=T0).count == 3
    assert faq_help.help_page(session, None, query="nothing-like-this", now=T0).count == 0


def test_an_faq_window_is_optional_but_checked(session):
    faq(session, "any-stage", "For everyone")  # no window: fine
    with pytest.raises(ContentValidationError):
        faq(session, "bad-window", "Bad", window=("week", 9, 3))
    with pytest.raises(ContentValidationError):
        faq(session, "half-window", "Half", window=(None, 3, 4))


def test_one_vote_per_person_changeable(session, make_family, faqs):
    user, _ = make_family()
    other, _ = make_family()
    item = faqs["sleep"]
    faq_help.vote(session, item.id, True, user, now=T0)
    faq_help.vote(session, item.id, False, user, now=T0)  # changed, not a second vote
    faq_help.vote(session, item.id, True, other, now=T0)
    faq_help.vote(session, item.id, False, None, "abc123", now=T0)
    faq_help.vote(session, item.id, False, None, "abc123", now=T0)
    assert session.scalar(select(func.count(FaqVote.id))) == 3
    assert faq_help.votes_by(session, user, None, [item.id]) == {item.id: False}
    assert faq_help.votes_by(session, None, "abc123", [item.id]) == {item.id: False}
    assert faq_help.votes_by(session, None, None, [item.id]) == {}
    [stats] = [s for s in faq_help.stats(session, T0) if s.item.id == item.id]
    assert (stats.helpful, stats.not_helpful, stats.share) == (1, 2, 33.3)


def test_votes_only_on_live_faqs_and_with_a_sane_key(session, make_family, faqs):
    user, _ = make_family()
    for item_id in (faqs["draft"].id, 999999):
        with pytest.raises(NotFound):
            faq_help.vote(session, item_id, True, user, now=T0)
    for key in (None, "", "a b", "x" * 40, "<script>"):
        with pytest.raises(ValidationError):
            faq_help.vote(session, faqs["sleep"].id, True, None, key, now=T0)
    assert session.scalar(select(func.count(FaqVote.id))) == 0


def test_the_least_helpful_need_enough_votes(session, make_family, faqs):
    people = [make_family()[0] for _ in range(4)]
    for person, yes in zip(people, (True, False, False, False), strict=True):
        faq_help.vote(session, faqs["sleep"].id, yes, person, now=T0)   # 25 %
    for person, yes in zip(people[:3], (True, True, False), strict=True):
        faq_help.vote(session, faqs["email"].id, yes, person, now=T0)   # 66.7 %
    for person in people[:2]:
        faq_help.vote(session, faqs["scan"].id, False, person, now=T0)  # 0 %, but 2 votes
    rows = faq_help.stats(session, T0)
    worst = faq_help.least_helpful(rows)
    assert [(s.item.key, s.votes, s.share) for s in worst] == [
        ("newborn-sleep", 4, 25.0), ("change-email", 3, 66.7)]
    assert [s.item.key for s in faq_help.least_helpful(rows, min_votes=2)][0] == "scan-dates"
