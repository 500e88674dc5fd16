"""Bayesian knowledge tracing (BKT) in plain floats: one learner, one skill, online.

The model (Corbett & Anderson, as fitted by pyBKT without forgetting) has a hidden state,
"knows the skill" or not, and four parameters:

- ``prior``: P(known) before the first answer;
- ``learn``: P(unknown -> known) after each answer (practice opportunity);
- ``guess``: P(correct | unknown);
- ``slip``: P(wrong | known).

After each answer the estimate is updated by Bayes' rule (:func:`posterior`) and then by
the learning transition (:func:`transition`); :func:`update` does both. :func:`trace`
runs a whole sequence. The values match pyBKT's ``state_predictions`` shifted by one:
``trace(params, answers)[t - 1]`` is pyBKT's state prediction for answer ``t`` (see
:mod:`eduvault.cores.mastery.fit`).
"""

from __future__ import annotations

import math
import numbers
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from eduvault.kernel.errors import InvalidInput

PARAM_NAMES: tuple[str, ...] = ("prior", "learn", "guess", "slip")


def _probability(name: str, value: Any) -> float:
    """``value`` as a float if it is a finite number in [0, 1], else InvalidInput naming it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise InvalidInput(f"{name} must be a number between 0 and 1, got {value!r}", field=name)
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise InvalidInput(f"{name} must be between 0 and 1, got {value!r}", field=name)
    return number


@dataclass(frozen=True)
class BktParams:
    """The four BKT parameters of one skill, each a probability."""

    prior: float
    learn: float
    guess: float
    slip: float

    def __post_init__(self) -> None:
        for name in PARAM_NAMES:
            # Store plain floats (an int 0 or 1, or a numpy float, becomes a float).
            object.__setattr__(self, name, _probability(name, getattr(self, name)))

    def to_dict(self) -> dict[str, float]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> BktParams:
        """The inverse of :meth:`to_dict`; missing or unknown keys are InvalidInput."""
        if not isinstance(data, Mapping):
            raise InvalidInput(f"BKT parameters must be an object, got {type(data).__name__}")
        missing = [name for name in PARAM_NAMES if name not in data]
        if missing:
            raise InvalidInput(f"BKT parameters lack {', '.join(missing)}", field=missing[0])
        unknown = sorted(str(key) for key in data if key not in PARAM_NAMES)
        if unknown:
            raise InvalidInput(
                f"unknown BKT parameter {unknown[0]!r} (expected {', '.join(PARAM_NAMES)})", field=unknown[0]
            )
        return cls(**{name: data[name] for name in PARAM_NAMES})


#: A sensible default until ``eduvault mastery fit`` estimates a skill's parameters from
#: its learners' answers: a learner rarely knows a skill beforehand, learns it in a handful
#: of answers, guesses one answer in five and slips one in ten.
DEFAULT_PARAMS = BktParams(prior=0.2, learn=0.15, guess=0.2, slip=0.1)


def posterior(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known | this answer), by Bayes' rule, from P(known) before it.

    If the answer is impossible under the model (a zero denominator, e.g. a correct answer
    with ``p_known = 0`` and ``guess = 0``) the estimate is returned unchanged.
    """
    p = p_known
    if correct:
        known, unknown = p * (1.0 - params.slip), (1.0 - p) * params.guess
    else:
        known, unknown = p * params.slip, (1.0 - p) * (1.0 - params.guess)
    total = known + unknown
    if total <= 0.0:
        return p
    return known / total


def transition(p_known: float, params: BktParams) -> float:
    """P(known) after a practice opportunity: learning, and no forgetting."""
    return p_known + (1.0 - p_known) * params.learn


def update(p_known: float, correct: bool, params: BktParams) -> float:
    """P(known) after this answer: the posterior given it, then the learning transition."""
    return transition(posterior(p_known, correct, params), params)


def predict_correct(p_known: float, params: BktParams) -> float:
    """P(the next answer is correct) given P(known) before it."""
    return p_known * (1.0 - params.slip) + (1.0 - p_known) * params.guess


def _outcome(value: Any, position: int) -> bool:
    if isinstance(value, bool):
        return value
    if isinstance(value, numbers.Integral) and value in (0, 1):
        return bool(value == 1)
    raise InvalidInput(f"answer {position + 1} must be 0 or 1, got {value!r}", field="answers")


def trace(params: BktParams, answers: Iterable[bool | int]) -> list[float]:
    """P(known) after each answer, starting from ``params.prior``.

    ``answers`` are time-ordered outcomes, each a bool or the int 0 or 1. The result has one
    value per answer; the estimate *before* answer ``t`` is the prior for ``t = 0`` and
    ``result[t - 1]`` after that.
    """
    p = params.prior
    values: list[float] = []
    for position, answer in enumerate(answers):
        p = update(p, _outcome(answer, position), params)
        values.append(p)
    return values


def parse_answers(text: str) -> list[int]:
    """``"1,0,1, 1"`` -> ``[1, 0, 1, 1]``; an empty string is no answers."""
    if not isinstance(text, str):
        raise InvalidInput(f"answers must be a string, got {type(text).__name__}", field="answers")
    if not text.strip():
        return []
    answers: list[int] = []
    for item in text.split(","):
        stripped = item.strip()
        if stripped not in ("0", "1"):
            raise InvalidInput(f"answers: {stripped!r} is not 0 or 1", field="answers")
        answers.append(int(stripped))
    return answers
