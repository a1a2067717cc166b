"""Finding a customer by whatever staff have at hand (crm.search): member number, email,
phone, name, a child's name, an order id; forgiving case, spacing, full-width characters,
phone formats and small typos; ranked, saying what matched; hostile input finds nothing."""
from __future__ import annotations

import pytest

from crm import search
from diary import accounts, invitations
from diary.errors import ValidationError
from recommender import purchases
from tests.conftest import PASSWORD
from tests.web.test_studio import make_item

pytestmark = pytest.mark.clock_at("2026-11-23T04:00")


@pytest.fixture()
def people(session, make_family):
    """Four parents (one with a co-caregiver) and a staff member named like a parent."""
    def parent(email, name, phone=None, child="Mia"):
        user, kid = make_family(email=email, name=child)
        user.display_name, user.phone = name, phone
        session.commit()
        return user, kid

    anna, mia = parent("anna.lee@gmail.com", "Anna Lee", "+86 138-0013-8000", "Mia Rose")
    wang, ming = parent("wangfang@example.cn", "王芳", "139 0000 1111", "小明")
    jonathan, _ = parent("jon@example.com", "Jonathan Smithers", None, "Olivia")
    dad, _ = parent("dad@example.com", "Lee Senior", None, "Other")
    invitation = invitations.invite(session, mia.family, anna, dad.email, "editor", "father")
    invitations.accept(session, invitation, dad)
    accounts.create_staff(session, "staff@example.com", PASSWORD, "service", "Anna Lee")
    session.commit()
    return {"anna": anna, "wang": wang, "jonathan": jonathan, "dad": dad, "mia": mia,
            "ming": ming}


def found(session, query):
    return [(r.user.id, [(h.field, h.how, h.value) for h in r.hits])
            for r in search.find(session, query).results]


def ids(session, query):
    return [r.user.id for r in search.find(session, query).results]


def test_member_numbers_in_any_case_with_spaces_or_just_the_digits(session, people):
    anna = people["anna"]
    digits = anna.member_no[2:]
    for typed in (anna.member_no, anna.member_no.lower(), f"bj {digits[:4]} {digits[4:]}",
                  digits, f"ＢＪ{digits}"):
        assert found(session, typed)[0] == (anna.id, [("member_no", "exact", anna.member_no)])


def test_email_in_any_case_and_width_and_the_same_mailbox_written_differently(session, people):
    anna = people["anna"]
    assert found(session, " ANNA.LEE@gmail.com ") == [
        (anna.id, [("email", "exact", "anna.lee@gmail.com")])]
    assert found(session, "ａｎｎａ．ｌｅｅ＠ｇｍａｉｌ．ｃｏｍ")[0][0] == anna.id
    # Gmail ignores dots and +tags: another spelling of the same mailbox
    assert found(session, "annalee+shop@googlemail.com") == [
        (anna.id, [("email", "same_mailbox", "anna.lee@gmail.com")])]


def test_email_with_a_typo_or_only_its_start(session, people):
    anna, jonathan = people["anna"], people["jonathan"]
    assert found(session, "anna.lee@gmial.com") == [
        (anna.id, [("email", "typo", "anna.lee@gmail.com")])]
    assert found(session, "anna.l") == [
        (anna.id, [("email", "starts_with", "anna.lee@gmail.com"),
                   ("name", "starts_with", "Anna Lee")])]
    assert found(session, "anna.lee@gm") == [
        (anna.id, [("email", "starts_with", "anna.lee@gmail.com")])]
    assert ids(session, "jon@exmaple.com") == [jonathan.id]
    assert ids(session, "nana.lee@gmail.com") == [anna.id]  # the first letters swapped
    assert ids(session, "zzz@nowhere.example") == []


@pytest.mark.parametrize("typed", ["+86 138-0013-8000", "13800138000", "138 0013 8000",
                                   "0086-138-0013-8000", "８６１３８００１３８０００"])
def test_phone_in_every_format(session, people, typed):
    assert found(session, typed) == [
        (people["anna"].id, [("phone", "exact", "+86 138-0013-8000")])]


def test_the_last_digits_of_a_phone_on_postgresql(session, people):
    tail = found(session, "13 8000")  # the last six digits
    if search.has_trigrams(session):
        assert tail == [(people["anna"].id, [("phone", "ends_with", "+86 138-0013-8000")])]
    else:  # no index finds the end of a number on SQLite
        assert tail == []
    assert found(session, "8000") == []  # four digits match too many people to be asked


def test_names_forgive_case_spacing_width_and_small_typos(session, people):
    anna, jonathan, wang = people["anna"], people["jonathan"], people["wang"]
    assert found(session, "anna   LEE")[0] == (anna.id, [("name", "exact", "Anna Lee")])
    assert found(session, "ＡＮＮＡ ＬＥＥ")[0][0] == anna.id
    assert found(session, "Jonathon Smithers") == [
        (jonathan.id, [("name", "typo", "Jonathan Smithers")])]  # one letter off
    assert found(session, "Jonahtan Smihters") == [
        (jonathan.id, [("name", "typo", "Jonathan Smithers")])]  # two swaps
    assert found(session, "Jonathan Smith") == [
        (jonathan.id, [("name", "starts_with", "Jonathan Smithers")])]
    assert found(session, "Ojnathan Smithers") == [
        (jonathan.id, [("name", "typo", "Jonathan Smithers")])]  # one swap, at the start
    assert ids(session, "Jxxxxxan Smithers") == []  # too far
    assert found(session, "王芳") == [(wang.id, [("name", "exact", "王芳")])]
    assert found(session, "王 芳")[0][0] == wang.id
    assert ids(session, "王方") == []  # a two-character name one character off is another name


