"""The milestone checklist: its words, the age it uses, and ticking into the diary."""
from __future__ import annotations

import re
from collections import Counter
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from diary import milestones
from diary.age import add_months
from diary.entries import EntryInput, update_entry
from diary.errors import ValidationError
from diary.milestones import CHECKPOINTS, DOMAINS
from diary.models import Entry
from tests.conftest import local_today

CJK = re.compile(r"[\u3400-\u9fff]")
LONG_LATIN_WORD = re.compile(r"[A-Za-z]{4,}")
TODAY = local_today()  # the families' (Shanghai) date, not the machine's


def _birth(years_ago: int) -> date:
    """A fixed day of the year (10 March) so month arithmetic is the same every year."""
    return date(TODAY.year - years_ago, 3, 10)


def _now() -> datetime:
    return datetime.now(UTC) - timedelta(minutes=5)


# ---------------------------------------------------------------- data


def test_ids_are_unique_and_name_their_checkpoint_and_domain():
    items = milestones.all_milestones()
    ids = [m.id for m in items]
    assert len(ids) == len(set(ids))
    for m in items:
        assert re.fullmatch(r"m\d\d-[a-z]+-[a-z0-9-]+", m.id), m.id
        assert m.id.startswith(f"m{m.month:02d}-{m.domain}-"), m.id


def test_every_checkpoint_and_domain_has_two_to_four_items():
    counts = Counter((m.month, m.domain) for m in milestones.all_milestones())
    assert set(counts) == {(c, d) for c in CHECKPOINTS for d in DOMAINS}
    assert all(2 <= n <= 4 for n in counts.values()), counts
    assert 120 <= sum(counts.values()) <= 150


def test_listed_in_checkpoint_then_domain_order():
    items = milestones.all_milestones()
    keys = [(CHECKPOINTS.index(m.month), DOMAINS.index(m.domain)) for m in items]
    assert keys == sorted(keys)


def test_texts_read_well_in_both_languages():
    for m in milestones.all_milestones():
        assert m.en.strip() == m.en and m.en[0].isupper() and m.en.endswith("."), m.id
        assert len(m.en.split()) >= 1 and len(m.en) <= 120, m.id
        assert CJK.search(m.zh), m.id
        assert not LONG_LATIN_WORD.search(m.zh), m.id
        assert m.zh.endswith(("。", "”", "？")), m.id
        assert len(m.zh) <= 120, m.id  # fits an entry title


def test_source_and_act_early_texts():
    assert "CDC" in milestones.SOURCE and "not medical advice" in milestones.SOURCE
    assert CJK.search(milestones.SOURCE_ZH) and "医疗建议" in milestones.SOURCE_ZH
    assert "doctor" in milestones.ACT_EARLY_EN and "wait" in milestones.ACT_EARLY_EN
    assert "医生" in milestones.ACT_EARLY_ZH
    assert milestones.source("zh_CN") == milestones.SOURCE_ZH
    assert milestones.source("en") == milestones.SOURCE
    assert milestones.act_early("zh_CN") == milestones.ACT_EARLY_ZH
    assert milestones.act_early("en") == milestones.ACT_EARLY_EN


def test_lookup_and_text_by_locale():
    smile = milestones.by_id("m02-social-smiles")
    assert (smile.month, smile.domain) == (2, "social")
    assert smile.text("zh_CN") == smile.zh and smile.text("en") == smile.en
    assert smile.text("zh_Hans_CN") == smile.zh and smile.text("") == smile.en
    with pytest.raises(ValidationError, match="Unknown milestone"):
        milestones.by_id("m02-social-juggles")
    assert [m.month for m in milestones.for_checkpoint(9)] == [9] * len(
        milestones.for_checkpoint(9))
    assert milestones.for_checkpoint(7) == []


# ---------------------------------------------------------------- checklist


