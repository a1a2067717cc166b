"""Top-k ranking metrics for leave-one-out evaluation, as small pure functions.

Every function takes one user's ranked list (item ids, best first) and the relevant item(s);
the evaluation averages them over users. With one held-out item per user (the protocol used
here) HR@k is 1 if it is in the top k, NDCG@k is 1/log2(rank + 1) (rank from 1) and AP@k is
1/rank; the general forms below give exactly those for one relevant item.
"""
from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping, Sequence


def hit_rate_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """1.0 if any relevant item is among the first k, else 0.0."""
    return 1.0 if any(item in relevant for item in ranked[:k]) else 0.0


def ndcg_at_k(ranked: Sequence[int], relevant: Collection[int], k: int = 10) -> float:
    """Discounted cumulative gain of the top k over the best possible (binary relevance)."""
    dcg = sum(1.0 / math.log2(position + 2) for position, item in enumerate(ranked[:k])
              if item in relevant)
    ideal = sum(1.0 / math.log2(position + 2) for position in range(min(len(relevant), k)))
    return dcg / ideal if ideal else 0.0


def average_precision_at_k(ranked: Sequence[int], relevant: Collection[int],
                           k: int = 10) -> float:
    """Mean of precision@i at each rank i (≤ k) holding a relevant item, over min(|R|, k)."""
    hits, total = 0, 0.0
    for position, item in enumerate(ranked[:k]):
        if item in relevant:
            hits += 1
            total += hits / (position + 1)
    denominator = min(len(relevant), k)
    return total / denominator if denominator else 0.0


def catalogue_coverage(lists: Iterable[Sequence[int]], catalogue_size: int, k: int = 10
                       ) -> float:
    """Share of the catalogue that appears in at least one top-k list."""
    shown = {item for ranked in lists for item in ranked[:k]}
    return len(shown) / catalogue_size if catalogue_size else 0.0


def novelty(lists: Iterable[Sequence[int]], popularity: Mapping[int, int], n_users: int,
            k: int = 10) -> float:
    """Mean self-information −log2(p(i)) of recommended items, p(i) the share of users who
    have item i in training (an item nobody has counts as one user): higher is less obvious."""
    total, count = 0.0, 0
    for ranked in lists:
        for item in ranked[:k]:
            share = max(popularity.get(item, 0), 1) / n_users
            total += -math.log2(share)
            count += 1
    return total / count if count else 0.0
