"""``multiple_response``: select every correct choice (several scoring schemes).

The schemes follow Open edX's ``choiceresponse`` and Moodle's multichoice:

- ``all_or_nothing``: full credit for exactly the correct set, else nothing;
- ``every_decision_counts``: the fraction of choices decided right (selected when correct,
  left blank when not);
- ``halves``: no error gives 1, one error (with more than 2 choices) 0.5, two errors (with
  more than 4 choices) 0.25, else 0 -- an error is a wrong selection or a missed correct choice;
- ``fractions``: every choice carries a ``fraction`` of credit in [-1, 1] (the positive ones
  add up to 1); the score is the sum over the selected choices, clamped to [0, 1].
"""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import Field

from eduvault.cores.grading.base import Grade, Grader, Spec, duplicate_ids, register
from eduvault.cores.grading.fields import Feedback, Id, Text, answer_ids
from eduvault.cores.grading.single_choice import present_choices

Scoring = Literal["all_or_nothing", "every_decision_counts", "halves", "fractions"]
#: How far the positive fractions may be from adding up to 1.
FRACTION_SUM_TOLERANCE = 1e-9


class ResponseChoice(Spec):
    id: Id
    text: Text
    correct: bool = False
    feedback: Feedback = ""
    fraction: Annotated[float, Field(ge=-1, le=1)] | None = Field(
        None,
        description="With scoring 'fractions': the credit (or, if negative, the penalty) for selecting it.",
    )


class MultipleResponseBody(Spec):
    choices: Annotated[list[ResponseChoice], Field(min_length=2, max_length=50)]
    scoring: Scoring = "all_or_nothing"


def is_correct(choice: ResponseChoice, scoring: Scoring) -> bool:
    """Whether ``choice`` belongs in a fully correct answer."""
    if scoring == "fractions":
        return (choice.fraction or 0.0) > 0
    return choice.correct


def clamp_score(score: float) -> float:
    """``score`` within [0, 1], rounding-noise away from the ends snapped to them."""
    if abs(score - 1.0) <= FRACTION_SUM_TOLERANCE:
        return 1.0
    if abs(score) <= FRACTION_SUM_TOLERANCE:
        return 0.0
    return min(1.0, max(0.0, score))


@register
class MultipleResponseGrader(Grader[MultipleResponseBody]):
    type = "multiple_response"
    Body = MultipleResponseBody
    answer_schema = {"type": "array", "items": {"type": "string"}, "description": "The ids of every choice picked (none: an empty list)."}
    answer_example = ["a", "c"]

    def validate(self, body: MultipleResponseBody) -> list[str]:
        problems = duplicate_ids((f"choices[{i}].id", c.id) for i, c in enumerate(body.choices))
        if body.scoring != "fractions":
            for i, c in enumerate(body.choices):
                if c.fraction is not None:
                    problems.append(
                        f"choices[{i}].fraction: only used with scoring 'fractions' (scoring is {body.scoring!r})"
                    )
            if not any(c.correct for c in body.choices):
                problems.append("choices: at least one choice must be correct")
            return problems
        missing = False
        for i, c in enumerate(body.choices):
            if c.fraction is None:
                missing = True
                problems.append(
                    f"choices[{i}].fraction: is required with scoring 'fractions' (choice {c.id!r})"
                )
            elif c.correct and c.fraction <= 0:
                problems.append(
                    f"choices[{i}].correct: contradicts fraction {c.fraction:g} (with scoring 'fractions' "
                    "a choice is correct when its fraction is positive)"
                )
        if not missing:
            positive = sum(c.fraction or 0.0 for c in body.choices if (c.fraction or 0.0) > 0)
            if positive == 0:
                problems.append(
                    "choices: with scoring 'fractions' at least one choice needs a positive fraction"
                )
            elif abs(positive - 1.0) > FRACTION_SUM_TOLERANCE:
                problems.append(
                    f"choices: the positive fractions must add up to 1 (they add up to {positive:g})"
                )
        return problems

    def check_answer(self, body: MultipleResponseBody, answer: Any) -> list[str]:
        return answer_ids(answer, "the answer", [c.id for c in body.choices])

    def grade(self, body: MultipleResponseBody, answer: list[str]) -> Grade:
        selected = set(answer)
        choices = body.choices
        n = len(choices)
        if body.scoring == "fractions":
            score = clamp_score(sum(c.fraction or 0.0 for c in choices if c.id in selected))
        else:
            right = sum((c.id in selected) == c.correct for c in choices)
            errors = n - right
            if body.scoring == "every_decision_counts":
                score = right / n
            elif body.scoring == "halves":
                if errors == 0:
                    score = 1.0
                elif errors == 1 and n > 2:
                    score = 0.5
                elif errors == 2 and n > 4:
                    score = 0.25
                else:
                    score = 0.0
            else:
                score = 1.0 if errors == 0 else 0.0
        feedback = " ".join(c.feedback for c in choices if c.id in selected and c.feedback)
        return Grade(score=score, correct=score == 1.0, feedback=feedback)

    def present(self, body: MultipleResponseBody, rng: random.Random, shuffle: bool) -> dict[str, Any]:
        return {"choices": present_choices(body.choices, rng, shuffle)}

    def solution(self, body: MultipleResponseBody) -> list[str]:
        return [c.id for c in body.choices if is_correct(c, body.scoring)]