def test_term_baby_at_exactly_six_months(session, make_family):
    birth = _birth(1)
    _, child = make_family(birth_date=birth, gestational_weeks=39, gestational_days=2)
    result = milestones.checklist(session, child, add_months(birth, 6))
    assert (result.age_months, result.corrected, result.current, result.upcoming) == \
        (6, False, 6, 9)
    assert result.achieved == {}
    assert result.status(milestones.by_id("m02-social-smiles")) == "expected"
    assert result.status(milestones.by_id("m06-social-laughs")) == "expected"
    assert result.status(milestones.by_id("m09-movement-sits-alone")) == "upcoming"
    assert result.status(milestones.by_id("m60-movement-hops")) == "upcoming"
    # One day earlier the baby is 5 months: the 6-month milestones are still to come.
    earlier = milestones.checklist(session, child, add_months(birth, 6) - timedelta(days=1))
    assert (earlier.age_months, earlier.current, earlier.upcoming) == (5, 4, 6)
    assert earlier.status(milestones.by_id("m06-social-laughs")) == "upcoming"


def test_preterm_baby_uses_corrected_age(session, make_family):
    birth = _birth(2)
    _, child = make_family(birth_date=birth, gestational_weeks=32, gestational_days=0)
    result = milestones.checklist(session, child, add_months(birth, 8))  # 8 months, 8 weeks early
    assert (result.age_months, result.corrected, result.current, result.upcoming) == \
        (6, True, 6, 9)


def test_preterm_correction_stops_at_24_months(session, make_family):
    birth = _birth(3)
    _, child = make_family(birth_date=birth, gestational_weeks=32, gestational_days=0)
    result = milestones.checklist(session, child, add_months(birth, 25))
    assert (result.age_months, result.corrected, result.current, result.upcoming) == \
        (25, False, 24, 30)
    just_before = milestones.checklist(session, child, add_months(birth, 24) - timedelta(days=1))
    assert (just_before.age_months, just_before.corrected) == (22, True)  # 8 weeks early


def test_preterm_baby_before_due_date_counts_as_zero(session, make_family):
    birth = _birth(1)
    _, child = make_family(birth_date=birth, gestational_weeks=28, gestational_days=0)
    result = milestones.checklist(session, child, add_months(birth, 2))  # still before due
    assert (result.age_months, result.corrected, result.current, result.upcoming) == \
        (0, True, None, 2)


def test_after_five_years_nothing_is_upcoming(session, make_family):
    birth = _birth(5)
    _, child = make_family(birth_date=birth)
    result = milestones.checklist(session, child, add_months(birth, 61))
    assert (result.age_months, result.current, result.upcoming) == (61, 60, None)
    assert {result.status(m) for m in milestones.all_milestones()} == {"expected"}


def test_before_two_months_nothing_is_expected_yet(session, make_family):
    birth = _birth(1)
    _, child = make_family(birth_date=birth)
    result = milestones.checklist(session, child, birth + timedelta(days=40))
    assert (result.age_months, result.current, result.upcoming) == (1, None, 2)
    assert {result.status(m) for m in milestones.all_milestones()} == {"upcoming"}
    on_birth_day = milestones.checklist(session, child, birth)
    assert (on_birth_day.age_months, on_birth_day.current, on_birth_day.upcoming) == (0, None, 2)


def test_unborn_child_has_no_checklist(session, make_family):
    user, child = make_family(born=False)
    with pytest.raises(ValidationError, match="once your baby is born"):
        milestones.checklist(session, child, TODAY)
    with pytest.raises(ValidationError, match="once your baby is born"):
        milestones.tick(session, child, user, "m02-social-smiles", _now(), "en")


# ---------------------------------------------------------------- tick / untick


