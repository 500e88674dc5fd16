"""Item analysis from sums (pure): what an assessment's questions did, from aggregates the
database computes in one pass, whatever the number of attempts.

For one question served in ``n`` submitted attempts, with ``s`` its credit in an attempt (0
to 1, after penalties), ``p`` its points and ``T`` the attempt's total score:

- facility: the share of attempts that answered it right;
- mean credit: the mean of ``s``;
- discrimination: the correlation of the question's score ``x = p s`` with the rest of the
  test ``R = T - x`` over those attempts (the corrected item-total, or item-rest,
  correlation): near 0 or below, the question does not tell stronger from weaker learners.

Every quantity comes from the sums ``n, Σs, Σs², ΣT, ΣT², ΣsT``, so a report costs one
aggregate query.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class ItemSums:
    n: int
    correct: int
    answered: int
    s: float
    s2: float
    t: float
    t2: float
    st: float


@dataclass(frozen=True)
class ItemStatistics:
    n: int
    answered: int
    facility: float | None
    mean_credit: float | None
    #: None when there is no spread to correlate (fewer than two attempts, everyone alike).
    discrimination: float | None


def _correlation(n: int, sx: float, sy: float, sxx: float, syy: float, sxy: float) -> float | None:
    if n < 2:
        return None
    vx = n * sxx - sx * sx
    vy = n * syy - sy * sy
    # sums of floats: a variance within rounding of zero is zero
    if vx <= 1e-9 * max(1.0, n * sxx) or vy <= 1e-9 * max(1.0, n * syy):
        return None
    r = (n * sxy - sx * sy) / math.sqrt(vx * vy)
    return max(-1.0, min(1.0, r))


def item_statistics(sums: ItemSums, points: float) -> ItemStatistics:
    """Facility, mean credit and item-rest discrimination of one question worth ``points``."""
    n, p = sums.n, points
    if n == 0:
        return ItemStatistics(0, 0, None, None, None)
    sx, sxx = p * sums.s, p * p * sums.s2
    sy = sums.t - sx
    syy = sums.t2 - 2 * p * sums.st + sxx
    sxy = p * sums.st - sxx
    return ItemStatistics(
        n=n,
        answered=sums.answered,
        facility=sums.correct / n,
        mean_credit=sums.s / n,
        discrimination=_correlation(n, sx, sy, sxx, syy, sxy),
    )


def option_picks(answers: Iterable[tuple[Any, int]], options: Iterable[str]) -> dict[str, int]:
    """How many attempts picked each option, from ``(final answer, count)`` groups: a choice
    id, or a list of ids (multiple response). Options nobody picked count 0; answers naming
    no option of the question are left out."""
    picks = dict.fromkeys(options, 0)
    for answer, count in answers:
        for option in answer if isinstance(answer, list) else [answer]:
            if isinstance(option, str) and option in picks:
                picks[option] += count
    return picks


def unpicked_distractors(picks: Mapping[str, int], correct: Iterable[str]) -> list[str]:
    """The wrong options nobody picked: distractors that distract no one."""
    right = set(correct)
    return [option for option, n in picks.items() if n == 0 and option not in right]
