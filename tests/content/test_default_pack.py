"""The shipped demo pack: valid, complete (no coverage gaps), original and bilingual."""
from __future__ import annotations

import re

import pytest

from content import coverage, packs
from content.stages import coverage_stages
from diary.photos import PhotoStore

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.fixture(scope="module")
def items():
    parsed, _ = packs.parse(packs.DEFAULT_PACK)
    return [data for data, _ in parsed]


def test_pack_sizes(items):
    kinds = {}
    for data in items:
        kinds[data.kind] = kinds.get(data.kind, 0) + 1
    assert kinds["article"] >= 37 + 13 + 34
    assert kinds["reminder"] >= 40 and kinds["product"] >= 60 and kinds["faq"] >= 30


def test_every_item_is_bilingual_with_a_source(items):
    for data in items:
        zh = data.translations["zh_CN"]
        assert CJK.search(zh.title), data.key
        if data.kind in ("article", "reminder"):
            assert data.source.strip(), data.key
        if data.kind == "article":
            words = len(data.translations["en"].body.split())
            assert 120 <= words <= 400, (data.key, words)


def test_one_article_per_stage_by_slug(items):
    slugs = {d.key for d in items if d.kind == "article"}
    expected = ({f"pregnancy-week-{n}" for n in range(4, 41)}
                | {f"baby-week-{n}" for n in range(13)}
                | {f"baby-month-{n}" for n in range(3, 37)})
    assert expected <= slugs


def test_imported_pack_has_no_coverage_gaps(session, tmp_path):
    report = packs.import_pack(session, packs.DEFAULT_PACK, None, PhotoStore(tmp_path))
    assert report.updated == [] and report.unchanged == []
    result = coverage.report(session)
    assert result["gaps"] == []
    assert len(result["stages"]) == len(coverage_stages()) == 37 + 13 + 34