def test_tick_writes_a_milestone_entry(session, make_family):
    user, child = make_family(birth_date=TODAY - timedelta(days=100))
    when = _now()
    entry = milestones.tick(session, child, user, "m02-social-smiles", when, "zh_CN")
    session.commit()
    stored = session.get(Entry, entry.id)
    assert stored.kind == "milestone" and stored.child_id == child.id
    assert stored.author_id == user.id
    assert stored.title == milestones.by_id("m02-social-smiles").zh
    assert stored.data == {"milestone_id": "m02-social-smiles"}
    assert stored.occurred_at == when
    result = milestones.checklist(session, child, TODAY)
    assert set(result.achieved) == {"m02-social-smiles"}
    assert result.achieved["m02-social-smiles"].entry_id == entry.id
    assert result.achieved["m02-social-smiles"].occurred_at == when
    assert result.status(milestones.by_id("m02-social-smiles")) == "achieved"


def test_tick_in_english_and_any_checkpoint(session, make_family):
    user, child = make_family(birth_date=TODAY - timedelta(days=100))
    entry = milestones.tick(session, child, user, "m06-movement-rolls-over", _now(), "en")
    session.commit()
    assert entry.title == milestones.by_id("m06-movement-rolls-over").en
    assert milestones.checklist(session, child, TODAY).status(
        milestones.by_id("m06-movement-rolls-over")) == "achieved"


def test_ticking_twice_is_refused(session, make_family):
    user, child = make_family()
    milestones.tick(session, child, user, "m02-social-smiles", _now(), "en")
    session.commit()
    with pytest.raises(ValidationError, match="Already ticked"):
        milestones.tick(session, child, user, "m02-social-smiles", _now(), "zh_CN")
    count = session.scalars(select(Entry).where(Entry.child_id == child.id,
                                                Entry.kind == "milestone")).all()
    assert len(count) == 1


def test_tick_is_per_child(session, make_family):
    user, child = make_family()
    other_user, other_child = make_family()
    milestones.tick(session, child, user, "m02-social-smiles", _now(), "en")
    milestones.tick(session, other_child, other_user, "m02-social-smiles", _now(), "en")
    session.commit()
    assert set(milestones.checklist(session, other_child, TODAY).achieved) == {
        "m02-social-smiles"}


def test_tick_unknown_id_or_bad_date_fails(session, make_family):
    user, child = make_family(birth_date=TODAY - timedelta(days=100))
    with pytest.raises(ValidationError, match="Unknown milestone"):
        milestones.tick(session, child, user, "m02-social-sings-opera", _now(), "en")
    before_birth = datetime.combine(TODAY - timedelta(days=120), datetime.min.time(),
                                    UTC)
    with pytest.raises(ValidationError, match="before the birth date"):
        milestones.tick(session, child, user, "m02-social-smiles", before_birth, "en")
    with pytest.raises(ValidationError, match="future"):
        milestones.tick(session, child, user, "m02-social-smiles",
                        datetime.now(UTC) + timedelta(days=2), "en")


def test_untick_removes_the_entry(session, make_family):
    user, child = make_family()
    entry = milestones.tick(session, child, user, "m04-language-coos", _now(), "en")
    session.commit()
    entry_id = entry.id
    assert milestones.untick(session, child, "m04-language-coos") == []
    session.commit()
    assert session.get(Entry, entry_id) is None
    assert milestones.checklist(session, child, TODAY).achieved == {}
    with pytest.raises(ValidationError, match="not ticked"):
        milestones.untick(session, child, "m04-language-coos")
    with pytest.raises(ValidationError, match="Unknown milestone"):
        milestones.untick(session, child, "m04-language-sings")
    # Ticking again after an untick is allowed.
    milestones.tick(session, child, user, "m04-language-coos", _now(), "en")
    session.commit()


