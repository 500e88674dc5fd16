"""``single_choice``: pick the one correct choice (partial credit for near misses)."""

from __future__ import annotations

import random
from typing import Annotated, Any

from pydantic import Field

from eduvault.cores.grading.base import Grade, Grader, Spec, duplicate_ids, register
from eduvault.cores.grading.fields import Credit, Feedback, Id, Text, describe, listing
from eduvault.kernel.errors import InvalidAnswer


class Choice(Spec):
    id: Id
    text: Text
    correct: bool = False
    credit: Credit | None = Field(
        None, description="Partial credit for choosing this choice when it is not the correct one."
    )
    feedback: Feedback = ""


class SingleChoiceBody(Spec):
    choices: Annotated[list[Choice], Field(min_length=2, max_length=50)]


def present_choices(choices: list[Any], rng: random.Random, shuffle: bool) -> list[dict[str, Any]]:
    """``[{id, text}]``, shuffled when ``shuffle``."""
    view = [{"id": c.id, "text": c.text} for c in choices]
    if shuffle:
        rng.shuffle(view)
    return view


@register
class SingleChoiceGrader(Grader[SingleChoiceBody]):
    type = "single_choice"
    Body = SingleChoiceBody
    answer_schema = {"type": "string", "description": "The id of the choice."}
    answer_example = "b"

    def validate(self, body: SingleChoiceBody) -> list[str]:
        problems = duplicate_ids((f"choices[{i}].id", c.id) for i, c in enumerate(body.choices))
        correct = [i for i, c in enumerate(body.choices) if c.correct]
        if not correct:
            problems.append("choices: exactly one choice must be correct (found 0)")
        for i in correct[1:]:
            problems.append(
                f"choices[{i}].correct: exactly one choice must be correct (found {len(correct)})"
            )
        for i, c in enumerate(body.choices):
            if c.correct and c.credit is not None and c.credit != 1:
                problems.append(
                    f"choices[{i}].credit: the correct choice gets full credit; credit must be absent or 1"
                )
            elif not c.correct and c.credit == 1:
                problems.append(
                    f"choices[{i}].credit: must be below 1 on a choice that is not correct "
                    "(full credit means correct)"
                )
        return problems

    def check_answer(self, body: SingleChoiceBody, answer: Any) -> str:
        ids = [c.id for c in body.choices]
        if not isinstance(answer, str) or answer not in ids:
            raise InvalidAnswer(
                f"the answer must be one of the choice ids: {listing(ids)}; got {describe(answer)}"
            )
        return answer

    def grade(self, body: SingleChoiceBody, answer: str) -> Grade:
        choice = next(c for c in body.choices if c.id == answer)
        score = 1.0 if choice.correct else (choice.credit or 0.0)
        return Grade(score=score, correct=choice.correct, feedback=choice.feedback)

    def present(self, body: SingleChoiceBody, rng: random.Random, shuffle: bool) -> dict[str, Any]:
        return {"choices": present_choices(body.choices, rng, shuffle)}

    def solution(self, body: SingleChoiceBody) -> str:
        return next(c.id for c in body.choices if c.correct)