def test_a_childs_name_finds_every_caregiver(session, people):
    anna, dad = people["anna"], people["dad"]
    assert found(session, "mia rose") == [
        (anna.id, [("child_name", "exact", "Mia Rose")]),
        (dad.id, [("child_name", "exact", "Mia Rose")])]
    assert ids(session, "小明") == [people["wang"].id]
    assert sorted(ids(session, "Mia Rsoe")) == sorted([anna.id, dad.id])  # a typo


def test_an_order_id_finds_the_customer_who_bought(session, people):
    anna = people["anna"]
    make_item(session, kind="product", key="BJ-NAPPY-S", title="Nappies S", unit="month",
              low=3, high=6, category="nappies", price_minor=8900, currency="CNY")
    report = purchases.record_lines(session, [purchases.parse_line({
        "order_line_id": "SO-2026-0042", "ordered_at": "2026-11-20T10:30:00+08:00",
        "email": anna.email, "sku": "BJ-NAPPY-S", "quantity": 1, "amount_minor": 8900,
        "currency": "CNY"})], "csv")
    session.commit()
    assert report.recorded == 1
    for typed in ("SO-2026-0042", "so-2026-0042", " SO-2026-0042 "):
        assert found(session, typed) == [(anna.id, [("order", "exact", "SO-2026-0042")])]
    assert ids(session, "SO-2026-004") == []


def test_ranked_best_first_and_staff_are_never_customers(session, people):
    anna, dad = people["anna"], people["dad"]
    results = search.find(session, "Anna Lee").results
    assert [r.user.id for r in results] == [anna.id]  # the staff member "Anna Lee" is not found
    # "lee": the start of Anna's address; "Lee Senior" starts with it too
    results = search.find(session, "lee").results
    assert {r.user.id for r in results} == {dad.id}
    assert results[0].hits[0].how == "starts_with"


def test_a_closed_or_merged_account_is_found_after_the_active_ones(session, people):
    anna, dad = people["anna"], people["dad"]
    anna.is_active = False
    session.commit()
    assert ids(session, "Mia Rose") == [dad.id, anna.id]


@pytest.mark.parametrize("typed", ["%", "_", "%%", "a%", "_nna%", "\\", "' OR '1'='1' --",
                                   "\"; DROP TABLE users; --", "\x00", "a\x00b", "\u202e",
                                   "<script>alert(1)</script>", "*", ".*", "[a-z]", "   "])
def test_hostile_queries_find_nothing_and_break_nothing(session, people, typed):
    assert search.find(session, typed).results == []


def test_wildcards_are_letters_not_patterns(session, people, make_family):
    user, _ = make_family(email="percent@example.com")
    user.display_name = "50% Off"
    session.commit()
    assert ids(session, "50%") == [user.id]  # the start of that name, literally
    assert ids(session, "5_%") == []


def test_long_queries_are_refused_not_cut(session, people):
    with pytest.raises(ValidationError):
        search.find(session, "a" * (search.MAX_QUERY + 1))
    assert search.find(session, "a" * search.MAX_QUERY).results == []


def test_the_kind_of_query_is_told_for_the_access_log():
    assert search.kind_of("bj 1234 5678") == "member_no"
    assert search.kind_of("a@b.c") == "email"
    assert search.kind_of("+86 138 0013 8000") == "phone"
    assert search.kind_of("Anna") == "text"
    assert search.kind_of("SO-2026-0042") == "text"


@pytest.mark.parametrize(("a", "b", "edits"), [
    ("kitten", "sitting", 3), ("anna", "anna", 0), ("anna", "ana", 1), ("anna", "nana", 1),
    ("jonathan", "jonahtan", 1), ("", "abc", 3), ("abc", "", 3)])
def test_edit_distance_counts_inserts_deletes_changes_and_swaps(a, b, edits):
    assert search.distance(a, b, 5) == edits
    assert search.distance(a, b, max(0, edits - 1)) == max(0, edits - 1) + 1 if edits else True


def test_one_edit_neighbours_are_every_insert_delete_change_and_swap():
    near = search.neighbours("abc", "xy")
    assert {"bc", "ac", "ab", "bac", "acb"} <= near  # deletions and swaps
    assert {"xbc", "axc", "abx", "xabc", "abcx", "axbc"} <= near  # changes and inserts
    assert "abc" not in near and "" not in search.neighbours("a", "")
    assert len(near) == len(set(near))
    assert all(search.distance("abc", n, 1) == 1 for n in near)


def test_typos_forgiven_grow_with_length():
    assert [search.edits_allowed(k) for k in ("ann", "anna", "annalees", "李静", "王小明",
                                              "欧阳小明")] == [0, 1, 2, 0, 0, 1]
