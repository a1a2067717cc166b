"""Products carry what suggestions need: interests, a consumable flag and a size (a step on a
size ladder, with the weights a nappy fits). The shipped pack has them for every product,
packs keep them both ways, and a pack that gets them wrong is refused with a clear reason."""
from __future__ import annotations

import copy
import io
import json
import zipfile

import pytest

from content import authoring, packs, sizes
from content.authoring import ItemInput, TextInput
from content.sizes import Size
from content.vocabulary import CATEGORIES
from diary.photos import PhotoStore
from diary.vocabulary import INTERESTS

PRODUCT = {
    "sku": "BJ-NAPPY-TEST", "category": "nappies", "price_minor": 8990, "currency": "CNY",
    "window": {"unit": "month", "from": 3, "to": 9}, "tags": ["size-m"],
    "interests": ["skin_care"], "consumable": True,
    "size": {"system": "nappy", "code": "M", "min_kg": 6, "max_kg": 11},
    "active": True, "buy_url": "https://shop.example.com/p/BJ-NAPPY-TEST",
    "translations": {"en": {"name": "Nappies M", "description": "6–11 kg."},
                     "zh_CN": {"name": "纸尿裤 M 码", "description": "6–11 公斤。"}},
}


def pack_of(products=None, articles=None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("products.json", json.dumps(products or []))
        if articles is not None:
            archive.writestr("articles.json", json.dumps(articles))
    return buffer.getvalue()


def problems_of(products=None, articles=None) -> list[str]:
    with pytest.raises(packs.PackError) as refused:
        packs.parse(pack_of(products, articles))
    return [str(problem) for problem in refused.value.problems]


@pytest.fixture(scope="module")
def shipped():
    parsed, files = packs.parse(packs.DEFAULT_PACK)
    files.close()
    return {data.key: data for data, _ in parsed if data.kind == "product"}


def test_every_shipped_product_has_interests_and_a_consumable_flag(shipped):
    assert len(shipped) == 99
    for key, data in shipped.items():
        assert data.interests and set(data.interests) <= set(INTERESTS), key
        assert data.category in CATEGORIES["product"]
    raw = json.loads((packs.DEFAULT_PACK / "products.json").read_text())
    assert all(isinstance(row["consumable"], bool) for row in raw)  # said, not defaulted
    consumables = {key for key, data in shipped.items() if data.consumable}
    assert {"BJ-NAPPY-M", "BJ-WIPE-001", "BJ-SKIN-001", "BJ-TEAT-1"} <= consumables
    assert {"BJ-BATH-003", "BJ-PUMP-001", "LM-NAPPY-CLOTH", "BJ-TOY-GYM"}.isdisjoint(consumables)


def test_every_disposable_nappy_has_its_size_and_weights(shipped):
    nappies = {key: data.size for key, data in shipped.items()
               if data.category == "nappies" and key != "LM-NAPPY-CLOTH"}
    assert len(nappies) == 8 and all(size is not None for size in nappies.values())
    assert nappies["BJ-NAPPY-NB"] == Size("nappy", "NB", 2.0, 5.0)
    assert nappies["BJ-NAPPY-M"] == Size("nappy", "M", 6.0, 11.0)
    assert nappies["BJ-PANTS-XL"] == Size("nappy", "XL", 12.0, 17.0)
    # up the ladder, the weight ranges move up too
    ladder = sorted({(s.rank, s.min_kg, s.max_kg) for s in nappies.values() if s})
    assert [rank for rank, _, _ in ladder] == [0, 1, 2, 3, 4]
    assert [low for _, low, _ in ladder] == sorted(low for _, low, _ in ladder)
    assert shipped["BJ-TEAT-2"].size == Size("teat", "2")


def test_sizes_by_hand():
    s, m, l_ = Size("nappy", "S", 4, 8), Size("nappy", "M", 6, 11), Size("nappy", "L", 9, 14)
    assert (s.rank, m.rank, l_.rank, Size("nappy", "XXXL").rank) == (1, 2, 3, -1)
    assert m.fits(6.0) and m.fits(11.0) and not m.fits(11.01) and not Size("teat", "1").fits(3)
    assert m.describe() == "nappy M (6–11 kg)" and Size("teat", "1").describe() == "teat 1"
    assert sizes.from_raw({"system": "nappy", "code": "M", "min_kg": 6, "max_kg": 10.5}) \
        == Size("nappy", "M", 6.0, 10.5)


def test_a_pack_round_trips_the_attributes(session, tmp_path):
    store = PhotoStore(tmp_path)
    report = packs.import_pack(session, pack_of([PRODUCT]), None, store)
    assert report.created == ["product:BJ-NAPPY-TEST"]
    item = authoring.find(session, "product", "BJ-NAPPY-TEST")
    assert (item.consumable, item.size, item.interests) == (
        True, {"system": "nappy", "code": "M", "min_kg": 6.0, "max_kg": 11.0}, ["skin_care"])
    exported = json.loads(zipfile.ZipFile(io.BytesIO(packs.export_pack(session)))
                          .read("products.json"))
    assert exported[0]["consumable"] is True
    assert exported[0]["size"] == {"system": "nappy", "code": "M", "min_kg": 6.0, "max_kg": 11.0}
    assert exported[0]["interests"] == ["skin_care"]
    again = packs.import_pack(session, packs.export_pack(session), None, store)
    assert again.unchanged == ["product:BJ-NAPPY-TEST"]
    # a changed size is a new version, and the diff says what changed in words
    changed = copy.deepcopy(PRODUCT) | {"consumable": False}
    changed["size"] = {"system": "nappy", "code": "L", "min_kg": 9, "max_kg": 14}
    assert packs.import_pack(session, pack_of([changed]), None, store).updated \
        == ["product:BJ-NAPPY-TEST"]
    assert (item.consumable, item.size["code"]) == (False, "L")
    old, new = authoring.versions(session, item)[::-1]
    changes = dict(authoring.diff(old, new))
    assert changes["size"][-2:] == ["-nappy M (6–11 kg)", "+nappy L (9–14 kg)"]
    assert changes["consumable"][-2:] == ["-True", "+False"]


@pytest.mark.parametrize("change, message", [
    ({"consumable": "yes"}, "“consumable” must be true or false."),
    ({"consumable": 1}, "“consumable” must be true or false."),
    ({"size": "M"}, "“size” must be an object"),
    ({"size": {"system": "nappy", "code": "M", "min_kg": 6, "max_kg": 11, "colour": "blue"}},
     "Unknown size fields: colour."),
    ({"size": {"system": "shoe", "code": "M"}}, "Choose a size ladder: nappy, teat, clothing."),
    ({"size": {"system": "nappy", "code": "XXL", "min_kg": 16, "max_kg": 20}},
     "Size XXL is not on the nappy ladder (NB, S, M, L, XL)."),
    ({"size": {"system": "nappy", "code": "M"}}, "Nappy sizes need the weight range they fit."),
    ({"size": {"system": "nappy", "code": "M", "min_kg": 6}},
     "Give both ends of the weight range."),
    ({"size": {"system": "nappy", "code": "M", "min_kg": 11, "max_kg": 6}},
     "The weight range must run upwards from above 0 to at most 40 kg."),
    ({"size": {"system": "nappy", "code": "M", "min_kg": 6, "max_kg": 400}},
     "The weight range must run upwards from above 0 to at most 40 kg."),
    ({"size": {"system": "nappy", "code": "M", "min_kg": "6", "max_kg": 11}},
     "The weight range must be numbers of kilograms."),
    ({"size": {"system": "nappy", "code": "M", "min_kg": True, "max_kg": 11}},
     "The weight range must be numbers of kilograms."),
    ({"size": {"system": "nappy", "code": 3}}, "A size needs its ladder"),
    ({"interests": ["naps"]}, "Unknown interests: naps."),
])
def test_a_pack_with_bad_attributes_is_refused_with_the_reason(change, message):
    [problem] = problems_of([PRODUCT | change])
    assert problem.startswith("products.json item 1: ") and message in problem


def test_only_products_have_sizes_and_repeat_buys(shipped):
    article = {"slug": "week-12-scan", "window": {"unit": "pregnancy_week", "from": 12, "to": 12},
               "topics": ["prenatal-care"], "consumable": False,
               "translations": {"en": {"title": "Scan", "body": "Text."},
                                "zh_CN": {"title": "B超", "body": "正文。"}}}
    [problem] = problems_of(articles=[article])
    assert problem == ("articles.json item 1: Only products have a size or are bought "
                       "again.")
    data = ItemInput(kind="article", key="week-12-scan", window_unit="pregnancy_week",
                     window_from=12, window_to=12, size=Size("nappy", "M", 6, 11),
                     translations={"en": TextInput("Scan", "", "Text."),
                                   "zh_CN": TextInput("B超", "", "正文。")})
    with pytest.raises(authoring.ValidationError, match="Only products"):
        authoring.validate(data)


def test_snapshots_written_before_sizes_existed_still_load():
    data = ItemInput.from_snapshot({
        "kind": "product", "key": "BJ-OLD-001", "translations": {"en": {"title": "Old"}},
        "review_date": None, "publish_at": None})
    assert (data.consumable, data.size) == (False, None)