def test_plain_milestone_entries_are_not_ticks(session, make_family):
    """A hand-written milestone entry, or one claiming an unknown id, ticks nothing."""
    from diary.entries import create_entry
    user, child = make_family()
    create_entry(session, child, user, EntryInput(kind="milestone", occurred_at=_now(),
                                                  title="First smile"))
    forged = create_entry(session, child, user, EntryInput(
        kind="milestone", occurred_at=_now(), title="Juggles",
        data={"milestone_id": "m02-social-juggles"}))
    session.commit()
    assert forged.data == {}
    assert milestones.checklist(session, child, TODAY).achieved == {}
    with pytest.raises(ValidationError, match="not ticked"):
        milestones.untick(session, child, "m02-social-smiles")


def test_editing_a_ticked_entry_keeps_the_tick_when_the_id_is_passed(session, make_family):
    user, child = make_family()
    entry = milestones.tick(session, child, user, "m02-social-smiles", _now(), "en")
    session.commit()
    update_entry(session, entry, EntryInput(
        kind="milestone", occurred_at=entry.occurred_at, title="Her first real smile!",
        body="At grandma's.", data={"milestone_id": entry.data["milestone_id"]}))
    session.commit()
    assert set(milestones.checklist(session, child, TODAY).achieved) == {"m02-social-smiles"}


def test_untick_never_deletes_what_the_parent_added_without_the_fingerprint(session,
                                                                            make_family):
    from diary.models import Photo
    user, child = make_family()
    entry = milestones.tick(session, child, user, "m04-language-coos", _now(), "en")
    session.commit()
    assert milestones.untick_preview(session, child, "m04-language-coos").needs_confirmation \
        is False
    entry.photos.append(Photo(storage_key="k" * 32, width=4, height=3, size_bytes=9))
    session.commit()  # a photo alone (not through the edit form) is enough to ask
    preview = milestones.untick_preview(session, child, "m04-language-coos")
    [ticked] = preview.entries
    assert (ticked.photo_count, ticked.note, ticked.title_edited, ticked.edited) == (
        1, "", False, False)
    assert preview.needs_confirmation
    for confirmed in (None, "", "0" * 32, preview.fingerprint[:-1] + "x"):
        with pytest.raises(milestones.ConfirmUntick) as asked:
            milestones.untick(session, child, "m04-language-coos", confirmed=confirmed)
        assert asked.value.preview.fingerprint == preview.fingerprint
    assert session.get(Entry, entry.id) is not None
    update_entry(session, entry, EntryInput(kind="milestone", occurred_at=entry.occurred_at,
                                            title=entry.title, body="Cooed at the cat."))
    session.commit()  # what the parent saw has changed: the old fingerprint no longer works
    with pytest.raises(milestones.ConfirmUntick):
        milestones.untick(session, child, "m04-language-coos", confirmed=preview.fingerprint)
    fresh = milestones.untick_preview(session, child, "m04-language-coos")
    assert fresh.entries[0].note == "Cooed at the cat." and fresh.entries[0].edited
    assert milestones.untick(session, child, "m04-language-coos",
                             confirmed=fresh.fingerprint) == ["k" * 32]
    session.commit()
    assert session.get(Entry, entry.id) is None


def test_untick_keeping_the_entry_only_stops_it_counting(session, make_family):
    user, child = make_family()
    entry = milestones.tick(session, child, user, "m04-language-coos", _now(), "zh_CN")
    session.commit()
    update_entry(session, entry, EntryInput(kind="milestone", occurred_at=entry.occurred_at,
                                            title="第一次咕咕叫", body=""))
    session.commit()
    [ticked] = milestones.untick_preview(session, child, "m04-language-coos").entries
    assert ticked.title_edited and ticked.edited and ticked.note == ""
    assert milestones.untick(session, child, "m04-language-coos", keep_entry=True) == []
    session.commit()
    session.expire_all()
    kept = session.get(Entry, entry.id)
    assert (kept.title, kept.data) == ("第一次咕咕叫", {})
    assert milestones.checklist(session, child, TODAY).achieved == {}
    with pytest.raises(ValidationError, match="not ticked"):
        milestones.untick_preview(session, child, "m04-language-coos")
