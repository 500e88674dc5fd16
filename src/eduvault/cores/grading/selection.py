"""Drawing the questions of an attempt from a pool, stratified by subtopic.

The pool maps each subtopic to its question ids in bank order. A draw of ``count``
questions allocates the count across subtopics in proportion to their sizes (largest
remainder, ties broken by the seeded generator), gives every non-empty subtopic at least
one question when there are enough to go round, and samples within each subtopic. The
same seed always gives the same draw, in any process.
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence

from eduvault.cores.grading.base import seeded_rng


def draw(pool: Mapping[str, Sequence[str]], *, count: int | None, seed: str) -> list[str]:
    """The ids of the questions drawn, grouped by subtopic in pool order, each group in bank order.

    ``count`` None (or at least the size of the pool) draws every question. A question id
    listed under several subtopics counts once, under the first.
    """
    strata: list[list[str]] = []
    seen: set[str] = set()
    for ids in pool.values():
        stratum = [i for i in dict.fromkeys(ids) if i not in seen]
        seen.update(stratum)
        strata.append(stratum)
    total = sum(len(s) for s in strata)
    if count is None or count >= total:
        return [i for stratum in strata for i in stratum]
    if count < 0:
        raise ValueError(f"cannot draw a negative number of questions ({count})")
    rng = seeded_rng(seed)
    drawn: list[str] = []
    for stratum, k in zip(strata, allocate([len(s) for s in strata], count, rng)):
        if k:
            chosen = sorted(rng.sample(range(len(stratum)), k))
            drawn.extend(stratum[i] for i in chosen)
    return drawn


def allocate(sizes: Sequence[int], count: int, rng: random.Random) -> list[int]:
    """How many of ``count`` to draw from each stratum of the given ``sizes`` (``count < sum(sizes)``)."""
    total = sum(sizes)
    # Quotas count * size / total, in integers: alloc + remainder / total.
    alloc = [count * s // total for s in sizes]
    remainder = [count * s % total for s in sizes]
    tiebreak = [rng.random() for _ in sizes]
    by_remainder = sorted(range(len(sizes)), key=lambda i: (-remainder[i], tiebreak[i]))
    for i in by_remainder[: count - sum(alloc)]:
        alloc[i] += 1

    def surplus(i: int) -> float:
        """How far stratum i is above its quota (in units of 1 / total)."""
        return alloc[i] * total - count * sizes[i] + tiebreak[i] / 2

    non_empty = [i for i, s in enumerate(sizes) if s > 0]
    if count >= len(non_empty):
        for i in non_empty:
            if alloc[i] == 0:
                donor = max((j for j in non_empty if alloc[j] > 1), key=surplus)
                alloc[donor] -= 1
                alloc[i] += 1
    # Never more than a stratum has; hand the excess to the strata furthest below their quota.
    excess = 0
    for i, s in enumerate(sizes):
        if alloc[i] > s:
            excess += alloc[i] - s
            alloc[i] = s
    while excess:
        i = min((j for j in non_empty if alloc[j] < sizes[j]), key=surplus)
        alloc[i] += 1
        excess -= 1
    return alloc
