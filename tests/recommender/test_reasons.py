"""Every reason code is said in English and Chinese, with its parameters filled in."""
from __future__ import annotations

import pytest

from content import authoring
from content.authoring import ItemInput, TextInput
from recommender import reasons
from recommender.reasons import Reason

TITLES = {7: "Toy a"}


@pytest.mark.parametrize("reason, english, chinese", [
    (Reason("popular_at_stage", {"stage": "month:3"}),
     "Popular with parents of 3-month-olds", "3 个月宝宝的爸妈常选"),
    (Reason("popular_at_stage", {"stage": "week:5"}),
     "Popular with parents of 5-week-olds", "5 周宝宝的爸妈常选"),
    (Reason("popular_at_stage", {"stage": "week:0"}),
     "Popular with parents of newborns", "新生儿爸妈常选"),
    (Reason("popular_at_stage", {"stage": "pregnancy_week:30"}),
     "Popular with parents-to-be in week 30 of pregnancy", "孕 30 周的准爸妈常选"),
    (Reason("popular_at_stage", {"stage": "month:999"}),
     "Popular with families like yours", "和您情况相似的家庭常选"),
    (Reason("because_saved", {"item": 7}), "Because you saved Toy a", "因为您收藏了“Toy a”"),
    (Reason("because_bought", {"item": 7}), "Because you bought Toy a", "因为您买过“Toy a”"),
    (Reason("because_in_basket", {"item": 7}), "Because you put Toy a in your basket",
     "因为您把“Toy a”加入了购物车"),
    (Reason("because_viewed", {"item": 7}), "Because you looked at Toy a",
     "因为您看过“Toy a”"),
    (Reason("because_viewed", {"item": 8}),  # an item without a title (since deleted)
     "Popular with families like yours", "和您情况相似的家庭常选"),
    (Reason("saved_earlier", {"item": 7}), "You saved this earlier", "您之前收藏过它"),
    (Reason("buy_again", {"item": 7}), "Time to stock up again", "该补货啦"),
    (Reason("next_size", {"size": "M", "system": "nappy"}),
     "The next nappy size for your baby's weight: M", "按宝宝现在的体重，该换大一号纸尿裤了：M 码"),
    (Reason("next_size", {"size": "2", "system": "teat"}),
     "The next teat size up: 2", "可以换下一档奶嘴了：2 号"),
    (Reason("next_size", {"size": "6-12m", "system": "clothing"}),
     "The next clothing size up: 6-12m", "可以换大一码的衣服了：6-12m"),
    (Reason("matches_interest", {"interest": "sleep"}), "Suits your interest in Sleep",
     "符合您关注的“睡眠”"),
    (Reason("new_in_shop", {"stage": "month:3"}), "New in the shop for this stage",
     "这个阶段的新品"),
])
def test_each_reason_in_both_languages(reason, english, chinese):
    assert reasons.describe(reason, "en", TITLES) == english
    assert reasons.describe(reason, "zh_CN", TITLES) == chinese


def test_every_code_has_words_and_unknown_codes_are_refused():
    assert set(reasons.CODES) == {"popular_at_stage", "next_size", "because_bought",
                                  "because_saved", "because_in_basket", "because_viewed",
                                  "saved_earlier", "buy_again", "matches_interest",
                                  "new_in_shop"}
    with pytest.raises(ValueError, match="unknown reason"):
        Reason("because_we_said_so")


def test_titles_in_the_readers_language_in_one_query(session):
    item = authoring.create(session, ItemInput(
        kind="product", key="BJ-TOY-A", category="toys", window_unit="month", window_from=3,
        window_to=6, price_minor=100, currency="CNY",
        translations={"en": TextInput("Soft rattle"), "zh_CN": TextInput("软摇铃")}), None)
    said = [Reason("because_saved", {"item": item.id}), Reason("popular_at_stage",
                                                                {"stage": "month:3"})]
    assert reasons.named_items(said) == {item.id}
    assert reasons.titles(session, reasons.named_items(said), "zh_CN") == {item.id: "软摇铃"}
    assert reasons.titles(session, [item.id], "fr") == {item.id: "Soft rattle"}
    assert reasons.titles(session, [], "en") == {}
