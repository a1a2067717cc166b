"""Ranking metrics against examples worked by hand."""
from __future__ import annotations

import math

import pytest

from recommender import metrics


def test_one_held_out_item_at_rank_three():
    ranked = [7, 4, 9, 1, 2]
    assert metrics.hit_rate_at_k(ranked, {9}, 10) == 1.0
    assert metrics.ndcg_at_k(ranked, {9}, 10) == pytest.approx(1 / math.log2(4))  # 0.5
    assert metrics.ndcg_at_k(ranked, {9}, 10) == pytest.approx(0.5)
    assert metrics.average_precision_at_k(ranked, {9}, 10) == pytest.approx(1 / 3)


def test_missing_from_the_top_k_scores_zero():
    ranked = list(range(20))
    assert metrics.hit_rate_at_k(ranked, {12}, 10) == 0.0
    assert metrics.ndcg_at_k(ranked, {12}, 10) == 0.0
    assert metrics.average_precision_at_k(ranked, {12}, 10) == 0.0
    assert metrics.hit_rate_at_k(ranked, {12}, 13) == 1.0


def test_two_relevant_items():
    # relevant at ranks 1 and 3: DCG = 1 + 1/log2(4) = 1.5; ideal = 1 + 1/log2(3) = 1.6309
    ranked = [5, 6, 8, 9]
    assert metrics.ndcg_at_k(ranked, {5, 8}, 10) == pytest.approx(1.5 / (1 + 1 / math.log2(3)))
    # AP = (1/1 + 2/3) / 2 = 0.8333
    assert metrics.average_precision_at_k(ranked, {5, 8}, 10) == pytest.approx(5 / 6)


def test_coverage_and_novelty():
    lists = [[0, 1], [1, 2]]
    assert metrics.catalogue_coverage(lists, 10, k=2) == pytest.approx(0.3)
    # 4 users; item 0 held by 4 (−log2 1 = 0), item 1 by 2 (1 bit), item 2 by 1 (2 bits)
    popularity = {0: 4, 1: 2, 2: 1}
    assert metrics.novelty(lists, popularity, 4, k=2) == pytest.approx((0 + 1 + 1 + 2) / 4)
    assert metrics.novelty([[3]], popularity, 4) == pytest.approx(2.0)  # unseen counts as 1
