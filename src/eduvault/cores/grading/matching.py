"""``matching``: match each prompt with an option (options may include distractors)."""

from __future__ import annotations

import random
from typing import Annotated, Any, Literal

from pydantic import Field

from eduvault.cores.grading.base import Grade, Grader, Spec, duplicate_ids, register
from eduvault.cores.grading.fields import Id, Text, answer_object, describe, listing
from eduvault.kernel.errors import InvalidAnswer


class Entry(Spec):
    id: Id
    text: Text


class MatchingBody(Spec):
    prompts: Annotated[list[Entry], Field(min_length=1, max_length=50)]
    options: Annotated[list[Entry], Field(min_length=1, max_length=100)]
    pairs: dict[str, str] = Field(description="prompt id -> the id of its option, for every prompt.")
    scoring: Literal["partial", "all_or_nothing"] = Field(
        "partial", description="'partial': the fraction of prompts matched correctly."
    )


@register
class MatchingGrader(Grader[MatchingBody]):
    type = "matching"
    Body = MatchingBody
    answer_schema = {"type": "object", "additionalProperties": {"type": "string", "nullable": True}, "description": "Prompt id -> the id of the option matched to it; a prompt left out, or null, is unanswered."}
    answer_example = {"p1": "o2", "p2": "o1"}

    def validate(self, body: MatchingBody) -> list[str]:
        problems = duplicate_ids(
            [(f"prompts[{i}].id", p.id) for i, p in enumerate(body.prompts)]
            + [(f"options[{i}].id", o.id) for i, o in enumerate(body.options)]
        )
        prompts = {p.id for p in body.prompts}
        options = {o.id for o in body.options}
        for prompt_id, option_id in body.pairs.items():
            if prompt_id not in prompts:
                problems.append(f"pairs.{prompt_id}: there is no prompt with id {prompt_id!r}")
            elif option_id not in options:
                problems.append(f"pairs.{prompt_id}: there is no option with id {option_id!r}")
        for p in body.prompts:
            if p.id not in body.pairs:
                problems.append(f"pairs.{p.id}: prompt {p.id!r} has no pair")
        return problems

    def check_answer(self, body: MatchingBody, answer: Any) -> dict[str, str]:
        given = answer_object(answer, "the answer", "prompt", [p.id for p in body.prompts])
        options = [o.id for o in body.options]
        known = set(options)
        checked = {}
        for prompt_id, option_id in given.items():
            if option_id is None:
                continue
            if not isinstance(option_id, str) or option_id not in known:
                raise InvalidAnswer(
                    f"the answer for prompt {prompt_id!r} must be one of the option ids: {listing(options)}; "
                    f"got {describe(option_id)}"
                )
            checked[prompt_id] = option_id
        return checked

    def grade(self, body: MatchingBody, answer: dict[str, str]) -> Grade:
        parts = {p.id: answer.get(p.id) == body.pairs[p.id] for p in body.prompts}
        right = sum(parts.values())
        n = len(parts)
        score = right / n if body.scoring == "partial" else float(right == n)
        return Grade(score=score, correct=right == n, parts=parts)

    def present(self, body: MatchingBody, rng: random.Random, shuffle: bool) -> dict[str, Any]:
        options = [{"id": o.id, "text": o.text} for o in body.options]
        if shuffle:
            rng.shuffle(options)
        return {"prompts": [{"id": p.id, "text": p.text} for p in body.prompts], "options": options}

    def solution(self, body: MatchingBody) -> dict[str, str]:
        return {p.id: body.pairs[p.id] for p in body.prompts}
