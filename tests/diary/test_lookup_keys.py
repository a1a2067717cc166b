"""Lookup keys: one key for every spelling of a name, a mailbox or a phone number, kept in
step with the account and the child on every insert and update."""
from __future__ import annotations

import pytest

from diary import families, lookup_keys
from diary.models import Child, User


@pytest.mark.parametrize(("typed", "key"), [
    ("Li Wei", "liwei"), ("  LI   WEI ", "liwei"), ("ＬＩ　ＷＥＩ", "liwei"), ("Li-Wei", "liwei"),
    ("李 静", "李静"), ("Émile", "émile"), ("Straße", "strasse"), ("a\x00b\u200bc", "abc"),
    ("", None), ("  -- ", None), (None, None)])
def test_name_keys_forget_case_spacing_width_and_punctuation(typed, key):
    assert lookup_keys.name_key(typed) == key


@pytest.mark.parametrize(("typed", "key"), [
    ("Anna@Example.COM", "anna@example.com"), ("anna+shop@example.com", "anna@example.com"),
    ("a.n.na@gmail.com", "anna@gmail.com"), ("A.N.NA+x@GoogleMail.com", "anna@gmail.com"),
    ("a.nna@example.com", "a.nna@example.com"),  # dots matter outside Gmail
    ("ａｎｎａ＠ｅｘａｍｐｌｅ．ｃｏｍ", "anna@example.com"), ("+tag@example.com", "+tag@example.com"),
    ("no-at-sign", "no-at-sign"), ("", None)])
def test_email_keys_name_one_mailbox(typed, key):
    assert lookup_keys.email_key(typed) == key


@pytest.mark.parametrize(("typed", "key"), [
    ("+86 138-0013-8000", "13800138000"), ("0086 13800138000", "13800138000"),
    ("8613800138000", "13800138000"), ("138 0013 8000", "13800138000"),
    ("(138) 0013.8000", "13800138000"), ("＋８６ １３８００１３８０００", "13800138000"),
    ("+86 21 1234 5678", "02112345678"), ("021-1234-5678", "02112345678"),
    ("+44 7911 123456", "447911123456"), ("1234", None), ("", None), (None, None)])
def test_phone_keys_are_the_number_as_dialled_at_home(typed, key):
    assert lookup_keys.phone_key(typed) == key


def test_keys_follow_every_change_of_the_account_and_the_child(session, make_family):
    user, child = make_family(email="Key.Test+reg@gmail.com", name="Ｍｉａ Rose")
    assert (user.email_key, user.name_key, child.name_key) == (
        "keytest@gmail.com", "keytestreg", "miarose")
    user.display_name, user.phone = "Wang Fang", "+86 139 0000 1111"
    families.update_child(child, families.ChildDetails(name="小 明", birth_date=child.birth_date,
                                                       sex="male"))
    session.commit()
    session.expire_all()
    assert session.get(User, user.id).name_key == "wangfang"
    assert session.get(User, user.id).phone_key == "13900001111"
    assert session.get(Child, child.id).name_key == "小明"
